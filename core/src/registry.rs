//! The process-wide table of open data directories.
//!
//! A second [`Store::open`] of a directory this process already has open shares that open
//! store instead of failing with `Locked` on its own `flock`: Node workers and Python
//! libraries of one program can then use one store, as they would one LMDB environment.
//! Each `open` returns its own handle; the files close when the last handle is closed
//! (see [`Store::close`]). Another process still gets `Locked`.
//!
//! The table is keyed by the canonical path, so every spelling of a directory (relative,
//! through a symlink, with a trailing slash) finds the same store. It holds weak
//! references: an entry never keeps a store alive.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::error::Result;
use crate::fs::OsFs;
use crate::options::Options;
use crate::store::{Store, StoreInner};

/// Open directories by canonical path. A few entries at most: a plain list (a static hash
/// table's allocation reads as "possibly lost" to valgrind at exit).
type Table = Vec<(PathBuf, Weak<StoreInner<OsFs>>)>;

/// Held for the whole of an open, so that two threads opening one directory share one
/// store instead of racing for its lock.
static OPEN: Mutex<Table> = Mutex::new(Vec::new());

/// Opens `path`, sharing the store this process already has open there.
pub(crate) fn open(path: &Path, opts: Options) -> Result<Store<OsFs>> {
    let mut table = OPEN.lock();
    table.retain(|(_, weak)| weak.strong_count() > 0);
    // A directory that does not exist yet (or cannot be resolved) is open nowhere.
    if let Ok(key) = std::fs::canonicalize(path) {
        let open_here = table
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, weak)| weak.upgrade())
            // A store inherited through fork() belongs to the parent: never shared here.
            .filter(|inner| inner.opened_in_this_process());
        if let Some(inner) = open_here {
            if let Some(store) = Store::share(inner, path, &opts)? {
                return Ok(store);
            }
        }
    }
    let store = Store::open_with(OsFs, path, opts)?;
    if let Ok(key) = std::fs::canonicalize(path) {
        table.retain(|(k, _)| *k != key);
        table.push((key, Arc::downgrade(store.inner())));
    }
    Ok(store)
}
