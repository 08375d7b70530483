//! A logical database: its shared engine state ([`DbCore`]) and the public handle
//! ([`Database`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::cache::{CacheKey, RecordCache};
use crate::commit::CommitMode;
use crate::error::{Error, Result};
use crate::fs::{FileSystem, OsFs};
use crate::index::{Index, Location, Version, ENTRY_BYTES, VERSION_BYTES};
use crate::log::group_commit::GroupCommit;
use crate::log::recovery;
use crate::log::writer::LogWriter;
use crate::maintenance::{self, Maintenance};
use crate::memory::Memory;
use crate::mvcc::Readers;
use crate::options::Options;
use crate::range::IdRange;
use crate::snapshot::{OwnedScan, Snapshot};
use crate::stats::DbStats;
use crate::store::StoreInner;
use crate::txn::Transaction;

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const DROPPED: u8 = 2;

/// Monotonic counters behind [`DbStats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub live_docs: AtomicU64,
    pub live_bytes: AtomicU64,
    pub log_bytes: AtomicU64,
    pub commits: AtomicU64,
    pub compactions: AtomicU64,
    pub checkpoints: AtomicU64,
    pub since_checkpoint: AtomicU64,
    /// Bytes of torn tail cut off by recovery when the database was opened.
    pub truncated_at_open: AtomicU64,
    /// Log bytes replayed when the database was opened (not covered by the checkpoint).
    pub replayed_at_open: AtomicU64,
}

/// Ids whose index entries hold older versions or deletion markers, pruned once the
/// oldest reader moves past them.
#[derive(Default)]
pub(crate) struct Garbage {
    pub ids: Vec<u64>,
    pub last_oldest: u64,
}

/// Everything one open database shares between its handles, transactions and snapshots.
pub(crate) struct DbCore<F: FileSystem> {
    id: u64,
    name: String,
    /// The fork generation the store was opened in (`fork.rs`).
    born: u64,
    dir: PathBuf,
    fs: Arc<F>,
    opts: Arc<Options>,
    index: Index<F>,
    memory: Memory,
    cache: Arc<RecordCache>,
    /// The append side of the log; held while validating, appending and applying a commit.
    log: Mutex<LogWriter<F>>,
    group: GroupCommit,
    /// Newest version whose commit is complete; readers without a snapshot read here.
    visible: AtomicU64,
    readers: Readers,
    garbage: Mutex<Garbage>,
    counters: Counters,
    /// Checkpoints and compactions (maintenance.rs).
    maintenance: Maintenance,
    state: AtomicU8,
    poison: Mutex<Option<String>>,
    poisoned: AtomicBool,
}

impl<F: FileSystem> DbCore<F> {
    /// Opens (recovers) the database stored in `dir`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open(
        id: u64,
        name: &str,
        salt: u64,
        born: u64,
        dir: PathBuf,
        fs: Arc<F>,
        opts: Arc<Options>,
        memory: Memory,
        cache: Arc<RecordCache>,
    ) -> Result<Self> {
        let index = Index::new(opts.index_shards);
        let recovered = recovery::recover(&*fs, &dir, &index, salt)?;
        let counters = Counters::default();
        index.for_each_head(|_, _, loc| {
            counters.live_docs.fetch_add(1, Ordering::Relaxed);
            counters.live_bytes.fetch_add(
                crate::log::record::HEADER_LEN as u64 + u64::from(loc.len),
                Ordering::Relaxed,
            );
        });
        counters
            .log_bytes
            .store(recovered.writer.total_bytes(), Ordering::Relaxed);
        counters
            .since_checkpoint
            .store(recovered.replayed_bytes, Ordering::Relaxed);
        counters
            .truncated_at_open
            .store(recovered.truncated_bytes, Ordering::Relaxed);
        counters
            .replayed_at_open
            .store(recovered.replayed_bytes, Ordering::Relaxed);
        // Existing data is charged even if it exceeds the cap: refusing to open would lose
        // access to it. New writes fail until enough is deleted.
        memory.charge(index.entry_count() * ENTRY_BYTES);
        let last = recovered.writer.last_version;
        Ok(DbCore {
            id,
            name: name.to_string(),
            born,
            dir,
            fs,
            opts,
            index,
            memory,
            cache,
            log: Mutex::new(recovered.writer),
            group: GroupCommit::new(last),
            visible: AtomicU64::new(last),
            readers: Readers::default(),
            garbage: Mutex::new(Garbage::default()),
            counters,
            maintenance: Maintenance::default(),
            state: AtomicU8::new(OPEN),
            poison: Mutex::new(None),
            poisoned: AtomicBool::new(false),
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The database's directory: its log segments and checkpoint.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn fs(&self) -> &F {
        &self.fs
    }

    pub(crate) fn opts(&self) -> &Options {
        &self.opts
    }

    pub(crate) fn index(&self) -> &Index<F> {
        &self.index
    }

    pub(crate) fn memory(&self) -> &Memory {
        &self.memory
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn group(&self) -> &GroupCommit {
        &self.group
    }

    pub(crate) fn maintenance(&self) -> &Maintenance {
        &self.maintenance
    }

    /// The append side of the log, locked: held while validating, appending and applying a
    /// commit, and while a checkpoint or compaction reads or changes the set of segments.
    pub(crate) fn log(&self) -> MutexGuard<'_, LogWriter<F>> {
        self.log.lock()
    }

    /// The newest version whose commit is complete.
    pub(crate) fn visible_version(&self) -> u64 {
        self.visible.load(Ordering::Acquire)
    }

    /// Makes the commit of `version` visible to new reads and snapshots.
    pub(crate) fn make_visible(&self, version: u64) {
        self.visible.fetch_max(version, Ordering::AcqRel);
    }

    /// The oldest version a reader may still read.
    pub(crate) fn oldest_reader(&self) -> u64 {
        self.readers.oldest(&self.visible)
    }

    /// Registers a reader at the newest visible version, which it returns.
    pub(crate) fn register_reader(&self) -> u64 {
        self.readers.register(&self.visible)
    }

    /// Registers one more reader at `at` (a copy of a registered one).
    pub(crate) fn register_reader_again(&self, at: u64) {
        self.readers.register_again(at);
    }

    /// Unregisters a reader at `at`; the last one out lets older versions be pruned.
    pub(crate) fn unregister_reader(&self, at: u64) {
        // In a child of fork() the parent's bookkeeping is not ours to change, and a lock a
        // parent thread held at the fork would never be released here.
        if crate::fork::generation() != self.born {
            return;
        }
        if self.readers.unregister(at) {
            self.collect_garbage();
        }
    }

    /// Remembers `ids` as holding versions to prune once no reader needs them.
    pub(crate) fn defer_garbage(&self, ids: Vec<u64>) {
        self.garbage.lock().ids.extend(ids);
    }

    pub(crate) fn describe(&self) -> String {
        format!("database '{}'", self.name)
    }

    /// Fails if the database was closed or dropped.
    pub(crate) fn check_open(&self) -> Result<()> {
        crate::fork::check(self.born, || self.describe())?;
        match self.state.load(Ordering::Acquire) {
            OPEN => Ok(()),
            DROPPED => Err(Error::Closed(format!("{} (dropped)", self.describe()))),
            _ => Err(Error::Closed(self.describe())),
        }
    }

    /// Fails if the database cannot take writes: closed, dropped or poisoned.
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.check_open()?;
        self.check_poison()
    }

    /// Fails if an earlier I/O failure poisoned the database.
    pub(crate) fn check_poison(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            let why = self.poison.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned(why));
        }
        Ok(())
    }

    /// Marks the handle unusable after a failed write or fsync, and returns `err` to report:
    /// what is on disk is no longer known to match what was acknowledged, so only a reopen
    /// (recovery) may decide. The first such error is the one later calls report.
    pub(crate) fn poisoned(&self, err: Error) -> Error {
        let mut p = self.poison.lock();
        if p.is_none() {
            *p = Some(err.to_string());
        }
        self.poisoned.store(true, Ordering::Release);
        err
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(crate) fn mark_closed(&self, dropped: bool) {
        self.state
            .store(if dropped { DROPPED } else { CLOSED }, Ordering::Release);
    }

    pub(crate) fn not_found(&self, id: u64) -> Error {
        Error::NotFound(format!("document {id} in {}", self.describe()))
    }

    fn cache_key(&self, loc: &Location<F>) -> CacheKey {
        CacheKey {
            db: self.id,
            segment: loc.segment.seq,
            offset: loc.offset,
        }
    }

    /// Reads a version located by the index: from the record cache, or from its segment
    /// (verified) and then into the cache.
    pub(crate) fn read_located(&self, id: u64, found: Option<Version<F>>) -> Result<Vec<u8>> {
        let Some(loc) = found.and_then(|v| v.loc) else {
            return Err(self.not_found(id));
        };
        let key = self.cache_key(&loc);
        if let Some(data) = self.cache.get(&key, loc.len) {
            return Ok(data);
        }
        let data = loc.segment.read_payload(loc.offset, loc.len, id)?;
        self.cache.insert(key, &data);
        Ok(data)
    }

    /// The newest visible version of `id`, if any (a deletion is returned as such).
    fn newest(&self, id: u64) -> Result<Option<Version<F>>> {
        self.check_open()?;
        Ok(self
            .index
            .visible_now(id, || self.visible.load(Ordering::Acquire)))
    }

    /// A copy of the document at `loc` if the record cache holds it.
    pub(crate) fn cached_copy(&self, loc: &Location<F>) -> Option<Vec<u8>> {
        self.cache.get(&self.cache_key(loc), loc.len)
    }

    /// Reads the newest visible version.
    pub(crate) fn read(&self, id: u64) -> Result<Vec<u8>> {
        let found = self.newest(id)?;
        self.read_located(id, found)
    }

    /// `f` of the newest visible version if the record cache holds it.
    pub(crate) fn read_cached<R>(&self, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        let Some(loc) = self.newest(id)?.and_then(|v| v.loc) else {
            return Err(self.not_found(id));
        };
        Ok(self.cache.get_with(&self.cache_key(&loc), loc.len, f))
    }

    pub(crate) fn contains(&self, id: u64) -> Result<bool> {
        Ok(self.newest(id)?.is_some_and(|v| v.loc.is_some()))
    }

    /// fsyncs the active segment and returns the newest version it covers (group commit).
    pub(crate) fn sync_log(&self) -> Result<u64> {
        let (target, segment, end) = {
            let log = self.log.lock();
            (log.last_version, Arc::clone(&log.active), log.end)
        };
        segment.sync_to(end).map_err(|e| self.poisoned(e))?;
        Ok(target)
    }

    /// fsyncs the log if the database can take writes: every commit made so far becomes
    /// durable.
    pub(crate) fn sync(&self) -> Result<()> {
        self.check_writable()?;
        let covered = self.sync_log()?;
        self.group.mark_synced(covered);
        Ok(())
    }

    /// Prunes old versions and deletion markers no reader can see any more.
    pub(crate) fn collect_garbage(&self) {
        let oldest = self.readers.oldest(&self.visible);
        let Some(mut garbage) = self.garbage.try_lock() else {
            return;
        };
        if garbage.ids.is_empty() || oldest <= garbage.last_oldest {
            return;
        }
        garbage.last_oldest = oldest;
        let ids = std::mem::take(&mut garbage.ids);
        let (mut versions, mut entries) = (0u64, 0u64);
        for id in ids {
            let (released, removed, again) = self.index.prune(id, oldest);
            versions += released;
            entries += u64::from(removed);
            if again {
                garbage.ids.push(id);
            }
        }
        garbage.ids.sort_unstable();
        garbage.ids.dedup();
        self.memory
            .release(versions * VERSION_BYTES + entries * ENTRY_BYTES);
    }

    pub(crate) fn dead_bytes(&self) -> u64 {
        let log = self.counters.log_bytes.load(Ordering::Relaxed);
        log.saturating_sub(self.counters.live_bytes.load(Ordering::Relaxed))
    }

    pub(crate) fn stats(&self) -> DbStats {
        let c = &self.counters;
        let log_bytes = c.log_bytes.load(Ordering::Relaxed);
        DbStats {
            id: self.id,
            name: self.name.clone(),
            documents: c.live_docs.load(Ordering::Relaxed),
            live_bytes: c.live_bytes.load(Ordering::Relaxed),
            dead_bytes: self.dead_bytes(),
            log_bytes,
            segments: self.log.lock().segments.len() as u64,
            committed_txns: c.commits.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            checkpoints: c.checkpoints.load(Ordering::Relaxed),
            last_version: self.visible.load(Ordering::Relaxed),
            active_readers: self.readers.count() as u64,
            memory_used: self.memory.db.used(),
            memory_limit: self.memory.db.limit(),
            poisoned: self.is_poisoned(),
            recovered_truncated_bytes: c.truncated_at_open.load(Ordering::Relaxed),
            recovered_replayed_bytes: c.replayed_at_open.load(Ordering::Relaxed),
        }
    }
}

impl<F: FileSystem> Drop for DbCore<F> {
    fn drop(&mut self) {
        // Hand this database's share of the global budget back.
        self.memory.detach();
    }
}

/// One operation of an atomic [`Database::batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOp<'a> {
    /// Insert a new document; fails with `AlreadyExists` if the id is taken.
    Create(u64, &'a [u8]),
    /// Replace an existing document; fails with `NotFound` if absent.
    Update(u64, &'a [u8]),
    /// Insert or replace.
    Put(u64, &'a [u8]),
    /// Remove an existing document; fails with `NotFound` if absent.
    Delete(u64),
}

impl BatchOp<'_> {
    /// The document id this operation touches.
    pub fn id(&self) -> u64 {
        match *self {
            BatchOp::Create(id, _)
            | BatchOp::Update(id, _)
            | BatchOp::Put(id, _)
            | BatchOp::Delete(id) => id,
        }
    }
}

/// A handle to one logical database. Cheap to clone; `Send + Sync`.
///
/// Plain operations (`create`, `read`, ...) each run as their own transaction. For several
/// operations that must commit together use [`Database::batch`] or [`Database::begin`].
pub struct Database<F: FileSystem = OsFs> {
    pub(crate) core: Arc<DbCore<F>>,
    pub(crate) store: Arc<StoreInner<F>>,
}

impl<F: FileSystem> Clone for Database<F> {
    fn clone(&self) -> Self {
        Database {
            core: Arc::clone(&self.core),
            store: Arc::clone(&self.store),
        }
    }
}

impl<F: FileSystem> std::fmt::Debug for Database<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("id", &self.core.id)
            .field("name", &self.core.name)
            .finish()
    }
}

impl<F: FileSystem> Database<F> {
    /// The database's name in the catalog.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The database's catalog id (never reused, even after a drop).
    pub fn id(&self) -> u64 {
        self.core.id
    }

    fn write(&self, ops: &[BatchOp<'_>], mode: CommitMode) -> Result<u64> {
        let version = self.core.commit(ops, mode)?;
        self.store.maybe_maintain(self);
        Ok(version)
    }

    /// Inserts a new document. `AlreadyExists` if `id` is taken.
    pub fn create(&self, id: u64, data: &[u8]) -> Result<()> {
        self.write(&[BatchOp::Create(id, data)], CommitMode::Single)
            .map(drop)
    }

    /// Reads the newest committed version of a document. `NotFound` if absent.
    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        self.core.read(id)
    }

    /// Reads a document only if the record cache holds it, without any system call:
    /// `Ok(Some(f(bytes)))`, or `Ok(None)` if it must come from disk (call
    /// [`Database::read`]). `NotFound` if absent. For callers to whom a blocking call
    /// costs more than a cached read, such as a binding that would release an interpreter
    /// lock; `f` runs while a cache shard is locked, so it should only copy the bytes.
    pub fn read_cached<R>(&self, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.core.read_cached(id, f)
    }

    /// Copies document `id` to the start of `dst` if it fits and returns its length either
    /// way: a longer document leaves `dst` unchanged, and the caller retries with a buffer of
    /// that length. The read for callers with a reusable buffer (C's `docdb_db_read_into`,
    /// Node's `readInto`): a cached document is copied once, with no allocation. `NotFound`
    /// if absent.
    pub fn read_into(&self, id: u64, dst: &mut [u8]) -> Result<usize> {
        match self.read_cached_into(id, dst)? {
            Some(len) => Ok(len),
            None => Ok(copy_if_fits(dst, &self.read(id)?)),
        }
    }

    /// [`Database::read_into`] only if the record cache holds the document, without any
    /// system call: `Ok(None)` if it must come from disk (as [`Database::read_cached`]).
    pub fn read_cached_into(&self, id: u64, dst: &mut [u8]) -> Result<Option<usize>> {
        self.core.read_cached(id, |doc| copy_if_fits(dst, doc))
    }

    /// Replaces a whole document. `NotFound` if absent.
    pub fn update(&self, id: u64, data: &[u8]) -> Result<()> {
        self.write(&[BatchOp::Update(id, data)], CommitMode::Single)
            .map(drop)
    }

    /// Inserts or replaces a document.
    pub fn put(&self, id: u64, data: &[u8]) -> Result<()> {
        self.write(&[BatchOp::Put(id, data)], CommitMode::Single)
            .map(drop)
    }

    /// Deletes a document (a tombstone is logged). `NotFound` if absent.
    pub fn delete(&self, id: u64) -> Result<()> {
        self.write(&[BatchOp::Delete(id)], CommitMode::Single)
            .map(drop)
    }

    /// Whether a document exists.
    pub fn contains(&self, id: u64) -> Result<bool> {
        self.core.contains(id)
    }

    /// Number of documents.
    pub fn len(&self) -> Result<u64> {
        self.core.check_open()?;
        Ok(self.core.counters.live_docs.load(Ordering::Relaxed))
    }

    /// Whether the database holds no documents.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Applies all operations atomically, in order, as one transaction: either every
    /// operation takes effect or none does. A failing operation is reported as
    /// [`Error::Batch`] with its index; [`Error::kind`] gives the underlying kind.
    /// Returns the commit's version.
    pub fn batch(&self, ops: &[BatchOp<'_>]) -> Result<u64> {
        self.write(ops, CommitMode::Batch)
    }

    /// Starts a transaction reading from a snapshot of the current state.
    pub fn begin(&self) -> Result<Transaction<F>> {
        self.core.check_writable()?;
        Ok(Transaction::new(self.clone()))
    }

    /// A read-only, consistent view of the database as it is now.
    pub fn snapshot(&self) -> Result<Snapshot<F>> {
        self.core.check_open()?;
        Ok(Snapshot::new(self.clone()))
    }

    /// The documents of `range` as they are now (one snapshot, held by the iterator), in the
    /// range's order, up to its limit.
    pub fn range(&self, range: &IdRange) -> Result<OwnedScan<F>> {
        self.snapshot()?.into_range(range)
    }

    /// Rewrites live documents into new segments and deletes the old ones. Reads and writes
    /// continue meanwhile. Returns how many bytes of log were reclaimed.
    pub fn compact(&self) -> Result<u64> {
        maintenance::compact(&self.core)
    }

    /// Writes a checkpoint so that the next open replays only what follows it.
    pub fn checkpoint(&self) -> Result<()> {
        maintenance::checkpoint(&self.core)
    }

    /// fsyncs the log: every commit made so far becomes durable (useful with `Sync::Normal`).
    pub fn sync(&self) -> Result<()> {
        self.core.sync()
    }

    /// Counters and sizes of this database.
    pub fn stats(&self) -> Result<DbStats> {
        self.core.check_open()?;
        Ok(self.core.stats())
    }
}

/// Copies `doc` to the start of `dst` if it fits; returns its length either way: the
/// contract of every `read_into` (C, Node, Python, the `docdb` facade's remote case).
pub fn copy_if_fits(dst: &mut [u8], doc: &[u8]) -> usize {
    if let Some(dst) = dst.get_mut(..doc.len()) {
        dst.copy_from_slice(doc);
    }
    doc.len()
}
