//! Snapshot bookkeeping for MVCC: which read versions are in use, so that the index keeps
//! exactly the older versions somebody can still read.
//!
//! A commit gets a version (a per-database sequence number). A reader reads "as of" a
//! version: the newest version of each document at or below it. `visible` is the newest
//! version whose commit is complete (durable, in `Sync::Full`); new snapshots start there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

#[derive(Default)]
pub(crate) struct Readers {
    /// Read version -> number of live snapshots/transactions reading at it.
    active: Mutex<BTreeMap<u64, usize>>,
}

impl Readers {
    /// Registers a reader at the current visible version and returns that version.
    /// Done under the registry lock so a concurrent [`Readers::oldest`] either sees this
    /// reader or computes a bound no newer than its version.
    pub(crate) fn register(&self, visible: &AtomicU64) -> u64 {
        let mut active = self.active.lock();
        let at = visible.load(Ordering::Acquire);
        *active.entry(at).or_insert(0) += 1;
        at
    }

    /// Registers one more reader at `at`, a version some live reader already holds (so
    /// every version it needs is still kept).
    pub(crate) fn register_again(&self, at: u64) {
        let mut active = self.active.lock();
        let n = active.entry(at).or_insert(0);
        debug_assert!(*n > 0, "register_again of a version nobody holds");
        *n += 1;
    }

    /// Unregisters a reader; returns true if the oldest read version moved forward.
    pub(crate) fn unregister(&self, at: u64) -> bool {
        let mut active = self.active.lock();
        let was_oldest = active.keys().next() == Some(&at);
        if let Some(n) = active.get_mut(&at) {
            *n -= 1;
            if *n == 0 {
                active.remove(&at);
                return was_oldest;
            }
        }
        false
    }

    /// The oldest version any current or future reader can ask for.
    pub(crate) fn oldest(&self, visible: &AtomicU64) -> u64 {
        let active = self.active.lock();
        let v = visible.load(Ordering::Acquire);
        active.keys().next().map_or(v, |&o| o.min(v))
    }

    pub(crate) fn count(&self) -> usize {
        self.active.lock().values().sum()
    }
}
