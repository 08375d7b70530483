//! Counters and sizes reported by `Store::stats` and `Database::stats`.

/// Statistics of one open database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbStats {
    pub id: u64,
    pub name: String,
    /// Live documents.
    pub documents: u64,
    /// Bytes of log records holding live documents (headers included).
    pub live_bytes: u64,
    /// Log bytes no longer needed (old versions, tombstones, headers): what compaction frees.
    pub dead_bytes: u64,
    /// Total size of the database's log segment files.
    pub log_bytes: u64,
    /// Number of log segment files.
    pub segments: u64,
    /// Transactions (plain operations, batches, transactions) committed since open.
    pub committed_txns: u64,
    /// Compactions run since open.
    pub compactions: u64,
    /// Checkpoints written since open.
    pub checkpoints: u64,
    /// Version of the newest visible commit.
    pub last_version: u64,
    /// Open snapshots and transactions.
    pub active_readers: u64,
    /// Engine memory charged to this database, and its cap.
    pub memory_used: u64,
    pub memory_limit: u64,
    /// Whether an I/O failure poisoned the handle (reopen the store to recover).
    pub poisoned: bool,
    /// Bytes of an incomplete final transaction (torn write) that recovery cut off at open.
    pub recovered_truncated_bytes: u64,
    /// Log bytes replayed at open because no checkpoint covered them (open-time work).
    pub recovered_replayed_bytes: u64,
}

/// Statistics of a whole store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Databases in the catalog, dropped ones included.
    pub databases_total: u64,
    /// Databases not dropped.
    pub databases_active: u64,
    /// Databases opened (loaded into memory) by this process.
    pub databases_open: u64,
    /// Sums over the open databases.
    pub documents: u64,
    pub committed_txns: u64,
    pub log_bytes: u64,
    pub live_bytes: u64,
    pub dead_bytes: u64,
    pub compactions: u64,
    /// Engine memory in use and the global cap.
    pub memory_used: u64,
    pub memory_limit: u64,
    /// The record cache (`Options::cache_size`): bytes held, and reads it served or missed.
    pub cache_bytes: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Per-database statistics of the open databases, by name.
    pub databases: Vec<DbStats>,
}
