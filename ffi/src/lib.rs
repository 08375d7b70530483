//! DocDB's C API: `libdocdb.so` / `libdocdb.a`, described by the generated
//! `include/docdb.h` and by `docs/c-api.md`.
//!
//! Conventions (the same as rustls-ffi's and hyper's C APIs):
//! - every symbol starts with `docdb_`, named noun then verb (`docdb_db_read`);
//! - every fallible function returns a [`docdb_status`]; the detailed message of the last
//!   failure on the calling thread is `docdb_errmsg()`;
//! - handles are opaque; each has a `_free`, and stores and databases a `_close`;
//! - no panic crosses the boundary: every export runs its body through
//!   [`panic::boundary`], which turns a panic into `DOCDB_INTERNAL`;
//! - every pointer argument is checked for NULL (`ptr.rs`); a non-NULL pointer must be
//!   valid, as everywhere in C.
//!
//! Module per concept: `status.rs` is the one place mapping `ErrorKind` to a status.

// The exported names are C names: `docdb_store`, `DOCDB_OK`.
#![allow(non_camel_case_types)]

// The order of these groups is the order of include/docdb.h: statuses and messages,
// options, the store, databases, batches, transactions, snapshots, returned memory.
mod status;

mod errmsg;

mod options;

mod store;

mod db;

mod batch;

mod txn;

mod snapshot;

mod range;

mod stats;

mod buf;

mod panic;
mod ptr;

pub use batch::{docdb_batch_kind, docdb_batch_op, docdb_db_batch};
pub use buf::{docdb_buf, docdb_buf_free, docdb_id_list, docdb_id_list_free};
pub use db::*;
pub use errmsg::docdb_errmsg;
pub use options::{
    docdb_connect_options, docdb_connect_options_default, docdb_options, docdb_options_default,
    docdb_sync,
};
pub use range::*;
pub use snapshot::*;
pub use stats::{docdb_db_stats, docdb_store_stats};
pub use status::{docdb_status, docdb_status_str};
pub use store::*;
pub use txn::*;

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// The library's version, for example `"0.1.0"`.
///
/// Returns a static NUL-terminated string: never NULL, never freed by the caller.
#[no_mangle]
pub extern "C" fn docdb_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    panic::boundary(c"".as_ptr(), || {
        VERSION
            .get_or_init(|| CString::new(docdb::VERSION).unwrap_or_default())
            .as_ptr()
    })
}
