//! Compaction: copy the live documents of every sealed segment into new segments, then
//! switch over and delete the old files.
//!
//! 1. Seal the active segment (rotate) so every older segment is immutable.
//! 2. Copy each live document that lives in a sealed segment, with its version, into new
//!    segment files written under `.tmp` names; verify every record read on the way.
//! 3. fsync them, rename them into place, fsync the directory.
//! 4. Point the index at the copies (only where the document did not change meanwhile).
//! 5. Write a checkpoint that lists the old segments as obsolete, then delete them.
//!
//! A crash before 5 leaves both copies; the checkpoint decides, and versions make the
//! replay of duplicates harmless. Commits go to the new active segment throughout, and
//! readers holding an old location keep reading the old (even unlinked) file.
//!
//! Every failure before the checkpoint replaces the old one (a full disk above all) leaves
//! the database as it was, usable: outputs not installed are removed, and installed ones
//! hold the same versions as the old segments, which stay part of the log.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::checkpoint;
use crate::db::DbCore;
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};
use crate::index::Location;
use crate::log::record;
use crate::log::segment::{segment_name, Segment, SEGMENT_HEADER_LEN};
use crate::log::writer::AppendError;

const WRITE_CHUNK: usize = 4 << 20;

/// A compaction output being written under its temporary name.
struct Output<F: FileSystem> {
    seq: u64,
    tmp: PathBuf,
    segment: Segment<F>,
    end: u64,
}

/// Compacts `db`; returns the number of log bytes reclaimed. Runs under the maintenance
/// lock: call it through `maintenance::compact`.
pub(crate) fn compact<F: FileSystem>(db: &DbCore<F>) -> Result<u64> {
    db.check_writable()?;
    let sealed: Vec<Arc<Segment<F>>> = {
        let mut log = db.log();
        if log.end > SEGMENT_HEADER_LEN {
            match log.rotate(db.fs(), db.dir()) {
                Ok(()) => {}
                Err(AppendError::Clean(e)) => return Err(e),
                Err(AppendError::Dirty(e)) => return Err(db.poisoned(e)),
            }
        }
        log.segments
            .values()
            .filter(|s| !Arc::ptr_eq(s, &log.active))
            .cloned()
            .collect()
    };
    if sealed.is_empty() {
        return Ok(0);
    }
    let sealed_seqs: HashSet<u64> = sealed.iter().map(|s| s.seq).collect();
    let mut live = db
        .index()
        .heads(|loc| sealed_seqs.contains(&loc.segment.seq));
    // Write in id order, so that a scan (in id order) of the compacted database reads its
    // files front to back, as after a bulk load.
    live.sort_unstable_by_key(|(id, _, _)| *id);

    let mut outputs: Vec<Output<F>> = Vec::new();
    let result = copy_live(db, &live, &mut outputs);
    let moves = match result {
        Ok(moves) => moves,
        Err(e) => {
            for out in &outputs {
                let _ = db.fs().remove_file(&out.tmp);
            }
            return Err(e);
        }
    };

    // Install the outputs under their final names.
    let mut installed = Vec::with_capacity(outputs.len());
    for out in outputs {
        let path = db.dir().join(segment_name(out.seq));
        if let Err(e) = db.fs().rename(&out.tmp, &path) {
            let _ = db.fs().remove_file(&out.tmp);
            let err = Error::io(format!("renaming {}", out.tmp.display()), e);
            // Outputs already installed are segment files the log does not know: a later
            // checkpoint would not cover them and the next open would replay their old
            // versions. Only a reopen (which replays them harmlessly) may continue.
            return Err(if installed.is_empty() {
                err
            } else {
                db.poisoned(err)
            });
        }
        installed.push(Arc::new(Segment {
            path,
            ..out.segment
        }));
    }
    db.fs()
        .sync_dir(db.dir())
        .map_err(|e| db.poisoned(Error::io(format!("syncing {}", db.dir().display()), e)))?;
    {
        let mut log = db.log();
        for seg in &installed {
            log.segments.insert(seg.seq, Arc::clone(seg));
        }
    }
    for (id, version, out, offset, len) in moves {
        let loc = Location {
            segment: Arc::clone(&installed[out]),
            offset,
            len,
        };
        db.index().relocate(id, version, loc);
    }
    let obsolete: Vec<u64> = sealed_seqs.iter().copied().collect();
    // Until this checkpoint (marking the old segments obsolete) is in place, they stay part
    // of the log: a failure here leaves them listed by later checkpoints, covered, so they
    // are never replayed over newer data. A failure after its rename poisons the database.
    checkpoint::write(db, &obsolete)?;
    {
        let mut log = db.log();
        for seq in &sealed_seqs {
            log.segments.remove(seq);
        }
    }
    // Every head that was in a sealed segment now points at its copy (or at a newer
    // version in the active segment), so the index's table can let them go.
    for seg in &sealed {
        db.index().retire(seg);
    }

    let before: u64 = sealed.iter().map(|s| s.file.size().unwrap_or(0)).sum();
    // The checkpoint marks the old segments obsolete, but only until the next checkpoint
    // replaces it: if a removal fails or is not durable, a later checkpoint would forget
    // them and the next open would replay deleted documents back to life. So a failure
    // here poisons the database; the next open removes them again.
    for seg in &sealed {
        db.fs()
            .remove_file(&seg.path)
            .map_err(|e| db.poisoned(Error::io(format!("removing {}", seg.path.display()), e)))?;
    }
    db.fs()
        .sync_dir(db.dir())
        .map_err(|e| db.poisoned(Error::io(format!("syncing {}", db.dir().display()), e)))?;
    let after: u64 = installed.iter().map(|s| s.file.size().unwrap_or(0)).sum();
    let total = db.log().total_bytes();
    db.counters().log_bytes.store(total, Ordering::Relaxed);
    db.counters().compactions.fetch_add(1, Ordering::Relaxed);
    Ok(before.saturating_sub(after))
}

type Move = (u64, u64, usize, u32, u32);

/// Copies every live document into `outputs` (fsynced); returns where each one went.
fn copy_live<F: FileSystem>(
    db: &DbCore<F>,
    live: &[(u64, u64, Location<F>)],
    outputs: &mut Vec<Output<F>>,
) -> Result<Vec<Move>> {
    let mut moves = Vec::with_capacity(live.len());
    let mut buf = Vec::with_capacity(WRITE_CHUNK);
    let flush = |out: &mut Output<F>, buf: &mut Vec<u8>| -> Result<()> {
        out.segment
            .file
            .write_all_at(buf, out.end)
            .map_err(|e| Error::io(format!("writing {}", out.tmp.display()), e))?;
        out.end += buf.len() as u64;
        buf.clear();
        Ok(())
    };
    for (id, version, loc) in live {
        db.check_writable()?;
        let data = loc.segment.read_payload(loc.offset, loc.len, *id)?;
        let framed = (record::HEADER_LEN + data.len()) as u64;
        let full = outputs.last().is_none_or(|o| {
            o.end + buf.len() as u64 > SEGMENT_HEADER_LEN
                && o.end + buf.len() as u64 + framed > db.opts().segment_size
        });
        if full {
            if let Some(out) = outputs.last_mut() {
                flush(out, &mut buf)?;
            }
            let (seq, salt) = {
                let mut log = db.log();
                (log.alloc_seq(), log.salt)
            };
            let tmp = db.dir().join(format!("{}.tmp", segment_name(seq)));
            let segment = Segment::create(db.fs(), &tmp, seq, true, salt)?;
            outputs.push(Output {
                seq,
                tmp,
                segment,
                end: SEGMENT_HEADER_LEN,
            });
        }
        let slot = outputs.len() - 1;
        let out = &mut outputs[slot];
        let offset = out.end + buf.len() as u64;
        let place = out.segment.place;
        record::encode(
            &mut buf,
            &place,
            offset,
            *id,
            *version,
            0,
            Some(&data),
            true,
        );
        moves.push((*id, *version, slot, offset as u32, data.len() as u32));
        if buf.len() >= WRITE_CHUNK {
            flush(out, &mut buf)?;
        }
    }
    if let Some(out) = outputs.last_mut() {
        flush(out, &mut buf)?;
    }
    for out in outputs.iter() {
        // A failed fsync of an output only costs the output (removed by the caller): none
        // of the log's own files is affected.
        out.segment.sync_to(out.end)?;
    }
    Ok(moves)
}
