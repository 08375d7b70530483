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

/// One statistic's value, as the faces' generic tables carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatValue<'a> {
    U64(u64),
    Bool(bool),
    Str(&'a str),
}

/// A statistics field: its stable snake_case name and how to read it.
pub type StatField<T> = (&'static str, for<'a> fn(&'a T) -> StatValue<'a>);

impl DbStats {
    /// Every field, by name, in declaration order: the one list that each face's
    /// statistics are derived from or checked against (a field added to the struct must be
    /// added here; the tests below fail otherwise).
    pub const FIELDS: &'static [StatField<DbStats>] = &[
        ("id", |s| StatValue::U64(s.id)),
        ("name", |s| StatValue::Str(&s.name)),
        ("documents", |s| StatValue::U64(s.documents)),
        ("live_bytes", |s| StatValue::U64(s.live_bytes)),
        ("dead_bytes", |s| StatValue::U64(s.dead_bytes)),
        ("log_bytes", |s| StatValue::U64(s.log_bytes)),
        ("segments", |s| StatValue::U64(s.segments)),
        ("committed_txns", |s| StatValue::U64(s.committed_txns)),
        ("compactions", |s| StatValue::U64(s.compactions)),
        ("checkpoints", |s| StatValue::U64(s.checkpoints)),
        ("last_version", |s| StatValue::U64(s.last_version)),
        ("active_readers", |s| StatValue::U64(s.active_readers)),
        ("memory_used", |s| StatValue::U64(s.memory_used)),
        ("memory_limit", |s| StatValue::U64(s.memory_limit)),
        ("poisoned", |s| StatValue::Bool(s.poisoned)),
        ("recovered_truncated_bytes", |s| {
            StatValue::U64(s.recovered_truncated_bytes)
        }),
        ("recovered_replayed_bytes", |s| {
            StatValue::U64(s.recovered_replayed_bytes)
        }),
    ];
}

impl StoreStats {
    /// Every scalar field, by name, in declaration order (`databases`, the per-database
    /// list, is described by [`DbStats::FIELDS`]).
    pub const FIELDS: &'static [StatField<StoreStats>] = &[
        ("databases_total", |s| StatValue::U64(s.databases_total)),
        ("databases_active", |s| StatValue::U64(s.databases_active)),
        ("databases_open", |s| StatValue::U64(s.databases_open)),
        ("documents", |s| StatValue::U64(s.documents)),
        ("committed_txns", |s| StatValue::U64(s.committed_txns)),
        ("log_bytes", |s| StatValue::U64(s.log_bytes)),
        ("live_bytes", |s| StatValue::U64(s.live_bytes)),
        ("dead_bytes", |s| StatValue::U64(s.dead_bytes)),
        ("compactions", |s| StatValue::U64(s.compactions)),
        ("memory_used", |s| StatValue::U64(s.memory_used)),
        ("memory_limit", |s| StatValue::U64(s.memory_limit)),
        ("cache_bytes", |s| StatValue::U64(s.cache_bytes)),
        ("cache_hits", |s| StatValue::U64(s.cache_hits)),
        ("cache_misses", |s| StatValue::U64(s.cache_misses)),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field lists must name every field of the structs: a destructuring without `..`
    /// stops compiling when a field is added, and the count then fails until the list has
    /// it.
    #[test]
    fn field_lists_cover_the_structs() {
        let DbStats {
            id: _,
            name: _,
            documents: _,
            live_bytes: _,
            dead_bytes: _,
            log_bytes: _,
            segments: _,
            committed_txns: _,
            compactions: _,
            checkpoints: _,
            last_version: _,
            active_readers: _,
            memory_used: _,
            memory_limit: _,
            poisoned: _,
            recovered_truncated_bytes: _,
            recovered_replayed_bytes: _,
        } = DbStats::default();
        assert_eq!(DbStats::FIELDS.len(), 17);
        let StoreStats {
            databases_total: _,
            databases_active: _,
            databases_open: _,
            documents: _,
            committed_txns: _,
            log_bytes: _,
            live_bytes: _,
            dead_bytes: _,
            compactions: _,
            memory_used: _,
            memory_limit: _,
            cache_bytes: _,
            cache_hits: _,
            cache_misses: _,
            databases: _,
        } = StoreStats::default();
        assert_eq!(StoreStats::FIELDS.len(), 14);
    }

    #[test]
    fn getters_read_their_own_field() {
        let s = DbStats {
            documents: 7,
            recovered_replayed_bytes: 9,
            poisoned: true,
            ..DbStats::default()
        };
        let get = |n: &str| DbStats::FIELDS.iter().find(|f| f.0 == n).map(|f| (f.1)(&s));
        assert_eq!(get("documents"), Some(StatValue::U64(7)));
        assert_eq!(get("recovered_replayed_bytes"), Some(StatValue::U64(9)));
        assert_eq!(get("poisoned"), Some(StatValue::Bool(true)));
    }
}
