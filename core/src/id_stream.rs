//! The documents of a range, in id order, as a merge of the index's shards.
//!
//! Each shard keeps its ids ordered ([`crate::heads`]), so a range is a k-way merge: every
//! shard is asked for a small batch from where it stopped, and a heap picks the next id.
//! Memory is a few batches per shard whatever the range's size, and starting a range
//! costs one ordered lookup per shard, whatever the number of documents.
//!
//! Batches are taken lazily while the snapshot is registered: a version visible at `at`
//! stays in the index until no reader at `at` remains, and later commits are invisible,
//! so batches taken at different times agree.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::fs::FileSystem;
use crate::index::{Index, Location};
use crate::range::IdRange;

/// The largest batch taken from one shard under its lock.
const MAX_BATCH: usize = 1024;

/// One shard's part of the merge.
struct ShardPart<F: FileSystem> {
    ready: VecDeque<(u64, Location<F>)>,
    /// The ids still to ask this shard for, `None` once it has given all.
    rest: Option<(u64, u64)>,
    batch: usize,
}

pub(crate) struct IdStream<F: FileSystem> {
    at: u64,
    reverse: bool,
    left: u64,
    parts: Vec<ShardPart<F>>,
    /// Next id of each shard that has one, as a sort key ascending in the range's order.
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    started: bool,
}

impl<F: FileSystem> IdStream<F> {
    pub(crate) fn new(index: &Index<F>, at: u64, range: &IdRange) -> Self {
        let bounds = range.inclusive();
        let shards = index.shard_count();
        // Enough for a short range's share of each shard without asking twice, small
        // enough not to copy thousands of locations for ten documents.
        let first_batch = range.limit.map_or(64, |l| {
            usize::try_from(l).unwrap_or(MAX_BATCH) / shards * 2 + 2
        });
        IdStream {
            at,
            reverse: range.reverse,
            left: if bounds.is_some() {
                range.limit.unwrap_or(u64::MAX)
            } else {
                0
            },
            parts: (0..shards)
                .map(|_| ShardPart {
                    ready: VecDeque::new(),
                    rest: bounds,
                    batch: first_batch.min(MAX_BATCH),
                })
                .collect(),
            heap: BinaryHeap::with_capacity(shards),
            started: false,
        }
    }

    fn key(&self, id: u64) -> u64 {
        if self.reverse {
            !id
        } else {
            id
        }
    }

    /// Takes the next batch of shard `s` and queues its first id in the heap.
    fn refill(&mut self, index: &Index<F>, s: usize) {
        let reverse = self.reverse;
        let part = &mut self.parts[s];
        let Some((lo, hi)) = part.rest else { return };
        let mut batch = Vec::with_capacity(part.batch);
        let more = index.shard_range(s, self.at, (lo, hi), reverse, part.batch, &mut batch);
        part.batch = (part.batch * 4).min(MAX_BATCH);
        part.rest = match batch.last() {
            Some(&(last, _)) if more => {
                if reverse {
                    last.checked_sub(1).map(|hi| (lo, hi))
                } else {
                    last.checked_add(1).map(|lo| (lo, hi))
                }
            }
            _ => None,
        }
        .filter(|(lo, hi)| lo <= hi);
        part.ready.extend(batch);
        if let Some(&(id, _)) = self.parts[s].ready.front() {
            let key = self.key(id);
            self.heap.push(Reverse((key, s)));
        }
    }

    /// The next document of the range: its id and where its visible version lies.
    pub(crate) fn next(&mut self, index: &Index<F>) -> Option<(u64, Location<F>)> {
        if self.left == 0 {
            return None;
        }
        if !self.started {
            self.started = true;
            for s in 0..self.parts.len() {
                self.refill(index, s);
            }
        }
        let Reverse((_, s)) = self.heap.pop()?;
        let item = self.parts[s].ready.pop_front()?;
        match self.parts[s].ready.front() {
            Some(&(id, _)) => {
                let key = self.key(id);
                self.heap.push(Reverse((key, s)));
            }
            None => self.refill(index, s),
        }
        self.left -= 1;
        Some(item)
    }
}
