//! Framing: `u32 length | u64 request id | u8 kind | body`, all little-endian. `length`
//! counts the bytes after itself (at least 9), so a reader knows how much to wait for
//! before it parses anything, and refuses an oversized frame before reading it.

use crate::wire::Writer;

/// Bytes of the length prefix.
pub const LEN_PREFIX: usize = 4;
/// Bytes of a frame without its body: length, request id and kind.
pub const HEADER_LEN: usize = LEN_PREFIX + 8 + 1;

/// One frame: a request (kind = opcode) or a reply (kind = reply tag) with its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Chosen by the client, echoed by the server's reply, so requests can be pipelined.
    pub id: u64,
    pub kind: u8,
    pub body: Vec<u8>,
}

/// A frame that cannot be read: the connection cannot be resynchronised after it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length field is below the 9 bytes of id and kind.
    #[error("frame length {0} is shorter than its 9-byte header")]
    TooShort(u32),
    /// The length field exceeds the receiver's limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: u32, max: u32 },
}

/// The length field of a frame header, checked against `max`: `Ok(len)` is the number of
/// bytes that follow the prefix.
pub fn check_len(prefix: [u8; LEN_PREFIX], max: u32) -> Result<u32, FrameError> {
    let len = u32::from_le_bytes(prefix);
    if len < 9 {
        return Err(FrameError::TooShort(len));
    }
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(len)
}

/// Appends one frame to `out`. A body longer than a frame can describe is a caller bug;
/// callers check sizes against the peer's limit first.
pub fn encode_frame(id: u64, kind: u8, body: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(body.len() + 9).expect("frame body exceeds 4 GiB");
    let mut w = Writer {
        buf: std::mem::take(out),
    };
    w.u32(len).u64(id).u8(kind);
    w.buf.extend_from_slice(body);
    *out = w.buf;
}

/// Cuts the first frame off `buf`: `Ok(None)` when more bytes are needed, otherwise the
/// frame and the number of bytes it used.
pub fn decode_frame(buf: &[u8], max: u32) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(prefix) = buf.get(..LEN_PREFIX) else {
        return Ok(None);
    };
    let len = check_len(prefix.try_into().unwrap(), max)? as usize;
    let Some(rest) = buf.get(LEN_PREFIX..LEN_PREFIX + len) else {
        return Ok(None);
    };
    let frame = Frame {
        id: u64::from_le_bytes(rest[..8].try_into().unwrap()),
        kind: rest[8],
        body: rest[9..].to_vec(),
    };
    Ok(Some((frame, LEN_PREFIX + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partial_input() {
        let mut out = Vec::new();
        encode_frame(7, 0x21, b"abc", &mut out);
        assert_eq!(
            out,
            [12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0x21, b'a', b'b', b'c']
        );
        for cut in 0..out.len() {
            assert_eq!(decode_frame(&out[..cut], 100), Ok(None), "cut at {cut}");
        }
        let (f, used) = decode_frame(&out, 100).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert_eq!((f.id, f.kind, f.body.as_slice()), (7, 0x21, &b"abc"[..]));
    }

    #[test]
    fn bad_lengths_are_refused_before_the_body_arrives() {
        assert_eq!(
            decode_frame(&[8, 0, 0, 0], 100),
            Err(FrameError::TooShort(8))
        );
        assert_eq!(
            decode_frame(&[101, 0, 0, 0], 100),
            Err(FrameError::TooLarge { len: 101, max: 100 })
        );
    }
}
