//! A pass-through file system for tests that counts fsyncs and can make fsyncs and writes
//! fail.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use docdb_core::fs::{FileHandle, FileSystem, OsFs};

#[derive(Clone, Default)]
pub struct ProbeFs {
    /// Number of `sync_data` calls on files.
    pub syncs: Arc<AtomicU64>,
    /// While set, every `sync_data` fails with EIO.
    pub fail_sync: Arc<AtomicBool>,
    /// Writes that start at or beyond this file offset fail with ENOSPC (0: none do).
    pub fail_writes_from: Arc<AtomicU64>,
    /// While set, the disk is full: every write and every file creation fails with ENOSPC.
    pub disk_full: Arc<AtomicBool>,
}

fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

pub struct ProbeFile {
    inner: <OsFs as FileSystem>::File,
    fs: ProbeFs,
}

impl FileHandle for ProbeFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.inner.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let limit = self.fs.fail_writes_from.load(Ordering::SeqCst);
        if (limit != 0 && offset >= limit) || self.fs.disk_full.load(Ordering::SeqCst) {
            return Err(enospc());
        }
        self.inner.write_all_at(data, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        if self.fs.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(5)); // EIO
        }
        self.fs.syncs.fetch_add(1, Ordering::SeqCst);
        self.inner.sync_data()
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
}

impl FileSystem for ProbeFs {
    type File = ProbeFile;
    type Lock = <OsFs as FileSystem>::Lock;
    fn open(&self, path: &Path) -> io::Result<ProbeFile> {
        Ok(ProbeFile {
            inner: OsFs.open(path)?,
            fs: self.clone(),
        })
    }
    fn create_new(&self, path: &Path) -> io::Result<ProbeFile> {
        Ok(ProbeFile {
            inner: OsFs.create_new(path)?,
            fs: self.clone(),
        })
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        OsFs.read(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        OsFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        OsFs.remove_file(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        OsFs.create_dir_all(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        OsFs.remove_dir_all(path)
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        OsFs.list_dir(path)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        OsFs.exists(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        OsFs.sync_dir(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<Option<Self::Lock>> {
        OsFs.try_lock(path)
    }
}
