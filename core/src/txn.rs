//! Short multi-operation transactions with snapshot isolation.
//!
//! A transaction reads from the snapshot taken at `begin` plus its own writes, and buffers
//! its writes in memory (charged to the memory caps). `commit` writes them as one atomic
//! log append; if any document it writes was changed by another commit after the
//! snapshot, `commit` fails with `Conflict` and nothing is applied (first committer wins).
//! Dropping an unfinished transaction rolls it back.

use std::collections::BTreeMap;

use crate::commit::CommitMode;
use crate::db::{BatchOp, Database};
use crate::error::{Error, Result};
use crate::fs::{FileSystem, OsFs};
use crate::index::ENTRY_BYTES;
use crate::range::IdRange;
use crate::snapshot::{Cursor, ReadGuard};

pub struct Transaction<F: FileSystem = OsFs> {
    guard: ReadGuard<F>,
    /// Staged writes: `Some(bytes)` to store, `None` to delete.
    writes: BTreeMap<u64, Option<Vec<u8>>>,
    /// Bytes charged to the memory caps for the staged writes.
    charged: u64,
}

impl<F: FileSystem> std::fmt::Debug for Transaction<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("read_version", &self.guard.at)
            .field("writes", &self.writes.len())
            .finish()
    }
}

impl<F: FileSystem> Transaction<F> {
    pub(crate) fn new(db: Database<F>) -> Self {
        Transaction {
            guard: ReadGuard::new(db),
            writes: BTreeMap::new(),
            charged: 0,
        }
    }

    /// The version this transaction reads at.
    pub fn read_version(&self) -> u64 {
        self.guard.at
    }

    /// Reads a document as this transaction sees it (its own writes included).
    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        match self.writes.get(&id) {
            Some(Some(data)) => {
                self.guard.db.core.check_open()?;
                Ok(data.clone())
            }
            Some(None) => Err(self.guard.db.core.not_found(id)),
            None => self.guard.read(id),
        }
    }

    /// Whether a document exists as this transaction sees it.
    pub fn contains(&self, id: u64) -> Result<bool> {
        match self.writes.get(&id) {
            Some(w) => Ok(w.is_some()),
            None => self.guard.contains(id),
        }
    }

    fn stage(&mut self, id: u64, data: Option<&[u8]>) -> Result<()> {
        let core = &self.guard.db.core;
        core.check_writable()?;
        let need = data.map_or(0, |d| d.len() as u64) + ENTRY_BYTES;
        if let Some(d) = data {
            core.opts().check_document_size(d.len())?;
        }
        core.memory().reserve(need)?.keep(need);
        self.charged += need;
        if let Some(old) = self.writes.insert(id, data.map(<[u8]>::to_vec)) {
            let freed = old.map_or(0, |d| d.len() as u64) + ENTRY_BYTES;
            core.memory().release(freed);
            self.charged -= freed;
        }
        Ok(())
    }

    /// Stages a new document. `AlreadyExists` if it exists as this transaction sees it.
    pub fn create(&mut self, id: u64, data: &[u8]) -> Result<()> {
        if self.contains(id)? {
            return Err(Error::AlreadyExists(format!(
                "document {id} in {}",
                self.guard.db.core.describe()
            )));
        }
        self.stage(id, Some(data))
    }

    /// Stages a replacement. `NotFound` if the document does not exist as seen here.
    pub fn update(&mut self, id: u64, data: &[u8]) -> Result<()> {
        if !self.contains(id)? {
            return Err(self.guard.db.core.not_found(id));
        }
        self.stage(id, Some(data))
    }

    /// Stages an insert-or-replace.
    pub fn put(&mut self, id: u64, data: &[u8]) -> Result<()> {
        self.stage(id, Some(data))
    }

    /// Stages a deletion. `NotFound` if the document does not exist as seen here.
    pub fn delete(&mut self, id: u64) -> Result<()> {
        if !self.contains(id)? {
            return Err(self.guard.db.core.not_found(id));
        }
        self.stage(id, None)
    }

    /// Iterates over the documents of `range` as this transaction sees them: its snapshot
    /// with its own staged writes (and deletions) applied, in the range's order, up to its
    /// limit.
    pub fn range(&self, range: &IdRange) -> Result<TxnScan<'_, F>> {
        let unlimited = IdRange {
            limit: None,
            ..*range
        };
        let own = match range.inclusive() {
            Some((lo, hi)) => self
                .writes
                .range(lo..=hi)
                .map(|(&id, w)| (id, w.as_deref()))
                .collect(),
            None => Vec::new(),
        };
        Ok(TxnScan {
            guard: &self.guard,
            cursor: self.guard.cursor(&unlimited)?,
            own,
            next_own: 0,
            reverse: range.reverse,
            left: range.limit.unwrap_or(u64::MAX),
        })
    }

    /// Number of documents of `range` as this transaction sees them (its staged writes and
    /// deletions applied), up to the range's limit; reads no document. The snapshot's
    /// count is corrected by each staged write in the range, so the cost grows with the
    /// staged writes, not with the documents.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        self.guard.db.core.check_open()?;
        let Some((lo, hi)) = range.inclusive() else {
            return Ok(0);
        };
        let index = self.guard.db.core.index();
        let mut n = index.count(self.guard.at, (lo, hi), u64::MAX);
        for (&id, write) in self.writes.range(lo..=hi) {
            match (self.guard.contains(id)?, write.is_some()) {
                (false, true) => n += 1,
                (true, false) => n -= 1,
                _ => {}
            }
        }
        Ok(n.min(range.limit.unwrap_or(u64::MAX)))
    }

    /// Fails with `Closed` if the database was closed or dropped (its store closed): what
    /// every read reports, for a face that serves documents it read earlier (a page).
    pub fn check_open(&self) -> Result<()> {
        self.guard.db.core.check_open()
    }

    /// Number of staged writes.
    pub fn pending(&self) -> usize {
        self.writes.len()
    }

    /// Commits every staged write atomically and returns the commit version (the read
    /// version if nothing was written). `Conflict` if another commit changed one of the
    /// written documents after this transaction began; then nothing is applied.
    pub fn commit(self) -> Result<u64> {
        let ops: Vec<BatchOp<'_>> = self
            .writes
            .iter()
            .map(|(&id, w)| match w {
                Some(d) => BatchOp::Put(id, d),
                None => BatchOp::Delete(id),
            })
            .collect();
        if ops.is_empty() {
            self.guard.db.core.check_open()?;
            return Ok(self.guard.at);
        }
        let version = self.guard.db.core.commit(
            &ops,
            CommitMode::Transaction {
                read_at: self.guard.at,
            },
        )?;
        self.guard.db.store.maybe_maintain(&self.guard.db);
        Ok(version)
    }

    /// Discards every staged write.
    pub fn rollback(self) {}
}

/// Iterator over `(id, bytes)` of a range as a [`Transaction`] sees it.
pub struct TxnScan<'a, F: FileSystem = OsFs> {
    guard: &'a ReadGuard<F>,
    /// The snapshot's documents of the range, without the limit.
    cursor: Cursor<F>,
    /// The staged writes within the range, ascending; `None` is a deletion.
    own: Vec<(u64, Option<&'a [u8]>)>,
    /// How many of `own` were consumed (from the back when reversed).
    next_own: usize,
    reverse: bool,
    left: u64,
}

impl<'a, F: FileSystem> TxnScan<'a, F> {
    fn peek_own(&self) -> Option<(u64, Option<&'a [u8]>)> {
        let i = if self.reverse {
            self.own.len().checked_sub(self.next_own + 1)?
        } else {
            self.next_own
        };
        self.own.get(i).copied()
    }
}

impl<F: FileSystem> Iterator for TxnScan<'_, F> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.left > 0 {
            let snap = self.cursor.peek_id(self.guard);
            let own = self.peek_own();
            let own_first = match (snap, own) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(s), Some((o, _))) if s == o => {
                    // The staged write replaces the snapshot's version.
                    self.cursor.skip(self.guard);
                    true
                }
                (Some(s), Some((o, _))) => (o < s) != self.reverse,
            };
            if !own_first {
                self.left -= 1;
                return self.cursor.step(self.guard);
            }
            self.next_own += 1;
            if let Some((id, Some(data))) = own {
                self.left -= 1;
                return Some(Ok((id, data.to_vec())));
            }
        }
        None
    }
}

impl<F: FileSystem> Drop for Transaction<F> {
    fn drop(&mut self) {
        self.guard.db.core.memory().release(self.charged);
    }
}
