//! Online backup: a consistent copy of a live store in a new directory.
//!
//! 1. **Cut.** With the catalog locked (no database is created or dropped meanwhile) and
//!    every database loaded, all the databases' log locks are held at once just long enough
//!    to note each one's segments and the end of its active segment. Commits append under
//!    these locks, so the cut holds exactly the commits appended before it: a prefix of
//!    every database's commit order, taken at one instant across databases. Writers wait
//!    for this bookkeeping only, not for the copy.
//! 2. **fsync** each active segment up to the cut, so the copy holds nothing the source
//!    could still lose (in `Sync::Full` such commits are about to be acknowledged anyway).
//! 3. **Copy** sealed segments whole and the active one up to the cut, byte for byte under
//!    the same names (the records' checksums may cover their place). Commits keep appending
//!    past the cut meanwhile; a compaction or `drop_db` that unlinks a segment does not stop
//!    the copy, because the segment's open file (held through its `Arc`) stays readable.
//!    No checkpoint is copied: a checkpoint taken later than the cut could list documents
//!    the copy does not hold.
//! 4. Write the catalog as of the cut, fsync every file and directory, and the parent of
//!    the destination.
//! 5. **Verify**: open the copy as a store and close it. Opening replays every record,
//!    checking each checksum, so a damaged source segment fails the backup instead of
//!    producing a copy that would not open; closing writes the copy's checkpoints.
//!
//! A failed backup removes what it wrote.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::{Catalog, DbStatus};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};
use crate::log::segment::Segment;
use crate::options::Options;
use crate::store::Store;

const COPY_CHUNK: usize = 4 << 20;

/// What a backup copies: the catalog and every database's segments as of one instant.
pub(crate) struct Cut<F: FileSystem> {
    catalog: Catalog,
    dbs: Vec<DbCut<F>>,
}

struct DbCut<F: FileSystem> {
    /// The database directory's name, the same in the copy.
    dir_name: String,
    /// Each segment and how many of its bytes belong to the cut.
    files: Vec<(Arc<Segment<F>>, u64)>,
}

impl<F: FileSystem> Cut<F> {
    /// Takes the cut of `dbs` (every active database of `catalog`, loaded).
    pub(crate) fn take(catalog: Catalog, dbs: &[Database<F>]) -> Result<Cut<F>> {
        // Under the locks only what changes with commits: the segment list and the active
        // segment's end. Sealed segments never change, so their sizes are read afterwards.
        let mut noted = Vec::with_capacity(dbs.len());
        {
            let logs: Vec<_> = dbs.iter().map(|db| db.core.log()).collect();
            for (db, log) in dbs.iter().zip(&logs) {
                db.core.check_writable()?;
                let segments: Vec<_> = log.segments.values().cloned().collect();
                noted.push((segments, Arc::clone(&log.active), log.end));
            }
        }
        let mut cuts = Vec::with_capacity(dbs.len());
        for (db, (segments, active, end)) in dbs.iter().zip(noted) {
            active.sync_to(end).map_err(|e| db.core.poisoned(e))?;
            let mut files = Vec::with_capacity(segments.len());
            for seg in segments {
                let len = if Arc::ptr_eq(&seg, &active) {
                    end
                } else {
                    seg.file
                        .size()
                        .map_err(|e| Error::io(format!("reading {}", seg.path.display()), e))?
                };
                files.push((seg, len));
            }
            let dir_name = db.core.dir().file_name().map_or_else(
                || format!("db-{}", db.id()),
                |n| n.to_string_lossy().into_owned(),
            );
            cuts.push(DbCut { dir_name, files });
        }
        Ok(Cut { catalog, dbs: cuts })
    }

    /// Bytes the copy will hold (segments only; the catalog is small).
    fn total_bytes(&self) -> u64 {
        self.dbs
            .iter()
            .flat_map(|d| d.files.iter().map(|(_, len)| *len))
            .sum()
    }
}

/// Writes `cut` of the store at `source` into `dest` and verifies the copy (steps 3 to 5).
pub(crate) fn write<F: FileSystem + Clone>(
    fs: &F,
    source: &Path,
    cut: Cut<F>,
    dest: &Path,
    opts: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let created = prepare_dest(fs, source, dest)?;
    let result = copy(fs, &cut, dest, progress).and_then(|()| {
        for dir in &created.sync {
            fs.sync_dir(dir)
                .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))?;
        }
        verify(fs, &cut.catalog, dest, opts)
    });
    if result.is_err() {
        created.undo(fs, dest);
    }
    result
}

/// What `prepare_dest` made, to fsync on success and remove on failure.
struct Prepared {
    /// The destination's parent, and that of every ancestor it had to create.
    sync: Vec<PathBuf>,
    /// The highest directory created (removed on failure); `None` if `dest` existed (empty).
    top: Option<PathBuf>,
}

impl Prepared {
    fn undo<F: FileSystem>(&self, fs: &F, dest: &Path) {
        match &self.top {
            Some(top) => {
                let _ = fs.remove_dir_all(top);
            }
            None => {
                for name in fs.list_dir(dest).unwrap_or_default() {
                    let p = dest.join(name);
                    let _ = fs.remove_dir_all(&p).or_else(|_| fs.remove_file(&p));
                }
            }
        }
        if let Some(dir) = self.sync.first() {
            let _ = fs.sync_dir(dir);
        }
    }
}

/// Checks that `dest` is absent or an empty directory outside the store, and creates it.
fn prepare_dest<F: FileSystem>(fs: &F, source: &Path, dest: &Path) -> Result<Prepared> {
    let io = |what: &str, p: &Path| {
        let what = format!("{what} {}", p.display());
        move |e| Error::io(what, e)
    };
    let taken =
        |why: &str| Error::AlreadyExists(format!("backup destination {} ({why})", dest.display()));
    // The nearest existing ancestor (or `dest` itself), and what is missing below it.
    let mut existing = dest.to_path_buf();
    let mut missing = Vec::new();
    while !fs.exists(&existing).map_err(io("checking", &existing))? {
        missing.push(existing.clone());
        if !existing.pop() || existing.as_os_str().is_empty() {
            existing = PathBuf::from(".");
            break;
        }
    }
    let inside = std::fs::canonicalize(&existing)
        .and_then(|e| Ok(e.starts_with(std::fs::canonicalize(source)?)))
        .map_err(io("resolving", &existing))?;
    if inside {
        return Err(Error::InvalidArgument(format!(
            "backup destination {} is inside the store's directory {}",
            dest.display(),
            source.display()
        )));
    }
    if missing.is_empty() {
        let names = fs.list_dir(dest).map_err(|_| taken("not a directory"))?;
        if !names.is_empty() {
            return Err(taken("a directory that is not empty"));
        }
        return Ok(Prepared {
            sync: Vec::new(),
            top: None,
        });
    }
    fs.create_dir_all(dest).map_err(io("creating", dest))?;
    // Each created directory's entry lives in its parent: fsync those parents, innermost
    // first, once the copy is complete.
    let sync = missing
        .iter()
        .map(|p| p.parent().filter(|p| !p.as_os_str().is_empty()))
        .map(|p| p.map_or_else(|| PathBuf::from("."), Path::to_path_buf))
        .collect();
    Ok(Prepared {
        sync,
        top: missing.last().cloned(),
    })
}

/// Copies every file of `cut` into `dest` (fsynced, directories included).
fn copy<F: FileSystem>(
    fs: &F,
    cut: &Cut<F>,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let total = cut.total_bytes();
    let mut done = 0;
    progress(done, total);
    let mut buf = Vec::new();
    for db in &cut.dbs {
        let dir = dest.join(&db.dir_name);
        fs.create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        for (seg, len) in &db.files {
            let name = seg.path.file_name().unwrap_or_default();
            let to = dir.join(name);
            let ctx = |what: &str, p: &Path| format!("{what} {}", p.display());
            let out = fs
                .create_new(&to)
                .map_err(|e| Error::io(ctx("creating", &to), e))?;
            let mut at = 0;
            while at < *len {
                let n = (*len - at).min(COPY_CHUNK as u64) as usize;
                buf.resize(n, 0);
                seg.file
                    .read_exact_at(&mut buf, at)
                    .map_err(|e| Error::io(ctx("reading", &seg.path), e))?;
                out.write_all_at(&buf, at)
                    .map_err(|e| Error::io(ctx("writing", &to), e))?;
                at += n as u64;
                done += n as u64;
                progress(done, total);
            }
            out.sync_data()
                .map_err(|e| Error::io(ctx("syncing", &to), e))?;
        }
        fs.sync_dir(&dir)
            .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))?;
    }
    // Written last: until the catalog is in place the copy does not open as a store. Its
    // directory fsync also makes the database directories' entries durable.
    cut.catalog.save(fs, dest)?;
    progress(total, total);
    Ok(())
}

/// Opens the copy (replaying and verifying every record) and closes it (checkpoints).
fn verify<F: FileSystem + Clone>(
    fs: &F,
    catalog: &Catalog,
    dest: &Path,
    opts: &Options,
) -> Result<()> {
    let opts = Options {
        cache_size: 0,
        ..opts.clone()
    };
    let copy = Store::open_with(fs.clone(), dest, opts)?;
    let opened = catalog
        .entries
        .iter()
        .filter(|e| e.status == DbStatus::Active)
        .try_for_each(|e| copy.open_db(&e.name).map(drop));
    let closed = copy.close();
    opened.and(closed)
}
