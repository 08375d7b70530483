//! Snapshot isolation: snapshots, transactions, conflicts, rollback.

use docdb_core::{Error, ErrorKind, Options, Store};

fn db() -> (tempfile::TempDir, Store, docdb_core::Database) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.create_db("m").unwrap();
    (dir, store, db)
}

#[test]
fn snapshot_sees_a_fixed_version() {
    let (_d, _s, db) = db();
    db.put(1, b"v1").unwrap();
    db.put(2, b"two").unwrap();
    let snap = db.snapshot().unwrap();
    db.put(1, b"v2").unwrap();
    db.delete(2).unwrap();
    db.put(3, b"new").unwrap();
    let later = db.snapshot().unwrap();
    db.put(1, b"v3").unwrap();

    assert_eq!(snap.read(1).unwrap(), b"v1");
    assert_eq!(snap.read(2).unwrap(), b"two");
    assert_eq!(snap.read(3).unwrap_err().kind(), ErrorKind::NotFound);
    let all: Vec<_> = snap.scan().unwrap().map(Result::unwrap).collect();
    assert_eq!(all, vec![(1, b"v1".to_vec()), (2, b"two".to_vec())]);
    assert_eq!(snap.len().unwrap(), 2);

    assert_eq!(later.read(1).unwrap(), b"v2");
    assert!(!later.contains(2).unwrap());
    assert_eq!(later.read(3).unwrap(), b"new");
    assert!(later.version() > snap.version());
    assert_eq!(db.read(1).unwrap(), b"v3");

    // Old versions survive compaction for the snapshots that need them.
    db.compact().unwrap();
    assert_eq!(snap.read(1).unwrap(), b"v1");
    assert_eq!(later.read(1).unwrap(), b"v2");
    assert_eq!(db.stats().unwrap().active_readers, 2);
    drop(snap);
    drop(later);
    assert_eq!(db.stats().unwrap().active_readers, 0);
    assert_eq!(db.read(1).unwrap(), b"v3");
}

#[test]
fn snapshots_and_heads_survive_repeated_compactions() {
    // Small segments, so that each round seals and retires several of them and the index
    // reuses their numbers for the compaction outputs and the new active segments.
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 4096,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts.clone()).unwrap();
    let db = store.create_db("m").unwrap();
    let doc =
        |id: u64, round: u64| format!("doc {id} round {round} {}", "x".repeat(300)).into_bytes();
    let mut snaps = Vec::new();
    for round in 0..6u64 {
        for id in 0..40 {
            if (id + round) % 7 == 0 {
                db.delete(id).ok();
            } else {
                db.put(id, &doc(id, round)).unwrap();
            }
        }
        snaps.push((round, db.snapshot().unwrap()));
        db.compact().unwrap();
        for (r, snap) in &snaps {
            for id in 0..40 {
                let got = snap.read(id);
                if (id + r) % 7 == 0 {
                    assert_eq!(got.unwrap_err().kind(), ErrorKind::NotFound);
                } else {
                    assert_eq!(got.unwrap(), doc(id, *r), "snapshot of round {r}, id {id}");
                }
            }
        }
        if round % 2 == 1 {
            // Release the oldest snapshot: its versions may go, the others' must stay.
            snaps.remove(0);
        }
    }
    drop(snaps);
    db.compact().unwrap();
    store.close().unwrap();
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.open_db("m").unwrap();
    for id in 0..40 {
        match db.read(id) {
            Ok(data) => assert_eq!(data, doc(id, 5)),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::NotFound);
                assert_eq!((id + 5) % 7, 0);
            }
        }
    }
}

#[test]
fn old_versions_are_released_when_snapshots_end() {
    let (_d, _s, db) = db();
    db.put(1, b"base").unwrap();
    let base_mem = db.stats().unwrap().memory_used;
    let snap = db.snapshot().unwrap();
    for i in 0..50u64 {
        db.put(1, format!("v{i}").as_bytes()).unwrap();
    }
    db.delete(1).unwrap();
    assert!(
        db.stats().unwrap().memory_used > base_mem,
        "retained versions are charged"
    );
    assert_eq!(snap.read(1).unwrap(), b"base");
    drop(snap);
    db.put(2, b"tick").unwrap(); // any commit lets garbage collection run
    let after = db.stats().unwrap().memory_used;
    assert!(
        after <= base_mem + 96,
        "versions released: {after} vs {base_mem}"
    );
}

#[test]
fn transaction_commit_and_read_your_writes() {
    let (_d, _s, db) = db();
    db.put(1, b"one").unwrap();
    let mut tx = db.begin().unwrap();
    tx.update(1, b"uno").unwrap();
    tx.create(2, b"dos").unwrap();
    tx.delete(1).unwrap();
    assert_eq!(tx.read(1).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(tx.read(2).unwrap(), b"dos");
    assert_eq!(
        tx.create(2, b"x").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(tx.update(3, b"x").unwrap_err().kind(), ErrorKind::NotFound);
    // Nothing is visible outside before commit.
    assert_eq!(db.read(1).unwrap(), b"one");
    assert!(!db.contains(2).unwrap());
    assert_eq!(tx.pending(), 2);
    let v = tx.commit().unwrap();
    assert!(v > 0);
    assert!(!db.contains(1).unwrap());
    assert_eq!(db.read(2).unwrap(), b"dos");
}

#[test]
fn rollback_and_drop_discard_everything() {
    let (_d, _s, db) = db();
    let before = db.stats().unwrap().memory_used;
    let mut tx = db.begin().unwrap();
    tx.put(1, &[1; 1000]).unwrap();
    assert!(
        db.stats().unwrap().memory_used >= before + 1000,
        "staged data is charged"
    );
    tx.rollback();
    assert!(!db.contains(1).unwrap());
    {
        let mut tx = db.begin().unwrap();
        tx.put(2, b"dropped").unwrap();
    }
    assert!(!db.contains(2).unwrap());
    assert_eq!(
        db.stats().unwrap().memory_used,
        before,
        "staged memory released"
    );
}

#[test]
fn write_write_conflict_fails_the_later_committer() {
    let (_d, _s, db) = db();
    db.put(1, b"base").unwrap();
    let mut a = db.begin().unwrap();
    let mut b = db.begin().unwrap();
    a.update(1, b"from a").unwrap();
    b.update(1, b"from b").unwrap();
    b.put(2, b"b's other write").unwrap();
    a.commit().unwrap();
    let err = b.commit().unwrap_err();
    assert!(matches!(err, Error::Conflict { doc_id: 1 }), "{err}");
    assert_eq!(db.read(1).unwrap(), b"from a");
    assert!(
        !db.contains(2).unwrap(),
        "a conflicting transaction applies nothing"
    );

    // A plain write after the snapshot also conflicts; a deletion too.
    let mut c = db.begin().unwrap();
    c.put(1, b"c").unwrap();
    db.delete(1).unwrap();
    assert_eq!(c.commit().unwrap_err().kind(), ErrorKind::Conflict);

    // Disjoint writes do not conflict.
    let mut d = db.begin().unwrap();
    let mut e = db.begin().unwrap();
    d.put(10, b"d").unwrap();
    e.put(11, b"e").unwrap();
    d.commit().unwrap();
    e.commit().unwrap();
}

#[test]
fn transaction_reads_are_repeatable() {
    let (_d, _s, db) = db();
    db.put(1, b"first").unwrap();
    let tx = db.begin().unwrap();
    assert_eq!(tx.read(1).unwrap(), b"first");
    db.put(1, b"second").unwrap();
    db.put(2, b"new").unwrap();
    assert_eq!(tx.read(1).unwrap(), b"first");
    assert!(!tx.contains(2).unwrap());
    // A read-only transaction commits without conflict.
    tx.commit().unwrap();
}

#[test]
fn a_cloned_snapshot_reads_the_same_version_and_keeps_it_alive() {
    let (_d, _s, db) = db();
    db.put(1, b"old").unwrap();
    db.put(2, b"two").unwrap();
    let snap = db.snapshot().unwrap();
    let twin = snap.clone();
    db.put(1, b"new").unwrap();
    db.delete(2).unwrap();
    drop(snap);
    db.put(3, b"tick").unwrap(); // lets garbage collection run
    assert_eq!(
        twin.read(1).unwrap(),
        b"old",
        "the clone keeps the old version"
    );
    let scanned: Vec<_> = twin
        .clone()
        .into_scan()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(scanned, vec![(1, b"old".to_vec()), (2, b"two".to_vec())]);
    assert_eq!(
        twin.len().unwrap(),
        2,
        "the snapshot is still usable after into_scan of a clone"
    );
    drop(twin);
    assert_eq!(db.stats().unwrap().active_readers, 0);
}

#[test]
fn for_each_lends_what_scan_copies_and_stops_when_asked() {
    use std::ops::ControlFlow;
    let (_d, store, db) = db();
    for id in (0..200u64).rev() {
        db.put(
            id,
            format!("doc {id} {}", "y".repeat(id as usize)).as_bytes(),
        )
        .unwrap();
    }
    let snap = db.snapshot().unwrap();
    // Changes after the snapshot are not seen by either walk.
    db.put(5, b"later").unwrap();
    db.delete(6).unwrap();
    db.put(1000, b"new").unwrap();

    let copied: Vec<(u64, Vec<u8>)> = snap.scan().unwrap().map(Result::unwrap).collect();
    let mut lent = Vec::new();
    snap.for_each(|id, bytes| {
        lent.push((id, bytes.to_vec()));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(lent, copied);
    assert_eq!(lent.len(), 200);
    assert!(lent.windows(2).all(|w| w[0].0 < w[1].0), "ascending ids");
    assert_eq!(lent[5].1, format!("doc 5 {}", "y".repeat(5)).into_bytes());

    let mut seen = 0;
    snap.for_each(|_, _| {
        seen += 1;
        if seen == 10 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(seen, 10);

    store.drop_db("m").unwrap();
    let err = snap.for_each(|_, _| ControlFlow::Continue(())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}
