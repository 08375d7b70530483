//! The sharded in-memory index: document id -> location and version, plus the older
//! versions that live snapshots may still read (MVCC).
//!
//! Each shard is an ordered map ([`crate::heads`]) behind its own `parking_lot::RwLock`; a
//! lookup holds a shard's read lock only long enough to copy a location out, so readers
//! never wait on disk I/O of writers, and writers never wait on readers' I/O. Shards are
//! chosen by a hash of the id, so a range of ids is a merge of the shards
//! ([`crate::id_stream`]).
//!
//! Memory is the index's budget (at most 64 bytes per document, measured by `make bench`), so a
//! document's head is a 28-byte entry of 4-byte words next to its 8-byte id: version, segment
//! number, offset and length, with no padding and no pointer. The segment number indexes a
//! [`SegmentTable`] shared by the shards. Older versions, needed only while a snapshot may
//! read them, live in a small side map of their shard.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::fs::FileSystem;
use crate::heads::HeadMap;
use crate::log::segment::{Segment, UNREGISTERED};

/// Memory charged for each index entry: its 28 bytes in a chunk at the lowest fill a split
/// leaves (half full: 56 bytes), plus its share of the chunk's bookkeeping, rounded up.
/// The typical real cost is 29 to 40 bytes. Documented in `docs/architecture.md`.
pub(crate) const ENTRY_BYTES: u64 = 72;
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

/// Segment number of a deletion marker (no location).
const DELETED: u32 = u32::MAX;

/// The newest version of a document, packed (20 bytes): see the module comment.
#[derive(Clone, Copy)]
struct Head {
    version: [u32; 2],
    segment: u32,
    offset: u32,
    len: u32,
}

impl Head {
    fn version(&self) -> u64 {
        u64::from(self.version[0]) | (u64::from(self.version[1]) << 32)
    }

    fn is_live(&self) -> bool {
        self.segment != DELETED
    }
}

/// The open segments that heads point into, by number. Numbers of retired segments are
/// reused, so the table stays as small as the log.
struct SegmentTable<F: FileSystem> {
    slots: Vec<Option<Arc<Segment<F>>>>,
    free: Vec<u32>,
}

impl<F: FileSystem> SegmentTable<F> {
    fn get(&self, number: u32) -> &Arc<Segment<F>> {
        self.slots
            .get(number as usize)
            .and_then(Option::as_ref)
            .expect("a head's segment stays in the table until compaction moved every head out")
    }
}

/// The shard of a document's id.
struct Shard<F: FileSystem> {
    /// Newest versions, ordered by id.
    heads: HeadMap<Head>,
    /// Older versions, newest first, of the documents that have any.
    older: HashMap<u64, Vec<Version<F>>, BuildHasherDefault<IdHasher>>,
}

impl<F: FileSystem> Default for Shard<F> {
    fn default() -> Self {
        Shard {
            heads: HeadMap::default(),
            older: HashMap::default(),
        }
    }
}

impl<F: FileSystem> Shard<F> {
    /// Drops `id`'s versions that no reader at `oldest` or later can see. Returns how many
    /// older versions were released and whether the whole entry can go.
    fn prune(&mut self, id: u64, head: Head, oldest: u64) -> (u64, bool) {
        let mut released = 0;
        if let Some(older) = self.older.get_mut(&id) {
            let keep = if head.version() <= oldest {
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
                self.older.remove(&id);
            }
        }
        let removable =
            !self.older.contains_key(&id) && !head.is_live() && head.version() <= oldest;
        (released, removable)
    }

    /// Whether `id`, whose newest version is `head`, is a document at `at`.
    fn is_visible(&self, id: u64, head: &Head, at: u64) -> bool {
        if head.version() <= at {
            head.is_live()
        } else {
            self.older_at(id, at).is_some_and(|v| v.loc.is_some())
        }
    }

    /// The newest of `id`'s older versions at or before `at`.
    fn older_at(&self, id: u64, at: u64) -> Option<&Version<F>> {
        self.older.get(&id)?.iter().find(|v| v.version <= at)
    }

    /// Whether `id` still holds older versions or a deletion marker.
    fn needs_gc(&self, id: u64, head: Head) -> bool {
        !head.is_live() || self.older.contains_key(&id)
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

pub(crate) struct Index<F: FileSystem> {
    shards: Box<[RwLock<Shard<F>>]>,
    mask: u64,
    /// Taken after a shard lock, never before: a head's segment is resolved while its shard
    /// is still locked, so compaction cannot move the head and retire the segment between.
    segments: RwLock<SegmentTable<F>>,
}

impl<F: FileSystem> Index<F> {
    pub(crate) fn new(shards: usize) -> Self {
        debug_assert!(shards.is_power_of_two());
        Index {
            shards: (0..shards).map(|_| RwLock::new(Shard::default())).collect(),
            mask: shards as u64 - 1,
            segments: RwLock::new(SegmentTable {
                slots: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    fn shard(&self, id: u64) -> &RwLock<Shard<F>> {
        // The map hashes the same id with the same mixer; take the shard from other bits.
        &self.shards[((mix(id) >> 40) & self.mask) as usize]
    }

    /// The segment's number in the table, registering it on first use.
    fn number(&self, segment: &Arc<Segment<F>>) -> u32 {
        let n = segment.index_slot.load(Ordering::Acquire);
        if n != UNREGISTERED {
            return n;
        }
        let mut table = self.segments.write();
        // Registered meanwhile by another committer?
        let n = segment.index_slot.load(Ordering::Acquire);
        if n != UNREGISTERED {
            return n;
        }
        let n = match table.free.pop() {
            Some(n) => {
                table.slots[n as usize] = Some(Arc::clone(segment));
                n
            }
            None => {
                table.slots.push(Some(Arc::clone(segment)));
                u32::try_from(table.slots.len() - 1)
                    .ok()
                    .filter(|&n| n != DELETED)
                    .expect("fewer than 2^32 - 1 open segments")
            }
        };
        segment.index_slot.store(n, Ordering::Release);
        n
    }

    /// Compaction: `segment` is out of the log and no head points into it any more; older
    /// versions that still do hold their own reference.
    pub(crate) fn retire(&self, segment: &Segment<F>) {
        let n = segment.index_slot.swap(UNREGISTERED, Ordering::AcqRel);
        if n == UNREGISTERED {
            return;
        }
        let mut table = self.segments.write();
        if let Some(slot) = table.slots.get_mut(n as usize) {
            *slot = None;
            table.free.push(n);
        }
    }

    fn pack(&self, v: &Version<F>) -> Head {
        let version = [v.version as u32, (v.version >> 32) as u32];
        match &v.loc {
            Some(loc) => Head {
                version,
                segment: self.number(&loc.segment),
                offset: loc.offset,
                len: loc.len,
            },
            None => Head {
                version,
                segment: DELETED,
                offset: 0,
                len: 0,
            },
        }
    }

    fn location(table: &SegmentTable<F>, head: &Head) -> Option<Location<F>> {
        head.is_live().then(|| Location {
            segment: Arc::clone(table.get(head.segment)),
            offset: head.offset,
            len: head.len,
        })
    }

    fn unpack(&self, head: &Head) -> Version<F> {
        Version {
            version: head.version(),
            loc: head
                .is_live()
                .then(|| Self::location(&self.segments.read(), head))
                .flatten(),
        }
    }

    fn visible_in(&self, shard: &Shard<F>, id: u64, at: u64) -> Option<Version<F>> {
        let head = shard.heads.get(id)?;
        if head.version() <= at {
            return Some(self.unpack(head));
        }
        shard.older_at(id, at).cloned()
    }

    /// The newest version at or before `at`, if any (a deletion is returned as such).
    pub(crate) fn visible(&self, id: u64, at: u64) -> Option<Version<F>> {
        self.visible_in(&self.shard(id).read(), id, at)
    }

    /// Like [`Index::visible`] with `at` read inside the shard lock, so a concurrent prune
    /// cannot remove the version that `at` needs.
    pub(crate) fn visible_now(&self, id: u64, at: impl Fn() -> u64) -> Option<Version<F>> {
        let shard = self.shard(id).read();
        self.visible_in(&shard, id, at())
    }

    /// The newest version, visible or not: `(version, is_live)`.
    pub(crate) fn head(&self, id: u64) -> Option<(u64, bool)> {
        self.shard(id)
            .read()
            .heads
            .get(id)
            .map(|h| (h.version(), h.is_live()))
    }

    /// Installs a new head version, keeping older ones that readers at `oldest` or later
    /// can still see.
    pub(crate) fn apply(&self, id: u64, new: Version<F>, oldest: u64) -> Applied {
        let new = self.pack(&new);
        let mut shard = self.shard(id).write();
        let mut out = Applied::default();
        let Some(head) = shard.heads.get_mut(id) else {
            shard.heads.insert(id, new);
            out.entries_delta = 1;
            out.needs_gc = !new.is_live();
            return out;
        };
        let prev = std::mem::replace(head, new);
        out.prev_live = prev.is_live().then_some(prev.len);
        let prev = self.unpack(&prev);
        shard.older.entry(id).or_default().insert(0, prev);
        out.versions_delta = 1;
        let (released, removable) = shard.prune(id, new, oldest);
        out.versions_delta -= released as i64;
        if removable {
            shard.heads.remove(id);
            out.entries_delta = -1;
        } else {
            out.needs_gc = shard.needs_gc(id, new);
        }
        out
    }

    /// Prunes one entry (after snapshots ended). Returns `(versions released, entry removed,
    /// still needs gc)`.
    pub(crate) fn prune(&self, id: u64, oldest: u64) -> (u64, bool, bool) {
        let mut shard = self.shard(id).write();
        let Some(&head) = shard.heads.get(id) else {
            return (0, false, false);
        };
        let (released, removable) = shard.prune(id, head, oldest);
        if removable {
            shard.heads.remove(id);
            return (released, true, false);
        }
        (released, false, shard.needs_gc(id, head))
    }

    /// Recovery: installs `version` if it is at least as new as what is there (replay order
    /// across segments does not matter; versions decide).
    pub(crate) fn load(&self, id: u64, new: Version<F>) {
        let new = self.pack(&new);
        let mut shard = self.shard(id).write();
        match shard.heads.get_mut(id) {
            Some(h) if h.version() > new.version() => {}
            Some(h) => *h = new,
            None => {
                shard.heads.insert(id, new);
            }
        }
    }

    /// Recovery: removes deletion markers once every segment is replayed.
    pub(crate) fn drop_tombstones(&self) {
        for shard in self.shards.iter() {
            shard.write().heads.retain(|_, h| h.is_live());
        }
    }

    /// Number of shards, for walks that visit each ([`crate::id_stream`]).
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Appends to `out` at most `max` documents of shard `shard` visible at `at` with ids in
    /// `lo..=hi`, ascending or (`reverse`) descending. Returns whether the shard may hold
    /// more of them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn shard_range(
        &self,
        shard: usize,
        at: u64,
        (lo, hi): (u64, u64),
        reverse: bool,
        max: usize,
        out: &mut Vec<(u64, Location<F>)>,
    ) -> bool {
        let shard = self.shards[shard].read();
        let table = self.segments.read();
        let mut taken = 0;
        shard.heads.walk(lo, hi, reverse, |id, head| {
            if taken == max {
                return ControlFlow::Break(());
            }
            let loc = if head.version() <= at {
                Self::location(&table, head)
            } else {
                shard.older_at(id, at).and_then(|v| v.loc.clone())
            };
            if let Some(loc) = loc {
                out.push((id, loc));
                taken += 1;
            }
            ControlFlow::Continue(())
        });
        taken == max
    }

    /// Every document visible at `at`, in the order of the log (segment, then offset).
    pub(crate) fn storage_order(&self, at: u64) -> Vec<(u64, Location<F>)> {
        let mut out = Vec::new();
        for s in 0..self.shards.len() {
            self.shard_range(s, at, (0, u64::MAX), false, usize::MAX, &mut out);
        }
        out.sort_unstable_by_key(|(_, loc)| (loc.segment.seq, loc.offset));
        out
    }

    /// Number of documents visible at `at` with ids in `lo..=hi`, counting at most `max`.
    pub(crate) fn count(&self, at: u64, (lo, hi): (u64, u64), max: u64) -> u64 {
        let mut n = 0;
        for shard in self.shards.iter() {
            let shard = shard.read();
            shard.heads.walk(lo, hi, false, |id, head| {
                if n == max {
                    return ControlFlow::Break(());
                }
                if shard.is_visible(id, head, at) {
                    n += 1;
                }
                ControlFlow::Continue(())
            });
        }
        n
    }

    /// Calls `f(id, version, location)` for every live head.
    pub(crate) fn for_each_head(&self, mut f: impl FnMut(u64, u64, &Location<F>)) {
        for shard in self.shards.iter() {
            let shard = shard.read();
            let table = self.segments.read();
            shard.heads.for_each(|id, head| {
                if let Some(loc) = Self::location(&table, head) {
                    f(id, head.version(), &loc);
                }
            });
        }
    }

    /// Live heads: `(id, version, location)` of every current document.
    pub(crate) fn heads(
        &self,
        mut keep: impl FnMut(&Location<F>) -> bool,
    ) -> Vec<(u64, u64, Location<F>)> {
        let mut out = Vec::new();
        self.for_each_head(|id, version, loc| {
            if keep(loc) {
                out.push((id, version, loc.clone()));
            }
        });
        out
    }

    /// Compaction: points the head at its rewritten copy if it is still `version`.
    pub(crate) fn relocate(&self, id: u64, version: u64, loc: Location<F>) -> bool {
        let segment = self.number(&loc.segment);
        let mut shard = self.shard(id).write();
        match shard.heads.get_mut(id) {
            Some(h) if h.version() == version && h.is_live() => {
                h.segment = segment;
                h.offset = loc.offset;
                h.len = loc.len;
                true
            }
            _ => false,
        }
    }

    /// Number of map entries (live or deletion markers), for memory accounting.
    pub(crate) fn entry_count(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.read().heads.len() as u64)
            .sum()
    }

    /// Calls `f(id)` for every document visible at `at`.
    pub(crate) fn for_each_visible(&self, at: u64, mut f: impl FnMut(u64)) {
        for shard in self.shards.iter() {
            let shard = shard.read();
            shard.heads.for_each(|id, head| {
                if shard.is_visible(id, head, at) {
                    f(id);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_20_bytes() {
        // The memory target rests on this: 28 bytes per entry with its 8-byte id.
        assert_eq!(std::mem::size_of::<Head>(), 20);
    }

    #[test]
    fn versions_round_trip() {
        for id in [0, 1, u64::from(u32::MAX), 1 << 32, u64::MAX - 1, u64::MAX] {
            let head = Head {
                version: [id as u32, (id >> 32) as u32],
                segment: 0,
                offset: 0,
                len: 0,
            };
            assert_eq!(head.version(), id);
        }
    }
}
