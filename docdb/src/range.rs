//! Ordered ranges by id ([`IdRange`]) on every handle, local or remote, and
//! [`TxnPages`], the form of a transaction's range for faces that cannot hold a borrow.

use std::collections::VecDeque;

use docdb_core::{IdRange, Result};

use crate::{Database, OwnedScan, Scan, Snapshot, Transaction};

impl Snapshot {
    /// The documents of `range`, in its order, up to its limit (remotely fetched a page at
    /// a time).
    pub fn range(&self, range: &IdRange) -> Result<Scan<'_>> {
        match self {
            Snapshot::Local(s) => s.range(range).map(Scan::Local),
            Snapshot::Remote(s) => s.range(range).map(Scan::Remote),
        }
    }

    /// Like [`Snapshot::range`], but the iterator owns the snapshot.
    pub fn into_range(self, range: &IdRange) -> Result<OwnedScan> {
        match self {
            Snapshot::Local(s) => s.into_range(range).map(OwnedScan::Local),
            Snapshot::Remote(s) => s.into_range(range).map(OwnedScan::Remote),
        }
    }

    /// Number of documents of `range` (up to its limit); no document is read.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        forward!(self, s => s.count(range))
    }
}

impl Database {
    /// The documents of `range` as they are now: one snapshot, held by the iterator.
    pub fn range(&self, range: &IdRange) -> Result<OwnedScan> {
        match self {
            Database::Local(d) => d.range(range).map(OwnedScan::Local),
            Database::Remote(d) => d.range(range).map(OwnedScan::Remote),
        }
    }
}

impl Transaction {
    /// The documents of `range` as this transaction sees them: its snapshot with its own
    /// staged writes and deletions applied.
    pub fn range(&self, range: &IdRange) -> Result<TxnScan<'_>> {
        match self {
            Transaction::Local(t) => t.range(range).map(TxnScan::Local),
            Transaction::Remote(t) => t.range(range).map(TxnScan::Remote),
        }
    }
}

/// Iterator over `(id, bytes)` of a range as a [`Transaction`] sees it.
pub enum TxnScan<'a> {
    Local(docdb_core::TxnScan<'a>),
    Remote(docdb_client::TxnScan<'a>),
}

impl Iterator for TxnScan<'_> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        forward!(self, s => s.next())
    }
}

/// A transaction's range read a page at a time, each page continuing after the last id of
/// the previous one ([`IdRange::after`]): a [`TxnScan`] borrows its transaction, which a
/// language face's iterator object cannot hold while the transaction stays usable. Writes
/// the transaction makes meanwhile are seen by the pages read after them.
#[derive(Debug)]
pub struct TxnPages {
    /// The rest of the range after the last document read; `None` once it is all read.
    rest: Option<IdRange>,
    page: VecDeque<(u64, Vec<u8>)>,
}

impl TxnPages {
    /// Most documents one page holds...
    pub const PAGE_DOCS: usize = 64;
    /// ...and about how many bytes (at least one document): the memory an iterator holds.
    pub const PAGE_BYTES: usize = 1 << 20;

    pub fn new(range: IdRange) -> Self {
        TxnPages {
            rest: Some(range),
            page: VecDeque::new(),
        }
    }

    /// Whether every document was returned (or [`TxnPages::close`] was called): `next`
    /// would return `None` without reading.
    pub fn is_done(&self) -> bool {
        self.rest.is_none() && self.page.is_empty()
    }

    /// Ends the iteration: later calls of `next` return `None`.
    pub fn close(&mut self) {
        self.rest = None;
        self.page.clear();
    }

    /// The next document as `txn` sees it, reading a page when the previous one is used
    /// up. An error ends the iteration.
    pub fn next(&mut self, txn: &Transaction) -> Result<Option<(u64, Vec<u8>)>> {
        if self.page.is_empty() {
            if let Some(range) = self.rest.take() {
                if let Err(e) = self.read_page(txn, range) {
                    self.close();
                    return Err(e);
                }
            }
        }
        Ok(self.page.pop_front())
    }

    /// Reads one page of `range`; `rest` becomes what remains after it. The page is asked
    /// for with its own limit, so that a server sends no more than it.
    fn read_page(&mut self, txn: &Transaction, range: IdRange) -> Result<()> {
        let want = range
            .limit
            .map_or(Self::PAGE_DOCS as u64, |n| n.min(Self::PAGE_DOCS as u64));
        let mut bytes = 0;
        let mut more = false;
        for doc in txn.range(&range.limit(want))? {
            let (id, data) = doc?;
            bytes += data.len();
            self.page.push_back((id, data));
            if bytes >= Self::PAGE_BYTES {
                more = true;
                break;
            }
        }
        // A short page (not cut by its size) was the end of the range.
        let got = self.page.len() as u64;
        let left = range.limit.map(|n| n - got);
        if (more || got == want) && left != Some(0) {
            if let Some(&(last, _)) = self.page.back() {
                let mut rest = range.after(last);
                rest.limit = left;
                self.rest = Some(rest);
            }
        }
        Ok(())
    }
}
