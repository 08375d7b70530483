//! Statistics structs filled by `docdb_db_get_stats` and `docdb_store_get_stats`.

use docdb::{DbStats, StoreStats};

/// Statistics of one database (`docdb_db_get_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct docdb_db_stats {
    /// Catalog id of the database.
    pub id: u64,
    /// Live documents.
    pub documents: u64,
    /// Bytes of log records holding live documents (headers included).
    pub live_bytes: u64,
    /// Log bytes no longer needed: what compaction frees.
    pub dead_bytes: u64,
    /// Total size of the log segment files.
    pub log_bytes: u64,
    /// Number of log segment files.
    pub segments: u64,
    /// Commits (plain operations, batches, transactions) since the store was opened.
    pub committed_txns: u64,
    /// Compactions since open.
    pub compactions: u64,
    /// Checkpoints written since open.
    pub checkpoints: u64,
    /// Version of the newest visible commit.
    pub last_version: u64,
    /// Open snapshots and transactions.
    pub active_readers: u64,
    /// Engine memory charged to this database.
    pub memory_used: u64,
    /// The per-database memory cap.
    pub memory_limit: u64,
    /// Bytes of a torn final transaction that recovery cut off at open.
    pub recovered_truncated_bytes: u64,
    /// Log bytes replayed at open because no checkpoint covered them.
    pub recovered_replayed_bytes: u64,
    /// Whether an I/O failure poisoned the database (reopen the store to recover).
    pub poisoned: bool,
}

impl From<&DbStats> for docdb_db_stats {
    fn from(s: &DbStats) -> Self {
        docdb_db_stats {
            id: s.id,
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
            recovered_truncated_bytes: s.recovered_truncated_bytes,
            recovered_replayed_bytes: s.recovered_replayed_bytes,
            poisoned: s.poisoned,
        }
    }
}

/// Statistics of a store (`docdb_store_get_stats`); sums are over the open databases.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct docdb_store_stats {
    /// Databases in the catalog, dropped ones included.
    pub databases_total: u64,
    /// Databases not dropped.
    pub databases_active: u64,
    /// Databases loaded by this process.
    pub databases_open: u64,
    /// Live documents.
    pub documents: u64,
    /// Commits since open.
    pub committed_txns: u64,
    /// Size of the log segment files.
    pub log_bytes: u64,
    /// Bytes of live records.
    pub live_bytes: u64,
    /// Bytes compaction can free.
    pub dead_bytes: u64,
    /// Compactions since open.
    pub compactions: u64,
    /// Engine memory in use.
    pub memory_used: u64,
    /// The global memory cap.
    pub memory_limit: u64,
    /// Bytes held by the record cache (`docdb_options.cache_size`).
    pub cache_bytes: u64,
    /// Reads the record cache served.
    pub cache_hits: u64,
    /// Reads that went to disk.
    pub cache_misses: u64,
}

impl From<&StoreStats> for docdb_store_stats {
    fn from(s: &StoreStats) -> Self {
        docdb_store_stats {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docdb::StatValue;

    /// The C struct's field of each core statistic, by core's name (`name` is
    /// `docdb_db_name`). A field added to core's list fails the test until it is here.
    fn db_field(s: &docdb_db_stats, name: &str) -> Option<StatValue<'static>> {
        let u = StatValue::U64;
        Some(match name {
            "id" => u(s.id),
            "documents" => u(s.documents),
            "live_bytes" => u(s.live_bytes),
            "dead_bytes" => u(s.dead_bytes),
            "log_bytes" => u(s.log_bytes),
            "segments" => u(s.segments),
            "committed_txns" => u(s.committed_txns),
            "compactions" => u(s.compactions),
            "checkpoints" => u(s.checkpoints),
            "last_version" => u(s.last_version),
            "active_readers" => u(s.active_readers),
            "memory_used" => u(s.memory_used),
            "memory_limit" => u(s.memory_limit),
            "recovered_truncated_bytes" => u(s.recovered_truncated_bytes),
            "recovered_replayed_bytes" => u(s.recovered_replayed_bytes),
            "poisoned" => StatValue::Bool(s.poisoned),
            _ => return None,
        })
    }

    fn store_field(s: &docdb_store_stats, name: &str) -> Option<u64> {
        Some(match name {
            "databases_total" => s.databases_total,
            "databases_active" => s.databases_active,
            "databases_open" => s.databases_open,
            "documents" => s.documents,
            "committed_txns" => s.committed_txns,
            "log_bytes" => s.log_bytes,
            "live_bytes" => s.live_bytes,
            "dead_bytes" => s.dead_bytes,
            "compactions" => s.compactions,
            "memory_used" => s.memory_used,
            "memory_limit" => s.memory_limit,
            "cache_bytes" => s.cache_bytes,
            "cache_hits" => s.cache_hits,
            "cache_misses" => s.cache_misses,
            _ => return None,
        })
    }

    #[test]
    fn every_core_statistic_reaches_c() {
        // Distinct values, so that a field copied from the wrong source is caught.
        let core = DbStats {
            id: 1,
            name: "n".into(),
            documents: 2,
            live_bytes: 3,
            dead_bytes: 4,
            log_bytes: 5,
            segments: 6,
            committed_txns: 7,
            compactions: 8,
            checkpoints: 9,
            last_version: 10,
            active_readers: 11,
            memory_used: 12,
            memory_limit: 13,
            poisoned: true,
            recovered_truncated_bytes: 14,
            recovered_replayed_bytes: 15,
        };
        let c = docdb_db_stats::from(&core);
        for (name, get) in DbStats::FIELDS {
            if *name == "name" {
                continue;
            }
            assert_eq!(db_field(&c, name), Some(get(&core)), "{name}");
        }
        let core = StoreStats {
            databases_total: 1,
            databases_active: 2,
            databases_open: 3,
            documents: 4,
            committed_txns: 5,
            log_bytes: 6,
            live_bytes: 7,
            dead_bytes: 8,
            compactions: 9,
            memory_used: 10,
            memory_limit: 11,
            cache_bytes: 12,
            cache_hits: 13,
            cache_misses: 14,
            databases: Vec::new(),
        };
        let c = docdb_store_stats::from(&core);
        for (name, get) in StoreStats::FIELDS {
            assert_eq!(
                store_field(&c, name).map(StatValue::U64),
                Some(get(&core)),
                "{name}"
            );
        }
    }
}
