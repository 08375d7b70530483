//! `docdb_status`, and the ONE place that maps the engine's `ErrorKind` to it (the table
//! in `docs/errors.md`: names and numbers are fixed and never reused).

use std::ffi::c_char;

use docdb::{Error, ErrorKind};

use crate::errmsg;

/// The result of every fallible DocDB function. `DOCDB_OK` is 0; every other value is an
/// error whose message is available from `docdb_errmsg()` on the same thread.
///
/// Values are stable across versions and never reused (see docs/errors.md).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum docdb_status {
    /// Success.
    DOCDB_OK = 0,
    /// The document or database does not exist.
    DOCDB_NOT_FOUND = 1,
    /// A create found the document id or database name already taken.
    DOCDB_ALREADY_EXISTS = 2,
    /// A transaction lost a write-write race at commit; nothing of it was applied.
    DOCDB_CONFLICT = 3,
    /// The write would exceed the global or per-database memory cap; nothing was applied.
    DOCDB_MEMORY_LIMIT = 4,
    /// A document is larger than `docdb_options.max_document_size`.
    DOCDB_PAYLOAD_TOO_LARGE = 5,
    /// A database name outside `[A-Za-z0-9_.-]{1,64}` or starting with '.'.
    DOCDB_INVALID_NAME = 6,
    /// A bad argument: NULL pointer, bad length, non-UTF-8 name, bad option value.
    DOCDB_INVALID_ARGUMENT = 7,
    /// Another process holds the data directory (within one process, `docdb_store_open`
    /// shares the open store instead).
    DOCDB_LOCKED = 8,
    /// Use of a closed store or database handle, of a dropped database, or of a
    /// transaction that was committed or rolled back.
    DOCDB_CLOSED = 9,
    /// A checksum or format check failed; the message names the file and offset.
    DOCDB_CORRUPTION = 10,
    /// An earlier write or fsync failed; the database refuses writes until the store is
    /// reopened.
    DOCDB_POISONED = 11,
    /// The files were written by another (newer) format version.
    DOCDB_UNSUPPORTED_VERSION = 12,
    /// An operating-system I/O error (disk full, permissions, ...).
    DOCDB_IO = 13,
    /// A bug in DocDB (a caught panic); the process keeps running.
    DOCDB_INTERNAL = 14,
    /// The server of a remote store is unreachable or the connection broke (the message
    /// says whether the outcome of the request is unknown); the next call reconnects.
    DOCDB_UNAVAILABLE = 15,
}

impl docdb_status {
    /// Every status, in numeric order.
    pub(crate) const ALL: [docdb_status; 16] = [
        docdb_status::DOCDB_OK,
        docdb_status::DOCDB_NOT_FOUND,
        docdb_status::DOCDB_ALREADY_EXISTS,
        docdb_status::DOCDB_CONFLICT,
        docdb_status::DOCDB_MEMORY_LIMIT,
        docdb_status::DOCDB_PAYLOAD_TOO_LARGE,
        docdb_status::DOCDB_INVALID_NAME,
        docdb_status::DOCDB_INVALID_ARGUMENT,
        docdb_status::DOCDB_LOCKED,
        docdb_status::DOCDB_CLOSED,
        docdb_status::DOCDB_CORRUPTION,
        docdb_status::DOCDB_POISONED,
        docdb_status::DOCDB_UNSUPPORTED_VERSION,
        docdb_status::DOCDB_IO,
        docdb_status::DOCDB_INTERNAL,
        docdb_status::DOCDB_UNAVAILABLE,
    ];

    /// The NUL-terminated name, which is also the Node `err.code` ("NOT_FOUND", ...).
    const fn name(self) -> &'static std::ffi::CStr {
        match self {
            docdb_status::DOCDB_OK => c"OK",
            docdb_status::DOCDB_NOT_FOUND => c"NOT_FOUND",
            docdb_status::DOCDB_ALREADY_EXISTS => c"ALREADY_EXISTS",
            docdb_status::DOCDB_CONFLICT => c"CONFLICT",
            docdb_status::DOCDB_MEMORY_LIMIT => c"MEMORY_LIMIT",
            docdb_status::DOCDB_PAYLOAD_TOO_LARGE => c"PAYLOAD_TOO_LARGE",
            docdb_status::DOCDB_INVALID_NAME => c"INVALID_NAME",
            docdb_status::DOCDB_INVALID_ARGUMENT => c"INVALID_ARGUMENT",
            docdb_status::DOCDB_LOCKED => c"LOCKED",
            docdb_status::DOCDB_CLOSED => c"CLOSED",
            docdb_status::DOCDB_CORRUPTION => c"CORRUPTION",
            docdb_status::DOCDB_POISONED => c"POISONED",
            docdb_status::DOCDB_UNSUPPORTED_VERSION => c"UNSUPPORTED_VERSION",
            docdb_status::DOCDB_IO => c"IO",
            docdb_status::DOCDB_INTERNAL => c"INTERNAL",
            docdb_status::DOCDB_UNAVAILABLE => c"UNAVAILABLE",
        }
    }
}

/// The status of an engine error kind: the table of docs/errors.md.
pub(crate) fn from_kind(kind: ErrorKind) -> docdb_status {
    match kind {
        ErrorKind::NotFound => docdb_status::DOCDB_NOT_FOUND,
        ErrorKind::AlreadyExists => docdb_status::DOCDB_ALREADY_EXISTS,
        ErrorKind::Conflict => docdb_status::DOCDB_CONFLICT,
        ErrorKind::MemoryLimit => docdb_status::DOCDB_MEMORY_LIMIT,
        ErrorKind::PayloadTooLarge => docdb_status::DOCDB_PAYLOAD_TOO_LARGE,
        ErrorKind::InvalidName => docdb_status::DOCDB_INVALID_NAME,
        ErrorKind::InvalidArgument => docdb_status::DOCDB_INVALID_ARGUMENT,
        ErrorKind::Locked => docdb_status::DOCDB_LOCKED,
        ErrorKind::Closed => docdb_status::DOCDB_CLOSED,
        ErrorKind::Corruption => docdb_status::DOCDB_CORRUPTION,
        ErrorKind::Poisoned => docdb_status::DOCDB_POISONED,
        ErrorKind::UnsupportedVersion => docdb_status::DOCDB_UNSUPPORTED_VERSION,
        ErrorKind::Io => docdb_status::DOCDB_IO,
        ErrorKind::Unavailable => docdb_status::DOCDB_UNAVAILABLE,
        // `ErrorKind` is `#[non_exhaustive]`: a kind added to the engine without a status
        // here is a DocDB bug, reported as such rather than as a wrong category.
        _ => docdb_status::DOCDB_INTERNAL,
    }
}

/// Records `err`'s message for `docdb_errmsg()` and returns its status.
pub(crate) fn fail(err: &Error) -> docdb_status {
    errmsg::set(err.to_string());
    from_kind(err.kind())
}

/// The name of a status code without the `DOCDB_` prefix ("OK", "NOT_FOUND", ...), which
/// is also the `code` string of the Node binding.
///
/// Returns a static NUL-terminated string (never freed); `"UNKNOWN"` for a value that is
/// not a `docdb_status`.
#[no_mangle]
pub extern "C" fn docdb_status_str(status: u32) -> *const c_char {
    crate::panic::boundary(c"UNKNOWN".as_ptr(), || {
        docdb_status::ALL
            .iter()
            .find(|s| **s as u32 == status)
            .map_or(c"UNKNOWN", |s| s.name())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn numbers_follow_the_table() {
        for (i, s) in docdb_status::ALL.iter().enumerate() {
            assert_eq!(*s as u32, i as u32);
        }
    }

    /// Walks core's list of kinds: a kind added to the engine fails here until it has a
    /// status of its own whose name is the kind's code.
    #[test]
    fn every_engine_kind_has_its_status() {
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            let st = from_kind(kind);
            assert_ne!(st, docdb_status::DOCDB_INTERNAL, "{kind:?} has no status");
            // Numbers are never reused: kinds added after INTERNAL (14) come after it.
            let internal = docdb_status::DOCDB_INTERNAL as u32;
            let expected = if i as u32 + 1 < internal {
                i as u32 + 1
            } else {
                i as u32 + 2
            };
            assert_eq!(st as u32, expected, "{kind:?}");
            // SAFETY: docdb_status_str returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(docdb_status_str(st as u32)) };
            assert_eq!(name.to_str().unwrap(), kind.as_str());
        }
        assert_eq!(
            docdb_status::ALL.len(),
            ErrorKind::ALL.len() + 2,
            "OK and INTERNAL"
        );
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(docdb_status_str(99)) };
        assert_eq!(unknown.to_str().unwrap(), "UNKNOWN");
    }
}
