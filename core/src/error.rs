//! The engine's one error type, and its stable kinds.
//!
//! Every face of DocDB (C status codes, Node `code` strings, Python exception classes) maps
//! from [`ErrorKind`], so the mapping lives in one place per boundary and a new variant is a
//! compile error there, not a silent "unknown error".

use std::io;
use std::path::PathBuf;

/// A `Result` whose error is the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document or database does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A `create` found the document (or database) already there.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// Another transaction committed a change to this document after this transaction's
    /// snapshot was taken; nothing of this transaction was applied.
    #[error("write-write conflict on document {doc_id}: it changed after the transaction began")]
    Conflict { doc_id: u64 },
    /// The write would take memory use over the global or the per-database limit.
    #[error("memory limit reached: {scope} would use {requested} of {limit} bytes")]
    MemoryLimit {
        scope: String,
        requested: u64,
        limit: u64,
    },
    /// The document is larger than `Options::max_document_size`.
    #[error("document of {size} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge { size: u64, max: u64 },
    /// A database name is empty, too long or uses characters outside `[A-Za-z0-9_.-]`.
    #[error("invalid database name {0:?}: use 1 to 64 characters from [A-Za-z0-9_.-], not starting with '.'")]
    InvalidName(String),
    /// An argument is outside what the API accepts (for example a zero option).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Another process (or another `Store` in this process) holds the data directory.
    #[error("data directory {0} is locked by another process or handle")]
    Locked(PathBuf),
    /// The store, database, transaction or snapshot was closed, dropped or finished.
    #[error("{0} is closed")]
    Closed(String),
    /// A file failed verification: a checksum mismatch, a bad magic or a malformed record.
    #[error("corruption in {} at offset {offset}: {reason}", file.display())]
    Corruption {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
    /// An earlier write or fsync failed, so the on-disk state is uncertain; the handle
    /// refuses further work. Reopen the store to recover from what is on disk.
    #[error("database handle is poisoned by an earlier I/O failure: {0}")]
    Poisoned(String),
    /// The files were written by a newer (or unknown) format version.
    #[error("unsupported format version {found} in {} (this build reads {supported})", file.display())]
    UnsupportedVersion {
        file: PathBuf,
        found: u32,
        supported: u32,
    },
    /// An operating-system I/O error.
    #[error("I/O error: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The server of a remote store cannot be reached, or the connection to it broke. When
    /// the connection broke after a request was sent, `outcome_unknown` is true: the request
    /// may or may not have been applied (see `docs/protocol.md`). The next call reconnects.
    #[error("server unavailable: {message}{}", if *outcome_unknown { " (the outcome of the request is unknown)" } else { "" })]
    Unavailable {
        message: String,
        outcome_unknown: bool,
    },
    /// Operation number `index` of an atomic batch failed; nothing of the batch was applied.
    #[error("batch operation #{index} failed: {source}")]
    Batch {
        index: usize,
        #[source]
        source: Box<Error>,
    },
}

/// The stable category of an [`Error`], used by every binding's error mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    Conflict,
    MemoryLimit,
    PayloadTooLarge,
    InvalidName,
    InvalidArgument,
    Locked,
    Closed,
    Corruption,
    Poisoned,
    UnsupportedVersion,
    Io,
    Unavailable,
}

impl ErrorKind {
    /// The stable upper-case code used by the Node binding and in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::AlreadyExists => "ALREADY_EXISTS",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::MemoryLimit => "MEMORY_LIMIT",
            ErrorKind::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorKind::InvalidName => "INVALID_NAME",
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::Locked => "LOCKED",
            ErrorKind::Closed => "CLOSED",
            ErrorKind::Corruption => "CORRUPTION",
            ErrorKind::Poisoned => "POISONED",
            ErrorKind::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorKind::Io => "IO",
            ErrorKind::Unavailable => "UNAVAILABLE",
        }
    }
}

impl Error {
    /// The error's stable category. A batch error reports the kind of the failing operation.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::MemoryLimit { .. } => ErrorKind::MemoryLimit,
            Error::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Error::InvalidName(_) => ErrorKind::InvalidName,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Locked(_) => ErrorKind::Locked,
            Error::Closed(_) => ErrorKind::Closed,
            Error::Corruption { .. } => ErrorKind::Corruption,
            Error::Poisoned(_) => ErrorKind::Poisoned,
            Error::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
            Error::Io { .. } => ErrorKind::Io,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Batch { source, .. } => source.kind(),
        }
    }

    /// For a failed batch, the index of the operation that failed.
    pub fn batch_index(&self) -> Option<usize> {
        match self {
            Error::Batch { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// For an `Unavailable` error, whether the request may have been applied before the
    /// connection broke (never retried automatically unless idempotent).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Error::Unavailable {
                outcome_unknown: true,
                ..
            }
        )
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corruption(
        file: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Error {
        Error::Corruption {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }
}
