//! Tuning knobs of a [`Store`](crate::Store), with safe defaults.

use crate::error::{Error, Result};

/// When a commit is made durable. See `docs/failure_modes.md` for exactly what each mode can
/// lose; no mode can produce a partially applied transaction or a corrupt store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sync {
    /// A commit returns only after its records are fsynced (`fdatasync`). Concurrent
    /// committers share one fsync (group commit). Survives process crash and power loss.
    #[default]
    Full,
    /// A commit returns after its records are written to the operating system. The log is
    /// fsynced after every 8 MiB of appends, and at segment rotation, checkpoint,
    /// compaction, `sync()` and close. Survives a process crash (`kill -9`); power loss can
    /// lose the commits since the last fsync (a suffix of the commit order, never part of a
    /// transaction).
    Normal,
}

/// Options for [`Store::open`](crate::Store::open).
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Durability of commits. Default: [`Sync::Full`].
    pub sync: Sync,
    /// Largest accepted document, in bytes. Default 16 MiB; at most 1 GiB.
    pub max_document_size: u64,
    /// Global cap on the engine memory described in `docs/architecture.md` (index entries,
    /// retained versions, pending transaction data). Default: 1 GiB.
    pub memory_limit: u64,
    /// Cap on the same memory for each database. Default: 256 MiB.
    pub db_memory_limit: u64,
    /// Size at which a log segment is sealed and a new one started. Default 64 MiB.
    pub segment_size: u64,
    /// Automatic compaction starts when a database's dead bytes are at least this many...
    /// Default 64 MiB.
    pub compaction_min_dead_bytes: u64,
    /// ...and make up at least this fraction of its log. Default 0.5.
    pub compaction_dead_ratio: f64,
    /// Turns automatic compaction on or off (`Database::compact` always works). Default on.
    pub auto_compact: bool,
    /// A checkpoint is written automatically once this many log bytes were appended since
    /// the last one, so that open time stays bounded. Default 256 MiB.
    pub checkpoint_bytes: u64,
    /// Number of index shards (a power of two). Default 16: enough for eight writers and
    /// readers to rarely meet on a lock, few enough for a range to merge cheaply.
    pub index_shards: usize,
    /// Bytes of recently read documents kept in memory, shared by all databases of the
    /// store, so that warm reads make no system call. 0 turns the cache off. Not part of
    /// `memory_limit`. Default 256 MiB.
    pub cache_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: Sync::Full,
            max_document_size: 16 << 20,
            memory_limit: 1 << 30,
            db_memory_limit: 256 << 20,
            segment_size: 64 << 20,
            compaction_min_dead_bytes: 64 << 20,
            compaction_dead_ratio: 0.5,
            auto_compact: true,
            checkpoint_bytes: 256 << 20,
            index_shards: 16,
            cache_size: 256 << 20,
        }
    }
}

/// The largest document any configuration accepts; keeps lengths within a `u32` record field.
pub const MAX_DOCUMENT_SIZE_LIMIT: u64 = 1 << 30;

/// The type of an option's value, as the faces spell it (`Sync` is a string, "full" or
/// "normal", in Python and Node; an enum in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    Sync,
    U64,
    F64,
    Bool,
}

impl Options {
    /// Every option, by its stable snake_case name, in declaration order: the one list that
    /// each face's options are checked against (a field added to [`Options`] must be added
    /// here; the test below fails otherwise).
    pub const FIELDS: &'static [(&'static str, OptionType)] = &[
        ("sync", OptionType::Sync),
        ("max_document_size", OptionType::U64),
        ("memory_limit", OptionType::U64),
        ("db_memory_limit", OptionType::U64),
        ("segment_size", OptionType::U64),
        ("compaction_min_dead_bytes", OptionType::U64),
        ("compaction_dead_ratio", OptionType::F64),
        ("auto_compact", OptionType::Bool),
        ("checkpoint_bytes", OptionType::U64),
        ("index_shards", OptionType::U64),
        ("cache_size", OptionType::U64),
    ];

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |msg: &str| Err(Error::InvalidArgument(msg.to_string()));
        if self.max_document_size == 0 || self.max_document_size > MAX_DOCUMENT_SIZE_LIMIT {
            return bad("max_document_size must be between 1 and 1 GiB");
        }
        if self.memory_limit == 0 || self.db_memory_limit == 0 {
            return bad("memory limits must be positive");
        }
        if self.segment_size < 4096 || self.segment_size > (3 << 30) {
            return bad("segment_size must be between 4 KiB and 3 GiB");
        }
        if !(self.compaction_dead_ratio > 0.0 && self.compaction_dead_ratio <= 1.0) {
            return bad("compaction_dead_ratio must be in (0, 1]");
        }
        if self.index_shards == 0
            || !self.index_shards.is_power_of_two()
            || self.index_shards > 65536
        {
            return bad("index_shards must be a power of two between 1 and 65536");
        }
        if self.checkpoint_bytes == 0 {
            return bad("checkpoint_bytes must be positive");
        }
        Ok(())
    }

    /// `PayloadTooLarge` if a document of `size` bytes exceeds `max_document_size`: the one
    /// check that plain writes, batches and transactions share.
    pub(crate) fn check_document_size(&self, size: usize) -> Result<()> {
        let max = self.max_document_size;
        if size as u64 > max {
            return Err(Error::PayloadTooLarge {
                size: size as u64,
                max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A destructuring without `..` stops compiling when a field is added; the count then
    /// fails until `FIELDS` has it.
    #[test]
    fn field_list_covers_the_struct() {
        let Options {
            sync: _,
            max_document_size: _,
            memory_limit: _,
            db_memory_limit: _,
            segment_size: _,
            compaction_min_dead_bytes: _,
            compaction_dead_ratio: _,
            auto_compact: _,
            checkpoint_bytes: _,
            index_shards: _,
            cache_size: _,
        } = Options::default();
        assert_eq!(Options::FIELDS.len(), 11);
    }
}
