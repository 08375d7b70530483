//! The commit path, in named steps: validate, reserve, append, apply, publish.
//!
//! 1. `check_sizes`: every document fits the size limit.
//! 2. Under the log lock: `validate` against the newest state (existence for plain
//!    operations and batches, write-write conflicts for transactions), `reserve` memory
//!    for new index entries (nothing is written if any of this fails), `append`: give the
//!    commit the next version and append its records at the end of the log (one write for
//!    a small commit; streamed in pieces by several threads for a large one, see
//!    `log/writer.rs`), and `apply` them to the index. Applied versions stay invisible
//!    until `publish`.
//! 3. `publish`: in `Sync::Full`, release the lock and wait for a group fsync that covers
//!    the version; then advance `visible`: new reads and snapshots see the commit.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::db::{BatchOp, DbCore};
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::index::{IdHasher, Location, Version, ENTRY_BYTES, VERSION_BYTES};
use crate::log::record::HEADER_LEN;
use crate::log::segment::SEGMENT_HEADER_LEN;
use crate::log::writer::{framed_len, prealloc_chunk, AppendError, LogWriter, RecordRef};
use crate::memory::Reservation;
use crate::options::Sync;

/// In `Sync::Normal`, the log is fsynced once this many bytes were appended since the last
/// fsync.
pub(crate) const NORMAL_SYNC_BYTES: u64 = 8 << 20;

fn payload<'a>(op: &BatchOp<'a>) -> Option<&'a [u8]> {
    match *op {
        BatchOp::Create(_, d) | BatchOp::Update(_, d) | BatchOp::Put(_, d) => Some(d),
        BatchOp::Delete(_) => None,
    }
}

/// How a commit's operations are validated and its errors reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommitMode {
    /// One plain operation: its intent (create/update/delete) is checked against the newest
    /// state; errors are reported as they are.
    Single,
    /// An atomic batch: intents are checked in order; an error names the failing operation
    /// (`Error::Batch`), even for a batch of one.
    Batch,
    /// A transaction that read at this version: its writes were validated against that
    /// snapshot, so here any document changed since is a conflict.
    Transaction { read_at: u64 },
}

/// In a batch, an error names the operation that failed.
fn wrap(mode: CommitMode, i: usize, e: Error) -> Error {
    match mode {
        CommitMode::Batch => Error::Batch {
            index: i,
            source: Box::new(e),
        },
        _ => e,
    }
}

impl<F: FileSystem> DbCore<F> {
    /// Commits `ops` atomically and returns the commit's version.
    pub(crate) fn commit(&self, ops: &[BatchOp<'_>], mode: CommitMode) -> Result<u64> {
        self.check_writable()?;
        self.check_sizes(ops, mode)?;
        if ops.is_empty() {
            return Ok(self.visible_version());
        }
        let mut log = self.log();
        self.check_writable()?;
        let finals = self.validate(ops, mode)?;
        let reservation = self.reserve(ops, &finals)?;
        let records: Vec<RecordRef<'_>> = finals
            .iter()
            .map(|&i| (ops[i].id(), payload(&ops[i])))
            .collect();
        let (version, at, size) = self.append(&mut log, &records)?;
        self.apply(&log, &records, version, at, size, reservation);
        let unsynced = log
            .end
            .saturating_sub(log.active.durable.load(Ordering::Acquire));
        drop(log);
        self.publish(version, unsynced)
    }

    /// Step 1: every document fits the size limit (before taking any lock).
    fn check_sizes(&self, ops: &[BatchOp<'_>], mode: CommitMode) -> Result<()> {
        for (i, op) in ops.iter().enumerate() {
            if let Some(d) = payload(op) {
                self.opts()
                    .check_document_size(d.len())
                    .map_err(|e| wrap(mode, i, e))?;
            }
        }
        Ok(())
    }

    /// Step 2 (under the log lock): validates every operation against the newest state and
    /// returns the indices of the last operation on each id, in order.
    fn validate(&self, ops: &[BatchOp<'_>], mode: CommitMode) -> Result<Vec<usize>> {
        let snapshot = match mode {
            CommitMode::Transaction { read_at } => Some(read_at),
            _ => None,
        };
        let mut last_op: HashMap<u64, usize, BuildHasherDefault<IdHasher>> =
            HashMap::with_capacity_and_hasher(ops.len(), Default::default());
        for (i, op) in ops.iter().enumerate() {
            let id = op.id();
            let head = self.index().head(id);
            if let Some(read_at) = snapshot {
                if head.is_some_and(|(v, _)| v > read_at) {
                    return Err(Error::Conflict { doc_id: id });
                }
            } else {
                let live = match last_op.get(&id) {
                    Some(&j) => payload(&ops[j]).is_some(),
                    None => head.is_some_and(|(_, live)| live),
                };
                match op {
                    BatchOp::Create(..) if live => {
                        return Err(wrap(
                            mode,
                            i,
                            Error::AlreadyExists(format!("document {id} in {}", self.describe())),
                        ));
                    }
                    BatchOp::Update(..) | BatchOp::Delete(_) if !live => {
                        return Err(wrap(mode, i, self.not_found(id)))
                    }
                    _ => {}
                }
            }
            last_op.insert(id, i);
        }
        let mut finals: Vec<usize> = last_op.into_values().collect();
        finals.sort_unstable();
        Ok(finals)
    }

    /// Step 3: reserves memory for the index entries the commit adds.
    fn reserve(&self, ops: &[BatchOp<'_>], finals: &[usize]) -> Result<Reservation<'_>> {
        // Only documents without an index entry need new memory; updates and deletions
        // reuse theirs (older versions kept for readers are charged after the fact and
        // released when the readers finish), so a store at its cap can still shrink.
        let new_entries = finals
            .iter()
            .filter(|&&i| payload(&ops[i]).is_some() && self.index().head(ops[i].id()).is_none())
            .count() as u64;
        self.memory().reserve(new_entries * ENTRY_BYTES)
    }

    /// Step 4: gives the commit the next version and appends its records (rotating to a
    /// new segment first if they do not fit; in `Sync::Full`, into preallocated space). Returns the version, the offset of the first
    /// record and the bytes appended.
    fn append(&self, log: &mut LogWriter<F>, records: &[RecordRef<'_>]) -> Result<(u64, u64, u64)> {
        let size: u64 = records.iter().map(framed_len).sum();
        if size > u64::from(u32::MAX) - SEGMENT_HEADER_LEN {
            return Err(Error::InvalidArgument(
                "a transaction may not exceed 4 GiB of records".into(),
            ));
        }
        if log.end > SEGMENT_HEADER_LEN
            && (log.end + size > self.opts().segment_size || log.end + size > u64::from(u32::MAX))
        {
            match log.rotate(self.fs(), self.dir()) {
                Ok(()) => {}
                Err(AppendError::Clean(e)) => return Err(e),
                Err(AppendError::Dirty(e)) => return Err(self.poisoned(e)),
            }
        }

        if self.opts().sync == Sync::Full {
            // Each commit is fsynced: overwriting preallocated zeros spares each fsync a
            // metadata commit (`log/writer.rs`). `Sync::Normal` fsyncs rarely: no gain.
            let segment_size = self.opts().segment_size;
            let chunk = prealloc_chunk(segment_size);
            match log.preallocate(size, chunk, segment_size) {
                Ok(()) => {}
                Err(AppendError::Clean(e)) => return Err(e),
                Err(AppendError::Dirty(e)) => return Err(self.poisoned(e)),
            }
        }
        let version = log.last_version + 1;
        let durable = log.active.durable.load(Ordering::Acquire);
        let at = match log.append(records, size, version, durable) {
            Ok(at) => at,
            Err(AppendError::Clean(e)) => return Err(e),
            Err(AppendError::Dirty(e)) => return Err(self.poisoned(e)),
        };
        log.last_version = version;
        Ok((version, at, size))
    }

    /// Step 5: applies the appended records to the index and the counters (still invisible
    /// to readers), and settles the memory reservation.
    fn apply(
        &self,
        log: &LogWriter<F>,
        records: &[RecordRef<'_>],
        version: u64,
        at: u64,
        size: u64,
        reservation: Reservation<'_>,
    ) {
        let oldest = self.oldest_reader();
        let (mut entries, mut versions) = (0i64, 0i64);
        let mut gc = Vec::new();
        let c = &self.counters();
        let mut offset = at;
        for &(id, data) in records {
            let loc = data.map(|d| Location {
                segment: Arc::clone(&log.active),
                offset: offset as u32,
                len: d.len() as u32,
            });
            offset += framed_len(&(id, data));
            let applied = self.index().apply(id, Version { version, loc }, oldest);
            entries += applied.entries_delta;
            versions += applied.versions_delta;
            if let Some(d) = data {
                c.live_docs.fetch_add(1, Ordering::Relaxed);
                c.live_bytes
                    .fetch_add((HEADER_LEN + d.len()) as u64, Ordering::Relaxed);
            }
            if let Some(prev) = applied.prev_live {
                c.live_docs.fetch_sub(1, Ordering::Relaxed);
                c.live_bytes
                    .fetch_sub(HEADER_LEN as u64 + u64::from(prev), Ordering::Relaxed);
            }
            if applied.needs_gc {
                gc.push(id);
            }
        }
        c.log_bytes.fetch_add(size, Ordering::Relaxed);
        c.since_checkpoint.fetch_add(size, Ordering::Relaxed);
        let charged = entries * ENTRY_BYTES as i64 + versions * VERSION_BYTES as i64;
        if charged >= 0 {
            reservation.keep(charged as u64);
        } else {
            drop(reservation);
            self.memory().release(charged.unsigned_abs());
        }
        if !gc.is_empty() {
            self.defer_garbage(gc);
        }
    }

    /// Step 6 (after the log lock is released): makes the commit as durable as the sync
    /// mode asks, then visible to new reads and snapshots.
    fn publish(&self, version: u64, unsynced: u64) -> Result<u64> {
        if self.opts().sync == Sync::Full {
            self.group()
                .wait(version, || self.sync_log(), || self.check_poison())?;
        } else if unsynced >= NORMAL_SYNC_BYTES {
            // Bound what a power loss can take in `Sync::Normal`, and how much of the log
            // recovery must treat as possibly torn.
            let covered = self.sync_log()?;
            self.group().mark_synced(covered);
        }
        self.make_visible(version);
        self.counters().commits.fetch_add(1, Ordering::Relaxed);
        self.collect_garbage();
        Ok(version)
    }
}
