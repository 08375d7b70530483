//! Engine errors on the wire: the stable code of `ErrorKind::as_str`, the message, and the
//! fields of the error's variant, so a client rebuilds the very `docdb_core::Error` the
//! server's engine returned (same kind, same message, same `batch_index`).

use std::io;
use std::path::PathBuf;

use docdb_core::Error;

use crate::wire::{bad, DecodeError, Reader, Writer};

/// `batch_index` value meaning "not a batch error".
const NO_BATCH: u64 = u64::MAX;

/// Appends `err` as the body of an `ERROR` reply.
pub fn encode_error(err: &Error, w: &mut Writer) {
    let (index, err) = innermost(err);
    w.u64(index.map_or(NO_BATCH, |i| i as u64));
    w.str(err.kind().as_str());
    w.str(&err.to_string());
    match err {
        Error::NotFound(s)
        | Error::AlreadyExists(s)
        | Error::InvalidName(s)
        | Error::InvalidArgument(s)
        | Error::Closed(s)
        | Error::Poisoned(s) => {
            w.str(s);
        }
        Error::Conflict { doc_id } => {
            w.u64(*doc_id);
        }
        Error::MemoryLimit {
            scope,
            requested,
            limit,
        } => {
            w.str(scope).u64(*requested).u64(*limit);
        }
        Error::PayloadTooLarge { size, max } => {
            w.u64(*size).u64(*max);
        }
        Error::Locked(path) => {
            w.str(&path.to_string_lossy());
        }
        Error::Corruption {
            file,
            offset,
            reason,
        } => {
            w.str(&file.to_string_lossy()).u64(*offset).str(reason);
        }
        Error::UnsupportedVersion {
            file,
            found,
            supported,
        } => {
            w.str(&file.to_string_lossy()).u32(*found).u32(*supported);
        }
        Error::Io { context, source } => {
            let os = source.raw_os_error().unwrap_or(-1);
            w.str(context).u32(os as u32).str(&source.to_string());
        }
        Error::Unavailable {
            message,
            outcome_unknown,
        } => {
            w.str(message).u8(u8::from(*outcome_unknown));
        }
        // `innermost` unwrapped batches; a variant added to the engine later travels as its
        // code and message only, which `decode_error` turns into an I/O error.
        _ => {}
    }
}

fn innermost(err: &Error) -> (Option<usize>, &Error) {
    let mut index = None;
    let mut e = err;
    while let Error::Batch { index: i, source } = e {
        index.get_or_insert(*i);
        e = source;
    }
    (index, e)
}

/// Reads the body of an `ERROR` reply back into the engine's error.
pub fn decode_error(r: &mut Reader<'_>) -> Result<Error, DecodeError> {
    let index = r.u64()?;
    let code = r.str()?;
    let message = r.str()?;
    let err = match code.as_str() {
        "NOT_FOUND" => Error::NotFound(r.str()?),
        "ALREADY_EXISTS" => Error::AlreadyExists(r.str()?),
        "INVALID_NAME" => Error::InvalidName(r.str()?),
        "INVALID_ARGUMENT" => Error::InvalidArgument(r.str()?),
        "CLOSED" => Error::Closed(r.str()?),
        "POISONED" => Error::Poisoned(r.str()?),
        "CONFLICT" => Error::Conflict { doc_id: r.u64()? },
        "MEMORY_LIMIT" => Error::MemoryLimit {
            scope: r.str()?,
            requested: r.u64()?,
            limit: r.u64()?,
        },
        "PAYLOAD_TOO_LARGE" => Error::PayloadTooLarge {
            size: r.u64()?,
            max: r.u64()?,
        },
        "LOCKED" => Error::Locked(PathBuf::from(r.str()?)),
        "CORRUPTION" => Error::Corruption {
            file: PathBuf::from(r.str()?),
            offset: r.u64()?,
            reason: r.str()?,
        },
        "UNSUPPORTED_VERSION" => Error::UnsupportedVersion {
            file: PathBuf::from(r.str()?),
            found: r.u32()?,
            supported: r.u32()?,
        },
        "IO" => {
            let context = r.str()?;
            let os = r.u32()? as i32;
            let text = r.str()?;
            let source = if os >= 0 {
                io::Error::from_raw_os_error(os)
            } else {
                io::Error::other(text)
            };
            Error::Io { context, source }
        }
        "UNAVAILABLE" => Error::Unavailable {
            message: r.str()?,
            outcome_unknown: r.bool()?,
        },
        "" => return bad("empty error code"),
        // A kind this build does not know (a newer server): keep its code and message.
        other => Error::Io {
            context: format!("server error {other}"),
            source: io::Error::other(message),
        },
    };
    Ok(if index == NO_BATCH {
        err
    } else {
        Error::Batch {
            index: usize::try_from(index).unwrap_or(usize::MAX),
            source: Box::new(err),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample of every variant; a new variant of the engine's `Error` must be added
    /// here (the match below stops compiling otherwise).
    fn samples() -> Vec<Error> {
        let all = vec![
            Error::NotFound("document 7".into()),
            Error::AlreadyExists("database \"users\"".into()),
            Error::Conflict { doc_id: 9 },
            Error::MemoryLimit {
                scope: "database users".into(),
                requested: 10,
                limit: 5,
            },
            Error::PayloadTooLarge { size: 20, max: 16 },
            Error::InvalidName("a b".into()),
            Error::InvalidArgument("zero".into()),
            Error::Locked("/data".into()),
            Error::Closed("transaction".into()),
            Error::Corruption {
                file: "/data/1/seg".into(),
                offset: 4096,
                reason: "checksum".into(),
            },
            Error::Poisoned("fsync failed".into()),
            Error::UnsupportedVersion {
                file: "/data/CATALOG".into(),
                found: 9,
                supported: 1,
            },
            Error::Io {
                context: "open".into(),
                source: io::Error::from_raw_os_error(28),
            },
            Error::Unavailable {
                message: "server closed the connection".into(),
                outcome_unknown: true,
            },
            Error::Batch {
                index: 3,
                source: Box::new(Error::NotFound("document 1".into())),
            },
        ];
        for e in &all {
            match e {
                Error::NotFound(_)
                | Error::AlreadyExists(_)
                | Error::Conflict { .. }
                | Error::MemoryLimit { .. }
                | Error::PayloadTooLarge { .. }
                | Error::InvalidName(_)
                | Error::InvalidArgument(_)
                | Error::Locked(_)
                | Error::Closed(_)
                | Error::Corruption { .. }
                | Error::Poisoned(_)
                | Error::UnsupportedVersion { .. }
                | Error::Io { .. }
                | Error::Unavailable { .. }
                | Error::Batch { .. } => {}
                _ => unreachable!("a new error variant needs a wire encoding and a sample"),
            }
        }
        all
    }

    #[test]
    fn every_variant_round_trips_with_kind_message_and_batch_index() {
        for e in samples() {
            let mut w = Writer::default();
            encode_error(&e, &mut w);
            let mut r = Reader::new(&w.buf);
            let back = decode_error(&mut r).unwrap();
            r.finish().unwrap();
            assert_eq!(back.kind(), e.kind());
            assert_eq!(back.to_string(), e.to_string());
            assert_eq!(back.batch_index(), e.batch_index());
            assert_eq!(back.outcome_unknown(), e.outcome_unknown());
        }
    }

    #[test]
    fn an_unknown_code_keeps_its_message() {
        let mut w = Writer::default();
        w.u64(NO_BATCH).str("FROM_THE_FUTURE").str("it happened");
        let e = decode_error(&mut Reader::new(&w.buf)).unwrap();
        assert!(e.to_string().contains("FROM_THE_FUTURE"), "{e}");
        assert!(e.to_string().contains("it happened"), "{e}");
    }
}
