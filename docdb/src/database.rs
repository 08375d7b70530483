//! [`Database`]: one named database of a local or remote store.

use docdb_core::{copy_if_fits, BatchOp, DbStats, IdRange, Result};

use crate::{OwnedScan, Snapshot, Transaction};

/// A database of a [`crate::Store`]. Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Database {
    Local(docdb_core::Database),
    Remote(docdb_client::Database),
}

impl Database {
    pub fn name(&self) -> &str {
        forward!(self, d => d.name())
    }

    /// The catalog id (never reused).
    pub fn id(&self) -> u64 {
        forward!(self, d => d.id())
    }

    pub fn create(&self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, d => d.create(id, data))
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        forward!(self, d => d.read(id))
    }

    /// `Some(f(bytes))` if document `id` is in the local read cache, `None` otherwise (read
    /// it with [`Database::read`]). A remote database has no cache here: always `None`.
    pub fn read_cached<R>(&self, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        match self {
            Database::Local(d) => d.read_cached(id, f),
            Database::Remote(_) => Ok(None),
        }
    }

    /// Copies document `id` to the start of `dst` if it fits and returns its length either
    /// way ([`docdb_core::Database::read_into`]); a remote read copies the reply.
    pub fn read_into(&self, id: u64, dst: &mut [u8]) -> Result<usize> {
        match self {
            Database::Local(d) => d.read_into(id, dst),
            Database::Remote(d) => Ok(copy_if_fits(dst, &d.read(id)?)),
        }
    }

    /// [`Database::read_into`] if document `id` is in the local read cache, `None`
    /// otherwise (as [`Database::read_cached`]; always `None` remotely).
    pub fn read_cached_into(&self, id: u64, dst: &mut [u8]) -> Result<Option<usize>> {
        match self {
            Database::Local(d) => d.read_cached_into(id, dst),
            Database::Remote(_) => Ok(None),
        }
    }

    pub fn update(&self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, d => d.update(id, data))
    }

    pub fn put(&self, id: u64, data: &[u8]) -> Result<()> {
        forward!(self, d => d.put(id, data))
    }

    pub fn delete(&self, id: u64) -> Result<()> {
        forward!(self, d => d.delete(id))
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        forward!(self, d => d.contains(id))
    }

    pub fn len(&self) -> Result<u64> {
        forward!(self, d => d.len())
    }

    pub fn is_empty(&self) -> Result<bool> {
        forward!(self, d => d.is_empty())
    }

    /// Applies every operation atomically; returns the commit version.
    pub fn batch(&self, ops: &[BatchOp<'_>]) -> Result<u64> {
        forward!(self, d => d.batch(ops))
    }

    pub fn begin(&self) -> Result<Transaction> {
        match self {
            Database::Local(d) => d.begin().map(Transaction::Local),
            Database::Remote(d) => d.begin().map(Transaction::Remote),
        }
    }

    pub fn snapshot(&self) -> Result<Snapshot> {
        match self {
            Database::Local(d) => d.snapshot().map(Snapshot::Local),
            Database::Remote(d) => d.snapshot().map(Snapshot::Remote),
        }
    }

    /// The documents of `range` as they are now (one snapshot, held by the iterator), in
    /// the range's order, up to its limit.
    pub fn range(&self, range: &IdRange) -> Result<OwnedScan> {
        match self {
            Database::Local(d) => d.range(range).map(OwnedScan::Local),
            Database::Remote(d) => d.range(range).map(OwnedScan::Remote),
        }
    }

    /// Rewrites the live documents into a new log; returns the bytes reclaimed.
    pub fn compact(&self) -> Result<u64> {
        forward!(self, d => d.compact())
    }

    pub fn checkpoint(&self) -> Result<()> {
        forward!(self, d => d.checkpoint())
    }

    pub fn sync(&self) -> Result<()> {
        forward!(self, d => d.sync())
    }

    pub fn stats(&self) -> Result<DbStats> {
        forward!(self, d => d.stats())
    }
}
