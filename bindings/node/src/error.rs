//! The one place where failures become JavaScript errors.
//!
//! * Engine errors ([`docdb_core::Error`]) become `DocDBError` instances with the stable
//!   `code` string of their [`ErrorKind`] (the table in `docs/errors.md`), the engine's
//!   message, and `batchIndex` for a failed atomic batch.
//! * Wrong argument types become `TypeError` and out-of-range arguments `RangeError`, with
//!   Node's own codes (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`).
//! * A panic caught at the boundary becomes a `DocDBError` with code `INTERNAL`.
//!
//! `DocDBError` is defined in JavaScript (`docdb.js`, so that it is a real subclass of
//! `Error` with a readable stack) and registered once per Node environment with
//! [`set_error_class`]. Without it (the raw `index.js` used directly) the same fields are
//! set on a plain `Error`.

use docdb_core::ErrorKind;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, Object, Unknown};
use napi::{Env, JsError, JsRangeError, JsTypeError, JsValue};
use napi_derive::napi;

/// The Node `err.code` of each engine error kind, as fixed by `docs/errors.md`.
pub fn code(kind: ErrorKind) -> &'static str {
    match kind {
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
        // `ErrorKind` is non-exhaustive: a kind added later keeps the engine's own code.
        other => other.as_str(),
    }
}

/// Code of a panic caught at the boundary (a bug in DocDB; the process keeps running).
pub const INTERNAL: &str = "INTERNAL";

/// Everything that can fail below the JavaScript boundary.
#[derive(Debug)]
pub enum Failure {
    Engine(docdb_core::Error),
    Panic(String),
}

impl From<docdb_core::Error> for Failure {
    fn from(e: docdb_core::Error) -> Self {
        Failure::Engine(e)
    }
}

/// `new DocDBError(message, code, batchIndex)`.
type ErrorArgs = FnArgs<(String, String, Option<u32>)>;
type ErrorClass = FunctionRef<ErrorArgs, Unknown<'static>>;

/// Registers the `DocDBError` class for this Node environment (called once by `docdb.js`).
#[napi(js_name = "_setErrorClass")]
pub fn set_error_class(
    env: Env,
    #[napi(
        ts_arg_type = "new (message: string, code: string, batchIndex: number | null) => Error"
    )]
    ctor: Function<ErrorArgs, Unknown<'static>>,
) -> napi::Result<()> {
    let ctor: ErrorClass = ctor.create_ref()?;
    env.set_instance_data(ctor, (), |_| {})
}

/// Converts a failure into the JavaScript error to throw or reject with.
pub fn to_js(env: &Env, failure: Failure) -> napi::Error {
    let (code, message, batch_index) = match failure {
        Failure::Engine(e) => (
            code(e.kind()),
            e.to_string(),
            e.batch_index()
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX)),
        ),
        Failure::Panic(msg) => (
            INTERNAL,
            format!("internal error (a bug in DocDB): {msg}"),
            None,
        ),
    };
    match docdb_error(env, code, message, batch_index) {
        Ok(value) => napi::Error::from(value),
        // Building the error object failed (the environment is shutting down): napi's own
        // error is the best that can still be reported.
        Err(e) => e,
    }
}

fn docdb_error<'e>(
    env: &'e Env,
    code: &str,
    message: String,
    batch_index: Option<u32>,
) -> napi::Result<Unknown<'e>> {
    if let Some(class) = env.get_instance_data::<ErrorClass>()? {
        return class.borrow_back(env)?.new_instance(FnArgs::from((
            message,
            code.to_string(),
            batch_index,
        )));
    }
    let err = JsError::from(napi::Error::new(code, message)).into_unknown(*env);
    if let Some(index) = batch_index {
        let mut obj = Object::from_raw(env.raw(), err.raw());
        obj.set("batchIndex", index)?;
    }
    Ok(err)
}

/// A `TypeError` (code `ERR_INVALID_ARG_TYPE`) for an argument of the wrong type.
pub fn type_error(env: &Env, message: impl Into<String>) -> napi::Error {
    let err = napi::Error::new("ERR_INVALID_ARG_TYPE", message.into());
    napi::Error::from(JsTypeError::from(err).into_unknown(*env))
}

/// A `RangeError` (code `ERR_OUT_OF_RANGE`) for an argument of the right type but a bad value.
pub fn range_error(env: &Env, message: impl Into<String>) -> napi::Error {
    let err = napi::Error::new("ERR_OUT_OF_RANGE", message.into());
    napi::Error::from(JsRangeError::from(err).into_unknown(*env))
}

/// The engine's `Closed` error, for binding-side handles that were finished or closed.
pub fn closed(what: &str) -> docdb_core::Error {
    docdb_core::Error::Closed(what.to_string())
}
