//! The operating system's file system, counting fsyncs: the server reports the count in
//! its statistics, so group commit (many connections' commits sharing one fsync) is
//! visible from outside. The engine has no such counter of its own.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use docdb_core::fs::{FileHandle, FileSystem, OsFile, OsFs};

/// `OsFs` plus a shared count of `sync_data` and `sync_dir` calls.
#[derive(Clone, Default)]
pub(crate) struct MeteredFs {
    pub(crate) fsyncs: Arc<AtomicU64>,
}

pub(crate) struct MeteredFile {
    file: OsFile,
    fsyncs: Arc<AtomicU64>,
}

impl FileHandle for MeteredFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.file.sync_data()
    }
    fn size(&self) -> io::Result<u64> {
        self.file.size()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}

impl MeteredFs {
    fn wrap(&self, file: OsFile) -> MeteredFile {
        MeteredFile {
            file,
            fsyncs: self.fsyncs.clone(),
        }
    }
}

impl FileSystem for MeteredFs {
    type File = MeteredFile;
    type Lock = <OsFs as FileSystem>::Lock;

    fn open(&self, path: &Path) -> io::Result<MeteredFile> {
        OsFs.open(path).map(|f| self.wrap(f))
    }
    fn create_new(&self, path: &Path) -> io::Result<MeteredFile> {
        OsFs.create_new(path).map(|f| self.wrap(f))
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
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        OsFs.sync_dir(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<Option<Self::Lock>> {
        OsFs.try_lock(path)
    }
}
