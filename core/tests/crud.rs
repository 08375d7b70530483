//! Documents and databases: CRUD, duplicate detection, batches, names, locking, limits.

use docdb_core::fs::OsFs;
use docdb_core::{BatchOp, Error, ErrorKind, Options, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    (dir, store)
}

#[test]
fn create_read_update_delete_put() {
    let (_d, store) = store();
    let db = store.create_db("docs").unwrap();
    db.create(1, b"one").unwrap();
    assert_eq!(db.read(1).unwrap(), b"one");
    assert_eq!(
        db.create(1, b"again").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        db.read(1).unwrap(),
        b"one",
        "a failed create changes nothing"
    );

    db.update(1, b"uno").unwrap();
    assert_eq!(db.read(1).unwrap(), b"uno");
    assert_eq!(db.update(2, b"x").unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!db.contains(2).unwrap(), "a failed update does not create");

    db.put(2, b"two").unwrap();
    db.put(2, b"dos").unwrap();
    assert_eq!(db.read(2).unwrap(), b"dos");

    db.delete(1).unwrap();
    assert_eq!(db.read(1).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(db.delete(1).unwrap_err().kind(), ErrorKind::NotFound);
    db.create(1, b"reborn").unwrap();
    assert_eq!(db.read(1).unwrap(), b"reborn");

    db.put(3, b"").unwrap();
    assert_eq!(db.read(3).unwrap(), b"", "empty documents are documents");
    db.put(u64::MAX, b"max").unwrap();
    db.put(0, b"zero").unwrap();
    assert_eq!(db.read(u64::MAX).unwrap(), b"max");
    assert_eq!(db.read(0).unwrap(), b"zero");
    assert_eq!(db.len().unwrap(), 5);
}

#[test]
fn many_documents_and_index_size() {
    let (_d, store) = store();
    let db = store.create_db("many").unwrap();
    for i in 0..500u64 {
        db.create(i * 7919, format!("document number {i}").as_bytes())
            .unwrap();
    }
    assert_eq!(db.len().unwrap(), 500);
    for i in 0..500u64 {
        assert_eq!(
            db.read(i * 7919).unwrap(),
            format!("document number {i}").as_bytes()
        );
    }
    for i in 0..100u64 {
        db.delete(i * 7919).unwrap();
    }
    assert_eq!(db.len().unwrap(), 400);
    assert_eq!(db.stats().unwrap().documents, 400);
    let ids = db.snapshot().unwrap().ids().unwrap();
    assert_eq!(ids.len(), 400);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids come back in ascending order"
    );
}

#[test]
fn batch_is_all_or_nothing_and_reports_the_failing_op() {
    let (_d, store) = store();
    let db = store.create_db("b").unwrap();
    db.create(1, b"a").unwrap();
    let err = db
        .batch(&[
            BatchOp::Put(10, b"x"),
            BatchOp::Delete(1),
            BatchOp::Update(99, b"nope"),
        ])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.batch_index(), Some(2));
    assert!(
        !db.contains(10).unwrap(),
        "nothing of a failed batch is applied"
    );
    assert_eq!(db.read(1).unwrap(), b"a");

    // Later operations see the effect of earlier ones in the same batch.
    db.batch(&[
        BatchOp::Create(20, b"v1"),
        BatchOp::Update(20, b"v2"),
        BatchOp::Delete(1),
        BatchOp::Create(1, b"again"),
    ])
    .unwrap();
    assert_eq!(db.read(20).unwrap(), b"v2");
    assert_eq!(db.read(1).unwrap(), b"again");
    let err = db
        .batch(&[BatchOp::Create(30, b"x"), BatchOp::Create(30, b"y")])
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.batch_index()),
        (ErrorKind::AlreadyExists, Some(1))
    );
    assert!(!db.contains(30).unwrap());
    db.batch(&[]).unwrap();
    let err = db.batch(&[BatchOp::Delete(12345)]).unwrap_err();
    assert_eq!(
        (err.kind(), err.batch_index()),
        (ErrorKind::NotFound, Some(0)),
        "even a batch of one"
    );
    assert_eq!(
        db.delete(12345).unwrap_err().batch_index(),
        None,
        "plain operations are not batches"
    );
}

#[test]
fn payload_limit() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        max_document_size: 1024,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("p").unwrap();
    db.put(1, &[7u8; 1024]).unwrap();
    let err = db.put(2, &[7u8; 1025]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PayloadTooLarge {
                size: 1025,
                max: 1024
            }
        ),
        "{err}"
    );
    let err = db
        .batch(&[BatchOp::Put(3, b"ok"), BatchOp::Put(4, &[0; 2000])])
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.batch_index()),
        (ErrorKind::PayloadTooLarge, Some(1))
    );
    let mut tx = db.begin().unwrap();
    assert_eq!(
        tx.put(5, &[0; 4096]).unwrap_err().kind(),
        ErrorKind::PayloadTooLarge
    );
    assert!(!db.contains(2).unwrap() && !db.contains(3).unwrap());
}

#[test]
fn default_limit_accepts_16_mib_documents() {
    let (_d, store) = store();
    let db = store.create_db("big").unwrap();
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    db.put(1, &big).unwrap();
    assert_eq!(db.read(1).unwrap(), big);
    let mut too_big = big;
    too_big.push(0);
    assert_eq!(
        db.put(2, &too_big).unwrap_err().kind(),
        ErrorKind::PayloadTooLarge
    );
}

#[test]
fn databases_catalog() {
    let (dir, store) = store();
    assert!(store.list_dbs().unwrap().is_empty());
    let a = store.create_db("alpha").unwrap();
    store.create_db("beta").unwrap();
    assert_eq!(
        store.create_db("alpha").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    for bad in ["", ".x", "a/b", "has space", "ü", &"n".repeat(65)] {
        assert_eq!(
            store.create_db(bad).unwrap_err().kind(),
            ErrorKind::InvalidName,
            "{bad:?}"
        );
        assert_eq!(
            store.open_db(bad).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
    }
    assert_eq!(
        store.open_db("gamma").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let names: Vec<_> = store
        .list_dbs()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["alpha", "beta"]);

    // Databases are isolated.
    a.put(1, b"in alpha").unwrap();
    let b = store.open_db("beta").unwrap();
    assert!(!b.contains(1).unwrap());

    // Lazy open returns the same database.
    store
        .open_db("alpha")
        .unwrap()
        .put(2, b"via second handle")
        .unwrap();
    assert_eq!(a.read(2).unwrap(), b"via second handle");

    store.drop_db("alpha").unwrap();
    assert_eq!(
        a.read(1).unwrap_err().kind(),
        ErrorKind::Closed,
        "handles of a dropped db fail"
    );
    assert_eq!(
        store.open_db("alpha").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.drop_db("alpha").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let again = store.create_db("alpha").unwrap();
    assert!(
        !again.contains(1).unwrap(),
        "a re-created database starts empty"
    );
    assert_ne!(again.id(), a.id(), "ids are never reused");
    let stats = store.stats().unwrap();
    assert_eq!((stats.databases_total, stats.databases_active), (3, 2));
    store.close().unwrap();
    let dirs = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("db-")
        })
        .count();
    assert_eq!(dirs, 2, "the dropped database's files are gone");
}

#[test]
fn a_second_lock_on_the_directory_is_refused() {
    // `open_with` never shares, so it meets the flock that another process would meet.
    let (dir, store) = store();
    let err = Store::open_with(OsFs, dir.path(), Options::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked);
    store.close().unwrap();
    let again = Store::open_with(OsFs, dir.path(), Options::default()).unwrap();
    drop(again);
    Store::open(dir.path(), Options::default()).unwrap();
}

#[test]
fn opening_an_open_directory_shares_the_store() {
    let (dir, first) = store();
    let a = first.create_db("a").unwrap();
    a.put(1, b"from first").unwrap();
    // Another spelling of the same directory finds the same store.
    let second = Store::open(dir.path().join("."), Options::default()).unwrap();
    let b = second.open_db("a").unwrap();
    assert_eq!(b.read(1).unwrap(), b"from first");
    b.put(2, b"from second").unwrap();
    assert_eq!(a.read(2).unwrap(), b"from second");

    // Closing one handle releases that handle only.
    first.close().unwrap();
    assert!(first.is_closed());
    assert_eq!(first.list_dbs().unwrap_err().kind(), ErrorKind::Closed);
    assert!(!second.is_closed());
    assert_eq!(
        a.read(2).unwrap(),
        b"from second",
        "the store is still open"
    );
    b.put(3, b"x").unwrap();

    // The last close closes the files: every database handle fails, the lock is released.
    second.close().unwrap();
    assert_eq!(a.read(1).unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(b.read(1).unwrap_err().kind(), ErrorKind::Closed);
    let third = Store::open_with(OsFs, dir.path(), Options::default()).unwrap();
    assert_eq!(third.open_db("a").unwrap().read(3).unwrap(), b"x");
}

#[test]
fn a_dropped_handle_gives_its_share_back() {
    let (dir, first) = store();
    let second = Store::open(dir.path(), Options::default()).unwrap();
    drop(second);
    first.close().unwrap();
    // The store is closed and its lock released: a non-sharing open succeeds.
    Store::open_with(OsFs, dir.path(), Options::default()).unwrap();
}

#[test]
fn threads_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let s = Store::open(&path, Options::default()).unwrap();
                let db = s.open_or_create_db("t").unwrap();
                db.put(t, b"w").unwrap();
                s.close().unwrap();
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let s = Store::open(&path, Options::default()).unwrap();
    assert_eq!(s.open_db("t").unwrap().len().unwrap(), 4);
}

#[test]
fn sharing_with_other_options_is_refused() {
    let (dir, _store) = store();
    let other = Options {
        cache_size: 0,
        ..Options::default()
    };
    let err = Store::open(dir.path(), other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn a_failed_open_changes_nothing_on_disk() {
    let err = Store::open("", Options::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!std::path::Path::new("LOCK").exists());

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b");
    let bad = Options {
        index_shards: 3,
        ..Options::default()
    };
    assert_eq!(
        Store::open(&target, bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // A file where a directory should be: creating the data directory fails.
    std::fs::write(dir.path().join("file"), b"").unwrap();
    assert_eq!(
        Store::open(dir.path().join("file/sub"), Options::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["file"]);
}

#[test]
fn closed_handles_fail_cleanly() {
    let (_d, store) = store();
    let db = store.create_db("c").unwrap();
    db.put(1, b"x").unwrap();
    let snap = db.snapshot().unwrap();
    let mut tx = db.begin().unwrap();
    tx.put(2, b"y").unwrap();
    store.close().unwrap();
    store.close().unwrap();
    assert!(store.is_closed());
    for err in [
        db.read(1).unwrap_err(),
        db.put(1, b"z").unwrap_err(),
        snap.read(1).unwrap_err(),
        tx.commit().unwrap_err(),
        store.open_db("c").unwrap_err(),
        store.create_db("d").unwrap_err(),
        store.list_dbs().unwrap_err(),
        db.begin().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    }
}

#[test]
fn invalid_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for opts in [
        Options {
            index_shards: 3,
            ..Options::default()
        },
        Options {
            max_document_size: 0,
            ..Options::default()
        },
        Options {
            segment_size: 10,
            ..Options::default()
        },
        Options {
            compaction_dead_ratio: 0.0,
            ..Options::default()
        },
        Options {
            memory_limit: 0,
            ..Options::default()
        },
    ] {
        assert_eq!(
            Store::open(dir.path(), opts).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}

#[test]
fn segments_rotate_at_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 64 * 1024,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("r").unwrap();
    for i in 0..200u64 {
        db.put(i, &[i as u8; 1000]).unwrap();
    }
    let stats = db.stats().unwrap();
    assert!(stats.segments >= 3, "{stats:?}");
    for i in 0..200u64 {
        assert_eq!(db.read(i).unwrap(), vec![i as u8; 1000]);
    }
}

/// Scans read runs of adjacent records with one read; every document still comes back
/// whole and verified, across segment boundaries, large documents and rewritten ids.
#[test]
fn scan_across_segments_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        segment_size: 256 * 1024,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("scan").unwrap();
    let doc = |i: u64| -> Vec<u8> {
        let len = match i % 50 {
            0 => 600_000,
            7 => 0,
            _ => (i as usize * 37) % 3000,
        };
        (0..len).map(|j| (i as usize + j) as u8).collect()
    };
    let batch: Vec<(u64, Vec<u8>)> = (0..400u64).map(|i| (i, doc(i))).collect();
    for chunk in batch.chunks(40) {
        let ops: Vec<BatchOp> = chunk.iter().map(|(i, d)| BatchOp::Put(*i, d)).collect();
        db.batch(&ops).unwrap();
    }
    for i in (0..400u64).step_by(9) {
        db.put(i, &doc(i + 1)).unwrap(); // moves it to the end of the log
    }
    let got: Vec<(u64, Vec<u8>)> = db
        .snapshot()
        .unwrap()
        .scan()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), 400);
    for (i, data) in got {
        let want = if i % 9 == 0 { doc(i + 1) } else { doc(i) };
        assert_eq!(data, want, "document {i}");
    }
    assert!(db.stats().unwrap().segments > 3);
}

#[test]
fn the_record_cache_never_mixes_databases_versions_or_compacted_copies() {
    let (_d, store) = store();
    let a = store.create_db("a").unwrap();
    let b = store.create_db("b").unwrap();
    // Same id, same length, and the same segment and offset in each database's own log.
    a.put(1, b"from a").unwrap();
    b.put(1, b"from b").unwrap();
    for _ in 0..2 {
        assert_eq!(a.read(1).unwrap(), b"from a");
        assert_eq!(b.read(1).unwrap(), b"from b");
    }
    // The first read of each went to disk, the second was a hit.
    let s = store.stats().unwrap();
    assert_eq!((s.cache_misses, s.cache_hits), (2, 2));

    let snap = a.snapshot().unwrap();
    a.put(1, b"newer!").unwrap();
    assert_eq!(a.read(1).unwrap(), b"newer!");
    assert_eq!(snap.read(1).unwrap(), b"from a");
    a.compact().unwrap();
    for _ in 0..2 {
        assert_eq!(a.read(1).unwrap(), b"newer!");
        assert_eq!(snap.read(1).unwrap(), b"from a");
    }
    a.delete(1).unwrap();
    assert_eq!(a.read(1).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(b.read(1).unwrap(), b"from b");
}

#[test]
fn read_cached_answers_only_from_the_cache() {
    let (_d, store) = store();
    let db = store.create_db("a").unwrap();
    db.put(1, b"one").unwrap();
    assert_eq!(
        db.read_cached(1, <[u8]>::to_vec).unwrap(),
        None,
        "not read yet"
    );
    assert_eq!(
        store.stats().unwrap().cache_misses,
        0,
        "a probe is not a miss"
    );
    assert_eq!(db.read(1).unwrap(), b"one");
    assert_eq!(store.stats().unwrap().cache_misses, 1);
    assert_eq!(
        db.read_cached(1, <[u8]>::to_vec).unwrap().as_deref(),
        Some(&b"one"[..])
    );
    db.put(1, b"two").unwrap();
    assert_eq!(
        db.read_cached(1, <[u8]>::len).unwrap(),
        None,
        "a new version is not the old entry"
    );
    let err = db.read_cached(2, <[u8]>::len).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn a_store_without_a_record_cache_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        cache_size: 0,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let db = store.create_db("a").unwrap();
    db.put(1, b"x").unwrap();
    assert_eq!(db.read(1).unwrap(), b"x");
    assert_eq!(db.read(1).unwrap(), b"x");
    let s = store.stats().unwrap();
    assert_eq!((s.cache_hits, s.cache_bytes), (0, 0));
}

#[test]
fn scans_after_random_updates_read_every_document_once_and_right() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so that a scan alternates between several of them.
    let opts = || Options {
        segment_size: 1 << 20,
        ..Options::default()
    };
    let doc = |id: u64, gen: u64| {
        let mut d = vec![(id * 7 + gen) as u8; 300 + (id % 500) as usize];
        d[..16].copy_from_slice(&[id.to_le_bytes(), gen.to_le_bytes()].concat());
        d
    };
    let mut model = BTreeMap::new();
    {
        let store = Store::open(dir.path(), opts()).unwrap();
        let db = store.create_db("s").unwrap();
        let loads: Vec<(u64, Vec<u8>)> = (0..3000).map(|id| (id, doc(id, 0))).collect();
        let ops: Vec<BatchOp<'_>> = loads.iter().map(|(id, d)| BatchOp::Put(*id, d)).collect();
        db.batch(&ops).unwrap();
        model.extend(loads);
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for gen in 1..=10u64 {
            let mut batch = Vec::new();
            for _ in 0..100 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let id = x % 3000;
                if x.is_multiple_of(11) {
                    batch.push((id, None));
                } else {
                    batch.push((id, Some(doc(id, gen))));
                }
            }
            let ops: Vec<BatchOp<'_>> = batch
                .iter()
                .map(|(id, d)| match d {
                    Some(d) => BatchOp::Put(*id, d),
                    None => BatchOp::Delete(*id),
                })
                .collect();
            // Deleting an absent id fails the whole batch: keep only valid deletes.
            let mut live = model.clone();
            let ops: Vec<BatchOp<'_>> = ops
                .into_iter()
                .filter(|op| match op {
                    BatchOp::Delete(id) => live.remove(id).is_some(),
                    BatchOp::Put(id, d) => {
                        live.insert(*id, d.to_vec());
                        true
                    }
                    _ => true,
                })
                .collect();
            db.batch(&ops).unwrap();
            model = live;
        }
        let scanned: BTreeMap<u64, Vec<u8>> = db
            .snapshot()
            .unwrap()
            .scan()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(scanned == model, "scan with a warm cache");
        store.close().unwrap();
    }
    // A new store: an empty cache, so the scan reads every record from the segments; then
    // again with a third of the documents cached by point reads.
    let store = Store::open(dir.path(), opts()).unwrap();
    let db = store.open_db("s").unwrap();
    for pass in 0..2 {
        let snap = db.snapshot().unwrap();
        let scanned: Vec<(u64, Vec<u8>)> = snap.scan().unwrap().map(Result::unwrap).collect();
        assert_eq!(scanned.len(), model.len(), "pass {pass}");
        assert!(
            scanned
                .iter()
                .zip(&model)
                .all(|(a, (id, d))| a.0 == *id && &a.1 == d),
            "pass {pass}: scan differs from the model"
        );
        for id in (0..3000).step_by(3) {
            let _ = db.read(id);
        }
    }
}
