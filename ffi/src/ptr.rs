//! Checked conversions of the raw pointers C passes in. Every export goes through these,
//! so NULL is always `DOCDB_INVALID_ARGUMENT` (never a crash). A non-NULL pointer must be
//! valid as documented in docs/c-api.md (a live handle from its constructor, a readable
//! buffer of the given length, a NUL-terminated string): that part of the contract C
//! cannot check, and neither can we.

use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use docdb::{Error, Result};

fn null(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is NULL"))
}

/// Borrows a handle (or input struct) that C passed by pointer.
pub(crate) fn arg<'a, T>(p: *const T, what: &str) -> Result<&'a T> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL; the C contract is that a non-NULL pointer points to a live `T`
    // (a handle from its constructor not yet freed, or an initialised struct) for the
    // duration of the call.
    Ok(unsafe { &*p })
}

/// An output location C passed by pointer; written only once the call has succeeded, so
/// "on failure `*out` is unchanged".
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub(crate) fn new(p: *mut T, what: &str) -> Result<Out<T>> {
        if p.is_null() {
            Err(null(what))
        } else {
            Ok(Out(p))
        }
    }

    /// `None` for a NULL pointer: for optional outputs.
    pub(crate) fn optional(p: *mut T) -> Option<Out<T>> {
        (!p.is_null()).then_some(Out(p))
    }

    pub(crate) fn set(self, value: T) {
        // SAFETY: non-NULL (checked in `new`/`optional`); the C contract is that it points
        // to writable memory for a `T`. `write` does not read or drop the old contents,
        // which may be uninitialised.
        unsafe { self.0.write(value) }
    }
}

/// Borrows `len` bytes at `data`. NULL is accepted only with `len == 0` (an empty
/// document). `limit` is checked before the slice exists: a length larger than the
/// documents this store accepts is `DOCDB_PAYLOAD_TOO_LARGE` without touching memory that
/// may not be there.
pub(crate) fn bytes<'a>(data: *const u8, len: usize, limit: u64) -> Result<&'a [u8]> {
    if len as u64 > limit {
        return Err(Error::PayloadTooLarge {
            size: len as u64,
            max: limit,
        });
    }
    if data.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::InvalidArgument(format!(
            "data is NULL but len is {len}"
        )));
    }
    // `limit` is at most 1 GiB (the engine's maximum), so `len <= isize::MAX` holds.
    // SAFETY: non-NULL; the C contract is that `data` points to `len` readable bytes that
    // stay unchanged for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Borrows `cap` writable bytes at `dst` (an output buffer). NULL is accepted only with
/// `cap == 0`.
pub(crate) fn bytes_mut<'a>(dst: *mut u8, cap: usize) -> Result<&'a mut [u8]> {
    if dst.is_null() {
        if cap == 0 {
            return Ok(&mut []);
        }
        return Err(Error::InvalidArgument(format!(
            "dst is NULL but cap is {cap}"
        )));
    }
    if cap > isize::MAX as usize {
        return Err(Error::InvalidArgument(format!("cap {cap} is too large")));
    }
    // SAFETY: non-NULL and at most isize::MAX bytes; the C contract is that `dst` points
    // to `cap` writable bytes that nothing else uses for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(dst, cap) })
}

/// A NUL-terminated C string.
fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a CStr> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL; the C contract is that it is a NUL-terminated string that stays
    // unchanged for the duration of the call.
    Ok(unsafe { CStr::from_ptr(p) })
}

/// A database name: must be UTF-8 (the engine then checks the characters).
pub(crate) fn name<'a>(p: *const c_char) -> Result<&'a str> {
    c_str(p, "name")?
        .to_str()
        .map_err(|_| Error::InvalidArgument("database name is not valid UTF-8".to_string()))
}

/// An optional UTF-8 string argument (a URL, a token): `None` for NULL.
pub(crate) fn opt_utf8<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    c_str(p, what)?
        .to_str()
        .map(Some)
        .map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// A UTF-8 string argument that must be given.
pub(crate) fn utf8<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    opt_utf8(p, what)?.ok_or_else(|| null(what))
}

/// A file-system path: any bytes but NUL, as the operating system takes them.
pub(crate) fn path(p: *const c_char) -> Result<PathBuf> {
    opt_path(p, "path")?.ok_or_else(|| null("path"))
}

/// An optional file-system path: `None` for NULL.
pub(crate) fn opt_path(p: *const c_char, what: &str) -> Result<Option<PathBuf>> {
    if p.is_null() {
        return Ok(None);
    }
    let bytes = c_str(p, what)?.to_bytes();
    if bytes.is_empty() {
        return Err(Error::InvalidArgument(format!("{what} is empty")));
    }
    Ok(Some(PathBuf::from(OsStr::from_bytes(bytes))))
}

/// Takes back a handle that DocDB gave to C with `Box::into_raw`, for its `_free`
/// function. `None` for NULL (freeing NULL is a no-op).
pub(crate) fn take_box<T>(p: *mut T) -> Option<Box<T>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL; the C contract of every `_free` function is that the handle came
    // from its DocDB constructor (a `Box::into_raw` of a `T`) and was not freed before.
    Some(unsafe { Box::from_raw(p) })
}

/// Borrows a struct DocDB filled for C (a `docdb_buf`, a list) that C passes back to be
/// freed. `None` for NULL.
pub(crate) fn filled<'a, T>(p: *mut T) -> Option<&'a mut T> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL; the C contract is that it points to a zeroed struct or one DocDB
    // filled and C did not modify, not shared with another thread during the call.
    Some(unsafe { &mut *p })
}
