//! `docdb_snapshot` (a consistent read-only view) and `docdb_snapshot_scan` (its iterator).

use std::sync::{Arc, Mutex};

use docdb::{ErrorKind, Result, Snapshot};

use crate::buf::{docdb_buf, docdb_id_list};
use crate::panic::{boundary, call};
use crate::ptr::{self, arg, Out};
use crate::status::docdb_status;

/// A read-only view of a database at one commit version (opaque), from
/// `docdb_db_snapshot`; released by `docdb_snapshot_free`. Writers are never blocked by it.
/// Safe to use from several threads at once.
pub struct docdb_snapshot {
    // Shared with the scans made from it, so either can be freed first.
    snap: Arc<Snapshot>,
}

impl docdb_snapshot {
    pub(crate) fn into_raw(snap: Snapshot) -> *mut docdb_snapshot {
        Box::into_raw(Box::new(docdb_snapshot {
            snap: Arc::new(snap),
        }))
    }
}

impl docdb_snapshot {
    pub(crate) fn snapshot(&self) -> &Snapshot {
        &self.snap
    }
}

fn handle<'a>(p: *const docdb_snapshot) -> Result<&'a Snapshot> {
    Ok(&arg(p, "snapshot")?.snap)
}

/// Reads document `id` as of the snapshot into `*out` (free it with `docdb_buf_free`).
/// `DOCDB_NOT_FOUND` if it did not exist then.
#[no_mangle]
pub extern "C" fn docdb_snapshot_read(
    snapshot: *const docdb_snapshot,
    id: u64,
    out: *mut docdb_buf,
) -> docdb_status {
    call(|| {
        let (s, out) = (handle(snapshot)?, Out::new(out, "out")?);
        out.set(docdb_buf::from_vec(s.read(id)?));
        Ok(())
    })
}

/// Sets `*out` to whether document `id` existed as of the snapshot.
#[no_mangle]
pub extern "C" fn docdb_snapshot_contains(
    snapshot: *const docdb_snapshot,
    id: u64,
    out: *mut bool,
) -> docdb_status {
    call(|| {
        let (s, out) = (handle(snapshot)?, Out::new(out, "out")?);
        out.set(s.contains(id)?);
        Ok(())
    })
}

/// Sets `*out` to the number of documents in the snapshot.
#[no_mangle]
pub extern "C" fn docdb_snapshot_len(
    snapshot: *const docdb_snapshot,
    out: *mut u64,
) -> docdb_status {
    call(|| {
        let (s, out) = (handle(snapshot)?, Out::new(out, "out")?);
        out.set(s.len()?);
        Ok(())
    })
}

/// Sets `*out` to the commit version the snapshot reads at.
#[no_mangle]
pub extern "C" fn docdb_snapshot_version(
    snapshot: *const docdb_snapshot,
    out: *mut u64,
) -> docdb_status {
    call(|| {
        let (s, out) = (handle(snapshot)?, Out::new(out, "out")?);
        out.set(s.version());
        Ok(())
    })
}

/// Fills `*out` with the ids of every document in the snapshot, ascending, without reading
/// the documents. The caller releases the list with `docdb_id_list_free`.
#[no_mangle]
pub extern "C" fn docdb_snapshot_ids(
    snapshot: *const docdb_snapshot,
    out: *mut docdb_id_list,
) -> docdb_status {
    call(|| {
        let (s, out) = (handle(snapshot)?, Out::new(out, "out")?);
        out.set(docdb_id_list::from_vec(s.ids()?));
        Ok(())
    })
}

/// Releases the snapshot (its versions can then be reclaimed). Scans made from it stay
/// valid. NULL is a no-op; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn docdb_snapshot_free(snapshot: *mut docdb_snapshot) {
    boundary((), || {
        drop(ptr::take_box(snapshot));
    })
}

/// An iterator over the documents of a snapshot in ascending id order, or of a range in
/// its order (opaque), from `docdb_snapshot_scan_new` or the `_range_new` functions;
/// released by `docdb_snapshot_scan_free`. Calls from several threads are serialised (each
/// document is returned once).
pub struct docdb_snapshot_scan {
    state: Mutex<ScanState>,
}

/// What a scan walks: the engine's scan over a clone of a snapshot, or a transaction's
/// range.
pub(crate) type Docs = Box<dyn Iterator<Item = Result<(u64, Vec<u8>)>> + Send>;

struct ScanState {
    /// `None` once over.
    docs: Option<Docs>,
}

impl docdb_snapshot_scan {
    pub(crate) fn into_raw(docs: Docs) -> *mut docdb_snapshot_scan {
        Box::into_raw(Box::new(docdb_snapshot_scan {
            state: Mutex::new(ScanState { docs: Some(docs) }),
        }))
    }
}

/// Starts a scan of the snapshot `s`. The id list is taken now (about 24 bytes per document);
/// each document is read and verified when `docdb_snapshot_scan_next` reaches it. On
/// success `*out` receives a new handle to free with `docdb_snapshot_scan_free`; it keeps
/// the snapshot's view alive even if the snapshot handle is freed first.
#[no_mangle]
pub extern "C" fn docdb_snapshot_scan_new(
    snapshot: *const docdb_snapshot,
    out: *mut *mut docdb_snapshot_scan,
) -> docdb_status {
    call(|| {
        let (s, out) = (arg(snapshot, "snapshot")?, Out::new(out, "out")?);
        let docs = Snapshot::clone(&s.snap).into_scan()?;
        out.set(docdb_snapshot_scan::into_raw(Box::new(docs)));
        Ok(())
    })
}

/// Advances the scan. On `DOCDB_OK`, either `*out_done` is false and `*out_id`/`*out_doc`
/// hold the next document (the caller releases `out_doc` with `docdb_buf_free`), or
/// `*out_done` is true: the scan is over and `*out_id`/`*out_doc` are unchanged.
///
/// On an error (`DOCDB_CORRUPTION` for a damaged document, for example) nothing is written
/// to the outputs and the next call continues with the following document; after
/// `DOCDB_CLOSED` (the store was closed) or `DOCDB_UNAVAILABLE` (a remote store's
/// connection broke) the scan is over. On a store from `docdb_store_connect`, a scan
/// from a `_range_new` function ends at any error (its keyset pages cannot step over
/// a damaged document).
#[no_mangle]
pub extern "C" fn docdb_snapshot_scan_next(
    scan: *const docdb_snapshot_scan,
    out_id: *mut u64,
    out_doc: *mut docdb_buf,
    out_done: *mut bool,
) -> docdb_status {
    call(|| {
        let scan = arg(scan, "scan")?;
        let out_id = Out::new(out_id, "out_id")?;
        let out_doc = Out::new(out_doc, "out_doc")?;
        let out_done = Out::new(out_done, "out_done")?;
        let mut state = scan.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(next) = state.docs.as_mut().and_then(Iterator::next) else {
            state.docs = None;
            out_done.set(true);
            return Ok(());
        };
        match next {
            Ok((id, doc)) => {
                out_id.set(id);
                out_doc.set(docdb_buf::from_vec(doc));
                out_done.set(false);
                Ok(())
            }
            Err(e) => {
                if e.kind() == ErrorKind::Closed {
                    state.docs = None;
                }
                Err(e)
            }
        }
    })
}

/// Releases the scan. NULL is a no-op; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn docdb_snapshot_scan_free(scan: *mut docdb_snapshot_scan) {
    boundary((), || {
        drop(ptr::take_box(scan));
    })
}
