//! Failure modes: corrupted records, truncated and partial writes, missing files, fsync
//! errors. Corruption is reported (never wrong bytes); a torn tail is cut off.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

mod common;

use common::probe_fs::ProbeFs;

use docdb_core::{BatchOp, ErrorKind, Options, Store};

fn open(dir: &Path) -> docdb_core::Result<Store> {
    Store::open(dir, Options::default())
}

/// The database's segment files, oldest first.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let db_dir = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("db-"))
        .unwrap();
    let mut segs: Vec<_> = fs::read_dir(db_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segs.sort();
    segs
}

fn flip(path: &Path, offset: u64) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x20;
    f.write_all_at(&b, offset).unwrap();
}

/// Writes 20 documents of 100 bytes (records of 128 bytes after a 32-byte segment header),
/// then drops the store without a checkpoint so the log is replayed on open.
fn populate(dir: &Path) {
    let store = open(dir).unwrap();
    let db = store.create_db("f").unwrap();
    for i in 0..20u64 {
        db.put(i, &[i as u8; 100]).unwrap();
    }
}

/// Opens the database (replaying the log) and closes the store, which checkpoints it.
fn checkpoint(dir: &Path) {
    let store = open(dir).unwrap();
    store.open_db("f").unwrap();
    store.close().unwrap();
}

const RECORD: u64 = 36 + 100;
const SEG_HEADER: u64 = 32;

#[test]
fn flipped_bit_mid_log_is_reported_at_open() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let seg = &segments(dir.path())[0];
    flip(seg, SEG_HEADER + 5 * RECORD + 40); // inside document 5's payload
    let err = open(dir.path()).unwrap().open_db("f").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corruption, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("offset {}", SEG_HEADER + 5 * RECORD)),
        "{msg}"
    );
}

#[test]
fn flipped_bit_in_checkpointed_data_is_reported_at_read() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    checkpoint(dir.path());
    let seg = &segments(dir.path())[0];
    flip(seg, SEG_HEADER + 7 * RECORD + 50);
    let store = open(dir.path()).unwrap();
    let db = store.open_db("f").unwrap();
    assert_eq!(db.read(7).unwrap_err().kind(), ErrorKind::Corruption);
    assert_eq!(db.read(6).unwrap(), vec![6u8; 100], "neighbours still read");
    let scanned: Vec<_> = db.snapshot().unwrap().scan().unwrap().collect();
    assert_eq!(scanned.iter().filter(|r| r.is_err()).count(), 1);
    // Compaction refuses to copy a corrupt record rather than dropping it.
    assert_eq!(db.compact().unwrap_err().kind(), ErrorKind::Corruption);
}

#[test]
fn torn_tail_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let seg = segments(dir.path())[0].clone();
    let len = fs::metadata(&seg).unwrap().len();
    assert_eq!(len, SEG_HEADER + 20 * RECORD);
    // Cut the last record in half: a write torn by a crash.
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 60)
        .unwrap();
    let store = open(dir.path()).unwrap();
    let db = store.open_db("f").unwrap();
    assert_eq!(db.len().unwrap(), 19);
    assert_eq!(db.read(19).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(db.read(18).unwrap(), vec![18u8; 100]);
    assert_eq!(db.stats().unwrap().recovered_truncated_bytes, RECORD - 60);
    db.put(19, b"rewritten").unwrap();
    drop(db);
    drop(store);
    let store = open(dir.path()).unwrap();
    assert_eq!(store.open_db("f").unwrap().read(19).unwrap(), b"rewritten");
}

#[test]
fn partial_write_garbage_and_zeros_at_the_tail_are_cut_off() {
    for tail in [
        vec![0u8; 4096],
        vec![0xAB; 17],
        b"\x10\x00\x00\x00garbage-not-a-record".to_vec(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path());
        let seg = segments(dir.path())[0].clone();
        let len = fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .write_all_at(&tail, len)
            .unwrap();
        let store = open(dir.path()).unwrap();
        let db = store.open_db("f").unwrap();
        assert_eq!(db.len().unwrap(), 20);
        assert_eq!(
            fs::metadata(&seg).unwrap().len(),
            len,
            "tail removed from the file"
        );
    }
}

#[test]
fn incomplete_transaction_is_never_visible() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).unwrap();
        let db = store.create_db("f").unwrap();
        db.put(1, b"before").unwrap();
        let mut tx = db.begin().unwrap();
        for i in 10..20u64 {
            tx.put(i, &[1; 100]).unwrap();
        }
        tx.put(1, b"in tx").unwrap();
        tx.commit().unwrap();
    }
    let seg = segments(dir.path())[0].clone();
    let len = fs::metadata(&seg).unwrap().len();
    // Cut one byte off the transaction's last record (the one with the end-of-transaction
    // flag): the other ten records are complete and valid, but the transaction is not.
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    let store = open(dir.path()).unwrap();
    let db = store.open_db("f").unwrap();
    assert_eq!(
        db.read(1).unwrap(),
        b"before",
        "the partial transaction is rolled back whole"
    );
    for i in 10..20u64 {
        assert!(!db.contains(i).unwrap());
    }
}

#[test]
fn missing_files() {
    // A segment the checkpoint needs is gone: reported, not silently empty.
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    checkpoint(dir.path());
    fs::remove_file(&segments(dir.path())[0]).unwrap();
    let err = open(dir.path()).unwrap().open_db("f").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corruption, "{err}");

    // The checkpoint is gone: the log alone rebuilds everything.
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    checkpoint(dir.path());
    let ckpt = segments(dir.path())[0].parent().unwrap().join("CHECKPOINT");
    fs::remove_file(ckpt).unwrap();
    assert_eq!(
        open(dir.path())
            .unwrap()
            .open_db("f")
            .unwrap()
            .len()
            .unwrap(),
        20
    );

    // The catalog is gone while data exists: refuse rather than start empty and delete.
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    fs::remove_file(dir.path().join("CATALOG")).unwrap();
    assert_eq!(open(dir.path()).unwrap_err().kind(), ErrorKind::Corruption);
    assert!(segments(dir.path())[0].exists(), "nothing was deleted");
}

#[test]
fn corrupt_catalog_and_checkpoint_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    checkpoint(dir.path());
    let ckpt = segments(dir.path())[0].parent().unwrap().join("CHECKPOINT");
    flip(&ckpt, 45);
    assert_eq!(
        open(dir.path()).unwrap().open_db("f").unwrap_err().kind(),
        ErrorKind::Corruption
    );
    flip(&dir.path().join("CATALOG"), 26);
    assert_eq!(open(dir.path()).unwrap_err().kind(), ErrorKind::Corruption);
}

#[test]
fn not_a_docdb_file() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let seg = segments(dir.path())[0].clone();
    fs::write(&seg, b"hello, I am a text file and not a segment").unwrap();
    assert_eq!(
        open(dir.path()).unwrap().open_db("f").unwrap_err().kind(),
        ErrorKind::Corruption
    );
}

/// A commit this large is written by several threads in pieces (`log/writer.rs`).
fn large_batch(first_id: u64) -> Vec<(u64, Vec<u8>)> {
    (0..24u64)
        .map(|i| (first_id + i, vec![i as u8 ^ 0x5a; 1 << 20]))
        .collect()
}

#[test]
fn a_failed_write_in_a_large_commit_is_cut_off_and_nothing_of_it_is_visible() {
    let dir = tempfile::tempdir().unwrap();
    let fs = ProbeFs::default();
    let store = Store::open_with(fs.clone(), dir.path(), Options::default()).unwrap();
    let db = store.create_db("p").unwrap();
    db.put(1, b"before").unwrap();
    let docs = large_batch(100);
    let ops: Vec<BatchOp<'_>> = docs.iter().map(|(id, d)| BatchOp::Put(*id, d)).collect();
    // The first pieces are written, a later one fails (the disk is full from 10 MiB on).
    fs.fail_writes_from.store(10 << 20, Ordering::SeqCst);
    let err = db.batch(&ops).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    fs.fail_writes_from.store(0, Ordering::SeqCst);
    // The partial commit was cut off again: the database goes on, none of it visible.
    assert!(!db.stats().unwrap().poisoned);
    assert!(docs.iter().all(|(id, _)| !db.contains(*id).unwrap()));
    assert_eq!(db.read(1).unwrap(), b"before");
    db.put(2, b"after").unwrap();
    drop(db);
    store.close().unwrap();

    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("p").unwrap();
    assert_eq!(db.read(1).unwrap(), b"before");
    assert_eq!(db.read(2).unwrap(), b"after");
    assert_eq!(db.len().unwrap(), 2);
    // And the same batch commits in full once the disk has room.
    db.batch(&ops).unwrap();
    for (id, data) in &docs {
        assert_eq!(&db.read(*id).unwrap(), data);
    }
    drop(db);
    store.close().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("p").unwrap();
    assert_eq!(db.len().unwrap(), 2 + docs.len() as u64);
    for (id, data) in &docs {
        assert_eq!(&db.read(*id).unwrap(), data);
    }
}

#[test]
fn fsync_failure_poisons_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let fs = ProbeFs::default();
    let store = Store::open_with(fs.clone(), dir.path(), Options::default()).unwrap();
    let db = store.create_db("p").unwrap();
    db.put(1, b"durable").unwrap();
    fs.fail_sync.store(true, Ordering::SeqCst);
    let err = db.put(2, b"not acknowledged").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    fs.fail_sync.store(false, Ordering::SeqCst);
    // Even though fsync works again, the handle does not pretend the data is safe.
    assert_eq!(db.put(3, b"x").unwrap_err().kind(), ErrorKind::Poisoned);
    assert_eq!(db.begin().unwrap_err().kind(), ErrorKind::Poisoned);
    assert!(db.stats().unwrap().poisoned);
    assert!(
        !db.contains(2).unwrap(),
        "the failed commit never became visible"
    );
    drop(db);
    let _ = store.close();
    drop(store);
    // Reopening recovers from what is on disk.
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("p").unwrap();
    assert_eq!(db.read(1).unwrap(), b"durable");
    db.put(4, b"works again").unwrap();
}

/// In `Sync::Normal` the tail written since the last fsync may reach the disk in any
/// order after a power loss: damage there, even with valid records after it, is a torn
/// write (documented), while damage before the last fsync is corruption.
#[test]
fn damage_after_the_last_fsync_is_a_torn_write_before_it_corruption() {
    let opts = Options {
        sync: docdb_core::Sync::Normal,
        ..Options::default()
    };
    let write = |dir: &Path| {
        let store = Store::open(dir, opts.clone()).unwrap();
        let db = store.create_db("f").unwrap();
        for i in 0..10u64 {
            db.put(i, &[i as u8; 100]).unwrap();
        }
        db.sync().unwrap();
        for i in 10..20u64 {
            db.put(i, &[i as u8; 100]).unwrap();
        }
        std::mem::forget(db); // no close, no drop-time sync: as if the power went out
        std::mem::forget(store);
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    flip(&segments(dir.path())[0], SEG_HEADER + 15 * RECORD + 50);
    // The forgotten store still holds the lock in this process: copy the files.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let store = Store::open(copy.path(), opts.clone()).unwrap();
    let db = store.open_db("f").unwrap();
    assert_eq!(
        db.len().unwrap(),
        15,
        "documents 15.. were never fsynced: cut off as torn"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    flip(&segments(dir.path())[0], SEG_HEADER + 5 * RECORD + 50);
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let err = Store::open(copy.path(), opts)
        .unwrap()
        .open_db("f")
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Corruption,
        "document 5 was fsynced: {err}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else if e.file_name() != "LOCK" {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A full disk: compaction and checkpoints fail with the disk's error and leave the
/// database as it was, usable (they replace nothing before they have written everything);
/// closing says that every commit is durable although the checkpoint could not be written.
#[test]
fn a_full_disk_fails_compaction_and_checkpoints_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let fs = ProbeFs::default();
    let opts = Options {
        segment_size: 64 << 10,
        auto_compact: false,
        ..Options::default()
    };
    let store = Store::open_with(fs.clone(), dir.path(), opts.clone()).unwrap();
    let db = store.create_db("full").unwrap();
    for round in 0..4u8 {
        for id in 0..200u64 {
            db.put(id, &[round; 700]).unwrap();
        }
    }
    fs.disk_full.store(true, Ordering::SeqCst);
    for attempt in ["compact", "checkpoint"] {
        let err = match attempt {
            "compact" => db.compact().map(drop).unwrap_err(),
            _ => db.checkpoint().unwrap_err(),
        };
        assert_eq!(err.kind(), ErrorKind::Io, "{attempt}: {err}");
        assert!(err.to_string().contains("os error 28"), "{attempt}: {err}");
        assert!(
            !db.stats().unwrap().poisoned,
            "{attempt} poisoned the handle"
        );
        assert_eq!(db.read(7).unwrap(), [3u8; 700]);
    }
    assert!(
        db.put(1, b"no room").is_err(),
        "a write on a full disk fails"
    );
    assert!(
        !db.stats().unwrap().poisoned,
        "a clean write failure poisons nothing"
    );
    let err = store.close().unwrap_err();
    assert!(
        err.to_string().contains("every commit is durable"),
        "close on a full disk: {err}"
    );
    fs.disk_full.store(false, Ordering::SeqCst);

    let store = Store::open_with(fs.clone(), dir.path(), opts).unwrap();
    let db = store.open_db("full").unwrap();
    assert_eq!(db.len().unwrap(), 200);
    assert_eq!(db.read(199).unwrap(), [3u8; 700]);
    // With room again, the same compaction goes through.
    assert!(db.compact().unwrap() > 0);
    assert_eq!(db.read(0).unwrap(), [3u8; 700]);
    store.close().unwrap();
}
