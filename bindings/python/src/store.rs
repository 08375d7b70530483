//! `docdb.Store`: an open data directory.

use std::path::PathBuf;

use std::time::Duration;

use docdb::{ConnectOptions, Options, Sync};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::convert::detach;
use crate::database::Database;
use crate::error;
use crate::stats::{DbInfo, StoreStats};

/// An open DocDB data directory holding named databases, in this process or behind a
/// server.
///
/// Open one with docdb.open(path, ...), or connect to a `docdb serve` with
/// docdb.connect(url, ...): the same methods work on both. A Store is a context manager:
/// leaving the `with` block closes it. After close(), every call on the store and on its databases,
/// transactions and snapshots raises ClosedError. Opening a directory this process
/// already has open returns a new handle on the same open store (InvalidArgumentError if
/// the options differ): close() then releases that handle, and the files close when the
/// last handle is closed. Another process gets LockedError.
#[pyclass(frozen, module = "docdb")]
pub(crate) struct Store {
    inner: docdb::Store,
}

fn parse_sync(sync: &str) -> Result<Sync, docdb::Error> {
    match sync {
        "full" => Ok(Sync::Full),
        "normal" => Ok(Sync::Normal),
        other => Err(docdb::Error::InvalidArgument(format!(
            "sync must be 'full' or 'normal', not {other:?}"
        ))),
    }
}

/// A timeout in seconds: positive and finite, else InvalidArgumentError.
fn seconds(py: Python<'_>, what: &str, t: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(t)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            error::to_pyerr(
                py,
                docdb::Error::InvalidArgument(format!(
                    "{what} must be a positive number of seconds, got {t}"
                )),
            )
        })
}

#[pymethods]
impl Store {
    /// Opens (creating if needed) the data directory at `path`. Prefer docdb.open(), which
    /// documents every option. Options left as None keep the engine's defaults.
    #[new]
    #[pyo3(signature = (
        path, *, sync = "full", max_document_size = None, memory_limit = None,
        db_memory_limit = None, segment_size = None, compaction_min_dead_bytes = None,
        compaction_dead_ratio = None, auto_compact = None, checkpoint_bytes = None,
        index_shards = None, cache_size = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        sync: &str,
        max_document_size: Option<u64>,
        memory_limit: Option<u64>,
        db_memory_limit: Option<u64>,
        segment_size: Option<u64>,
        compaction_min_dead_bytes: Option<u64>,
        compaction_dead_ratio: Option<f64>,
        auto_compact: Option<bool>,
        checkpoint_bytes: Option<u64>,
        index_shards: Option<usize>,
        cache_size: Option<u64>,
    ) -> PyResult<Self> {
        let mut o = Options {
            sync: parse_sync(sync).map_err(|e| error::to_pyerr(py, e))?,
            ..Options::default()
        };
        let set = |slot: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut o.max_document_size, max_document_size);
        set(&mut o.memory_limit, memory_limit);
        set(&mut o.db_memory_limit, db_memory_limit);
        set(&mut o.segment_size, segment_size);
        set(&mut o.compaction_min_dead_bytes, compaction_min_dead_bytes);
        set(&mut o.checkpoint_bytes, checkpoint_bytes);
        set(&mut o.cache_size, cache_size);
        if let Some(v) = compaction_dead_ratio {
            o.compaction_dead_ratio = v;
        }
        if let Some(v) = auto_compact {
            o.auto_compact = v;
        }
        if let Some(v) = index_shards {
            o.index_shards = v;
        }
        let inner = detach(py, move || docdb::Store::open(path, o))?;
        Ok(Store { inner })
    }

    /// Connects to a `docdb serve`; prefer docdb.connect(), which documents the arguments.
    #[staticmethod]
    #[pyo3(signature = (
        url, token = None, *, ca_file = None, server_name = None, connect_timeout = None,
        request_timeout = None,
    ))]
    fn connect(
        py: Python<'_>,
        url: &str,
        token: Option<String>,
        ca_file: Option<PathBuf>,
        server_name: Option<String>,
        connect_timeout: Option<f64>,
        request_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut o = ConnectOptions {
            token,
            ca_file,
            server_name,
            ..ConnectOptions::default()
        };
        if let Some(t) = connect_timeout {
            o.connect_timeout = seconds(py, "connect_timeout", t)?;
        }
        // 0 waits as long as the server keeps the connection, as in C and Go.
        match request_timeout {
            Some(0.0) => o.request_timeout = None,
            Some(t) => o.request_timeout = Some(seconds(py, "request_timeout", t)?),
            None => {}
        }
        let inner = detach(py, move || docdb::Store::connect(url, o))?;
        Ok(Store { inner })
    }

    /// The data directory, as given to open(); None for a store connected to a server.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.path().map(PathBuf::from)
    }

    /// The server's URL, as given to connect(); None for a store opened in this process.
    #[getter]
    fn url(&self) -> Option<&str> {
        self.inner.url()
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Creates the database `name` and returns it. AlreadyExistsError if the name is taken,
    /// InvalidNameError if it is not 1 to 64 characters of [A-Za-z0-9_.-] (not starting
    /// with '.').
    fn create_db(&self, py: Python<'_>, name: &str) -> PyResult<Database> {
        let s = &self.inner;
        detach(py, || s.create_db(name)).map(Database::new)
    }

    /// Opens the existing database `name`. NotFoundError if there is none.
    fn open_db(&self, py: Python<'_>, name: &str) -> PyResult<Database> {
        let s = &self.inner;
        detach(py, || s.open_db(name)).map(Database::new)
    }

    /// Opens the database `name`, creating it first if it does not exist.
    fn open_or_create_db(&self, py: Python<'_>, name: &str) -> PyResult<Database> {
        let s = &self.inner;
        detach(py, || s.open_or_create_db(name)).map(Database::new)
    }

    /// Drops the database `name`: removes it durably and deletes its files. Open handles to
    /// it raise ClosedError from then on. NotFoundError if there is none.
    fn drop_db(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let s = &self.inner;
        detach(py, || s.drop_db(name))
    }

    /// The databases of the store, ordered by id, as a list of DbInfo(id, name).
    fn list_dbs(&self, py: Python<'_>) -> PyResult<Vec<DbInfo>> {
        let s = &self.inner;
        let dbs = detach(py, || s.list_dbs())?;
        Ok(dbs.into_iter().map(DbInfo::from).collect())
    }

    /// Statistics of the store and of each database opened by this process (StoreStats).
    fn stats(&self, py: Python<'_>) -> PyResult<StoreStats> {
        let s = &self.inner;
        detach(py, || s.stats()).map(StoreStats::from)
    }

    /// Writes a checkpoint of every open database, so that the next open replays less log.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        let s = &self.inner;
        detach(py, || s.checkpoint())
    }

    /// fsyncs every open database's log: every commit so far becomes durable (useful with
    /// sync="normal").
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        let s = &self.inner;
        detach(py, || s.sync())
    }

    /// Writes a consistent copy of the store into `path` (absent, or an empty directory
    /// outside the store) while other threads keep reading and writing. The copy holds,
    /// for every database, exactly the commits made before one instant; it is fsynced and
    /// verified by opening it before this returns, and opens with docdb.open() like any
    /// store. `progress(done, total)` is called with the bytes copied so far; an exception
    /// it raises stops further calls and is raised once the backup has finished. A
    /// destination that is not empty raises AlreadyExistsError; on failure nothing of the
    /// copy is left. The GIL is released meanwhile.
    #[pyo3(signature = (path, progress=None))]
    fn backup(&self, py: Python<'_>, path: PathBuf, progress: Option<Py<PyAny>>) -> PyResult<()> {
        let s = &self.inner;
        let raised: std::sync::Mutex<Option<PyErr>> = std::sync::Mutex::new(None);
        detach(py, || {
            s.backup(&path, |done, total| {
                let (Some(cb), Ok(mut raised)) = (&progress, raised.lock()) else {
                    return;
                };
                if raised.is_none() {
                    *raised = Python::attach(|py| cb.call1(py, (done, total)).err());
                }
            })
        })?;
        match raised.into_inner() {
            Ok(Some(err)) => Err(err),
            _ => Ok(()),
        }
    }

    /// Closes the store: waits for background work, checkpoints and syncs every open
    /// database and releases the directory lock. Calling it again does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let s = &self.inner;
        detach(py, || s.close())
    }

    /// Returns the store itself.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the store; exceptions from the `with` block propagate.
    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = (exc_type, exc_value, traceback);
        self.close(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "docdb.Store({:?}{})",
            self.inner.location(),
            if self.inner.is_closed() {
                ", closed"
            } else {
                ""
            }
        )
    }
}
