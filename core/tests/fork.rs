//! A store handle inherited through fork() (multiprocessing's fork start method, gunicorn
//! --preload) refuses every call in the child, with a clear error; the parent's handle goes
//! on working and the store stays openable. Without this, both processes append through
//! the same files at their own idea of the log's end and the store no longer opens.

use std::sync::Mutex;

use docdb_core::{ErrorKind, Options, Store};

/// A child inherits every descriptor of the process, the other tests' directory locks
/// included (flock belongs to the open file, shared with the child): one test at a time.
static FORKING: Mutex<()> = Mutex::new(());

/// Runs `child` in a forked child process; returns its exit code.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs only `child` (which calls into the engine's fork check and
    // allocates an error message; glibc's malloc is fork-safe) and leaves with `_exit`,
    // never returning into the test harness's threads that do not exist in it.
    match unsafe { libc::fork() } {
        -1 => panic!("fork failed"),
        0 => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
            // SAFETY: ends the child at once, without running the parent's atexit work.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: waits for the child just forked; `status` is a valid out pointer.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFEXITED(status), "child did not exit normally");
            libc::WEXITSTATUS(status)
        }
    }
}

#[test]
fn a_forked_child_is_refused_and_the_parent_goes_on() {
    let _alone = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.create_db("shared").unwrap();
    db.put(1, b"from the parent").unwrap();
    let snap = db.snapshot().unwrap();

    let code = in_child(|| {
        let calls: Vec<(&str, docdb_core::Result<()>)> = vec![
            ("put", db.put(2, b"from the child")),
            ("read", db.read(1).map(drop)),
            ("read_cached", db.read_cached(1, |_| ()).map(drop)),
            ("contains", db.contains(1).map(drop)),
            ("len", db.len().map(drop)),
            ("begin", db.begin().map(drop)),
            ("snapshot read", snap.read(1).map(drop)),
            ("snapshot scan", snap.scan().map(drop)),
            ("open_db", store.open_db("shared").map(drop)),
            ("list_dbs", store.list_dbs().map(drop)),
            ("stats", store.stats().map(drop)),
            ("compact", db.compact().map(drop)),
            // Opening the directory again does not share the inherited store: the parent
            // holds it, so the child is told LOCKED (checked below), never handed it.
            (
                "open again",
                Store::open(dir.path(), Options::default()).map(drop),
            ),
            ("close", store.close()),
        ];
        for (what, result) in calls {
            match result {
                Err(e) if what == "open again" && e.kind() == ErrorKind::Locked => {}
                Err(e) if e.kind() == ErrorKind::Closed && e.to_string().contains("fork") => {}
                other => {
                    eprintln!("child: {what} gave {other:?}");
                    return 1;
                }
            }
        }
        0
    });
    assert_eq!(code, 0, "the child's calls must all be refused");

    // The parent's handles are untouched.
    db.put(3, b"parent again").unwrap();
    assert_eq!(snap.read(1).unwrap(), b"from the parent");
    drop(snap);
    store.close().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let db = store.open_db("shared").unwrap();
    assert_eq!(db.read(1).unwrap(), b"from the parent");
    assert_eq!(db.read(3).unwrap(), b"parent again");
    assert!(!db.contains(2).unwrap(), "the child's write never happened");
    store.close().unwrap();
}

#[test]
fn a_forked_child_can_open_the_store_itself_once_the_parent_let_go() {
    let _alone = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    store.create_db("d").unwrap().put(1, b"x").unwrap();
    store.close().unwrap();
    let path = dir.path().to_path_buf();
    let code = in_child(move || {
        let store = Store::open(&path, Options::default()).unwrap();
        let db = store.open_db("d").unwrap();
        db.put(2, b"child").unwrap();
        store.close().unwrap();
        0
    });
    assert_eq!(code, 0);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(store.open_db("d").unwrap().read(2).unwrap(), b"child");
}
