//! The one place where failures become JavaScript errors.
//!
//! * Engine errors ([`docdb::Error`]) become `DocDBError` instances with the stable
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

use docdb::ErrorKind;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, Object, Unknown};
use napi::{Env, JsError, JsRangeError, JsTypeError, JsValue};
use napi_derive::napi;

/// The Node `err.code` of each engine error kind: core's stable code (`ErrorKind::as_str`,
/// the table in `docs/errors.md`).
pub fn code(kind: ErrorKind) -> &'static str {
    kind.as_str()
}

/// Core's tables (error codes, statistics fields, option names), so that the tests can
/// compare this face with them: a kind, statistic or option added to core fails those
/// tests until the face has it.
#[napi(object)]
pub struct CoreTables {
    pub error_codes: Vec<String>,
    pub db_stats_fields: Vec<String>,
    pub store_stats_fields: Vec<String>,
    pub option_names: Vec<String>,
}

/// Core's tables (see `CoreTables`); used by the tests and by `docdb.js` for `ERROR_CODES`.
#[napi(js_name = "_coreTables")]
pub fn core_tables() -> CoreTables {
    fn names<T>(fields: &[(&str, T)]) -> Vec<String> {
        fields.iter().map(|f| f.0.to_string()).collect()
    }
    CoreTables {
        error_codes: ErrorKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        db_stats_fields: names(docdb::DbStats::FIELDS),
        store_stats_fields: names(docdb::StoreStats::FIELDS),
        option_names: names(docdb::Options::FIELDS),
    }
}

/// Code of a panic caught at the boundary (a bug in DocDB; the process keeps running).
pub const INTERNAL: &str = "INTERNAL";

/// Everything that can fail below the JavaScript boundary.
#[derive(Debug)]
pub enum Failure {
    Engine(docdb::Error),
    Panic(String),
}

impl From<docdb::Error> for Failure {
    fn from(e: docdb::Error) -> Self {
        Failure::Engine(e)
    }
}

/// `new DocDBError(message, code, batchIndex, outcomeUnknown)`.
type ErrorArgs = FnArgs<(String, String, Option<u32>, Option<bool>)>;
type ErrorClass = FunctionRef<ErrorArgs, Unknown<'static>>;

/// Registers the `DocDBError` class for this Node environment (called once by `docdb.js`).
#[napi(js_name = "_setErrorClass")]
pub fn set_error_class(
    env: Env,
    #[napi(
        ts_arg_type = "new (message: string, code: string, batchIndex: number | null, outcomeUnknown: boolean | null) => Error"
    )]
    ctor: Function<ErrorArgs, Unknown<'static>>,
) -> napi::Result<()> {
    let ctor: ErrorClass = ctor.create_ref()?;
    env.set_instance_data(ctor, (), |_| {})
}

/// Converts a failure into the JavaScript error to throw or reject with.
pub fn to_js(env: &Env, failure: Failure) -> napi::Error {
    let details = match failure {
        Failure::Engine(e) => Details {
            code: code(e.kind()),
            message: e.to_string(),
            batch_index: e
                .batch_index()
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX)),
            // Set for every UNAVAILABLE error, so that `err.outcomeUnknown` is a boolean.
            outcome_unknown: (e.kind() == ErrorKind::Unavailable).then(|| e.outcome_unknown()),
        },
        Failure::Panic(msg) => Details {
            code: INTERNAL,
            message: format!("internal error (a bug in DocDB): {msg}"),
            batch_index: None,
            outcome_unknown: None,
        },
    };
    match docdb_error(env, details) {
        Ok(value) => napi::Error::from(value),
        // Building the error object failed (the environment is shutting down): napi's own
        // error is the best that can still be reported.
        Err(e) => e,
    }
}

/// What a `DocDBError` carries.
struct Details {
    code: &'static str,
    message: String,
    batch_index: Option<u32>,
    outcome_unknown: Option<bool>,
}

fn docdb_error(env: &Env, d: Details) -> napi::Result<Unknown<'_>> {
    if let Some(class) = env.get_instance_data::<ErrorClass>()? {
        return class.borrow_back(env)?.new_instance(FnArgs::from((
            d.message,
            d.code.to_string(),
            d.batch_index,
            d.outcome_unknown,
        )));
    }
    let err = JsError::from(napi::Error::new(d.code, d.message)).into_unknown(*env);
    let mut obj = Object::from_raw(env.raw(), err.raw());
    if let Some(index) = d.batch_index {
        obj.set("batchIndex", index)?;
    }
    if let Some(unknown) = d.outcome_unknown {
        obj.set("outcomeUnknown", unknown)?;
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
pub fn closed(what: &str) -> docdb::Error {
    docdb::Error::Closed(what.to_string())
}
