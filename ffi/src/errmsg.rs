//! The thread-local message of the last failure, behind `docdb_errmsg()`.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `msg` as this thread's last error message.
pub(crate) fn set(msg: String) {
    // A message cannot hold a NUL byte (it would end the C string early).
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during thread teardown the slot may be gone; the message is then lost,
    // the status still tells what happened.
    let _ = LAST.try_with(|last| *last.borrow_mut() = msg);
}

/// The message of the most recent failed call on the calling thread.
///
/// Every function that returns a status other than `DOCDB_OK` first records a message
/// (for example `"document 7 in database 'users' not found"`); a successful call leaves the
/// previous message in place, like `errno`. Returns `""` if no call on this thread failed.
///
/// Ownership: the string belongs to the library and to this thread. It stays valid until
/// the next failing DocDB call on the same thread; copy it to keep it. Never NULL; do not
/// free it.
#[no_mangle]
pub extern "C" fn docdb_errmsg() -> *const c_char {
    crate::panic::boundary(c"".as_ptr(), || {
        // The pointer stays valid after `with` returns: the CString's heap buffer lives in
        // the thread-local until `set` replaces it.
        LAST.try_with(|last| last.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}
