//! An ordered map from document id to a small `Copy` value, kept in sorted chunks.
//!
//! The index needs point lookups, ordered walks from any id in either direction (ranges,
//! keyset pages) and a small, predictable memory cost per entry, with no large
//! reallocation when it grows. A chunk is a sorted array of at most [`CHUNK`] entries;
//! chunks are found by a binary search over the lowest id each may hold. An entry costs its own
//! bytes at 50 to 100 % fill (appends in ascending order fill chunks completely, inserts
//! elsewhere split a full chunk in halves), and [`HeadMap::retain`] fills every chunk
//! after recovery.

use std::ops::ControlFlow;

/// Entries per chunk: a binary search over 64 entries touches a few cache lines, and a
/// split moves at most half a chunk.
pub(crate) const CHUNK: usize = 64;

/// A sorted run of at most [`CHUNK`] entries: ids apart from values, so that a binary
/// search reads 512 contiguous bytes.
struct Chunk<V> {
    ids: Vec<u64>,
    values: Vec<V>,
}

impl<V: Copy> Chunk<V> {
    fn new() -> Self {
        Chunk {
            ids: Vec::with_capacity(CHUNK),
            values: Vec::with_capacity(CHUNK),
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn position(&self, id: u64) -> Result<usize, usize> {
        self.ids.binary_search(&id)
    }

    fn insert(&mut self, at: usize, id: u64, value: V) {
        self.ids.insert(at, id);
        self.values.insert(at, value);
    }

    fn remove(&mut self, at: usize) -> V {
        self.ids.remove(at);
        self.values.remove(at)
    }

    /// Moves the entries from `at` on into a new chunk.
    fn split_off(&mut self, at: usize) -> Self {
        let mut right = Chunk::new();
        right.ids.extend(self.ids.drain(at..));
        right.values.extend(self.values.drain(at..));
        right
    }

    fn append(&mut self, other: &Chunk<V>) {
        self.ids.extend_from_slice(&other.ids);
        self.values.extend_from_slice(&other.values);
    }
}

/// The map. Invariant: it is empty, or `keys[0]` is 0; chunk `i` holds the ids from
/// `keys[i]` up to `keys[i + 1]`, sorted; only chunk 0 may be empty.
pub(crate) struct HeadMap<V: Copy> {
    /// The lowest id each chunk may hold, ascending: a binary search finds an id's chunk.
    keys: Vec<u64>,
    chunks: Vec<Chunk<V>>,
    len: usize,
}

impl<V: Copy> Default for HeadMap<V> {
    fn default() -> Self {
        HeadMap {
            keys: Vec::new(),
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<V: Copy> HeadMap<V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The index of the chunk that holds `id` if anything does.
    fn chunk_of(&self, id: u64) -> Option<usize> {
        self.keys.partition_point(|&k| k <= id).checked_sub(1)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&V> {
        let chunk = &self.chunks[self.chunk_of(id)?];
        chunk.position(id).ok().map(|i| &chunk.values[i])
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        let c = self.chunk_of(id)?;
        let chunk = &mut self.chunks[c];
        let i = chunk.position(id).ok()?;
        Some(&mut chunk.values[i])
    }

    /// Inserts or replaces `id`'s value.
    pub(crate) fn insert(&mut self, id: u64, value: V) {
        let Some(c) = self.chunk_of(id) else {
            let mut first = Chunk::new();
            first.insert(0, id, value);
            self.keys.push(0);
            self.chunks.push(first);
            self.len = 1;
            return;
        };
        let last = c + 1 == self.chunks.len();
        let chunk = &mut self.chunks[c];
        let at = match chunk.position(id) {
            Ok(i) => {
                chunk.values[i] = value;
                return;
            }
            Err(at) => at,
        };
        self.len += 1;
        if chunk.len() < CHUNK {
            chunk.insert(at, id, value);
            return;
        }
        if at == CHUNK && last {
            // Appending past the highest id: start a new chunk, leaving this one full.
            let mut next = Chunk::new();
            next.insert(0, id, value);
            self.keys.push(id);
            self.chunks.push(next);
            return;
        }
        let mut right = chunk.split_off(CHUNK / 2);
        let split = right.ids[0];
        if id < split {
            chunk.insert(at, id, value);
        } else {
            right.insert(at - CHUNK / 2, id, value);
        }
        self.keys.insert(c + 1, split);
        self.chunks.insert(c + 1, right);
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<V> {
        let c = self.chunk_of(id)?;
        let chunk = &mut self.chunks[c];
        let i = chunk.position(id).ok()?;
        let value = chunk.remove(i);
        self.len -= 1;
        if chunk.len() < CHUNK / 4 {
            self.merge_around(c);
        }
        Some(value)
    }

    /// Merges the sparse chunk `c` with a neighbour when both fit in one chunk, so that
    /// deletions cannot leave many nearly empty chunks behind.
    fn merge_around(&mut self, c: usize) {
        let lower = if c == 0 { 0 } else { c - 1 };
        let upper = lower + 1;
        if upper >= self.chunks.len() || self.chunks[lower].len() + self.chunks[upper].len() > CHUNK
        {
            return;
        }
        let moved = self.chunks.remove(upper);
        self.keys.remove(upper);
        self.chunks[lower].append(&moved);
    }

    /// Keeps the entries for which `keep` is true, and rewrites the chunks full: recovery
    /// calls it once the map is built (its inserts came in any order), releasing the room
    /// of half-full chunks.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u64, &V) -> bool) {
        let old = std::mem::take(&mut self.chunks);
        self.keys.clear();
        self.len = 0;
        let mut current = Chunk::new();
        for chunk in old {
            for (&id, value) in chunk.ids.iter().zip(&chunk.values) {
                if !keep(id, value) {
                    continue;
                }
                if current.len() == CHUNK {
                    self.keys.push(if self.keys.is_empty() {
                        0
                    } else {
                        current.ids[0]
                    });
                    self.chunks
                        .push(std::mem::replace(&mut current, Chunk::new()));
                }
                current.ids.push(id);
                current.values.push(*value);
                self.len += 1;
            }
        }
        if self.len > 0 {
            self.keys.push(if self.keys.is_empty() {
                0
            } else {
                current.ids[0]
            });
            self.chunks.push(current);
        }
    }

    /// Calls `f(id, value)` for every entry, ascending.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, &V)) {
        for chunk in &self.chunks {
            for (&id, v) in chunk.ids.iter().zip(&chunk.values) {
                f(id, v);
            }
        }
    }

    /// Calls `f(id, value)` for the entries with ids in `lo..=hi`, ascending or (`reverse`)
    /// descending, until `f` breaks. Finding the first entry costs two binary searches,
    /// whatever the map's size.
    pub(crate) fn walk(
        &self,
        lo: u64,
        hi: u64,
        reverse: bool,
        mut f: impl FnMut(u64, &V) -> ControlFlow<()>,
    ) {
        if lo > hi {
            return;
        }
        if reverse {
            let Some(start) = self.chunk_of(hi) else {
                return;
            };
            for chunk in self.chunks[..=start].iter().rev() {
                let end = chunk.ids.partition_point(|&id| id <= hi);
                for i in (0..end).rev() {
                    let id = chunk.ids[i];
                    if id < lo || f(id, &chunk.values[i]).is_break() {
                        return;
                    }
                }
            }
        } else {
            let start = self.chunk_of(lo).unwrap_or(0);
            for chunk in self.chunks.iter().skip(start) {
                let begin = chunk.ids.partition_point(|&id| id < lo);
                for i in begin..chunk.len() {
                    let id = chunk.ids[i];
                    if id > hi || f(id, &chunk.values[i]).is_break() {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_invariants(map: &HeadMap<u32>) {
        let mut n = 0;
        let mut prev: Option<u64> = None;
        assert_eq!(map.keys.len(), map.chunks.len());
        if !map.keys.is_empty() {
            assert_eq!(map.keys[0], 0);
        }
        for (i, chunk) in map.chunks.iter().enumerate() {
            assert!(chunk.len() <= CHUNK);
            assert_eq!(chunk.ids.len(), chunk.values.len());
            assert!(i == 0 || chunk.len() > 0);
            for &id in &chunk.ids {
                assert!(id >= map.keys[i]);
                if let Some(&next) = map.keys.get(i + 1) {
                    assert!(id < next);
                }
                assert!(prev.is_none_or(|p| p < id));
                prev = Some(id);
                n += 1;
            }
        }
        assert_eq!(n, map.len());
    }

    #[test]
    fn ascending_appends_fill_chunks() {
        let mut map = HeadMap::default();
        for id in 0..(CHUNK as u64 * 10) {
            map.insert(id, id as u32);
        }
        check_invariants(&map);
        assert_eq!(map.chunks.len(), 10);
        assert!(map.chunks.iter().all(|c| c.len() == CHUNK));
    }

    proptest! {
        #[test]
        fn matches_a_btreemap(
            ops in proptest::collection::vec((0u8..4, 0u64..600), 1..3000),
            walks in proptest::collection::vec((0u64..650, 0u64..650, any::<bool>(), 1usize..80), 1..20),
        ) {
            let mut map = HeadMap::default();
            let mut model = std::collections::BTreeMap::new();
            for (op, id) in ops {
                // Spread the ids so that extreme ids are exercised too.
                let id = if id == 599 { u64::MAX } else { id * 3 };
                match op {
                    0 | 1 => {
                        map.insert(id, id as u32 ^ 7);
                        model.insert(id, id as u32 ^ 7);
                    }
                    2 => prop_assert_eq!(map.remove(id), model.remove(&id)),
                    _ => {
                        if let Some(v) = map.get_mut(id) {
                            *v += 1;
                        }
                        if let Some(v) = model.get_mut(&id) {
                            *v += 1;
                        }
                    }
                }
                prop_assert_eq!(map.get(id), model.get(&id));
            }
            check_invariants(&map);
            for (lo, hi, reverse, take) in walks {
                let (lo, hi) = (lo * 3, hi * 3);
                let mut got = Vec::new();
                map.walk(lo, hi, reverse, |id, v| {
                    got.push((id, *v));
                    if got.len() == take { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                });
                let mut want: Vec<(u64, u32)> = if lo <= hi {
                    model.range(lo..=hi).map(|(&k, &v)| (k, v)).collect()
                } else {
                    Vec::new()
                };
                if reverse {
                    want.reverse();
                }
                want.truncate(take);
                prop_assert_eq!(got, want);
            }
            map.retain(|id, _| id % 2 == 0);
            model.retain(|id, _| id % 2 == 0);
            check_invariants(&map);
            let mut all = Vec::new();
            map.for_each(|id, v| all.push((id, *v)));
            prop_assert_eq!(all, model.into_iter().collect::<Vec<_>>());
        }
    }
}
