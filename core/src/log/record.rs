//! Log record framing: a fixed 36-byte header, then the payload, checksummed together.
//!
//! ```text
//! 0  u32 crc      CRC-32 (IEEE) of the record's place (database salt, segment sequence
//!                 number, offset; format 2) followed by bytes 4 .. 36+len
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
//! later valid record says was already durable cannot be a torn write. So that no document's
//! bytes can pass for such a record, a record's checksum is bound to where it lives (a
//! random salt of its database, unknown to clients, its segment and its offset) and a
//! record may not claim a durable length beyond its own offset. Segments of format 1 (no
//! binding) are still read, never written.

pub(crate) const HEADER_LEN: usize = 36;
pub(crate) const KIND_PUT: u8 = 1;
pub(crate) const KIND_DELETE: u8 = 2;
pub(crate) const FLAG_TXN_END: u8 = 1;

/// The largest payload a record header may claim; larger lengths are malformed.
pub(crate) const MAX_PAYLOAD: u32 = 1 << 30;

/// Where a segment's records live: what their checksums are bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// The database's random salt (from the catalog).
    pub salt: u64,
    /// The segment's sequence number.
    pub seq: u64,
    /// A format-1 segment: checksums cover the record only.
    pub legacy: bool,
}

impl Place {
    /// The checksum of a record's bytes 4.. (`body`) at `offset` of this segment.
    fn crc(&self, offset: u64, body: &[u8]) -> u32 {
        if self.legacy {
            return crc32fast::hash(body);
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&self.salt.to_le_bytes());
        h.update(&self.seq.to_le_bytes());
        h.update(&offset.to_le_bytes());
        h.update(body);
        h.finalize()
    }
}

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

/// Appends one framed record to `buf`; the record will be written at `offset` of the
/// segment at `place` (`buf` may already hold earlier records of the same write).
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    place: &Place,
    offset: u64,
    doc_id: u64,
    version: u64,
    durable: u64,
    payload: Option<&[u8]>,
    txn_end: bool,
) {
    debug_assert!(
        durable <= offset,
        "a record claims durability beyond itself"
    );
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
    let crc = place.crc(offset, &buf[start + 4..]);
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

/// Checks a whole record (`header ++ payload`, exactly `framed_len` bytes) read at
/// `offset` of the segment at `place`: its checksum, and that it claims no durability
/// beyond its own offset.
pub(crate) fn verify(place: &Place, offset: u64, record: &[u8], header: &RecordHeader) -> bool {
    record.len() as u64 == header.framed_len()
        && header.durable <= offset
        && place.crc(offset, &record[4..]) == header.crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: Place = Place {
        salt: 0x5eed,
        seq: 3,
        legacy: false,
    };

    #[test]
    fn round_trip_and_every_bit_flip_is_detected() {
        let mut buf = Vec::new();
        encode(&mut buf, &PLACE, 8192, 42, 7, 4096, Some(b"hello"), true);
        let h = decode_header(&buf).unwrap();
        assert_eq!(
            (h.doc_id, h.version, h.len, h.kind, h.durable),
            (42, 7, 5, KIND_PUT, 4096)
        );
        assert!(h.is_txn_end());
        assert!(verify(&PLACE, 8192, &buf, &h));
        for bit in 0..buf.len() * 8 {
            let mut bad = buf.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let ok = decode_header(&bad).is_some_and(|h| verify(&PLACE, 8192, &bad, &h));
            assert!(!ok, "flip of bit {bit} went unnoticed");
        }
    }

    #[test]
    fn a_record_is_valid_only_where_it_was_written() {
        let mut buf = Vec::new();
        encode(&mut buf, &PLACE, 100, 1, 2, 64, Some(b"x"), true);
        let h = decode_header(&buf).unwrap();
        assert!(verify(&PLACE, 100, &buf, &h));
        assert!(!verify(&PLACE, 101, &buf, &h), "another offset");
        let other_segment = Place { seq: 4, ..PLACE };
        assert!(!verify(&other_segment, 100, &buf, &h), "another segment");
        let other_db = Place { salt: 1, ..PLACE };
        assert!(!verify(&other_db, 100, &buf, &h), "another database");
        let legacy = Place {
            legacy: true,
            ..PLACE
        };
        assert!(!verify(&legacy, 100, &buf, &h), "format 1 rules");
    }

    #[test]
    fn a_record_may_not_claim_durability_beyond_itself() {
        // A format-1 record (no binding) with a durable field past its own offset: such a
        // record can only be document content, never something the engine wrote.
        let legacy = Place {
            legacy: true,
            ..PLACE
        };
        let mut buf = Vec::new();
        encode(&mut buf, &legacy, 1 << 20, 1, 2, 1 << 20, Some(b"x"), true);
        let h = decode_header(&buf).unwrap();
        assert!(verify(&legacy, 1 << 20, &buf, &h));
        assert!(!verify(&legacy, (1 << 20) - 1, &buf, &h));
    }

    #[test]
    fn tombstone_has_no_payload() {
        let mut buf = Vec::new();
        encode(&mut buf, &PLACE, 32, 1, 2, 0, None, false);
        let h = decode_header(&buf).unwrap();
        assert!(h.is_delete() && !h.is_txn_end());
        assert_eq!(buf.len(), HEADER_LEN);
        assert!(verify(&PLACE, 32, &buf, &h));
    }
}
