//! A blocking client of `docdb-server`, with the API of the embedded engine: [`Store`],
//! [`Database`], [`Transaction`], [`Snapshot`] have the methods of their `docdb_core`
//! namesakes and return `docdb_core::Error`, so code (and every language face built on
//! this crate) works the same on a local and on a remote store.
//!
//! ```no_run
//! use docdb_client::{ConnectOptions, Store};
//! let store = Store::connect("unix:///run/docdb/docdb.sock", ConnectOptions::default())?;
//! let users = store.open_or_create_db("users")?;
//! users.put(1, b"{\"name\":\"Ada\"}")?;
//! assert_eq!(users.read(1)?, b"{\"name\":\"Ada\"}");
//! # Ok::<(), docdb_core::Error>(())
//! ```
//!
//! Connections: plain requests use a small pool (threads may share a `Store`); a
//! transaction or a snapshot holds one connection until it ends, because the server binds
//! them to it. When a connection breaks the call fails with `UNAVAILABLE` (with
//! [`docdb_core::Error::outcome_unknown`] true if the request may have been applied) and
//! the next call connects again; only requests that cannot change anything are resent.

mod conn;
mod remote;
mod url;

pub use conn::ConnectOptions;
pub use docdb_core::IdRange;
pub use docdb_proto::ServerStats;
pub use remote::{Database, OwnedScan, Scan, Snapshot, Store, Transaction, TxnScan};
pub use url::Endpoint;
