//! `docdb_db`: one logical database; plain document operations, each its own transaction.

use std::ffi::{c_char, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use docdb::{Database, Error, Result, Store};

use crate::buf::docdb_buf;
use crate::panic::{boundary, call};
use crate::ptr::{self, arg, Out};
use crate::snapshot::docdb_snapshot;
use crate::stats::docdb_db_stats;
use crate::status::docdb_status;
use crate::txn::docdb_txn;

/// A handle to one database of a store (opaque). Obtained from `docdb_store_create_db`,
/// `_open_db` or `_open_or_create_db`; closed by `docdb_db_close`, released by
/// `docdb_db_free`. Safe to use from several threads at once.
pub struct docdb_db {
    db: Database,
    name: CString,
    /// The store's `max_document_size`: lengths above it are refused before C's pointer
    /// is turned into a slice.
    pub(crate) max_document_size: u64,
    closed: AtomicBool,
}

impl docdb_db {
    pub(crate) fn into_raw(db: Database, store: &Store) -> *mut docdb_db {
        let name = CString::new(db.name()).unwrap_or_default();
        Box::into_raw(Box::new(docdb_db {
            db,
            name,
            max_document_size: store.max_document_size(),
            closed: AtomicBool::new(false),
        }))
    }

    /// The database, unless this handle was closed.
    pub(crate) fn get(&self) -> Result<&Database> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed(format!(
                "database handle '{}'",
                self.name.to_string_lossy()
            )));
        }
        Ok(&self.db)
    }

    fn data<'a>(&self, data: *const u8, len: usize) -> Result<&'a [u8]> {
        ptr::bytes(data, len, self.max_document_size)
    }
}

fn handle<'a>(p: *const docdb_db) -> Result<&'a docdb_db> {
    arg(p, "db")
}

/// Closes this handle: further calls with it return `DOCDB_CLOSED`. The database itself
/// stays open for other handles, and transactions and snapshots begun from this handle
/// keep working. Closing again returns `DOCDB_OK`. The handle stays allocated until
/// `docdb_db_free`.
#[no_mangle]
pub extern "C" fn docdb_db_close(db: *const docdb_db) -> docdb_status {
    call(|| {
        handle(db)?.closed.store(true, Ordering::Release);
        Ok(())
    })
}

/// Releases the handle. NULL is a no-op; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn docdb_db_free(db: *mut docdb_db) {
    boundary((), || {
        drop(ptr::take_box(db));
    })
}

/// The database's name, borrowed from the handle (valid until `docdb_db_free`, not to be
/// freed). NULL if `db` is NULL.
#[no_mangle]
pub extern "C" fn docdb_db_name(db: *const docdb_db) -> *const c_char {
    boundary(std::ptr::null(), || {
        handle(db).map_or(std::ptr::null(), |d| d.name.as_ptr())
    })
}

/// The database's catalog id (never reused, even after a drop) into `*out`.
#[no_mangle]
pub extern "C" fn docdb_db_id(db: *const docdb_db, out: *mut u64) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(d.id());
        Ok(())
    })
}

/// Inserts document `id` with `len` bytes at `data` (NULL allowed when `len` is 0).
/// `DOCDB_ALREADY_EXISTS` if the id is taken, `DOCDB_PAYLOAD_TOO_LARGE` if `len` exceeds
/// `max_document_size`, `DOCDB_MEMORY_LIMIT` if the memory caps would be exceeded.
/// The bytes are copied; the caller keeps ownership of `data`.
#[no_mangle]
pub extern "C" fn docdb_db_create(
    db: *const docdb_db,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let h = handle(db)?;
        h.get()?.create(id, h.data(data, len)?)
    })
}

/// Replaces the whole of document `id`; `DOCDB_NOT_FOUND` if it does not exist.
#[no_mangle]
pub extern "C" fn docdb_db_update(
    db: *const docdb_db,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let h = handle(db)?;
        h.get()?.update(id, h.data(data, len)?)
    })
}

/// Inserts or replaces document `id`.
#[no_mangle]
pub extern "C" fn docdb_db_put(
    db: *const docdb_db,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let h = handle(db)?;
        h.get()?.put(id, h.data(data, len)?)
    })
}

/// Reads the newest committed version of document `id` into `*out`, which the caller
/// releases with `docdb_buf_free`. `DOCDB_NOT_FOUND` if absent, `DOCDB_CORRUPTION` if its
/// record fails verification. On failure `*out` is unchanged.
#[no_mangle]
pub extern "C" fn docdb_db_read(db: *const docdb_db, id: u64, out: *mut docdb_buf) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(docdb_buf::from_vec(d.read(id)?));
        Ok(())
    })
}

/// Reads the newest committed version of document `id` into the caller's buffer: copies
/// it to `dst` if it fits in `cap` bytes, and sets `*out_len` to its length either way.
/// When `*out_len > cap` nothing was copied: call again with a buffer that large. A
/// document in the record cache is copied straight from it, without an allocation: the
/// fast read for callers with a reusable buffer, and for bindings that copy into their own
/// memory. `dst` may be NULL when `cap` is 0 (to learn the length). `DOCDB_NOT_FOUND` if
/// absent, `DOCDB_CORRUPTION` if its record fails verification. On failure `*out_len` and
/// `dst` are unchanged.
#[no_mangle]
pub extern "C" fn docdb_db_read_into(
    db: *const docdb_db,
    id: u64,
    dst: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out_len, "out_len")?);
        let dst = ptr::bytes_mut(dst, cap)?;
        out.set(d.read_into(id, dst)?);
        Ok(())
    })
}

/// Deletes document `id`; `DOCDB_NOT_FOUND` if it does not exist.
#[no_mangle]
pub extern "C" fn docdb_db_delete(db: *const docdb_db, id: u64) -> docdb_status {
    call(|| handle(db)?.get()?.delete(id))
}

/// Sets `*out` to whether document `id` exists.
#[no_mangle]
pub extern "C" fn docdb_db_contains(db: *const docdb_db, id: u64, out: *mut bool) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(d.contains(id)?);
        Ok(())
    })
}

/// Sets `*out` to the number of documents.
#[no_mangle]
pub extern "C" fn docdb_db_len(db: *const docdb_db, out: *mut u64) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(d.len()?);
        Ok(())
    })
}

/// Starts a transaction reading from a snapshot of the current state. On success `*out`
/// receives a new handle to free with `docdb_txn_free` (after `docdb_txn_commit` or
/// `docdb_txn_rollback`, or instead of them: freeing an unfinished one rolls it back).
#[no_mangle]
pub extern "C" fn docdb_db_begin(db: *const docdb_db, out: *mut *mut docdb_txn) -> docdb_status {
    call(|| {
        let h = handle(db)?;
        let out = Out::new(out, "out")?;
        let txn = h.get()?.begin()?;
        out.set(docdb_txn::into_raw(txn, h.max_document_size));
        Ok(())
    })
}

/// Takes a read-only snapshot of the database as it is now. On success `*out` receives a
/// new handle to free with `docdb_snapshot_free`. A snapshot keeps the versions it sees
/// alive (memory and disk) until freed: keep it short-lived.
#[no_mangle]
pub extern "C" fn docdb_db_snapshot(
    db: *const docdb_db,
    out: *mut *mut docdb_snapshot,
) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(docdb_snapshot::into_raw(d.snapshot()?));
        Ok(())
    })
}

/// Compacts the database: rewrites live documents into new segments and deletes the old
/// ones, while reads and writes continue. If `out_reclaimed` is not NULL it receives the
/// number of log bytes reclaimed.
#[no_mangle]
pub extern "C" fn docdb_db_compact(db: *const docdb_db, out_reclaimed: *mut u64) -> docdb_status {
    call(|| {
        let d = handle(db)?.get()?;
        let out = Out::optional(out_reclaimed);
        let reclaimed = d.compact()?;
        if let Some(out) = out {
            out.set(reclaimed);
        }
        Ok(())
    })
}

/// Writes a checkpoint so that the next open replays only the log that follows it.
#[no_mangle]
pub extern "C" fn docdb_db_checkpoint(db: *const docdb_db) -> docdb_status {
    call(|| handle(db)?.get()?.checkpoint())
}

/// fsyncs the database's log: every commit made so far becomes durable.
#[no_mangle]
pub extern "C" fn docdb_db_sync(db: *const docdb_db) -> docdb_status {
    call(|| handle(db)?.get()?.sync())
}

/// Fills `*out` with the database's statistics.
#[no_mangle]
pub extern "C" fn docdb_db_get_stats(
    db: *const docdb_db,
    out: *mut docdb_db_stats,
) -> docdb_status {
    call(|| {
        let (d, out) = (handle(db)?.get()?, Out::new(out, "out")?);
        out.set(docdb_db_stats::from(&d.stats()?));
        Ok(())
    })
}
