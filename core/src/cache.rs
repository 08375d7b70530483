//! The record cache: payloads of recently read documents, already checksum-verified, so a
//! warm read makes no system call (a `pread` was 0.7 of a 1.1 µs read; docs/performance.md).
//!
//! Entries are keyed by where a record lives (database, segment, offset). Log records never
//! change in place, so an entry can never be stale: a new version, a compaction's copy or a
//! dropped database simply lives elsewhere, and the old entry ages out. One cache serves the
//! whole store; eviction is CLOCK (second chance) within each shard.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

use parking_lot::Mutex;

use crate::index::IdHasher;

const SHARDS: usize = 64;
/// Bytes charged per entry beyond its payload: the slot, the map entry and the allocation.
const ENTRY_OVERHEAD: usize = 64;

/// Where a record lives: the cache key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct CacheKey {
    pub db: u64,
    pub segment: u64,
    pub offset: u32,
}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `IdHasher` keeps only the last word written, so fold the fields into one first;
        // its finaliser mixes the bits.
        state.write_u64(
            self.segment.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ^ self.db.rotate_left(40)
                ^ u64::from(self.offset),
        );
    }
}

type Hashing = BuildHasherDefault<IdHasher>;

struct Entry {
    data: Box<[u8]>,
    /// Set by a hit; the clock hand clears it once before evicting the entry.
    referenced: bool,
}

/// A hit touches one map bucket and the payload: the clock's ring of keys is only walked
/// to evict.
#[derive(Default)]
struct Shard {
    map: HashMap<CacheKey, Entry, Hashing>,
    ring: Vec<CacheKey>,
    hand: usize,
    bytes: usize,
    hits: u64,
    misses: u64,
}

impl Shard {
    fn evict_one(&mut self) {
        // At most two sweeps: the first clears every `referenced` bit.
        while !self.ring.is_empty() {
            if self.hand >= self.ring.len() {
                self.hand = 0;
            }
            let key = self.ring[self.hand];
            if let Some(entry) = self.map.get_mut(&key) {
                if entry.referenced {
                    entry.referenced = false;
                    self.hand += 1;
                    continue;
                }
            }
            self.ring.swap_remove(self.hand);
            if let Some(victim) = self.map.remove(&key) {
                self.bytes -= victim.data.len() + ENTRY_OVERHEAD;
            }
            return;
        }
    }
}

pub(crate) struct RecordCache {
    shards: Box<[Mutex<Shard>]>,
    /// Bytes each shard may hold; 0 turns the cache off.
    shard_capacity: usize,
    hashing: Hashing,
}

impl RecordCache {
    /// A cache of about `capacity` bytes (payloads plus per-entry overhead).
    pub(crate) fn new(capacity: u64) -> Self {
        let shard_capacity = usize::try_from(capacity / SHARDS as u64).unwrap_or(usize::MAX);
        RecordCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity,
            hashing: Hashing::default(),
        }
    }

    fn shard(&self, key: &CacheKey) -> &Mutex<Shard> {
        let h = self.hashing.hash_one(key);
        &self.shards[(h >> 58) as usize % SHARDS]
    }

    /// A copy of the cached payload of `len` bytes at `key`, if present; otherwise counts a
    /// miss (the caller reads the disk).
    pub(crate) fn get(&self, key: &CacheKey, len: u32) -> Option<Vec<u8>> {
        let hit = self.get_with(key, len, <[u8]>::to_vec);
        if hit.is_none() && self.shard_capacity != 0 {
            self.shard(key).lock().misses += 1;
        }
        hit
    }

    /// `f` of the cached payload of `len` bytes at `key`, if present; `f` runs with the
    /// shard locked. A miss is not counted: the caller may not go to disk.
    pub(crate) fn get_with<R>(
        &self,
        key: &CacheKey,
        len: u32,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        if self.shard_capacity == 0 {
            return None;
        }
        let mut shard = self.shard(key).lock();
        match shard.map.get_mut(key) {
            Some(entry) if entry.data.len() == len as usize => {
                entry.referenced = true;
                let out = f(&entry.data);
                shard.hits += 1;
                Some(out)
            }
            _ => None,
        }
    }

    /// Caches a verified payload. Payloads over a quarter of a shard are not cached: one
    /// large document must not flush many small ones.
    pub(crate) fn insert(&self, key: CacheKey, data: &[u8]) {
        let cost = data.len() + ENTRY_OVERHEAD;
        if cost > self.shard_capacity / 4 {
            return;
        }
        let mut shard = self.shard(&key).lock();
        if shard.map.contains_key(&key) {
            return;
        }
        while shard.bytes + cost > self.shard_capacity && !shard.ring.is_empty() {
            shard.evict_one();
        }
        shard.ring.push(key);
        shard.map.insert(
            key,
            Entry {
                data: data.into(),
                referenced: false,
            },
        );
        shard.bytes += cost;
    }

    /// `(bytes held, hits, misses)`; bytes count payloads plus per-entry overhead.
    pub(crate) fn usage(&self) -> (u64, u64, u64) {
        self.shards.iter().fold((0, 0, 0), |(b, h, m), s| {
            let s = s.lock();
            (b + s.bytes as u64, h + s.hits, m + s.misses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(offset: u32) -> CacheKey {
        CacheKey {
            db: 1,
            segment: 7,
            offset,
        }
    }

    #[test]
    fn hits_return_the_cached_bytes_and_check_the_length() {
        let cache = RecordCache::new(1 << 20);
        assert_eq!(cache.get(&key(0), 3), None);
        cache.insert(key(0), b"abc");
        assert_eq!(cache.get(&key(0), 3).as_deref(), Some(&b"abc"[..]));
        assert_eq!(cache.get(&key(0), 4), None, "a length mismatch is a miss");
        let other_db = CacheKey { db: 2, ..key(0) };
        assert_eq!(cache.get(&other_db, 3), None);
        let (bytes, hits, misses) = cache.usage();
        assert_eq!((bytes, hits, misses), (3 + ENTRY_OVERHEAD as u64, 1, 3));
    }

    #[test]
    fn stays_within_capacity_and_keeps_referenced_entries() {
        let cache = RecordCache::new(SHARDS as u64 * 16 * 1024);
        let doc = vec![7u8; 1000];
        cache.insert(key(0), &doc);
        for i in 1..10_000u32 {
            // Keep touching entry 0: the clock gives it a second chance every sweep.
            assert!(
                cache.get(&key(0), 1000).is_some(),
                "hot entry evicted at {i}"
            );
            cache.insert(key(i * 2000), &doc);
            assert!(cache.usage().0 <= SHARDS as u64 * 16 * 1024);
        }
        let cached = (0..10_000u32)
            .filter(|i| cache.get(&key(i * 2000), 1000).is_some())
            .count();
        assert!(cached > 100 && cached < 1100, "{cached} entries cached");
    }

    #[test]
    fn zero_capacity_and_oversized_payloads_are_not_cached() {
        let off = RecordCache::new(0);
        off.insert(key(0), b"abc");
        assert_eq!(off.get(&key(0), 3), None);
        let small = RecordCache::new(SHARDS as u64 * 4096);
        small.insert(key(0), &[0u8; 2000]);
        assert_eq!(small.get(&key(0), 2000), None);
        assert_eq!(small.usage().0, 0);
    }
}
