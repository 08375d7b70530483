//! The native module `docdb._docdb` of the Python package `docdb` (see `python/docdb`).
//!
//! Each class is a thin wrapper over a handle of `docdb_core`: it converts arguments, runs
//! the engine call without the GIL (`convert::detach`) and maps errors in one place
//! (`error.rs`). No engine logic lives here.

mod convert;
mod database;
mod error;
mod snapshot;
mod stats;
mod store;
mod transaction;

use pyo3::prelude::*;

/// Native core of the `docdb` package; import `docdb` instead.
#[pymodule]
fn _docdb(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", docdb_core::VERSION)?;
    m.add_class::<store::Store>()?;
    m.add_class::<database::Database>()?;
    m.add_class::<transaction::Transaction>()?;
    m.add_class::<snapshot::Snapshot>()?;
    m.add_class::<snapshot::SnapshotIterator>()?;
    m.add_class::<stats::DbInfo>()?;
    m.add_class::<stats::DbStats>()?;
    m.add_class::<stats::StoreStats>()?;
    error::register(m)?;
    m.add_function(wrap_pyfunction!(error::_engine_error, m)?)?;
    Ok(())
}
