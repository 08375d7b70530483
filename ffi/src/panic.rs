//! The panic boundary. Every exported function runs its body through [`boundary`] (or
//! [`call`], built on it), so a panic never unwinds into C (which would be undefined
//! behaviour): it becomes `DOCDB_INTERNAL` (or the function's documented fallback value)
//! and the process keeps running. The message is kept for `docdb_errmsg()`.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::errmsg;
use crate::status::{self, docdb_status};

/// Runs `f`; if it panics, records the panic message and returns `on_panic`.
///
/// `AssertUnwindSafe`: after a panic the engine's state stays consistent (it uses
/// non-poisoning locks and publishes commits only once complete); the handles touched by
/// the failed call remain usable or report errors of their own.
pub(crate) fn boundary<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            errmsg::set(format!(
                "internal error: DocDB panicked: {}",
                panic_message(&*payload)
            ));
            on_panic
        }
    }
}

/// The usual export body: `Ok` is `DOCDB_OK`, an error becomes its status (and message).
pub(crate) fn call(f: impl FnOnce() -> docdb::Result<()>) -> docdb_status {
    boundary(docdb_status::DOCDB_INTERNAL, || match f() {
        Ok(()) => docdb_status::DOCDB_OK,
        Err(e) => status::fail(&e),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let st = call(|| panic!("boom {}", 42));
        assert_eq!(st, docdb_status::DOCDB_INTERNAL);
        // SAFETY: docdb_errmsg returns a valid NUL-terminated string owned by this thread.
        let msg = unsafe { CStr::from_ptr(crate::docdb_errmsg()) };
        assert_eq!(
            msg.to_str().unwrap(),
            "internal error: DocDB panicked: boom 42"
        );
        assert_eq!(boundary(7, || panic!("static")), 7);
        assert_eq!(boundary(7, || 8), 8);
    }
}
