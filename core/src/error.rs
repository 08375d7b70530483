//! The engine's one error type, and its stable kinds.
//!
//! Every face of DocDB (C status codes, Node `code` strings, Python exception classes) maps
//! from [`ErrorKind`], in one place per boundary. [`ErrorKind::ALL`] lists every kind with
//! its stable code ([`ErrorKind::as_str`]): each face has a test that walks that list, so a
//! kind added here fails a test in every face until the face maps it.

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
    /// Another process holds the data directory (in this process, `Store::open` shares the
    /// store that is already open instead).
    #[error("data directory {0} is locked by another process")]
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
    /// Every kind, in the order of the C status numbers (`DOCDB_NOT_FOUND` = 1, ...): the
    /// one list that the faces' error tables are derived from or checked against.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::MemoryLimit,
        ErrorKind::PayloadTooLarge,
        ErrorKind::InvalidName,
        ErrorKind::InvalidArgument,
        ErrorKind::Locked,
        ErrorKind::Closed,
        ErrorKind::Corruption,
        ErrorKind::Poisoned,
        ErrorKind::UnsupportedVersion,
        ErrorKind::Io,
        ErrorKind::Unavailable,
    ];

    /// The stable upper-case code: the C status name without `DOCDB_`, the Node `err.code`,
    /// the Python exception's `code`, and the kind named by the conformance scenarios.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_a_distinct_code() {
        let mut codes: Vec<_> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
    }

    /// A new kind must be given a position here (the match has no wildcard), and the
    /// assertion then fails until `ALL` holds it at that position.
    #[test]
    fn all_holds_every_kind() {
        let position = |k: ErrorKind| match k {
            ErrorKind::NotFound => 0,
            ErrorKind::AlreadyExists => 1,
            ErrorKind::Conflict => 2,
            ErrorKind::MemoryLimit => 3,
            ErrorKind::PayloadTooLarge => 4,
            ErrorKind::InvalidName => 5,
            ErrorKind::InvalidArgument => 6,
            ErrorKind::Locked => 7,
            ErrorKind::Closed => 8,
            ErrorKind::Corruption => 9,
            ErrorKind::Poisoned => 10,
            ErrorKind::UnsupportedVersion => 11,
            ErrorKind::Io => 12,
            ErrorKind::Unavailable => 13,
        };
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(*k), i, "{k:?}");
        }
    }
}
