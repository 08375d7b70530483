//! A fault-injecting, in-memory implementation of `docdb_core::fs` for crash tests.
//!
//! Every call of a [`FileSystem`] or [`FileHandle`] method is one numbered *operation*, so a
//! sweep can enumerate "fail op #k" (or "lose power at op #k") for every k of a workload.
//!
//! Durability is tracked the way a POSIX file system gives it, separately for file contents
//! and for directory entries:
//! - a file's bytes (and size) become durable at `sync_data` of that file;
//! - a directory's entries (creations, renames, removals, sub-directories) become durable at
//!   `sync_dir` of that directory.
//!
//! [`FaultFs::image`] takes a copy of the whole tree either as it is (a process crash: the OS
//! keeps every write) or as power loss leaves it (only what was made durable, reached only
//! through durable directory entries).

#![allow(dead_code)] // each test binary uses a different part of it

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use docdb_core::fs::{FileHandle, FileSystem};

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The operation fails with EIO and has no effect.
    Eio,
    /// The operation fails with ENOSPC; a write first stores a prefix of its data.
    Enospc,
    /// A write stores only a prefix of its data and then fails with EIO; any other
    /// operation fails with EIO and no effect.
    Torn,
}

/// The kind of an operation, as recorded for the fault that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    Read,
    Write,
    SyncData,
    Size,
    SetLen,
    Open,
    CreateNew,
    ReadFile,
    Rename,
    RemoveFile,
    CreateDirAll,
    RemoveDirAll,
    ListDir,
    Exists,
    SyncDir,
    TryLock,
}

impl OpKind {
    pub fn is_sync(self) -> bool {
        matches!(self, OpKind::SyncData | OpKind::SyncDir)
    }
}

/// The operation an injected fault (or a crash) hit.
#[derive(Clone, Debug)]
pub struct Fired {
    pub op: u64,
    pub kind: OpKind,
    pub path: PathBuf,
}

/// Which state [`FaultFs::image`] copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Survive {
    /// Everything written (a process crash: the kernel keeps its page cache).
    Everything,
    /// Only what was fsynced (power loss).
    Durable,
    /// Power loss that wrote back every file's data but lost un-fsynced directory changes.
    DataNotDirs,
    /// Power loss that kept every directory change (journaled metadata) but only fsynced
    /// file data: a renamed or created file may come back shorter or empty.
    DirsNotData,
    /// Power loss where half of each file's un-fsynced appended bytes reached the disk.
    TornTail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    File(u64),
    Dir(u64),
}

#[derive(Clone, Default)]
struct Node {
    data: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Clone, Default)]
struct Dir {
    entries: BTreeMap<String, Entry>,
    durable: BTreeMap<String, Entry>,
}

#[derive(Default)]
struct State {
    files: HashMap<u64, Node>,
    dirs: HashMap<u64, Dir>,
    next_ino: u64,
    ops: u64,
    fail_at: Option<(u64, FaultKind)>,
    crash_at: Option<u64>,
    crashed: bool,
    fired: Option<Fired>,
    locks: HashSet<PathBuf>,
}

const ROOT: u64 = 0;

fn err(kind: io::ErrorKind, msg: &str) -> io::Error {
    io::Error::new(kind, msg.to_string())
}

fn eio() -> io::Error {
    io::Error::from_raw_os_error(5)
}

fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

/// The parts of an absolute path.
fn parts(path: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            _ => return Err(err(io::ErrorKind::InvalidInput, "unsupported path")),
        }
    }
    Ok(out)
}

impl State {
    fn dir_of(&self, parts: &[String]) -> io::Result<u64> {
        let mut cur = ROOT;
        for p in parts {
            match self.dirs[&cur].entries.get(p) {
                Some(Entry::Dir(d)) => cur = *d,
                Some(Entry::File(_)) => return Err(err(io::ErrorKind::NotADirectory, "file")),
                None => return Err(err(io::ErrorKind::NotFound, "no such directory")),
            }
        }
        Ok(cur)
    }

    /// `(parent dir inode, name)` of a path.
    fn split(&self, path: &Path) -> io::Result<(u64, String)> {
        let mut p = parts(path)?;
        let name = p
            .pop()
            .ok_or_else(|| err(io::ErrorKind::InvalidInput, "root"))?;
        Ok((self.dir_of(&p)?, name))
    }

    fn lookup(&self, path: &Path) -> io::Result<Entry> {
        let (dir, name) = self.split(path)?;
        self.dirs[&dir]
            .entries
            .get(&name)
            .copied()
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no such file"))
    }

    fn file_ino(&self, path: &Path) -> io::Result<u64> {
        match self.lookup(path)? {
            Entry::File(ino) => Ok(ino),
            Entry::Dir(_) => Err(err(io::ErrorKind::IsADirectory, "directory")),
        }
    }

    fn new_ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino
    }

    /// Counts one operation and decides whether it fails. `Ok(Some(kind))` means "fail this
    /// write after storing a prefix".
    fn begin(&mut self, kind: OpKind, path: &Path) -> io::Result<Option<FaultKind>> {
        let op = self.ops;
        self.ops += 1;
        if std::env::var_os("FAULTFS_TRACE").is_some() {
            eprintln!("op {op}: {kind:?} {}", path.display());
        }
        if self.crashed {
            return Err(eio());
        }
        if self.crash_at == Some(op) {
            self.crashed = true;
            self.fired = Some(Fired {
                op,
                kind,
                path: path.to_path_buf(),
            });
            return Err(eio());
        }
        match self.fail_at {
            Some((at, fault)) if at == op => {
                self.fired = Some(Fired {
                    op,
                    kind,
                    path: path.to_path_buf(),
                });
                match (fault, kind) {
                    (FaultKind::Torn | FaultKind::Enospc, OpKind::Write) => Ok(Some(fault)),
                    (FaultKind::Enospc, _) => Err(enospc()),
                    _ => Err(eio()),
                }
            }
            _ => Ok(None),
        }
    }

    /// A copy of the tree as `survive` leaves it, with no faults armed.
    fn image(&self, survive: Survive) -> State {
        let mut out = State {
            next_ino: self.next_ino,
            ..State::default()
        };
        let mut stack = vec![ROOT];
        while let Some(d) = stack.pop() {
            let dir = &self.dirs[&d];
            let entries = match survive {
                Survive::Everything | Survive::DirsNotData => dir.entries.clone(),
                Survive::Durable | Survive::DataNotDirs | Survive::TornTail => dir.durable.clone(),
            };
            for e in entries.values() {
                match *e {
                    Entry::Dir(sub) => stack.push(sub),
                    Entry::File(ino) => {
                        let n = &self.files[&ino];
                        let data = match survive {
                            Survive::Everything | Survive::DataNotDirs => n.data.clone(),
                            Survive::Durable | Survive::DirsNotData => n.durable.clone(),
                            // Half of what was appended since the last fsync reached the
                            // disk: a torn tail.
                            Survive::TornTail if n.data.starts_with(&n.durable) => {
                                let keep = n.durable.len() + (n.data.len() - n.durable.len()) / 2;
                                n.data[..keep].to_vec()
                            }
                            Survive::TornTail => n.durable.clone(),
                        };
                        out.files.insert(
                            ino,
                            Node {
                                durable: data.clone(),
                                data,
                            },
                        );
                    }
                }
            }
            out.dirs.insert(
                d,
                Dir {
                    durable: entries.clone(),
                    entries,
                },
            );
        }
        out
    }
}

/// The fault-injecting file system. Clones share the same tree.
#[derive(Clone)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
}

impl FaultFs {
    /// An empty tree holding the (durable) directory `dir` and its ancestors.
    pub fn new(dir: &Path) -> FaultFs {
        let mut st = State::default();
        st.dirs.insert(ROOT, Dir::default());
        let mut cur = ROOT;
        for p in parts(dir).expect("absolute path") {
            let ino = st.new_ino();
            st.dirs.insert(ino, Dir::default());
            let parent = st.dirs.get_mut(&cur).expect("parent");
            parent.entries.insert(p.clone(), Entry::Dir(ino));
            parent.durable.insert(p, Entry::Dir(ino));
            cur = ino;
        }
        FaultFs {
            state: Arc::new(Mutex::new(st)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Operations performed so far.
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Makes operation number `op` (counting from 0 since creation) fail as `kind`.
    pub fn fail_at(&self, op: u64, kind: FaultKind) {
        self.lock().fail_at = Some((op, kind));
    }

    /// Simulates a crash just before operation `op`: it and every later one fail with EIO
    /// and change nothing, so the tree stays as the crash left it.
    pub fn crash_at(&self, op: u64) {
        self.lock().crash_at = Some(op);
    }

    pub fn crashed(&self) -> bool {
        self.lock().crashed
    }

    /// The operation the armed fault or crash hit, once it fired.
    pub fn fired(&self) -> Option<Fired> {
        self.lock().fired.clone()
    }

    /// A new, independent file system holding what survives (no faults armed, no locks).
    pub fn image(&self, survive: Survive) -> FaultFs {
        FaultFs {
            state: Arc::new(Mutex::new(self.lock().image(survive))),
        }
    }

    /// The current bytes of a file (test inspection; not counted).
    pub fn file_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.lock();
        let ino = st.file_ino(path).ok()?;
        Some(st.files[&ino].data.clone())
    }

    /// Replaces a file's bytes, durably (test setup; not counted). Creates it if needed.
    pub fn put_file(&self, path: &Path, bytes: &[u8]) {
        let mut st = self.lock();
        let (dir, name) = st.split(path).expect("parent exists");
        let ino = match st.dirs[&dir].entries.get(&name) {
            Some(Entry::File(ino)) => *ino,
            _ => {
                let ino = st.new_ino();
                st.files.insert(ino, Node::default());
                let d = st.dirs.get_mut(&dir).expect("dir");
                d.entries.insert(name.clone(), Entry::File(ino));
                d.durable.insert(name, Entry::File(ino));
                ino
            }
        };
        let n = st.files.get_mut(&ino).expect("file");
        n.data = bytes.to_vec();
        n.durable = bytes.to_vec();
    }

    /// Creates a directory and its ancestors, durably (test setup; not counted).
    pub fn mkdir(&self, dir: &Path) {
        let mut st = self.lock();
        let mut cur = ROOT;
        for p in parts(dir).expect("absolute path") {
            cur = match st.dirs[&cur].entries.get(&p) {
                Some(Entry::Dir(d)) => *d,
                Some(Entry::File(_)) => return,
                None => {
                    let ino = st.new_ino();
                    st.dirs.insert(ino, Dir::default());
                    let parent = st.dirs.get_mut(&cur).expect("parent");
                    parent.entries.insert(p.clone(), Entry::Dir(ino));
                    parent.durable.insert(p, Entry::Dir(ino));
                    ino
                }
            };
        }
    }

    /// Names of the files in a directory (test inspection; not counted).
    pub fn list(&self, dir: &Path) -> Vec<String> {
        let st = self.lock();
        let Ok(d) = parts(dir).and_then(|p| st.dir_of(&p)) else {
            return Vec::new();
        };
        st.dirs[&d].entries.keys().cloned().collect()
    }
}

/// An open file: its inode stays readable and writable after it is unlinked.
pub struct FaultFile {
    state: Arc<Mutex<State>>,
    ino: u64,
    path: PathBuf,
}

impl FaultFile {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileHandle for FaultFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::Read, &self.path)?;
        let data = &st.files[&self.ino].data;
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= data.len() as u64)
            .ok_or_else(|| err(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        buf.copy_from_slice(&data[offset as usize..end as usize]);
        Ok(())
    }

    fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let mut st = self.lock();
        let fault = st.begin(OpKind::Write, &self.path)?;
        let n = match fault {
            // Store a deterministic prefix: at least one byte short of the whole.
            Some(_) => data.len() / 2,
            None => data.len(),
        };
        let node = st.files.get_mut(&self.ino).expect("inode");
        let end = offset as usize + n;
        if node.data.len() < end {
            node.data.resize(end, 0);
        }
        node.data[offset as usize..end].copy_from_slice(&data[..n]);
        match fault {
            Some(FaultKind::Enospc) => Err(enospc()),
            Some(_) => Err(eio()),
            None => Ok(()),
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::SyncData, &self.path)?;
        let node = st.files.get_mut(&self.ino).expect("inode");
        node.durable = node.data.clone();
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        let mut st = self.lock();
        st.begin(OpKind::Size, &self.path)?;
        Ok(st.files[&self.ino].data.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::SetLen, &self.path)?;
        st.files
            .get_mut(&self.ino)
            .expect("inode")
            .data
            .resize(len as usize, 0);
        Ok(())
    }
}

/// A held lock; dropping it releases it.
pub struct FaultLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
}

impl Drop for FaultLock {
    fn drop(&mut self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.locks.remove(&self.path);
    }
}

impl FaultFs {
    fn handle(&self, ino: u64, path: &Path) -> FaultFile {
        FaultFile {
            state: Arc::clone(&self.state),
            ino,
            path: path.to_path_buf(),
        }
    }
}

impl FileSystem for FaultFs {
    type File = FaultFile;
    type Lock = FaultLock;

    fn open(&self, path: &Path) -> io::Result<FaultFile> {
        let mut st = self.lock();
        st.begin(OpKind::Open, path)?;
        let ino = st.file_ino(path)?;
        Ok(self.handle(ino, path))
    }

    fn create_new(&self, path: &Path) -> io::Result<FaultFile> {
        let mut st = self.lock();
        st.begin(OpKind::CreateNew, path)?;
        let (dir, name) = st.split(path)?;
        if st.dirs[&dir].entries.contains_key(&name) {
            return Err(err(io::ErrorKind::AlreadyExists, "exists"));
        }
        let ino = st.new_ino();
        st.files.insert(ino, Node::default());
        st.dirs
            .get_mut(&dir)
            .expect("dir")
            .entries
            .insert(name, Entry::File(ino));
        Ok(self.handle(ino, path))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut st = self.lock();
        st.begin(OpKind::ReadFile, path)?;
        let ino = st.file_ino(path)?;
        Ok(st.files[&ino].data.clone())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::Rename, from)?;
        let (fd, fname) = st.split(from)?;
        let (td, tname) = st.split(to)?;
        let e = st.dirs[&fd]
            .entries
            .get(&fname)
            .copied()
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no such file"))?;
        st.dirs.get_mut(&fd).expect("dir").entries.remove(&fname);
        st.dirs.get_mut(&td).expect("dir").entries.insert(tname, e);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::RemoveFile, path)?;
        st.file_ino(path)?;
        let (dir, name) = st.split(path)?;
        st.dirs.get_mut(&dir).expect("dir").entries.remove(&name);
        Ok(())
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::CreateDirAll, path)?;
        let mut cur = ROOT;
        for p in parts(path)? {
            cur = match st.dirs[&cur].entries.get(&p) {
                Some(Entry::Dir(d)) => *d,
                Some(Entry::File(_)) => {
                    return Err(err(io::ErrorKind::AlreadyExists, "a file is in the way"))
                }
                None => {
                    let ino = st.new_ino();
                    st.dirs.insert(ino, Dir::default());
                    st.dirs
                        .get_mut(&cur)
                        .expect("dir")
                        .entries
                        .insert(p, Entry::Dir(ino));
                    ino
                }
            };
        }
        Ok(())
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::RemoveDirAll, path)?;
        match st.lookup(path)? {
            Entry::Dir(_) => {}
            Entry::File(_) => return Err(err(io::ErrorKind::NotADirectory, "file")),
        }
        // Unlinking the directory from its parent is what the parent's sync makes durable;
        // the subtree's own entries go with it.
        let (dir, name) = st.split(path)?;
        st.dirs.get_mut(&dir).expect("dir").entries.remove(&name);
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut st = self.lock();
        st.begin(OpKind::ListDir, path)?;
        let d = st.dir_of(&parts(path)?)?;
        Ok(st.dirs[&d].entries.keys().cloned().collect())
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let mut st = self.lock();
        st.begin(OpKind::Exists, path)?;
        Ok(st.lookup(path).is_ok())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(OpKind::SyncDir, path)?;
        let d = st.dir_of(&parts(path)?)?;
        let dir = st.dirs.get_mut(&d).expect("dir");
        dir.durable = dir.entries.clone();
        Ok(())
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<FaultLock>> {
        let mut st = self.lock();
        st.begin(OpKind::TryLock, path)?;
        let (dir, name) = st.split(path)?;
        if !st.dirs[&dir].entries.contains_key(&name) {
            let ino = st.new_ino();
            st.files.insert(ino, Node::default());
            st.dirs
                .get_mut(&dir)
                .expect("dir")
                .entries
                .insert(name, Entry::File(ino));
        }
        if !st.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(FaultLock {
            state: Arc::clone(&self.state),
            path: path.to_path_buf(),
        }))
    }
}
