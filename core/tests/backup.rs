//! Online backup: the copy opens as a normal store and equals the source at one version
//! (a prefix of each database's commit order, cut at one instant across databases), while
//! writers, compaction and checkpoints run; and the destinations it must refuse.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use docdb_core::{BatchOp, ErrorKind, Options, Store};

type Doc = (u64, Option<Vec<u8>>);
/// Acknowledged commits with their versions, one list per database.
type Logs = Arc<Vec<Mutex<Vec<(u64, Doc)>>>>;

fn contents(store: &Store, name: &str) -> BTreeMap<u64, Vec<u8>> {
    let db = store.open_db(name).unwrap();
    let snap = db.snapshot().unwrap();
    snap.scan().unwrap().map(Result::unwrap).collect()
}

/// The length of the prefix of `ops` (sorted by version) whose result is `state`, if any.
fn matching_prefix(ops: &[(u64, Doc)], state: &BTreeMap<u64, Vec<u8>>) -> Option<usize> {
    let mut at = BTreeMap::new();
    for k in 0..=ops.len() {
        if &at == state {
            return Some(k);
        }
        if let Some((_, (id, data))) = ops.get(k) {
            match data {
                Some(d) => at.insert(*id, d.clone()),
                None => at.remove(id),
            };
        }
    }
    None
}

fn small_segments() -> Options {
    Options {
        segment_size: 64 << 10,
        ..Options::default()
    }
}

#[test]
fn backup_under_concurrent_writes_equals_the_source_at_one_version() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(src.path(), small_segments()).unwrap();
    let names = ["a", "b"];
    for n in names {
        store.create_db(n).unwrap();
    }
    // A database that exists but is never opened by the writers, and one dropped.
    store
        .create_db("quiet")
        .unwrap()
        .put(7, b"still here")
        .unwrap();
    store.create_db("gone").unwrap().put(1, b"x").unwrap();
    store.drop_db("gone").unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    // Every acknowledged commit with its version, per database.
    let logs: Logs = Arc::new(names.iter().map(|_| Mutex::new(Vec::new())).collect());
    let mut threads = Vec::new();
    for t in 0..2u64 {
        for (k, name) in names.iter().enumerate() {
            let (db, stop, logs) = (store.open_db(name).unwrap(), stop.clone(), logs.clone());
            threads.push(std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = (i * 7 + t) % 40;
                    let doc: Doc = if i % 5 == 4 {
                        (id, None)
                    } else {
                        (
                            id,
                            Some(
                                format!("{t}-{i}-{}", "x".repeat((i % 300) as usize)).into_bytes(),
                            ),
                        )
                    };
                    let op = match &doc.1 {
                        Some(d) => BatchOp::Put(id, d),
                        None => BatchOp::Delete(id),
                    };
                    // A deletion of an absent document fails and is not logged.
                    if let Ok(v) = db.batch(&[op]) {
                        logs[k].lock().unwrap().push((v, doc));
                    }
                    i += 1;
                }
            }));
        }
    }
    // A writer that always writes `a` before `b`: a cut at one instant never holds its
    // write to `b` without the write to `a` before it.
    let (a, b, stop2) = (
        store.open_db("a").unwrap(),
        store.open_db("b").unwrap(),
        stop.clone(),
    );
    threads.push(std::thread::spawn(move || {
        let mut k = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            a.put(1000, &k.to_le_bytes()).unwrap();
            b.put(1000, &k.to_le_bytes()).unwrap();
            k += 1;
        }
    }));
    // Compaction and checkpoints run alongside (compaction unlinks segments being copied).
    let (maint_db, stop3) = (store.open_db("a").unwrap(), stop.clone());
    threads.push(std::thread::spawn(move || {
        while !stop3.load(Ordering::Relaxed) {
            maint_db.compact().unwrap();
            maint_db.checkpoint().unwrap();
        }
    }));

    let mut checked = 0;
    for round in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(150));
        let dest = out.path().join(format!("copy-{round}"));
        let mut calls = Vec::new();
        store
            .backup(&dest, |done, total| calls.push((done, total)))
            .unwrap();
        let (last_done, total) = *calls.last().unwrap();
        assert_eq!(last_done, total);
        assert!(total > 0);
        assert!(calls
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1));

        let copy = Store::open(&dest, Options::default()).unwrap();
        let mut listed: Vec<_> = copy
            .list_dbs()
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        listed.sort();
        assert_eq!(listed, ["a", "b", "quiet"]);
        assert_eq!(
            contents(&copy, "quiet"),
            BTreeMap::from([(7, b"still here".to_vec())])
        );
        let pair = |name: &str| {
            copy.open_db(name)
                .unwrap()
                .read(1000)
                .map(|v| u64::from_le_bytes(v.try_into().unwrap()))
                .ok()
        };
        match (pair("a"), pair("b")) {
            (Some(ka), Some(kb)) => assert!(kb <= ka, "b has write {kb} but a only {ka}"),
            (None, Some(kb)) => panic!("b has write {kb} but a has none"),
            _ => {}
        }
        checked += 1;
        // Compared with the logs once the writers stop (they must be complete up to the cut).
        copy.close().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(checked, 3);

    for round in 0..3 {
        let copy =
            Store::open(out.path().join(format!("copy-{round}")), Options::default()).unwrap();
        for (k, name) in names.iter().enumerate() {
            let mut ops = logs[k].lock().unwrap().clone();
            ops.sort_by_key(|(v, _)| *v);
            let mut state = contents(&copy, name);
            state.remove(&1000);
            let prefix = matching_prefix(&ops, &state);
            assert!(
                prefix.is_some(),
                "copy {round} of {name} is not the state after any prefix of its commits"
            );
        }
        copy.close().unwrap();
    }
    store.close().unwrap();
}

#[test]
fn backup_is_durable_complete_and_independent() {
    let src = tempfile::tempdir().unwrap();
    let store = Store::open(src.path(), small_segments()).unwrap();
    let db = store.create_db("docs").unwrap();
    let big = vec![0xabu8; 16 << 20];
    db.put(1, &big).unwrap();
    db.put(2, b"").unwrap();
    for i in 3..500u64 {
        db.put(i, &i.to_le_bytes()).unwrap();
    }
    db.compact().unwrap();
    db.delete(4).unwrap();
    let before = contents(&store, "docs");

    // Missing parents are created.
    let parent = tempfile::tempdir().unwrap();
    let dest = parent.path().join("nested/deeper/copy");
    store.backup(&dest, |_, _| {}).unwrap();

    let copy = Store::open(&dest, Options::default()).unwrap();
    assert_eq!(contents(&copy, "docs"), before);
    // The copy is a store of its own.
    copy.open_db("docs")
        .unwrap()
        .put(9999, b"only in the copy")
        .unwrap();
    assert!(!db.contains(9999).unwrap());
    copy.close().unwrap();
    assert_eq!(contents(&store, "docs"), before);
    store.close().unwrap();
}

#[test]
fn backup_refuses_unusable_destinations_and_writes_nothing() {
    let src = tempfile::tempdir().unwrap();
    let store = Store::open(src.path(), Options::default()).unwrap();
    store.create_db("x").unwrap().put(1, b"one").unwrap();

    let out = tempfile::tempdir().unwrap();
    let full = out.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), b"mine").unwrap();
    let err = store.backup(&full, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
    assert_eq!(std::fs::read(full.join("keep.txt")).unwrap(), b"mine");

    let file = out.path().join("file");
    std::fs::write(&file, b"data").unwrap();
    let err = store.backup(&file, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"data");

    for inside in [src.path().join("copy"), src.path().to_path_buf()] {
        let err = store.backup(&inside, |_, _| {}).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidArgument | ErrorKind::AlreadyExists
            ),
            "{err}"
        );
        assert!(!src.path().join("copy").exists());
    }

    // An empty existing directory is fine.
    let empty = out.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    store.backup(&empty, |_, _| {}).unwrap();
    let copy = Store::open(&empty, Options::default()).unwrap();
    assert_eq!(copy.open_db("x").unwrap().read(1).unwrap(), b"one");
    copy.close().unwrap();

    store.close().unwrap();
    let err = store
        .backup(out.path().join("late"), |_, _| {})
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(!out.path().join("late").exists());
}

#[test]
fn a_damaged_source_fails_the_backup_and_leaves_nothing() {
    let src = tempfile::tempdir().unwrap();
    {
        let store = Store::open(src.path(), small_segments()).unwrap();
        let db = store.create_db("x").unwrap();
        for i in 0..2000u64 {
            db.put(i, &[7u8; 100]).unwrap();
        }
        store.close().unwrap();
    }
    // Flip a byte in the middle of the first (sealed) segment; the checkpoint lets the
    // store open without reading it.
    let seg = first_segment(&src.path().join("db-1"));
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&seg, bytes).unwrap();

    let store = Store::open(src.path(), Options::default()).unwrap();
    store.open_db("x").unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("copy");
    let err = store.backup(&dest, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corruption, "{err}");
    assert!(!dest.exists());
    store.close().unwrap();
}

fn first_segment(dir: &Path) -> std::path::PathBuf {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segs.sort();
    segs.remove(0)
}
