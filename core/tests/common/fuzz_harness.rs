//! The fuzz targets' bodies, shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz, libFuzzer) and
//! by `core/tests/fuzz_corpus.rs`, which replays the checked-in corpus as a plain test.
//!
//! The on-disk decoders are crate-private, so every target drives them through the public
//! API: arbitrary bytes become a `CATALOG`, a `CHECKPOINT`, a log segment or a whole
//! directory tree on the in-memory file system, and the store is opened and used. Any
//! documented error is fine; a panic, a hang, or a write that a clean reopen loses is a bug.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use docdb_core::{Options, Store, Sync};

use super::faultfs::{FaultFs, Survive};

pub const FUZZ_DIR: &str = "/fuzz/store";

/// Which file the bytes replace.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Catalog,
    Checkpoint,
    Segment,
    Directory,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::Catalog,
        Target::Checkpoint,
        Target::Segment,
        Target::Directory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Catalog => "open_catalog",
            Target::Checkpoint => "open_checkpoint",
            Target::Segment => "open_segment",
            Target::Directory => "open_directory",
        }
    }
}

fn opts() -> Options {
    Options {
        sync: Sync::Full,
        segment_size: 4096,
        auto_compact: false,
        checkpoint_bytes: 1 << 40,
        index_shards: 2,
        ..Options::default()
    }
}

fn root() -> &'static Path {
    Path::new(FUZZ_DIR)
}

/// A small valid store: database "a" (id 1) with two segments, a checkpoint covering part
/// of them, and an uncovered tail; database "b" (id 2) dropped.
pub fn base() -> FaultFs {
    static BASE: std::sync::OnceLock<FaultFs> = std::sync::OnceLock::new();
    BASE.get_or_init(build_base).image(Survive::Everything)
}

fn build_base() -> FaultFs {
    let fs = FaultFs::new(root());
    let store = Store::open_with(fs.clone(), FUZZ_DIR, opts()).expect("open");
    let a = store.create_db("a").expect("create");
    let b = store.create_db("b").expect("create");
    b.put(1, b"gone").expect("put");
    store.drop_db("b").expect("drop");
    for i in 0..12u64 {
        a.put(
            i,
            format!("document {i} {}", "x".repeat(i as usize * 25)).as_bytes(),
        )
        .expect("put");
    }
    a.delete(3).expect("delete");
    a.checkpoint().expect("checkpoint");
    let mut tx = a.begin().expect("begin");
    tx.put(20, b"in a transaction").expect("put");
    tx.delete(4).expect("delete");
    tx.commit().expect("commit");
    a.put(21, b"tail").expect("put");
    drop(a);
    drop(b);
    drop(store);
    fs.image(Survive::Everything)
}

pub fn catalog_path() -> PathBuf {
    root().join("CATALOG")
}

pub fn checkpoint_path() -> PathBuf {
    root().join("db-1").join("CHECKPOINT")
}

pub fn segment_path() -> PathBuf {
    root().join("db-1").join("0000000000000001.log")
}

/// File names the directory target can create, selected by one byte.
const NAMES: [&str; 12] = [
    "CATALOG",
    "CATALOG.tmp",
    "LOCK",
    "db-1/CHECKPOINT",
    "db-1/CHECKPOINT.tmp",
    "db-1/0000000000000001.log",
    "db-1/0000000000000002.log",
    "db-1/0000000000000003.log.tmp",
    "db-1/00000000000000ff.log",
    "db-2/0000000000000001.log",
    "db-3/CHECKPOINT",
    "db-1/junk",
];

/// Runs one input against a target. Panics only on a real bug.
pub fn run(target: Target, data: &[u8]) {
    let fs = match target {
        Target::Catalog => {
            let fs = base();
            fs.put_file(&catalog_path(), data);
            fs
        }
        Target::Checkpoint => {
            let fs = base();
            fs.put_file(&checkpoint_path(), data);
            fs
        }
        Target::Segment => {
            let fs = base();
            fs.put_file(&segment_path(), data);
            fs
        }
        Target::Directory => {
            // Records of: name selector (u8), length (u16 LE), bytes. Starts empty.
            let fs = FaultFs::new(root());
            let mut rest = data;
            while rest.len() >= 3 {
                let name = NAMES[usize::from(rest[0]) % NAMES.len()];
                let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
                let path = root().join(name);
                if let Some(parent) = path.parent() {
                    fs.mkdir(parent);
                }
                fs.put_file(&path, &rest[3..3 + len]);
                rest = &rest[3 + len..];
            }
            fs
        }
    };
    exercise(fs);
}

/// Opens the store and uses every database it lists; if a write is acknowledged and the
/// store closes cleanly, a reopen must return it.
fn exercise(fs: FaultFs) {
    let Ok(store) = Store::open_with(fs.clone(), FUZZ_DIR, opts()) else {
        return;
    };
    let names: Vec<String> = match store.list_dbs() {
        Ok(l) => l.into_iter().map(|d| d.name).collect(),
        Err(_) => return,
    };
    let mut written = Vec::new();
    for name in &names {
        let Ok(db) = store.open_db(name) else {
            continue;
        };
        for id in 0..24 {
            let _ = db.read(id);
        }
        if let Ok(snap) = db.snapshot() {
            if let Ok(scan) = snap.scan() {
                for item in scan.take(64) {
                    let _ = item;
                }
            }
        }
        let _ = db.len();
        if db.put(1 << 40, b"written after a fuzzed open").is_ok() {
            written.push(name.clone());
        }
        let _ = db.compact();
        let _ = db.checkpoint();
    }
    if store.close().is_err() {
        return;
    }
    drop(store);
    let store = Store::open_with(fs, FUZZ_DIR, opts())
        .unwrap_or_else(|e| panic!("a store that opened and closed cleanly fails to reopen: {e}"));
    for name in written {
        let db = store
            .open_db(&name)
            .unwrap_or_else(|e| panic!("database {name} lost across a clean reopen: {e}"));
        match db.read(1 << 40) {
            Ok(v) if v == b"written after a fuzzed open" => {}
            other => panic!("acknowledged write lost across a clean reopen: {other:?}"),
        }
    }
}

/// The seed corpus: the real files of [`base`], and for the directory target an encoding
/// of its whole tree.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    let fs = base();
    let file = |p: PathBuf| fs.file_bytes(&p).expect("seed file");
    match target {
        Target::Catalog => vec![file(catalog_path())],
        Target::Checkpoint => vec![file(checkpoint_path())],
        Target::Segment => {
            let seg = file(segment_path());
            vec![seg.clone(), seg[..seg.len() - 5].to_vec()]
        }
        Target::Directory => {
            let mut out = Vec::new();
            for (sel, name) in NAMES.iter().enumerate() {
                if let Some(bytes) = fs.file_bytes(&root().join(name)) {
                    out.push(sel as u8);
                    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
                    out.extend_from_slice(&bytes);
                }
            }
            vec![out]
        }
    }
}
