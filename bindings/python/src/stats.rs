//! Plain, immutable result objects: `DbInfo`, `DbStats` and `StoreStats`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A database of the store, as listed by Store.list_dbs(): its catalog `id` and `name`.
#[pyclass(frozen, eq, get_all, module = "docdb")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DbInfo {
    /// The database's catalog id (never reused).
    id: u64,
    /// The database's name.
    name: String,
}

impl From<docdb::DbInfo> for DbInfo {
    fn from(i: docdb::DbInfo) -> Self {
        DbInfo {
            id: i.id,
            name: i.name,
        }
    }
}

#[pymethods]
impl DbInfo {
    fn __repr__(&self) -> String {
        format!("docdb.DbInfo(id={}, name={:?})", self.id, self.name)
    }
}

/// Statistics of one open database (Database.stats()), an immutable object.
///
/// Attributes: id, name, documents (live documents), live_bytes (log bytes of live
/// documents), dead_bytes (log bytes compaction would free), log_bytes, segments,
/// committed_txns (since open), compactions, checkpoints (since open), last_version (of
/// the newest commit), active_readers (open snapshots and transactions), memory_used and
/// memory_limit (engine memory charged to this database and its cap), poisoned (an I/O
/// failure disabled the handle), recovered_truncated_bytes (torn tail cut at open),
/// recovered_replayed_bytes (log replayed at open, not covered by a checkpoint).
/// as_dict() returns them as a dict.
#[pyclass(frozen, eq, get_all, module = "docdb")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DbStats {
    /// The database's catalog id.
    id: u64,
    /// The database's name.
    name: String,
    /// Live documents.
    documents: u64,
    /// Bytes of log records holding live documents (headers included).
    live_bytes: u64,
    /// Log bytes no longer needed (old versions, tombstones): what compaction frees.
    dead_bytes: u64,
    /// Total size of the database's log segment files.
    log_bytes: u64,
    /// Number of log segment files.
    segments: u64,
    /// Transactions (plain operations, batches, transactions) committed since open.
    committed_txns: u64,
    /// Compactions run since open.
    compactions: u64,
    /// Checkpoints written since open.
    checkpoints: u64,
    /// Version of the newest visible commit.
    last_version: u64,
    /// Open snapshots and transactions.
    active_readers: u64,
    /// Engine memory charged to this database, in bytes.
    memory_used: u64,
    /// The database's memory cap, in bytes.
    memory_limit: u64,
    /// Whether an I/O failure disabled the handle (reopen the store to recover).
    poisoned: bool,
    /// Bytes of a torn final transaction that recovery cut off at open.
    recovered_truncated_bytes: u64,
    /// Log bytes replayed at open because no checkpoint covered them.
    recovered_replayed_bytes: u64,
}

impl From<docdb::DbStats> for DbStats {
    fn from(s: docdb::DbStats) -> Self {
        DbStats {
            id: s.id,
            name: s.name,
            documents: s.documents,
            live_bytes: s.live_bytes,
            dead_bytes: s.dead_bytes,
            log_bytes: s.log_bytes,
            segments: s.segments,
            committed_txns: s.committed_txns,
            compactions: s.compactions,
            checkpoints: s.checkpoints,
            last_version: s.last_version,
            active_readers: s.active_readers,
            memory_used: s.memory_used,
            memory_limit: s.memory_limit,
            poisoned: s.poisoned,
            recovered_truncated_bytes: s.recovered_truncated_bytes,
            recovered_replayed_bytes: s.recovered_replayed_bytes,
        }
    }
}

impl DbStats {
    fn fill<'py>(&self, d: &Bound<'py, PyDict>) -> PyResult<()> {
        d.set_item("id", self.id)?;
        d.set_item("name", &self.name)?;
        d.set_item("documents", self.documents)?;
        d.set_item("live_bytes", self.live_bytes)?;
        d.set_item("dead_bytes", self.dead_bytes)?;
        d.set_item("log_bytes", self.log_bytes)?;
        d.set_item("segments", self.segments)?;
        d.set_item("committed_txns", self.committed_txns)?;
        d.set_item("compactions", self.compactions)?;
        d.set_item("checkpoints", self.checkpoints)?;
        d.set_item("last_version", self.last_version)?;
        d.set_item("active_readers", self.active_readers)?;
        d.set_item("memory_used", self.memory_used)?;
        d.set_item("memory_limit", self.memory_limit)?;
        d.set_item("poisoned", self.poisoned)?;
        d.set_item("recovered_truncated_bytes", self.recovered_truncated_bytes)?;
        d.set_item("recovered_replayed_bytes", self.recovered_replayed_bytes)?;
        Ok(())
    }
}

#[pymethods]
impl DbStats {
    /// The statistics as a new dict.
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        self.fill(&d)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "docdb.DbStats(name={:?}, documents={}, live_bytes={}, dead_bytes={}, \
             log_bytes={}, committed_txns={}, last_version={})",
            self.name,
            self.documents,
            self.live_bytes,
            self.dead_bytes,
            self.log_bytes,
            self.committed_txns,
            self.last_version
        )
    }
}

/// Statistics of a whole store (Store.stats()), an immutable object.
///
/// Attributes: databases_total (in the catalog, dropped ones included), databases_active,
/// databases_open (loaded by this process); sums over the open databases: documents,
/// committed_txns, log_bytes, live_bytes, dead_bytes, compactions; memory_used and
/// memory_limit (global engine memory and its cap); cache_bytes, cache_hits, cache_misses
/// (the record cache: bytes held, reads served, reads from disk); databases (a list of DbStats of the
/// open databases). as_dict() returns them as a dict (databases as a list of dicts).
#[pyclass(frozen, eq, get_all, module = "docdb")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StoreStats {
    /// Databases in the catalog, dropped ones included.
    databases_total: u64,
    /// Databases not dropped.
    databases_active: u64,
    /// Databases opened (loaded) by this process.
    databases_open: u64,
    /// Live documents, summed over the open databases.
    documents: u64,
    /// Committed transactions since open, summed over the open databases.
    committed_txns: u64,
    /// Log bytes, summed over the open databases.
    log_bytes: u64,
    /// Live log bytes, summed over the open databases.
    live_bytes: u64,
    /// Dead log bytes, summed over the open databases.
    dead_bytes: u64,
    /// Compactions since open, summed over the open databases.
    compactions: u64,
    /// Engine memory in use, in bytes.
    memory_used: u64,
    /// The global memory cap, in bytes.
    memory_limit: u64,
    /// Bytes held by the record cache (open(cache_size=...)).
    cache_bytes: u64,
    /// Reads the record cache served.
    cache_hits: u64,
    /// Reads that went to disk.
    cache_misses: u64,
    /// DbStats of each open database (a new list on each access).
    databases: Vec<DbStats>,
}

impl From<docdb::StoreStats> for StoreStats {
    fn from(s: docdb::StoreStats) -> Self {
        StoreStats {
            databases_total: s.databases_total,
            databases_active: s.databases_active,
            databases_open: s.databases_open,
            documents: s.documents,
            committed_txns: s.committed_txns,
            log_bytes: s.log_bytes,
            live_bytes: s.live_bytes,
            dead_bytes: s.dead_bytes,
            compactions: s.compactions,
            memory_used: s.memory_used,
            memory_limit: s.memory_limit,
            cache_bytes: s.cache_bytes,
            cache_hits: s.cache_hits,
            cache_misses: s.cache_misses,
            databases: s.databases.into_iter().map(DbStats::from).collect(),
        }
    }
}

#[pymethods]
impl StoreStats {
    /// The statistics as a new dict (with `databases` as a list of dicts).
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("databases_total", self.databases_total)?;
        d.set_item("databases_active", self.databases_active)?;
        d.set_item("databases_open", self.databases_open)?;
        d.set_item("documents", self.documents)?;
        d.set_item("committed_txns", self.committed_txns)?;
        d.set_item("log_bytes", self.log_bytes)?;
        d.set_item("live_bytes", self.live_bytes)?;
        d.set_item("dead_bytes", self.dead_bytes)?;
        d.set_item("compactions", self.compactions)?;
        d.set_item("memory_used", self.memory_used)?;
        d.set_item("memory_limit", self.memory_limit)?;
        d.set_item("cache_bytes", self.cache_bytes)?;
        d.set_item("cache_hits", self.cache_hits)?;
        d.set_item("cache_misses", self.cache_misses)?;
        let dbs = self
            .databases
            .iter()
            .map(|s| s.as_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item("databases", dbs)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "docdb.StoreStats(databases_active={}, databases_open={}, documents={}, \
             log_bytes={}, memory_used={})",
            self.databases_active,
            self.databases_open,
            self.documents,
            self.log_bytes,
            self.memory_used
        )
    }
}
