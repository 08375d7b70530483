//! [`Store`]: a data directory opened in this process, or a connection to a server.

use std::path::Path;

use docdb_core::{DbInfo, Error, Options, Result, StoreStats, MAX_DOCUMENT_SIZE_LIMIT};

use crate::{ConnectOptions, Database};

/// A store: local (this process holds the directory) or remote (a server holds it). Cheap
/// to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Store {
    Local(docdb_core::Store),
    Remote(docdb_client::Store),
}

impl Store {
    /// Opens (creating it if needed) the data directory `path` in this process; see
    /// `docdb_core::Store::open` (a second open in this process shares the store,
    /// another process gets `LOCKED`).
    pub fn open(path: impl AsRef<Path>, opts: Options) -> Result<Store> {
        docdb_core::Store::open(path, opts).map(Store::Local)
    }

    /// Connects to the server at `url` (`unix:///path`, `tcp://host:port`,
    /// `tls://host:port`): `UNAVAILABLE` if it cannot be reached, the server's refusal if
    /// the handshake fails (wrong token: `INVALID_ARGUMENT`).
    pub fn connect(url: &str, opts: ConnectOptions) -> Result<Store> {
        docdb_client::Store::connect(url, opts).map(Store::Remote)
    }

    /// Whether this store is served by another process.
    pub fn is_remote(&self) -> bool {
        matches!(self, Store::Remote(_))
    }

    /// The data directory of a local store; `None` for a remote one (see [`Store::url`]).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Store::Local(s) => Some(s.path()),
            Store::Remote(_) => None,
        }
    }

    /// The URL a remote store was connected with; `None` for a local one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Store::Local(_) => None,
            Store::Remote(s) => Some(s.url()),
        }
    }

    /// Where the store is, for messages: the directory or the URL.
    pub fn location(&self) -> String {
        match self {
            Store::Local(s) => s.path().display().to_string(),
            Store::Remote(s) => s.url().to_string(),
        }
    }

    /// The options a local store was opened with; `None` for a remote one (the server
    /// chose them).
    pub fn options(&self) -> Option<&Options> {
        match self {
            Store::Local(s) => Some(s.options()),
            Store::Remote(_) => None,
        }
    }

    /// The largest document worth sending: the local store's `max_document_size`; for a
    /// remote store the engine's upper bound, since the server applies its own limit (and
    /// answers `PAYLOAD_TOO_LARGE` above it).
    pub fn max_document_size(&self) -> u64 {
        match self {
            Store::Local(s) => s.options().max_document_size,
            Store::Remote(_) => MAX_DOCUMENT_SIZE_LIMIT,
        }
    }

    pub fn create_db(&self, name: &str) -> Result<Database> {
        match self {
            Store::Local(s) => s.create_db(name).map(Database::Local),
            Store::Remote(s) => s.create_db(name).map(Database::Remote),
        }
    }

    pub fn open_db(&self, name: &str) -> Result<Database> {
        match self {
            Store::Local(s) => s.open_db(name).map(Database::Local),
            Store::Remote(s) => s.open_db(name).map(Database::Remote),
        }
    }

    pub fn open_or_create_db(&self, name: &str) -> Result<Database> {
        match self {
            Store::Local(s) => s.open_or_create_db(name).map(Database::Local),
            Store::Remote(s) => s.open_or_create_db(name).map(Database::Remote),
        }
    }

    pub fn drop_db(&self, name: &str) -> Result<()> {
        forward!(self, s => s.drop_db(name))
    }

    pub fn list_dbs(&self) -> Result<Vec<DbInfo>> {
        forward!(self, s => s.list_dbs())
    }

    pub fn stats(&self) -> Result<StoreStats> {
        forward!(self, s => s.stats())
    }

    pub fn checkpoint(&self) -> Result<()> {
        forward!(self, s => s.checkpoint())
    }

    pub fn sync(&self) -> Result<()> {
        forward!(self, s => s.sync())
    }

    /// Closes the store (local: checkpoints, syncs and releases the directory; remote:
    /// closes this client's connections, the server goes on). Later calls fail with
    /// `CLOSED`.
    pub fn close(&self) -> Result<()> {
        forward!(self, s => s.close())
    }

    pub fn is_closed(&self) -> bool {
        forward!(self, s => s.is_closed())
    }

    /// Writes a verified copy of a local store into `dest` (see `docdb_core::Store::backup`).
    /// A remote store answers `INVALID_ARGUMENT`: the copy is files written on the machine
    /// that holds the store, so it is made there (`docdb backup` on the server's host).
    pub fn backup(&self, dest: impl AsRef<Path>, progress: impl FnMut(u64, u64)) -> Result<()> {
        match self {
            Store::Local(s) => s.backup(dest, progress),
            Store::Remote(s) => Err(Error::InvalidArgument(format!(
                "backup needs the store's files: run it on the host of the server at {}",
                s.url()
            ))),
        }
    }
}

impl From<docdb_core::Store> for Store {
    fn from(s: docdb_core::Store) -> Store {
        Store::Local(s)
    }
}

impl From<docdb_client::Store> for Store {
    fn from(s: docdb_client::Store) -> Store {
        Store::Remote(s)
    }
}
