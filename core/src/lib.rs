//! DocDB: an embedded, crash-safe, ACID document store.
//!
//! A [`Store`] is a data directory holding named logical [`Database`]s. Documents are
//! `u64 id -> bytes`. Every commit is one append to a checksummed log, made durable by one
//! fsync shared with concurrent committers; reads see consistent snapshots (MVCC) and never
//! block writers. See `docs/architecture.md`.
//!
//! ```
//! use docdb_core::{Options, Store};
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), Options::default())?;
//! let users = store.create_db("users")?;
//! users.create(1, b"{\"name\":\"Ada\"}")?;
//! assert_eq!(users.read(1)?, b"{\"name\":\"Ada\"}");
//!
//! let mut tx = users.begin()?;
//! tx.update(1, b"{\"name\":\"Ada Lovelace\"}")?;
//! tx.create(2, b"{\"name\":\"Charles\"}")?;
//! tx.commit()?;
//! store.close()?;
//! # Ok::<(), docdb_core::Error>(())
//! ```

// Unsafe code is refused everywhere but in `fork`, one audited call.
#![deny(unsafe_code)]

mod backup;
mod cache;
mod catalog;
mod check;
mod checkpoint;
mod commit;
mod compaction;
mod db;
mod error;
mod fork;
pub mod fs;
mod heads;
mod id_stream;
mod index;
mod log;
mod maintenance;
mod memory;
mod mvcc;
mod options;
mod range;
mod registry;
mod snapshot;
mod stats;
mod store;
mod txn;

pub use catalog::validate_name;
pub use check::{check_dir, CheckReport, Problem};
pub use db::{copy_if_fits, BatchOp, Database};
pub use error::{Error, ErrorKind, Result};
pub use options::{OptionType, Options, Sync, MAX_DOCUMENT_SIZE_LIMIT};
pub use range::IdRange;
pub use snapshot::{OwnedScan, Scan, Snapshot};
pub use stats::{DbStats, StatField, StatValue, StoreStats};
pub use store::{DbInfo, Store};
pub use txn::{Transaction, TxnScan};

/// The library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
