//! `docdb_options`: the engine's `Options` as a plain C struct.

use docdb_core::{Error, Options, Result, Sync};

/// When a commit is durable (values of `docdb_options.sync`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum docdb_sync {
    /// A commit returns after its records are fsynced; survives power loss. The default.
    DOCDB_SYNC_FULL = 0,
    /// A commit returns after its records reach the OS; survives a process crash. The log
    /// is fsynced after every 8 MiB of appends, at segment rotation, checkpoint,
    /// compaction, `docdb_db_sync`/`docdb_store_sync` and close; power loss can lose the
    /// newest commits (never part of a transaction).
    DOCDB_SYNC_NORMAL = 1,
}

/// Options of `docdb_store_open`. Always start from `docdb_options_default()` and change
/// the fields you need; a value out of range makes the open fail with
/// `DOCDB_INVALID_ARGUMENT`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct docdb_options {
    /// One of `docdb_sync` (stored as an integer so that any value C passes is checked).
    pub sync: u32,
    /// Largest accepted document in bytes (1 .. 1 GiB). Default 16 MiB.
    pub max_document_size: u64,
    /// Global cap on engine memory (index, retained versions, pending transaction data).
    /// Default 1 GiB.
    pub memory_limit: u64,
    /// The same cap per database. Default 256 MiB.
    pub db_memory_limit: u64,
    /// Size at which a log segment is sealed (4 KiB .. 3 GiB). Default 64 MiB.
    pub segment_size: u64,
    /// Automatic compaction needs at least this many dead bytes... Default 64 MiB.
    pub compaction_min_dead_bytes: u64,
    /// ...making up at least this fraction (0 < r <= 1) of the log. Default 0.5.
    pub compaction_dead_ratio: f64,
    /// Automatic compaction on or off (`docdb_db_compact` always works). Default true.
    pub auto_compact: bool,
    /// Log bytes after which a checkpoint is written automatically. Default 256 MiB.
    pub checkpoint_bytes: u64,
    /// Index shards, a power of two (1 .. 65536). Default 16.
    pub index_shards: u64,
    /// Bytes of recently read documents kept in memory for the whole store, so that warm
    /// reads make no system call; 0 turns the cache off. Not part of `memory_limit`.
    /// Default 256 MiB.
    pub cache_size: u64,
}

impl docdb_options {
    /// The engine's `Options` (the engine validates the values when the store opens).
    pub(crate) fn to_core(self) -> Result<Options> {
        let sync = match self.sync {
            0 => Sync::Full,
            1 => Sync::Normal,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "sync must be a docdb_sync value, not {other}"
                )))
            }
        };
        let index_shards = usize::try_from(self.index_shards).map_err(|_| {
            Error::InvalidArgument(format!("index_shards {} is too large", self.index_shards))
        })?;
        Ok(Options {
            sync,
            max_document_size: self.max_document_size,
            memory_limit: self.memory_limit,
            db_memory_limit: self.db_memory_limit,
            segment_size: self.segment_size,
            compaction_min_dead_bytes: self.compaction_min_dead_bytes,
            compaction_dead_ratio: self.compaction_dead_ratio,
            auto_compact: self.auto_compact,
            checkpoint_bytes: self.checkpoint_bytes,
            index_shards,
            cache_size: self.cache_size,
        })
    }
}

/// The default options (the engine's defaults). Cannot fail.
#[no_mangle]
pub extern "C" fn docdb_options_default() -> docdb_options {
    crate::panic::boundary(defaults(), defaults)
}

fn defaults() -> docdb_options {
    let o = Options::default();
    docdb_options {
        sync: match o.sync {
            Sync::Full => docdb_sync::DOCDB_SYNC_FULL,
            Sync::Normal => docdb_sync::DOCDB_SYNC_NORMAL,
        } as u32,
        max_document_size: o.max_document_size,
        memory_limit: o.memory_limit,
        db_memory_limit: o.db_memory_limit,
        segment_size: o.segment_size,
        compaction_min_dead_bytes: o.compaction_min_dead_bytes,
        compaction_dead_ratio: o.compaction_dead_ratio,
        auto_compact: o.auto_compact,
        checkpoint_bytes: o.checkpoint_bytes,
        index_shards: o.index_shards as u64,
        cache_size: o.cache_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docdb_core::OptionType;

    /// Sets the C field of core's option `name` to a valid non-default value.
    fn set(o: &mut docdb_options, name: &str) -> bool {
        match name {
            "sync" => o.sync = docdb_sync::DOCDB_SYNC_NORMAL as u32,
            "max_document_size" => o.max_document_size = 1000,
            "memory_limit" => o.memory_limit = 1000,
            "db_memory_limit" => o.db_memory_limit = 1000,
            "segment_size" => o.segment_size = 8192,
            "compaction_min_dead_bytes" => o.compaction_min_dead_bytes = 1000,
            "compaction_dead_ratio" => o.compaction_dead_ratio = 0.25,
            "auto_compact" => o.auto_compact = false,
            "checkpoint_bytes" => o.checkpoint_bytes = 1000,
            "index_shards" => o.index_shards = 4,
            "cache_size" => o.cache_size = 0,
            _ => return false,
        }
        true
    }

    /// Walks core's list of options: one added to core fails here until C carries it.
    #[test]
    fn every_core_option_reaches_the_engine() {
        for (name, ty) in Options::FIELDS {
            let mut o = defaults();
            assert!(set(&mut o, name), "docdb_options has no field for {name}");
            let core = o.to_core().unwrap();
            assert_ne!(
                core,
                Options::default(),
                "{name} ({ty:?}) did not reach the engine"
            );
            if *ty == OptionType::Sync {
                assert_eq!(core.sync, Sync::Normal);
            }
        }
        let bad = docdb_options {
            sync: 99,
            ..defaults()
        };
        assert!(bad.to_core().is_err());
    }
}
