//! The append side of a database's log: the active segment, rotation, and the set of
//! segment files that make up the database.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::segment::{segment_name, Segment, SEGMENT_HEADER_LEN};
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};

/// Largest single write of a commit's records.
const WRITE_CHUNK: usize = 4 << 20;

pub(crate) struct LogWriter<F: FileSystem> {
    pub active: Arc<Segment<F>>,
    /// Append offset in the active segment.
    pub end: u64,
    /// Every segment of the database, by sequence number (the active one included).
    pub segments: BTreeMap<u64, Arc<Segment<F>>>,
    pub next_seq: u64,
    /// The last version given to a commit (written, maybe not yet durable or visible).
    pub last_version: u64,
    /// Reused encoding buffer.
    pub buf: Vec<u8>,
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

    /// Seals the active segment (fsynced, whatever the sync mode: later segments must never
    /// be durable ahead of earlier ones) and starts a new one.
    pub(crate) fn rotate(&mut self, fs: &F, dir: &Path) -> Result<()> {
        let ctx = |what: &str, p: &Path| format!("{what} {}", p.display());
        self.active.sync_to(self.end)?;
        let seq = self.alloc_seq();
        let path = dir.join(segment_name(seq));
        let seg = Arc::new(Segment::create(fs, &path, seq, false)?);
        seg.sync_to(SEGMENT_HEADER_LEN)?;
        fs.sync_dir(dir)
            .map_err(|e| Error::io(ctx("syncing directory", dir), e))?;
        self.segments.insert(seq, Arc::clone(&seg));
        self.active = seg;
        self.end = SEGMENT_HEADER_LEN;
        Ok(())
    }

    /// Appends `self.buf` at the end of the active segment; returns the offset written at.
    pub(crate) fn append_buf(&mut self) -> Result<u64, AppendError> {
        let at = self.end;
        // Large commits go out in pieces: one huge pwrite was measured three times slower
        // than the same bytes in a few MiB at a time (docs/performance.md).
        let written = self
            .buf
            .chunks(WRITE_CHUNK)
            .zip((at..).step_by(WRITE_CHUNK))
            .try_for_each(|(chunk, offset)| self.active.file.write_all_at(chunk, offset));
        if let Err(e) = written {
            let err = Error::io(format!("appending to {}", self.active.path.display()), e);
            // Cut any partial record off so the next append starts at a record boundary.
            return match self.active.file.set_len(at) {
                Ok(()) => Err(AppendError::Clean(err)),
                Err(_) => Err(AppendError::Dirty(err)),
            };
        }
        self.end += self.buf.len() as u64;
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
