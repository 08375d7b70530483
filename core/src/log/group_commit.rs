//! Group commit: committers that wait for durability at the same time share one fsync.
//!
//! Each committer appends its records under the log lock, releases it, then waits here
//! until a sync covers its version. If no sync is running it becomes the leader: it reads
//! the newest written version, fsyncs, and wakes everyone that sync covered. Those that
//! appended while the leader's fsync ran are covered by the next one.
//!
//! Without more, N threads committing in a loop settle into a convoy: when an fsync ends,
//! the first woken thread appends and leads the next fsync alone while the others are still
//! waking up, so fsyncs alternate between one commit and N - 1 (measured: 4 commits per
//! fsync with 8 threads; docs/performance.md). So a leader first waits, briefly, until as
//! many committers are waiting as took part in the previous round (covered by its fsync or
//! arrived while it ran): at most half the previous fsync's duration, and not at all while
//! commits come one at a time.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::Result;

/// The longest a leader waits for its group, whatever the fsync's duration.
const MAX_GATHER: Duration = Duration::from_millis(1);

struct State {
    synced: u64,
    leader: bool,
    /// Committers that arrived since the last fsync started (the leader included): the
    /// ones the next fsync is for.
    arrived: usize,
    /// How many the last fsync was for, plus those who arrived while it ran: the group
    /// the next leader waits for.
    last_group: usize,
    /// How long the last fsync took: bounds the wait for a group.
    last_sync: Duration,
}

pub(crate) struct GroupCommit {
    state: Mutex<State>,
    /// Wakes the committers when a sync ended.
    synced: Condvar,
    /// Wakes a gathering leader when a committer arrives.
    arrived: Condvar,
}

impl GroupCommit {
    pub(crate) fn new(synced: u64) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                synced,
                leader: false,
                arrived: 0,
                last_group: 1,
                last_sync: Duration::ZERO,
            }),
            synced: Condvar::new(),
            arrived: Condvar::new(),
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
        st.arrived += 1;
        if st.leader {
            self.arrived.notify_one();
        }
        loop {
            check()?;
            if st.synced >= version {
                return Ok(());
            }
            if st.leader {
                self.synced.wait(&mut st);
                continue;
            }
            st.leader = true;
            if st.arrived < st.last_group {
                let deadline = Instant::now() + (st.last_sync / 2).min(MAX_GATHER);
                while st.arrived < st.last_group
                    && !self.arrived.wait_until(&mut st, deadline).timed_out()
                {}
            }
            // Everyone who arrived so far has appended: this fsync covers them all.
            let group = st.arrived.max(1);
            st.arrived = 0;
            let started = Instant::now();
            let result = parking_lot::MutexGuard::unlocked(&mut st, &sync);
            st.last_sync = started.elapsed();
            // Those who arrived during the fsync are as many committers more to wait for.
            st.last_group = group + st.arrived;
            st.leader = false;
            if let Ok(covered) = result {
                st.synced = st.synced.max(covered);
            }
            self.synced.notify_all();
            // On failure `sync` has poisoned the log; `check` reports it to everyone.
            result?;
        }
    }
}
