//! The append side of a database's log: the active segment, rotation, and the set of
//! segment files that make up the database.
//!
//! Small durable commits go into preallocated space: the active segment is grown ahead of
//! need by writing zeros (real writes, so the blocks are allocated and written, not
//! unwritten extents), and records then overwrite those zeros. The fdatasync of a commit
//! that neither grows the file nor fills a hole has no file-system metadata to commit, which
//! is what makes it fast (docs/performance.md, proposal 2). The zeros are written together
//! with the commit that needs them and made durable by that commit's fsync, so growing costs
//! no extra fsync. Why this is safe: docs/failure_modes.md, "Preallocated space".

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::record::{self, Place, HEADER_LEN};
use super::segment::{segment_name, Segment, SEGMENT_HEADER_LEN};
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};

/// Largest single write of a commit's records.
const WRITE_CHUNK: usize = 4 << 20;

/// Commits of at least this many bytes are encoded and written in [`WRITE_CHUNK`] pieces by
/// up to [`MAX_WRITERS`] threads, each streaming its share of the records: one thread's
/// encoding overlaps another's copy into the page cache, and no commit-sized buffer is
/// allocated (docs/performance.md, workload (a)).
const PARALLEL_MIN: u64 = 16 << 20;
const MAX_WRITERS: usize = 4;

/// The most a segment is grown ahead of its end at a time (less for small segments:
/// [`prealloc_chunk`]).
const PREALLOC_CHUNK: u64 = 1 << 20;

/// Commits up to this size go into preallocated space; larger ones are appended (zeros
/// written first would double their bytes for little gain: their fsync is dominated by
/// their data, not by the metadata commit).
const PREALLOC_MAX_COMMIT: u64 = 16 << 10;

/// How far a segment of `segment_size` bytes is grown past a commit that needs room: a
/// quarter of it, at most [`PREALLOC_CHUNK`].
pub(crate) fn prealloc_chunk(segment_size: u64) -> u64 {
    (segment_size / 4).clamp(512, PREALLOC_CHUNK)
}

/// One record of a commit: a document id and its payload (`None`: a deletion).
pub(crate) type RecordRef<'a> = (u64, Option<&'a [u8]>);

/// Bytes `record` takes in the log.
pub(crate) fn framed_len(record: &RecordRef<'_>) -> u64 {
    (HEADER_LEN + record.1.map_or(0, <[u8]>::len)) as u64
}

pub(crate) struct LogWriter<F: FileSystem> {
    pub active: Arc<Segment<F>>,
    /// Append offset in the active segment.
    pub end: u64,
    /// The active segment's length as this process made it: `[end, allocated)` holds
    /// zeros this process wrote, never a record (preallocated space).
    pub allocated: u64,
    /// Every segment of the database, by sequence number (the active one included).
    pub segments: BTreeMap<u64, Arc<Segment<F>>>,
    pub next_seq: u64,
    /// The last version given to a commit (written, maybe not yet durable or visible).
    pub last_version: u64,
    /// Reused encoding buffer.
    pub buf: Vec<u8>,
    /// The database's salt, bound into every record's checksum (`record::Place`).
    pub salt: u64,
}

/// Why an append failed: whether the file is known to be back in its previous state.
pub(crate) enum AppendError {
    /// The write failed and the partial data was cut off again: safe to continue.
    Clean(Error),
    /// The file may hold a partial record: the log must be poisoned.
    Dirty(Error),
}

impl<F: FileSystem> LogWriter<F> {
    /// Allocates the next segment sequence number (rotation and compaction outputs).
    pub(crate) fn alloc_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Seals the active segment (fsynced, whatever the sync mode: recovery trusts every
    /// segment but the newest to be durable in full) and starts a new one.
    ///
    /// A failure to write the new segment's header is clean (`AppendError::Clean`: the
    /// active segment stays active) once the half-made file is removed again: it was never
    /// fsynced, so if power loss brings it back it is a newest segment without a valid
    /// header, which recovery removes. A failed fsync (never retried: the kernel may have
    /// dropped its pages) is `Dirty`: a new segment that might come back with a valid
    /// header would make recovery take it for the tail and trust the sealed one.
    ///
    /// The sealed segment is first cut to its end (its preallocated zeros removed): every
    /// segment but the tail must hold nothing but whole records.
    pub(crate) fn rotate(&mut self, fs: &F, dir: &Path) -> Result<(), AppendError> {
        self.trim().map_err(AppendError::Clean)?;
        self.active.sync_to(self.end).map_err(AppendError::Dirty)?;
        let seq = self.next_seq;
        let path = dir.join(segment_name(seq));
        let seg = create_durably(fs, dir, &path, seq, self.salt).map_err(|e| match e {
            CreateError::Create(e) => match fs.remove_file(&path) {
                Ok(()) => AppendError::Clean(e),
                Err(r) if r.kind() == io::ErrorKind::NotFound => AppendError::Clean(e),
                Err(_) => AppendError::Dirty(e),
            },
            CreateError::Sync(e) => AppendError::Dirty(e),
        })?;
        let seg = Arc::new(seg);
        self.next_seq += 1;
        self.segments.insert(seq, Arc::clone(&seg));
        self.active = seg;
        self.end = SEGMENT_HEADER_LEN;
        self.allocated = SEGMENT_HEADER_LEN;
        Ok(())
    }

    /// Cuts the active segment's preallocated space off (not fsynced: zeros that come back
    /// after a crash end the log like any torn tail).
    pub(crate) fn trim(&mut self) -> Result<()> {
        if self.allocated > self.end {
            self.active
                .file
                .set_len(self.end)
                .map_err(|e| Error::io(format!("trimming {}", self.active.path.display()), e))?;
            self.allocated = self.end;
        }
        Ok(())
    }

    /// Makes sure a commit of `size` bytes lands in preallocated space, growing the active
    /// segment to `chunk` bytes past it with zeros if it would not (at most to `limit`, the
    /// segment size). Only for commits up to [`PREALLOC_MAX_COMMIT`].
    ///
    /// The zeros are not fsynced here: the commit's own fsync makes them durable along with
    /// its records. A failed write is cut off again (`Clean`), or poisons (`Dirty`) if the
    /// cut fails.
    pub(crate) fn preallocate(
        &mut self,
        size: u64,
        chunk: u64,
        limit: u64,
    ) -> Result<(), AppendError> {
        let need = self.end + size;
        if need <= self.allocated || size > PREALLOC_MAX_COMMIT {
            return Ok(());
        }
        let from = self.allocated.max(self.end);
        let to = (need + chunk).min(limit.max(need)).next_multiple_of(512);
        let zeros = vec![0u8; (to - from).min(WRITE_CHUNK as u64) as usize];
        let file = &self.active.file;
        let written = (from..to).step_by(zeros.len()).try_for_each(|at| {
            let n = (to - at).min(zeros.len() as u64) as usize;
            file.write_all_at(&zeros[..n], at)
        });
        if let Err(e) = written {
            let err = Error::io(format!("preallocating {}", self.active.path.display()), e);
            return match file.set_len(from) {
                Ok(()) => Err(AppendError::Clean(err)),
                Err(_) => Err(AppendError::Dirty(err)),
            };
        }
        self.allocated = to;
        Ok(())
    }

    /// Appends one commit's records (`size` bytes in all; the last one ends the commit) at
    /// the end of the active segment; returns the offset written at.
    pub(crate) fn append(
        &mut self,
        records: &[RecordRef<'_>],
        size: u64,
        version: u64,
        durable: u64,
    ) -> Result<u64, AppendError> {
        let at = self.end;
        let file = &self.active.file;
        let place = self.active.place;
        let written = if size < PARALLEL_MIN {
            self.buf.clear();
            for (k, &(id, data)) in records.iter().enumerate() {
                let offset = at + self.buf.len() as u64;
                record::encode(
                    &mut self.buf,
                    &place,
                    offset,
                    id,
                    version,
                    durable,
                    data,
                    k + 1 == records.len(),
                );
            }
            debug_assert_eq!(self.buf.len() as u64, size);
            // Even so, large commits go out in pieces: one huge pwrite was measured three
            // times slower than the same bytes in a few MiB at a time.
            self.buf
                .chunks(WRITE_CHUNK)
                .zip((at..).step_by(WRITE_CHUNK))
                .try_for_each(|(chunk, offset)| file.write_all_at(chunk, offset))
        } else {
            let writers =
                std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WRITERS));
            let commit = Commit {
                file,
                place,
                version,
                durable,
            };
            write_parallel(&commit, records, size, at, writers)
        };
        if let Err(e) = written {
            let err = Error::io(format!("appending to {}", self.active.path.display()), e);
            // Cut any partial record off so the next append starts at a record boundary,
            // and make the cut durable before anything is written there again: otherwise a
            // power loss could keep the failed commit's records (with the version the next
            // commit gets) behind a shorter later one, and recovery would read them as its
            // continuation. The preallocated space goes with the cut.
            self.allocated = at;
            return match self.active.file.set_len(at) {
                Ok(()) => match self.active.sync_to(at) {
                    Ok(()) => Err(AppendError::Clean(err)),
                    Err(_) => Err(AppendError::Dirty(err)),
                },
                Err(_) => Err(AppendError::Dirty(err)),
            };
        }
        self.end += size;
        self.allocated = self.allocated.max(self.end);
        Ok(at)
    }

    /// Sum of all segment file sizes.
    pub(crate) fn total_bytes(&self) -> u64 {
        self.segments
            .values()
            .map(|s| {
                if Arc::ptr_eq(s, &self.active) {
                    self.end
                } else {
                    s.file.size().unwrap_or(0)
                }
            })
            .sum()
    }
}

/// Which stage of [`create_durably`] failed.
pub(crate) enum CreateError {
    /// Creating the file or writing its header: nothing was fsynced.
    Create(Error),
    /// The fsync of the file or of its directory entry: never retried, as the kernel may
    /// have dropped the pages.
    Sync(Error),
}

impl From<CreateError> for Error {
    fn from(e: CreateError) -> Error {
        match e {
            CreateError::Create(e) | CreateError::Sync(e) => e,
        }
    }
}

/// Creates a segment with its header and makes both durable (file, then directory entry)
/// before anything is appended to it: recovery may then trust the header of every segment
/// that holds a record.
pub(crate) fn create_durably<F: FileSystem>(
    fs: &F,
    dir: &Path,
    path: &Path,
    seq: u64,
    salt: u64,
) -> Result<Segment<F>, CreateError> {
    let seg = Segment::create(fs, path, seq, false, salt).map_err(CreateError::Create)?;
    seg.sync_to(SEGMENT_HEADER_LEN)
        .and_then(|()| {
            fs.sync_dir(dir)
                .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))
        })
        .map_err(CreateError::Sync)?;
    Ok(seg)
}

/// What every record of one commit shares.
struct Commit<'a, H: FileHandle> {
    file: &'a H,
    place: Place,
    version: u64,
    durable: u64,
}

/// Splits `records` into `writers` runs of about equal bytes and streams each from its own
/// thread (the calling thread takes the first). Until the commit's fsync, the order in which
/// the runs reach the disk does not matter: recovery treats anything short of a complete,
/// checksummed commit as a torn tail, as for one sequential write.
fn write_parallel<H: FileHandle>(
    commit: &Commit<'_, H>,
    records: &[RecordRef<'_>],
    size: u64,
    at: u64,
    writers: usize,
) -> io::Result<()> {
    let share = size.div_ceil(writers as u64);
    let mut runs = Vec::with_capacity(writers);
    let (mut start, mut offset, mut bytes) = (0, at, 0);
    for (k, r) in records.iter().enumerate() {
        bytes += framed_len(r);
        if bytes >= share || k + 1 == records.len() {
            runs.push((&records[start..=k], offset, k + 1 == records.len()));
            start = k + 1;
            offset += bytes;
            bytes = 0;
        }
    }
    let Some((&first, rest)) = runs.split_first() else {
        return Ok(());
    };
    // crossbeam's scope rather than std's: std's registers a thread handle for the calling
    // thread, which a thread created by C (the C library's callers) never frees (valgrind
    // reports it); crossbeam's waits on a wait group instead.
    let joined = crossbeam_utils::thread::scope(|scope| {
        // A run whose thread cannot be started is written by this thread instead.
        let mut here = vec![first];
        let mut others = Vec::with_capacity(rest.len());
        for &run in rest {
            let spawned = scope
                .builder()
                .name("docdb-log-writer".into())
                .spawn(move |_| stream(commit, run));
            match spawned {
                Ok(handle) => others.push(handle),
                Err(_) => here.push(run),
            }
        }
        let mut result = Ok(());
        for run in here {
            result = result.and_then(|()| stream(commit, run));
        }
        for handle in others {
            let r = handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a log writer thread panicked")));
            result = result.and(r);
        }
        result
    });
    joined.unwrap_or_else(|_| Err(io::Error::other("a log writer thread panicked")))
}

/// Encodes a run of records into a [`WRITE_CHUNK`]-sized buffer and writes it each time it
/// fills; `ends` marks the run's last record as the end of the commit.
fn stream<H: FileHandle>(
    c: &Commit<'_, H>,
    (records, mut offset, ends): (&[RecordRef<'_>], u64, bool),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(WRITE_CHUNK + WRITE_CHUNK / 4);
    for (k, &(id, data)) in records.iter().enumerate() {
        let last = ends && k + 1 == records.len();
        let at = offset + buf.len() as u64;
        record::encode(&mut buf, &c.place, at, id, c.version, c.durable, data, last);
        if buf.len() >= WRITE_CHUNK || k + 1 == records.len() {
            c.file.write_all_at(&buf, offset)?;
            offset += buf.len() as u64;
            buf.clear();
        }
    }
    Ok(())
}
