//! A fault-injecting, in-memory implementation of `docdb_core::fs` for crash tests, as harsh
//! as LazyFS and SQLite's crash-test VFS.
//!
//! Every call of a [`FileSystem`] or [`FileHandle`] method is one numbered *operation*, so a
//! sweep can enumerate "fail op #k" (or "crash at op #k") for every k of a workload.
//!
//! The model, per file: the page cache (`data`, what reads return), the durable image, and
//! the operations (writes, truncations) since its last successful fsync, in order. Per
//! directory: the entries, the durable entries, and the changes since its last directory
//! fsync, in order.
//! - `sync_data` applies the file's pending operations to its durable image.
//! - [`FaultKind::SyncDrop`] is fsyncgate: the fsync fails with EIO and the pending writes
//!   are dropped from writeback (reads still return them; a power loss never brings them
//!   back; a later fsync succeeds and persists only what was written after, and the size).
//! - [`FaultFs::kill`] ends the process (kill -9): every later call through a handle of that
//!   process fails with EIO and has no effect; the page cache and its pending operations stay,
//!   locks are released. [`FaultFs::restart`] hands out the next process's file system.
//! - [`FaultFs::power_loss`] builds the tree a power loss leaves: each file's pending
//!   operations are each kept, dropped or torn at 512-byte sector granularity (later ones
//!   may survive while earlier ones do not); lost sectors past the durable size read as zeros
//!   or garbage (random bytes, or stale copies of other sectors that may look like valid
//!   records); the size may be the durable one, cover what survived, or run ahead of the
//!   data. Each directory keeps a random prefix of its changes (journaled metadata).
//! - [`FaultFs::image`] keeps the older deterministic crash modes ([`Survive`]).
//! - Overwrites in place (a write over bytes already durable, as DocDB's preallocated log
//!   space takes its records) are modelled by the same rules: each sector of such a write
//!   that a power loss drops keeps its durable content (zeros, or whatever was fsynced
//!   there), never garbage. [`FaultFs::coverage`] counts them, so that a sweep can show it
//!   reached them.

#![allow(dead_code)] // each test binary uses a different part of it

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use docdb_core::fs::{FileHandle, FileSystem};

use super::model::Rng;

/// The sector size torn writes are cut at.
pub const SECTOR: u64 = 512;

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
    /// An fsync fails with EIO and the file's unsynced writes are dropped from writeback
    /// (fsyncgate); any other operation fails as `Eio`.
    SyncDrop,
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

/// What a power loss does to one pending operation of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Chosen by the seeded generator.
    Random,
    Keep,
    Drop,
    /// A write keeps exactly the sectors marked `true` (one flag per 512-byte sector the
    /// write touches, counted from the sector holding its first byte).
    Sectors(Vec<bool>),
}

/// The size a file comes back with after a power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeFate {
    Random,
    /// The durable size: what was appended since the last fsync is cut off.
    Durable,
    /// Just covers the surviving writes.
    Cover,
    /// Grown to cover every pending write, but every sector past the durable size reads as
    /// zeros (the size was persisted before the data).
    SizeFirst,
    /// Grown to cover every pending write; lost sectors read as zeros or garbage.
    Extend,
}

/// What lost sectors past the durable size read back as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillFate {
    Random,
    Zeros,
}

/// How many of a directory's un-synced changes survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirFate {
    /// A random prefix.
    Random,
    All,
    None,
}

/// A pending operation of a file, as shown to a [`PowerLoss::write`] policy.
#[derive(Clone, Debug)]
pub struct PendingOp {
    /// The file's path in the tree that survives.
    pub path: PathBuf,
    /// Its position among the file's pending operations.
    pub n: usize,
    pub offset: u64,
    /// Bytes written; 0 for a truncation.
    pub len: u64,
    /// `Some(len)` for a truncation or extension (`set_len`).
    pub set_len: Option<u64>,
    /// The file's durable size.
    pub durable_len: u64,
}

type WritePolicy<'a> = dyn Fn(&PendingOp) -> Fate + 'a;

/// The choices of a power loss: anything left `Random` is drawn from `seed`.
pub struct PowerLoss<'a> {
    pub seed: u64,
    pub write: Option<&'a WritePolicy<'a>>,
    pub size: SizeFate,
    pub fill: FillFate,
    pub dirs: DirFate,
}

impl PowerLoss<'_> {
    pub fn seeded(seed: u64) -> PowerLoss<'static> {
        PowerLoss {
            seed,
            write: None,
            size: SizeFate::Random,
            fill: FillFate::Random,
            dirs: DirFate::Random,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    File(u64),
    Dir(u64),
}

#[derive(Clone, Debug)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

fn apply_pending(img: &mut Vec<u8>, op: &Pending) {
    match op {
        Pending::Write { offset, bytes } => {
            let end = *offset as usize + bytes.len();
            if img.len() < end {
                img.resize(end, 0);
            }
            img[*offset as usize..end].copy_from_slice(bytes);
        }
        Pending::SetLen(len) => img.resize(*len as usize, 0),
    }
}

#[derive(Clone, Default)]
struct Node {
    data: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<Pending>,
    /// Writes a failed fsync dropped from writeback: never on disk.
    lost: Vec<Pending>,
}

/// One atomic directory change: names set (`Some`) or removed (`None`).
type Change = Vec<(String, Option<Entry>)>;

#[derive(Clone, Default)]
struct Dir {
    entries: BTreeMap<String, Entry>,
    durable: BTreeMap<String, Entry>,
    changes: Vec<Change>,
}

impl Dir {
    fn set(&mut self, change: Change) {
        for (name, e) in &change {
            match e {
                Some(e) => self.entries.insert(name.clone(), *e),
                None => self.entries.remove(name),
            };
        }
        self.changes.push(change);
    }
    fn insert(&mut self, name: String, e: Entry) {
        self.set(vec![(name, Some(e))]);
    }
    fn remove(&mut self, name: &str) {
        self.set(vec![(name.to_string(), None)]);
    }
    /// Setup: an entry that is durable at once.
    fn insert_durable(&mut self, name: String, e: Entry) {
        self.entries.insert(name.clone(), e);
        self.durable.insert(name, e);
    }
}

#[derive(Default)]
struct State {
    files: HashMap<u64, Node>,
    dirs: HashMap<u64, Dir>,
    next_ino: u64,
    ops: u64,
    fail_at: Option<(u64, FaultKind)>,
    crash_at: Option<u64>,
    /// Fires at the next operation of a kind on a path ending so: a crash (`None`) or a
    /// fault.
    on_next: Option<(OpKind, String, Option<FaultKind>)>,
    crashed: bool,
    fired: Option<Fired>,
    /// Held locks, by the process (generation) that holds them.
    locks: HashMap<PathBuf, u64>,
    /// The current process; handles of earlier ones are dead.
    generation: u64,
    /// Shared by every tree derived from this one (restarts, power losses, images).
    coverage: Arc<Coverage>,
}

/// What a run of the simulated disk went through, for sweeps to report.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Writes over bytes that were durable zeros (DocDB's preallocated space).
    pub overwrites: std::sync::atomic::AtomicU64,
    /// Power losses that found at least one write of data over durable zeros pending (not
    /// yet fsynced).
    pub torn_overwrites: std::sync::atomic::AtomicU64,
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

/// Splits `[offset, offset + len)` at sector boundaries.
pub fn sector_pieces(offset: u64, len: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let (mut at, end) = (offset, offset + len);
    while at < end {
        let next = ((at / SECTOR) + 1) * SECTOR;
        out.push((at, next.min(end)));
        at = next;
    }
    out
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

    fn dir_mut(&mut self, ino: u64) -> &mut Dir {
        self.dirs.get_mut(&ino).expect("directory inode")
    }

    /// Counts one operation of process `generation` and decides whether it fails.
    /// `Ok(Some(kind))` means "fail this write (or fsync) in the way `kind` says".
    fn begin(
        &mut self,
        generation: u64,
        kind: OpKind,
        path: &Path,
    ) -> io::Result<Option<FaultKind>> {
        if generation != self.generation {
            // A killed process: nothing it does reaches the file system.
            return Err(eio());
        }
        let op = self.ops;
        self.ops += 1;
        if std::env::var_os("FAULTFS_TRACE").is_some() {
            eprintln!("op {op}: {kind:?} {}", path.display());
        }
        if self.crashed {
            return Err(eio());
        }
        let mut fail_now = None;
        if let Some((k, suffix, how)) = &self.on_next {
            if *k == kind && path.to_string_lossy().ends_with(suffix.as_str()) {
                match how {
                    None => self.crash_at = Some(op),
                    Some(f) => fail_now = Some(*f),
                }
                self.on_next = None;
            }
        }
        if let Some(f) = fail_now {
            self.fail_at = Some((op, f));
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
                    (FaultKind::SyncDrop, OpKind::SyncData) => Ok(Some(fault)),
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
            coverage: Arc::clone(&self.coverage),
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
                        out.files.insert(ino, settled(data));
                    }
                }
            }
            out.dirs.insert(d, settled_dir(entries));
        }
        out
    }

    /// The tree a power loss leaves, as `how` decides.
    fn power_loss(&self, how: &PowerLoss<'_>) -> State {
        let mut rng = Rng::new(how.seed);
        let mut out = State {
            next_ino: self.next_ino,
            coverage: Arc::clone(&self.coverage),
            ..State::default()
        };
        // A record pending over durable zeros (preallocated space).
        let pending_overwrite = self.files.values().any(|n| {
            n.pending.iter().any(|p| {
                let Pending::Write { offset, bytes } = p else {
                    return false;
                };
                let d = &n.durable;
                let under =
                    (*offset as usize).min(d.len())..(*offset as usize + bytes.len()).min(d.len());
                !under.is_empty()
                    && d[under].iter().all(|&b| b == 0)
                    && bytes.iter().any(|&b| b != 0)
            })
        });
        if pending_overwrite {
            self.coverage
                .torn_overwrites
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut stack = vec![(ROOT, PathBuf::from("/"))];
        while let Some((d, path)) = stack.pop() {
            let dir = &self.dirs[&d];
            let mut entries = dir.durable.clone();
            let keep = match how.dirs {
                DirFate::Random => rng.below(dir.changes.len() as u64 + 1) as usize,
                DirFate::All => dir.changes.len(),
                DirFate::None => 0,
            };
            for change in &dir.changes[..keep] {
                for (name, e) in change {
                    match e {
                        Some(e) => entries.insert(name.clone(), *e),
                        None => entries.remove(name),
                    };
                }
            }
            for (name, e) in &entries {
                match *e {
                    Entry::Dir(sub) => stack.push((sub, path.join(name))),
                    Entry::File(ino) => {
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            out.files.entry(ino)
                        {
                            let data = self.crash_file(ino, &path.join(name), how, &mut rng);
                            slot.insert(settled(data));
                        }
                    }
                }
            }
            out.dirs.insert(d, settled_dir(entries));
        }
        out
    }

    /// One file's bytes after a power loss.
    fn crash_file(&self, ino: u64, path: &Path, how: &PowerLoss<'_>, rng: &mut Rng) -> Vec<u8> {
        let node = &self.files[&ino];
        let dur_len = node.durable.len() as u64;
        let mut img = node.durable.clone();
        // Sectors past the durable size that hold bytes of a surviving write.
        let mut written: HashSet<u64> = HashSet::new();
        let mut max_end = dur_len;
        for (n, op) in node.pending.iter().enumerate() {
            let info = |offset, len, set_len| PendingOp {
                path: path.to_path_buf(),
                n,
                offset,
                len,
                set_len,
                durable_len: dur_len,
            };
            match op {
                Pending::SetLen(len) => {
                    let fate = how
                        .write
                        .map_or(Fate::Random, |f| f(&info(0, 0, Some(*len))));
                    let keep = match fate {
                        Fate::Random => rng.below(2) == 0,
                        Fate::Keep | Fate::Sectors(_) => true,
                        Fate::Drop => false,
                    };
                    if keep {
                        apply_pending(&mut img, op);
                        written.retain(|s| s * SECTOR < *len);
                    }
                }
                Pending::Write { offset, bytes } => {
                    let len = bytes.len() as u64;
                    max_end = max_end.max(offset + len);
                    let mut fate = how
                        .write
                        .map_or(Fate::Random, |f| f(&info(*offset, len, None)));
                    let pieces = sector_pieces(*offset, len);
                    if fate == Fate::Random {
                        fate = match rng.below(10) {
                            0..=3 => Fate::Keep,
                            4..=6 => Fate::Drop,
                            _ => Fate::Sectors(
                                (0..pieces.len()).map(|_| rng.below(2) == 0).collect(),
                            ),
                        };
                    }
                    for (k, &(s, e)) in pieces.iter().enumerate() {
                        let kept = match &fate {
                            Fate::Keep => true,
                            Fate::Drop | Fate::Random => false,
                            Fate::Sectors(mask) => mask.get(k).copied().unwrap_or(false),
                        };
                        if !kept {
                            continue;
                        }
                        if (img.len() as u64) < e {
                            img.resize(e as usize, 0);
                        }
                        let from = (s - offset) as usize..(e - offset) as usize;
                        img[s as usize..e as usize].copy_from_slice(&bytes[from]);
                        if e > dur_len {
                            written.insert(s / SECTOR);
                        }
                    }
                }
            }
        }
        let size = match how.size {
            SizeFate::Random => match rng.below(10) {
                0..=2 => SizeFate::Durable,
                3..=5 => SizeFate::Cover,
                6 => SizeFate::SizeFirst,
                _ => SizeFate::Extend,
            },
            s => s,
        };
        match size {
            SizeFate::Durable | SizeFate::Random => {
                img.truncate(dur_len as usize);
                return img;
            }
            SizeFate::Cover => {}
            SizeFate::SizeFirst => {
                img.resize(img.len().max(max_end as usize), 0);
                img[dur_len as usize..].fill(0);
                return img;
            }
            SizeFate::Extend => img.resize(img.len().max(max_end as usize), 0),
        }
        if how.fill == FillFate::Zeros {
            return img;
        }
        // Lost sectors past the durable size: zeros, random bytes, or stale copies.
        let first = dur_len / SECTOR;
        let last = (img.len() as u64).div_ceil(SECTOR);
        for sector in first..last {
            if written.contains(&sector) {
                continue;
            }
            let s = (sector * SECTOR).max(dur_len) as usize;
            let e = ((sector + 1) * SECTOR).min(img.len() as u64) as usize;
            if s >= e {
                // A kept truncation left the file shorter than its durable size.
                continue;
            }
            if s >= e {
                // A kept truncation left the file shorter than its durable size.
                continue;
            }
            let garbage: Option<Vec<u8>> = match rng.below(20) {
                0..=9 => None,
                10..=12 => Some((0..SECTOR).map(|_| rng.next_u64() as u8).collect()),
                13..=16 => {
                    // Another sector of this file as the page cache holds it.
                    let n = (node.data.len() as u64).div_ceil(SECTOR);
                    let src = rng.below(n.max(1));
                    (src != sector && n > 0).then(|| {
                        let a = (src * SECTOR) as usize;
                        let b = (a + SECTOR as usize).min(node.data.len());
                        node.data[a..b].to_vec()
                    })
                }
                _ => {
                    // A sector of another pending write, placed elsewhere (stale data).
                    let writes: Vec<(u64, &Vec<u8>)> = node
                        .pending
                        .iter()
                        .filter_map(|p| match p {
                            Pending::Write { offset, bytes } => Some((*offset, bytes)),
                            Pending::SetLen(_) => None,
                        })
                        .collect();
                    (!writes.is_empty()).then_some(()).and_then(|()| {
                        let (off, bytes) = writes[rng.below(writes.len() as u64) as usize];
                        let k = rng.below((bytes.len() as u64).div_ceil(SECTOR).max(1));
                        let a = (k * SECTOR) as usize;
                        ((off + k * SECTOR) / SECTOR != sector && a < bytes.len())
                            .then(|| bytes[a..(a + SECTOR as usize).min(bytes.len())].to_vec())
                    })
                }
            };
            let Some(g) = garbage else { continue };
            // The part of the sector past the durable size, from the same offsets of `g`.
            let base = (sector * SECTOR) as usize;
            for (i, byte) in img[s..e].iter_mut().enumerate() {
                *byte = g.get(s - base + i).copied().unwrap_or(0);
            }
        }
        img
    }
}

fn settled(data: Vec<u8>) -> Node {
    Node {
        durable: data.clone(),
        data,
        ..Node::default()
    }
}

fn settled_dir(entries: BTreeMap<String, Entry>) -> Dir {
    Dir {
        durable: entries.clone(),
        entries,
        changes: Vec::new(),
    }
}

/// The fault-injecting file system. Clones share the same tree and the same process.
#[derive(Clone)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
    /// The process this handle belongs to.
    generation: u64,
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
            st.dir_mut(cur).insert_durable(p, Entry::Dir(ino));
            cur = ino;
        }
        FaultFs::from_state(st)
    }

    /// An empty tree where only `parent` (and its ancestors) exist durably: a store opened
    /// below it creates its own directory, durable only if the store makes it so.
    pub fn new_root(parent: &Path) -> FaultFs {
        FaultFs::new(parent)
    }

    fn from_state(st: State) -> FaultFs {
        FaultFs {
            state: Arc::new(Mutex::new(st)),
            generation: 0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What this tree and every tree derived from it went through so far.
    pub fn coverage(&self) -> Arc<Coverage> {
        Arc::clone(&self.lock().coverage)
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

    /// Crashes (as [`FaultFs::crash_at`]) at the next operation of `kind` on a path that
    /// ends with `path_end` ("" for any).
    pub fn crash_at_next(&self, kind: OpKind, path_end: &str) {
        self.lock().on_next = Some((kind, path_end.to_string(), None));
    }

    /// Fails (as [`FaultFs::fail_at`]) the next operation of `kind` on a path that ends with
    /// `path_end` ("" for any).
    pub fn fail_at_next(&self, kind: OpKind, path_end: &str, fault: FaultKind) {
        self.lock().on_next = Some((kind, path_end.to_string(), Some(fault)));
    }

    pub fn crashed(&self) -> bool {
        self.lock().crashed
    }

    /// The operation the armed fault or crash hit, once it fired.
    pub fn fired(&self) -> Option<Fired> {
        self.lock().fired.clone()
    }

    /// kill -9 of the current process: every handle of it (this file system and its clones,
    /// open files, locks) is dead from now on; the page cache stays, locks are released.
    pub fn kill(&self) {
        let mut st = self.lock();
        st.generation += 1;
        st.locks.clear();
    }

    /// The file system of the next process on the same tree (the current one is killed if
    /// it was not already). Armed faults, crash points and what fired are cleared.
    pub fn restart(&self) -> FaultFs {
        self.kill();
        let mut st = self.lock();
        st.crashed = false;
        st.crash_at = None;
        st.fail_at = None;
        st.on_next = None;
        st.fired = None;
        FaultFs {
            state: Arc::clone(&self.state),
            generation: st.generation,
        }
    }

    /// A new, independent file system holding what survives (no faults armed, no locks).
    pub fn image(&self, survive: Survive) -> FaultFs {
        FaultFs::from_state(self.lock().image(survive))
    }

    /// A new, independent file system holding what a power loss now leaves, every choice
    /// drawn from `seed`.
    pub fn power_loss(&self, seed: u64) -> FaultFs {
        self.power_loss_with(&PowerLoss::seeded(seed))
    }

    /// A power loss with some choices fixed by the test.
    pub fn power_loss_with(&self, how: &PowerLoss<'_>) -> FaultFs {
        FaultFs::from_state(self.lock().power_loss(how))
    }

    /// The pending (un-fsynced) operations of a file, for tests that pick their fates.
    pub fn pending(&self, path: &Path) -> Vec<PendingOp> {
        let st = self.lock();
        let Ok(ino) = st.file_ino(path) else {
            return Vec::new();
        };
        let node = &st.files[&ino];
        node.pending
            .iter()
            .enumerate()
            .map(|(n, p)| match p {
                Pending::Write { offset, bytes } => PendingOp {
                    path: path.to_path_buf(),
                    n,
                    offset: *offset,
                    len: bytes.len() as u64,
                    set_len: None,
                    durable_len: node.durable.len() as u64,
                },
                Pending::SetLen(len) => PendingOp {
                    path: path.to_path_buf(),
                    n,
                    offset: 0,
                    len: 0,
                    set_len: Some(*len),
                    durable_len: node.durable.len() as u64,
                },
            })
            .collect()
    }

    /// The durable bytes of a file (test inspection; not counted).
    pub fn durable_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.lock();
        let ino = st.file_ino(path).ok()?;
        Some(st.files[&ino].durable.clone())
    }

    /// Bytes a failed fsync dropped from a file's writeback (test inspection).
    pub fn lost_bytes(&self, path: &Path) -> u64 {
        let st = self.lock();
        st.file_ino(path).map_or(0, |ino| {
            st.files[&ino]
                .lost
                .iter()
                .map(|p| match p {
                    Pending::Write { bytes, .. } => bytes.len() as u64,
                    Pending::SetLen(_) => 0,
                })
                .sum()
        })
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
                st.dir_mut(dir).insert_durable(name, Entry::File(ino));
                ino
            }
        };
        st.files.insert(ino, settled(bytes.to_vec()));
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
                    st.dir_mut(cur).insert_durable(p, Entry::Dir(ino));
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
    generation: u64,
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
        st.begin(self.generation, OpKind::Read, &self.path)?;
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
        let fault = st.begin(self.generation, OpKind::Write, &self.path)?;
        let n = match fault {
            // Store a deterministic prefix: at least one byte short of the whole.
            Some(_) => data.len() / 2,
            None => data.len(),
        };
        let node = st.files.get_mut(&self.ino).expect("inode");
        // Preallocated space taking records: a write over durable zeros.
        let durable = &node.durable;
        let under = offset.min(durable.len() as u64) as usize
            ..(offset + n as u64).min(durable.len() as u64) as usize;
        let overwrite = !under.is_empty() && durable[under].iter().all(|&b| b == 0);
        if n > 0 {
            let op = Pending::Write {
                offset,
                bytes: data[..n].to_vec(),
            };
            apply_pending(&mut node.data, &op);
            node.pending.push(op);
        }
        if overwrite {
            st.coverage
                .overwrites
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match fault {
            Some(FaultKind::Enospc) => Err(enospc()),
            Some(_) => Err(eio()),
            None => Ok(()),
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut st = self.lock();
        let fault = st.begin(self.generation, OpKind::SyncData, &self.path)?;
        let node = st.files.get_mut(&self.ino).expect("inode");
        if fault == Some(FaultKind::SyncDrop) {
            // fsyncgate: the dirty pages are marked clean without reaching the disk. The size
            // (a truncation, an extension) is inode metadata: the journal still has it.
            let (sizes, dropped) = std::mem::take(&mut node.pending)
                .into_iter()
                .partition(|op| matches!(op, Pending::SetLen(_)));
            node.pending = sizes;
            node.lost.extend::<Vec<Pending>>(dropped);
            return Err(eio());
        }
        for op in std::mem::take(&mut node.pending) {
            apply_pending(&mut node.durable, &op);
        }
        // fdatasync persists the file's size; pages dropped by an earlier failed fsync keep
        // their old content on disk (zeros past the old end).
        let len = node.data.len();
        node.durable.resize(len, 0);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        let mut st = self.lock();
        st.begin(self.generation, OpKind::Size, &self.path)?;
        Ok(st.files[&self.ino].data.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut st = self.lock();
        st.begin(self.generation, OpKind::SetLen, &self.path)?;
        let node = st.files.get_mut(&self.ino).expect("inode");
        let op = Pending::SetLen(len);
        apply_pending(&mut node.data, &op);
        node.pending.push(op);
        Ok(())
    }
}

/// A held lock; dropping it releases it (unless its process was killed meanwhile, which
/// released it already).
pub struct FaultLock {
    state: Arc<Mutex<State>>,
    generation: u64,
    path: PathBuf,
}

impl Drop for FaultLock {
    fn drop(&mut self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.locks.get(&self.path) == Some(&self.generation) {
            st.locks.remove(&self.path);
        }
    }
}

impl FaultFs {
    fn handle(&self, ino: u64, path: &Path) -> FaultFile {
        FaultFile {
            state: Arc::clone(&self.state),
            generation: self.generation,
            ino,
            path: path.to_path_buf(),
        }
    }

    fn begin(&self, st: &mut State, kind: OpKind, path: &Path) -> io::Result<Option<FaultKind>> {
        st.begin(self.generation, kind, path)
    }
}

impl FileSystem for FaultFs {
    type File = FaultFile;
    type Lock = FaultLock;

    fn open(&self, path: &Path) -> io::Result<FaultFile> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::Open, path)?;
        let ino = st.file_ino(path)?;
        Ok(self.handle(ino, path))
    }

    fn create_new(&self, path: &Path) -> io::Result<FaultFile> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::CreateNew, path)?;
        let (dir, name) = st.split(path)?;
        if st.dirs[&dir].entries.contains_key(&name) {
            return Err(err(io::ErrorKind::AlreadyExists, "exists"));
        }
        let ino = st.new_ino();
        st.files.insert(ino, Node::default());
        st.dir_mut(dir).insert(name, Entry::File(ino));
        Ok(self.handle(ino, path))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::ReadFile, path)?;
        let ino = st.file_ino(path)?;
        Ok(st.files[&ino].data.clone())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::Rename, from)?;
        let (fd, fname) = st.split(from)?;
        let (td, tname) = st.split(to)?;
        let e = st.dirs[&fd]
            .entries
            .get(&fname)
            .copied()
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no such file"))?;
        if fd == td {
            // One atomic change of the directory.
            st.dir_mut(fd).set(vec![(fname, None), (tname, Some(e))]);
        } else {
            st.dir_mut(fd).remove(&fname);
            st.dir_mut(td).insert(tname, e);
        }
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::RemoveFile, path)?;
        st.file_ino(path)?;
        let (dir, name) = st.split(path)?;
        st.dir_mut(dir).remove(&name);
        Ok(())
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::CreateDirAll, path)?;
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
                    st.dir_mut(cur).insert(p, Entry::Dir(ino));
                    ino
                }
            };
        }
        Ok(())
    }

    /// Not atomic: each entry of the tree is removed by an operation of its own (depth
    /// first), then the directory itself.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::RemoveDirAll, path)?;
        let top = match st.lookup(path)? {
            Entry::Dir(d) => d,
            Entry::File(_) => return Err(err(io::ErrorKind::NotADirectory, "file")),
        };
        // Post-order: (directory inode, its path, entry name).
        let mut order = Vec::new();
        let mut stack = vec![(top, path.to_path_buf(), false)];
        while let Some((d, p, visited)) = stack.pop() {
            if visited {
                for name in st.dirs[&d].entries.keys() {
                    order.push((d, p.join(name), name.clone()));
                }
                continue;
            }
            stack.push((d, p.clone(), true));
            for (name, e) in &st.dirs[&d].entries {
                if let Entry::Dir(sub) = e {
                    stack.push((*sub, p.join(name), false));
                }
            }
        }
        for (d, p, name) in order {
            self.begin(&mut st, OpKind::RemoveDirAll, &p)?;
            st.dir_mut(d).remove(&name);
        }
        self.begin(&mut st, OpKind::RemoveDirAll, path)?;
        let (dir, name) = st.split(path)?;
        st.dir_mut(dir).remove(&name);
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::ListDir, path)?;
        let d = st.dir_of(&parts(path)?)?;
        Ok(st.dirs[&d].entries.keys().cloned().collect())
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::Exists, path)?;
        Ok(st.lookup(path).is_ok())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::SyncDir, path)?;
        let d = st.dir_of(&parts(path)?)?;
        let dir = st.dir_mut(d);
        dir.durable = dir.entries.clone();
        dir.changes.clear();
        Ok(())
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<FaultLock>> {
        let mut st = self.lock();
        self.begin(&mut st, OpKind::TryLock, path)?;
        let (dir, name) = st.split(path)?;
        if !st.dirs[&dir].entries.contains_key(&name) {
            let ino = st.new_ino();
            st.files.insert(ino, Node::default());
            st.dir_mut(dir).insert(name, Entry::File(ino));
        }
        if st.locks.contains_key(path) {
            return Ok(None);
        }
        st.locks.insert(path.to_path_buf(), self.generation);
        Ok(Some(FaultLock {
            state: Arc::clone(&self.state),
            generation: self.generation,
            path: path.to_path_buf(),
        }))
    }
}
