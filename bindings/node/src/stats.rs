//! Statistics as plain JavaScript objects (sizes and counts are `number`s).

use napi_derive::napi;

/// Counters and sizes of one open database (`Database.stats()`).
#[napi(object)]
pub struct DbStats {
    pub id: f64,
    pub name: String,
    /// Live documents.
    pub documents: f64,
    /// Bytes of log records holding live documents.
    pub live_bytes: f64,
    /// Log bytes that compaction can reclaim.
    pub dead_bytes: f64,
    /// Total size of the log segment files.
    pub log_bytes: f64,
    pub segments: f64,
    /// Commits (plain operations, batches, transactions) since open.
    pub committed_txns: f64,
    pub compactions: f64,
    pub checkpoints: f64,
    /// Version of the newest visible commit.
    pub last_version: f64,
    /// Open snapshots and transactions.
    pub active_readers: f64,
    pub memory_used: f64,
    pub memory_limit: f64,
    /// An I/O failure poisoned the handle: reopen the store.
    pub poisoned: bool,
    /// Bytes of a torn final transaction that recovery cut off at open.
    pub recovered_truncated_bytes: f64,
    /// Log bytes replayed at open because no checkpoint covered them.
    pub recovered_replayed_bytes: f64,
}

impl From<docdb::DbStats> for DbStats {
    fn from(s: docdb::DbStats) -> Self {
        DbStats {
            id: s.id as f64,
            name: s.name,
            documents: s.documents as f64,
            live_bytes: s.live_bytes as f64,
            dead_bytes: s.dead_bytes as f64,
            log_bytes: s.log_bytes as f64,
            segments: s.segments as f64,
            committed_txns: s.committed_txns as f64,
            compactions: s.compactions as f64,
            checkpoints: s.checkpoints as f64,
            last_version: s.last_version as f64,
            active_readers: s.active_readers as f64,
            memory_used: s.memory_used as f64,
            memory_limit: s.memory_limit as f64,
            poisoned: s.poisoned,
            recovered_truncated_bytes: s.recovered_truncated_bytes as f64,
            recovered_replayed_bytes: s.recovered_replayed_bytes as f64,
        }
    }
}

/// Statistics of a whole store (`Store.stats()`).
#[napi(object)]
pub struct StoreStats {
    /// Databases in the catalog, dropped ones included.
    pub databases_total: f64,
    pub databases_active: f64,
    /// Databases loaded by this process.
    pub databases_open: f64,
    /// Sums over the open databases.
    pub documents: f64,
    pub committed_txns: f64,
    pub log_bytes: f64,
    pub live_bytes: f64,
    pub dead_bytes: f64,
    pub compactions: f64,
    pub memory_used: f64,
    pub memory_limit: f64,
    /// The record cache (`cacheSize`): bytes held, and reads it served or missed.
    pub cache_bytes: f64,
    pub cache_hits: f64,
    pub cache_misses: f64,
    /// Per-database statistics of the open databases, by name.
    pub databases: Vec<DbStats>,
}

impl From<docdb::StoreStats> for StoreStats {
    fn from(s: docdb::StoreStats) -> Self {
        StoreStats {
            databases_total: s.databases_total as f64,
            databases_active: s.databases_active as f64,
            databases_open: s.databases_open as f64,
            documents: s.documents as f64,
            committed_txns: s.committed_txns as f64,
            log_bytes: s.log_bytes as f64,
            live_bytes: s.live_bytes as f64,
            dead_bytes: s.dead_bytes as f64,
            compactions: s.compactions as f64,
            memory_used: s.memory_used as f64,
            memory_limit: s.memory_limit as f64,
            cache_bytes: s.cache_bytes as f64,
            cache_hits: s.cache_hits as f64,
            cache_misses: s.cache_misses as f64,
            databases: s.databases.into_iter().map(DbStats::from).collect(),
        }
    }
}

/// A database of the catalog (`Store.listDbs()`).
#[napi(object)]
pub struct DbInfo {
    pub id: f64,
    pub name: String,
}
