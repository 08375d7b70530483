//! `range()` and `count()`: Python's `start` (inclusive) and `stop` (exclusive) as core's
//! `IdRange`, and the iterator of `Transaction.range`, which reads in pages because the
//! engine's transaction scan borrows the transaction.

use docdb::{IdRange, TxnPages};
use parking_lot::Mutex;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::detach;
use crate::transaction::Transaction;

/// One end of a range: an int in `0..=2**64` (`2**64` lies past every id, so that
/// `start=last + 1` after the largest id is an empty page, not an error).
#[derive(Clone, Copy)]
pub(crate) struct Edge(u128);

const PAST_EVERY_ID: u128 = 1 << 64;

impl<'a, 'py> FromPyObject<'a, 'py> for Edge {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let outside =
            || PyOverflowError::new_err(format!("range bound {} is outside 0..2**64", &*obj));
        match obj.extract::<u128>() {
            Ok(v) if v <= PAST_EVERY_ID => Ok(Edge(v)),
            Ok(_) => Err(outside()),
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(outside()),
            Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(PyTypeError::new_err(format!(
                "range bound must be an int, not '{}'",
                obj.get_type().name()?
            ))),
            Err(e) => Err(e),
        }
    }
}

/// `limit=`: a non-negative int (larger than any range is the same as no limit).
#[derive(Clone, Copy)]
pub(crate) struct Limit(i128);

impl<'a, 'py> FromPyObject<'a, 'py> for Limit {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        match obj.extract::<i128>() {
            Ok(v) => Ok(Limit(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
                // Only a huge positive value overflows i128 usefully; a huge negative one is
                // still a negative limit.
                let negative = obj.lt(0)?;
                Ok(Limit(if negative { -1 } else { i128::MAX }))
            }
            Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(PyTypeError::new_err(format!(
                "limit must be an int or None, not '{}'",
                obj.get_type().name()?
            ))),
            Err(e) => Err(e),
        }
    }
}

/// The engine's range for `start`/`stop`/`reverse`/`limit`. `start >= stop` is an empty
/// range (as `range(5, 3)` in Python); a negative limit is InvalidArgumentError.
pub(crate) fn id_range(
    py: Python<'_>,
    start: Option<Edge>,
    stop: Option<Edge>,
    reverse: bool,
    limit: Option<Limit>,
) -> PyResult<IdRange> {
    use std::ops::Bound;
    let mut range = IdRange::all();
    range.start = match start {
        None => Bound::Unbounded,
        Some(Edge(n)) => match u64::try_from(n) {
            Ok(n) => Bound::Included(n),
            Err(_) => Bound::Excluded(u64::MAX),
        },
    };
    range.end = match stop {
        None => Bound::Unbounded,
        Some(Edge(n)) => match u64::try_from(n) {
            Ok(n) => Bound::Excluded(n),
            Err(_) => Bound::Unbounded,
        },
    };
    range.reverse = reverse;
    range.limit = match limit {
        None => None,
        Some(Limit(n)) if n < 0 => {
            return Err(crate::error::to_pyerr(
                py,
                docdb::Error::InvalidArgument(format!("limit must be >= 0, got {n}")),
            ))
        }
        Some(Limit(n)) => Some(u64::try_from(n).unwrap_or(u64::MAX)),
    };
    Ok(range)
}

/// Iterator over the `(doc_id, data)` pairs of `Transaction.range()`, as the transaction
/// sees them (its own writes included). It reads ahead a page of at most 64 documents
/// (about 1 MiB, `docdb::TxnPages`): writes the transaction makes while iterating are seen
/// only by the pages read after them (the first is read by `Transaction.range`). Raises
/// ClosedError once the transaction is committed or rolled back, or its store closed.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct TransactionIterator {
    tx: Py<Transaction>,
    pages: Mutex<TxnPages>,
}

impl TransactionIterator {
    /// `pages` has its first page read (`TxnPages::fill`) by `Transaction.range`.
    pub(crate) fn new(tx: Py<Transaction>, pages: TxnPages) -> Self {
        TransactionIterator {
            tx,
            pages: Mutex::new(pages),
        }
    }
}

#[pymethods]
impl TransactionIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<(u64, Bound<'py, PyBytes>)>> {
        let tx = self.tx.get();
        let next = detach(py, || {
            let mut pages = self.pages.lock();
            if pages.is_done() {
                return Ok(None);
            }
            let next = tx.run(|t| pages.next(t));
            if next.is_err() {
                // Reported once (a finished transaction too); the iteration is over.
                pages.close();
            }
            next
        })?;
        Ok(next.map(|(id, v)| (id, PyBytes::new(py, &v))))
    }
}
