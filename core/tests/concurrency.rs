//! Concurrency: many writers, readers racing writers on one document, several databases in
//! parallel, no starvation, and group commit sharing fsyncs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

mod common;

use common::probe_fs::ProbeFs;

use docdb_core::{ErrorKind, Options, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    (dir, store)
}

#[test]
fn ten_writers_hundred_documents_each() {
    let (dir, store) = store();
    let db = store.create_db("w").unwrap();
    thread::scope(|s| {
        for w in 0..10u64 {
            let db = db.clone();
            s.spawn(move || {
                for i in 0..100u64 {
                    db.create(w * 1000 + i, format!("writer {w} doc {i}").as_bytes())
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(db.len().unwrap(), 1000);
    drop(db);
    drop(store);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("w").unwrap();
    for w in 0..10u64 {
        for i in 0..100u64 {
            assert_eq!(
                db.read(w * 1000 + i).unwrap(),
                format!("writer {w} doc {i}").as_bytes()
            );
        }
    }
}

/// Each version is 4 KiB of one repeated byte: a torn or mixed read would show two bytes.
#[test]
fn readers_always_see_a_whole_committed_version() {
    let (_d, store) = store();
    let db = store.create_db("same").unwrap();
    db.put(1, &[0u8; 4096]).unwrap();
    let done = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut last = 0u8;
                while !done.load(Ordering::Relaxed) {
                    let v = db.read(1).unwrap();
                    assert_eq!(v.len(), 4096);
                    assert!(v.iter().all(|&b| b == v[0]), "a read mixed two versions");
                    assert!(
                        v[0] >= last,
                        "a reader went back in time: {} after {last}",
                        v[0]
                    );
                    last = v[0];
                    let snap = db.snapshot().unwrap();
                    let a = snap.read(1).unwrap();
                    let b = snap.read(1).unwrap();
                    assert_eq!(a, b, "a snapshot changed under a reader");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for v in 1..=200u8 {
            if v % 2 == 0 {
                db.put(1, &[v; 4096]).unwrap();
            } else {
                let mut tx = db.begin().unwrap();
                tx.update(1, &[v; 4096]).unwrap();
                tx.commit().unwrap();
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_eq!(db.read(1).unwrap(), vec![200u8; 4096]);
}

#[test]
fn concurrent_transactions_on_one_document_never_lose_an_increment() {
    let (_d, store) = store();
    let db = store.create_db("counter").unwrap();
    db.put(1, &0u64.to_le_bytes()).unwrap();
    let conflicts = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut done = 0;
                while done < 25 {
                    let mut tx = db.begin().unwrap();
                    let n = u64::from_le_bytes(tx.read(1).unwrap().try_into().unwrap());
                    tx.update(1, &(n + 1).to_le_bytes()).unwrap();
                    match tx.commit() {
                        Ok(_) => done += 1,
                        Err(e) if e.kind() == ErrorKind::Conflict => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    let n = u64::from_le_bytes(db.read(1).unwrap().try_into().unwrap());
    assert_eq!(
        n, 100,
        "snapshot isolation + conflict detection = no lost update"
    );
}

#[test]
fn several_databases_in_parallel() {
    let (_d, store) = store();
    thread::scope(|s| {
        for d in 0..4 {
            let store = store.clone();
            s.spawn(move || {
                let db = store.create_db(&format!("db{d}")).unwrap();
                for i in 0..200u64 {
                    db.put(i, format!("{d}:{i}").as_bytes()).unwrap();
                }
                let snap = db.snapshot().unwrap();
                assert_eq!(snap.len().unwrap(), 200);
                for item in snap.scan().unwrap() {
                    let (id, data) = item.unwrap();
                    assert_eq!(data, format!("{d}:{id}").as_bytes());
                }
            });
        }
    });
    assert_eq!(store.stats().unwrap().documents, 800);
}

/// While one database is written flat out by several threads, readers of it and writers of
/// another database keep making progress.
#[test]
fn no_starvation() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: docdb_core::Sync::Normal,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let hot = store.create_db("hot").unwrap();
    let other = store.create_db("other").unwrap();
    hot.put(0, b"x").unwrap();
    let stop = AtomicBool::new(false);
    let (reads, other_writes) = (AtomicU64::new(0), AtomicU64::new(0));
    thread::scope(|s| {
        for t in 0..3u64 {
            let (hot, stop) = (&hot, &stop);
            s.spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    hot.put(t << 32 | (i % 1000), &[t as u8; 512]).unwrap();
                    i += 1;
                }
            });
        }
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                hot.read(0).unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
            }
        });
        s.spawn(|| {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                other.put(i, b"y").unwrap();
                other_writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(1500)
            && (reads.load(Ordering::Relaxed) < 100 || other_writes.load(Ordering::Relaxed) < 100)
        {
            thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    // Progress, not speed: both made a hundred operations while the writers ran.
    assert!(reads.load(Ordering::Relaxed) >= 100, "reader starved");
    assert!(
        other_writes.load(Ordering::Relaxed) >= 100,
        "other database starved"
    );
}

#[test]
fn a_durable_commit_costs_one_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let fs = ProbeFs::default();
    let store = Store::open_with(fs.clone(), dir.path(), Options::default()).unwrap();
    let db = store.create_db("one").unwrap();
    db.put(0, b"warm").unwrap();
    let before = fs.syncs.load(Ordering::SeqCst);
    for i in 1..=50u64 {
        db.put(i, &[1; 1024]).unwrap();
    }
    let mut tx = db.begin().unwrap();
    for i in 100..200u64 {
        tx.put(i, &[2; 1024]).unwrap();
    }
    tx.commit().unwrap();
    assert_eq!(
        fs.syncs.load(Ordering::SeqCst) - before,
        51,
        "50 commits + 1 transaction"
    );
}

#[test]
fn concurrent_committers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let fs = ProbeFs::default();
    let store = Store::open_with(fs.clone(), dir.path(), Options::default()).unwrap();
    let db = store.create_db("group").unwrap();
    db.put(0, b"warm").unwrap();
    let before = fs.syncs.load(Ordering::SeqCst);
    let threads = 8;
    let per_thread = 40u64;
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads as u64 {
            let (db, barrier) = (&db, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..per_thread {
                    db.put(1 + t * 1000 + i, &[t as u8; 1024]).unwrap();
                }
            });
        }
    });
    let commits = threads as u64 * per_thread;
    let syncs = fs.syncs.load(Ordering::SeqCst) - before;
    assert!(
        syncs < commits,
        "group commit shares fsyncs: {syncs} fsyncs for {commits} commits"
    );
    assert!(syncs > 0);
    assert_eq!(db.len().unwrap(), commits + 1);
}
