//! [`Transaction`]: snapshot isolation, local or held by the server.

use docdb_core::Result;

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
