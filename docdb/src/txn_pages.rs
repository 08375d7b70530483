//! [`TxnPages`]: a transaction's range for faces that cannot hold a borrow.

use std::collections::VecDeque;

use docdb_core::{IdRange, Result};

use crate::Transaction;

/// A transaction's range read a page at a time, each page continuing after the last id of
/// the previous one ([`IdRange::after`]): a [`crate::TxnScan`] borrows its transaction, which a
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
        // A page read before the store was closed is not returned after it.
        if !self.is_done() {
            if let Err(e) = txn.check_open() {
                self.close();
                return Err(e);
            }
        }
        self.fill(txn)?;
        Ok(self.page.pop_front())
    }

    /// Reads the next page now if none is held: a face calls it when the range is opened,
    /// so that a finished transaction or a closed store is reported there, as by a local
    /// range. An error ends the iteration.
    pub fn fill(&mut self, txn: &Transaction) -> Result<()> {
        if self.page.is_empty() {
            if let Some(range) = self.rest.take() {
                if let Err(e) = self.read_page(txn, range) {
                    self.close();
                    return Err(e);
                }
            }
        }
        Ok(())
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
