//! DocDB for Node.js: a thin napi-rs layer over `docdb-core`.
//!
//! Each `#[napi]` class holds a core handle and only converts arguments ([`args`]), results
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
pub use transaction::Transaction;

use task::Job;

/// The version of the DocDB engine inside this addon.
#[napi]
pub fn version() -> &'static str {
    docdb_core::VERSION
}

fn open_job(env: &Env, path: Unknown, options: Option<Unknown>) -> Result<Job<Store>> {
    let path = args::path(env, &path)?;
    let options = args::options(env, options.as_ref())?;
    Ok(Job::new(move || {
        docdb_core::Store::open(path, options).map(Store::new)
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
