//! The pre-fork pattern (gunicorn, `cluster`): a parent connects, then forks workers that
//! keep using the inherited `Store`. Each child must open its own connection instead of
//! talking on the parent's socket. (Alone in its file: forking is safest with one test
//! thread.)

mod common;

use common::Server;

#[test]
fn forked_workers_each_connect_on_their_own() {
    let server = Server::start(&[]);
    let store = server.connect();
    let db = store.create_db("d").unwrap();
    db.put(0, b"parent").unwrap();
    let snap = db.snapshot().unwrap();
    let mut children = Vec::new();
    for child in 1..=4u64 {
        // SAFETY: the child only uses the client (sockets and memory) and leaves with
        // `_exit`, never returning into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = (|| -> docdb_core::Result<bool> {
                // The parent's snapshot is bound to the parent's connection.
                let inherited = snap.read(0).is_err();
                for i in 0..50u64 {
                    db.put(child * 1000 + i, &(child * 1000 + i).to_le_bytes())?;
                }
                let mine = (0..50u64).all(|i| {
                    db.read(child * 1000 + i).ok()
                        == Some((child * 1000 + i).to_le_bytes().to_vec())
                });
                Ok(inherited && mine && db.read(0)? == b"parent")
            })();
            // SAFETY: ends the child without running the parent's destructors or harness.
            unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
        }
        children.push(pid);
    }
    // The parent keeps using its own connections meanwhile.
    for i in 0..50u64 {
        db.put(100 + i, b"p").unwrap();
        assert_eq!(snap.read(0).unwrap(), b"parent");
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child {pid} failed"
        );
    }
    assert_eq!(db.len().unwrap(), 1 + 4 * 50 + 50);
    eprintln!(
        "figure: pre-fork: 4 forked workers x 50 commits on their own connections, 250 documents verified"
    );
}
