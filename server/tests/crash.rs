//! kill -9 of the server under a concurrent remote write load, again and again: after
//! each restart every acknowledged commit is there with its bytes, no transaction is half
//! applied, and clients blocked on the dead server got an error instead of hanging.
//! `DOCDB_SERVER_KILLS=N` sets the number of kills (default 50).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Server;
use docdb_core::{BatchOp, ErrorKind};

const WRITERS: u64 = 4;
/// The second document of each commit lives at `id + PAIR`.
const PAIR: u64 = 1 << 40;

fn payload(id: u64) -> Vec<u8> {
    let mut v = id.to_le_bytes().repeat(1 + (id % 7) as usize);
    v.extend_from_slice(b"docdb");
    v
}

/// One writer: commits pairs of documents (alternately as a batch and as a transaction)
/// until the server dies; returns the ids whose commit was acknowledged and the one whose
/// outcome is unknown.
fn write_until_error(
    store: docdb_client::Store,
    writer: u64,
    start: u64,
) -> (Vec<u64>, Option<u64>) {
    let db = match store.open_db("load") {
        Ok(db) => db,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
            return (Vec::new(), None);
        }
    };
    let mut acked = Vec::new();
    let mut seq = start;
    loop {
        let id = writer << 32 | seq;
        let (a, b) = (payload(id), payload(id + PAIR));
        let r = if seq.is_multiple_of(2) {
            db.batch(&[BatchOp::Put(id, &a), BatchOp::Put(id + PAIR, &b)])
        } else {
            db.begin().and_then(|mut tx| {
                tx.put(id, &a)?;
                tx.put(id + PAIR, &b)?;
                tx.commit()
            })
        };
        match r {
            Ok(_) => acked.push(id),
            Err(e) => {
                assert!(
                    matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Closed),
                    "{e}"
                );
                return (acked, Some(id));
            }
        }
        seq += 1;
    }
}

#[test]
fn kill_9_under_remote_write_load_loses_no_acknowledged_commit() {
    let kills: usize = std::env::var("DOCDB_SERVER_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let t0 = Instant::now();
    let mut server = Server::start(&[]);
    server.connect().create_db("load").unwrap();
    // One client store per writer for the whole test: after each restart the same
    // handles reconnect on their own.
    let stores: Vec<_> = (0..WRITERS).map(|_| server.connect()).collect();
    let mut acked: BTreeSet<u64> = BTreeSet::new();
    let mut unknown = 0usize;
    let mut next_seq = vec![0u64; WRITERS as usize];
    let mut x = 12345u64;
    for round in 0..kills {
        let (tx, rx) = mpsc::channel();
        for (w, store) in stores.iter().enumerate() {
            let (tx, store, start) = (tx.clone(), store.clone(), next_seq[w]);
            std::thread::spawn(move || {
                let _ = tx.send((w, write_until_error(store, w as u64, start)));
            });
        }
        drop(tx);
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(10 + (x >> 33) % 40));
        server.kill9();
        // Every writer returns with an error: none hangs on the dead server.
        for _ in 0..WRITERS {
            let (w, (ids, in_flight)) = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("a client hung on a dead server");
            acked.extend(&ids);
            unknown += usize::from(in_flight.is_some());
            let last = in_flight
                .or(ids.last().copied())
                .map_or(next_seq[w], |id| (id & 0xffff_ffff) + 1);
            next_seq[w] = next_seq[w].max(last);
        }
        server.spawn();
        // The old handles work again, and see every acknowledged commit, whole.
        let db = stores[round % stores.len()].open_db("load").unwrap();
        let snap = db.snapshot().unwrap();
        let mut found: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for item in snap.scan().unwrap() {
            let (id, data) = item.unwrap();
            found.insert(id, data);
        }
        for id in &acked {
            assert_eq!(
                found.get(id),
                Some(&payload(*id)),
                "acknowledged {id:#x} lost (round {round})"
            );
        }
        for (id, data) in &found {
            assert_eq!(data, &payload(*id), "wrong bytes at {id:#x}");
            let other = if *id >= PAIR { id - PAIR } else { id + PAIR };
            assert!(
                found.contains_key(&other),
                "half a transaction at {id:#x} (round {round})"
            );
        }
    }
    eprintln!(
        "figure: server kill -9: {kills} kills, {} acknowledged commits verified, {unknown} outcomes unknown, losses: 0, {:.1}s",
        acked.len(),
        t0.elapsed().as_secs_f64()
    );
}

/// Waits until every thread of `pid` is in the stopped state (`T` in `/proc`).
fn wait_until_stopped(pid: i32) {
    let t = Instant::now();
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
        let all_stopped = tasks.into_iter().all(|task| {
            let stat =
                std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap_or_default();
            // The state follows the command name, which is in parentheses.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        });
        if all_stopped {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "server did not stop");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_client_of_a_stopped_server_times_out_instead_of_hanging() {
    let server = Server::start(&[]);
    let opts = docdb_client::ConnectOptions {
        request_timeout: Some(Duration::from_millis(300)),
        ..server.opts()
    };
    let store = docdb_client::Store::connect(&server.url(), opts).unwrap();
    let db = store.create_db("d").unwrap();
    db.put(1, b"before").unwrap();
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(server.pid(), libc::SIGSTOP) }, 0);
    // `kill` only queues the signal: wait until every thread of the server has stopped,
    // or the put below could still be served.
    wait_until_stopped(server.pid());
    let e = db.put(2, b"while stopped").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(
        e.outcome_unknown(),
        "the put was sent: its outcome is unknown"
    );
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(server.pid(), libc::SIGCONT) }, 0);
    // The next call uses a new connection; the put had in fact been applied once the
    // server resumed, which is why it is never resent silently.
    assert_eq!(db.read(1).unwrap(), b"before");
    let t = Instant::now();
    while !db.contains(2).unwrap() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_down_server_is_unavailable_with_a_known_outcome_and_reconnects_when_back() {
    let mut server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    server.kill9();
    let e = db.put(1, b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(!e.outcome_unknown(), "nothing reached a server: {e}");
    assert!(!db.contains(1).unwrap_err().outcome_unknown());
    server.spawn();
    db.put(1, b"x").unwrap();
    assert_eq!(db.read(1).unwrap(), b"x");
}
