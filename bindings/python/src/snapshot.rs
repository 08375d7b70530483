//! `docdb.Snapshot` and its iterator.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use docdb::IdRange;

use crate::convert::{detach, json_decode, DocId};
use crate::range::{id_range, Edge, Limit};

/// A read-only, consistent view of a database at one moment (its commit `version`).
///
/// Writers are never blocked by it, but it keeps the versions it sees alive, so close it
/// when done: use it as a context manager (`with db.snapshot() as snap:`) or call close().
/// Iterating yields `(doc_id, data)` pairs in ascending id order; `len(snap)` and
/// `doc_id in snap` work as for a Database. After close(), every call raises ClosedError.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct Snapshot {
    // The lock is held only to clone or take the Arc, never across an engine call; an
    // engine call in flight keeps its own clone, so close() never waits for it.
    inner: Mutex<Option<Arc<docdb::Snapshot>>>,
    version: u64,
    /// The scans of its iterators, each holding a clone of the snapshot: close() ends them,
    /// so that the versions they keep alive are released then, not at their next step.
    scans: Mutex<Vec<Weak<Mutex<Slot>>>>,
}

impl Snapshot {
    pub(crate) fn new(s: docdb::Snapshot) -> Self {
        Snapshot {
            version: s.version(),
            inner: Mutex::new(Some(Arc::new(s))),
            scans: Mutex::new(Vec::new()),
        }
    }

    /// An iterator over the snapshot's `(doc_id, data)` pairs, ascending by id.
    pub(crate) fn iterate(slf: Bound<'_, Self>) -> PyResult<SnapshotIterator> {
        Snapshot::iterate_range(slf, IdRange::all())
    }

    /// An iterator over the snapshot's `(doc_id, data)` pairs of `range`.
    fn iterate_range(slf: Bound<'_, Self>, range: IdRange) -> PyResult<SnapshotIterator> {
        let py = slf.py();
        let s = slf.get().get(py)?;
        let docs = detach(py, || docdb::Snapshot::clone(&s).into_range(&range))?;
        let it = SnapshotIterator::new(Some(slf.clone().unbind()), docs);
        let mut scans = slf.get().scans.lock();
        scans.retain(|w| w.strong_count() > 0);
        scans.push(Arc::downgrade(&it.docs));
        Ok(it)
    }

    fn get(&self, py: Python<'_>) -> PyResult<Arc<docdb::Snapshot>> {
        let snap = self.inner.lock().clone();
        match snap {
            Some(s) => Ok(s),
            None => Err(crate::error::to_pyerr(
                py,
                docdb::Error::Closed(format!("snapshot at version {}", self.version)),
            )),
        }
    }
}

#[pymethods]
impl Snapshot {
    /// The commit version this snapshot reads at. ClosedError after close(), as every
    /// other call (the same in every face).
    #[getter]
    fn version(&self, py: Python<'_>) -> PyResult<u64> {
        self.get(py).map(|_| self.version)
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.lock().is_none()
    }

    /// Reads a document as of the snapshot, as bytes. NotFoundError if it did not exist then.
    fn read<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyBytes>> {
        let s = self.get(py)?;
        let v = detach(py, || s.read(doc_id.0))?;
        Ok(PyBytes::new(py, &v))
    }

    /// Reads a document as of the snapshot and decodes it as JSON.
    fn read_json<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyAny>> {
        let s = self.get(py)?;
        let v = detach(py, || s.read(doc_id.0))?;
        json_decode(py, &v)
    }

    /// Whether a document existed as of the snapshot (the same as `doc_id in snap`).
    fn contains(&self, py: Python<'_>, doc_id: DocId) -> PyResult<bool> {
        let s = self.get(py)?;
        detach(py, || s.contains(doc_id.0))
    }

    /// The ids of every document of the snapshot, ascending (no document is read).
    fn ids(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        let s = self.get(py)?;
        detach(py, || s.ids())
    }

    /// Iterates over the `(doc_id, data)` pairs of ids `start <= id < stop` (open ends when
    /// None), ascending, or descending with `reverse=True`, at most `limit` of them. Each
    /// document is read as the iterator reaches it. Next page after `last`:
    /// `range(start=last + 1, limit=n)`; descending: `range(stop=last, reverse=True, limit=n)`.
    #[pyo3(signature = (start = None, stop = None, *, reverse = false, limit = None))]
    fn range(
        slf: Bound<'_, Self>,
        start: Option<Edge>,
        stop: Option<Edge>,
        reverse: bool,
        limit: Option<Limit>,
    ) -> PyResult<SnapshotIterator> {
        let range = id_range(slf.py(), start, stop, reverse, limit)?;
        Snapshot::iterate_range(slf, range)
    }

    /// Number of documents with ids `start <= id < stop` (at most `limit`); no document is
    /// read.
    #[pyo3(signature = (start = None, stop = None, *, limit = None))]
    fn count(
        &self,
        py: Python<'_>,
        start: Option<Edge>,
        stop: Option<Edge>,
        limit: Option<Limit>,
    ) -> PyResult<u64> {
        let range = id_range(py, start, stop, false, limit)?;
        let s = self.get(py)?;
        detach(py, || s.count(&range))
    }

    /// Releases the snapshot and the old versions it kept alive, its iterators' included
    /// (they raise ClosedError at their next step). Calling it again does nothing.
    fn close(&self, py: Python<'_>) {
        let taken = self.inner.lock().take();
        let scans = std::mem::take(&mut *self.scans.lock());
        // Dropping the last reference may prune old versions: do it without the GIL.
        py.detach(move || {
            drop(taken);
            for scan in scans.iter().filter_map(Weak::upgrade) {
                let mut slot = scan.lock();
                if let Slot::Open(_) = *slot {
                    *slot = Slot::Closed;
                }
            }
        });
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let s = self.get(py)?;
        let n = detach(py, || s.len())?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn __contains__(&self, py: Python<'_>, doc_id: DocId) -> PyResult<bool> {
        self.contains(py, doc_id)
    }

    /// Iterates over `(doc_id, data)` in ascending id order. The id list is taken now; each
    /// document is read as the iterator reaches it.
    fn __iter__(slf: Bound<'_, Self>) -> PyResult<SnapshotIterator> {
        Snapshot::iterate(slf)
    }

    /// The same as iterating the snapshot: `(doc_id, data)` pairs in ascending id order.
    fn items(slf: Bound<'_, Self>) -> PyResult<SnapshotIterator> {
        Snapshot::iterate(slf)
    }

    /// Returns the snapshot itself.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the snapshot; exceptions from the `with` block propagate.
    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) {
        let _ = (exc_type, exc_value, traceback);
        self.close(py);
    }

    fn __repr__(&self) -> String {
        format!(
            "docdb.Snapshot(version={}{})",
            self.version,
            if self.closed() { ", closed" } else { "" }
        )
    }
}

/// Where an iterator's scan is.
enum Slot {
    /// Running: the engine's scan over a clone of the snapshot (same version).
    Open(docdb::OwnedScan),
    /// Ended by Snapshot.close(): the next step raises ClosedError.
    Closed,
    /// Over: every later step stops the iteration.
    Done,
}

/// Iterator over the `(doc_id, data)` pairs of a Snapshot (ascending by id, or in the order
/// of its range). Raises ClosedError if the snapshot (or its store) is closed during
/// iteration.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct SnapshotIterator {
    /// The Snapshot iterated, if any: `Database.range` iterates a snapshot of its own.
    snapshot: Option<Py<Snapshot>>,
    /// Shared with the Snapshot, whose close() ends it.
    docs: Arc<Mutex<Slot>>,
}

impl SnapshotIterator {
    pub(crate) fn new(snapshot: Option<Py<Snapshot>>, docs: docdb::OwnedScan) -> Self {
        SnapshotIterator {
            snapshot,
            docs: Arc::new(Mutex::new(Slot::Open(docs))),
        }
    }
}

#[pymethods]
impl SnapshotIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<(u64, Bound<'py, PyBytes>)>> {
        // Closing the snapshot ends its iterators too: report it once, then stop.
        let closed = self.snapshot.as_ref().map(|s| s.get().get(py));
        if let Some(Err(e)) = closed {
            let was = std::mem::replace(&mut *self.docs.lock(), Slot::Done);
            return match was {
                Slot::Done => Ok(None),
                Slot::Open(_) | Slot::Closed => Err(e),
            };
        }
        // The lock is taken without the GIL, so a thread waiting for it never blocks the
        // one inside the engine call.
        let next = detach(py, || {
            let mut docs = self.docs.lock();
            let next = match &mut *docs {
                Slot::Open(scan) => scan.next().transpose(),
                Slot::Closed | Slot::Done => Ok(None),
            };
            if matches!(next, Ok(None)) {
                *docs = Slot::Done;
            }
            next
        })?;
        Ok(next.map(|(id, v)| (id, PyBytes::new(py, &v))))
    }
}
