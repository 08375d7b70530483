//! The narrow file-system interface every byte of engine I/O goes through.
//!
//! The engine is generic over [`FileSystem`], so the real path ([`OsFs`]) costs a static
//! dispatch and tests can substitute an implementation that fails, tears or drops writes.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// One open file: positional reads and writes, length, and durability.
pub trait FileHandle: Send + Sync + 'static {
    /// Reads exactly `buf.len()` bytes at `offset`; `UnexpectedEof` if the file is shorter.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `data` at `offset`.
    fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()>;
    /// Makes the file's data (and size) durable.
    fn sync_data(&self) -> io::Result<()>;
    /// The file's current length in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// Directory-level operations and file opening.
pub trait FileSystem: Send + Sync + 'static {
    type File: FileHandle;
    /// The directory-lock guard; dropping it releases the lock.
    type Lock: Send + Sync + 'static;

    /// Opens an existing file for reading and writing.
    fn open(&self, path: &Path) -> io::Result<Self::File>;
    /// Creates a new, empty file for reading and writing (failing if it exists).
    fn create_new(&self, path: &Path) -> io::Result<Self::File>;
    /// Reads a whole small file (catalog, checkpoint).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// The names of a directory's entries.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    fn exists(&self, path: &Path) -> io::Result<bool>;
    /// Makes a directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// Takes an exclusive, non-blocking advisory lock on `path` (created if missing).
    /// `Ok(None)` means somebody else holds it.
    fn try_lock(&self, path: &Path) -> io::Result<Option<Self::Lock>>;
}

/// The operating system's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsFs;

/// A real file.
#[derive(Debug)]
pub struct OsFile(File);

impl FileHandle for OsFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(data, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

/// A held directory lock: the open lock file. Closing it releases the `flock`.
#[derive(Debug)]
pub struct OsLock {
    _file: File,
}

impl FileSystem for OsFs {
    type File = OsFile;
    type Lock = OsLock;

    fn open(&self, path: &Path) -> io::Result<OsFile> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map(OsFile)
    }
    fn create_new(&self, path: &Path) -> io::Result<OsFile> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map(OsFile)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir_all(path)
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(path)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
    fn try_lock(&self, path: &Path) -> io::Result<Option<OsLock>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // std's File::try_lock is flock(LOCK_EX | LOCK_NB) on Linux: the same advisory lock
        // as libc::flock, without unsafe code in the core. The lock belongs to this open
        // file description, so a second open of the same directory in this process is refused
        // too (`Store::open` shares the first one instead, see registry.rs).
        match file.try_lock() {
            Ok(()) => Ok(Some(OsLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// A failed [`write_atomically`], and whether the new file may already have replaced the
/// old one (the failure came at or after the rename).
#[derive(Debug)]
pub(crate) struct AtomicWriteError {
    pub(crate) error: Error,
    pub(crate) maybe_replaced: bool,
}

impl From<AtomicWriteError> for Error {
    fn from(e: AtomicWriteError) -> Error {
        e.error
    }
}

/// Writes `bytes` to `dir/tmp`, fsyncs it, renames it to `dir/name` and fsyncs `dir`.
pub(crate) fn write_atomically<F: FileSystem>(
    fs: &F,
    dir: &Path,
    tmp: &str,
    name: &str,
    bytes: &[u8],
) -> std::result::Result<(), AtomicWriteError> {
    let tmp_path: PathBuf = dir.join(tmp);
    let path = dir.join(name);
    let ctx = |what: &str| format!("{what} {}", tmp_path.display());
    let before = |error| AtomicWriteError {
        error,
        maybe_replaced: false,
    };
    match fs.remove_file(&tmp_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(before(Error::io(ctx("removing stale"), e))),
    }
    let file = fs
        .create_new(&tmp_path)
        .map_err(|e| before(Error::io(ctx("creating"), e)))?;
    let written = file
        .write_all_at(bytes, 0)
        .map_err(|e| Error::io(ctx("writing"), e))
        .and_then(|()| file.sync_data().map_err(|e| Error::io(ctx("syncing"), e)));
    drop(file);
    if let Err(error) = written {
        // Never read (open removes `*.tmp`); removed now so a full disk gets its space back.
        let _ = fs.remove_file(&tmp_path);
        return Err(before(error));
    }
    let after = |error| AtomicWriteError {
        error,
        maybe_replaced: true,
    };
    fs.rename(&tmp_path, &path).map_err(|e| {
        after(Error::io(
            format!("renaming {} to {}", tmp_path.display(), path.display()),
            e,
        ))
    })?;
    fs.sync_dir(dir)
        .map_err(|e| after(Error::io(format!("syncing directory {}", dir.display()), e)))
}
