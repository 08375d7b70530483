//! Log record framing: a fixed 36-byte header, then the payload, checksummed together.
//!
//! ```text
//! 0  u32 crc      CRC-32 (IEEE) of bytes 4 .. 36+len
//! 4  u32 len      payload length
//! 8  u8  kind     1 = put, 2 = delete (tombstone, len 0)
//! 9  u8  flags    bit 0: last record of its transaction
//! 10 u16 zero
//! 12 u64 doc_id
//! 20 u64 version  commit sequence number of the transaction
//! 28 u64 durable  how many bytes of this segment were known fsynced when it was written
//! 36 ..  payload
//! ```
//! All integers little-endian. See `docs/ondisk_format.md`.
//!
//! `durable` lets recovery tell bit rot from a torn write: damage at an offset that a
//! later valid record says was already durable cannot be a torn write.

pub(crate) const HEADER_LEN: usize = 36;
pub(crate) const KIND_PUT: u8 = 1;
pub(crate) const KIND_DELETE: u8 = 2;
pub(crate) const FLAG_TXN_END: u8 = 1;

/// The largest payload a record header may claim; larger lengths are malformed.
pub(crate) const MAX_PAYLOAD: u32 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub crc: u32,
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub doc_id: u64,
    pub version: u64,
    pub durable: u64,
}

impl RecordHeader {
    pub(crate) fn is_txn_end(&self) -> bool {
        self.flags & FLAG_TXN_END != 0
    }
    pub(crate) fn is_delete(&self) -> bool {
        self.kind == KIND_DELETE
    }
    /// Bytes the whole record takes in the file.
    pub(crate) fn framed_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.len)
    }
}

/// Appends one framed record to `buf`.
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    doc_id: u64,
    version: u64,
    durable: u64,
    payload: Option<&[u8]>,
    txn_end: bool,
) {
    let start = buf.len();
    let (kind, data): (u8, &[u8]) = match payload {
        Some(p) => (KIND_PUT, p),
        None => (KIND_DELETE, &[]),
    };
    buf.extend_from_slice(&[0u8; 4]);
    buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
    buf.push(kind);
    buf.push(if txn_end { FLAG_TXN_END } else { 0 });
    buf.extend_from_slice(&[0u8; 2]);
    buf.extend_from_slice(&doc_id.to_le_bytes());
    buf.extend_from_slice(&version.to_le_bytes());
    buf.extend_from_slice(&durable.to_le_bytes());
    buf.extend_from_slice(data);
    let crc = crc32fast::hash(&buf[start + 4..]);
    buf[start..start + 4].copy_from_slice(&crc.to_le_bytes());
}

/// Parses a header, rejecting impossible field values (the CRC is checked separately, once
/// the payload is at hand).
pub(crate) fn decode_header(b: &[u8]) -> Option<RecordHeader> {
    if b.len() < HEADER_LEN {
        return None;
    }
    let h = RecordHeader {
        crc: u32::from_le_bytes(b[0..4].try_into().ok()?),
        len: u32::from_le_bytes(b[4..8].try_into().ok()?),
        kind: b[8],
        flags: b[9],
        doc_id: u64::from_le_bytes(b[12..20].try_into().ok()?),
        version: u64::from_le_bytes(b[20..28].try_into().ok()?),
        durable: u64::from_le_bytes(b[28..36].try_into().ok()?),
    };
    let plausible = (h.kind == KIND_PUT || (h.kind == KIND_DELETE && h.len == 0))
        && h.flags & !FLAG_TXN_END == 0
        && b[10] == 0
        && b[11] == 0
        && h.len <= MAX_PAYLOAD
        && h.version != 0;
    plausible.then_some(h)
}

/// Checks the CRC of a whole record (`header ++ payload`, exactly `framed_len` bytes).
pub(crate) fn verify(record: &[u8], header: &RecordHeader) -> bool {
    record.len() as u64 == header.framed_len() && crc32fast::hash(&record[4..]) == header.crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_bit_flip_is_detected() {
        let mut buf = Vec::new();
        encode(&mut buf, 42, 7, 4096, Some(b"hello"), true);
        let h = decode_header(&buf).unwrap();
        assert_eq!(
            (h.doc_id, h.version, h.len, h.kind, h.durable),
            (42, 7, 5, KIND_PUT, 4096)
        );
        assert!(h.is_txn_end());
        assert!(verify(&buf, &h));
        for bit in 0..buf.len() * 8 {
            let mut bad = buf.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let ok = decode_header(&bad).is_some_and(|h| verify(&bad, &h));
            assert!(!ok, "flip of bit {bit} went unnoticed");
        }
    }

    #[test]
    fn tombstone_has_no_payload() {
        let mut buf = Vec::new();
        encode(&mut buf, 1, 2, 0, None, false);
        let h = decode_header(&buf).unwrap();
        assert!(h.is_delete() && !h.is_txn_end());
        assert_eq!(buf.len(), HEADER_LEN);
        assert!(verify(&buf, &h));
    }
}
