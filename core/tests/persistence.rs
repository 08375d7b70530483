//! Everything committed survives close and reopen, and drops without close (crash-like:
//! no checkpoint, the log is replayed).

use std::path::Path;

use docdb_core::{BatchOp, ErrorKind, Options, Store};

fn open(dir: &Path) -> Store {
    Store::open(dir, Options::default()).unwrap()
}

#[test]
fn creates_updates_deletes_survive_close_and_drop() {
    let dir = tempfile::tempdir().unwrap();
    for clean_close in [true, false] {
        let store = open(dir.path());
        let db = store.open_or_create_db("p").unwrap();
        for i in 0..150u64 {
            db.put(i, format!("v1-{i}").as_bytes()).unwrap();
        }
        for i in (0..150u64).step_by(3) {
            db.update(i, format!("v2-{i}").as_bytes()).unwrap();
        }
        for i in (1..150u64).step_by(5) {
            db.delete(i).unwrap();
        }
        db.batch(&[BatchOp::Put(1000, b"batched"), BatchOp::Delete(0)])
            .unwrap();
        let mut tx = db.begin().unwrap();
        tx.put(2000, b"in tx").unwrap();
        tx.commit().unwrap();
        let expected: Vec<(u64, Vec<u8>)> = db
            .snapshot()
            .unwrap()
            .scan()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if clean_close {
            store.close().unwrap();
        } else {
            drop(db);
            drop(store);
        }
        let store = open(dir.path());
        let db = store.open_db("p").unwrap();
        let got: Vec<(u64, Vec<u8>)> = db
            .snapshot()
            .unwrap()
            .scan()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, expected, "clean_close={clean_close}");
        assert_eq!(db.len().unwrap(), expected.len() as u64);
        // Versions keep increasing across restarts: new writes win over old ones.
        db.put(5, b"after reopen").unwrap();
        drop(db);
        drop(store);
        let store = open(dir.path());
        assert_eq!(
            store.open_db("p").unwrap().read(5).unwrap(),
            b"after reopen"
        );
        store.open_db("p").unwrap().put(5, b"v1-5").unwrap();
        store.drop_db("p").unwrap();
        store.close().unwrap();
    }
}

#[test]
fn checkpoint_bounds_replay() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let db = store.create_db("c").unwrap();
    for i in 0..300u64 {
        db.put(i, &[i as u8; 100]).unwrap();
    }
    drop(db);
    drop(store); // no checkpoint: the whole log is replayed
    let store = open(dir.path());
    let db = store.open_db("c").unwrap();
    let replayed = db.stats().unwrap().recovered_replayed_bytes;
    assert!(replayed > 300 * 100, "{replayed}");
    db.checkpoint().unwrap();
    db.put(1000, b"tail").unwrap();
    drop(db);
    drop(store);
    let store = open(dir.path());
    let db = store.open_db("c").unwrap();
    let stats = db.stats().unwrap();
    assert!(
        stats.recovered_replayed_bytes < 100,
        "only the tail is replayed: {stats:?}"
    );
    assert_eq!(db.read(1000).unwrap(), b"tail");
    assert_eq!(db.read(299).unwrap(), vec![299u64 as u8; 100]);
    assert_eq!(db.len().unwrap(), 301);
    store.close().unwrap();
    // close() checkpoints: nothing to replay.
    let store = open(dir.path());
    assert_eq!(
        store
            .open_db("c")
            .unwrap()
            .stats()
            .unwrap()
            .recovered_replayed_bytes,
        0
    );
}

#[test]
fn compaction_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let db = store.create_db("k").unwrap();
    for round in 0..5u8 {
        for i in 0..100u64 {
            db.put(i, &[round; 500]).unwrap();
        }
    }
    for i in 50..100u64 {
        db.delete(i).unwrap();
    }
    db.compact().unwrap();
    db.put(7, b"after compaction").unwrap();
    drop(db);
    drop(store);
    let store = open(dir.path());
    let db = store.open_db("k").unwrap();
    assert_eq!(db.len().unwrap(), 50);
    assert_eq!(db.read(7).unwrap(), b"after compaction");
    assert_eq!(db.read(8).unwrap(), vec![4u8; 500]);
    for i in 50..100u64 {
        assert_eq!(
            db.read(i).unwrap_err().kind(),
            ErrorKind::NotFound,
            "deleted {i} stays deleted"
        );
    }
}

#[test]
fn drop_db_survives_restart_and_names_can_be_reused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.create_db("gone").unwrap().put(1, b"x").unwrap();
    store.create_db("kept").unwrap().put(1, b"y").unwrap();
    store.drop_db("gone").unwrap();
    drop(store);
    let store = open(dir.path());
    assert_eq!(
        store.open_db("gone").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(store.open_db("kept").unwrap().read(1).unwrap(), b"y");
    let again = store.create_db("gone").unwrap();
    assert!(again.is_empty().unwrap());
    let names: Vec<_> = store
        .list_dbs()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["kept", "gone"]);
}

#[test]
fn normal_sync_mode_persists_across_process_style_restart() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: docdb_core::Sync::Normal,
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts.clone()).unwrap();
    let db = store.create_db("n").unwrap();
    for i in 0..100u64 {
        db.put(i, b"normal").unwrap();
    }
    drop(db);
    drop(store);
    let store = Store::open(dir.path(), opts).unwrap();
    assert_eq!(store.open_db("n").unwrap().len().unwrap(), 100);
}
