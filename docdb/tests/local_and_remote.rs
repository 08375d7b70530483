//! Every operation of the facade, run once on a local store and once on a store served by
//! an in-process `docdb-server`: the same calls must give the same results and errors.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use docdb::{BatchOp, ConnectOptions, ErrorKind, IdRange, Options, Store};
use docdb_server::{InProcess, ServeArgs};

/// A store of each kind, on fresh directories; the server stops when this is dropped.
struct Both {
    local: Store,
    remote: Store,
    _server: InProcess,
    dir: tempfile::TempDir,
}

fn both() -> Both {
    let dir = tempfile::tempdir().unwrap();
    let local = Store::open(dir.path().join("local"), Options::default()).unwrap();
    let sock = dir.path().join("docdb.sock");
    let server = InProcess::start(ServeArgs::new(dir.path().join("served"), &sock)).unwrap();
    let url = format!("unix://{}", sock.display());
    let t = Instant::now();
    let remote = loop {
        match Store::connect(&url, ConnectOptions::default()) {
            Ok(s) => break s,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                assert!(
                    t.elapsed() < Duration::from_secs(30),
                    "server did not start"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    };
    Both {
        local,
        remote,
        _server: server,
        dir,
    }
}

/// Runs `check` on both stores, naming the failing one.
fn on_both(check: impl Fn(&Store)) {
    let b = both();
    for store in [&b.local, &b.remote] {
        eprintln!(
            "on the {} store",
            if store.is_remote() { "remote" } else { "local" }
        );
        check(store);
    }
}

fn kind<T: std::fmt::Debug>(r: docdb::Result<T>) -> ErrorKind {
    r.expect_err("an error").kind()
}

#[test]
fn databases_lifecycle() {
    on_both(|s| {
        let a = s.create_db("a").unwrap();
        assert_eq!(a.name(), "a");
        assert_eq!(kind(s.create_db("a")), ErrorKind::AlreadyExists);
        assert_eq!(kind(s.open_db("missing")), ErrorKind::NotFound);
        assert_eq!(kind(s.create_db("bad name")), ErrorKind::InvalidName);
        let b = s.open_or_create_db("b").unwrap();
        assert_eq!(s.open_db("a").unwrap().id(), a.id());
        assert_eq!(s.open_or_create_db("b").unwrap().id(), b.id());
        let names: Vec<String> = s.list_dbs().unwrap().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["a", "b"]);
        s.drop_db("a").unwrap();
        assert_eq!(kind(s.drop_db("a")), ErrorKind::NotFound);
        assert_eq!(kind(a.read(1)), ErrorKind::Closed);
        assert_eq!(s.list_dbs().unwrap().len(), 1);
    });
}

#[test]
fn documents() {
    on_both(|s| {
        let d = s.create_db("docs").unwrap();
        assert!(d.is_empty().unwrap());
        d.create(1, b"one").unwrap();
        assert_eq!(kind(d.create(1, b"again")), ErrorKind::AlreadyExists);
        assert_eq!(d.read(1).unwrap(), b"one");
        assert_eq!(kind(d.read(2)), ErrorKind::NotFound);
        assert_eq!(kind(d.update(2, b"x")), ErrorKind::NotFound);
        d.update(1, b"uno").unwrap();
        d.put(2, b"two").unwrap();
        d.put(2, b"dos").unwrap();
        assert!(d.contains(2).unwrap());
        assert_eq!(d.len().unwrap(), 2);
        d.delete(2).unwrap();
        assert_eq!(kind(d.delete(2)), ErrorKind::NotFound);
        assert!(!d.contains(2).unwrap());
        assert_eq!(d.read(1).unwrap(), b"uno");
        // The cache is local: a remote database never has the bytes at hand.
        let cached = d.read_cached(1, |b| b.to_vec()).unwrap();
        if s.is_remote() {
            assert_eq!(cached, None);
        } else if let Some(bytes) = cached {
            assert_eq!(bytes, b"uno");
        }
        let too_big = vec![0u8; 16 << 20 | 1];
        assert_eq!(kind(d.put(3, &too_big)), ErrorKind::PayloadTooLarge);
    });
}

#[test]
fn batches() {
    on_both(|s| {
        let d = s.create_db("b").unwrap();
        d.put(1, b"old").unwrap();
        let v = d
            .batch(&[
                BatchOp::Create(2, b"two"),
                BatchOp::Update(1, b"new"),
                BatchOp::Put(3, b"three"),
            ])
            .unwrap();
        assert!(v > 0);
        let e = d
            .batch(&[BatchOp::Delete(3), BatchOp::Create(1, b"x")])
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.batch_index()),
            (ErrorKind::AlreadyExists, Some(1))
        );
        assert!(
            d.contains(3).unwrap(),
            "nothing of a failed batch is applied"
        );
        assert_eq!(d.read(1).unwrap(), b"new");
    });
}

#[test]
fn transactions() {
    on_both(|s| {
        let d = s.create_db("t").unwrap();
        d.put(1, b"a").unwrap();
        let mut t = d.begin().unwrap();
        assert!(t.read_version() > 0);
        t.create(2, b"b").unwrap();
        t.update(1, b"a2").unwrap();
        t.put(3, b"c").unwrap();
        t.delete(3).unwrap();
        assert_eq!(t.read(1).unwrap(), b"a2");
        assert!(t.contains(2).unwrap());
        assert!(!t.contains(3).unwrap());
        assert_eq!(kind(t.read(3)), ErrorKind::NotFound);
        assert!(t.pending().unwrap() >= 2);
        assert!(!d.contains(2).unwrap(), "not visible before commit");
        let v = t.commit().unwrap();
        assert!(v > 0);
        assert_eq!(d.read(1).unwrap(), b"a2");

        let mut t = d.begin().unwrap();
        t.put(9, b"gone").unwrap();
        t.rollback();
        assert!(!d.contains(9).unwrap());

        let mut t1 = d.begin().unwrap();
        let mut t2 = d.begin().unwrap();
        t1.put(1, b"t1").unwrap();
        t2.put(1, b"t2").unwrap();
        t1.commit().unwrap();
        assert_eq!(kind(t2.commit()), ErrorKind::Conflict);
        assert_eq!(d.read(1).unwrap(), b"t1");
    });
}

#[test]
fn snapshots_and_scans() {
    on_both(|s| {
        let d = s.create_db("s").unwrap();
        for id in [3u64, 1, 2] {
            d.put(id, format!("doc{id}").as_bytes()).unwrap();
        }
        let snap = d.snapshot().unwrap();
        d.put(4, b"later").unwrap();
        d.delete(1).unwrap();
        assert!(snap.version() > 0);
        assert_eq!(snap.len().unwrap(), 3);
        assert!(!snap.is_empty().unwrap());
        assert_eq!(snap.read(1).unwrap(), b"doc1");
        assert!(!snap.contains(4).unwrap());
        assert_eq!(kind(snap.read(4)), ErrorKind::NotFound);
        assert_eq!(snap.ids().unwrap(), [1, 2, 3]);
        let scanned: Vec<(u64, Vec<u8>)> = snap.scan().unwrap().map(Result::unwrap).collect();
        assert_eq!(scanned[0], (1, b"doc1".to_vec()));
        assert_eq!(scanned.len(), 3);
        let mut seen = Vec::new();
        snap.for_each(|id, bytes| {
            seen.push((id, bytes.to_vec()));
            if id == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        let owned: Vec<u64> = snap
            .clone()
            .into_scan()
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(owned, [1, 2, 3]);
        let now = d.snapshot().unwrap();
        assert_eq!(now.ids().unwrap(), [2, 3, 4]);
        assert!(now.version() > snap.version());
    });
}

fn ids(it: impl Iterator<Item = docdb::Result<(u64, Vec<u8>)>>) -> Vec<u64> {
    it.map(|r| r.unwrap().0).collect()
}

#[test]
fn ranges() {
    on_both(|s| {
        let d = s.create_db("r").unwrap();
        // More documents than a remote page (1024), so paging is crossed both ways.
        let docs: Vec<(u64, Vec<u8>)> = (0..1500u64)
            .map(|i| (i * 2, format!("doc{i}").into_bytes()))
            .collect();
        let ops: Vec<_> = docs.iter().map(|(id, b)| BatchOp::Put(*id, b)).collect();
        d.batch(&ops).unwrap();
        let snap = d.snapshot().unwrap();
        d.put(1, b"later").unwrap();
        let all = snap.range(&IdRange::all()).unwrap();
        assert_eq!(all.map(Result::unwrap).collect::<Vec<_>>(), docs);
        let r = IdRange::new(11..=2901).reverse().limit(1200);
        let want: Vec<u64> = (12..=2900).rev().step_by(2).take(1200).collect();
        assert_eq!(ids(snap.range(&r).unwrap()), want);
        assert_eq!(ids(snap.clone().into_range(&r).unwrap()), want);
        assert_eq!(snap.count(&r).unwrap(), 1200);
        assert_eq!(snap.count(&IdRange::new(10..10)).unwrap(), 0);
        assert_eq!(
            ids(snap.range(&IdRange::all().limit(0)).unwrap()),
            [0u64; 0]
        );
        // Keyset paging over the database as it is now.
        let mut page = IdRange::new(..7).limit(2);
        let mut seen = Vec::new();
        loop {
            let got = ids(d.range(&page).unwrap());
            let Some(&last) = got.last() else { break };
            seen.extend(got);
            page = page.after(last);
        }
        assert_eq!(seen, [0, 1, 2, 4, 6]);
        // A transaction's view: its own writes and deletions.
        let mut t = d.begin().unwrap();
        t.put(3, b"own").unwrap();
        t.delete(2).unwrap();
        assert_eq!(ids(t.range(&IdRange::new(..=4)).unwrap()), [0, 1, 3, 4]);
        assert_eq!(t.count(&IdRange::new(..=4)).unwrap(), 4);
        assert_eq!(t.count(&IdRange::all()).unwrap(), 1501);
        assert_eq!(t.count(&IdRange::all().limit(3)).unwrap(), 3);
        t.rollback();
        // A closed store: CLOSED.
        s.close().unwrap();
        let e = d.range(&IdRange::all()).err().expect("closed");
        assert_eq!(e.kind(), ErrorKind::Closed);
    });
}

#[test]
fn maintenance_and_statistics() {
    on_both(|s| {
        let d = s.create_db("m").unwrap();
        for id in 0..50u64 {
            d.put(id, &[7u8; 100]).unwrap();
        }
        for id in 0..40u64 {
            d.delete(id).unwrap();
        }
        assert_eq!(d.stats().unwrap().documents, 10);
        d.compact().unwrap();
        d.checkpoint().unwrap();
        d.sync().unwrap();
        s.checkpoint().unwrap();
        s.sync().unwrap();
        assert_eq!(d.len().unwrap(), 10);
        let st = s.stats().unwrap();
        assert_eq!((st.databases_active, st.documents), (1, 10));
    });
}

#[test]
fn where_the_store_is() {
    let b = both();
    assert!(!b.local.is_remote());
    assert_eq!(b.local.path(), Some(b.dir.path().join("local").as_path()));
    assert_eq!(b.local.url(), None);
    assert_eq!(b.local.options(), Some(&Options::default()));
    assert_eq!(
        b.local.max_document_size(),
        Options::default().max_document_size
    );
    assert!(b.remote.is_remote());
    assert_eq!(b.remote.path(), None);
    assert!(b.remote.url().unwrap().starts_with("unix://"));
    assert_eq!(b.remote.location(), b.remote.url().unwrap());
    assert_eq!(b.remote.options(), None);
    assert_eq!(b.remote.max_document_size(), docdb::MAX_DOCUMENT_SIZE_LIMIT);
}

#[test]
fn backup_is_local_only() {
    let b = both();
    let d = b.local.create_db("k").unwrap();
    d.put(1, b"kept").unwrap();
    let dest = b.dir.path().join("copy");
    b.local.backup(&dest, |_, _| {}).unwrap();
    let copy = Store::open(&dest, Options::default()).unwrap();
    assert_eq!(copy.open_db("k").unwrap().read(1).unwrap(), b"kept");

    let e = b
        .remote
        .backup(b.dir.path().join("remote-copy"), |_, _| {})
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("host of the server"), "{e}");
    assert!(!b.dir.path().join("remote-copy").exists());
}

#[test]
fn closing() {
    on_both(|s| {
        let d = s.create_db("c").unwrap();
        d.put(1, b"x").unwrap();
        let mut txn = d.begin().unwrap();
        txn.put(2, b"staged").unwrap();
        let snap = d.snapshot().unwrap();
        // Scans started before the close, each holding a page of documents.
        let mut db_scan = d.range(&IdRange::all()).unwrap();
        let mut snap_scan = snap.range(&IdRange::all()).unwrap();
        let mut txn_pages = docdb::TxnPages::new(IdRange::all());
        txn_pages.fill(&txn).unwrap();
        assert!(!s.is_closed());
        s.close().unwrap();
        assert!(s.is_closed());
        // They end with CLOSED, as a local scan does, instead of serving that page.
        assert_eq!(kind(db_scan.next().unwrap()), ErrorKind::Closed);
        assert!(db_scan.next().is_none());
        assert_eq!(kind(snap_scan.next().unwrap()), ErrorKind::Closed);
        assert!(snap_scan.next().is_none());
        assert_eq!(kind(txn_pages.next(&txn)), ErrorKind::Closed);
        assert_eq!(txn_pages.next(&txn).unwrap(), None);
        // Every handle obtained from a closed store is closed, remote ones included.
        assert_eq!(kind(d.read(1)), ErrorKind::Closed);
        assert_eq!(kind(snap.read(1)), ErrorKind::Closed);
        assert_eq!(kind(snap.count(&IdRange::all())), ErrorKind::Closed);
        assert_eq!(
            kind(txn.range(&IdRange::all()).map(|_| ())),
            ErrorKind::Closed
        );
        assert_eq!(kind(txn.put(3, b"y")), ErrorKind::Closed);
        assert_eq!(kind(txn.commit()), ErrorKind::Closed);
        assert_eq!(kind(s.list_dbs()), ErrorKind::Closed);
        assert_eq!(kind(s.open_db("c")), ErrorKind::Closed);
        s.close().unwrap();
    });
}

#[test]
fn closing_ends_open_ranges() {
    on_both(|s| {
        let d = s.create_db("c").unwrap();
        for id in 0..10 {
            d.put(id, b"x").unwrap();
        }
        let snap = d.snapshot().unwrap();
        let mut txn = d.begin().unwrap();
        txn.put(20, b"staged").unwrap();
        // Each range has read its first document (and, remotely, its whole first page).
        let mut of_db = d.range(&IdRange::all()).unwrap();
        let mut of_snap = snap.range(&IdRange::all()).unwrap();
        let mut of_scan = snap.scan().unwrap();
        let mut of_txn = docdb::TxnPages::new(IdRange::all());
        for it in [
            &mut of_db as &mut dyn Iterator<Item = _>,
            &mut of_snap,
            &mut of_scan,
        ] {
            assert_eq!(it.next().unwrap().unwrap().0, 0);
        }
        assert_eq!(of_txn.next(&txn).unwrap().unwrap().0, 0);
        s.close().unwrap();
        // The next document is CLOSED, as every call on the closed store's handles: a
        // page already read is not served after the close.
        for it in [
            &mut of_db as &mut dyn Iterator<Item = _>,
            &mut of_snap,
            &mut of_scan,
        ] {
            assert_eq!(kind(it.next().unwrap()), ErrorKind::Closed);
        }
        assert_eq!(kind(of_txn.next(&txn)), ErrorKind::Closed);
        assert_eq!(of_txn.next(&txn).unwrap(), None, "the error ended it");
        assert_eq!(kind(txn.check_open()), ErrorKind::Closed);
    });
}

#[test]
fn unreachable_server_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}", dir.path().join("nobody.sock").display());
    let e = Store::connect(&url, ConnectOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(
        Store::connect("ftp://x", ConnectOptions::default())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn transaction_pages_cross_page_edges() {
    use docdb::{IdRange, TxnPages};
    on_both(|s| {
        let d = s.create_db("p").unwrap();
        let ops: Vec<_> = (0..300u64).map(|i| BatchOp::Put(i * 2, b"s")).collect();
        d.batch(&ops).unwrap();
        let mut tx = d.begin().unwrap();
        let mut expected: std::collections::BTreeSet<u64> = (0..300).map(|i| i * 2).collect();
        for id in (1..600).step_by(7) {
            tx.put(id, b"t").unwrap();
            expected.insert(id);
        }
        for id in (0..600).step_by(10) {
            tx.delete(id).unwrap();
            expected.remove(&id);
        }
        let drain = |range: IdRange| {
            let mut pages = TxnPages::new(range);
            let mut out = Vec::new();
            while let Some((id, _)) = pages.next(&tx).unwrap() {
                out.push(id);
            }
            assert!(pages.is_done());
            out
        };
        let all: Vec<u64> = expected.iter().copied().collect();
        assert!(all.len() > 3 * TxnPages::PAGE_DOCS);
        assert_eq!(drain(IdRange::all()), all);
        let down: Vec<u64> = all.iter().rev().take(130).copied().collect();
        assert_eq!(drain(IdRange::all().reverse().limit(130)), down);
        // Writes made while iterating are seen by the pages read after them (here the
        // second page), never behind the last id returned.
        for id in 1000..1100 {
            tx.put(id, b"a").unwrap();
        }
        let mut pages = TxnPages::new(IdRange::new(1000..));
        assert_eq!(pages.next(&tx).unwrap().map(|(id, _)| id), Some(1000));
        tx.put(999_999, b"b").unwrap();
        tx.put(1000, b"changed behind").unwrap();
        let mut rest = Vec::new();
        while let Some((id, _)) = pages.next(&tx).unwrap() {
            rest.push(id);
        }
        let mut want: Vec<u64> = (1001..1100).collect();
        want.push(999_999);
        assert_eq!(rest, want);
        tx.rollback();
    });
}
