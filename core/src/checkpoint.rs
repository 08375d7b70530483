//! Checkpoints: a snapshot of the index written to `CHECKPOINT`, so that opening a database
//! reads the live entries and replays only the log written after them. Open time then
//! depends on the live data and the recent tail, not on the whole history.
//!
//! ```text
//! 0  [u8; 8] magic "DOCDBCKP"
//! 8  u32     format version (1)
//! 12 u32     number of segments (S)
//! 16 u32     number of obsolete segments (O)
//! 20 u32     zero
//! 24 u64     last version
//! 32 u64     number of entries (N)
//! 40 S x { u64 seq, u64 covered }   segment seq and how many of its bytes the entries cover
//! .. O x { u64 seq }                segments replaced by compaction: delete, never replay
//! .. N x { u64 id, u64 version, u32 segment index, u32 offset, u32 length }
//! .. u32     CRC-32 of everything before it
//! ```

use std::path::Path;

use crate::error::{Error, Result};
use crate::log::record::HEADER_LEN;

const MAGIC: &[u8; 8] = b"DOCDBCKP";
const VERSION: u32 = 1;
pub(crate) const CHECKPOINT_FILE: &str = "CHECKPOINT";
pub(crate) const CHECKPOINT_TMP: &str = "CHECKPOINT.tmp";
const FIXED: usize = 40;
const ENTRY: usize = 28;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CheckpointEntry {
    pub id: u64,
    pub version: u64,
    pub segment: u32,
    pub offset: u32,
    pub len: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub last_version: u64,
    /// `(seq, covered bytes)`: replay of that segment resumes at `covered`.
    pub segments: Vec<(u64, u64)>,
    pub obsolete: Vec<u64>,
    pub entries: Vec<CheckpointEntry>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Checkpoint {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(
            FIXED
                + self.segments.len() * 16
                + self.obsolete.len() * 8
                + self.entries.len() * ENTRY
                + 4,
        );
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(self.segments.len() as u32).to_le_bytes());
        b.extend_from_slice(&(self.obsolete.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.last_version.to_le_bytes());
        b.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for (seq, covered) in &self.segments {
            b.extend_from_slice(&seq.to_le_bytes());
            b.extend_from_slice(&covered.to_le_bytes());
        }
        for seq in &self.obsolete {
            b.extend_from_slice(&seq.to_le_bytes());
        }
        for e in &self.entries {
            b.extend_from_slice(&e.id.to_le_bytes());
            b.extend_from_slice(&e.version.to_le_bytes());
            b.extend_from_slice(&e.segment.to_le_bytes());
            b.extend_from_slice(&e.offset.to_le_bytes());
            b.extend_from_slice(&e.len.to_le_bytes());
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and validates a checkpoint: checksum, counts, and that every entry lies
    /// inside the covered part of a listed segment.
    pub(crate) fn decode(b: &[u8], path: &Path) -> Result<Checkpoint> {
        let bad = |offset: usize, why: &str| Error::corruption(path, offset as u64, why);
        if b.len() < FIXED + 4 {
            return Err(bad(0, "checkpoint is truncated"));
        }
        if &b[0..8] != MAGIC {
            return Err(bad(0, "not a DocDB checkpoint (bad magic)"));
        }
        let body_len = b.len() - 4;
        if u32_at(b, body_len) != crc32fast::hash(&b[..body_len]) {
            return Err(bad(body_len, "checkpoint checksum mismatch"));
        }
        let version = u32_at(b, 8);
        if version != VERSION {
            return Err(Error::UnsupportedVersion {
                file: path.to_path_buf(),
                found: version,
                supported: VERSION,
            });
        }
        let n_seg = u32_at(b, 12) as usize;
        let n_obs = u32_at(b, 16) as usize;
        let last_version = u64_at(b, 24);
        let n_entries = u64_at(b, 32);
        let expected = (n_entries as u128) * ENTRY as u128
            + (n_seg as u128) * 16
            + (n_obs as u128) * 8
            + FIXED as u128;
        if expected != body_len as u128 || u32_at(b, 20) != 0 {
            return Err(bad(12, "checkpoint counts do not match its size"));
        }
        let mut pos = FIXED;
        let mut segments = Vec::with_capacity(n_seg);
        for _ in 0..n_seg {
            segments.push((u64_at(b, pos), u64_at(b, pos + 8)));
            pos += 16;
        }
        let mut obsolete = Vec::with_capacity(n_obs);
        for _ in 0..n_obs {
            obsolete.push(u64_at(b, pos));
            pos += 8;
        }
        let mut entries = Vec::with_capacity(n_entries as usize);
        for _ in 0..n_entries {
            let e = CheckpointEntry {
                id: u64_at(b, pos),
                version: u64_at(b, pos + 8),
                segment: u32_at(b, pos + 16),
                offset: u32_at(b, pos + 20),
                len: u32_at(b, pos + 24),
            };
            let covered = segments.get(e.segment as usize).map(|s| s.1);
            let end = u64::from(e.offset) + HEADER_LEN as u64 + u64::from(e.len);
            if covered.is_none_or(|c| end > c) || e.version == 0 || e.version > last_version {
                return Err(bad(pos, "checkpoint entry points outside the covered log"));
            }
            entries.push(e);
            pos += ENTRY;
        }
        Ok(Checkpoint {
            last_version,
            segments,
            obsolete,
            entries,
        })
    }
}

/// Writes a checkpoint of `db`. Runs under the maintenance lock: call it through
/// `maintenance::checkpoint` (compaction, which holds the lock, calls it directly). `obsolete` lists
/// segments a compaction replaced and is about to delete: they are listed as such, never as
/// part of the log, so a crash before they are gone does not replay them.
///
/// A failure before the new file replaces the old one leaves the database as it was; a
/// failure after (the rename, or the directory's fsync) poisons it: the old checkpoint may
/// or may not be back after a crash, so a later one must not build on either.
pub(crate) fn write<F: crate::fs::FileSystem>(
    db: &crate::db::DbCore<F>,
    obsolete: &[u64],
) -> Result<()> {
    use std::collections::HashMap;
    use std::sync::atomic::Ordering;

    db.check_writable()?;
    let (ckpt, since) = {
        let log = db.log();
        db.check_writable()?;
        // The checkpoint may only cover durable log bytes, whatever the sync mode.
        log.active.sync_to(log.end).map_err(|e| db.poisoned(e))?;
        let mut segments = Vec::with_capacity(log.segments.len());
        let mut slot: HashMap<u64, u32> = HashMap::with_capacity(log.segments.len());
        for (&seq, seg) in log.segments.iter().filter(|(s, _)| !obsolete.contains(s)) {
            // What this process fsynced, or recovery proved durable: never the file's
            // current size, which may hold pages that a failed fsync dropped.
            let covered = seg.durable.load(Ordering::Acquire);
            slot.insert(seq, segments.len() as u32);
            segments.push((seq, covered));
        }
        let mut entries =
            Vec::with_capacity(db.counters().live_docs.load(Ordering::Relaxed) as usize);
        let mut missing = None;
        db.index()
            .for_each_head(|id, version, loc| match slot.get(&loc.segment.seq) {
                Some(&segment) => entries.push(CheckpointEntry {
                    id,
                    version,
                    segment,
                    offset: loc.offset,
                    len: loc.len,
                }),
                None => missing = Some(loc.segment.path.clone()),
            });
        if let Some(path) = missing {
            // Every head lives in a segment of the log; anything else is an engine bug,
            // reported rather than written into a checkpoint that could not be opened.
            return Err(Error::corruption(
                path,
                0,
                "index points into a segment that is not part of the log",
            ));
        }
        db.group().mark_synced(log.last_version);
        let ckpt = Checkpoint {
            last_version: log.last_version,
            segments,
            obsolete: obsolete.to_vec(),
            entries,
        };
        (ckpt, db.counters().since_checkpoint.load(Ordering::Relaxed))
    };
    crate::fs::write_atomically(
        db.fs(),
        db.dir(),
        CHECKPOINT_TMP,
        CHECKPOINT_FILE,
        &ckpt.encode(),
    )
    .map_err(|e| {
        if e.maybe_replaced {
            db.poisoned(e.error)
        } else {
            e.error
        }
    })?;
    db.counters()
        .since_checkpoint
        .fetch_sub(since, Ordering::Relaxed);
    db.counters().checkpoints.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flip_is_rejected() {
        let c = Checkpoint {
            last_version: 9,
            segments: vec![(1, 4096), (3, 100)],
            obsolete: vec![2],
            entries: vec![
                CheckpointEntry {
                    id: 5,
                    version: 9,
                    segment: 0,
                    offset: 32,
                    len: 10,
                },
                CheckpointEntry {
                    id: 6,
                    version: 4,
                    segment: 1,
                    offset: 32,
                    len: 3,
                },
            ],
        };
        let b = c.encode();
        let p = Path::new("CHECKPOINT");
        assert_eq!(Checkpoint::decode(&b, p).unwrap(), c);
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x01;
            assert!(Checkpoint::decode(&bad, p).is_err(), "flip at {i} accepted");
        }
        for len in 0..b.len() {
            assert!(
                Checkpoint::decode(&b[..len], p).is_err(),
                "truncation to {len} accepted"
            );
        }
    }
}
