//! Ranges over the server (issue 17): the same documents, order, limits and errors as a
//! local range, streamed in keyset pages; hostile page sizes, malformed ranges and
//! connections dropped in the middle of a range leave the server serving.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::{Duration, Instant};

use common::{error_of, Raw, Server};
use docdb_core::{BatchOp, ErrorKind, IdRange};
use docdb_proto::{Reply, Request, ScanEntry};

/// Ids 0, 3, 6, ... below `3 * n`, each holding its id and a few bytes of its own.
fn fill(db: &docdb_client::Database, n: u64) -> BTreeMap<u64, Vec<u8>> {
    let model: BTreeMap<u64, Vec<u8>> = (0..n)
        .map(|i| (i * 3, format!("doc {}", i * 3).into_bytes()))
        .collect();
    let ops: Vec<_> = model.iter().map(|(&id, d)| BatchOp::Put(id, d)).collect();
    db.batch(&ops).unwrap();
    model
}

/// What `range` must give over `model`.
fn expected(model: &BTreeMap<u64, Vec<u8>>, range: &IdRange) -> Vec<(u64, Vec<u8>)> {
    let mut v: Vec<_> = model
        .iter()
        .filter(|(&id, _)| range.contains(id))
        .map(|(&id, d)| (id, d.clone()))
        .collect();
    if range.reverse {
        v.reverse();
    }
    v.truncate(range.limit.map_or(usize::MAX, |n| n as usize));
    v
}

fn drain(it: impl Iterator<Item = docdb_core::Result<(u64, Vec<u8>)>>) -> Vec<(u64, Vec<u8>)> {
    it.map(|r| r.unwrap()).collect()
}

/// Ranges of every shape, several of them longer than one page (the client asks for 1024
/// documents per page).
fn ranges() -> Vec<IdRange> {
    let mut out = Vec::new();
    for bounds in [
        IdRange::all(),
        IdRange::new(30..=6000),
        IdRange::new(31..6000),
        IdRange::new((Bound::Excluded(30), Bound::Excluded(3003))),
        IdRange::new(..=3069),
        IdRange::new(8000..),
        IdRange::new((Bound::Included(4000), Bound::Excluded(40))),
        IdRange::new(9..9),
    ] {
        for limit in [None, Some(0), Some(1), Some(1024), Some(1025), Some(2500)] {
            for reverse in [false, true] {
                out.push(IdRange {
                    limit,
                    reverse,
                    ..bounds
                });
            }
        }
    }
    out
}

#[test]
fn remote_ranges_match_the_model_across_pages() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    let model = fill(&db, 3000);
    let snap = db.snapshot().unwrap();
    // Later writes are not seen by the snapshot.
    db.put(1, b"later").unwrap();
    db.delete(0).unwrap();
    for range in ranges() {
        let want = expected(&model, &range);
        assert_eq!(drain(snap.range(&range).unwrap()), want, "{range:?}");
        assert_eq!(snap.count(&range).unwrap(), want.len() as u64, "{range:?}");
        assert_eq!(
            drain(snap.clone().into_range(&range).unwrap()),
            want,
            "{range:?}"
        );
    }
    drop(snap);
    let mut now = model.clone();
    now.insert(1, b"later".to_vec());
    now.remove(&0);
    for range in [IdRange::all(), IdRange::new(..5000).reverse().limit(1100)] {
        assert_eq!(drain(db.range(&range).unwrap()), expected(&now, &range));
    }
    // Keyset paging by hand, as an application pages: every document once, in order.
    let mut seen = Vec::new();
    let mut page = IdRange::new(100..).reverse().limit(700);
    loop {
        let got = drain(db.range(&page).unwrap());
        let Some(&(last, _)) = got.last() else { break };
        seen.extend(got.into_iter().map(|(id, _)| id));
        page = page.after(last);
    }
    let want: Vec<u64> = now.keys().rev().copied().filter(|&id| id >= 100).collect();
    assert_eq!(seen, want);
}

#[test]
fn a_remote_transaction_range_sees_its_own_writes_across_pages() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    let mut model = fill(&db, 2500);
    let mut tx = db.begin().unwrap();
    for id in (1..7500).step_by(7) {
        tx.put(id, b"own").unwrap();
        model.insert(id, b"own".to_vec());
    }
    for id in (0..7500).step_by(9) {
        if model.remove(&id).is_some() {
            tx.delete(id).unwrap();
        }
    }
    db.put(2, b"committed after begin").unwrap();
    for range in ranges() {
        assert_eq!(
            drain(tx.range(&range).unwrap()),
            expected(&model, &range),
            "{range:?}"
        );
    }
    tx.rollback();
    assert!(!db.contains(1).unwrap());
}

#[test]
fn ranges_of_a_closed_store_and_of_released_handles_fail_typed() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    fill(&db, 10);
    let mut raw = Raw::ready(&server);
    let range = IdRange::all();
    let page = |snap| Request::SnapRange {
        snap,
        range,
        max_docs: 10,
        max_bytes: 1 << 20,
    };
    // A handle this connection never had, or released.
    assert_eq!(error_of(raw.call(&page(99))).kind(), ErrorKind::Closed);
    let count = Request::SnapCount { snap: 99, range };
    assert_eq!(error_of(raw.call(&count)).kind(), ErrorKind::Closed);
    let txn_page = Request::TxnRange {
        txn: 99,
        range,
        max_docs: 10,
        max_bytes: 1 << 20,
    };
    assert_eq!(error_of(raw.call(&txn_page)).kind(), ErrorKind::Closed);
    let Reply::Handle { handle: snap, .. } = raw.call(&Request::Snapshot { db: db.id() }) else {
        panic!("snapshot")
    };
    assert!(matches!(
        raw.call(&page(snap)),
        Reply::Page { done: true, .. }
    ));
    assert!(matches!(
        raw.call(&Request::SnapClose { snap }),
        Reply::Unit
    ));
    assert_eq!(error_of(raw.call(&page(snap))).kind(), ErrorKind::Closed);
    // A dropped database: its snapshot's ranges are CLOSED, as locally.
    let snap = db.snapshot().unwrap();
    store.drop_db("d").unwrap();
    let e = snap.range(&IdRange::all()).err().expect("closed");
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    assert_eq!(snap.count(&range).unwrap_err().kind(), ErrorKind::Closed);
    // A closed client store: CLOSED too, for its snapshots and transactions as well.
    let db = store.create_db("e").unwrap();
    fill(&db, 10);
    let snap = db.snapshot().unwrap();
    let tx = db.begin().unwrap();
    store.close().unwrap();
    let e = db.range(&IdRange::all()).err().expect("closed");
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    let e = snap.range(&IdRange::all()).err().expect("closed");
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    let e = tx.range(&IdRange::all()).err().expect("closed");
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
}

/// The page a raw `SNAP_RANGE` returns.
fn page_of(reply: Reply) -> (Vec<ScanEntry>, bool) {
    match reply {
        Reply::Page { entries, done } => (entries, done),
        other => panic!("expected a page, got {other:?}"),
    }
}

#[test]
fn hostile_page_sizes_and_ranges_are_capped_or_refused() {
    let mut server = Server::start(&["--max-frame", "1048576"]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    let model = fill(&db, 10_050);
    // Documents of 300 KiB: a page of a 1 MiB frame holds at most three.
    let big = vec![7u8; 300 << 10];
    for id in [1, 4, 7, 10, 13] {
        db.put(id, &big).unwrap();
    }
    let mut raw = Raw::ready(&server);
    let Reply::Handle { handle: snap, .. } = raw.call(&Request::Snapshot { db: db.id() }) else {
        panic!("snapshot")
    };
    let mut ask = |range: IdRange, max_docs: u32, max_bytes: u32| {
        page_of(raw.call(&Request::SnapRange {
            snap,
            range,
            max_docs,
            max_bytes,
        }))
    };
    // Zero documents or zero bytes asked: one document all the same, and the range goes on.
    let (e, done) = ask(IdRange::new(3..), 0, 0);
    assert_eq!((e.len(), done), (1, false));
    assert_eq!((e[0].id, e[0].data.as_slice()), (3, b"doc 3".as_slice()));
    // Everything asked: at most 10,000 documents a page.
    let (e, done) = ask(IdRange::new(20..), u32::MAX, u32::MAX);
    assert_eq!((e.len(), done), (10_000, false));
    assert_eq!(e[9_999].id, 21 + 3 * 9_999);
    // Large documents: the page stays below the frame limit, at least one document.
    let (e, done) = ask(IdRange::new(0..20), u32::MAX, u32::MAX);
    let bytes: usize = e.iter().map(|e| e.data.len() + 12).sum();
    assert!(
        !done && bytes < 1 << 20 && e.len() < 12,
        "{} documents",
        e.len()
    );
    let (e, _) = ask(IdRange::new(1..20), u32::MAX, 1);
    assert_eq!((e.len(), e[0].data.len()), (1, 300 << 10));
    // The last page of a range says so, and a limit of u64::MAX is no limit.
    let (e, done) = ask(IdRange::new(30_000..).limit(u64::MAX), 100, 1 << 20);
    assert_eq!((e.len(), done), (50, true));
    let (e, done) = ask(IdRange::new(30_000..).limit(50), 50, 1 << 20);
    assert_eq!((e.len(), done), (50, true));
    let (e, done) = ask(IdRange::new(..=6).reverse().limit(2), 1, 1 << 20);
    assert_eq!(
        (e.iter().map(|e| e.id).collect::<Vec<_>>(), done),
        (vec![6], false)
    );
    // A malformed range (bound kind 7) is INVALID_ARGUMENT; the connection stays usable.
    let (kind, mut body) = Request::SnapCount {
        snap,
        range: IdRange::new(3..),
    }
    .encode();
    body[8] = 7;
    let mut frame = Vec::new();
    docdb_proto::encode_frame(1000, kind, &body, &mut frame);
    std::io::Write::write_all(&mut raw.s, &frame).unwrap();
    let (_, reply) = raw.recv().unwrap();
    assert_eq!(error_of(reply).kind(), ErrorKind::InvalidArgument);
    let count = raw.call(&Request::SnapCount {
        snap,
        range: IdRange::new(..30),
    });
    assert!(matches!(count, Reply::U64(15)), "{count:?}");
    // Through the client, the big documents come in pages of the frame's size.
    let snap = db.snapshot().unwrap();
    let got = drain(snap.range(&IdRange::new(..15)).unwrap());
    assert_eq!(got.len(), 10);
    assert!(got
        .iter()
        .all(|(id, d)| model.get(id) == Some(d) || *d == big));
    assert!(server.child.as_mut().unwrap().try_wait().unwrap().is_none());
}

#[test]
fn a_connection_dropped_mid_range_releases_its_snapshot() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    fill(&db, 3000);
    {
        let mut raw = Raw::ready(&server);
        let Reply::Handle { handle: snap, .. } = raw.call(&Request::Snapshot { db: db.id() })
        else {
            panic!("snapshot")
        };
        let (e, done) = page_of(raw.call(&Request::SnapRange {
            snap,
            range: IdRange::all(),
            max_docs: 100,
            max_bytes: 1 << 20,
        }));
        assert_eq!((e.len(), done), (100, false));
        // Ask for the next page and go away without reading it.
        raw.send(&Request::SnapRange {
            snap,
            range: IdRange::all().after(e[99].id),
            max_docs: 100,
            max_bytes: 1 << 20,
        });
        assert!(db.stats().unwrap().active_readers >= 1);
    }
    // The server notices the connection is gone and releases its snapshot.
    let t = Instant::now();
    while db.stats().unwrap().active_readers > 0 {
        assert!(t.elapsed() < Duration::from_secs(30), "snapshot kept");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A client's range abandoned half-way (the iterator dropped) releases it too.
    let mut it = db.range(&IdRange::all()).unwrap();
    assert_eq!(it.next().unwrap().unwrap().0, 0);
    drop(it);
    assert_eq!(db.stats().unwrap().active_readers, 0);
    assert_eq!(db.range(&IdRange::all()).unwrap().count(), 3000);
}

#[test]
fn a_server_killed_mid_range_ends_the_range_with_unavailable() {
    let mut server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    fill(&db, 3000);
    let mut it = db.range(&IdRange::all()).unwrap();
    // The first page (1024 documents) is here; the next one needs the server.
    for _ in 0..1024 {
        it.next().unwrap().unwrap();
    }
    server.kill9();
    let e = it.next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(it.next().is_none(), "a failed range ends");
    server.spawn();
    let db = store.open_db("d").unwrap();
    assert_eq!(db.range(&IdRange::new(..30)).unwrap().count(), 10);
}

#[test]
fn a_one_shot_range_holds_a_snapshot_only_while_it_has_pages_to_come() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    fill(&db, 3000);
    let mut raw = Raw::ready(&server);
    let ask = |range: IdRange| Request::DbRange {
        db: db.id(),
        range,
        max_docs: 100,
        max_bytes: 1 << 20,
    };
    // One page: nothing is held.
    let Reply::RangePage {
        snap,
        entries,
        done,
    } = raw.call(&ask(IdRange::new(..300)))
    else {
        panic!("range page")
    };
    assert_eq!((snap, entries.len(), done), (0, 100, true));
    assert_eq!(db.stats().unwrap().active_readers, 0);
    // More pages: the snapshot is held for them, and later commits stay out of them.
    let Reply::RangePage {
        snap,
        entries,
        done,
    } = raw.call(&ask(IdRange::new(..=300)))
    else {
        panic!("range page")
    };
    assert!(snap != 0 && !done && entries.len() == 100);
    assert_eq!(db.stats().unwrap().active_readers, 1);
    db.put(299, b"later").unwrap(); // inside the range, after the snapshot: not seen
    let (rest, done) = page_of(raw.call(&Request::SnapRange {
        snap,
        range: IdRange::new(..=300).after(entries[99].id),
        max_docs: 100,
        max_bytes: 1 << 20,
    }));
    assert_eq!((rest.len(), done), (1, true));
    assert_eq!(rest[0].id, 300);
    assert!(matches!(
        raw.call(&Request::SnapClose { snap }),
        Reply::Unit
    ));
    assert_eq!(db.stats().unwrap().active_readers, 0);
    // Through the client: a short range holds nothing while it is iterated.
    let mut short = db.range(&IdRange::new(..30)).unwrap();
    assert_eq!(db.stats().unwrap().active_readers, 0);
    assert_eq!(short.next().unwrap().unwrap().0, 0);
    // A dropped database is CLOSED, as locally.
    store.drop_db("d").unwrap();
    let e = db.range(&IdRange::all()).err().expect("closed");
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
}

/// A damaged document in a snapshot's scan: through the server, as locally, the scan
/// reports `CORRUPTION` for it and goes on with the next document (the documents before
/// it in the same page are returned too).
#[test]
fn a_scan_reports_a_damaged_document_and_goes_on() {
    let mut server = Server::start(&[]);
    {
        let db = server.connect().create_db("d").unwrap();
        for id in 1..=5 {
            db.put(id, format!("document number {id}").as_bytes())
                .unwrap();
        }
    }
    server.terminate();
    // Flip one byte of document 3 in the log (the clean shutdown wrote a checkpoint, so
    // the restart does not read the log).
    let db_dir = std::fs::read_dir(&server.data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("db-"))
        .unwrap();
    let log = std::fs::read_dir(&db_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes
        .windows(17)
        .position(|w| w == b"document number 3")
        .unwrap();
    bytes[at] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    server.spawn();

    let db = server.connect().open_db("d").unwrap();
    let snap = db.snapshot().unwrap();
    let got: Vec<_> = snap
        .scan()
        .unwrap()
        .map(|r| r.map(|(id, _)| id).map_err(|e| e.kind()))
        .collect();
    assert_eq!(
        got,
        vec![Ok(1), Ok(2), Err(ErrorKind::Corruption), Ok(4), Ok(5)]
    );
    // A range returns the documents before it, then the error, and ends there (its keyset
    // pages cannot step over a document whose id the error does not carry).
    let ids = |it: &mut dyn Iterator<Item = docdb_core::Result<(u64, Vec<u8>)>>| {
        it.map(|r| r.map(|(id, _)| id).map_err(|e| e.kind()))
            .collect::<Vec<_>>()
    };
    let want = vec![Ok(1), Ok(2), Err(ErrorKind::Corruption)];
    assert_eq!(ids(&mut snap.range(&IdRange::all()).unwrap()), want);
    assert_eq!(ids(&mut db.range(&IdRange::all()).unwrap()), want);
}
