//! Background maintenance of one database: checkpoints and compactions.
//!
//! At most one of them runs at a time per database. Every entry point here takes the
//! database's maintenance lock itself, so no caller has to remember to; the workers
//! (`checkpoint::write`, `compaction::compact`) assume it is held.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::db::DbCore;
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::{checkpoint, compaction};

/// A database's maintenance state.
#[derive(Default)]
pub(crate) struct Maintenance {
    /// Serialises checkpoints and compactions (and what must not overlap them).
    lock: Mutex<()>,
    /// A background job was started and has not finished yet.
    running: AtomicBool,
}

/// Writes a checkpoint of `db` so that the next open replays only what follows it.
pub(crate) fn checkpoint<F: FileSystem>(db: &DbCore<F>) -> Result<()> {
    let _m = db.maintenance().lock.lock();
    checkpoint::write(db, &[])
}

/// Compacts `db`; returns the number of log bytes reclaimed.
pub(crate) fn compact<F: FileSystem>(db: &DbCore<F>) -> Result<u64> {
    let _m = db.maintenance().lock.lock();
    compaction::compact(db)
}

/// Waits for a running checkpoint or compaction of `db` to finish (before its files are
/// deleted). Call after marking it closed, so that none starts afterwards.
pub(crate) fn wait_idle<F: FileSystem>(db: &DbCore<F>) {
    drop(db.maintenance().lock.lock());
}

/// The last maintenance of a database whose store is closing: syncs its log, writes a
/// checkpoint and marks it closed. Returns the first error that the close must report.
pub(crate) fn close<F: FileSystem>(db: &DbCore<F>) -> Result<()> {
    let _m = db.maintenance().lock.lock();
    let result = match db.check_writable() {
        // The log first, then the checkpoint: a checkpoint that cannot be written
        // (a full disk) loses nothing once the log is durable, and says so.
        // Preallocated space (`log/writer.rs`) is cut off first, so that a closed store
        // holds its records only; if the cut fails, the zeros stay until the next open
        // cuts them, and the close reports it after doing the rest.
        Ok(()) => {
            let trimmed = db.log().trim();
            match db.sync_log() {
                Err(e) => Err(e),
                Ok(_) => checkpoint::write(db, &[])
                    .map_err(|e| match e {
                        Error::Io { context, source } => Error::Io {
                            context: format!(
                                "{context} (closing {}: every commit is durable in \
                                 the log, which the next open replays; only the \
                                 checkpoint that would shorten that replay is missing)",
                                db.describe()
                            ),
                            source,
                        },
                        e => e,
                    })
                    .and(trimmed),
            }
        }
        // A poisoned database cannot be synced: its latest commits are not known
        // durable, so close must not report success.
        Err(e @ Error::Poisoned(_)) => Err(e),
        Err(_) => Ok(()),
    };
    db.mark_closed(false);
    result
}

/// Starts a background checkpoint or compaction of `db` when its thresholds are met;
/// returns the thread to join before the store releases its directory.
pub(crate) fn maybe_start<F: FileSystem>(db: &Arc<DbCore<F>>) -> Option<JoinHandle<()>> {
    let o = &db.opts();
    let checkpoint_due =
        db.counters().since_checkpoint.load(Ordering::Relaxed) >= o.checkpoint_bytes;
    let dead = db.dead_bytes();
    let log = db.counters().log_bytes.load(Ordering::Relaxed);
    let compaction_due = o.auto_compact
        && dead >= o.compaction_min_dead_bytes
        && dead as f64 >= o.compaction_dead_ratio * log as f64;
    if !(checkpoint_due || compaction_due) || db.maintenance().running.swap(true, Ordering::AcqRel)
    {
        return None;
    }
    // The thread holds the database core only, never the store: dropping the last
    // store handle can then stop and join it before the directory lock is released.
    let job = Arc::clone(db);
    let spawned = std::thread::Builder::new()
        .name(format!("docdb-maintain-{}", db.name()))
        .spawn(move || {
            let db = job;
            // Failures that matter (I/O) poison the database and surface on its next
            // call; others (closed meanwhile) need nothing.
            let _ = if compaction_due {
                compact(&db).map(drop)
            } else {
                checkpoint(&db)
            };
            db.maintenance().running.store(false, Ordering::Release);
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(_) => {
            db.maintenance().running.store(false, Ordering::Release);
            None
        }
    }
}
