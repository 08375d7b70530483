//! Ordered ranges by id: bounds, direction, limits, keyset pagination, counts, and the
//! views they read (snapshot, transaction), checked against a `BTreeMap` model.

use std::collections::BTreeMap;
use std::ops::Bound;

use docdb_core::{Database, ErrorKind, IdRange, Options, Store};
use proptest::prelude::*;

fn store() -> (tempfile::TempDir, Store, Database) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.create_db("r").unwrap();
    (dir, store, db)
}

fn ids(it: impl Iterator<Item = docdb_core::Result<(u64, Vec<u8>)>>) -> Vec<u64> {
    it.map(|r| r.unwrap().0).collect()
}

/// What `range` must return from `model`.
fn expected(model: &BTreeMap<u64, Vec<u8>>, range: &IdRange) -> Vec<(u64, Vec<u8>)> {
    let within = |id: &u64| range.contains(*id);
    let mut out: Vec<_> = model
        .iter()
        .filter(|(id, _)| within(id))
        .map(|(&id, d)| (id, d.clone()))
        .collect();
    if range.reverse {
        out.reverse();
    }
    out.truncate(range.limit.map_or(usize::MAX, |l| l as usize));
    out
}

#[test]
fn bounds_direction_and_limit() {
    let (_d, _s, db) = store();
    for id in (0..100).step_by(10) {
        db.create(id, format!("doc{id}").as_bytes()).unwrap();
    }
    db.create(u64::MAX, b"max").unwrap();
    let snap = db.snapshot().unwrap();
    assert_eq!(
        ids(snap.range(&IdRange::new(20..50)).unwrap()),
        [20, 30, 40]
    );
    assert_eq!(
        ids(snap.range(&IdRange::new(20..=50)).unwrap()),
        [20, 30, 40, 50]
    );
    assert_eq!(ids(snap.range(&IdRange::new(..15)).unwrap()), [0, 10]);
    assert_eq!(
        ids(snap.range(&IdRange::new(85..)).unwrap()),
        [90, u64::MAX]
    );
    assert_eq!(
        ids(snap.range(&IdRange::new(20..50).reverse()).unwrap()),
        [40, 30, 20]
    );
    assert_eq!(
        ids(snap.range(&IdRange::all().reverse().limit(2)).unwrap()),
        [u64::MAX, 90]
    );
    let excl = IdRange {
        start: Bound::Excluded(20),
        end: Bound::Excluded(50),
        ..IdRange::all()
    };
    assert_eq!(ids(snap.range(&excl).unwrap()), [30, 40]);
    // Empty and inverted bounds are empty ranges, not errors.
    assert!(ids(snap
        .range(&IdRange::new((Bound::Included(50), Bound::Excluded(20))))
        .unwrap())
    .is_empty());
    assert!(ids(snap.range(&IdRange::new(21..29)).unwrap()).is_empty());
    assert!(ids(snap.range(&IdRange::all().limit(0)).unwrap()).is_empty());
    // The bytes are the documents'.
    let docs: Vec<_> = snap
        .range(&IdRange::new(30..31))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs, [(30, b"doc30".to_vec())]);
    assert_eq!(snap.count(&IdRange::new(20..=50)).unwrap(), 4);
    assert_eq!(snap.count(&IdRange::new(20..=50).limit(2)).unwrap(), 2);
    assert_eq!(snap.count(&IdRange::all()).unwrap(), 11);
}

#[test]
fn keyset_pages_visit_every_document_once() {
    let (_d, _s, db) = store();
    for id in 0..1000u64 {
        db.put(id * 7 % 1009, b"x").unwrap();
    }
    for reverse in [false, true] {
        let mut page = IdRange::new(100..900).limit(64);
        page.reverse = reverse;
        let mut seen = Vec::new();
        loop {
            let got = ids(db.range(&page).unwrap());
            assert!(got.len() <= 64);
            let Some(&last) = got.last() else { break };
            seen.extend(got);
            page = page.after(last);
        }
        let mut want: Vec<u64> = (0..1000u64)
            .map(|i| i * 7 % 1009)
            .filter(|id| (100..900).contains(id))
            .collect();
        want.sort_unstable();
        if reverse {
            want.reverse();
        }
        assert_eq!(seen, want);
    }
}

#[test]
fn a_snapshot_range_ignores_later_commits() {
    let (_d, _s, db) = store();
    for id in 1..=5 {
        db.create(id, b"old").unwrap();
    }
    let snap = db.snapshot().unwrap();
    db.delete(2).unwrap();
    db.update(3, b"new").unwrap();
    db.create(4_000, b"later").unwrap();
    let docs: Vec<_> = snap
        .range(&IdRange::all())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs.len(), 5);
    assert!(docs.iter().all(|(_, d)| d == b"old"));
    assert_eq!(ids(db.range(&IdRange::all()).unwrap()), [1, 3, 4, 5, 4_000]);
}

#[test]
fn a_transaction_range_includes_its_own_writes() {
    let (_d, _s, db) = store();
    for id in [10, 20, 30, 40] {
        db.create(id, b"committed").unwrap();
    }
    let mut tx = db.begin().unwrap();
    tx.delete(20).unwrap();
    tx.put(30, b"mine").unwrap();
    tx.create(25, b"mine").unwrap();
    tx.create(99, b"outside").unwrap();
    // Committed by another writer after `begin`: invisible to the transaction.
    db.create(35, b"other").unwrap();
    let got: Vec<_> = tx
        .range(&IdRange::new(..50))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got,
        [
            (10, b"committed".to_vec()),
            (25, b"mine".to_vec()),
            (30, b"mine".to_vec()),
            (40, b"committed".to_vec()),
        ]
    );
    let down = ids(tx.range(&IdRange::all().reverse().limit(3)).unwrap());
    assert_eq!(down, [99, 40, 30]);
    // Counts see the same view: 20 deleted, 25 and 99 created, 35 invisible.
    assert_eq!(tx.count(&IdRange::new(..50)).unwrap(), 4);
    assert_eq!(tx.count(&IdRange::all()).unwrap(), 5);
    assert_eq!(tx.count(&IdRange::all().limit(2)).unwrap(), 2);
    assert_eq!(tx.count(&IdRange::new(20..=20)).unwrap(), 0);
    tx.rollback();
}

#[test]
fn a_closed_database_refuses_ranges() {
    let (_d, store, db) = store();
    db.create(1, b"x").unwrap();
    let snap = db.snapshot().unwrap();
    store.close().unwrap();
    assert_eq!(
        snap.range(&IdRange::all()).err().unwrap().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        snap.count(&IdRange::all()).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        db.range(&IdRange::all()).err().unwrap().kind(),
        ErrorKind::Closed
    );
}

fn arb_bound() -> impl Strategy<Value = Bound<u64>> {
    prop_oneof![
        Just(Bound::Unbounded),
        (0u64..64).prop_map(Bound::Included),
        (0u64..64).prop_map(Bound::Excluded),
    ]
}

fn arb_range() -> impl Strategy<Value = IdRange> {
    (
        arb_bound(),
        arb_bound(),
        any::<bool>(),
        proptest::option::of(0u64..20),
    )
        .prop_map(|(start, end, reverse, limit)| IdRange {
            start,
            end,
            reverse,
            limit,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any mix of writes, deletes and snapshots: every range of every snapshot and of the
    /// current state equals the model's.
    #[test]
    fn ranges_match_the_model(
        ops in proptest::collection::vec((0u64..64, any::<bool>(), any::<u8>()), 1..300),
        ranges in proptest::collection::vec(arb_range(), 1..30),
    ) {
        let (_d, _s, db) = store();
        let mut model = BTreeMap::new();
        let mut snaps = Vec::new();
        for (i, (id, delete, byte)) in ops.into_iter().enumerate() {
            if delete {
                let _ = db.delete(id);
                model.remove(&id);
            } else {
                db.put(id, &[byte; 3]).unwrap();
                model.insert(id, vec![byte; 3]);
            }
            if i % 50 == 0 {
                snaps.push((db.snapshot().unwrap(), model.clone()));
            }
        }
        snaps.push((db.snapshot().unwrap(), model));
        for (snap, model) in &snaps {
            for range in &ranges {
                let got: Vec<_> = snap.range(range).unwrap().map(Result::unwrap).collect();
                prop_assert_eq!(&got, &expected(model, range), "{:?}", range);
                prop_assert_eq!(snap.count(range).unwrap(), got.len() as u64);
                let mut lent = Vec::new();
                snap.for_each_in(range, |id, d| {
                    lent.push((id, d.to_vec()));
                    std::ops::ControlFlow::Continue(())
                }).unwrap();
                prop_assert_eq!(lent, got);
            }
        }
    }

    /// A transaction's ranges and counts over committed documents plus staged writes and
    /// deletions equal the model's.
    #[test]
    fn transaction_ranges_and_counts_match_the_model(
        committed in proptest::collection::vec(0u64..64, 0..40),
        staged in proptest::collection::vec((0u64..64, any::<bool>(), any::<u8>()), 0..40),
        ranges in proptest::collection::vec(arb_range(), 1..20),
    ) {
        let (_d, _s, db) = store();
        let mut model = BTreeMap::new();
        for id in committed {
            db.put(id, b"c").unwrap();
            model.insert(id, b"c".to_vec());
        }
        let mut tx = db.begin().unwrap();
        for (id, delete, byte) in staged {
            if delete {
                let _ = tx.delete(id);
                model.remove(&id);
            } else {
                tx.put(id, &[byte]).unwrap();
                model.insert(id, vec![byte]);
            }
        }
        for range in &ranges {
            let got: Vec<_> = tx.range(range).unwrap().map(Result::unwrap).collect();
            prop_assert_eq!(&got, &expected(&model, range), "{:?}", range);
            prop_assert_eq!(tx.count(range).unwrap(), got.len() as u64, "{:?}", range);
        }
    }
}

/// A range taken batch by batch stays the snapshot's while other threads delete, update,
/// insert and compact.
#[test]
fn a_long_range_is_consistent_under_concurrent_writes_and_compaction() {
    let (_d, _s, db) = store();
    let n = 5_000u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let ops: Vec<_> = chunk
            .iter()
            .map(|&id| docdb_core::BatchOp::Put(id, b"v0"))
            .collect();
        db.batch(&ops).unwrap();
    }
    let snap = db.snapshot().unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut round = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for id in (round % 7..n).step_by(7) {
                    if id % 2 == 0 {
                        let _ = db.delete(id);
                    } else {
                        db.put(id, b"v1").unwrap();
                    }
                }
                db.put(n + round, b"new").unwrap();
                db.compact().unwrap();
                round += 1;
            }
        });
        for reverse in [false, true, false, true] {
            let mut range = IdRange::all();
            range.reverse = reverse;
            let mut expect = 0..n;
            for doc in snap.range(&range).unwrap() {
                let (id, data) = doc.unwrap();
                let want = if reverse {
                    expect.next_back()
                } else {
                    expect.next()
                };
                assert_eq!(Some(id), want);
                assert_eq!(data, b"v0");
            }
            assert!(expect.is_empty());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn an_unordered_scan_visits_every_document_of_the_snapshot_once() {
    let (_d, _s, db) = store();
    let mut model = BTreeMap::new();
    let mut id = 1u64;
    for i in 0..3000u64 {
        id = id
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let key = id % 10_000;
        db.put(key, &i.to_le_bytes()).unwrap();
        model.insert(key, i.to_le_bytes().to_vec());
    }
    for key in (0..10_000).step_by(3) {
        if model.remove(&key).is_some() {
            db.delete(key).unwrap();
        }
    }
    let snap = db.snapshot().unwrap();
    db.put(20_000, b"later").unwrap();
    let mut seen = BTreeMap::new();
    snap.for_each_unordered(|id, data| {
        assert!(seen.insert(id, data.to_vec()).is_none(), "{id} twice");
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, model);
}
