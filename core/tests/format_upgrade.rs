//! A store written by format 1 (records checksummed without their place, catalog without
//! salts) still opens: its catalog is upgraded in place, its segments are read as they
//! are, and new commits go to format-2 segments.

use std::fs;
use std::path::Path;

use docdb_core::{Options, Store};

fn u32le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}
fn u64le(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

/// A format-1 catalog with one active database, id 1.
fn v1_catalog(name: &str) -> Vec<u8> {
    let mut b = b"DOCDBCAT".to_vec();
    b.extend(u32le(1));
    b.extend(u32le(1));
    b.extend(u64le(2));
    b.extend(u64le(1));
    b.push(1);
    b.push(name.len() as u8);
    b.extend(name.as_bytes());
    let crc = crc32fast::hash(&b);
    b.extend(u32le(crc));
    b
}

/// A format-1 segment (sequence 1) holding one put per document, each its own commit.
fn v1_segment(docs: &[(u64, &[u8])]) -> Vec<u8> {
    let mut b = b"DOCDBLOG".to_vec();
    b.extend(u32le(1));
    b.extend(u32le(0));
    b.extend(u64le(1));
    b.extend(u32le(0));
    let crc = crc32fast::hash(&b);
    b.extend(u32le(crc));
    for (k, (id, data)) in docs.iter().enumerate() {
        let start = b.len();
        b.extend(u32le(0));
        b.extend(u32le(data.len() as u32));
        b.extend([1, 1, 0, 0]);
        b.extend(u64le(*id));
        b.extend(u64le(k as u64 + 1));
        b.extend(u64le(32));
        b.extend(*data);
        let crc = crc32fast::hash(&b[start + 4..]);
        b[start..start + 4].copy_from_slice(&u32le(crc));
    }
    b
}

fn version_of(path: &Path) -> u32 {
    let b = fs::read(path).unwrap();
    u32::from_le_bytes(b[8..12].try_into().unwrap())
}

#[test]
fn a_format_1_store_opens_and_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("CATALOG"), v1_catalog("old")).unwrap();
    fs::create_dir(dir.path().join("db-1")).unwrap();
    let mut seg = v1_segment(&[(1, b"one"), (2, b"two"), (3, b"three")]);
    // A torn last commit, as a crash of the old version would leave it.
    seg.truncate(seg.len() - 2);
    fs::write(dir.path().join("db-1/0000000000000001.log"), &seg).unwrap();

    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(version_of(&dir.path().join("CATALOG")), 2);
    let db = store.open_db("old").unwrap();
    assert_eq!(db.read(1).unwrap(), b"one");
    assert_eq!(db.read(2).unwrap(), b"two");
    assert!(!db.contains(3).unwrap(), "the torn commit is cut off");
    db.put(4, b"four").unwrap();
    store.close().unwrap();

    // Old data stays in its format-1 segment; new commits went to a format-2 one.
    assert_eq!(version_of(&dir.path().join("db-1/0000000000000001.log")), 1);
    assert_eq!(version_of(&dir.path().join("db-1/0000000000000002.log")), 2);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("old").unwrap();
    assert_eq!(db.read(1).unwrap(), b"one");
    assert_eq!(db.read(4).unwrap(), b"four");
    // Compaction rewrites everything in format 2.
    db.put(1, b"uno").unwrap();
    db.compact().unwrap();
    store.close().unwrap();
    assert!(!dir.path().join("db-1/0000000000000001.log").exists());
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("old").unwrap();
    let all: Vec<_> = db
        .snapshot()
        .unwrap()
        .scan()
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        all,
        vec![
            (1, b"uno".to_vec()),
            (2, b"two".to_vec()),
            (4, b"four".to_vec())
        ]
    );
    store.close().unwrap();
}

#[test]
fn a_newer_format_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = v1_catalog("x");
    cat[8..12].copy_from_slice(&u32le(3));
    let n = cat.len() - 4;
    let crc = crc32fast::hash(&cat[..n]);
    cat[n..].copy_from_slice(&u32le(crc));
    fs::write(dir.path().join("CATALOG"), cat).unwrap();
    let err = Store::open(dir.path(), Options::default()).unwrap_err();
    assert_eq!(
        err.kind(),
        docdb_core::ErrorKind::UnsupportedVersion,
        "{err}"
    );
}
