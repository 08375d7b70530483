//! One log segment file: a 32-byte header, then records. Segments are the data files:
//! a document's bytes are written once, here, and read back from here by offset.
//!
//! ```text
//! 0  [u8; 8] magic "DOCDBLOG"
//! 8  u32     format version (2; segments of version 1 are still read, never written)
//! 12 u32     flags, bit 0: written by compaction
//! 16 u64     sequence number (also in the file name, `{seq:016x}.log`)
//! 24 u32     zero
//! 28 u32     CRC-32 of bytes 0..28
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::record::{self, Place, RecordHeader, HEADER_LEN};
use crate::error::{Error, Result};
use crate::fs::{FileHandle, FileSystem};

pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"DOCDBLOG";
/// The version new segments are written in: records bound to their place.
pub(crate) const SEGMENT_VERSION: u32 = 2;
/// The first format: record checksums cover the record only.
const LEGACY_VERSION: u32 = 1;
pub(crate) const SEGMENT_HEADER_LEN: u64 = 32;
const FLAG_COMPACTED: u32 = 1;

/// [`Segment::index_slot`] of a segment no index entry points into yet.
pub(crate) const UNREGISTERED: u32 = u32::MAX;

pub(crate) fn segment_name(seq: u64) -> String {
    format!("{seq:016x}.log")
}

/// Parses `{seq:016x}.log` back to its sequence number.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_suffix(".log")?;
    (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok())?
}

/// An open segment. Shared (`Arc`) by the index's segment table and by every older version
/// or reader that points into it, so a file removed by compaction stays readable for as
/// long as an old snapshot can reach it.
pub(crate) struct Segment<F: FileSystem> {
    pub seq: u64,
    pub path: PathBuf,
    pub file: F::File,
    pub compacted: bool,
    /// What this segment's record checksums are bound to.
    pub place: Place,
    /// Bytes of this file known to be durable (fsynced); written into each new record.
    pub durable: AtomicU64,
    /// This segment's number in the index's segment table (index entries store the number,
    /// not a pointer), or [`UNREGISTERED`].
    pub index_slot: AtomicU32,
}

fn encode_header(seq: u64, compacted: bool) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[0..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
    let flags = if compacted { FLAG_COMPACTED } else { 0 };
    h[12..16].copy_from_slice(&flags.to_le_bytes());
    h[16..24].copy_from_slice(&seq.to_le_bytes());
    let crc = crc32fast::hash(&h[0..28]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

impl<F: FileSystem> Segment<F> {
    /// Creates a segment file at `path` (which may be a temporary name) with its header,
    /// for a database whose salt is `salt`. The caller makes the file and its directory
    /// entry durable.
    pub(crate) fn create(
        fs: &F,
        path: &Path,
        seq: u64,
        compacted: bool,
        salt: u64,
    ) -> Result<Self> {
        let file = fs
            .create_new(path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        file.write_all_at(&encode_header(seq, compacted), 0)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(Segment {
            seq,
            path: path.to_path_buf(),
            file,
            compacted,
            place: Place {
                salt,
                seq,
                legacy: false,
            },
            durable: AtomicU64::new(0),
            index_slot: AtomicU32::new(UNREGISTERED),
        })
    }

    /// Opens and verifies an existing segment of the database whose salt is `salt`. Its
    /// whole current length counts as durable: recovery makes the tail durable (or cuts it)
    /// before anything builds on it, and every other segment was fsynced before a newer one
    /// was started.
    pub(crate) fn open(fs: &F, path: &Path, seq: u64, salt: u64) -> Result<Self> {
        let file = fs
            .open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
        if let Err(e) = file.read_exact_at(&mut h, 0) {
            return Err(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    Error::corruption(path, 0, "segment header is truncated")
                }
                _ => Error::io(format!("reading {}", path.display()), e),
            });
        }
        if &h[0..8] != SEGMENT_MAGIC {
            return Err(Error::corruption(
                path,
                0,
                "not a DocDB log segment (bad magic)",
            ));
        }
        let crc = u32::from_le_bytes(h[28..32].try_into().expect("4 bytes"));
        if crc != crc32fast::hash(&h[0..28]) {
            return Err(Error::corruption(
                path,
                0,
                "segment header checksum mismatch",
            ));
        }
        let version = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
        if version != SEGMENT_VERSION && version != LEGACY_VERSION {
            return Err(Error::UnsupportedVersion {
                file: path.to_path_buf(),
                found: version,
                supported: SEGMENT_VERSION,
            });
        }
        let flags = u32::from_le_bytes(h[12..16].try_into().expect("4 bytes"));
        let header_seq = u64::from_le_bytes(h[16..24].try_into().expect("8 bytes"));
        if header_seq != seq || flags & !FLAG_COMPACTED != 0 {
            return Err(Error::corruption(
                path,
                0,
                "segment header does not match its file name",
            ));
        }
        let durable = file
            .size()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Ok(Segment {
            seq,
            path: path.to_path_buf(),
            file,
            compacted: flags & FLAG_COMPACTED != 0,
            place: Place {
                salt,
                seq,
                legacy: version == LEGACY_VERSION,
            },
            durable: AtomicU64::new(durable),
            index_slot: AtomicU32::new(UNREGISTERED),
        })
    }

    /// fsyncs the file and records that its first `end` bytes are durable.
    pub(crate) fn sync_to(&self, end: u64) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io(format!("syncing {}", self.path.display()), e))?;
        self.durable.fetch_max(end, Ordering::AcqRel);
        Ok(())
    }

    /// Reads and verifies the document record at `offset`, returning its payload.
    pub(crate) fn read_payload(&self, offset: u32, len: u32, doc_id: u64) -> Result<Vec<u8>> {
        let mut buf = self.read_span(u64::from(offset), HEADER_LEN + len as usize)?;
        self.check(&buf, u64::from(offset), doc_id, len)?;
        buf.drain(..HEADER_LEN);
        Ok(buf)
    }

    /// Reads `n` raw bytes at `offset` (one or several whole records).
    pub(crate) fn read_span(&self, offset: u64, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => Error::corruption(
                    &self.path,
                    offset,
                    "record extends past the end of the file",
                ),
                _ => Error::io(format!("reading {}", self.path.display()), e),
            })?;
        Ok(buf)
    }

    /// Verifies that `record` (read from `offset`) is the put of `doc_id` with a payload of
    /// `len` bytes, and returns the payload.
    pub(crate) fn payload_of<'a>(
        &self,
        record: &'a [u8],
        offset: u64,
        doc_id: u64,
        len: u32,
    ) -> Result<&'a [u8]> {
        self.check(record, offset, doc_id, len)?;
        Ok(&record[HEADER_LEN..])
    }

    fn check(&self, buf: &[u8], offset: u64, doc_id: u64, len: u32) -> Result<RecordHeader> {
        match record::decode_header(buf) {
            Some(h)
                if h.doc_id == doc_id
                    && h.len == len
                    && !h.is_delete()
                    && record::verify(&self.place, offset, buf, &h) =>
            {
                Ok(h)
            }
            Some(h) if record::verify(&self.place, offset, buf, &h) => Err(Error::corruption(
                &self.path,
                offset,
                format!(
                    "record holds document {} but the index expected {doc_id}",
                    h.doc_id
                ),
            )),
            _ => Err(Error::corruption(
                &self.path,
                offset,
                "record checksum mismatch",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_segment_name(&segment_name(0x1f)), Some(0x1f));
        assert_eq!(parse_segment_name("00000000000000ff.log.tmp"), None);
        assert_eq!(parse_segment_name("ff.log"), None);
        assert_eq!(parse_segment_name("zzzzzzzzzzzzzzzz.log"), None);
    }
}
