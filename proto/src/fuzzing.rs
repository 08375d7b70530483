//! The body of the `decode_frame` fuzz target (`fuzz/fuzz_targets/decode_frame.rs`), also
//! run on the checked-in corpus by `proto/tests/fuzz_corpus.rs` on stable Rust.

use crate::{decode_frame, encode_frame, Reply, Request};

/// Cuts `data` into frames and parses each as a request and as a reply. Nothing may panic,
/// and whatever parses must encode back to the very bytes it came from.
pub fn decode_all(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some((frame, used))) = decode_frame(rest, 1 << 20) {
        let mut again = Vec::new();
        encode_frame(frame.id, frame.kind, &frame.body, &mut again);
        assert_eq!(again, rest[..used], "frame re-encoding differs");
        if let Ok(req) = Request::decode(frame.kind, &frame.body) {
            assert_eq!(req.encode(), (frame.kind, frame.body.clone()), "{req:?}");
        }
        if let Ok(reply) = Reply::decode(frame.kind, &frame.body) {
            // Errors keep kind and text, not bytes (an OS error's text is the OS's own).
            if !matches!(reply, Reply::Error(_)) {
                assert_eq!(
                    reply.encode(),
                    (frame.kind, frame.body.clone()),
                    "{reply:?}"
                );
            }
        }
        rest = &rest[used..];
    }
}
