//! One test per hostile client (issue 13, item 5): none may crash the server, block other
//! clients, or make it hold memory without bound. Timeouts are short here so the tests are
//! quick; nothing asserts that anything is fast.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{error_of, Raw, Server};
use docdb_core::ErrorKind;
use docdb_proto::{encode_frame, Hello, Reply, Request};

const LIMITS: &[&str] = &[
    "--handshake-timeout",
    "500ms",
    "--read-timeout",
    "500ms",
    "--write-timeout",
    "500ms",
    "--idle-timeout",
    "1s",
    "--auth-delay",
    "300ms",
    "--max-connections",
    "8",
    "--max-frame",
    "1048576",
];

fn start(extra: &[&str]) -> Server {
    let mut args = LIMITS.to_vec();
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The server is alive and serves a well-behaved client.
fn still_serves(server: &mut Server) {
    assert!(
        server.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "server died"
    );
    let store = server.connect();
    let db = store.open_or_create_db("ok").unwrap();
    db.put(1, b"fine").unwrap();
    assert_eq!(db.read(1).unwrap(), b"fine");
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn connections_over_the_limit_are_told_and_closed() {
    let mut server = start(&[]);
    // The start-up probe's connection is released asynchronously: wait until the first
    // held connection is the only one open, so that exactly 8 slots are taken below.
    let mut first = Raw::ready(&server);
    let t = Instant::now();
    while !matches!(first.call(&Request::ServerStats), Reply::ServerStats(s) if s.connections == 1)
    {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "probe slot not released"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let held: Vec<Raw> = std::iter::once(first)
        .chain((1..8).map(|_| Raw::ready(&server)))
        .collect();
    let e = docdb_client::Store::connect(&server.url(), server.opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.to_string().contains("maximum of 8 connections"), "{e}");
    drop(held);
    // Slots come back as the server sees the closes.
    // Keep the connection that got in: dropping it and connecting again could race
    // the server's release of the other held slots.
    let t = Instant::now();
    let store = loop {
        match docdb_client::Store::connect(&server.url(), server.opts()) {
            Ok(store) => break store,
            Err(_) => {
                assert!(t.elapsed() < Duration::from_secs(10), "slots not released");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    assert!(store.server_stats().unwrap().connections_refused >= 1);
    // Every held slot comes back, not only the one this connection took.
    while store.server_stats().unwrap().connections != 1 {
        assert!(t.elapsed() < Duration::from_secs(10), "slots not released");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(store);
    still_serves(&mut server);
}

#[test]
fn an_oversized_frame_closes_that_connection_only() {
    let mut server = start(&[]);
    let mut raw = Raw::ready(&server);
    // A header announcing 2 MiB (the limit is 1 MiB); the body never needs to come.
    raw.s.write_all(&(2u32 << 20).to_le_bytes()).unwrap();
    let (id, reply) = raw.recv().unwrap();
    assert_eq!(id, 0);
    assert_eq!(error_of(reply).kind(), ErrorKind::PayloadTooLarge);
    assert!(raw.closed_by_server());
    still_serves(&mut server);

    // The client library refuses such a request itself, keeping its connection.
    let store = server.connect();
    let db = store.open_or_create_db("big").unwrap();
    let e = db.put(1, &vec![0u8; 2 << 20]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PayloadTooLarge);
    db.put(1, b"small").unwrap();
}

#[test]
fn slow_senders_are_cut_off_without_blocking_others() {
    let mut server = start(&[]);
    // Slow handshake: connected, silent.
    let mut silent = Raw::connect(&server);
    // Slow frame: three bytes of a header, then nothing.
    let mut slow = Raw::ready(&server);
    slow.s.write_all(&[20, 0, 0]).unwrap();
    // Others are served meanwhile.
    still_serves(&mut server);
    assert!(silent.recv().is_none(), "handshake timeout closes");
    assert!(slow.recv().is_none(), "read timeout closes");
    still_serves(&mut server);
}

#[test]
fn half_open_and_idle_connections_are_closed() {
    let mut server = start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    // A client that begins a transaction and then vanishes without closing its socket.
    let mut gone = Raw::ready(&server);
    let Reply::Handle { handle, .. } = gone.call(&Request::Begin { db: db.id() }) else {
        panic!("begin")
    };
    let put = Request::TxnPut {
        txn: handle,
        id: 1,
        data: b"x".to_vec(),
    };
    assert!(matches!(gone.call(&put), Reply::Unit));
    // The idle timeout closes the connection, with a notice that nothing pending was run.
    let (id, reply) = gone.recv().expect("a notice");
    assert_eq!(id, 0);
    let e = error_of(reply);
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(
        !e.outcome_unknown() && e.to_string().contains("idle"),
        "{e}"
    );
    assert!(gone.recv().is_none(), "then the connection is closed");
    assert!(!db.contains(1).unwrap(), "and rolls its transaction back");
    // The pooled idle connection of `store` was closed too; the next call reconnects.
    assert!(!db.contains(1).unwrap());
    still_serves(&mut server);
}

#[test]
fn bad_handshakes_are_refused() {
    let mut server = start(&[]);
    // Another protocol: "GET " read as a length is far over the handshake limit.
    let mut http = Raw::connect(&server);
    http.s
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (_, reply) = http.recv().unwrap();
    assert_eq!(error_of(reply).kind(), ErrorKind::PayloadTooLarge);
    assert!(http.closed_by_server());

    // A request before the handshake.
    let mut early = Raw::connect(&server);
    let e = error_of(early.call(&Request::Ping));
    assert!(e.to_string().contains("HELLO"), "{e}");
    assert!(early.closed_by_server());

    // Bad magic.
    let mut magic = Raw::connect(&server);
    let mut frame = Vec::new();
    encode_frame(
        1,
        docdb_proto::message::op::HELLO,
        b"NOTDOCDB\x01\x00\x01\x00\0\0\0\0",
        &mut frame,
    );
    magic.s.write_all(&frame).unwrap();
    let e = error_of(magic.recv().unwrap().1);
    assert!(e.to_string().contains("magic"), "{e}");

    // A version this server does not speak.
    let mut future = Raw::connect(&server);
    let e = error_of(future.call(&Request::Hello(Hello {
        min_version: 7,
        max_version: 9,
        token: Vec::new(),
    })));
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("versions 7..=9"), "{e}");
    still_serves(&mut server);
}

#[test]
fn wrong_tokens_get_no_access_and_are_slowed_down() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret").unwrap();
    let mut server = start(&["--token-file", token.to_str().unwrap()]);
    let guesses: Vec<_> = ["", "s3cre", "s3cret!", "S3cret"]
        .into_iter()
        .map(|guess| {
            let url = server.url();
            std::thread::spawn(move || {
                let t = Instant::now();
                let opts = docdb_client::ConnectOptions {
                    token: Some(guess.to_string()),
                    ..Default::default()
                };
                let e = docdb_client::Store::connect(&url, opts).unwrap_err();
                (e, t.elapsed())
            })
        })
        .collect();
    // Meanwhile the right token works: the delays block nobody else.
    still_serves(&mut server);
    for g in guesses {
        let (e, waited) = g.join().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("authentication failed"), "{e}");
        assert!(
            waited >= Duration::from_millis(300),
            "answered before the auth delay"
        );
    }
    // No access means no request is served on that connection.
    let mut raw = Raw::connect(&server);
    let e = error_of(raw.call(&Request::Hello(Hello {
        min_version: 1,
        max_version: 1,
        token: b"nope".to_vec(),
    })));
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // The server has closed the socket: a request either cannot be written or gets no reply.
    let mut frame = Vec::new();
    let (kind, body) = Request::ListDbs.encode();
    encode_frame(2, kind, &body, &mut frame);
    let _ = raw.s.write_all(&frame);
    assert!(raw.recv().is_none(), "closed after a failed handshake");
    assert_eq!(server.connect().server_stats().unwrap().auth_failures, 5);
}

#[test]
fn a_client_that_never_reads_its_replies_is_dropped_and_memory_stays_bounded() {
    let mut server = start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    db.put(1, &vec![5u8; 512 << 10]).unwrap();
    let raw = Raw::ready(&server);
    let mut sock = raw.s.try_clone().unwrap();
    let db_id = db.id();
    // 4,000 pipelined reads of 512 KiB: 2 GiB of replies nobody reads. The requests
    // (120 KB) are more than the socket's buffer and the server's read-ahead (8 KiB) hold.
    const PIPELINED: u64 = 4000;
    let writer = std::thread::spawn(move || {
        let mut frame = Vec::new();
        let (kind, body) = Request::Read { db: db_id, id: 1 }.encode();
        for i in 0..PIPELINED {
            frame.clear();
            encode_frame(i + 1, kind, &body, &mut frame);
            if sock.write_all(&frame).is_err() {
                return i;
            }
        }
        PIPELINED
    });
    // Others are served while it stalls.
    still_serves(&mut server);
    let sent = writer.join().unwrap();
    assert!(
        sent < PIPELINED,
        "the server stopped reading from the stalled client"
    );
    let rss = rss_kib(server.pid());
    assert!(rss < 256 << 10, "server RSS {rss} KiB");
    drop(raw);
    still_serves(&mut server);
}

#[test]
fn garbage_bytes_never_crash_the_server() {
    let mut server = start(&[]);
    // A well-framed unknown request: an error reply, and the connection goes on.
    let mut raw = Raw::ready(&server);
    let mut frame = Vec::new();
    encode_frame(5, 0x7f, b"junk", &mut frame);
    raw.s.write_all(&frame).unwrap();
    let (id, reply) = raw.recv().unwrap();
    assert_eq!(id, 5);
    assert_eq!(error_of(reply).kind(), ErrorKind::InvalidArgument);
    // A malformed body of a known request: the same.
    frame.clear();
    encode_frame(6, docdb_proto::message::op::READ, b"short", &mut frame);
    raw.s.write_all(&frame).unwrap();
    assert_eq!(
        error_of(raw.recv().unwrap().1).kind(),
        ErrorKind::InvalidArgument
    );
    assert!(matches!(raw.call(&Request::Ping), Reply::Unit));
    // A frame shorter than its header: the framing is lost, the connection is closed.
    raw.s.write_all(&[3, 0, 0, 0, 1, 2, 3]).unwrap();
    let (id, reply) = raw.recv().unwrap();
    assert_eq!(id, 0);
    assert_eq!(error_of(reply).kind(), ErrorKind::InvalidArgument);
    assert!(raw.closed_by_server());
    // Pseudo-random streams, before and after a handshake.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..40 {
        let mut raw = if round % 2 == 0 {
            Raw::connect(&server)
        } else {
            Raw::ready(&server)
        };
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = raw.s.write_all(&bytes);
        let _ = raw.s.shutdown(std::net::Shutdown::Write);
        raw.closed_by_server();
    }
    still_serves(&mut server);
}

#[test]
fn pending_transaction_bytes_per_connection_are_bounded() {
    let mut server = start(&["--max-txn-bytes", "100000"]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    let mut tx = db.begin().unwrap();
    tx.put(1, &[1u8; 60_000]).unwrap();
    let e = tx.put(2, &[2u8; 60_000]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MemoryLimit, "{e}");
    // The transaction goes on within its budget and commits.
    tx.put(3, &[3u8; 30_000]).unwrap();
    tx.commit().unwrap();
    assert_eq!(db.read(1).unwrap().len(), 60_000);
    assert!(!db.contains(2).unwrap());
    // The budget is free again once the transaction is done.
    let mut tx = db.begin().unwrap();
    tx.put(4, &[4u8; 90_000]).unwrap();
    tx.commit().unwrap();
    still_serves(&mut server);
}

#[test]
fn open_scans_per_connection_are_bounded() {
    let mut server = start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    db.put(1, b"x").unwrap();
    let mut raw = Raw::ready(&server);
    let Reply::Handle { handle: snap, .. } = raw.call(&Request::Snapshot { db: db.id() }) else {
        panic!("snapshot")
    };
    let open = Request::ScanOpen {
        snap,
        ids_only: true,
    };
    for _ in 0..16 {
        assert!(matches!(raw.call(&open), Reply::Handle { .. }));
    }
    let e = error_of(raw.call(&open));
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // Finishing a scan frees its place.
    assert!(matches!(
        raw.call(&Request::ScanClose { scan: 2 }),
        Reply::Unit
    ));
    assert!(matches!(raw.call(&open), Reply::Handle { .. }));
    still_serves(&mut server);
}
