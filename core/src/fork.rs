//! Telling that a handle is used in a process other than the one that opened it.
//!
//! After `fork()`, a child inherits the parent's open store: its file descriptors, its
//! in-memory log position and index. If both processes wrote through it, their appends
//! would overwrite each other and the store would no longer open (the trap py-lmdb #346
//! describes). So every handle remembers the fork generation it was opened in, and a child
//! process, whose generation a `pthread_atfork` handler has advanced, is refused every call
//! (`Closed`); the parent's handles go on working. Asking the kernel for the process id on
//! every call would cost a system call per read; this costs one atomic load.
//!
//! This is the core's only unsafe code: one FFI call, audited below.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

/// Runs in the child right after `fork()`; only async-signal-safe work (an atomic add).
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The current fork generation, registering the child handler first if needed. Called
/// when a store is opened; handles compare it with [`generation`].
pub(crate) fn register() -> u64 {
    REGISTER.call_once(|| {
        // SAFETY: `pthread_atfork` only records the three function pointers; `in_child` is
        // an `extern "C" fn` with no arguments, lives for the whole program and does nothing
        // but an atomic add, which is async-signal-safe as a child handler must be. A
        // failure (ENOMEM) leaves fork detection off, which is no worse than without it.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
    generation()
}

/// The current fork generation: how many `fork()`s led from the first opener to here.
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// The error for a handle opened in generation `born` and used after a fork.
pub(crate) fn check(born: u64, what: impl FnOnce() -> String) -> crate::Result<()> {
    if generation() == born {
        return Ok(());
    }
    Err(crate::Error::Closed(format!(
        "{} was opened by another process and inherited through fork() (this is process \
         {}): a forked child must open the store itself, or connect to a server",
        what(),
        std::process::id()
    )))
}
