//! `docdb_txn`: a multi-operation transaction with snapshot isolation.

use std::sync::{Arc, Mutex, MutexGuard};

use docdb::{Error, Result, Transaction};

use crate::buf::docdb_buf;
use crate::panic::{boundary, call};
use crate::ptr::{self, arg, Out};
use crate::status::docdb_status;

/// A transaction (opaque), from `docdb_db_begin`. It reads from the snapshot taken at
/// begin plus its own writes, and buffers writes in memory until `docdb_txn_commit`.
///
/// After `docdb_txn_commit` (successful or not) or `docdb_txn_rollback` the transaction is
/// finished: every call but `docdb_txn_free` returns `DOCDB_CLOSED`. The handle is
/// released only by `docdb_txn_free`, which rolls back an unfinished transaction.
/// Calls from several threads are serialised.
pub struct docdb_txn {
    /// Shared with the range scans of the transaction, which find `None` once it is over.
    txn: Arc<Mutex<Option<Transaction>>>,
    max_document_size: u64,
}

impl docdb_txn {
    pub(crate) fn into_raw(txn: Transaction, max_document_size: u64) -> *mut docdb_txn {
        Box::into_raw(Box::new(docdb_txn {
            txn: Arc::new(Mutex::new(Some(txn))),
            max_document_size,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Transaction>> {
        // A panic inside a transaction call leaves the transaction as consistent as any
        // failed call does: keep using it.
        self.txn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn shared(&self) -> Arc<Mutex<Option<Transaction>>> {
        self.txn.clone()
    }

    /// Runs `f` on the transaction unless it is finished.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Transaction) -> Result<T>) -> Result<T> {
        match self.lock().as_mut() {
            Some(t) => f(t),
            None => Err(finished()),
        }
    }
}

pub(crate) fn finished() -> Error {
    Error::Closed("transaction (already committed or rolled back)".to_string())
}

fn handle<'a>(p: *const docdb_txn) -> Result<&'a docdb_txn> {
    arg(p, "txn")
}

/// Reads document `id` as this transaction sees it (its own writes included) into `*out`,
/// which the caller releases with `docdb_buf_free`. `DOCDB_NOT_FOUND` if absent.
#[no_mangle]
pub extern "C" fn docdb_txn_read(
    txn: *const docdb_txn,
    id: u64,
    out: *mut docdb_buf,
) -> docdb_status {
    call(|| {
        let (t, out) = (handle(txn)?, Out::new(out, "out")?);
        let data = t.with(|t| t.read(id))?;
        out.set(docdb_buf::from_vec(data));
        Ok(())
    })
}

/// Sets `*out` to whether document `id` exists as this transaction sees it.
#[no_mangle]
pub extern "C" fn docdb_txn_contains(
    txn: *const docdb_txn,
    id: u64,
    out: *mut bool,
) -> docdb_status {
    call(|| {
        let (t, out) = (handle(txn)?, Out::new(out, "out")?);
        out.set(t.with(|t| t.contains(id))?);
        Ok(())
    })
}

/// Stages the creation of document `id`; `DOCDB_ALREADY_EXISTS` if it exists as seen here.
/// The bytes are copied.
#[no_mangle]
pub extern "C" fn docdb_txn_create(
    txn: *const docdb_txn,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let t = handle(txn)?;
        let data = ptr::bytes(data, len, t.max_document_size)?;
        t.with(|t| t.create(id, data))
    })
}

/// Stages a replacement of document `id`; `DOCDB_NOT_FOUND` if it does not exist as seen
/// here.
#[no_mangle]
pub extern "C" fn docdb_txn_update(
    txn: *const docdb_txn,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let t = handle(txn)?;
        let data = ptr::bytes(data, len, t.max_document_size)?;
        t.with(|t| t.update(id, data))
    })
}

/// Stages an insert-or-replace of document `id`.
#[no_mangle]
pub extern "C" fn docdb_txn_put(
    txn: *const docdb_txn,
    id: u64,
    data: *const u8,
    len: usize,
) -> docdb_status {
    call(|| {
        let t = handle(txn)?;
        let data = ptr::bytes(data, len, t.max_document_size)?;
        t.with(|t| t.put(id, data))
    })
}

/// Stages the deletion of document `id`; `DOCDB_NOT_FOUND` if it does not exist as seen
/// here.
#[no_mangle]
pub extern "C" fn docdb_txn_delete(txn: *const docdb_txn, id: u64) -> docdb_status {
    call(|| handle(txn)?.with(|t| t.delete(id)))
}

/// Sets `*out` to the number of staged writes.
#[no_mangle]
pub extern "C" fn docdb_txn_pending(txn: *const docdb_txn, out: *mut usize) -> docdb_status {
    call(|| {
        let (t, out) = (handle(txn)?, Out::new(out, "out")?);
        out.set(t.with(|t| t.pending())?);
        Ok(())
    })
}

/// Sets `*out` to the version this transaction reads at.
#[no_mangle]
pub extern "C" fn docdb_txn_read_version(txn: *const docdb_txn, out: *mut u64) -> docdb_status {
    call(|| {
        let (t, out) = (handle(txn)?, Out::new(out, "out")?);
        out.set(t.with(|t| Ok(t.read_version()))?);
        Ok(())
    })
}

/// Commits every staged write atomically. `out_version` may be NULL; on success it
/// receives the commit's version (the read version if nothing was written).
///
/// `DOCDB_CONFLICT` if another commit changed a document this transaction writes after it
/// began: nothing was applied. Whatever the result, the transaction is finished
/// afterwards (a second commit returns `DOCDB_CLOSED`); release it with `docdb_txn_free`.
#[no_mangle]
pub extern "C" fn docdb_txn_commit(txn: *const docdb_txn, out_version: *mut u64) -> docdb_status {
    call(|| {
        let t = handle(txn)?;
        let out = Out::optional(out_version);
        let taken = t.lock().take().ok_or_else(finished)?;
        let version = taken.commit()?;
        if let Some(out) = out {
            out.set(version);
        }
        Ok(())
    })
}

/// Discards every staged write and finishes the transaction. `DOCDB_CLOSED` if it was
/// already finished.
#[no_mangle]
pub extern "C" fn docdb_txn_rollback(txn: *const docdb_txn) -> docdb_status {
    call(|| {
        let taken = handle(txn)?.lock().take().ok_or_else(finished)?;
        taken.rollback();
        Ok(())
    })
}

/// Releases the handle, rolling back the transaction if it is unfinished. NULL is a no-op;
/// freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn docdb_txn_free(txn: *mut docdb_txn) {
    boundary((), || {
        // Rolls back now, even while a range scan of it still holds the shared state.
        if let Some(t) = ptr::take_box(txn) {
            drop(t.lock().take());
        }
    })
}
