//! Group commit: committers that wait for durability at the same time share one fsync.
//!
//! Each committer appends its records under the log lock, releases it, then waits here
//! until a sync covers its version. If no sync is running it becomes the leader: it reads
//! the newest written version, fsyncs, and wakes everyone that sync covered. Those that
//! appended while the leader's fsync ran are covered by the next one.

use parking_lot::{Condvar, Mutex};

use crate::error::Result;

struct State {
    synced: u64,
    leader: bool,
}

pub(crate) struct GroupCommit {
    state: Mutex<State>,
    cond: Condvar,
}

impl GroupCommit {
    pub(crate) fn new(synced: u64) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                synced,
                leader: false,
            }),
            cond: Condvar::new(),
        }
    }

    /// Records that everything up to `version` is durable by other means (a checkpoint).
    pub(crate) fn mark_synced(&self, version: u64) {
        let mut st = self.state.lock();
        st.synced = st.synced.max(version);
    }

    /// Returns once `version` is durable. `sync` fsyncs the log and returns the newest
    /// version it covered; `check` fails fast if the log is poisoned.
    pub(crate) fn wait(
        &self,
        version: u64,
        sync: impl Fn() -> Result<u64>,
        check: impl Fn() -> Result<()>,
    ) -> Result<()> {
        let mut st = self.state.lock();
        loop {
            check()?;
            if st.synced >= version {
                return Ok(());
            }
            if st.leader {
                self.cond.wait(&mut st);
                continue;
            }
            st.leader = true;
            let result = parking_lot::MutexGuard::unlocked(&mut st, &sync);
            st.leader = false;
            if let Ok(covered) = result {
                st.synced = st.synced.max(covered);
            }
            self.cond.notify_all();
            // On failure `sync` has poisoned the log; `check` reports it to everyone.
            result?;
        }
    }
}
