//! `docdb.Transaction`: several reads and writes committed atomically.

use docdb::TxnPages;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use crate::convert::{detach, json_decode, json_encode, DocId};
use crate::range::{id_range, Edge, Limit, TransactionIterator};

/// Where a transaction is in its life; only `Active` holds the engine transaction.
enum State {
    Active(docdb::Transaction),
    Committed,
    RolledBack,
    /// commit() was called and failed (a conflict, a lost connection...).
    CommitFailed,
}

impl State {
    fn closed_error(&self) -> docdb::Error {
        docdb::Error::Closed(match self {
            State::Committed => "transaction (already committed)".into(),
            State::RolledBack => "transaction (already rolled back)".into(),
            State::CommitFailed => "transaction (its commit failed)".into(),
            State::Active(_) => "transaction".into(),
        })
    }
}

/// A transaction: reads see a snapshot taken when it began plus its own writes; writes are
/// staged in memory and applied atomically by commit().
///
/// Use it as a context manager:
///
///     with db.transaction() as tx:
///         tx.put(1, b"...")
///         tx.delete(2)
///
/// commits when the block ends normally and rolls back when it raises (the exception
/// propagates). commit() raises ConflictError, applying nothing, if another commit changed
/// a document written here after the transaction began. After commit() or rollback(),
/// every call except rollback() raises ClosedError.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct Transaction {
    // Locked only while the GIL is released (inside `detach`), so a thread waiting for it
    // never blocks the interpreter, and the holder never needs the GIL.
    state: Mutex<State>,
}

impl Transaction {
    pub(crate) fn new(tx: docdb::Transaction) -> Self {
        Transaction {
            state: Mutex::new(State::Active(tx)),
        }
    }

    /// Runs `f` on the active transaction, without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut docdb::Transaction) -> docdb::Result<T> + Send,
    ) -> PyResult<T> {
        detach(py, || self.run(f))
    }

    /// Runs `f` on the active transaction; the caller has released the GIL.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut docdb::Transaction) -> docdb::Result<T>,
    ) -> docdb::Result<T> {
        match &mut *self.state.lock() {
            State::Active(tx) => f(tx),
            other => Err(other.closed_error()),
        }
    }

    fn finish(&self, py: Python<'_>, commit: bool) -> PyResult<Option<u64>> {
        detach(py, || {
            let mut state = self.state.lock();
            let next = if commit {
                State::Committed
            } else {
                State::RolledBack
            };
            match std::mem::replace(&mut *state, next) {
                State::Active(tx) if commit => {
                    let done = tx.commit();
                    if done.is_err() {
                        *state = State::CommitFailed;
                    }
                    done.map(Some)
                }
                State::Active(tx) => {
                    tx.rollback();
                    Ok(None)
                }
                // commit() or rollback() of a finished transaction is ClosedError, as in
                // every face.
                finished => {
                    let e = finished.closed_error();
                    *state = finished;
                    Err(e)
                }
            }
        })
    }
}

#[pymethods]
impl Transaction {
    /// Reads a document as this transaction sees it (its own writes included), as bytes.
    /// NotFoundError if it does not exist.
    fn read<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyBytes>> {
        let v = self.with(py, |tx| tx.read(doc_id.0))?;
        Ok(PyBytes::new(py, &v))
    }

    /// Reads a document as this transaction sees it and decodes it as JSON.
    fn read_json<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(py, |tx| tx.read(doc_id.0))?;
        json_decode(py, &v)
    }

    /// Whether a document exists as this transaction sees it.
    fn contains(&self, py: Python<'_>, doc_id: DocId) -> PyResult<bool> {
        self.with(py, |tx| tx.contains(doc_id.0))
    }

    /// Stages a new document. AlreadyExistsError if it exists as this transaction sees it.
    fn create(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.create(doc_id.0, bytes))
    }

    /// Stages a replacement. NotFoundError if the document does not exist as seen here.
    fn update(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.update(doc_id.0, bytes))
    }

    /// Stages an insert-or-replace.
    fn put(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.put(doc_id.0, bytes))
    }

    /// Stages a deletion. NotFoundError if the document does not exist as seen here.
    fn delete(&self, py: Python<'_>, doc_id: DocId) -> PyResult<()> {
        self.with(py, |tx| tx.delete(doc_id.0))
    }

    /// Stages a new document holding `value` encoded as JSON.
    fn create_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.create(doc_id.0, bytes))
    }

    /// Stages a replacement with `value` encoded as JSON.
    fn update_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.update(doc_id.0, bytes))
    }

    /// Stages an insert-or-replace with `value` encoded as JSON.
    fn put_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let bytes = d.as_slice();
        self.with(py, |tx| tx.put(doc_id.0, bytes))
    }

    /// Iterates over the `(doc_id, data)` pairs of ids `start <= id < stop` as this
    /// transaction sees them (its own writes included), ascending (descending with
    /// `reverse=True`), at most `limit` of them. Open ends when None.
    #[pyo3(signature = (start = None, stop = None, *, reverse = false, limit = None))]
    fn range(
        slf: Bound<'_, Self>,
        start: Option<Edge>,
        stop: Option<Edge>,
        reverse: bool,
        limit: Option<Limit>,
    ) -> PyResult<TransactionIterator> {
        let py = slf.py();
        let mut pages = TxnPages::new(id_range(py, start, stop, reverse, limit)?);
        // The first page now, as in C: a finished transaction or a closed store fails at
        // the call, and writes staged after it are seen only by later pages.
        slf.get().with(py, |tx| pages.fill(tx))?;
        Ok(TransactionIterator::new(slf.unbind(), pages))
    }

    /// Number of documents with ids `start <= id < stop` (at most `limit`) as this
    /// transaction sees them (its own writes and deletions included); no document is read.
    #[pyo3(signature = (start = None, stop = None, *, limit = None))]
    fn count(
        &self,
        py: Python<'_>,
        start: Option<Edge>,
        stop: Option<Edge>,
        limit: Option<Limit>,
    ) -> PyResult<u64> {
        let range = id_range(py, start, stop, false, limit)?;
        self.with(py, |tx| tx.count(&range))
    }

    /// Number of staged writes.
    fn pending(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |tx| tx.pending())
    }

    /// The commit version this transaction reads at.
    #[getter]
    fn read_version(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |tx| Ok(tx.read_version()))
    }

    /// Whether the transaction can still be used (neither committed nor rolled back).
    #[getter]
    fn active(&self, py: Python<'_>) -> bool {
        py.detach(|| matches!(*self.state.lock(), State::Active(_)))
    }

    /// Commits every staged write atomically (durably, per the store's `sync` option) and
    /// returns the commit version. ConflictError if another commit changed a document
    /// written here after the transaction began; then nothing is applied. The transaction
    /// is finished either way.
    fn commit(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.finish(py, true)?.unwrap_or_default())
    }

    /// Discards every staged write. ClosedError if the transaction is already finished.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        self.finish(py, false).map(drop)
    }

    /// Returns the transaction itself.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Commits if the block ended normally and the transaction is still active; rolls back
    /// if it raised. Never swallows the block's exception.
    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = (exc_value, traceback);
        if !self.active(py) {
            return Ok(());
        }
        if exc_type.is_none() {
            self.commit(py)?;
        } else {
            self.rollback(py)?;
        }
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = py.detach(|| match &*self.state.lock() {
            State::Active(tx) => match tx.pending() {
                Ok(n) => format!("active, {n} pending"),
                Err(_) => "active".into(),
            },
            State::Committed => "committed".into(),
            State::RolledBack => "rolled back".into(),
            State::CommitFailed => "commit failed".into(),
        });
        format!("docdb.Transaction({state})")
    }
}
