//! Memory handed to C: document bytes (`docdb_buf`) and id arrays (`docdb_id_list`).
//! Both are the engine's `Vec` given away as is (no copy) and rebuilt to be freed.

use std::mem::ManuallyDrop;

/// Bytes returned by DocDB (a document). The caller owns them and releases them with
/// `docdb_buf_free`.
///
/// `data` is never NULL in a filled buffer, even when `len` is 0. Treat `capacity` as
/// private: it is what `docdb_buf_free` needs to release the memory.
#[repr(C)]
pub struct docdb_buf {
    /// The bytes (read-only for the caller).
    pub data: *mut u8,
    /// Number of bytes at `data`.
    pub len: usize,
    /// Size of the allocation; do not change it.
    pub capacity: usize,
}

impl docdb_buf {
    pub(crate) fn from_vec(v: Vec<u8>) -> docdb_buf {
        let mut v = ManuallyDrop::new(v);
        docdb_buf {
            data: v.as_mut_ptr(),
            len: v.len(),
            capacity: v.capacity(),
        }
    }
}

/// Releases the bytes of a buffer filled by DocDB and resets it to `{NULL, 0, 0}`.
///
/// `buf == NULL` and an already reset (or zero-initialised) buffer are no-ops, so freeing
/// the same `docdb_buf` variable twice is safe. Freeing a copy of a freed buffer, or a
/// buffer not filled by DocDB, is undefined behaviour.
#[no_mangle]
pub extern "C" fn docdb_buf_free(buf: *mut docdb_buf) {
    crate::panic::boundary((), || {
        let Some(b) = crate::ptr::filled(buf) else {
            return;
        };
        if !b.data.is_null() {
            // SAFETY: `data`/`len`/`capacity` are the parts of a `Vec<u8>` given away by
            // `from_vec` and not freed since (freeing resets `data` to NULL below).
            drop(unsafe { Vec::from_raw_parts(b.data, b.len, b.capacity) });
        }
        *b = docdb_buf {
            data: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        };
    })
}

/// An array of document ids returned by DocDB (ascending). The caller owns it and releases
/// it with `docdb_id_list_free`. Treat `capacity` as private.
#[repr(C)]
pub struct docdb_id_list {
    /// The ids; never NULL in a filled list, even when `len` is 0.
    pub ids: *mut u64,
    /// Number of ids.
    pub len: usize,
    /// Size of the allocation, in ids; do not change it.
    pub capacity: usize,
}

impl docdb_id_list {
    pub(crate) fn from_vec(v: Vec<u64>) -> docdb_id_list {
        let mut v = ManuallyDrop::new(v);
        docdb_id_list {
            ids: v.as_mut_ptr(),
            len: v.len(),
            capacity: v.capacity(),
        }
    }
}

/// Releases an id list filled by DocDB and resets it to `{NULL, 0, 0}`. NULL and a reset
/// list are no-ops.
#[no_mangle]
pub extern "C" fn docdb_id_list_free(list: *mut docdb_id_list) {
    crate::panic::boundary((), || {
        let Some(l) = crate::ptr::filled(list) else {
            return;
        };
        if !l.ids.is_null() {
            // SAFETY: the parts of a `Vec<u64>` given away by `from_vec`, not yet freed.
            drop(unsafe { Vec::from_raw_parts(l.ids, l.len, l.capacity) });
        }
        *l = docdb_id_list {
            ids: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        };
    })
}
