//! `docdb_range` (which ids an ordered read visits) and the range scans of snapshots,
//! databases and transactions, which reuse `docdb_snapshot_scan` and its next/free.

use std::ops::Bound;
use std::sync::{Arc, Mutex};

use docdb::{Error, IdRange, Result, Transaction, TxnPages};

use crate::db::docdb_db;
use crate::panic::call;
use crate::ptr::{arg, Out};
use crate::snapshot::{docdb_snapshot, docdb_snapshot_scan};
use crate::status::docdb_status;
use crate::txn::{self, docdb_txn};

/// How a `docdb_range` end is bounded (values of `start_kind` and `end_kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum docdb_bound {
    /// No bound: from the lowest id, or up to the highest. The id is ignored.
    DOCDB_BOUND_UNBOUNDED = 0,
    /// The id itself is in the range (`>=` for the start, `<=` for the end).
    DOCDB_BOUND_INCLUDED = 1,
    /// The id itself is not (`>` for the start, `<` for the end).
    DOCDB_BOUND_EXCLUDED = 2,
}

/// A range of document ids to read in order (core's `IdRange`). A zero-initialised
/// `docdb_range` (`docdb_range r = {0};`) is every id, ascending, without a limit, as is
/// passing NULL where a range is asked for.
///
/// `start` is always the lowest id and `end` the highest, whatever the direction. Bounds
/// that leave no id (start after end) are an empty range, not an error. Keyset pagination:
/// after a page that ended at id `last`, read the next one with `start_kind =
/// DOCDB_BOUND_EXCLUDED, start = last` (or, when `reverse`, `end_kind =
/// DOCDB_BOUND_EXCLUDED, end = last`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct docdb_range {
    /// One of `docdb_bound` (an integer so that any value C passes is checked).
    pub start_kind: u32,
    /// The lowest id, unless `start_kind` is `DOCDB_BOUND_UNBOUNDED`.
    pub start: u64,
    /// One of `docdb_bound`.
    pub end_kind: u32,
    /// The highest id, unless `end_kind` is `DOCDB_BOUND_UNBOUNDED`.
    pub end: u64,
    /// Descending: from `end` down to `start`.
    pub reverse: bool,
    /// Whether `limit` applies. false: no limit (`limit` is ignored); true: at most
    /// `limit` documents, so `has_limit = true, limit = 0` reads none.
    pub has_limit: bool,
    /// At most this many documents when `has_limit` is true.
    pub limit: u64,
}

fn bound(kind: u32, id: u64, which: &str) -> Result<Bound<u64>> {
    match kind {
        0 => Ok(Bound::Unbounded),
        1 => Ok(Bound::Included(id)),
        2 => Ok(Bound::Excluded(id)),
        other => Err(Error::InvalidArgument(format!(
            "{which} must be a docdb_bound value, not {other}"
        ))),
    }
}

/// The range C passed; NULL is every id.
fn range_of(p: *const docdb_range) -> Result<IdRange> {
    if p.is_null() {
        return Ok(IdRange::all());
    }
    let r = arg(p, "range")?;
    Ok(IdRange {
        start: bound(r.start_kind, r.start, "start_kind")?,
        end: bound(r.end_kind, r.end, "end_kind")?,
        reverse: r.reverse,
        limit: r.has_limit.then_some(r.limit),
    })
}

/// Starts a scan of the documents of `range` (NULL: all of them) in the snapshot, in the
/// range's order, up to its limit. `*out` receives a `docdb_snapshot_scan`: advance it
/// with `docdb_snapshot_scan_next` and release it with `docdb_snapshot_scan_free`, as a
/// scan from `docdb_snapshot_scan_new` (same rules: it keeps the snapshot's view alive
/// even if the snapshot handle is freed first). `DOCDB_INVALID_ARGUMENT` for a bound kind
/// that is not a `docdb_bound`.
#[no_mangle]
pub extern "C" fn docdb_snapshot_range_new(
    snapshot: *const docdb_snapshot,
    range: *const docdb_range,
    out: *mut *mut docdb_snapshot_scan,
) -> docdb_status {
    call(|| {
        let (s, out) = (arg(snapshot, "snapshot")?, Out::new(out, "out")?);
        let range = range_of(range)?;
        let docs = s.snapshot().clone().into_range(&range)?;
        out.set(docdb_snapshot_scan::into_raw(Box::new(docs)));
        Ok(())
    })
}

/// Sets `*out` to the number of documents of `range` (NULL: all) in the snapshot, up to
/// its limit; no document is read.
#[no_mangle]
pub extern "C" fn docdb_snapshot_count(
    snapshot: *const docdb_snapshot,
    range: *const docdb_range,
    out: *mut u64,
) -> docdb_status {
    call(|| {
        let (s, out) = (arg(snapshot, "snapshot")?, Out::new(out, "out")?);
        out.set(s.snapshot().count(&range_of(range)?)?);
        Ok(())
    })
}

/// One-shot form of `docdb_snapshot_range_new`: a scan of `range` (NULL: all) over a
/// snapshot of the database taken now, which the scan holds until it is freed.
#[no_mangle]
pub extern "C" fn docdb_db_range_new(
    db: *const docdb_db,
    range: *const docdb_range,
    out: *mut *mut docdb_snapshot_scan,
) -> docdb_status {
    call(|| {
        let (d, out) = (arg(db, "db")?.get()?, Out::new(out, "out")?);
        let docs = d.range(&range_of(range)?)?;
        out.set(docdb_snapshot_scan::into_raw(Box::new(docs)));
        Ok(())
    })
}

/// One-shot form of `docdb_snapshot_count`: the number of documents of `range` (NULL: all)
/// in the database as it is now.
#[no_mangle]
pub extern "C" fn docdb_db_count(
    db: *const docdb_db,
    range: *const docdb_range,
    out: *mut u64,
) -> docdb_status {
    call(|| {
        let (d, out) = (arg(db, "db")?.get()?, Out::new(out, "out")?);
        let range = range_of(range)?;
        out.set(d.snapshot()?.count(&range)?);
        Ok(())
    })
}

/// Starts a scan of the documents of `range` (NULL: all) as the transaction sees them: its
/// snapshot with its own writes and deletions applied, in the range's order, up to its
/// limit. Advance and release it as any `docdb_snapshot_scan`; it may outlive the `txn`
/// handle. Documents are fetched from the transaction a page (64 documents, about 1 MiB)
/// at a time, each page continuing after the last id returned: a write made to the transaction while the scan
/// runs shows in the pages fetched after it. Once the transaction is committed, rolled
/// back or freed, `docdb_snapshot_scan_next` fails with `DOCDB_CLOSED` and the scan is over;
/// after any other error the scan is over too.
#[no_mangle]
pub extern "C" fn docdb_txn_range_new(
    txn: *const docdb_txn,
    range: *const docdb_range,
    out: *mut *mut docdb_snapshot_scan,
) -> docdb_status {
    call(|| {
        let (t, out) = (arg(txn, "txn")?, Out::new(out, "out")?);
        let mut scan = TxnRange {
            txn: t.shared(),
            pages: TxnPages::new(range_of(range)?),
        };
        // The first page now, so that a finished transaction or a closed store fails here.
        scan.with_txn(|t, pages| pages.fill(t))?;
        out.set(docdb_snapshot_scan::into_raw(Box::new(scan)));
        Ok(())
    })
}

/// Sets `*out` to the number of documents of `range` (NULL: all) as the transaction sees
/// them (its staged writes and deletions applied), up to its limit; no document is read.
/// `DOCDB_CLOSED` once the transaction is committed or rolled back.
#[no_mangle]
pub extern "C" fn docdb_txn_count(
    txn: *const docdb_txn,
    range: *const docdb_range,
    out: *mut u64,
) -> docdb_status {
    call(|| {
        let (t, out) = (arg(txn, "txn")?, Out::new(out, "out")?);
        let range = range_of(range)?;
        out.set(t.with(|t| t.count(&range))?);
        Ok(())
    })
}

/// A range of a transaction read a page at a time (`docdb::TxnPages`, keyset), so the scan
/// needs no borrow of the transaction between calls and never outlives it unsafely.
struct TxnRange {
    txn: Arc<Mutex<Option<Transaction>>>,
    pages: TxnPages,
}

impl TxnRange {
    /// Runs `f` on the live transaction; a finished one ends the scan with its error.
    fn with_txn<T>(
        &mut self,
        f: impl FnOnce(&Transaction, &mut TxnPages) -> Result<T>,
    ) -> Result<T> {
        let guard = self.txn.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(t) => f(t, &mut self.pages),
            None => {
                self.pages.close();
                Err(txn::finished())
            }
        }
    }
}

impl Iterator for TxnRange {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pages.is_done() {
            return None;
        }
        // Checked on every document: a finished transaction's scan ends at once.
        self.with_txn(|t, pages| pages.next(t)).transpose()
    }
}
