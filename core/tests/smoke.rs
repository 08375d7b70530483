use docdb_core::{Options, Store};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.create_db("users").unwrap();
    for i in 0..100u64 {
        db.create(i, format!("doc {i}").as_bytes()).unwrap();
    }
    db.update(5, b"five").unwrap();
    db.delete(6).unwrap();
    assert_eq!(db.read(5).unwrap(), b"five");
    assert!(db.read(6).is_err());
    let snap = db.snapshot().unwrap();
    db.put(7, b"seven").unwrap();
    assert_eq!(snap.read(7).unwrap(), b"doc 7");
    assert_eq!(snap.scan().unwrap().count(), 99);
    drop(snap);
    db.compact().unwrap();
    assert_eq!(db.read(7).unwrap(), b"seven");
    store.close().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("users").unwrap();
    assert_eq!(db.read(7).unwrap(), b"seven");
    assert_eq!(db.read(5).unwrap(), b"five");
    assert!(db.read(6).is_err());
    assert_eq!(db.len().unwrap(), 99);
    drop(db);
    drop(store);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("users").unwrap();
    db.put(1000, b"x").unwrap();
    drop(db);
    drop(store);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("users").unwrap();
    assert_eq!(db.read(1000).unwrap(), b"x");
    assert_eq!(db.len().unwrap(), 100);
}
