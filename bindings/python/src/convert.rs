//! Argument conversions shared by every class, and the one place engine calls run: inside
//! a panic boundary, without the GIL ([`detach`]) or, for calls that cannot block, with it
//! ([`attached`]).

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};

use crate::error;

/// Runs one engine call with the GIL released, so other Python threads run meanwhile (the
/// call may wait for a lock, an fsync or a read), and turns its error or a panic into the
/// mapped Python exception. `f` cannot touch Python objects: it is `Send` (pyo3's `Ungil`).
pub(crate) fn detach<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> docdb::Result<T> + Send,
    T: Send,
{
    finish(py, py.detach(|| catch_unwind(AssertUnwindSafe(f))))
}

/// [`detach`] with the GIL held, for the engine calls that never block (no system call, no
/// wait beyond a short in-memory lock): releasing and retaking the GIL would cost more.
pub(crate) fn attached<T>(py: Python<'_>, f: impl FnOnce() -> docdb::Result<T>) -> PyResult<T> {
    finish(py, catch_unwind(AssertUnwindSafe(f)))
}

fn finish<T>(py: Python<'_>, outcome: std::thread::Result<docdb::Result<T>>) -> PyResult<T> {
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error::to_pyerr(py, e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(error::internal(
                py,
                format!("internal error (panic): {msg}"),
            ))
        }
    }
}

/// A document id: a Python `int` (or any object with `__index__`) in `0..2**64-1`.
/// Out of range is `OverflowError`; not an integer is `TypeError`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DocId(pub u64);

impl<'a, 'py> FromPyObject<'a, 'py> for DocId {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        match obj.extract::<u64>() {
            Ok(v) => Ok(DocId(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(PyOverflowError::new_err(
                format!("document id {} is outside 0..2**64-1", &*obj),
            )),
            Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(PyTypeError::new_err(format!(
                "document id must be an int, not {}",
                type_name(&obj)
            ))),
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| format!("'{n}'"))
}

/// The bytes of a document argument. `bytes` are borrowed (they are immutable and kept alive
/// by the caller's reference while the GIL is released); everything else is copied first,
/// because another thread could resize a `bytearray` while the engine reads it.
pub(crate) enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Data::Bytes(b) => b.as_bytes(),
            Data::Owned(v) => v,
        }
    }
}

/// Accepts any bytes-like object: `bytes`, `bytearray`, `memoryview`, or another object of
/// the buffer protocol (such as `array.array`). `str` and everything else is `TypeError`.
pub(crate) fn data<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Data::Bytes(b.clone()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Data::Owned(b.to_vec()));
    }
    let not_bytes = || {
        PyTypeError::new_err(format!(
            "document data must be a bytes-like object (bytes, bytearray, memoryview), not {}{}",
            type_name(obj),
            if obj.is_instance_of::<PyString>() {
                ": encode text first, or use the *_json methods"
            } else {
                ""
            }
        ))
    };
    if obj.is_instance_of::<PyString>() {
        return Err(not_bytes());
    }
    // The limited API of Python 3.9 has no buffer protocol; memoryview() is the portable
    // way in, and tobytes() makes the contiguous copy.
    let py = obj.py();
    let view = match py
        .import(intern!(py, "builtins"))?
        .getattr(intern!(py, "memoryview"))?
        .call1((obj,))
    {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<PyTypeError>(py) => return Err(not_bytes()),
        Err(e) => return Err(e),
    };
    let bytes = view.call_method0(intern!(py, "tobytes"))?;
    view.call_method0(intern!(py, "release"))?;
    Ok(Data::Bytes(bytes.cast_into::<PyBytes>()?))
}

/// Encodes `value` as compact UTF-8 JSON (`json.dumps`, strict: no NaN or Infinity).
pub(crate) fn json_encode<'py>(value: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    let py = value.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "ensure_ascii"), false)?;
    kwargs.set_item(intern!(py, "allow_nan"), false)?;
    kwargs.set_item(intern!(py, "separators"), (",", ":"))?;
    let text = py
        .import(intern!(py, "json"))?
        .getattr(intern!(py, "dumps"))?
        .call((value,), Some(&kwargs))?;
    let bytes = text.call_method1(intern!(py, "encode"), ("utf-8",))?;
    Ok(Data::Bytes(bytes.cast_into::<PyBytes>()?))
}

/// Decodes a stored document as JSON (`json.loads`); not JSON is `ValueError`
/// (`json.JSONDecodeError`).
pub(crate) fn json_decode<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    py.import(intern!(py, "json"))?
        .getattr(intern!(py, "loads"))?
        .call1((PyBytes::new(py, data),))
}
