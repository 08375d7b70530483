//! The sharded in-memory index: document id -> location and version, plus the older
//! versions that live snapshots may still read (MVCC).
//!
//! Each shard is a hash map behind its own `parking_lot::RwLock`; a lookup holds a shard's
//! read lock only long enough to copy a location out, so readers never wait on disk I/O of
//! writers, and writers never wait on readers' I/O.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::fs::FileSystem;
use crate::log::segment::Segment;

/// Memory charged for each index entry: key, head version, location, and the hash table's
/// own slot and control-byte overhead at its lowest load just after growing (40 + 1 bytes
/// at 7/16 load); the typical real cost is about 50 bytes. Documented in `docs/architecture.md`.
pub(crate) const ENTRY_BYTES: u64 = 96;
/// Memory charged for each older version kept for a live snapshot.
pub(crate) const VERSION_BYTES: u64 = 32;

/// Where a document version's record lives.
pub(crate) struct Location<F: FileSystem> {
    pub segment: Arc<Segment<F>>,
    pub offset: u32,
    pub len: u32,
}

impl<F: FileSystem> Clone for Location<F> {
    fn clone(&self) -> Self {
        Location {
            segment: Arc::clone(&self.segment),
            offset: self.offset,
            len: self.len,
        }
    }
}

/// One committed version of a document; `loc == None` is a deletion.
pub(crate) struct Version<F: FileSystem> {
    pub version: u64,
    pub loc: Option<Location<F>>,
}

impl<F: FileSystem> Clone for Version<F> {
    fn clone(&self) -> Self {
        Version {
            version: self.version,
            loc: self.loc.clone(),
        }
    }
}

struct Entry<F: FileSystem> {
    head: Version<F>,
    /// Older versions, newest first; `None` in the common case of no live snapshot.
    /// Boxed so the common entry stays one pointer wide instead of a Vec's three.
    #[allow(clippy::box_collection)]
    older: Option<Box<Vec<Version<F>>>>,
}

impl<F: FileSystem> Entry<F> {
    fn visible(&self, at: u64) -> Option<&Version<F>> {
        if self.head.version <= at {
            return Some(&self.head);
        }
        self.older.as_ref()?.iter().find(|v| v.version <= at)
    }

    /// Drops versions no reader at `oldest` or later can see. Returns how many older
    /// versions were released and whether the whole entry can go.
    fn prune(&mut self, oldest: u64) -> (u64, bool) {
        let mut released = 0;
        if let Some(older) = &mut self.older {
            let keep = if self.head.version <= oldest {
                0
            } else {
                // Keep every version newer than `oldest` and the newest one at or below it,
                // unless that one is a deletion (reading it or nothing gives the same answer).
                let newer = older.iter().take_while(|v| v.version > oldest).count();
                match older.get(newer) {
                    Some(v) if v.loc.is_some() => newer + 1,
                    _ => newer,
                }
            };
            released = (older.len() - keep) as u64;
            older.truncate(keep);
            if older.is_empty() {
                self.older = None;
            }
        }
        let removable =
            self.older.is_none() && self.head.loc.is_none() && self.head.version <= oldest;
        (released, removable)
    }
}

/// What applying a new version changed, for stats and memory accounting.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct Applied {
    /// Framed length of the previous head if it was a live document.
    pub prev_live: Option<u32>,
    pub entries_delta: i64,
    pub versions_delta: i64,
    /// The entry still holds older versions or a deletion marker and needs a later prune.
    pub needs_gc: bool,
}

/// A fast, well-mixed hash for u64 ids (SplitMix64's finaliser); ids are often sequential.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

type Shard<F> = HashMap<u64, Entry<F>, BuildHasherDefault<IdHasher>>;

pub(crate) struct Index<F: FileSystem> {
    shards: Box<[RwLock<Shard<F>>]>,
    mask: u64,
}

impl<F: FileSystem> Index<F> {
    pub(crate) fn new(shards: usize) -> Self {
        debug_assert!(shards.is_power_of_two());
        Index {
            shards: (0..shards).map(|_| RwLock::new(Shard::default())).collect(),
            mask: shards as u64 - 1,
        }
    }

    fn shard(&self, id: u64) -> &RwLock<Shard<F>> {
        // The map hashes the same id with the same mixer; take the shard from other bits.
        &self.shards[((mix(id) >> 40) & self.mask) as usize]
    }

    /// The newest version at or before `at`, if any (a deletion is returned as such).
    pub(crate) fn visible(&self, id: u64, at: u64) -> Option<Version<F>> {
        self.shard(id).read().get(&id)?.visible(at).cloned()
    }

    /// Like [`Index::visible`] with `at` read inside the shard lock, so a concurrent prune
    /// cannot remove the version that `at` needs.
    pub(crate) fn visible_now(&self, id: u64, at: impl Fn() -> u64) -> Option<Version<F>> {
        let shard = self.shard(id).read();
        shard.get(&id)?.visible(at()).cloned()
    }

    /// The newest version, visible or not: `(version, is_live)`.
    pub(crate) fn head(&self, id: u64) -> Option<(u64, bool)> {
        self.shard(id)
            .read()
            .get(&id)
            .map(|e| (e.head.version, e.head.loc.is_some()))
    }

    /// Installs a new head version, keeping older ones that readers at `oldest` or later
    /// can still see.
    pub(crate) fn apply(&self, id: u64, new: Version<F>, oldest: u64) -> Applied {
        let mut shard = self.shard(id).write();
        let mut out = Applied::default();
        match shard.get_mut(&id) {
            None => {
                let entry = Entry {
                    head: new,
                    older: None,
                };
                out.needs_gc = entry.head.loc.is_none();
                shard.insert(id, entry);
                out.entries_delta = 1;
            }
            Some(entry) => {
                let prev = std::mem::replace(&mut entry.head, new);
                out.prev_live = prev.loc.as_ref().map(|l| l.len);
                entry
                    .older
                    .get_or_insert_with(Default::default)
                    .insert(0, prev);
                out.versions_delta = 1;
                let (released, removable) = entry.prune(oldest);
                out.versions_delta -= released as i64;
                if removable {
                    shard.remove(&id);
                    out.entries_delta = -1;
                } else {
                    out.needs_gc = entry.older.is_some() || entry.head.loc.is_none();
                }
            }
        }
        out
    }

    /// Prunes one entry (after snapshots ended). Returns `(versions released, entry removed,
    /// still needs gc)`.
    pub(crate) fn prune(&self, id: u64, oldest: u64) -> (u64, bool, bool) {
        let mut shard = self.shard(id).write();
        let Some(entry) = shard.get_mut(&id) else {
            return (0, false, false);
        };
        let (released, removable) = entry.prune(oldest);
        if removable {
            shard.remove(&id);
            return (released, true, false);
        }
        let again = entry.older.is_some() || entry.head.loc.is_none();
        (released, false, again)
    }

    /// Recovery: installs `version` if it is at least as new as what is there (replay order
    /// across segments does not matter; versions decide).
    pub(crate) fn load(&self, id: u64, new: Version<F>) -> Option<Option<u32>> {
        let mut shard = self.shard(id).write();
        match shard.get_mut(&id) {
            Some(e) if e.head.version > new.version => None,
            Some(e) => {
                let prev = std::mem::replace(&mut e.head, new);
                Some(prev.loc.map(|l| l.len))
            }
            None => {
                shard.insert(
                    id,
                    Entry {
                        head: new,
                        older: None,
                    },
                );
                Some(None)
            }
        }
    }

    /// Recovery: removes deletion markers once every segment is replayed.
    pub(crate) fn drop_tombstones(&self) {
        for shard in self.shards.iter() {
            shard.write().retain(|_, e| e.head.loc.is_some());
        }
    }

    /// Documents visible at `at`, in ascending id order.
    pub(crate) fn scan(&self, at: u64) -> Vec<(u64, Location<F>)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.read();
            out.extend(
                shard
                    .iter()
                    .filter_map(|(id, e)| Some((*id, e.visible(at)?.loc.clone()?))),
            );
        }
        out.sort_unstable_by_key(|(id, _)| *id);
        out
    }

    /// Live heads: `(id, version, location)` of every current document.
    pub(crate) fn heads(
        &self,
        mut keep: impl FnMut(&Location<F>) -> bool,
    ) -> Vec<(u64, u64, Location<F>)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.read();
            for (id, e) in shard.iter() {
                if let Some(loc) = &e.head.loc {
                    if keep(loc) {
                        out.push((*id, e.head.version, loc.clone()));
                    }
                }
            }
        }
        out
    }

    /// Compaction: points the head at its rewritten copy if it is still `version`.
    pub(crate) fn relocate(&self, id: u64, version: u64, loc: Location<F>) -> bool {
        let mut shard = self.shard(id).write();
        match shard.get_mut(&id) {
            Some(e) if e.head.version == version && e.head.loc.is_some() => {
                e.head.loc = Some(loc);
                true
            }
            _ => false,
        }
    }

    /// Number of map entries (live or deletion markers), for memory accounting.
    pub(crate) fn entry_count(&self) -> u64 {
        self.shards.iter().map(|s| s.read().len() as u64).sum()
    }
}

impl<F: FileSystem> Index<F> {
    /// Calls `f(id, version, location)` for every live head, without cloning locations.
    pub(crate) fn for_each_head(&self, mut f: impl FnMut(u64, u64, &Location<F>)) {
        for shard in self.shards.iter() {
            let shard = shard.read();
            for (id, e) in shard.iter() {
                if let Some(loc) = &e.head.loc {
                    f(*id, e.head.version, loc);
                }
            }
        }
    }
}

impl<F: FileSystem> Index<F> {
    /// Calls `f(id)` for every document visible at `at`.
    pub(crate) fn for_each_visible(&self, at: u64, mut f: impl FnMut(u64)) {
        for shard in self.shards.iter() {
            let shard = shard.read();
            for (id, e) in shard.iter() {
                if e.visible(at).is_some_and(|v| v.loc.is_some()) {
                    f(*id);
                }
            }
        }
    }
}
