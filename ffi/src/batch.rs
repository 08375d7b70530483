//! `docdb_db_batch`: an array of operations applied atomically, with a status per operation.

use docdb::{BatchOp, Error, Result};

use crate::db::docdb_db;
use crate::panic::boundary;
use crate::ptr::{self, arg, Out};
use crate::status::{self, docdb_status};

/// What a `docdb_batch_op` does (values of `docdb_batch_op.kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum docdb_batch_kind {
    /// Insert a new document; fails with `DOCDB_ALREADY_EXISTS` if the id is taken.
    DOCDB_BATCH_CREATE = 0,
    /// Replace an existing document; fails with `DOCDB_NOT_FOUND` if absent.
    DOCDB_BATCH_UPDATE = 1,
    /// Insert or replace.
    DOCDB_BATCH_PUT = 2,
    /// Remove an existing document; fails with `DOCDB_NOT_FOUND` if absent. `data` and
    /// `len` are ignored.
    DOCDB_BATCH_DELETE = 3,
}

/// One operation of `docdb_db_batch`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct docdb_batch_op {
    /// One of `docdb_batch_kind` (an integer so that any value C passes is checked).
    pub kind: u32,
    /// The document id.
    pub id: u64,
    /// The document bytes for CREATE/UPDATE/PUT (NULL allowed when `len` is 0); borrowed
    /// for the duration of the call.
    pub data: *const u8,
    /// Number of bytes at `data`.
    pub len: usize,
}

fn to_core<'a>(op: &docdb_batch_op, limit: u64) -> Result<BatchOp<'a>> {
    let kind = op.kind;
    let data = || ptr::bytes(op.data, op.len, limit);
    Ok(match kind {
        0 => BatchOp::Create(op.id, data()?),
        1 => BatchOp::Update(op.id, data()?),
        2 => BatchOp::Put(op.id, data()?),
        3 => BatchOp::Delete(op.id),
        other => {
            return Err(Error::InvalidArgument(format!(
                "kind must be a docdb_batch_kind value, not {other}"
            )))
        }
    })
}

/// Applies `n_ops` operations atomically, in order, as one commit: either all take effect
/// or none does. Operations on the same id see the earlier ones (a CREATE then an UPDATE of
/// the same id succeeds).
///
/// `statuses` may be NULL; otherwise it must have room for `n_ops` entries, and every
/// entry is written: all `DOCDB_OK` on success. When the batch fails because of one
/// operation (bad kind or data, `DOCDB_PAYLOAD_TOO_LARGE`, `DOCDB_NOT_FOUND`,
/// `DOCDB_ALREADY_EXISTS`), that operation's entry holds its status and every other entry
/// `DOCDB_OK` (checking stops at the first failure: first every operation's kind, data and
/// size, in order, then what the engine checks, in order; so a bad kind at index 2 is
/// reported before an existing id that index 1 would create);
/// the function returns the same status. When the batch fails as a whole (`DOCDB_CLOSED`,
/// `DOCDB_MEMORY_LIMIT`, `DOCDB_IO`, ...) every entry is `DOCDB_OK` and only the return
/// value tells. In every failure nothing was applied.
///
/// `out_version` may be NULL; on success it receives the commit's version. `ops` may be
/// NULL when `n_ops` is 0 (an empty batch commits nothing). `DOCDB_INVALID_ARGUMENT`
/// without writing `statuses` if `ops` is NULL while `n_ops` is not 0.
#[no_mangle]
pub extern "C" fn docdb_db_batch(
    db: *const docdb_db,
    ops: *const docdb_batch_op,
    n_ops: usize,
    statuses: *mut docdb_status,
    out_version: *mut u64,
) -> docdb_status {
    boundary(docdb_status::DOCDB_INTERNAL, || {
        // When the array itself is rejected, the length is not trusted for `statuses`.
        let statuses = if n_ops == 0 || (!ops.is_null() && n_ops <= MAX_OPS) {
            statuses
        } else {
            std::ptr::null_mut()
        };
        match batch(db, ops, n_ops, out_version) {
            Ok(()) => {
                fill(statuses, n_ops, None);
                docdb_status::DOCDB_OK
            }
            Err(e) => {
                let st = status::fail(&e);
                fill(statuses, n_ops, e.batch_index().map(|i| (i, st)));
                st
            }
        }
    })
}

/// More operations than this cannot be a real array.
const MAX_OPS: usize = isize::MAX as usize / std::mem::size_of::<docdb_batch_op>();

fn batch(
    db: *const docdb_db,
    ops: *const docdb_batch_op,
    n_ops: usize,
    out_version: *mut u64,
) -> Result<()> {
    let h = arg(db, "db")?;
    let ops: &[docdb_batch_op] = if n_ops == 0 {
        &[]
    } else if ops.is_null() {
        return Err(Error::InvalidArgument(format!(
            "ops is NULL but n_ops is {n_ops}"
        )));
    } else if n_ops > MAX_OPS {
        return Err(Error::InvalidArgument(format!(
            "n_ops {n_ops} is too large"
        )));
    } else {
        // SAFETY: non-NULL and the byte size fits in isize; the C contract is that `ops`
        // points to `n_ops` initialised operations for the duration of the call.
        unsafe { std::slice::from_raw_parts(ops, n_ops) }
    };
    let out = Out::optional(out_version);
    let at = |index: usize, e: Error| Error::Batch {
        index,
        source: Box::new(e),
    };
    let core_ops = ops
        .iter()
        .enumerate()
        .map(|(i, op)| to_core(op, h.max_document_size).map_err(|e| at(i, e)))
        .collect::<Result<Vec<_>>>()?;
    let version = h.get()?.batch(&core_ops)?;
    if let Some(out) = out {
        out.set(version);
    }
    Ok(())
}

/// Writes every status entry: `DOCDB_OK`, but `failed`'s own status at its index.
fn fill(statuses: *mut docdb_status, n: usize, failed: Option<(usize, docdb_status)>) {
    if statuses.is_null() {
        return;
    }
    for i in 0..n {
        let st = match failed {
            Some((index, st)) if index == i => st,
            _ => docdb_status::DOCDB_OK,
        };
        // SAFETY: non-NULL; the C contract is that `statuses` has room for `n_ops`
        // entries. Written without reading or forming a reference to what C left there.
        unsafe { statuses.add(i).write(st) };
    }
}
