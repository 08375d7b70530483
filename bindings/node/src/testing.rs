//! Hooks for the binding's own tests (`__test__/errors.test.js`): they reach the error
//! paths that no input can trigger on a healthy machine (a poisoned handle, a caught
//! panic), so that every row of `docs/errors.md` is checked end to end. Not part of the
//! public API (`docdb.js` does not export them).

use std::io;

use docdb::Error;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::{self, Failure};
use crate::task::Job;

/// Throws the error that an engine error of kind `code` (an `ErrorKind::as_str()` value, or
/// `INTERNAL`) becomes; `batchIndex` wraps it in a failed batch at that position.
#[napi(js_name = "_throwSample")]
pub fn throw_sample(env: Env, code: String, batch_index: Option<u32>) -> Result<()> {
    let e = match code.as_str() {
        "NOT_FOUND" => Error::NotFound("sample".into()),
        "ALREADY_EXISTS" => Error::AlreadyExists("sample".into()),
        "CONFLICT" => Error::Conflict { doc_id: 7 },
        "MEMORY_LIMIT" => Error::MemoryLimit {
            scope: "sample".into(),
            requested: 2,
            limit: 1,
        },
        "PAYLOAD_TOO_LARGE" => Error::PayloadTooLarge { size: 2, max: 1 },
        "INVALID_NAME" => Error::InvalidName("sample".into()),
        "INVALID_ARGUMENT" => Error::InvalidArgument("sample".into()),
        "LOCKED" => Error::Locked("sample".into()),
        "CLOSED" => Error::Closed("sample".into()),
        "CORRUPTION" => Error::Corruption {
            file: "sample".into(),
            offset: 1,
            reason: "sample".into(),
        },
        "POISONED" => Error::Poisoned("sample".into()),
        "UNSUPPORTED_VERSION" => Error::UnsupportedVersion {
            file: "sample".into(),
            found: 9,
            supported: 1,
        },
        "IO" => Error::Io {
            context: "sample".into(),
            source: io::Error::other("sample"),
        },
        "UNAVAILABLE" => Error::Unavailable {
            message: "sample".into(),
            outcome_unknown: true,
        },
        "INTERNAL" => return Err(error::to_js(&env, Failure::Panic("sample".into()))),
        other => return Err(error::range_error(&env, format!("no sample for '{other}'"))),
    };
    let e = match batch_index {
        Some(index) => Error::Batch {
            index: index as usize,
            source: Box::new(e),
        },
        None => e,
    };
    Err(error::to_js(&env, e.into()))
}

/// Panics inside an engine job: the panic must become an `INTERNAL` DocDBError.
#[napi(js_name = "_panic")]
pub fn panic(env: Env) -> Result<()> {
    Job::new(|| -> std::result::Result<(), Error> { panic!("deliberate test panic") }).run(env)
}

/// The same on the libuv pool: the promise must reject with `INTERNAL`.
#[napi(js_name = "_panicAsync", ts_return_type = "Promise<void>")]
pub fn panic_async() -> AsyncTask<Job<()>> {
    Job::new(|| -> std::result::Result<(), Error> { panic!("deliberate test panic") }).spawn()
}
