//! `docdb.Database`: one named database of a store, and its atomic batch.

use docdb::{BatchOp, ErrorKind};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString, PyTuple};

use crate::convert::{attached, data, detach, json_decode, json_encode, type_name, Data, DocId};
use crate::error;
use crate::range::{id_range, Edge, Limit};
use crate::snapshot::{Snapshot, SnapshotIterator};
use crate::stats::DbStats;
use crate::transaction::Transaction;

/// Largest cached document `read` copies out without releasing the GIL.
const READ_WITH_GIL_MAX: usize = 64 * 1024;

/// A named database: documents are `int id -> bytes`.
///
/// Get one from Store.create_db/open_db/open_or_create_db. Every plain call (create, read,
/// update, put, delete) is its own atomic, durable transaction; use batch() or
/// transaction() to commit several writes together, and snapshot() for a consistent view.
///
/// Document ids are ints in 0..2**64-1: a negative or too big id raises OverflowError, a
/// non-int TypeError. Document data is any bytes-like object (bytes, bytearray,
/// memoryview); str raises TypeError (encode it, or use the *_json methods).
///
/// A Database is registered as a `collections.abc.MutableMapping` of `int -> bytes` (not in
/// the type stubs: `update`, `keys`, `items` and `values` differ from the ABC's): `db[id]`,
/// `db[id] = data`, `del db[id]`, `get`, `pop`, `popitem`, `setdefault`, `clear`,
/// `len(db)`, `doc_id in db`, and iteration (`for id in db`, `keys`, `values`, `items`) in
/// id order over a snapshot taken when the iteration starts. `update(doc_id, data)` is the
/// typed update (replace an existing document), not the mapping's bulk update: use
/// batch() for that.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct Database {
    inner: docdb::Database,
}

impl Database {
    pub(crate) fn new(inner: docdb::Database) -> Self {
        Database { inner }
    }
}

/// A parsed batch operation, holding its data until the batch is applied.
enum Op<'py> {
    Create(u64, Data<'py>),
    Update(u64, Data<'py>),
    Put(u64, Data<'py>),
    Delete(u64),
}

/// Prefixes a conversion error with the operation's position, keeping its class.
fn at_op(py: Python<'_>, index: usize, e: PyErr) -> PyErr {
    PyErr::from_type(
        e.get_type(py),
        format!("batch operation #{index}: {}", e.value(py)),
    )
}

fn parse_op<'py>(py: Python<'py>, index: usize, item: &Bound<'py, PyAny>) -> PyResult<Op<'py>> {
    let type_err = |why: &str| PyTypeError::new_err(format!("batch operation #{index}: {why}"));
    let items: Vec<Bound<'py, PyAny>> = if let Ok(t) = item.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(l) = item.cast::<PyList>() {
        l.iter().collect()
    } else {
        return Err(type_err(
            "expected a tuple such as ('put', doc_id, data) or ('delete', doc_id)",
        ));
    };
    let Some(name) = items.first() else {
        return Err(type_err("empty operation"));
    };
    let Ok(name) = name.cast::<PyString>() else {
        return Err(type_err(
            "the first item must be 'create', 'update', 'put' or 'delete'",
        ));
    };
    let name = name.to_cow()?;
    let name: &str = &name;
    let arity = if name == "delete" { 2 } else { 3 };
    let known = matches!(name, "create" | "update" | "put" | "delete");
    if !known {
        // An unknown name is a bad value, reported like an engine failure of that operation.
        return Err(error::to_pyerr(
            py,
            docdb::Error::Batch {
                index,
                source: Box::new(docdb::Error::InvalidArgument(format!(
                    "unknown batch operation {name:?} (use 'create', 'update', 'put' or 'delete')"
                ))),
            },
        ));
    }
    if items.len() != arity {
        return Err(type_err(&format!(
            "{name:?} takes {} items, got {}",
            arity,
            items.len()
        )));
    }
    let id = items[1]
        .extract::<DocId>()
        .map_err(|e| at_op(py, index, e))?
        .0;
    if name == "delete" {
        return Ok(Op::Delete(id));
    }
    let d = data(&items[2]).map_err(|e| at_op(py, index, e))?;
    Ok(match name {
        "create" => Op::Create(id, d),
        "update" => Op::Update(id, d),
        _ => Op::Put(id, d),
    })
}

#[pymethods]
impl Database {
    /// The database's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The database's catalog id (never reused, even after a drop).
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id()
    }

    /// Inserts a new document. AlreadyExistsError if `doc_id` is taken.
    fn create(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.create(doc_id.0, bytes))
    }

    /// Returns the newest committed version of a document, as bytes. NotFoundError (also a
    /// KeyError) if it does not exist.
    fn read<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyAny>> {
        let db = &self.inner;
        // A small document in the record cache is copied straight into a bytes object with
        // the GIL held: that read makes no system call and costs less than releasing the GIL
        // (docs/performance.md). Creating a bytes object runs no Python code (bytes are not
        // tracked by the cyclic GC), so nothing can re-enter the engine meanwhile.
        let small = |b: &[u8]| (b.len() <= READ_WITH_GIL_MAX).then(|| PyBytes::new(py, b));
        if let Some(Some(bytes)) = attached(py, || db.read_cached(doc_id.0, small))? {
            return Ok(bytes.into_any());
        }
        let v = detach(py, || db.read(doc_id.0))?;
        Ok(PyBytes::new(py, &v).into_any())
    }

    /// Reads a document into `buffer` (a bytearray) and returns its length. A document
    /// longer than `buffer` is not copied: the return value is then larger than
    /// `len(buffer)`, `buffer` is unchanged, and a buffer that large reads it. The read for a
    /// loop that reuses one buffer: no bytes object per read. NotFoundError if it does not
    /// exist; TypeError if `buffer` is not a bytearray.
    fn read_into(
        &self,
        py: Python<'_>,
        doc_id: DocId,
        buffer: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let target = buffer.cast::<PyByteArray>().map_err(|_| {
            PyTypeError::new_err(format!(
                "buffer must be a bytearray, not {}",
                type_name(buffer)
            ))
        })?;
        let db = &self.inner;
        // A cached document is copied with the GIL held (no system call, as in `read`).
        let cached = attached(py, || {
            // SAFETY: the GIL is held until the slice's last use and the engine runs no
            // Python code, so no other thread can resize, free or touch the bytearray.
            let dst = unsafe { target.as_bytes_mut() };
            db.read_cached_into(doc_id.0, dst)
        })?;
        if let Some(len) = cached {
            return Ok(len);
        }
        // From disk: the read waits for I/O with the GIL released, into memory of its own
        // (another thread may resize the bytearray meanwhile); the copy retakes the GIL.
        let v = detach(py, || db.read(doc_id.0))?;
        // SAFETY: as above; the slice is taken anew, after the GIL was retaken.
        Ok(docdb::copy_if_fits(unsafe { target.as_bytes_mut() }, &v))
    }

    /// Replaces a whole document. NotFoundError if it does not exist.
    fn update(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.update(doc_id.0, bytes))
    }

    /// Inserts or replaces a document.
    fn put(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = crate::convert::data(data)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.put(doc_id.0, bytes))
    }

    /// Deletes a document. NotFoundError if it does not exist.
    fn delete(&self, py: Python<'_>, doc_id: DocId) -> PyResult<()> {
        let db = &self.inner;
        detach(py, || db.delete(doc_id.0))
    }

    /// Whether a document exists (the same as `doc_id in db`).
    fn contains(&self, py: Python<'_>, doc_id: DocId) -> PyResult<bool> {
        let db = &self.inner;
        detach(py, || db.contains(doc_id.0))
    }

    /// Inserts a new document holding `value` encoded as compact UTF-8 JSON.
    /// AlreadyExistsError if `doc_id` is taken; TypeError/ValueError if `value` is not
    /// JSON-serialisable (NaN and infinities are refused).
    fn create_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.create(doc_id.0, bytes))
    }

    /// Reads a document and decodes it as JSON. NotFoundError if it does not exist;
    /// ValueError (json.JSONDecodeError) if it is not JSON.
    fn read_json<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyAny>> {
        let db = &self.inner;
        let v = detach(py, || db.read(doc_id.0))?;
        json_decode(py, &v)
    }

    /// Replaces a document with `value` encoded as JSON. NotFoundError if it does not exist.
    fn update_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.update(doc_id.0, bytes))
    }

    /// Inserts or replaces a document with `value` encoded as JSON.
    fn put_json(&self, py: Python<'_>, doc_id: DocId, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = json_encode(value)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        detach(py, || db.put(doc_id.0, bytes))
    }

    /// Applies several writes atomically, in order, as one transaction, and returns the
    /// commit version: either every operation takes effect or none does.
    ///
    /// `ops` is an iterable of tuples:
    ///     ("create", doc_id, data)   insert; AlreadyExistsError if the id is taken
    ///     ("update", doc_id, data)   replace; NotFoundError if absent
    ///     ("put", doc_id, data)      insert or replace
    ///     ("delete", doc_id)         remove; NotFoundError if absent
    /// A failing operation raises the mapped error with `.batch_index` set to its position;
    /// an unknown operation name raises InvalidArgumentError (with `.batch_index`), a
    /// malformed tuple TypeError.
    fn batch(&self, py: Python<'_>, ops: &Bound<'_, PyAny>) -> PyResult<u64> {
        let mut parsed = Vec::new();
        for (i, item) in ops.try_iter()?.enumerate() {
            parsed.push(parse_op(py, i, &item?)?);
        }
        let batch: Vec<BatchOp<'_>> = parsed
            .iter()
            .map(|op| match op {
                Op::Create(id, d) => BatchOp::Create(*id, d.as_slice()),
                Op::Update(id, d) => BatchOp::Update(*id, d.as_slice()),
                Op::Put(id, d) => BatchOp::Put(*id, d.as_slice()),
                Op::Delete(id) => BatchOp::Delete(*id),
            })
            .collect();
        let db = &self.inner;
        detach(py, || db.batch(&batch))
    }

    /// Starts a transaction that reads from a snapshot taken now plus its own writes.
    ///
    /// Use it as a context manager: `with db.transaction() as tx:` commits when the block
    /// ends normally and rolls back when it raises. A commit raises ConflictError (and
    /// applies nothing) if another commit changed a document this transaction writes after
    /// it began.
    fn transaction(&self, py: Python<'_>) -> PyResult<Transaction> {
        let db = &self.inner;
        detach(py, || db.begin()).map(Transaction::new)
    }

    /// A read-only, consistent view of the database as it is now (a context manager; close
    /// it, or leave the `with` block, to release the versions it keeps alive).
    fn snapshot(&self, py: Python<'_>) -> PyResult<Snapshot> {
        let db = &self.inner;
        detach(py, || db.snapshot()).map(Snapshot::new)
    }

    /// Iterates over the `(doc_id, data)` pairs of ids `start <= id < stop` (open ends when
    /// None) as of a snapshot taken now (held by the iterator), ascending, or descending with
    /// `reverse=True`, at most `limit` of them. Pages: `range(start=last + 1, limit=50)`;
    /// descending: `range(stop=last, reverse=True, limit=50)`.
    #[pyo3(signature = (start = None, stop = None, *, reverse = false, limit = None))]
    fn range(
        &self,
        py: Python<'_>,
        start: Option<Edge>,
        stop: Option<Edge>,
        reverse: bool,
        limit: Option<Limit>,
    ) -> PyResult<SnapshotIterator> {
        let range = id_range(py, start, stop, reverse, limit)?;
        let db = &self.inner;
        let docs = detach(py, || db.range(&range))?;
        Ok(SnapshotIterator::new(None, docs))
    }

    /// Number of documents with ids `start <= id < stop` now (at most `limit`); no
    /// document is read.
    #[pyo3(signature = (start = None, stop = None, *, limit = None))]
    fn count(
        &self,
        py: Python<'_>,
        start: Option<Edge>,
        stop: Option<Edge>,
        limit: Option<Limit>,
    ) -> PyResult<u64> {
        let range = id_range(py, start, stop, false, limit)?;
        let db = &self.inner;
        detach(py, || db.snapshot()?.count(&range))
    }

    /// Rewrites the live documents into new log segments and deletes the old ones; returns
    /// the number of bytes reclaimed. Reads and writes continue meanwhile.
    fn compact(&self, py: Python<'_>) -> PyResult<u64> {
        let db = &self.inner;
        detach(py, || db.compact())
    }

    /// Writes a checkpoint so that the next open replays only the log that follows it.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        let db = &self.inner;
        detach(py, || db.checkpoint())
    }

    /// fsyncs the log: every commit made so far becomes durable (useful with sync="normal").
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        let db = &self.inner;
        detach(py, || db.sync())
    }

    /// Counters and sizes of this database (DbStats).
    fn stats(&self, py: Python<'_>) -> PyResult<DbStats> {
        let db = &self.inner;
        detach(py, || db.stats()).map(DbStats::from)
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let db = &self.inner;
        let n = detach(py, || db.len())?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn __contains__(&self, py: Python<'_>, doc_id: DocId) -> PyResult<bool> {
        self.contains(py, doc_id)
    }

    // The mapping protocol (`collections.abc.MutableMapping`, registered in __init__.py):
    // `db[id]`, `db[id] = data`, `del db[id]`, `get`, `pop`, `setdefault`, `update`,
    // `clear`, `popitem`, and iteration in id order over a snapshot taken when it starts.

    /// `db[doc_id]`: read(); a missing id raises NotFoundError, which is a KeyError.
    fn __getitem__<'py>(&self, py: Python<'py>, doc_id: DocId) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, doc_id)
    }

    /// `db[doc_id] = data`: put().
    fn __setitem__(&self, py: Python<'_>, doc_id: DocId, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.put(py, doc_id, data)
    }

    /// `del db[doc_id]`: delete(); a missing id raises NotFoundError (a KeyError).
    fn __delitem__(&self, py: Python<'_>, doc_id: DocId) -> PyResult<()> {
        self.delete(py, doc_id)
    }

    /// Iterates over the ids, ascending, as of a snapshot taken now.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.try_iter()?.into_any())
    }

    /// The document, or `default` if the id does not exist.
    #[pyo3(signature = (doc_id, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        doc_id: DocId,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let db = &self.inner;
        match detach(py, || Ok(db.read(doc_id.0)))? {
            Ok(v) => Ok(Some(PyBytes::new(py, &v).into_any())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(default),
            Err(e) => Err(error::to_pyerr(py, e)),
        }
    }

    /// The ids, ascending, as of a snapshot taken now (a list).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let db = &self.inner;
        let ids = detach(py, || db.snapshot().and_then(|s| s.ids()))?;
        PyList::new(py, ids)
    }

    /// Iterates over `(doc_id, data)` pairs, ascending by id, of a snapshot taken now.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, SnapshotIterator>> {
        let snap = Bound::new(py, self.snapshot(py)?)?;
        Bound::new(py, Snapshot::iterate(snap)?)
    }

    /// Iterates over the documents, ascending by id, of a snapshot taken now.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let second = py.import("operator")?.getattr("itemgetter")?.call1((1,))?;
        let map = py.import("builtins")?.getattr("map")?;
        map.call1((second, self.items(py)?))
    }

    /// Removes the document and returns it, or returns `default` if the id does not exist
    /// (NotFoundError, a KeyError, without a default). One transaction reads and deletes.
    #[pyo3(signature = (doc_id, *default))]
    fn pop<'py>(
        &self,
        py: Python<'py>,
        doc_id: DocId,
        default: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if default.len() > 1 {
            return Err(PyTypeError::new_err("pop expected at most 2 arguments"));
        }
        let db = &self.inner;
        let take = || -> docdb::Result<Vec<u8>> {
            let mut tx = db.begin()?;
            let v = tx.read(doc_id.0)?;
            tx.delete(doc_id.0)?;
            tx.commit()?;
            Ok(v)
        };
        let taken = detach(py, || Ok(take()))?;
        match taken {
            Ok(v) => Ok(PyBytes::new(py, &v).into_any()),
            Err(e) if e.kind() == ErrorKind::NotFound && default.len() == 1 => default.get_item(0),
            Err(e) => Err(error::to_pyerr(py, e)),
        }
    }

    /// Removes and returns the `(doc_id, data)` pair of the smallest id, in one transaction;
    /// NotFoundError (a KeyError) if the database is empty.
    fn popitem<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyBytes>)> {
        let db = &self.inner;
        let (id, v) = detach(py, || {
            let mut tx = db.begin()?;
            let Some(id) = db.snapshot()?.ids()?.into_iter().next() else {
                return Err(docdb::Error::NotFound(format!(
                    "any document: database '{}' is empty",
                    db.name()
                )));
            };
            let v = tx.read(id)?;
            tx.delete(id)?;
            tx.commit()?;
            Ok((id, v))
        })?;
        Ok((id, PyBytes::new(py, &v)))
    }

    /// The document if the id exists; otherwise creates it with `default` and returns that
    /// (if another writer creates it first, its document is returned).
    fn setdefault<'py>(
        &self,
        py: Python<'py>,
        doc_id: DocId,
        default: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let d = crate::convert::data(default)?;
        let (db, bytes) = (&self.inner, d.as_slice());
        let v = detach(py, || match db.create(doc_id.0, bytes) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => db.read(doc_id.0),
            Err(e) => Err(e),
            Ok(()) => Ok(bytes.to_vec()),
        })?;
        Ok(PyBytes::new(py, &v).into_any())
    }

    /// Deletes every document, atomically (one batch).
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let db = &self.inner;
        detach(py, || {
            let ids = db.snapshot()?.ids()?;
            let ops: Vec<_> = ids.into_iter().map(BatchOp::Delete).collect();
            db.batch(&ops).map(drop)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "docdb.Database(name={:?}, id={})",
            self.inner.name(),
            self.inner.id()
        )
    }
}
