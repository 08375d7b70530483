//! DocDB's wire protocol, shared by `docdb-server` and `docdb-client`.
//!
//! `docs/protocol.md` is the specification; this crate is its one implementation:
//! [`frame`] cuts a byte stream into frames, [`message`] turns a frame's body into a
//! [`Request`] or a [`Reply`] and back, [`wire`] holds the little-endian primitives and
//! [`error`] the engine errors as they travel.

pub mod error;
pub mod frame;
pub mod fuzzing;
pub mod message;
pub mod wire;

pub use frame::{decode_frame, encode_frame, Frame, FrameError, HEADER_LEN, LEN_PREFIX};
pub use message::{BatchEntry, Hello, HelloOk, Reply, Request, ScanEntry, ServerStats};
pub use wire::DecodeError;

/// First bytes of the handshake: "DOCDB", a NUL, "WP" (wire protocol).
pub const MAGIC: [u8; 8] = *b"DOCDB\0WP";
/// The protocol version this build speaks. A change that an older peer would misread bumps it.
pub const VERSION: u16 = 1;
/// Largest frame a server accepts unless configured otherwise: a 16 MiB document plus
/// headroom for a batch around it.
pub const DEFAULT_MAX_FRAME: u32 = 32 << 20;
/// Largest handshake frame: a server reads at most this much from a client it does not
/// yet trust.
pub const MAX_HELLO_FRAME: u32 = 4096;
