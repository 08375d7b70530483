//! Memory caps (global and per database) and compaction (on demand, automatic, online).

use std::thread;

use docdb_core::{BatchOp, Error, ErrorKind, Options, Store};

#[test]
fn per_database_memory_limit_refuses_writes_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        db_memory_limit: 64 * 1024,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("small").unwrap();
    let mut written = 0u64;
    let err = loop {
        match db.create(written, b"x") {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 100_000, "the cap never triggered");
    };
    assert!(matches!(err, Error::MemoryLimit { .. }), "{err}");
    assert!(
        written > 100,
        "the cap is about index entries, not bytes on disk: {written}"
    );
    assert!(
        !db.contains(written).unwrap(),
        "the refused write did nothing"
    );
    assert_eq!(db.len().unwrap(), written);
    let stats = db.stats().unwrap();
    assert!(stats.memory_used <= stats.memory_limit);
    // Updates of existing documents need no new memory: still allowed.
    db.update(0, b"updated").unwrap();
    // Deleting frees memory, so creates work again.
    for id in 0..10 {
        db.delete(id).unwrap();
    }
    db.create(written, b"fits again").unwrap();
    // Another database has its own budget.
    store.create_db("other").unwrap().put(1, b"fine").unwrap();
    // A batch that would cross the cap is refused whole.
    let big: Vec<BatchOp> = (1_000_000..1_000_500)
        .map(|i| BatchOp::Put(i, b"b"))
        .collect();
    assert_eq!(db.batch(&big).unwrap_err().kind(), ErrorKind::MemoryLimit);
    assert!(!db.contains(1_000_000).unwrap());
}

#[test]
fn global_memory_limit_spans_databases_and_counts_pending_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        memory_limit: 100 * 1024,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let a = store.create_db("a").unwrap();
    let b = store.create_db("b").unwrap();
    let mut i = 0;
    while a.put(i, b"a").is_ok() {
        i += 1;
    }
    assert_eq!(
        b.put(0, b"b").unwrap_err().kind(),
        ErrorKind::MemoryLimit,
        "the cap is shared"
    );
    for id in 0..200 {
        a.delete(id).unwrap();
    }
    b.put(0, b"b").unwrap();
    // Staged transaction data is charged while the transaction is open.
    let mut tx = b.begin().unwrap();
    assert_eq!(
        tx.put(1, &vec![0u8; 200 * 1024]).unwrap_err().kind(),
        ErrorKind::MemoryLimit
    );
    assert_eq!(
        store.stats().unwrap().memory_used,
        a.stats().unwrap().memory_used + b.stats().unwrap().memory_used
    );
}

#[test]
fn compaction_reclaims_space_and_keeps_disk_near_live_data() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 256 * 1024,
        auto_compact: false,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("c").unwrap();
    let doc = |i: u64, round: u64| vec![(i + round) as u8; 1000];
    for round in 0..10 {
        for i in 0..200u64 {
            db.put(i, &doc(i, round)).unwrap();
        }
    }
    for i in 100..200u64 {
        db.delete(i).unwrap();
    }
    let before = db.stats().unwrap();
    assert!(before.dead_bytes > 10 * before.live_bytes, "{before:?}");
    let reclaimed = db.compact().unwrap();
    let after = db.stats().unwrap();
    assert!(reclaimed > 0);
    assert_eq!(after.compactions, 1);
    assert_eq!(after.documents, 100);
    let on_disk: u64 = walk_size(dir.path());
    assert!(
        (on_disk as f64) <= 1.5 * after.live_bytes as f64 + 8192.0,
        "disk {on_disk} vs live {}",
        after.live_bytes
    );
    for i in 0..100u64 {
        assert_eq!(db.read(i).unwrap(), doc(i, 9));
    }
    assert_eq!(db.read(150).unwrap_err().kind(), ErrorKind::NotFound);
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                walk_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

#[test]
fn reads_and_writes_continue_during_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 64 * 1024,
        sync: docdb_core::Sync::Normal,
        auto_compact: false,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("online").unwrap();
    for round in 0..5u8 {
        for i in 0..300u64 {
            db.put(i, &[round; 700]).unwrap();
        }
    }
    thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..300u64 {
                db.put(i, &[9; 700]).unwrap();
                db.put(10_000 + i, b"new").unwrap();
            }
        });
        let reader = s.spawn(|| {
            for _ in 0..5 {
                for i in 0..300u64 {
                    let v = db.read(i).unwrap();
                    assert!(v == vec![4; 700] || v == vec![9; 700]);
                }
            }
        });
        for _ in 0..3 {
            db.compact().unwrap();
        }
        writer.join().unwrap();
        reader.join().unwrap();
    });
    db.compact().unwrap();
    for i in 0..300u64 {
        assert_eq!(db.read(i).unwrap(), vec![9; 700]);
        assert_eq!(db.read(10_000 + i).unwrap(), b"new");
    }
    drop(db);
    drop(store);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("online").unwrap();
    assert_eq!(db.len().unwrap(), 600);
    assert_eq!(db.read(299).unwrap(), vec![9; 700]);
}

#[test]
fn automatic_compaction_triggers_on_dead_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 32 * 1024,
        compaction_min_dead_bytes: 64 * 1024,
        compaction_dead_ratio: 0.5,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("auto").unwrap();
    for round in 0..20u8 {
        for i in 0..50u64 {
            db.put(i, &[round; 500]).unwrap();
        }
    }
    // The compaction runs in the background; wait for it (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while db.stats().unwrap().compactions == 0 && std::time::Instant::now() < deadline {
        thread::sleep(std::time::Duration::from_millis(20));
    }
    let stats = db.stats().unwrap();
    assert!(stats.compactions >= 1, "{stats:?}");
    for i in 0..50u64 {
        assert_eq!(db.read(i).unwrap(), vec![19; 500]);
    }
    store.close().unwrap();
}

#[test]
fn automatic_checkpoint_bounds_replay() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        checkpoint_bytes: 64 * 1024,
        auto_compact: false,
        ..Options::default()
    };
    {
        let store = Store::open(dir.path(), opts.clone()).unwrap();
        let db = store.create_db("ck").unwrap();
        for i in 0..1000u64 {
            db.put(i, &[1; 400]).unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while db.stats().unwrap().checkpoints == 0 && std::time::Instant::now() < deadline {
            thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(db.stats().unwrap().checkpoints >= 1);
    }
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.open_db("ck").unwrap();
    assert_eq!(db.len().unwrap(), 1000);
    let replayed = db.stats().unwrap().recovered_replayed_bytes;
    assert!(
        replayed < 1000 * 428,
        "the checkpoint covered part of the log: {replayed}"
    );
}
