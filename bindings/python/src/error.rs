//! Every exception class of the `docdb` package, and the one mapping from the engine's
//! [`ErrorKind`] to them (the table in `docs/errors.md`).
//!
//! The classes are built once per interpreter with `type(name, bases, namespace)` rather
//! than `create_exception!`, because several of them have two bases: `NotFoundError` is a
//! `docdb.Error` *and* a `KeyError`, `IoError` a `docdb.Error` and an `OSError`, and so on,
//! so that code written against the built-in exceptions keeps working.
//!
//! Every instance carries `code` (the stable string of `docs/errors.md`, a class attribute)
//! and `batch_index` (`None`, or the position of the failing operation of an atomic batch).

use docdb::{Error, ErrorKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// One exception class: Python name, stable code, extra built-in base, docstring.
struct ClassSpec {
    name: &'static str,
    code: &'static str,
    builtin_base: Option<&'static str>,
    doc: &'static str,
}

/// The leaf classes, in the order of `docs/errors.md`.
const LEAVES: &[ClassSpec] = &[
    ClassSpec {
        name: "NotFoundError",
        code: "NOT_FOUND",
        builtin_base: Some("KeyError"),
        doc: "The document or database does not exist. Also a KeyError.",
    },
    ClassSpec {
        name: "AlreadyExistsError",
        code: "ALREADY_EXISTS",
        builtin_base: None,
        doc: "create() of an id or database name that already exists.",
    },
    ClassSpec {
        name: "ConflictError",
        code: "CONFLICT",
        builtin_base: None,
        doc: "A transaction lost a write-write race on a document; nothing of it was applied.",
    },
    ClassSpec {
        name: "MemoryLimitError",
        code: "MEMORY_LIMIT",
        builtin_base: Some("MemoryError"),
        doc: "A write would exceed the global or per-database memory cap; nothing was applied. \
              Also a MemoryError.",
    },
    ClassSpec {
        name: "PayloadTooLargeError",
        code: "PAYLOAD_TOO_LARGE",
        builtin_base: Some("ValueError"),
        doc: "A document is larger than the store's max_document_size. Also a ValueError.",
    },
    ClassSpec {
        name: "InvalidNameError",
        code: "INVALID_NAME",
        builtin_base: Some("ValueError"),
        doc: "A database name outside [A-Za-z0-9_.-]{1,64} or starting with '.'. \
              Also a ValueError.",
    },
    ClassSpec {
        name: "InvalidArgumentError",
        code: "INVALID_ARGUMENT",
        builtin_base: Some("ValueError"),
        doc: "An argument value the engine does not accept (for example a bad option, or an \
              unknown batch operation name). Also a ValueError.",
    },
    ClassSpec {
        name: "LockedError",
        code: "LOCKED",
        builtin_base: None,
        doc: "Another process or another open Store holds the data directory.",
    },
    ClassSpec {
        name: "ClosedError",
        code: "CLOSED",
        builtin_base: None,
        doc: "Use after close(): of a closed store, a dropped database, a finished transaction \
              or a closed snapshot.",
    },
    ClassSpec {
        name: "CorruptionError",
        code: "CORRUPTION",
        builtin_base: None,
        doc: "A checksum or format check failed; the message names the file and offset.",
    },
    ClassSpec {
        name: "PoisonedError",
        code: "POISONED",
        builtin_base: None,
        doc: "An earlier write or fsync failed, so the handle refuses further work; reopen \
              the store to recover from what is on disk.",
    },
    ClassSpec {
        name: "UnsupportedVersionError",
        code: "UNSUPPORTED_VERSION",
        builtin_base: None,
        doc: "The files were written by another on-disk format version.",
    },
    ClassSpec {
        name: "IoError",
        code: "IO",
        builtin_base: Some("OSError"),
        doc: "An operating-system I/O error (disk full, permissions, ...). Also an OSError; \
              errno is set when the system reported one.",
    },
    ClassSpec {
        name: "UnavailableError",
        code: "UNAVAILABLE",
        builtin_base: Some("ConnectionError"),
        doc: "The server of a remote store is unreachable or the connection broke; the \
              message says whether the outcome of the request is unknown. Also a \
              ConnectionError.",
    },
    ClassSpec {
        name: "InternalError",
        code: "INTERNAL",
        builtin_base: None,
        doc: "A bug in DocDB (a Rust panic was caught); the interpreter keeps running.",
    },
];

const BASE_DOC: &str = "Base class of every DocDB error.\n\n\
Attributes:\n    code: the stable error code, for example 'NOT_FOUND' (see docs/errors.md).\n    \
batch_index: for a failed Database.batch(), the position of the failing operation; \
otherwise None.\n    outcome_unknown: for an UnavailableError, True when the connection to the server \
broke after the request was sent: it may or may not have been applied.";

/// `docdb.Error` followed by the leaves, in the order of [`LEAVES`].
struct Classes {
    base: Py<PyType>,
    leaves: Vec<Py<PyType>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Bound<'py, PyTuple>,
    code: Option<&str>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "docdb")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("code", code)?;
    ns.set_item("batch_index", py.None())?;
    ns.set_item("outcome_unknown", false)?;
    // KeyError (and OSError with several args) would print repr()s; show the engine's
    // message as it is.
    let base_exc = py.get_type::<pyo3::exceptions::PyBaseException>();
    ns.set_item("__str__", base_exc.getattr("__str__")?)?;
    let ty = py
        .get_type::<PyType>()
        .call1((name, bases, ns))?
        .cast_into::<PyType>()?;
    Ok(ty.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let exception = py.get_type::<pyo3::exceptions::PyException>();
        let base = make_class(py, "Error", PyTuple::new(py, [exception])?, None, BASE_DOC)?;
        let builtins = py.import("builtins")?;
        let mut leaves = Vec::with_capacity(LEAVES.len());
        for spec in LEAVES {
            let mut bases = vec![base.bind(py).clone().into_any()];
            if let Some(b) = spec.builtin_base {
                bases.push(builtins.getattr(b)?);
            }
            let bases = PyTuple::new(py, bases)?;
            leaves.push(make_class(py, spec.name, bases, Some(spec.code), spec.doc)?);
        }
        Ok(Classes { base, leaves })
    })
}

/// Adds `Error` and every leaf class to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("Error", c.base.bind(py))?;
    for (spec, ty) in LEAVES.iter().zip(&c.leaves) {
        m.add(spec.name, ty.bind(py))?;
    }
    Ok(())
}

/// THE mapping: the class of each engine error kind is the leaf whose `code` is the kind's
/// stable code (`ErrorKind::as_str`); a kind without one is still a `docdb.Error`, and the
/// tests (which walk `ERROR_CODES`, core's list) fail until it has its class.
fn class_name(kind: ErrorKind) -> &'static str {
    LEAVES
        .iter()
        .find(|spec| spec.code == kind.as_str())
        .map_or("Error", |spec| spec.name)
}

fn class_by_name<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    let c = classes(py)?;
    let ty = LEAVES
        .iter()
        .position(|s| s.name == name)
        .map_or(&c.base, |i| &c.leaves[i]);
    Ok(ty.bind(py).clone())
}

/// Builds the exception for `err`, with the engine's message, `batch_index` and (for I/O
/// errors) `errno`. Never fails: a failure while building it is returned instead.
pub(crate) fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|e| e)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let ty = class_by_name(py, class_name(err.kind()))?;
    let exc = ty.call1((err.to_string(),))?;
    if let Some(index) = err.batch_index() {
        exc.setattr("batch_index", index)?;
    }
    if err.outcome_unknown() {
        exc.setattr("outcome_unknown", true)?;
    }
    let mut inner = err;
    while let Error::Batch { source, .. } = inner {
        inner = source;
    }
    if let Error::Io { source, .. } = inner {
        if let Some(errno) = source.raw_os_error() {
            exc.setattr("errno", errno)?;
        }
    }
    Ok(PyErr::from_value(exc))
}

/// `docdb.InternalError` for a caught panic.
pub(crate) fn internal(py: Python<'_>, message: String) -> PyErr {
    match class_by_name(py, "InternalError") {
        Ok(ty) => PyErr::from_type(ty, message),
        Err(e) => e,
    }
}

/// Builds the engine error of the given stable code, for the tests of the mapping (some
/// kinds, such as `POISONED`, need a failing disk to happen for real).
fn engine_error(code: &str, message: String) -> Option<Error> {
    use std::path::PathBuf;
    Some(match code {
        "NOT_FOUND" => Error::NotFound(message),
        "ALREADY_EXISTS" => Error::AlreadyExists(message),
        "CONFLICT" => Error::Conflict { doc_id: 7 },
        "MEMORY_LIMIT" => Error::MemoryLimit {
            scope: message,
            requested: 2,
            limit: 1,
        },
        "PAYLOAD_TOO_LARGE" => Error::PayloadTooLarge { size: 2, max: 1 },
        "INVALID_NAME" => Error::InvalidName(message),
        "INVALID_ARGUMENT" => Error::InvalidArgument(message),
        "LOCKED" => Error::Locked(PathBuf::from(message)),
        "CLOSED" => Error::Closed(message),
        "CORRUPTION" => Error::Corruption {
            file: PathBuf::from(message),
            offset: 0,
            reason: "test".into(),
        },
        "POISONED" => Error::Poisoned(message),
        "UNSUPPORTED_VERSION" => Error::UnsupportedVersion {
            file: PathBuf::from(message),
            found: 9,
            supported: 1,
        },
        "IO" => Error::Io {
            context: message,
            source: std::io::Error::from_raw_os_error(28),
        },
        "UNAVAILABLE" => Error::Unavailable {
            message,
            outcome_unknown: true,
        },
        _ => return None,
    })
}

/// Testing aid: returns (does not raise) the exception the binding raises for an engine
/// error of the given code ('NOT_FOUND', ..., or 'INTERNAL' for a caught panic), optionally
/// wrapped as the failure of batch operation `batch_index`.
#[pyfunction]
#[pyo3(signature = (code, message, batch_index=None))]
pub(crate) fn _engine_error(
    py: Python<'_>,
    code: &str,
    message: String,
    batch_index: Option<usize>,
) -> PyResult<Py<PyAny>> {
    let err = if code == "INTERNAL" {
        internal(py, message)
    } else {
        let Some(mut e) = engine_error(code, message) else {
            return Err(PyValueError::new_err(format!(
                "unknown error code {code:?}"
            )));
        };
        if let Some(index) = batch_index {
            e = Error::Batch {
                index,
                source: Box::new(e),
            };
        }
        to_pyerr(py, e)
    };
    Ok(err.into_value(py).into_any())
}
