//! The client API end to end against a server process: over a Unix socket, over TCP with a
//! token, over TLS; errors keep their kinds; shutdown is graceful.

mod common;

use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Raw, Server};
use docdb_client::{ConnectOptions, Store};
use docdb_core::{BatchOp, ErrorKind};
use docdb_proto::{Reply, Request};

/// Every operation of the API once, with the errors a local store gives.
fn exercise(store: &Store) {
    assert!(store.list_dbs().unwrap().is_empty());
    let users = store.create_db("users").unwrap();
    assert_eq!(users.name(), "users");
    assert_eq!(
        store.create_db("users").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        store.create_db("bad name").unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    assert_eq!(
        store.open_db("nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let again = store.open_or_create_db("users").unwrap();
    assert_eq!(again.id(), users.id());

    users.create(1, b"ada").unwrap();
    assert_eq!(
        users.create(1, b"x").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(users.read(1).unwrap(), b"ada");
    let e = users.read(2).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "document 2 in database 'users' not found",
        "the engine's own message"
    );
    users.update(1, b"ada lovelace").unwrap();
    assert_eq!(
        users.update(9, b"x").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    users.put(2, b"charles").unwrap();
    assert!(users.contains(2).unwrap());
    users.delete(2).unwrap();
    assert!(!users.contains(2).unwrap());
    assert_eq!(users.delete(2).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(users.len().unwrap(), 1);
    users.put(3, b"").unwrap();
    assert_eq!(
        users.read(3).unwrap(),
        b"",
        "empty documents survive the wire"
    );

    // Batches are atomic and report the failing operation's index.
    users
        .batch(&[BatchOp::Put(10, b"a"), BatchOp::Create(11, b"b")])
        .unwrap();
    let e = users
        .batch(&[BatchOp::Put(12, b"c"), BatchOp::Create(10, b"dup")])
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.batch_index()),
        (ErrorKind::AlreadyExists, Some(1))
    );
    assert!(
        !users.contains(12).unwrap(),
        "nothing of a failed batch is applied"
    );

    // Transactions: own writes visible, isolation, conflicts.
    let mut tx = users.begin().unwrap();
    tx.put(20, b"in tx").unwrap();
    assert_eq!(tx.read(20).unwrap(), b"in tx");
    assert!(
        !users.contains(20).unwrap(),
        "uncommitted writes are invisible"
    );
    assert_eq!(tx.pending().unwrap(), 1);
    let v = tx.commit().unwrap();
    assert!(v > 0);
    assert_eq!(users.read(20).unwrap(), b"in tx");

    let mut t1 = users.begin().unwrap();
    let mut t2 = users.begin().unwrap();
    t1.update(20, b"one").unwrap();
    t2.update(20, b"two").unwrap();
    t1.commit().unwrap();
    let e = t2.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let mut t3 = users.begin().unwrap();
    t3.put(21, b"never").unwrap();
    t3.rollback();
    assert!(!users.contains(21).unwrap());
    {
        let mut t4 = users.begin().unwrap();
        t4.put(22, b"dropped").unwrap();
    }
    assert!(
        !users.contains(22).unwrap(),
        "a dropped transaction rolls back"
    );

    // Snapshots: a consistent view, scanned in pages.
    let snap = users.snapshot().unwrap();
    users.put(1, b"changed after the snapshot").unwrap();
    assert_eq!(snap.read(1).unwrap(), b"ada lovelace");
    let ids = snap.ids().unwrap();
    assert_eq!(ids, vec![1, 3, 10, 11, 20]);
    assert_eq!(snap.len().unwrap(), 5);
    let docs: Vec<_> = snap.scan().unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(docs[0], (1, b"ada lovelace".to_vec()));
    let mut seen = 0;
    snap.for_each(|_, _| {
        seen += 1;
        if seen == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(seen, 2);
    drop(snap);

    // Many pages: more documents than one page holds.
    let big = store.create_db("big").unwrap();
    let ops: Vec<Vec<u8>> = (0..3000u64).map(|i| i.to_le_bytes().repeat(4)).collect();
    let batch: Vec<_> = ops
        .iter()
        .enumerate()
        .map(|(i, d)| BatchOp::Put(i as u64, d))
        .collect();
    big.batch(&batch).unwrap();
    let snap = big.snapshot().unwrap();
    let mut n = 0u64;
    for item in snap.clone().into_scan().unwrap() {
        let (id, data) = item.unwrap();
        assert_eq!((id, data), (n, n.to_le_bytes().repeat(4)));
        n += 1;
    }
    assert_eq!(n, 3000);

    // Statistics, checkpoint, compaction.
    let st = users.stats().unwrap();
    assert_eq!(st.name, "users");
    assert_eq!(st.documents, users.len().unwrap());
    let all = store.stats().unwrap();
    assert!(all
        .databases
        .iter()
        .any(|d| d.name == "big" && d.documents == 3000));
    store.checkpoint().unwrap();
    users.checkpoint().unwrap();
    users.compact().unwrap();
    store.sync().unwrap();
    assert_eq!(users.read(1).unwrap(), b"changed after the snapshot");

    // Dropping a database closes its handles, as locally.
    store.drop_db("big").unwrap();
    assert_eq!(big.read(1).unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(
        store
            .list_dbs()
            .unwrap()
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["users"]
    );

    // A document over the server's limit: PAYLOAD_TOO_LARGE, the connection stays usable.
    let huge = vec![7u8; 17 << 20];
    assert_eq!(
        users.put(99, &huge).unwrap_err().kind(),
        ErrorKind::PayloadTooLarge
    );
    assert_eq!(users.read(1).unwrap(), b"changed after the snapshot");

    store.close().unwrap();
    assert_eq!(users.read(1).unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn the_whole_api_over_a_unix_socket() {
    let server = Server::start(&[]);
    let mode = std::fs::metadata(&server.sock)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the socket is private by default");
    exercise(&server.connect());
}

#[test]
fn socket_mode_is_configurable() {
    let server = Server::start(&["--socket-mode", "660"]);
    let mode = std::fs::metadata(&server.sock)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o660);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn token_file(dir: &std::path::Path) -> String {
    let p = dir.join("token");
    std::fs::write(&p, "correct horse battery staple\n").unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn the_whole_api_over_tcp_with_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let token = token_file(tmp.path());
    let server = Server::start(&["--tcp", &addr, "--token-file", &token]);
    let opts = server.opts();
    exercise(&Store::connect(&format!("tcp://{addr}"), opts.clone()).unwrap());

    // No token, or a wrong one: refused, over TCP and over the Unix socket alike.
    for url in [format!("tcp://{addr}"), server.url()] {
        let e = Store::connect(&url, ConnectOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains("authentication failed"), "{e}");
        let wrong = ConnectOptions {
            token: Some("correct horse battery stapler".into()),
            ..opts.clone()
        };
        assert_eq!(
            Store::connect(&url, wrong).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}

/// Starts a server in `dir` with `extra` arguments that must make it fail with exit
/// status `code` (1: cannot start, 2: bad flags) and no socket file left behind (clients
/// would get "connection refused" from one). Returns its stderr.
fn refused_start(dir: &std::path::Path, extra: &[&str], code: i32) -> String {
    let out = common::server_command()
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--unix")
        .arg(dir.join("s.sock"))
        .args(extra)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code));
    assert!(!dir.join("s.sock").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tcp_refuses_to_start_without_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let err = refused_start(tmp.path(), &["--tcp", "127.0.0.1:0"], 1);
    assert!(err.contains("--token-file"), "{err}");
}

#[test]
fn limits_that_leave_nothing_to_serve_are_bad_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for flags in [
        ["--max-connections", "0"],
        ["--max-frame", "0"],
        ["--max-frame", "4095"],
    ] {
        let err = refused_start(tmp.path(), &flags, 2);
        assert!(err.contains(flags[0]), "{err}");
    }
    assert!(!tmp.path().join("data").exists());
}

#[test]
fn a_tcp_port_in_use_stops_the_start_and_leaves_no_socket_file() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let token = token_file(tmp.path());
    let err = refused_start(tmp.path(), &["--tcp", &addr, "--token-file", &token], 1);
    assert!(err.contains("cannot listen on TCP"), "{err}");
}

#[test]
fn the_whole_api_over_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let token = token_file(tmp.path());
    let server = Server::start(&[
        "--tcp",
        &addr,
        "--token-file",
        &token,
        "--tls-cert",
        cert_pem.to_str().unwrap(),
        "--tls-key",
        key_pem.to_str().unwrap(),
    ]);
    let opts = ConnectOptions {
        ca_file: Some(cert_pem.clone()),
        ..server.opts()
    };
    exercise(&Store::connect(&format!("tls://localhost:{port}"), opts.clone()).unwrap());

    // Plain TCP to a TLS port, or a certificate for another name: no connection.
    let e = Store::connect(&format!("tcp://{addr}"), opts.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    let other = ConnectOptions {
        server_name: Some("example.com".into()),
        ..opts
    };
    let e = Store::connect(&format!("tls://localhost:{port}"), other).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
}

#[test]
fn a_dropped_connection_rolls_back_its_transaction() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    let mut raw = Raw::ready(&server);
    let Reply::Handle { handle, .. } = raw.call(&Request::Begin { db: db.id() }) else {
        panic!("begin")
    };
    let put = Request::TxnPut {
        txn: handle,
        id: 1,
        data: b"staged".to_vec(),
    };
    assert!(matches!(raw.call(&put), Reply::Unit));
    drop(raw);
    // The server rolls it back: nothing visible, and no reader is left holding versions.
    let t = std::time::Instant::now();
    while db.stats().unwrap().active_readers > 0 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "transaction not released"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!db.contains(1).unwrap());
    db.put(1, b"after").unwrap();
    assert_eq!(db.read(1).unwrap(), b"after");
}

#[test]
fn sigterm_finishes_in_flight_work_rolls_back_and_exits_zero() {
    let mut server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    db.put(1, b"acknowledged").unwrap();
    let mut open = db.begin().unwrap();
    open.put(2, b"never committed").unwrap();

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "clean exit");
    assert!(!server.sock.exists(), "the socket file is removed");
    let e = db.read(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(
        open.put(3, b"x").unwrap_err().kind(),
        ErrorKind::Unavailable
    );

    // The store was closed cleanly: it opens in-process right away, with the commit and
    // without the transaction.
    let local = docdb_core::Store::open(&server.data, docdb_core::Options::default()).unwrap();
    let d = local.open_db("d").unwrap();
    assert_eq!(d.read(1).unwrap(), b"acknowledged");
    assert!(!d.contains(2).unwrap());
    assert_eq!(
        d.stats().unwrap().recovered_replayed_bytes,
        0,
        "checkpointed at shutdown"
    );
    local.close().unwrap();

    // And a restarted server serves it; the old client handles reconnect.
    server.spawn();
    assert_eq!(db.read(1).unwrap(), b"acknowledged");
}

#[test]
fn a_second_server_on_the_same_directory_is_refused() {
    let server = Server::start(&[]);
    let mut cmd = common::server_command();
    cmd.arg("--data")
        .arg(&server.data)
        .arg("--unix")
        .arg(server.dir().join("other.sock"))
        .stderr(std::process::Stdio::piped());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"));
    server.connect().ping().unwrap();
}

#[test]
fn many_connections_commit_durably_at_once() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    db.put(0, b"warm").unwrap();
    let before = store.server_stats().unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
    let threads: Vec<_> = (0..16u64)
        .map(|t| {
            let store = Store::connect(&server.url(), server.opts()).unwrap();
            let db = store.open_db("d").unwrap();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..50u64 {
                    db.put(1 + t * 1000 + i, &i.to_le_bytes()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let after = store.server_stats().unwrap();
    let st = db.stats().unwrap();
    assert_eq!(st.documents, 801);
    let fsyncs = after.fsyncs - before.fsyncs;
    // Each acknowledged commit was fsynced (Sync::Full), and concurrent commits from many
    // connections shared fsyncs (group commit).
    assert!(
        fsyncs > 0 && fsyncs < 800,
        "{fsyncs} fsyncs for 800 commits"
    );
    assert!(after.connections_total >= 17 && after.requests > before.requests + 800);
    eprintln!("figure: 16 connections x 50 durable commits: 800 commits, {fsyncs} fsyncs");
}

#[test]
fn sigterm_under_write_load_keeps_every_acknowledged_commit() {
    let mut server = Server::start(&[]);
    server.connect().create_db("d").unwrap();
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let store = server.connect();
            std::thread::spawn(move || {
                let db = store.open_db("d").unwrap();
                let mut acked = Vec::new();
                for i in 0.. {
                    let id = w << 32 | i;
                    match db.put(id, &id.to_le_bytes()) {
                        Ok(()) => acked.push(id),
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                            return (acked, e.outcome_unknown());
                        }
                    }
                }
                unreachable!()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.terminate().code(), Some(0));
    let mut all = Vec::new();
    let mut unknown = 0;
    for w in writers {
        let (acked, outcome_unknown) = w.join().unwrap();
        all.extend(acked);
        unknown += usize::from(outcome_unknown);
    }
    let local = docdb_core::Store::open(&server.data, docdb_core::Options::default()).unwrap();
    let d = local.open_db("d").unwrap();
    for id in &all {
        assert_eq!(d.read(*id).unwrap(), id.to_le_bytes());
    }
    // Every request either got its reply or the shutdown notice: a clean stop leaves no
    // outcome unknown.
    assert_eq!(unknown, 0);
    eprintln!(
        "figure: SIGTERM under load: {} acknowledged commits kept, no outcome unknown",
        all.len()
    );
}
