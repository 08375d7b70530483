//! Read-only snapshots: a fixed read version, registered so the versions it needs are kept.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use crate::db::Database;
use crate::error::Result;
use crate::fs::{FileSystem, OsFs};
use crate::id_stream::IdStream;
use crate::index::Location;
use crate::log::record::HEADER_LEN;
use crate::log::segment::Segment;
use crate::range::IdRange;

/// Registration of a read version; unregistered (and old versions pruned) on drop.
pub(crate) struct ReadGuard<F: FileSystem> {
    pub db: Database<F>,
    pub at: u64,
}

impl<F: FileSystem> ReadGuard<F> {
    pub(crate) fn new(db: Database<F>) -> Self {
        let at = db.core.register_reader();
        ReadGuard { db, at }
    }

    pub(crate) fn read(&self, id: u64) -> Result<Vec<u8>> {
        self.db.core.check_open()?;
        let found = self.db.core.index().visible(id, self.at);
        self.db.core.read_located(id, found)
    }

    /// A cursor over the documents of `range` visible to this reader.
    pub(crate) fn cursor(&self, range: &IdRange) -> Result<Cursor<F>> {
        self.db.core.check_open()?;
        Ok(Cursor::new(IdStream::new(
            self.db.core.index(),
            self.at,
            range,
        )))
    }

    pub(crate) fn contains(&self, id: u64) -> Result<bool> {
        self.db.core.check_open()?;
        Ok(self
            .db
            .core
            .index()
            .visible(id, self.at)
            .is_some_and(|v| v.loc.is_some()))
    }
}

impl<F: FileSystem> Clone for ReadGuard<F> {
    fn clone(&self) -> Self {
        self.db.core.register_reader_again(self.at);
        ReadGuard {
            db: self.db.clone(),
            at: self.at,
        }
    }
}

impl<F: FileSystem> Drop for ReadGuard<F> {
    fn drop(&mut self) {
        self.db.core.unregister_reader(self.at);
    }
}

/// A consistent, read-only view of a database at one moment. Writers are never blocked by
/// it; it keeps the versions it can see alive (in memory and on disk) until dropped, so
/// keep snapshots short-lived. A clone reads at the same version (and keeps it alive too),
/// so `snapshot.clone().into_scan()` gives an owned scan while the snapshot stays usable.
pub struct Snapshot<F: FileSystem = OsFs> {
    guard: ReadGuard<F>,
}

impl<F: FileSystem> Clone for Snapshot<F> {
    fn clone(&self) -> Self {
        Snapshot {
            guard: self.guard.clone(),
        }
    }
}

impl<F: FileSystem> Snapshot<F> {
    pub(crate) fn new(db: Database<F>) -> Self {
        Snapshot {
            guard: ReadGuard::new(db),
        }
    }

    /// The commit version this snapshot reads at.
    pub fn version(&self) -> u64 {
        self.guard.at
    }

    /// Reads a document as of the snapshot. `NotFound` if it did not exist then.
    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        self.guard.read(id)
    }

    /// Whether a document existed as of the snapshot.
    pub fn contains(&self, id: u64) -> Result<bool> {
        self.guard.contains(id)
    }

    /// Iterates over every document of the snapshot in ascending id order; each document is
    /// read and verified as the iterator reaches it.
    pub fn scan(&self) -> Result<Scan<'_, F>> {
        self.range(&IdRange::all())
    }

    /// Iterates over the documents of `range`, in its order, up to its limit; each document
    /// is read and verified as the iterator reaches it.
    pub fn range(&self, range: &IdRange) -> Result<Scan<'_, F>> {
        Ok(Scan {
            snapshot: self,
            cursor: self.guard.cursor(range)?,
        })
    }

    /// Calls `f(id, bytes)` for every document of the snapshot in ascending id order,
    /// lending each document's verified bytes instead of copying them as [`Snapshot::scan`]
    /// does. Stops early when `f` returns [`ControlFlow::Break`]; a read error ends the walk
    /// and is returned.
    pub fn for_each(&self, f: impl FnMut(u64, &[u8]) -> ControlFlow<()>) -> Result<()> {
        self.for_each_in(&IdRange::all(), f)
    }

    /// [`Snapshot::for_each`] over the documents of `range`, in its order.
    pub fn for_each_in(
        &self,
        range: &IdRange,
        mut f: impl FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<()> {
        let mut cursor = self.guard.cursor(range)?;
        while let Some(step) = cursor.step_with(&self.guard, &mut f) {
            if step?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Calls `f(id, bytes)` for every document of the snapshot once, in the order they lie
    /// on disk, not by id: the fastest way to read everything when the order does not
    /// matter (after inserts in random id order, a scan by id reads the disk at random).
    /// Takes the list of documents first (about 32 bytes each). Stops early when `f`
    /// returns [`ControlFlow::Break`]; a read error ends the walk and is returned.
    pub fn for_each_unordered(
        &self,
        mut f: impl FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<()> {
        self.guard.db.core.check_open()?;
        let mut cursor = Cursor {
            stream: None,
            items: self
                .guard
                .db
                .core
                .index()
                .storage_order(self.guard.at)
                .into(),
            spans: Vec::with_capacity(SPANS),
        };
        while let Some(step) = cursor.step_with(&self.guard, &mut f) {
            if step?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Number of documents of `range` (up to its limit); no document is read.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        self.guard.db.core.check_open()?;
        let Some(bounds) = range.inclusive() else {
            return Ok(0);
        };
        let max = range.limit.unwrap_or(u64::MAX);
        Ok(self.guard.db.core.index().count(self.guard.at, bounds, max))
    }

    /// Number of documents in the snapshot.
    pub fn len(&self) -> Result<u64> {
        self.guard.db.core.check_open()?;
        let mut n = 0;
        self.guard
            .db
            .core
            .index()
            .for_each_visible(self.guard.at, |_| n += 1);
        Ok(n)
    }

    /// Whether the snapshot holds no documents.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Ids of every document in the snapshot, ascending (no document is read).
    pub fn ids(&self) -> Result<Vec<u64>> {
        self.guard.db.core.check_open()?;
        let mut ids = Vec::new();
        self.guard
            .db
            .core
            .index()
            .for_each_visible(self.guard.at, |id| ids.push(id));
        ids.sort_unstable();
        Ok(ids)
    }
}

impl<F: FileSystem> std::fmt::Debug for Snapshot<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.guard.at)
            .finish()
    }
}

/// Iterator over `(id, bytes)` of a [`Snapshot`], ascending by id.
pub struct Scan<'a, F: FileSystem = OsFs> {
    snapshot: &'a Snapshot<F>,
    cursor: Cursor<F>,
}

impl<F: FileSystem> Iterator for Scan<'_, F> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.cursor.step(&self.snapshot.guard)
    }
}

/// An owned scan, for bindings that cannot hold a borrow: iterate with `next()`.
pub struct OwnedScan<F: FileSystem = OsFs> {
    guard: ReadGuard<F>,
    cursor: Cursor<F>,
}

impl<F: FileSystem> Snapshot<F> {
    /// Like [`Snapshot::scan`] but consumes the snapshot, so the iterator owns it.
    pub fn into_scan(self) -> Result<OwnedScan<F>> {
        self.into_range(&IdRange::all())
    }

    /// Like [`Snapshot::range`] but consumes the snapshot, so the iterator owns it.
    pub fn into_range(self, range: &IdRange) -> Result<OwnedScan<F>> {
        let cursor = self.guard.cursor(range)?;
        Ok(OwnedScan {
            guard: self.guard,
            cursor,
        })
    }
}

impl<F: FileSystem> Iterator for OwnedScan<F> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.cursor.step(&self.guard)
    }
}

/// A scan reads up to this many bytes with one `pread` when the documents coming next (in
/// id order) lie in that span of the same segment: a scan of documents written in id order
/// then costs a system call per 256 KiB instead of one per document. Dead records and other
/// documents in between are read over. Each record is still verified on its own.
const READ_AHEAD: u64 = 256 << 10;
/// How many upcoming documents a read looks at to size its span.
const LOOK_AHEAD: usize = 64;
/// The most bytes of records not wanted next that one read reads over.
const MAX_GAP: u64 = 8 << 10;
/// Spans kept at once, one per segment: after random updates, documents in id order
/// alternate between the segment of the bulk load and those of the updates.
const SPANS: usize = 4;

/// Bytes of a segment read ahead of the scan.
struct Span<F: FileSystem> {
    segment: std::sync::Arc<Segment<F>>,
    start: u64,
    bytes: Vec<u8>,
}

impl<F: FileSystem> Span<F> {
    fn covers(&self, loc: &Location<F>, framed: u64) -> bool {
        let offset = u64::from(loc.offset);
        std::sync::Arc::ptr_eq(&self.segment, &loc.segment)
            && offset >= self.start
            && offset + framed <= self.start + self.bytes.len() as u64
    }
}

/// The position of a scan: what is left to read, and bytes already read ahead.
pub(crate) struct Cursor<F: FileSystem> {
    /// Where documents in id order come from; `None` when `items` holds every document
    /// from the start (a scan in storage order).
    stream: Option<IdStream<F>>,
    /// The next documents, up to [`LOOK_AHEAD`] of them taken from `stream`.
    items: VecDeque<(u64, Location<F>)>,
    /// Most recently used first.
    spans: Vec<Span<F>>,
}

impl<F: FileSystem> Cursor<F> {
    fn new(stream: IdStream<F>) -> Self {
        Cursor {
            stream: Some(stream),
            items: VecDeque::with_capacity(LOOK_AHEAD),
            spans: Vec::with_capacity(SPANS),
        }
    }

    /// The end of one read starting at `loc`: it extends over the upcoming documents of
    /// the same segment, within [`READ_AHEAD`] bytes, while no more than [`MAX_GAP`] bytes
    /// of other records lie between them (a read must not fetch 256 KiB for one document).
    fn span_end(&self, loc: &Location<F>, framed: u64) -> u64 {
        let offset = u64::from(loc.offset);
        let mut next: Vec<(u64, u64)> = self
            .items
            .iter()
            .take(LOOK_AHEAD)
            .filter(|(_, n)| std::sync::Arc::ptr_eq(&n.segment, &loc.segment))
            .map(|(_, n)| {
                let start = u64::from(n.offset);
                (start, start + HEADER_LEN as u64 + u64::from(n.len))
            })
            .filter(|&(start, end)| start >= offset && end - offset <= READ_AHEAD)
            .collect();
        next.sort_unstable();
        let mut end = offset + framed;
        for (start, next_end) in next {
            if start > end + MAX_GAP {
                break;
            }
            end = end.max(next_end);
        }
        end
    }

    /// Tops up the documents looked ahead at.
    fn fill(&mut self, guard: &ReadGuard<F>) {
        let index = guard.db.core.index();
        while self.items.len() < LOOK_AHEAD {
            match self.stream.as_mut().and_then(|s| s.next(index)) {
                Some(item) => self.items.push_back(item),
                None => break,
            }
        }
    }

    /// The id of the next document, without reading it.
    pub(crate) fn peek_id(&mut self, guard: &ReadGuard<F>) -> Option<u64> {
        self.fill(guard);
        self.items.front().map(|(id, _)| *id)
    }

    /// Passes over the next document without reading it.
    pub(crate) fn skip(&mut self, guard: &ReadGuard<F>) {
        self.fill(guard);
        self.items.pop_front();
    }

    /// Reads the next document into an owned copy; after the database is closed, yields one
    /// `Closed`.
    pub(crate) fn step(&mut self, guard: &ReadGuard<F>) -> Option<Result<(u64, Vec<u8>)>> {
        self.step_with(guard, |id, p| (id, p.to_vec()))
    }

    /// Reads the next document and lends its verified bytes to `f`.
    fn step_with<R>(
        &mut self,
        guard: &ReadGuard<F>,
        f: impl FnOnce(u64, &[u8]) -> R,
    ) -> Option<Result<R>> {
        self.fill(guard);
        let (id, loc) = self.items.pop_front()?;
        if let Err(e) = guard.db.core.check_open() {
            self.items.clear();
            self.stream = None;
            return Some(Err(e));
        }
        let offset = u64::from(loc.offset);
        let framed = (HEADER_LEN + loc.len as usize) as u64;
        match self.spans.iter().position(|s| s.covers(&loc, framed)) {
            Some(i) => self.spans[..=i].rotate_right(1),
            None => {
                // The record cache only for a document read alone: a hit is a few random
                // memory accesses, while the next document of a span is a sequential copy
                // (measured slower with the cache), but a lone document costs a system call.
                let end = self.span_end(&loc, framed);
                if end == offset + framed {
                    if let Some(data) = guard.db.core.cached_copy(&loc) {
                        return Some(Ok(f(id, &data)));
                    }
                }
                let bytes = match loc.segment.read_span(offset, (end - offset) as usize) {
                    Ok(bytes) => bytes,
                    Err(e) => return Some(Err(e)),
                };
                self.spans.truncate(SPANS - 1);
                self.spans.insert(
                    0,
                    Span {
                        segment: std::sync::Arc::clone(&loc.segment),
                        start: offset,
                        bytes,
                    },
                );
            }
        }
        let span = &self.spans[0];
        let at = (offset - span.start) as usize;
        let record = &span.bytes[at..at + framed as usize];
        Some(
            loc.segment
                .payload_of(record, offset, id, loc.len)
                .map(|p| f(id, p)),
        )
    }
}
