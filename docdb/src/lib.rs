//! DocDB's one API, local or remote: [`Store::open`] opens a data directory in this process
//! (`docdb_core`), [`Store::connect`] talks to a `docdb serve` (`docdb_client`), and both
//! give the same [`Store`], [`Database`], [`Transaction`], [`Snapshot`] and scans, with
//! the same methods and the same [`Error`]. Every language face (C, Go, the CLI, Python,
//! Node) is built on these handles, so a remote handle behaves like a local one.
//!
//! ```
//! use docdb::{Options, Store};
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), Options::default())?;
//! // or: Store::connect("unix:///run/docdb/docdb.sock", docdb::ConnectOptions::default())?
//! let users = store.open_or_create_db("users")?;
//! users.put(1, b"{\"name\":\"Ada\"}")?;
//! assert_eq!(users.read(1)?, b"{\"name\":\"Ada\"}");
//! # Ok::<(), docdb::Error>(())
//! ```
//!
//! Each handle is an enum of the local and the remote handle, and each method a `match`
//! that forwards: no engine or protocol logic lives here. Where the two differ the method
//! says so; only [`Store::backup`] (a copy written to a path of the machine that holds the
//! files) is refused on a remote store, with `INVALID_ARGUMENT`.

/// `match`es a facade handle and runs the same expression on the local or remote handle
/// inside it.
macro_rules! forward {
    ($handle:expr, $inner:ident => $call:expr) => {
        match $handle {
            Self::Local($inner) => $call,
            Self::Remote($inner) => $call,
        }
    };
}

mod database;
mod snapshot;
mod store;
mod transaction;
mod txn_pages;

pub use database::Database;
pub use snapshot::{OwnedScan, Scan, Snapshot};
pub use store::Store;
pub use transaction::{Transaction, TxnScan};
pub use txn_pages::TxnPages;

pub use docdb_client::{ConnectOptions, ServerStats};
pub use docdb_core::{
    check_dir, copy_if_fits, validate_name, BatchOp, CheckReport, DbInfo, DbStats, Error,
    ErrorKind, IdRange, OptionType, Options, Problem, Result, StatField, StatValue, StoreStats,
    Sync, MAX_DOCUMENT_SIZE_LIMIT, VERSION,
};
