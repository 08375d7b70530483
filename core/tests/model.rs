//! Model-based property test: random sequences of operations, batches, transactions,
//! snapshots, compactions, checkpoints, drops without close and reopens, checked step by
//! step against a `BTreeMap`.

use std::collections::BTreeMap;
use std::path::Path;

use docdb_core::{BatchOp, Database, ErrorKind, Options, Store, Sync};
use proptest::prelude::*;

type Model = BTreeMap<u64, Vec<u8>>;

#[derive(Clone, Debug)]
enum Op {
    Create(u64, Vec<u8>),
    Update(u64, Vec<u8>),
    Put(u64, Vec<u8>),
    Delete(u64),
}

#[derive(Clone, Debug)]
enum Step {
    Single(Op),
    Batch(Vec<Op>),
    Txn {
        ops: Vec<Op>,
        commit: bool,
    },
    /// A snapshot taken, then the ops applied, then the snapshot checked against the old
    /// model.
    SnapshotAcross(Vec<Op>),
    /// A transaction that reads, then loses a race on the same document.
    Race(u64, Vec<u8>, Vec<u8>),
    Compact,
    Checkpoint,
    Reopen {
        clean: bool,
    },
}

fn id() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..24, Just(u64::MAX)]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..16),
        prop::collection::vec(any::<u8>(), 200..1200)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (id(), value()).prop_map(|(i, v)| Op::Create(i, v)),
        (id(), value()).prop_map(|(i, v)| Op::Update(i, v)),
        (id(), value()).prop_map(|(i, v)| Op::Put(i, v)),
        id().prop_map(Op::Delete),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => op().prop_map(Step::Single),
        2 => prop::collection::vec(op(), 0..6).prop_map(Step::Batch),
        2 => (prop::collection::vec(op(), 0..6), any::<bool>()).prop_map(|(ops, commit)| Step::Txn { ops, commit }),
        1 => prop::collection::vec(op(), 1..4).prop_map(Step::SnapshotAcross),
        1 => (id(), value(), value()).prop_map(|(i, a, b)| Step::Race(i, a, b)),
        1 => Just(Step::Compact),
        1 => Just(Step::Checkpoint),
        1 => any::<bool>().prop_map(|clean| Step::Reopen { clean }),
    ]
}

/// Applies `op` to `model` as the engine should; returns the expected error kind.
fn apply(model: &mut Model, op: &Op) -> Result<(), ErrorKind> {
    match op {
        Op::Create(i, v) => {
            if model.contains_key(i) {
                return Err(ErrorKind::AlreadyExists);
            }
            model.insert(*i, v.clone());
        }
        Op::Update(i, v) => {
            if !model.contains_key(i) {
                return Err(ErrorKind::NotFound);
            }
            model.insert(*i, v.clone());
        }
        Op::Put(i, v) => {
            model.insert(*i, v.clone());
        }
        Op::Delete(i) => {
            if model.remove(i).is_none() {
                return Err(ErrorKind::NotFound);
            }
        }
    }
    Ok(())
}

fn as_batch(op: &Op) -> BatchOp<'_> {
    match op {
        Op::Create(i, v) => BatchOp::Create(*i, v),
        Op::Update(i, v) => BatchOp::Update(*i, v),
        Op::Put(i, v) => BatchOp::Put(*i, v),
        Op::Delete(i) => BatchOp::Delete(*i),
    }
}

fn run_single(db: &Database, op: &Op) -> Result<(), ErrorKind> {
    let r = match op {
        Op::Create(i, v) => db.create(*i, v),
        Op::Update(i, v) => db.update(*i, v),
        Op::Put(i, v) => db.put(*i, v),
        Op::Delete(i) => db.delete(*i),
    };
    r.map_err(|e| e.kind())
}

fn options() -> Options {
    Options {
        sync: Sync::Normal,
        segment_size: 8 * 1024,
        compaction_min_dead_bytes: 16 * 1024,
        compaction_dead_ratio: 0.5,
        checkpoint_bytes: 32 * 1024,
        index_shards: 4,
        ..Options::default()
    }
}

fn open(dir: &Path) -> (Store, Database) {
    let store = Store::open(dir, options()).unwrap();
    let db = store.open_or_create_db("model").unwrap();
    (store, db)
}

fn check(db: &Database, model: &Model) {
    let got: Model = db
        .snapshot()
        .unwrap()
        .scan()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(&got, model);
    assert_eq!(db.len().unwrap(), model.len() as u64);
    for i in [0, 5, 23, u64::MAX] {
        match model.get(&i) {
            Some(v) => assert_eq!(&db.read(i).unwrap(), v),
            None => assert_eq!(db.read(i).unwrap_err().kind(), ErrorKind::NotFound),
        }
    }
}

fn run(steps: Vec<Step>) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut db) = open(dir.path());
    let mut model = Model::new();
    for step in steps {
        match step {
            Step::Single(op) => {
                let expected = apply(&mut model, &op);
                assert_eq!(run_single(&db, &op), expected, "{op:?}");
            }
            Step::Batch(ops) => {
                let mut next = model.clone();
                let expected = ops
                    .iter()
                    .enumerate()
                    .find_map(|(i, op)| apply(&mut next, op).err().map(|k| (i, k)));
                let batch: Vec<_> = ops.iter().map(as_batch).collect();
                match (db.batch(&batch), expected) {
                    (Ok(_), None) => model = next,
                    (Err(e), Some((i, kind))) => {
                        assert_eq!(e.kind(), kind);
                        assert_eq!(e.batch_index(), Some(i), "a batch names its failing op");
                    }
                    (got, want) => panic!("batch {ops:?}: got {got:?}, want error {want:?}"),
                }
            }
            Step::Txn { ops, commit } => {
                let mut tx = db.begin().unwrap();
                let mut next = model.clone();
                for op in &ops {
                    let expected = apply(&mut next.clone(), op);
                    let got = match op {
                        Op::Create(i, v) => tx.create(*i, v),
                        Op::Update(i, v) => tx.update(*i, v),
                        Op::Put(i, v) => tx.put(*i, v),
                        Op::Delete(i) => tx.delete(*i),
                    };
                    assert_eq!(got.map_err(|e| e.kind()), expected, "in tx: {op:?}");
                    let _ = apply(&mut next, op);
                }
                for (i, v) in &next {
                    assert_eq!(&tx.read(*i).unwrap(), v, "tx reads its own writes");
                }
                if commit {
                    tx.commit().unwrap();
                    model = next;
                } else {
                    tx.rollback();
                }
            }
            Step::SnapshotAcross(ops) => {
                let snap = db.snapshot().unwrap();
                let before = model.clone();
                for op in &ops {
                    let expected = apply(&mut model, op);
                    assert_eq!(run_single(&db, op), expected);
                }
                let seen: Model = snap.scan().unwrap().map(Result::unwrap).collect();
                assert_eq!(seen, before, "a snapshot is unaffected by later commits");
            }
            Step::Race(i, a, b) => {
                let mut tx = db.begin().unwrap();
                tx.put(i, &a).unwrap();
                db.put(i, &b).unwrap();
                model.insert(i, b);
                assert_eq!(tx.commit().unwrap_err().kind(), ErrorKind::Conflict);
            }
            Step::Compact => {
                db.compact().unwrap();
            }
            Step::Checkpoint => db.checkpoint().unwrap(),
            Step::Reopen { clean } => {
                if clean {
                    store.close().unwrap();
                }
                drop(db);
                drop(store);
                (store, db) = open(dir.path());
            }
        }
        check(&db, &model);
    }
    drop(db);
    drop(store);
    let (_store, db) = open(dir.path());
    check(&db, &model);
}

proptest! {
    // 48 cases in the normal run; PROPTEST_CASES raises it for long runs.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]
    #[test]
    fn engine_matches_model(steps in prop::collection::vec(step(), 1..60)) {
        run(steps);
    }
}
