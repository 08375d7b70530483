//! The native module `docdb._docdb` of the Python package `docdb` (see `python/docdb`).
//!
//! Each class is a thin wrapper over a handle of the `docdb` facade (a store opened in this
//! process, or a server connected to): it converts arguments, runs the call without the GIL
//! (`convert::detach`) and maps errors in one place (`error.rs`). No engine logic lives
//! here.

mod convert;
mod database;
mod error;
mod range;
mod snapshot;
mod stats;
mod store;
mod transaction;

use pyo3::prelude::*;

/// Native core of the `docdb` package; import `docdb` instead.
#[pymodule]
fn _docdb(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", docdb::VERSION)?;
    m.add_class::<store::Store>()?;
    m.add_class::<database::Database>()?;
    m.add_class::<transaction::Transaction>()?;
    m.add_class::<snapshot::Snapshot>()?;
    m.add_class::<snapshot::SnapshotIterator>()?;
    m.add_class::<range::TransactionIterator>()?;
    m.add_class::<stats::DbInfo>()?;
    m.add_class::<stats::DbStats>()?;
    m.add_class::<stats::StoreStats>()?;
    error::register(m)?;
    m.add_function(wrap_pyfunction!(error::_engine_error, m)?)?;
    // Core's tables, so that the tests can compare this face with them (a kind, statistic
    // or option added to core fails those tests until the face has it).
    let codes: Vec<&str> = docdb::ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("ERROR_CODES", codes)?;
    fn names<T>(fields: &[(&'static str, T)]) -> Vec<&'static str> {
        fields.iter().map(|f| f.0).collect()
    }
    m.add("DB_STATS_FIELDS", names(docdb::DbStats::FIELDS))?;
    m.add("STORE_STATS_FIELDS", names(docdb::StoreStats::FIELDS))?;
    m.add("OPTION_NAMES", names(docdb::Options::FIELDS))?;
    Ok(())
}
