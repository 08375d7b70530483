//! The store: one data directory holding a catalog of named logical databases.
//!
//! ```text
//! <dir>/LOCK          advisory lock (flock): one process per directory at a time
//! <dir>/CATALOG       the catalog (see catalog.rs)
//! <dir>/db-<id>/      one directory per database: log segments and CHECKPOINT
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::backup;
use crate::cache::RecordCache;
use crate::catalog::{new_salt, validate_name, Catalog, CatalogEntry, DbStatus};
use crate::db::{Database, DbCore};
use crate::error::{Error, Result};
use crate::fs::{FileSystem, OsFs};
use crate::maintenance;
use crate::memory::{Budget, Memory};
use crate::options::{Options, Sync};
use crate::stats::StoreStats;

const LOCK_FILE: &str = "LOCK";

/// A database's entry in [`Store::list_dbs`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbInfo {
    pub id: u64,
    pub name: String,
}

pub(crate) struct StoreInner<F: FileSystem> {
    dir: PathBuf,
    fs: Arc<F>,
    opts: Arc<Options>,
    catalog: Mutex<Catalog>,
    open: Mutex<HashMap<u64, Arc<DbCore<F>>>>,
    global: Arc<Budget>,
    /// The record cache shared by every database of the store.
    cache: Arc<RecordCache>,
    lock: Mutex<Option<F::Lock>>,
    closed: AtomicBool,
    /// The fork generation the store was opened in (`fork.rs`).
    born: u64,
    background: Mutex<Vec<JoinHandle<()>>>,
    /// Store handles not yet closed or dropped (each `open` of this directory adds one);
    /// the store closes when the last one is closed. Changed together with `closed`.
    handles: Mutex<usize>,
    /// Held by the `close` that closes the files, so that an `open` arriving meanwhile
    /// waits for the directory lock to be released instead of failing with `Locked`.
    closing: Mutex<()>,
}

/// One `open`'s handle on a store that may be shared (see registry.rs).
struct Handle<F: FileSystem> {
    inner: Arc<StoreInner<F>>,
    /// The path as this handle's `open` spelled it.
    path: PathBuf,
    released: AtomicBool,
}

impl<F: FileSystem> Handle<F> {
    /// Gives this handle's share back; true if it was the last one, in which case the
    /// store is now marked closed and `closing` must be held by the caller.
    fn release(&self) -> bool {
        if self.released.swap(true, Ordering::AcqRel) {
            return false;
        }
        let mut n = self.inner.handles.lock();
        *n -= 1;
        if *n == 0 && !self.inner.closed.swap(true, Ordering::AcqRel) {
            return true;
        }
        false
    }
}

impl<F: FileSystem> Drop for Handle<F> {
    /// A dropped handle gives its share back without closing anything: the files close
    /// when the last reference to the store (database, transaction, snapshot) goes.
    fn drop(&mut self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            *self.inner.handles.lock() -= 1;
        }
    }
}

/// An open data directory. Cheap to clone (a clone is the same handle); `Send + Sync`.
///
/// Every [`Store::open`] of a directory this process already has open returns a new
/// handle on the same open store. The directory stays locked until the last handle is
/// closed ([`Store::close`]), or until every handle and every database, transaction and
/// snapshot is dropped.
pub struct Store<F: FileSystem = OsFs> {
    inner: Arc<StoreInner<F>>,
    handle: Arc<Handle<F>>,
}

impl<F: FileSystem> Clone for Store<F> {
    fn clone(&self) -> Self {
        Store {
            inner: Arc::clone(&self.inner),
            handle: Arc::clone(&self.handle),
        }
    }
}

impl<F: FileSystem> std::fmt::Debug for Store<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl Store<OsFs> {
    /// Opens (creating if needed) the data directory at `path`.
    ///
    /// If this process already has the directory open, returns a new handle on that open
    /// store (`InvalidArgument` if `opts` differ from the options it was opened with).
    /// `Locked` if another process has it open. `InvalidArgument` for an empty path. A
    /// failed open leaves the file system as it found it.
    pub fn open(path: impl AsRef<Path>, opts: Options) -> Result<Store<OsFs>> {
        crate::registry::open(path.as_ref(), opts)
    }
}

fn db_dir(root: &Path, id: u64) -> PathBuf {
    root.join(format!("db-{id}"))
}

/// Creates `dir` and any missing ancestors, and makes each new entry durable in its parent:
/// without that, power loss can take a new store, with its acknowledged commits, away.
fn create_dir_durably<F: FileSystem>(fs: &F, dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !fs.exists(at)? {
        missing.push(at);
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => break,
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    fs.create_dir_all(dir)?;
    for new in missing.iter().rev() {
        let parent = new
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs.sync_dir(parent)?;
    }
    Ok(())
}

impl<F: FileSystem> Store<F> {
    /// Opens a data directory through the file system `fs` (tests use a fault-injecting one).
    ///
    /// Unlike [`Store::open`], never shares: a second open of one directory gets `Locked`.
    pub fn open_with(fs: F, path: impl AsRef<Path>, opts: Options) -> Result<Store<F>> {
        opts.validate()?;
        let dir = path.as_ref().to_path_buf();
        if dir.as_os_str().is_empty() {
            return Err(Error::InvalidArgument("the path is empty".to_string()));
        }
        // The outermost directory this open creates, removed again if the open fails.
        let mut created = None;
        let mut missing = Some(dir.as_path());
        while let Some(d) = missing.filter(|d| !d.as_os_str().is_empty()) {
            if fs.exists(d).unwrap_or(true) {
                break;
            }
            created = Some(d.to_path_buf());
            missing = d.parent();
        }
        let fs = Arc::new(fs);
        let opened = Self::open_dir(Arc::clone(&fs), dir, opts);
        if let (Err(_), Some(top)) = (&opened, created) {
            // Nothing of a failed open stays behind; the error that matters is the open's.
            let _ = fs.remove_dir_all(&top);
        }
        opened
    }

    fn open_dir(fs: Arc<F>, dir: PathBuf, opts: Options) -> Result<Store<F>> {
        let born = crate::fork::register();
        let io = |what: &str| {
            let what = format!("{what} {}", dir.display());
            move |e| Error::io(what, e)
        };
        create_dir_durably(&*fs, &dir).map_err(io("creating"))?;
        let lock = fs
            .try_lock(&dir.join(LOCK_FILE))
            .map_err(io("locking"))?
            .ok_or_else(|| Error::Locked(dir.clone()))?;
        let mut catalog = Catalog::load(&*fs, &dir)?;
        if catalog.legacy {
            // A store of format 1: give every database its salt (new segments bind their
            // records to it; format-1 segments are still read as they are). The catalog is
            // replaced atomically: a crash leaves the old one, upgraded at the next open.
            for e in &mut catalog.entries {
                e.salt = new_salt();
            }
            catalog.legacy = false;
            catalog.save(&*fs, &dir)?;
        }

        // Remove what a crash left behind: directories of dropped databases, and of a
        // create_db that never reached the catalog (ids at or past `next_id`). Any other
        // unknown directory means the catalog does not describe this data: refuse to guess.
        // The catalog that says so is made durable first: after a `drop_db` whose directory
        // fsync failed, the new catalog may still be only in the page cache, and a power
        // loss could bring the old one back (the database active) after its files are gone.
        fs.sync_dir(&dir).map_err(io("syncing"))?;
        let catalog_path = dir.join(crate::catalog::CATALOG_FILE);
        for name in fs.list_dir(&dir).map_err(io("listing"))? {
            let Some(id) = name.strip_prefix("db-").and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            let entry = catalog.entries.iter().find(|e| e.id == id);
            let leftover = match entry {
                Some(e) => e.status == DbStatus::Dropped,
                None if catalog.entries.is_empty()
                    && !fs.exists(&catalog_path).map_err(io("reading"))? =>
                {
                    return Err(Error::corruption(
                        &catalog_path,
                        0,
                        format!("the catalog is missing but database directory {name} exists"),
                    ));
                }
                None => id >= catalog.next_id,
            };
            if leftover {
                fs.remove_dir_all(&dir.join(&name))
                    .map_err(io("removing a dropped database in"))?;
            } else if entry.is_none() {
                return Err(Error::corruption(
                    &catalog_path,
                    0,
                    format!("database directory {name} is not in the catalog"),
                ));
            }
        }
        // The catalog and directories this open goes by must be durable before anything
        // builds on them (an earlier failed fsync may have left them not so), and leftover
        // removals must not come back.
        fs.sync_dir(&dir).map_err(io("syncing"))?;

        let global = Arc::new(Budget::new("store", opts.memory_limit));
        let cache = Arc::new(RecordCache::new(opts.cache_size));
        let path = dir.clone();
        let inner = Arc::new(StoreInner {
            dir,
            fs,
            opts: Arc::new(opts),
            catalog: Mutex::new(catalog),
            open: Mutex::new(HashMap::new()),
            global,
            cache,
            lock: Mutex::new(Some(lock)),
            closed: AtomicBool::new(false),
            born,
            background: Mutex::new(Vec::new()),
            handles: Mutex::new(0),
            closing: Mutex::new(()),
        });
        *inner.handles.lock() = 1;
        Ok(Store::with_handle(inner, &path))
    }

    fn with_handle(inner: Arc<StoreInner<F>>, path: &Path) -> Store<F> {
        let handle = Arc::new(Handle {
            inner: Arc::clone(&inner),
            path: path.to_path_buf(),
            released: AtomicBool::new(false),
        });
        Store { inner, handle }
    }

    /// A new handle on the open store `inner`, or `None` if that store was closed
    /// meanwhile (the caller then opens the directory anew, after the close finished).
    /// `InvalidArgument` if `opts` differ from the options the store was opened with.
    pub(crate) fn share(
        inner: Arc<StoreInner<F>>,
        path: &Path,
        opts: &Options,
    ) -> Result<Option<Store<F>>> {
        {
            let mut n = inner.handles.lock();
            if inner.closed.load(Ordering::Acquire) {
                drop(n);
                // Wait until the closing handle has released the directory lock.
                drop(inner.closing.lock());
                return Ok(None);
            }
            if *inner.opts != *opts {
                return Err(Error::InvalidArgument(format!(
                    "{} is already open in this process with other options",
                    inner.dir.display()
                )));
            }
            *n += 1;
        }
        Ok(Some(Store::with_handle(inner, path)))
    }

    pub(crate) fn inner(&self) -> &Arc<StoreInner<F>> {
        &self.inner
    }

    /// Fails once this handle was closed, or the store it shares.
    fn check_open(&self) -> Result<()> {
        if self.handle.released.load(Ordering::Acquire) {
            return Err(Error::Closed(format!(
                "store {}",
                self.handle.path.display()
            )));
        }
        self.inner.check_open()
    }

    /// The data directory, as this handle's `open` spelled it.
    pub fn path(&self) -> &Path {
        &self.handle.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// Creates a database. `AlreadyExists` if the name is taken, `InvalidName` if invalid.
    pub fn create_db(&self, name: &str) -> Result<Database<F>> {
        validate_name(name)?;
        let inner = &self.inner;
        self.check_open()?;
        let mut catalog = inner.catalog.lock();
        if catalog.active(name).is_some() {
            return Err(Error::AlreadyExists(format!("database '{name}'")));
        }
        let id = catalog.next_id;
        // The catalog entry goes first; `load` then creates the directory. The other order
        // lets a crash in between leave a database directory next to a missing catalog,
        // which open refuses as corruption.
        let mut next = catalog.clone();
        next.next_id += 1;
        next.entries.push(CatalogEntry {
            id,
            salt: new_salt(),
            name: name.to_string(),
            status: DbStatus::Active,
        });
        next.save(&*inner.fs, &inner.dir)?;
        *catalog = next;
        drop(catalog);
        self.load(id, name)
    }

    /// Opens a database by name (loading it on first use). `NotFound` if it does not exist.
    pub fn open_db(&self, name: &str) -> Result<Database<F>> {
        validate_name(name)?;
        self.check_open()?;
        let id = self
            .inner
            .catalog
            .lock()
            .active(name)
            .map(|e| e.id)
            .ok_or_else(|| Error::NotFound(format!("database '{name}'")))?;
        self.load(id, name)
    }

    /// Opens a database, creating it first if it does not exist.
    pub fn open_or_create_db(&self, name: &str) -> Result<Database<F>> {
        match self.open_db(name) {
            Err(Error::NotFound(_)) => match self.create_db(name) {
                Err(Error::AlreadyExists(_)) => self.open_db(name),
                other => other,
            },
            other => other,
        }
    }

    fn load(&self, id: u64, name: &str) -> Result<Database<F>> {
        let inner = &self.inner;
        let salt = inner
            .catalog
            .lock()
            .entries
            .iter()
            .find(|e| e.id == id)
            .map_or(0, |e| e.salt);
        let mut open = inner.open.lock();
        self.check_open()?;
        let core = match open.get(&id) {
            Some(core) => Arc::clone(core),
            None => {
                let dir = db_dir(&inner.dir, id);
                let io = |what: &str, e| Error::io(format!("{what} {}", dir.display()), e);
                if !inner.fs.exists(&dir).map_err(|e| io("checking", e))? {
                    inner
                        .fs
                        .create_dir_all(&dir)
                        .map_err(|e| io("creating", e))?;
                }
                // The directory's entry must be durable before any commit in it is
                // acknowledged, or power loss takes the whole database with it. Synced on
                // every first load, not only on creation: an earlier attempt may have
                // created it and failed to sync (the page cache shows it all the same).
                inner
                    .fs
                    .sync_dir(&inner.dir)
                    .map_err(|e| io("syncing the parent of", e))?;
                let memory = Memory {
                    global: Arc::clone(&inner.global),
                    db: Arc::new(Budget::new(
                        format!("database '{name}'"),
                        inner.opts.db_memory_limit,
                    )),
                };
                let core = Arc::new(DbCore::open(
                    id,
                    name,
                    salt,
                    inner.born,
                    dir,
                    Arc::clone(&inner.fs),
                    Arc::clone(&inner.opts),
                    memory,
                    Arc::clone(&inner.cache),
                )?);
                open.insert(id, Arc::clone(&core));
                core
            }
        };
        Ok(Database {
            core,
            store: Arc::clone(inner),
        })
    }

    /// Drops a database: removes it from the catalog (durably) and deletes its files.
    /// Open handles to it fail with `Closed` from then on. `NotFound` if it does not exist.
    pub fn drop_db(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        let inner = &self.inner;
        self.check_open()?;
        let mut catalog = inner.catalog.lock();
        let id = catalog
            .active(name)
            .map(|e| e.id)
            .ok_or_else(|| Error::NotFound(format!("database '{name}'")))?;
        let mut next = catalog.clone();
        for e in next.entries.iter_mut().filter(|e| e.id == id) {
            e.status = DbStatus::Dropped;
        }
        let saved = next.save(&*inner.fs, &inner.dir);
        // A failure after the rename (the directory fsync) leaves the new catalog in place,
        // not known durable: the database is dropped as far as anyone can see, so it must
        // take no more writes, but its files stay until the next open decides.
        if saved.is_err() && !Catalog::load(&*inner.fs, &inner.dir).is_ok_and(|c| c == next) {
            return saved;
        }
        *catalog = next;
        drop(catalog);
        if let Some(core) = inner.open.lock().remove(&id) {
            core.mark_closed(true);
            // Wait for a running compaction or checkpoint before deleting its files.
            maintenance::wait_idle(&core);
        }
        saved?;
        // The catalog says dropped: if removal fails or a crash interrupts it, the next
        // open of the store finishes it.
        let dir = db_dir(&inner.dir, id);
        let _ = inner.fs.remove_dir_all(&dir);
        let _ = inner.fs.sync_dir(&inner.dir);
        Ok(())
    }

    /// The active databases, by id.
    pub fn list_dbs(&self) -> Result<Vec<DbInfo>> {
        self.check_open()?;
        let catalog = self.inner.catalog.lock();
        Ok(catalog
            .entries
            .iter()
            .filter(|e| e.status == DbStatus::Active)
            .map(|e| DbInfo {
                id: e.id,
                name: e.name.clone(),
            })
            .collect())
    }

    /// Statistics of the store and of each open database.
    pub fn stats(&self) -> Result<StoreStats> {
        let inner = &self.inner;
        self.check_open()?;
        let (total, active) = {
            let c = inner.catalog.lock();
            let active = c
                .entries
                .iter()
                .filter(|e| e.status == DbStatus::Active)
                .count();
            (c.entries.len() as u64, active as u64)
        };
        let mut dbs: Vec<_> = inner.open.lock().values().map(|db| db.stats()).collect();
        dbs.sort_by(|a, b| a.name.cmp(&b.name));
        let sum = |f: fn(&crate::stats::DbStats) -> u64| dbs.iter().map(f).sum::<u64>();
        let (cache_bytes, cache_hits, cache_misses) = inner.cache.usage();
        Ok(StoreStats {
            databases_total: total,
            databases_active: active,
            databases_open: dbs.len() as u64,
            documents: sum(|d| d.documents),
            committed_txns: sum(|d| d.committed_txns),
            log_bytes: sum(|d| d.log_bytes),
            live_bytes: sum(|d| d.live_bytes),
            dead_bytes: sum(|d| d.dead_bytes),
            compactions: sum(|d| d.compactions),
            memory_used: inner.global.used(),
            memory_limit: inner.global.limit(),
            cache_bytes,
            cache_hits,
            cache_misses,
            databases: dbs,
        })
    }

    fn open_dbs(&self) -> Vec<Arc<DbCore<F>>> {
        self.inner.open.lock().values().cloned().collect()
    }

    /// Writes a checkpoint of every open database.
    pub fn checkpoint(&self) -> Result<()> {
        self.check_open()?;
        for db in self.open_dbs() {
            maintenance::checkpoint(&db)?;
        }
        Ok(())
    }

    /// fsyncs every open database's log.
    pub fn sync(&self) -> Result<()> {
        self.check_open()?;
        for db in self.open_dbs() {
            db.sync()?;
        }
        Ok(())
    }

    /// Closes this handle; this handle fails with `Closed` afterwards, and calling it again
    /// is a no-op. While other handles of this process share the store (see
    /// [`Store::open`]), that is all: the databases, transactions and snapshots stay usable.
    /// Closing the last handle closes the store: waits for background work, checkpoints and
    /// syncs every open database, and releases the directory lock; every database,
    /// transaction and snapshot fails with `Closed` afterwards. Returns the first error, including
    /// `Poisoned` for a database an earlier I/O failure left unsyncable (the store is closed
    /// all the same; reopen it to recover from what is on disk).
    pub fn close(&self) -> Result<()> {
        let inner = &self.inner;
        crate::fork::check(inner.born, || format!("store {}", inner.dir.display()))?;
        let _closing = inner.closing.lock();
        if !self.handle.release() {
            return Ok(());
        }
        let handles = std::mem::take(&mut *inner.background.lock());
        for h in handles {
            let _ = h.join();
        }
        let dbs: Vec<_> = inner.open.lock().drain().map(|(_, db)| db).collect();
        let mut first_err = None;
        for db in dbs {
            if let Err(e) = maintenance::close(&db) {
                first_err.get_or_insert(e);
            }
        }
        inner.lock.lock().take();
        first_err.map_or(Ok(()), Err)
    }

    /// Writes a consistent copy of the store into `dest` while reads and writes go on.
    ///
    /// `dest` must not exist or be an empty directory outside this store's directory
    /// (`AlreadyExists` or `InvalidArgument` otherwise). The copy holds, for every
    /// database, exactly the commits made before one instant (a prefix of the commit
    /// order); writers are held up only while each database's position is noted. Every
    /// file and directory of the copy, and the parent of a created `dest`, are fsynced
    /// before this returns, and the copy is verified by opening it (every record's
    /// checksum) and checkpointed. `progress(done, total)` reports bytes copied. On
    /// failure nothing of the copy is left behind. See `backup.rs`.
    pub fn backup(&self, dest: impl AsRef<Path>, mut progress: impl FnMut(u64, u64)) -> Result<()>
    where
        F: Clone,
    {
        let inner = &self.inner;
        self.check_open()?;
        let active = |c: &Catalog| -> Vec<(u64, String)> {
            c.entries
                .iter()
                .filter(|e| e.status == DbStatus::Active)
                .map(|e| (e.id, e.name.clone()))
                .collect()
        };
        let cut = loop {
            // Every active database loaded (loading takes the catalog lock itself), then the
            // cut taken under the catalog lock, provided no database was created or dropped
            // in between; otherwise again.
            let wanted = active(&inner.catalog.lock());
            let dbs = wanted
                .iter()
                .map(|(id, name)| self.load(*id, name))
                .collect::<Result<Vec<_>>>()?;
            let catalog = inner.catalog.lock();
            if active(&catalog) == wanted {
                break backup::Cut::take(catalog.clone(), &dbs)?;
            }
        };
        backup::write(
            &*inner.fs,
            &inner.dir,
            cut,
            dest.as_ref(),
            &inner.opts,
            &mut progress,
        )
    }

    /// Whether this handle was closed ([`Store::close`]), or the store it shares.
    pub fn is_closed(&self) -> bool {
        self.check_open().is_err()
    }
}

impl<F: FileSystem> StoreInner<F> {
    /// False in a child process that inherited the store through fork().
    pub(crate) fn opened_in_this_process(&self) -> bool {
        crate::fork::generation() == self.born
    }

    fn check_open(&self) -> Result<()> {
        crate::fork::check(self.born, || format!("store {}", self.dir.display()))?;
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed(format!("store {}", self.dir.display())))
        } else {
            Ok(())
        }
    }

    /// Starts background maintenance of `db` if it is due (see maintenance.rs), unless the
    /// store is closing.
    pub(crate) fn maybe_maintain(&self, db: &Database<F>) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        if let Some(handle) = maintenance::maybe_start(&db.core) {
            let mut bg = self.background.lock();
            bg.retain(|h| !h.is_finished());
            bg.push(handle);
        }
    }
}

impl<F: FileSystem> Drop for StoreInner<F> {
    /// Dropped without `close`: no checkpoint (the next open replays the log), but in
    /// `Sync::Normal` the logs are fsynced so a clean exit loses nothing on power loss;
    /// preallocated log space is cut off.
    /// Background work is stopped and joined before the lock is released.
    fn drop(&mut self) {
        if !self.opened_in_this_process() {
            // Inherited through fork(): the files and threads are the parent's. Touch
            // nothing (the parent's threads do not exist here: joining them would hang).
            for handle in self.background.get_mut().drain(..) {
                std::mem::forget(handle);
            }
            return;
        }
        for db in self.open.get_mut().values() {
            if db.check_writable().is_ok() {
                // Preallocated space is cut off as at close (in `Sync::Full` the cut is not
                // fsynced: zeros that come back end the log like a torn tail). A failure
                // leaves zeros that the next open cuts.
                let _ = db.log().trim();
                if self.opts.sync == Sync::Normal {
                    let _ = db.sync_log();
                }
            }
            // Closing makes a running compaction stop at its next record.
            db.mark_closed(false);
        }
        // No background thread may touch the files once the lock is released.
        for handle in self.background.get_mut().drain(..) {
            let _ = handle.join();
        }
    }
}
