//! Opening a database's files: checkpoint load, log replay, torn-tail repair.
//!
//! Replay is order-independent across segments: each record carries its transaction's
//! version and the newest version of a document wins. Within a segment, records are grouped
//! into transactions; a transaction counts only once its last record (flagged) is read, so a
//! partially written transaction is never applied.
//!
//! Only the tail segment (the newest one written by commits) can legitimately end in a torn
//! write: every other segment was fsynced before a newer one was started, and compaction
//! outputs are renamed into place only once complete. A bad record in the tail is treated as
//! a torn write, and cut off with everything after it, unless a later valid record says the
//! bad bytes had already been fsynced when it was written (each record carries the durable
//! length of its segment); then it is reported as `Corruption`.
//!
//! Nothing an earlier process left is trusted as durable because it can be read: its page
//! cache outlives it (kill -9), and a failed fsync may have dropped pages that reads still
//! return. So before anything builds on the tail, recovery writes the tail's bytes that no
//! checkpoint covers again, in place, and fsyncs them: from then on they are durable whatever
//! happened to the earlier writes.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::record::{self, Place, RecordHeader, HEADER_LEN};
use super::segment::{parse_segment_name, segment_name, Segment, SEGMENT_HEADER_LEN};
use super::writer::{create_durably, LogWriter};
use crate::checkpoint::{Checkpoint, CHECKPOINT_FILE};
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};
use crate::index::{Index, Location, Version};

const CHUNK: usize = 4 << 20;

/// What recovery found, for the database to start from.
pub(crate) struct Recovered<F: FileSystem> {
    pub writer: LogWriter<F>,
    /// Log bytes that had to be replayed (not covered by the checkpoint).
    pub replayed_bytes: u64,
    /// Bytes cut off a torn tail.
    pub truncated_bytes: u64,
}

/// Reads a file in large chunks, serving small spans from the buffer.
pub(crate) struct ChunkReader<'a, H: FileHandle> {
    file: &'a H,
    len: u64,
    buf: Vec<u8>,
    at: u64,
}

impl<'a, H: FileHandle> ChunkReader<'a, H> {
    pub(crate) fn new(file: &'a H, len: u64) -> Self {
        ChunkReader {
            file,
            len,
            buf: Vec::new(),
            at: 0,
        }
    }

    /// The bytes `[off, off + n)`, or `None` if the file ends before.
    fn get(&mut self, off: u64, n: usize) -> std::io::Result<Option<&[u8]>> {
        if off.checked_add(n as u64).is_none_or(|end| end > self.len) {
            return Ok(None);
        }
        let cached = off >= self.at && off + n as u64 <= self.at + self.buf.len() as u64;
        if !cached {
            let want = (n.max(CHUNK) as u64).min(self.len - off) as usize;
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, off)?;
            self.at = off;
        }
        let start = (off - self.at) as usize;
        Ok(Some(&self.buf[start..start + n]))
    }

    /// A complete, valid record of the segment at `place`, at `off`.
    pub(crate) fn record(
        &mut self,
        place: &Place,
        off: u64,
    ) -> std::io::Result<Option<RecordHeader>> {
        let Some(h) = self.get(off, HEADER_LEN)?.and_then(record::decode_header) else {
            return Ok(None);
        };
        Ok(self
            .get(off, h.framed_len() as usize)?
            .filter(|r| record::verify(place, off, r, &h))
            .map(|_| h))
    }
}

/// Opens every segment in `dir` (a database whose salt is `salt`), loads the checkpoint,
/// replays the rest into `index`, and makes the tail durable.
pub(crate) fn recover<F: FileSystem>(
    fs: &F,
    dir: &Path,
    index: &Index<F>,
    salt: u64,
) -> Result<Recovered<F>> {
    let seqs = list_segments(fs, dir)?;
    let ckpt = read_checkpoint(fs, dir)?;
    let mut segments = open_segments(fs, dir, seqs, &ckpt, salt)?;
    let covered = load_checkpoint(dir, &ckpt, &segments, index)?;
    let log = replay(&segments, &covered, ckpt.last_version, index)?;

    if let (Some(seq), Some(end)) = (log.tail, log.tail_end) {
        // From the checkpoint's covered offset, or the header when none covers it.
        let from = covered.get(&seq).copied().unwrap_or(0);
        make_durable(&segments[&seq], from, end)?;
    }

    let (active, end) = open_tail(fs, dir, &mut segments, log.tail, log.tail_end, salt)?;
    let next_seq = segments.keys().next_back().map_or(1, |s| s + 1);
    Ok(Recovered {
        writer: LogWriter {
            active,
            end,
            // `open_tail` leaves the tail exactly `end` long: nothing preallocated yet.
            allocated: end,
            segments,
            next_seq,
            last_version: log.last_version,
            buf: Vec::new(),
            salt,
        },
        replayed_bytes: log.replayed_bytes,
        truncated_bytes: log.truncated_bytes,
    })
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::io(what, e)
}

type Segments<F> = BTreeMap<u64, Arc<Segment<F>>>;

/// The sequence numbers of the segment files in `dir`, in order; removes what an
/// unfinished compaction output or checkpoint left (`.tmp` files).
fn list_segments<F: FileSystem>(fs: &F, dir: &Path) -> Result<Vec<u64>> {
    let names = fs
        .list_dir(dir)
        .map_err(io(format!("listing {}", dir.display())))?;
    let mut seqs = Vec::new();
    for name in &names {
        if name.ends_with(".tmp") {
            // An unfinished compaction output or checkpoint: never referenced, so discard.
            let p = dir.join(name);
            fs.remove_file(&p)
                .map_err(io(format!("removing {}", p.display())))?;
        } else if let Some(seq) = parse_segment_name(name) {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

/// The checkpoint in `dir`, or an empty one if there is none.
fn read_checkpoint<F: FileSystem>(fs: &F, dir: &Path) -> Result<Checkpoint> {
    let ckpt_path = dir.join(CHECKPOINT_FILE);
    let ckpt = match fs.read(&ckpt_path) {
        Ok(bytes) => Some(Checkpoint::decode(&bytes, &ckpt_path)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(format!("reading {}", ckpt_path.display()), e)),
    };
    Ok(ckpt.unwrap_or_default())
}

/// Step 1: opens the segments `seqs`, removing those the checkpoint lists as obsolete and
/// an interrupted creation of the newest one, and makes the directory durable.
fn open_segments<F: FileSystem>(
    fs: &F,
    dir: &Path,
    seqs: Vec<u64>,
    ckpt: &Checkpoint,
    salt: u64,
) -> Result<Segments<F>> {
    // Segments a compaction replaced but could not delete before a crash.
    let obsolete: HashSet<u64> = ckpt.obsolete.iter().copied().collect();
    let mut segments = BTreeMap::new();
    let newest = seqs.last().copied();
    for seq in seqs {
        let path = dir.join(segment_name(seq));
        if obsolete.contains(&seq) {
            fs.remove_file(&path)
                .map_err(io(format!("removing {}", path.display())))?;
            continue;
        }
        let seg = match Segment::open(fs, &path, seq, salt) {
            Ok(seg) => seg,
            // The newest segment holding nothing but a short or damaged header is a
            // creation (rotation, or a first segment) that a crash interrupted before its
            // header was durable (a file's size may reach the disk before its data, which
            // then reads as zeros or garbage): records are appended only once the header is
            // durable, so it never held one, and it is removed. Anything longer with a bad
            // header is corruption.
            Err(e @ Error::Corruption { .. }) if Some(seq) == newest => {
                let len = fs
                    .open(&path)
                    .and_then(|f| f.size())
                    .map_err(io(format!("reading {}", path.display())))?;
                if len > SEGMENT_HEADER_LEN {
                    return Err(e);
                }
                fs.remove_file(&path)
                    .map_err(io(format!("removing {}", path.display())))?;
                continue;
            }
            Err(e) => return Err(e),
        };
        segments.insert(seq, Arc::new(seg));
    }
    // What recovery builds on must be durable before anything new is acknowledged: an
    // earlier failed fsync (of this directory after a rotation, say) can leave entries that
    // power loss would take back, and removed obsolete segments must stay removed before a
    // checkpoint that no longer lists them is written.
    fs.sync_dir(dir)
        .map_err(io(format!("syncing {}", dir.display())))?;
    Ok(segments)
}

/// Step 2: loads the checkpoint's entries into `index`; returns how far it covers each
/// segment it lists.
fn load_checkpoint<F: FileSystem>(
    dir: &Path,
    ckpt: &Checkpoint,
    segments: &Segments<F>,
    index: &Index<F>,
) -> Result<BTreeMap<u64, u64>> {
    let mut covered: BTreeMap<u64, u64> = BTreeMap::new();
    let mut by_index = Vec::with_capacity(ckpt.segments.len());
    for &(seq, cov) in &ckpt.segments {
        let seg = segments.get(&seq).ok_or_else(|| {
            Error::corruption(
                dir.join(segment_name(seq)),
                0,
                "segment listed in the checkpoint is missing",
            )
        })?;
        let len = seg
            .file
            .size()
            .map_err(io(format!("reading {}", seg.path.display())))?;
        if len < cov || cov < SEGMENT_HEADER_LEN || cov > u64::from(u32::MAX) {
            return Err(Error::corruption(
                &seg.path,
                len,
                "segment is shorter than its checkpoint says",
            ));
        }
        covered.insert(seq, cov);
        by_index.push(Arc::clone(seg));
    }
    for e in &ckpt.entries {
        let loc = Location {
            segment: Arc::clone(&by_index[e.segment as usize]),
            offset: e.offset,
            len: e.len,
        };
        index.load(
            e.id,
            Version {
                version: e.version,
                loc: Some(loc),
            },
        );
    }
    Ok(covered)
}

/// What replaying the log found.
struct ReplayedLog {
    /// The tail segment: the newest one written by commits.
    tail: Option<u64>,
    /// Where the tail's last complete transaction ends.
    tail_end: Option<u64>,
    last_version: u64,
    replayed_bytes: u64,
    truncated_bytes: u64,
}

/// Step 3: replays every segment past what the checkpoint covers into `index`.
fn replay<F: FileSystem>(
    segments: &Segments<F>,
    covered: &BTreeMap<u64, u64>,
    checkpoint_version: u64,
    index: &Index<F>,
) -> Result<ReplayedLog> {
    let tail = segments
        .values()
        .rev()
        .find(|s| !s.compacted)
        .map(|s| s.seq);
    let mut last_version = checkpoint_version;
    let mut replayed_bytes = 0;
    let mut truncated_bytes = 0;
    let mut tail_end = None;
    for seg in segments.values() {
        let start = covered.get(&seg.seq).copied().unwrap_or(SEGMENT_HEADER_LEN);
        let is_tail = Some(seg.seq) == tail;
        let r = replay_segment(seg, start, is_tail, index)?;
        last_version = last_version.max(r.max_version);
        replayed_bytes += r.end - start;
        truncated_bytes += r.truncated;
        if is_tail {
            tail_end = Some(r.end);
        }
    }
    index.drop_tombstones();
    Ok(ReplayedLog {
        tail,
        tail_end,
        last_version,
        replayed_bytes,
        truncated_bytes,
    })
}

/// Step 4: the segment new commits append to, and its end.
fn open_tail<F: FileSystem>(
    fs: &F,
    dir: &Path,
    segments: &mut Segments<F>,
    tail: Option<u64>,
    tail_end: Option<u64>,
    salt: u64,
) -> Result<(Arc<Segment<F>>, u64)> {
    // Keep appending to the tail segment when it is the newest and of the current format;
    // otherwise start one.
    let newest = segments.keys().next_back().copied();
    let next_seq = newest.map_or(1, |s| s + 1);
    Ok(match (tail.and_then(|t| segments.get(&t)), tail_end) {
        (Some(seg), Some(end)) if tail == newest && !seg.place.legacy => (Arc::clone(seg), end),
        _ => {
            let path = dir.join(segment_name(next_seq));
            let seg = Arc::new(create_durably(fs, dir, &path, next_seq, salt)?);
            segments.insert(next_seq, Arc::clone(&seg));
            (seg, SEGMENT_HEADER_LEN)
        }
    })
}

/// Writes the bytes `[from, end)` of `seg` again, in place, and fsyncs the file: whatever
/// an earlier process's writes and fsyncs did, those bytes (and the file's length, after a
/// torn tail was cut) are durable once this returns. A failure fails the open; nothing is
/// retried.
fn make_durable<F: FileSystem>(seg: &Segment<F>, from: u64, end: u64) -> Result<()> {
    let io = |e| Error::io(format!("making {} durable", seg.path.display()), e);
    let mut buf = vec![0u8; CHUNK.min((end - from) as usize)];
    let mut at = from;
    while at < end {
        let n = CHUNK.min((end - at) as usize);
        seg.file.read_exact_at(&mut buf[..n], at).map_err(io)?;
        seg.file.write_all_at(&buf[..n], at).map_err(io)?;
        at += n as u64;
    }
    seg.sync_to(end)
}

struct Replayed {
    end: u64,
    max_version: u64,
    truncated: u64,
}

fn replay_segment<F: FileSystem>(
    seg: &Arc<Segment<F>>,
    start: u64,
    is_tail: bool,
    index: &Index<F>,
) -> Result<Replayed> {
    let io = |e| Error::io(format!("reading {}", seg.path.display()), e);
    let len = seg.file.size().map_err(io)?;
    let mut reader = ChunkReader::new(&seg.file, len);
    let mut pos = start;
    let mut txn_start = start;
    let mut pending: Vec<(RecordHeader, u64)> = Vec::new();
    let mut max_version = 0;
    let mut torn = false;
    while pos < len {
        let Some(h) = reader.record(&seg.place, pos).map_err(io)? else {
            if is_tail && !valid_record_after(&mut reader, &seg.place, pos).map_err(io)? {
                torn = true;
                break;
            }
            return Err(Error::corruption(
                &seg.path,
                pos,
                "invalid record (checksum or framing) before the end of the log",
            ));
        };
        if pos + h.framed_len() > u64::from(u32::MAX) {
            return Err(Error::corruption(
                &seg.path,
                pos,
                "record lies beyond the 4 GiB segment limit",
            ));
        }
        if pending.first().is_some_and(|(p, _)| p.version != h.version) {
            return Err(Error::corruption(
                &seg.path,
                pos,
                "transaction records interleave",
            ));
        }
        pending.push((h, pos));
        pos += h.framed_len();
        if h.is_txn_end() {
            for (h, at) in pending.drain(..) {
                let loc = (!h.is_delete()).then(|| Location {
                    segment: Arc::clone(seg),
                    offset: at as u32,
                    len: h.len,
                });
                index.load(
                    h.doc_id,
                    Version {
                        version: h.version,
                        loc,
                    },
                );
                max_version = max_version.max(h.version);
            }
            txn_start = pos;
        }
    }
    if !pending.is_empty() && !torn && !is_tail {
        return Err(Error::corruption(
            &seg.path,
            txn_start,
            "segment ends inside a transaction",
        ));
    }
    let mut truncated = 0;
    if txn_start < len {
        // A torn tail, or preallocated zeros (`log/writer.rs`), or both: the last
        // transaction never completed. Cut it off so new records follow the last complete
        // transaction (`make_durable` then fsyncs the cut): nothing past the recovered end
        // is reachable again, whatever an earlier process wrote there. Only the bytes that
        // are not zeros count as a torn tail.
        truncated = data_end(&mut reader, txn_start).map_err(io)? - txn_start;
        seg.file
            .set_len(txn_start)
            .map_err(|e| Error::io(format!("truncating torn tail of {}", seg.path.display()), e))?;
        seg.durable
            .store(txn_start, std::sync::atomic::Ordering::Release);
    }
    Ok(Replayed {
        end: txn_start,
        max_version,
        truncated,
    })
}

/// Where the bytes from `from` to the end of the file stop holding anything but zeros:
/// what lies past it is preallocated space.
pub(crate) fn data_end<H: FileHandle>(
    reader: &mut ChunkReader<'_, H>,
    from: u64,
) -> std::io::Result<u64> {
    let mut end = reader.len;
    while end > from {
        let start = end.saturating_sub(CHUNK as u64).max(from);
        let Some(bytes) = reader.get(start, (end - start) as usize)? else {
            break;
        };
        if let Some(last) = bytes.iter().rposition(|&b| b != 0) {
            return Ok(start + last as u64 + 1);
        }
        end = start;
    }
    Ok(from)
}

/// Whether a valid record after `bad` proves that the bytes at `bad` had been fsynced
/// before it was written (its `durable` field reaches past `bad`). Then the damage at `bad`
/// is corruption of durable data, not a torn write: a torn write can only hit bytes that
/// were never fsynced, and the file system may persist such pages in any order, so valid
/// records after a tear do not by themselves prove corruption.
pub(crate) fn valid_record_after<H: FileHandle>(
    reader: &mut ChunkReader<'_, H>,
    place: &Place,
    bad: u64,
) -> std::io::Result<bool> {
    let mut p = bad + 1;
    while p + HEADER_LEN as u64 <= reader.len {
        if let Some(h) = reader.record(place, p)? {
            if h.durable > bad {
                return Ok(true);
            }
        }
        p += 1;
    }
    Ok(false)
}
