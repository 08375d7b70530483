//! [`Transaction`]: snapshot isolation, local or held by the server.

use docdb_core::{IdRange, Result};

/// A transaction of a [`crate::Database`]. Dropping it without `commit` rolls it back (a
/// remote one also rolls back if its connection is lost).
#[derive(Debug)]
pub enum Transaction {
    Local(docdb_core::Transaction),
    Remote(docdb_client::Transaction),
}

impl Transaction {
    pub fn read_version(&self) -> u64 {
        forward!(self, t => t.read_version())
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        forward!(self, t => t.read(id))
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        forward!(self, t => t.contains(id))
    }

    pub fn create(&mut self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, t => t.create(id, data))
    }

    pub fn update(&mut self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, t => t.update(id, data))
    }

    pub fn put(&mut self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, t => t.put(id, data))
    }

    pub fn delete(&mut self, id: u64) -> Result<()> {
        forward!(self, t => t.delete(id))
    }

    /// The documents of `range` as this transaction sees them (its snapshot with its own
    /// staged writes and deletions), in the range's order, up to its limit.
    pub fn range(&self, range: &IdRange) -> Result<TxnScan<'_>> {
        match self {
            Transaction::Local(t) => t.range(range).map(TxnScan::Local),
            Transaction::Remote(t) => t.range(range).map(TxnScan::Remote),
        }
    }

    /// Number of documents of `range` as this transaction sees them (its staged writes
    /// and deletions applied), up to the range's limit; reads no document.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        forward!(self, t => t.count(range))
    }

    /// Fails with `Closed` if the transaction's store was closed (or its database dropped;
    /// remotely: its connection lost), without reading anything.
    pub fn check_open(&self) -> Result<()> {
        forward!(self, t => t.check_open())
    }

    /// Number of staged writes. A `Result` because a remote transaction's writes are held
    /// by the server (a local one never fails).
    pub fn pending(&self) -> Result<usize> {
        match self {
            Transaction::Local(t) => Ok(t.pending()),
            Transaction::Remote(t) => t.pending(),
        }
    }

    /// Commits atomically; returns the commit version. Remotely, a connection lost during
    /// the commit gives `UNAVAILABLE` with `outcome_unknown()` true.
    pub fn commit(self) -> Result<u64> {
        forward!(self, t => t.commit())
    }

    /// Discards every staged write.
    pub fn rollback(self) {
        forward!(self, t => t.rollback())
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
