//! Memory caps: a global budget shared by all databases and one budget per database.
//!
//! A write reserves what it will add before it touches the log; if either budget would be
//! exceeded the write fails with `MemoryLimit` and nothing changes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

#[derive(Debug)]
pub(crate) struct Budget {
    name: String,
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub(crate) fn new(name: impl Into<String>, limit: u64) -> Self {
        Budget {
            name: name.into(),
            limit,
            used: AtomicU64::new(0),
        }
    }

    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    fn try_add(&self, n: u64) -> Result<()> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= self.limit)
            })
            .map(|_| ())
            .map_err(|u| Error::MemoryLimit {
                scope: self.name.clone(),
                requested: u.saturating_add(n),
                limit: self.limit,
            })
    }

    fn sub(&self, n: u64) {
        // Saturating: accounting must never wrap even if a release is over-counted.
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }

    fn force_add(&self, n: u64) {
        self.used.fetch_add(n, Ordering::AcqRel);
    }
}

/// A database's view of the two budgets.
#[derive(Debug, Clone)]
pub(crate) struct Memory {
    pub global: Arc<Budget>,
    pub db: Arc<Budget>,
}

impl Memory {
    /// Reserves `n` bytes in both budgets, or neither.
    pub(crate) fn reserve(&self, n: u64) -> Result<Reservation<'_>> {
        self.db.try_add(n)?;
        if let Err(e) = self.global.try_add(n) {
            self.db.sub(n);
            return Err(e);
        }
        Ok(Reservation {
            memory: self,
            bytes: n,
        })
    }

    /// Accounts for memory that exists whether or not it fits (recovery of existing data,
    /// versions retained for snapshots); later writes fail until it is released.
    pub(crate) fn charge(&self, n: u64) {
        self.db.force_add(n);
        self.global.force_add(n);
    }

    pub(crate) fn release(&self, n: u64) {
        self.db.sub(n);
        self.global.sub(n);
    }
}

/// Reserved bytes, released on drop unless [`Reservation::keep`] converts them.
#[must_use]
pub(crate) struct Reservation<'a> {
    memory: &'a Memory,
    bytes: u64,
}

impl Reservation<'_> {
    /// Keeps `n` of the reserved bytes charged (they now back real memory) and releases
    /// the rest.
    pub(crate) fn keep(mut self, n: u64) {
        let kept = n.min(self.bytes);
        if n > self.bytes {
            self.memory.charge(n - self.bytes);
        }
        self.bytes -= kept;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.memory.release(self.bytes);
        }
    }
}

impl Memory {
    /// Returns everything charged to this database to the global budget (database gone).
    pub(crate) fn detach(&self) {
        let used = self.db.used.swap(0, Ordering::AcqRel);
        self.global.sub(used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(global: u64, db: u64) -> Memory {
        Memory {
            global: Arc::new(Budget::new("global", global)),
            db: Arc::new(Budget::new("db", db)),
        }
    }

    #[test]
    fn reservation_is_all_or_nothing() {
        let m = memory(100, 50);
        let r = m.reserve(40).unwrap();
        assert!(matches!(m.reserve(20), Err(Error::MemoryLimit { .. })));
        assert_eq!((m.db.used(), m.global.used()), (40, 40));
        drop(r);
        assert_eq!((m.db.used(), m.global.used()), (0, 0));
        m.reserve(30).unwrap().keep(10);
        assert_eq!((m.db.used(), m.global.used()), (10, 10));
    }

    #[test]
    fn global_limit_is_checked_after_db_limit_without_leaking() {
        let m = memory(10, 50);
        assert!(m.reserve(20).is_err());
        assert_eq!((m.db.used(), m.global.used()), (0, 0));
    }
}
