//! Checks and converts JavaScript arguments. Every parameter that a caller can get wrong
//! arrives as `Unknown` and is converted here, so that a wrong type is always a `TypeError`
//! and a bad value a `RangeError` (napi's automatic conversion would throw a plain `Error`).

use std::ops::Bound;
use std::time::Duration;

use docdb::{BatchOp, ConnectOptions, Error, IdRange, Options, Sync};
use napi::bindgen_prelude::{
    Array, BigInt, FromNapiValue, Object, Uint8Array, Uint8ArraySlice, Unknown,
};
use napi::{sys, Env, JsValue, Result, ValueType};

use crate::error::{range_error, type_error};

/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A document id: a `bigint` in `[0, 2^64)` or a non-negative safe-integer `number`.
pub fn doc_id(env: &Env, value: &Unknown, what: &str) -> Result<u64> {
    // A number costs one napi call: `napi_get_value_double` fails (without throwing) on any
    // other type, which then takes the typed path below. Reads are cheap enough that the
    // second call showed in the Node read figures (bench/analysis.md).
    let mut n = 0.0;
    // SAFETY: `env` and `value` are live handles of this call's scope; `n` is a valid out
    // pointer for the duration of the call.
    if unsafe { sys::napi_get_value_double(env.raw(), value.raw(), &mut n) } == sys::Status::napi_ok
    {
        return number_id(env, n, what);
    }
    match value.get_type()? {
        ValueType::BigInt => {
            // SAFETY: the value is a live bigint of this call's scope (checked just above).
            let big: BigInt = unsafe { value.cast()? };
            let (negative, id, lossless) = big.get_u64();
            if negative || !lossless {
                return Err(range_error(
                    env,
                    format!("{what} must be in [0, 2^64), got a bigint outside that range"),
                ));
            }
            Ok(id)
        }
        other => Err(type_error(
            env,
            format!(
                "{what} must be a bigint or a non-negative integer number, got {}",
                type_name(other)
            ),
        )),
    }
}

fn number_id(env: &Env, n: f64, what: &str) -> Result<u64> {
    if !(n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&n)) {
        return Err(range_error(
            env,
            format!("{what} must be a non-negative safe integer (or a bigint), got {n}"),
        ));
    }
    Ok(n as u64)
}

/// How a call uses the document bytes it is given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The engine runs before the call returns: JavaScript cannot touch the memory
    /// meanwhile, so the bytes are used in place (no copy).
    Sync,
    /// The engine runs on the libuv pool while JavaScript keeps running and could modify
    /// the buffer: the bytes are copied first, so a write never sees a half-changed buffer.
    Async,
}

/// Document bytes handed to the engine.
pub enum Bytes {
    InPlace(Uint8Array),
    Copied(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::InPlace(a) => a,
            Bytes::Copied(v) => v,
        }
    }
}

/// Document bytes: a `Buffer` or any `Uint8Array` (a view's offset and length are honoured).
pub fn data(env: &Env, value: &Unknown, what: &str, call: Call) -> Result<Bytes> {
    let wrong = || {
        type_error(
            env,
            format!(
                "{what} must be a Buffer or Uint8Array, got {}",
                describe(value)
            ),
        )
    };
    if value.get_type()? != ValueType::Object || !value.is_typedarray()? {
        return Err(wrong());
    }
    // SAFETY: the value is a live typed array of this call's scope; the conversion itself
    // checks that its element type is `uint8`.
    let array = unsafe { value.cast::<Uint8Array>() }.map_err(|_| wrong())?;
    Ok(match call {
        Call::Sync => Bytes::InPlace(array),
        Call::Async => Bytes::Copied(array.to_vec()),
    })
}

/// A caller's buffer to read a document into (`Database.readInto`).
pub fn target<'a>(env: &Env, value: &Unknown<'a>) -> Result<Uint8ArraySlice<'a>> {
    // One napi call (`napi_get_typedarray_info`, which fails without throwing on anything
    // but a typed array and reports the element type); no reference is created, as the
    // slice lives only during this synchronous call.
    // SAFETY: `env` and `value` are live handles of this call's scope.
    unsafe { Uint8ArraySlice::from_napi_value(env.raw(), value.raw()) }.map_err(|_| {
        type_error(
            env,
            format!(
                "target must be a Buffer or Uint8Array, got {}",
                describe(value)
            ),
        )
    })
}

/// A database name (its format is checked by the engine: `INVALID_NAME`).
pub fn name(env: &Env, value: &Unknown) -> Result<String> {
    string(env, value, "name")
}

fn string(env: &Env, value: &Unknown, what: &str) -> Result<String> {
    if value.get_type()? != ValueType::String {
        return Err(type_error(
            env,
            format!("{what} must be a string, got {}", describe(value)),
        ));
    }
    // SAFETY: the value is a live string of this call's scope (checked just above).
    unsafe { value.cast::<String>() }
}

fn boolean(env: &Env, value: &Unknown, what: &str) -> Result<bool> {
    if value.get_type()? != ValueType::Boolean {
        return Err(type_error(
            env,
            format!("{what} must be a boolean, got {}", describe(value)),
        ));
    }
    // SAFETY: the value is a live boolean of this call's scope (checked just above).
    unsafe { value.cast::<bool>() }
}

fn number(env: &Env, value: &Unknown, what: &str) -> Result<f64> {
    if value.get_type()? != ValueType::Number {
        return Err(type_error(
            env,
            format!("{what} must be a number, got {}", describe(value)),
        ));
    }
    // SAFETY: the value is a live number of this call's scope (checked just above).
    unsafe { value.cast::<f64>() }
}

/// A size or count option: a non-negative safe integer.
fn integer(env: &Env, value: &Unknown, what: &str) -> Result<u64> {
    let n = number(env, value, what)?;
    if !(n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&n)) {
        return Err(range_error(
            env,
            format!("{what} must be a non-negative safe integer, got {n}"),
        ));
    }
    Ok(n as u64)
}

fn object<'e>(env: &Env, value: &Unknown<'e>, what: &str) -> Result<Object<'e>> {
    if value.get_type()? != ValueType::Object || value.is_array()? {
        return Err(type_error(
            env,
            format!("{what} must be an object, got {}", describe(value)),
        ));
    }
    // SAFETY: the value is a live object of this call's scope (checked just above).
    unsafe { value.cast::<Object>() }
}

fn is_nullish(value: &Unknown) -> Result<bool> {
    Ok(matches!(
        value.get_type()?,
        ValueType::Undefined | ValueType::Null
    ))
}

/// `open(path, options)`: every key is optional; unknown keys are a `TypeError` so that a
/// misspelt option is not silently ignored. Values are checked by the engine
/// (`INVALID_ARGUMENT`). The keys are core's option names (`Options::FIELDS`) in camelCase;
/// the tests check that every one of them is accepted.
pub fn options(env: &Env, value: Option<&Unknown>) -> Result<Options> {
    let mut opts = Options::default();
    each_key(env, value, "options", |key, v, what| {
        match key {
            "sync" => {
                opts.sync = match string(env, &v, what)?.as_str() {
                    "full" => Sync::Full,
                    "normal" => Sync::Normal,
                    // A bad value (not a bad type) is the engine's INVALID_ARGUMENT, as
                    // in every face.
                    other => {
                        return Err(engine_error(
                            env,
                            Error::InvalidArgument(format!(
                                "{what} must be 'full' or 'normal', got '{other}'"
                            )),
                        ))
                    }
                }
            }
            "maxDocumentSize" => opts.max_document_size = integer(env, &v, what)?,
            "memoryLimit" => opts.memory_limit = integer(env, &v, what)?,
            "dbMemoryLimit" => opts.db_memory_limit = integer(env, &v, what)?,
            "segmentSize" => opts.segment_size = integer(env, &v, what)?,
            "compactionMinDeadBytes" => opts.compaction_min_dead_bytes = integer(env, &v, what)?,
            "compactionDeadRatio" => opts.compaction_dead_ratio = number(env, &v, what)?,
            "autoCompact" => opts.auto_compact = boolean(env, &v, what)?,
            "checkpointBytes" => opts.checkpoint_bytes = integer(env, &v, what)?,
            "indexShards" => {
                opts.index_shards = usize::try_from(integer(env, &v, what)?)
                    .map_err(|_| range_error(env, format!("{what} is too large")))?
            }
            "cacheSize" => opts.cache_size = integer(env, &v, what)?,
            _ => return Err(type_error(env, format!("unknown option '{key}'"))),
        }
        Ok(())
    })?;
    Ok(opts)
}

/// Calls `f(key, value, what)` for every key of the options object `value` whose value is
/// not `undefined` (`what` names it in messages: "options.key"); a missing, `undefined` or
/// `null` object has no keys, anything else than an object is a `TypeError`.
fn each_key<'e>(
    env: &Env,
    value: Option<&Unknown<'e>>,
    what: &str,
    mut f: impl FnMut(&str, Unknown<'e>, &str) -> Result<()>,
) -> Result<()> {
    let Some(value) = value else { return Ok(()) };
    if is_nullish(value)? {
        return Ok(());
    }
    let obj = object(env, value, what)?;
    for key in Object::keys(&obj)? {
        let Some(v) = obj.get::<Unknown>(&key)? else {
            continue;
        };
        if v.get_type()? != ValueType::Undefined {
            f(&key, v, &format!("{what}.{key}"))?;
        }
    }
    Ok(())
}

/// `range(options)` and `count(options)`: `{ gte, gt, lte, lt, reverse, limit }`, every key
/// optional (a missing end is open). Unknown keys are a `TypeError`, as for `open`; both
/// `gte` and `gt` (or `lte` and `lt`) is the engine's `INVALID_ARGUMENT`, as in every face.
pub fn id_range(env: &Env, value: Option<&Unknown>) -> Result<IdRange> {
    let mut range = IdRange::all();
    each_key(env, value, "range options", |key, v, what| {
        let (end, bound) = match key {
            "gte" => (&mut range.start, Bound::Included(doc_id(env, &v, what)?)),
            "gt" => (&mut range.start, Bound::Excluded(doc_id(env, &v, what)?)),
            "lte" => (&mut range.end, Bound::Included(doc_id(env, &v, what)?)),
            "lt" => (&mut range.end, Bound::Excluded(doc_id(env, &v, what)?)),
            "reverse" => {
                range.reverse = boolean(env, &v, what)?;
                return Ok(());
            }
            "limit" => {
                range.limit = Some(integer(env, &v, what)?);
                return Ok(());
            }
            _ => return Err(type_error(env, format!("unknown range option '{key}'"))),
        };
        if *end != Bound::Unbounded {
            let pair = if key.starts_with('g') {
                "gte and gt"
            } else {
                "lte and lt"
            };
            return Err(engine_error(
                env,
                Error::InvalidArgument(format!("range options: {pair} are exclusive")),
            ));
        }
        *end = bound;
        Ok(())
    })?;
    Ok(range)
}

/// `connect(url, options)`: `{ token, caFile, serverName, connectTimeout, requestTimeout }`,
/// every key optional (timeouts in milliseconds); unknown keys are a `TypeError`.
pub fn connect_options(env: &Env, value: Option<&Unknown>) -> Result<ConnectOptions> {
    let mut opts = ConnectOptions::default();
    each_key(env, value, "options", |key, v, what| {
        let millis = |v: &Unknown| -> Result<Duration> {
            match integer(env, v, what)? {
                0 => Err(range_error(env, format!("{what} must be at least 1 ms"))),
                n => Ok(Duration::from_millis(n)),
            }
        };
        match key {
            "token" => opts.token = Some(string(env, &v, what)?),
            "caFile" => opts.ca_file = Some(string(env, &v, what)?.into()),
            "serverName" => opts.server_name = Some(string(env, &v, what)?),
            "connectTimeout" => opts.connect_timeout = millis(&v)?,
            // 0 is "no limit", as in C, Go and Python.
            "requestTimeout" => {
                opts.request_timeout = match integer(env, &v, what)? {
                    0 => None,
                    n => Some(Duration::from_millis(n)),
                }
            }
            _ => return Err(type_error(env, format!("unknown connect option '{key}'"))),
        }
        Ok(())
    })?;
    Ok(opts)
}

/// One operation of a batch, holding its data until the engine has copied it.
pub enum OwnedOp {
    Create(u64, Bytes),
    Update(u64, Bytes),
    Put(u64, Bytes),
    Delete(u64),
}

impl OwnedOp {
    pub fn as_op(&self) -> BatchOp<'_> {
        match self {
            OwnedOp::Create(id, d) => BatchOp::Create(*id, d),
            OwnedOp::Update(id, d) => BatchOp::Update(*id, d),
            OwnedOp::Put(id, d) => BatchOp::Put(*id, d),
            OwnedOp::Delete(id) => BatchOp::Delete(*id),
        }
    }
}

/// `batch(ops)`: an array of `{ op: 'create' | 'update' | 'put', id, data }` and
/// `{ op: 'delete', id }`.
pub fn batch_ops(env: &Env, value: &Unknown, call: Call) -> Result<Vec<OwnedOp>> {
    if value.get_type()? != ValueType::Object || !value.is_array()? {
        return Err(type_error(
            env,
            format!("ops must be an array, got {}", describe(value)),
        ));
    }
    // SAFETY: the value is a live array of this call's scope (checked just above).
    let array: Array = unsafe { value.cast()? };
    let mut ops = Vec::with_capacity(array.len() as usize);
    for i in 0..array.len() {
        let what = format!("ops[{i}]");
        let Some(item) = array.get::<Unknown>(i)? else {
            return Err(type_error(
                env,
                format!("{what} must be an object, got undefined"),
            ));
        };
        let obj = object(env, &item, &what)?;
        let field = |name: &str| -> Result<Unknown> {
            obj.get::<Unknown>(name)?
                .ok_or_else(|| type_error(env, format!("{what}.{name} is missing")))
        };
        let kind = string(env, &field("op")?, &format!("{what}.op"))?;
        let id = doc_id(env, &field("id")?, &format!("{what}.id"))?;
        let data = |env: &Env| data(env, &field("data")?, &format!("{what}.data"), call);
        ops.push(match kind.as_str() {
            "create" => OwnedOp::Create(id, data(env)?),
            "update" => OwnedOp::Update(id, data(env)?),
            "put" => OwnedOp::Put(id, data(env)?),
            "delete" => OwnedOp::Delete(id),
            // Reported as the failure of that operation, as in every face.
            other => {
                return Err(engine_error(
                    env,
                    Error::Batch {
                        index: i as usize,
                        source: Box::new(Error::InvalidArgument(format!(
                            "{what}.op must be 'create', 'update', 'put' or 'delete', got '{other}'"
                        ))),
                    },
                ))
            }
        });
    }
    Ok(ops)
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "boolean",
        ValueType::Number => "number",
        ValueType::String => "string",
        ValueType::Symbol => "symbol",
        ValueType::Object => "object",
        ValueType::Function => "function",
        ValueType::External => "external",
        ValueType::BigInt => "bigint",
        _ => "unknown",
    }
}

fn describe(value: &Unknown) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Object) if value.is_array().unwrap_or(false) => "an array",
        Ok(ValueType::Object) if value.is_typedarray().unwrap_or(false) => "another typed array",
        Ok(t) => type_name(t),
        Err(_) => "unknown",
    }
}

/// A server URL (its form is checked by the client: `INVALID_ARGUMENT`).
pub fn url(env: &Env, value: &Unknown) -> Result<String> {
    string(env, value, "url")
}

/// A data directory path.
pub fn path(env: &Env, value: &Unknown) -> Result<std::path::PathBuf> {
    string(env, value, "path").map(std::path::PathBuf::from)
}

/// The engine's error `e`, as the `DocDBError` it becomes everywhere else.
fn engine_error(env: &Env, e: Error) -> napi::Error {
    crate::error::to_js(env, crate::error::Failure::Engine(e))
}
