//! Offline verification of a data directory: every record of every segment, the
//! checkpoints and the catalog, reporting every problem found rather than the first.
//!
//! Read-only: nothing is repaired, removed or created (what the next open would clean up,
//! such as a torn final transaction or a leftover temporary file, is reported as a note).
//! The directory lock is taken, when the store has one, so that no writer appends while
//! the files are read: a live store is refused with `Locked`.
//!
//! Every file is decoded by the engine's own readers (segment headers, records,
//! checkpoints, catalog), so the check follows the on-disk format wherever it goes.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, DbStatus, CATALOG_FILE};
use crate::checkpoint::{Checkpoint, CHECKPOINT_FILE};
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem, OsFs};
use crate::log::record::Place;
use crate::log::recovery::{data_end, valid_record_after, ChunkReader};
use crate::log::segment::{parse_segment_name, segment_name, Segment, SEGMENT_HEADER_LEN};

const LOCK_FILE: &str = "LOCK";
/// Progress is reported about this often, in bytes read.
const PROGRESS_STEP: u64 = 1 << 20;

/// One finding: the file, the byte offset in it, and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub offset: u64,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {}: {}",
            self.file.display(),
            self.offset,
            self.what
        )
    }
}

/// What [`check_dir`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Damage: data that fails verification or files that contradict each other.
    pub problems: Vec<Problem>,
    /// Not damage: what a crash leaves and the next open cleans up (a torn final
    /// transaction, temporary files, directories of dropped databases).
    pub notes: Vec<Problem>,
    /// Databases, segment files and valid records checked, and bytes read.
    pub databases: u64,
    pub segments: u64,
    pub records: u64,
    pub bytes: u64,
}

impl CheckReport {
    /// Whether no damage was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, file: &Path, offset: u64, what: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            offset,
            what: what.into(),
        });
    }

    fn note(&mut self, file: &Path, offset: u64, what: impl Into<String>) {
        self.notes.push(Problem {
            file: file.to_path_buf(),
            offset,
            what: what.into(),
        });
    }

    /// Records a failed decode as a problem at the place the engine reported.
    fn error(&mut self, file: &Path, err: Error) {
        match err {
            Error::Corruption {
                file,
                offset,
                reason,
            } => self.problem(&file, offset, reason),
            other => self.problem(file, 0, other.to_string()),
        }
    }
}

/// Verifies the data directory at `path`. `progress(done, total)` reports bytes read.
///
/// `Err` only when the check cannot run: `NotFound` (no such directory),
/// `InvalidArgument` (not a DocDB data directory), `Locked` (a process has the store open)
/// or `Io` (the directory cannot be listed). Damage is reported in the [`CheckReport`].
pub fn check_dir(path: impl AsRef<Path>, progress: impl FnMut(u64, u64)) -> Result<CheckReport> {
    Checker::new(&OsFs, path.as_ref(), Box::new(progress))?.run()
}

struct Checker<'a, F: FileSystem> {
    fs: &'a F,
    dir: &'a Path,
    names: Vec<String>,
    report: CheckReport,
    progress: Box<dyn FnMut(u64, u64) + 'a>,
    total: u64,
    done: u64,
    reported: u64,
    _lock: Option<F::Lock>,
}

impl<'a, F: FileSystem> Checker<'a, F> {
    fn new(fs: &'a F, dir: &'a Path, progress: Box<dyn FnMut(u64, u64) + 'a>) -> Result<Self> {
        let io = |what: &str| {
            let what = format!("{what} {}", dir.display());
            move |e| Error::io(what, e)
        };
        if !dir.is_dir() {
            return Err(Error::NotFound(format!("data directory {}", dir.display())));
        }
        let mut names = fs.list_dir(dir).map_err(io("listing"))?;
        names.sort();
        let is_store = names
            .iter()
            .any(|n| n == CATALOG_FILE || n == LOCK_FILE || db_id(n).is_some());
        if !is_store {
            return Err(Error::InvalidArgument(format!(
                "{} is not a DocDB data directory (no CATALOG, LOCK or db-* directory)",
                dir.display()
            )));
        }
        // Only an existing lock file is taken: checking must not create files.
        let lock = if names.iter().any(|n| n == LOCK_FILE) {
            let lock = fs
                .try_lock(&dir.join(LOCK_FILE))
                .map_err(io("locking"))?
                .ok_or_else(|| Error::Locked(dir.to_path_buf()))?;
            Some(lock)
        } else {
            None
        };
        Ok(Checker {
            fs,
            dir,
            names,
            report: CheckReport::default(),
            progress,
            total: 0,
            done: 0,
            reported: 0,
            _lock: lock,
        })
    }

    fn run(mut self) -> Result<CheckReport> {
        let catalog = self.check_catalog();
        let mut dbs = Vec::new();
        for name in &self.names {
            let Some(id) = db_id(name) else { continue };
            let path = self.dir.join(name);
            let entry = catalog
                .as_ref()
                .map(|c| (c.entries.iter().find(|e| e.id == id), c.next_id));
            match entry {
                Some((Some(e), _)) if e.status == DbStatus::Dropped => self.report.note(
                    &path,
                    0,
                    "directory of a dropped database; the next open removes it",
                ),
                Some((None, next_id)) if id >= next_id => self.report.note(
                    &path,
                    0,
                    "directory of a database whose creation did not complete; the next open removes it",
                ),
                Some((None, _)) => {
                    self.report
                        .problem(&path, 0, "database directory is not in the catalog");
                    dbs.push((path, None));
                }
                Some((Some(e), _)) => dbs.push((path, Some(e.salt))),
                None => dbs.push((path, None)),
            }
        }
        let mut segments = Vec::new();
        for (db, _) in &dbs {
            segments.push(self.list_db(db));
        }
        self.total = segments
            .iter()
            .flat_map(|s| s.iter())
            .map(|(_, len)| len)
            .sum();
        (self.progress)(0, self.total);
        for ((db, salt), segs) in dbs.iter().zip(segments) {
            self.report.databases += 1;
            self.check_db(db, *salt, &segs);
        }
        (self.progress)(self.total, self.total);
        Ok(self.report)
    }

    fn check_catalog(&mut self) -> Option<Catalog> {
        let path = self.dir.join(CATALOG_FILE);
        match self.fs.read(&path) {
            Ok(bytes) => {
                self.report.bytes += bytes.len() as u64;
                Catalog::decode(&bytes, &path)
                    .map_err(|e| self.report.error(&path, e))
                    .ok()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.names.iter().any(|n| db_id(n).is_some()) {
                    self.report.problem(
                        &path,
                        0,
                        "the catalog is missing but database directories exist",
                    );
                    None
                } else {
                    Some(Catalog::default())
                }
            }
            Err(e) => {
                self.report
                    .problem(&path, 0, format!("cannot be read: {e}"));
                None
            }
        }
    }

    /// The segment files of a database directory with their sizes, by sequence number.
    fn list_db(&mut self, db: &Path) -> Vec<(u64, u64)> {
        let names = match self.fs.list_dir(db) {
            Ok(names) => names,
            Err(e) => {
                self.report.problem(db, 0, format!("cannot be listed: {e}"));
                return Vec::new();
            }
        };
        let mut segs = Vec::new();
        for name in names {
            let path = db.join(&name);
            if let Some(seq) = parse_segment_name(&name) {
                let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                segs.push((seq, len));
            } else if name.ends_with(".tmp") {
                self.report.note(
                    &path,
                    0,
                    "temporary file of an unfinished write; the next open removes it",
                );
            } else if name != CHECKPOINT_FILE {
                self.report.note(&path, 0, "not a DocDB file; ignored");
            }
        }
        segs.sort_unstable();
        segs
    }

    /// `salt`: the database's, from the catalog; `None` when the catalog cannot say.
    fn check_db(&mut self, db: &Path, salt: Option<u64>, segs: &[(u64, u64)]) {
        let ckpt_path = db.join(CHECKPOINT_FILE);
        let ckpt = match self.fs.read(&ckpt_path) {
            Ok(bytes) => {
                self.report.bytes += bytes.len() as u64;
                Checkpoint::decode(&bytes, &ckpt_path)
                    .map_err(|e| self.report.error(&ckpt_path, e))
                    .ok()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                self.report
                    .problem(&ckpt_path, 0, format!("cannot be read: {e}"));
                None
            }
        };
        let obsolete: HashSet<u64> = ckpt.iter().flat_map(|c| c.obsolete.clone()).collect();
        let newest = segs.last().map(|s| s.0);

        let mut open = BTreeMap::new();
        for &(seq, len) in segs {
            let path = db.join(segment_name(seq));
            if obsolete.contains(&seq) {
                self.report.note(
                    &path,
                    0,
                    "segment replaced by a compaction; the next open removes it",
                );
                self.advance(len);
                continue;
            }
            self.report.segments += 1;
            match Segment::open(self.fs, &path, seq, salt.unwrap_or(0)) {
                Ok(seg) => {
                    open.insert(seq, seg);
                }
                Err(_) if Some(seq) == newest && len < SEGMENT_HEADER_LEN => {
                    self.report.note(
                        &path,
                        0,
                        "segment whose creation did not complete; the next open removes it",
                    );
                    self.advance(len);
                }
                Err(e) => {
                    self.report.error(&path, e);
                    self.advance(len);
                }
            }
        }
        // As in recovery: only the newest segment written by commits may end in a torn write.
        let tail = open.values().rev().find(|s| !s.compacted).map(|s| s.seq);
        // Records are checksummed with the database's salt (format 2): without it only
        // the headers and the checkpoint's framing can be verified.
        let unverifiable = |seg: &Segment<F>| salt.is_none() && !seg.place.legacy;
        if let Some(seg) = open.values().find(|s| unverifiable(s)) {
            self.report.note(
                &seg.path,
                0,
                "records not verified: the catalog does not give this database's salt",
            );
        }
        for seg in open.values() {
            if unverifiable(seg) {
                let len = seg.file.size().unwrap_or(0);
                self.report.bytes += len;
                self.advance(len);
            } else {
                self.check_segment(seg, Some(seg.seq) == tail);
            }
        }
        if let Some(ckpt) = ckpt {
            self.check_checkpoint(&ckpt_path, &ckpt, &open, salt.is_some());
        }
    }

    fn check_segment(&mut self, seg: &Segment<F>, is_tail: bool) {
        let len = match seg.file.size() {
            Ok(len) => len,
            Err(e) => {
                self.report
                    .problem(&seg.path, 0, format!("cannot be read: {e}"));
                return;
            }
        };
        let mut reader = ChunkReader::new(&seg.file, len);
        let mut pos = SEGMENT_HEADER_LEN;
        let mut counted = pos;
        // The version of the transaction being read, and where it started.
        let mut open_txn: Option<(u64, u64)> = None;
        let read_error = |r: &mut CheckReport, at: u64, e: std::io::Error| {
            r.problem(&seg.path, at, format!("read error: {e}"));
        };
        while pos < len {
            let found = match reader.record(&seg.place, pos) {
                Ok(found) => found,
                Err(e) => {
                    read_error(&mut self.report, pos, e);
                    break;
                }
            };
            if let Some(h) = found {
                self.report.records += 1;
                if open_txn.is_some_and(|(v, _)| v != h.version) {
                    self.report
                        .problem(&seg.path, pos, "transaction records interleave");
                }
                if pos + h.framed_len() > u64::from(u32::MAX) {
                    self.report.problem(
                        &seg.path,
                        pos,
                        "record lies beyond the 4 GiB segment limit",
                    );
                }
                open_txn = if h.is_txn_end() {
                    None
                } else {
                    Some((h.version, open_txn.map_or(pos, |(_, at)| at)))
                };
                pos += h.framed_len();
            } else {
                // As in recovery: damage in the tail that no later record says was
                // already durable is a torn write.
                let torn = match is_tail.then(|| valid_record_after(&mut reader, &seg.place, pos)) {
                    Some(Ok(durable_after)) => !durable_after,
                    Some(Err(e)) => {
                        read_error(&mut self.report, pos, e);
                        break;
                    }
                    None => false,
                };
                if torn {
                    let from = open_txn.map_or(pos, |(_, at)| at);
                    // Zeros to the end are preallocated space (`log/writer.rs`), not damage.
                    let data_end = match data_end(&mut reader, from) {
                        Ok(end) => end,
                        Err(e) => {
                            read_error(&mut self.report, pos, e);
                            break;
                        }
                    };
                    if data_end > from {
                        self.report.note(
                            &seg.path,
                            from,
                            format!(
                                "incomplete final transaction ({} bytes, a torn write); the next open cuts it off",
                                data_end - from
                            ),
                        );
                    }
                    open_txn = None;
                    break;
                }
                self.report.problem(
                    &seg.path,
                    pos,
                    "invalid record (checksum or framing) before the end of the log",
                );
                // Resume at the next valid record, if any, to report every problem.
                open_txn = None;
                match next_record(&mut reader, &seg.place, pos, len) {
                    Ok(Some(next)) => pos = next,
                    Ok(None) => break,
                    Err(e) => {
                        read_error(&mut self.report, pos, e);
                        break;
                    }
                }
            }
            if pos.min(len) - counted >= PROGRESS_STEP {
                self.advance(pos.min(len) - counted);
                counted = pos.min(len);
            }
        }
        if let Some((_, at)) = open_txn {
            if is_tail {
                self.report.note(
                    &seg.path,
                    at,
                    "incomplete final transaction (a torn write); the next open cuts it off",
                );
            } else {
                self.report
                    .problem(&seg.path, at, "segment ends inside a transaction");
            }
        }
        self.report.bytes += len;
        self.advance(len.saturating_sub(counted));
    }

    /// Every checkpoint entry must be a valid record of its document where it points (when
    /// the salt its segment's checksums need is known).
    fn check_checkpoint(
        &mut self,
        path: &Path,
        ckpt: &Checkpoint,
        open: &BTreeMap<u64, Segment<F>>,
        salt_known: bool,
    ) {
        let mut listed = Vec::with_capacity(ckpt.segments.len());
        for &(seq, covered) in &ckpt.segments {
            let seg = open.get(&seq);
            match seg.map(|s| s.file.size()) {
                None => self.report.problem(
                    path,
                    0,
                    format!(
                        "lists segment {} which is missing or unreadable",
                        segment_name(seq)
                    ),
                ),
                Some(Ok(len)) if len < covered => self.report.problem(
                    path,
                    0,
                    format!(
                        "says segment {} holds {covered} bytes but it has {len}",
                        segment_name(seq)
                    ),
                ),
                _ => {}
            }
            listed.push(seg);
        }
        // A damaged record found by the segment walk is reported once.
        let known: HashSet<(PathBuf, u64)> = self
            .report
            .problems
            .iter()
            .map(|p| (p.file.clone(), p.offset))
            .collect();
        for e in &ckpt.entries {
            let Some(Some(seg)) = listed.get(e.segment as usize) else {
                continue;
            };
            if !salt_known && !seg.place.legacy {
                continue;
            }
            if known.contains(&(seg.path.clone(), u64::from(e.offset))) {
                continue;
            }
            if let Err(err) = seg.read_payload(e.offset, e.len, e.id) {
                self.report.error(&seg.path, err);
            }
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.done - self.reported >= PROGRESS_STEP || self.done >= self.total {
            self.reported = self.done;
            (self.progress)(self.done.min(self.total), self.total);
        }
    }
}

/// The offset of the first valid record after `bad`, if any.
fn next_record<H: FileHandle>(
    reader: &mut ChunkReader<'_, H>,
    place: &Place,
    bad: u64,
    len: u64,
) -> std::io::Result<Option<u64>> {
    let mut p = bad + 1;
    while p < len {
        if reader.record(place, p)?.is_some() {
            return Ok(Some(p));
        }
        p += 1;
    }
    Ok(None)
}

/// The id of a database directory name (`db-<id>`).
fn db_id(name: &str) -> Option<u64> {
    name.strip_prefix("db-")?.parse().ok()
}
