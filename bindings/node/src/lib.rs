//! DocDB for Node.js: a thin napi-rs layer over the `docdb` facade (a store opened in this
//! process, or a server connected to).
//!
//! Each `#[napi]` class holds a facade handle and only converts arguments ([`args`]), results
//! and errors ([`error`]); every engine call runs through a [`task::Job`] shared by the
//! synchronous method and its `...Async` twin. The JavaScript layer (`docdb.js`) adds the
//! `DocDBError` class, JSON helpers, `transaction(fn)` and the snapshot iterator.

mod args;
mod database;
mod error;
mod fast_read;
mod snapshot;
mod stats;
mod store;
mod task;
mod testing;
mod transaction;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

pub use database::Database;
pub use error::{core_tables, set_error_class, CoreTables};
pub use fast_read::read_into_function;
pub use snapshot::{Snapshot, SnapshotScan};
pub use store::Store;
pub use testing::{panic, panic_async, throw_sample};
pub use transaction::{Transaction, TransactionScan};

use task::Job;

/// The version of the DocDB engine inside this addon.
#[napi]
pub fn version() -> &'static str {
    docdb::VERSION
}

fn open_job(env: &Env, path: Unknown, options: Option<Unknown>) -> Result<Job<Store>> {
    let path = args::path(env, &path)?;
    let options = args::options(env, options.as_ref())?;
    Ok(Job::new(move || {
        docdb::Store::open(path, options).map(Store::new)
    }))
}

fn connect_job(env: &Env, url: Unknown, options: Option<Unknown>) -> Result<Job<Store>> {
    let url = args::url(env, &url)?;
    let options = args::connect_options(env, options.as_ref())?;
    Ok(Job::new(move || {
        docdb::Store::connect(&url, options).map(Store::new)
    }))
}

/// Opens (creating if needed) the data directory at `path`. If this process already has
/// it open (in any worker thread), returns a new handle on that open store. Throws
/// `LOCKED` if another process has it open, `INVALID_ARGUMENT` for an empty path.
#[napi]
pub fn open(
    env: Env,
    #[napi(ts_arg_type = "string")] path: Unknown,
    #[napi(ts_arg_type = "OpenOptions")] options: Option<Unknown>,
) -> Result<Store> {
    open_job(&env, path, options)?.run(env)
}

/// `open` on the libuv pool.
#[napi(ts_return_type = "Promise<Store>")]
pub fn open_async(
    env: Env,
    #[napi(ts_arg_type = "string")] path: Unknown,
    #[napi(ts_arg_type = "OpenOptions")] options: Option<Unknown>,
) -> Result<AsyncTask<Job<Store>>> {
    Ok(open_job(&env, path, options)?.spawn())
}

/// Connects to a `docdb serve` at `url` (`unix:///path/to.sock`, `tcp://host:port`,
/// `tls://host:port`) and returns its `Store`: the same methods as a store from `open()`,
/// with the same errors. Throws `UNAVAILABLE` if the server cannot be reached (later calls
/// whose connection breaks throw it too, with `outcomeUnknown` when the request may have
/// been applied; the next call reconnects), `INVALID_ARGUMENT` for a malformed URL or a
/// wrong or missing token.
#[napi]
pub fn connect(
    env: Env,
    #[napi(ts_arg_type = "string")] url: Unknown,
    #[napi(ts_arg_type = "ConnectOptions")] options: Option<Unknown>,
) -> Result<Store> {
    connect_job(&env, url, options)?.run(env)
}

/// `connect` on the libuv pool.
#[napi(ts_return_type = "Promise<Store>")]
pub fn connect_async(
    env: Env,
    #[napi(ts_arg_type = "string")] url: Unknown,
    #[napi(ts_arg_type = "ConnectOptions")] options: Option<Unknown>,
) -> Result<AsyncTask<Job<Store>>> {
    Ok(connect_job(&env, url, options)?.spawn())
}
