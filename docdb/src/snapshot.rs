//! [`Snapshot`] and its iterators: a consistent view, local or held by the server.

use std::ops::ControlFlow;

use docdb_core::{IdRange, Result};

/// A read-only view of a database at one commit version. Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Snapshot {
    Local(docdb_core::Snapshot),
    Remote(docdb_client::Snapshot),
}

impl Snapshot {
    pub fn version(&self) -> u64 {
        forward!(self, s => s.version())
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        forward!(self, s => s.read(id))
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        forward!(self, s => s.contains(id))
    }

    pub fn len(&self) -> Result<u64> {
        forward!(self, s => s.len())
    }

    pub fn is_empty(&self) -> Result<bool> {
        forward!(self, s => s.is_empty())
    }

    /// Ids of every document, ascending.
    pub fn ids(&self) -> Result<Vec<u64>> {
        forward!(self, s => s.ids())
    }

    /// Every document in ascending id order (remotely fetched a page at a time).
    pub fn scan(&self) -> Result<Scan<'_>> {
        match self {
            Snapshot::Local(s) => s.scan().map(Scan::Local),
            Snapshot::Remote(s) => s.scan().map(Scan::Remote),
        }
    }

    /// Like [`Snapshot::scan`], but the iterator owns the snapshot.
    pub fn into_scan(self) -> Result<OwnedScan> {
        match self {
            Snapshot::Local(s) => s.into_scan().map(OwnedScan::Local),
            Snapshot::Remote(s) => s.into_scan().map(OwnedScan::Remote),
        }
    }

    /// The documents of `range`, in its order, up to its limit (remotely fetched a page at
    /// a time, each continuing after the last id received).
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

    /// Calls `f(id, bytes)` for every document in ascending id order; stops early on
    /// `ControlFlow::Break`.
    pub fn for_each(&self, f: impl FnMut(u64, &[u8]) -> ControlFlow<()>) -> Result<()> {
        forward!(self, s => s.for_each(f))
    }
}

/// Iterator over `(id, bytes)` of a [`Snapshot`]: ascending by id, or in a range's order.
pub enum Scan<'a> {
    Local(docdb_core::Scan<'a>),
    Remote(docdb_client::Scan<'a>),
}

impl Iterator for Scan<'_> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        forward!(self, s => s.next())
    }
}

/// An owned scan (see [`Snapshot::into_scan`], [`Snapshot::into_range`] and
/// [`crate::Database::range`]).
pub enum OwnedScan {
    Local(docdb_core::OwnedScan),
    Remote(docdb_client::OwnedScan),
}

impl Iterator for OwnedScan {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        forward!(self, s => s.next())
    }
}

/// The handles cross threads as the engine's do.
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<crate::Store>();
    is::<crate::Database>();
    is::<Snapshot>();
    is::<crate::Transaction>();
};
