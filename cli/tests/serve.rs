//! `docdb serve` as a user runs it: the store is served over a Unix socket, a client reads
//! and writes through it, the other subcommands get LOCKED while it runs, and SIGTERM
//! shuts it down cleanly (exit 0) with every acknowledged write in the store.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{code, docdb, open_store, stderr, BIN};
use docdb_client::{ConnectOptions, Store};

fn connect_when_ready(sock: &Path, server: &mut Child) -> Store {
    let url = format!("unix://{}", sock.display());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(store) = Store::connect(&url, ConnectOptions::default()) {
            return store;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("docdb serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "docdb serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_shares_the_store_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let sock = tmp.path().join("docdb.sock");
    let mut server = Command::new(BIN)
        .args(["serve", "--data"])
        .arg(&data)
        .arg("--unix")
        .arg(&sock)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let store = connect_when_ready(&sock, &mut server);
    let db = store.open_or_create_db("served").unwrap();
    db.put(1, b"through the socket").unwrap();
    assert_eq!(db.read(1).unwrap(), b"through the socket");

    // The directory belongs to the server: a local subcommand is refused, never hangs.
    let out = docdb(&[&"ls", &data], b"");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("locked"), "{}", stderr(&out));

    drop(db);
    drop(store);
    // SAFETY: sends SIGTERM to the child this test started.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0), "docdb serve after SIGTERM");
    let store = open_store(&data, docdb_core::Options::default());
    assert_eq!(
        store.open_db("served").unwrap().read(1).unwrap(),
        b"through the socket"
    );
    store.close().unwrap();
}

#[test]
fn serve_has_help_and_refuses_tcp_without_a_token() {
    let out = docdb(&[&"serve", &"--help"], b"");
    assert_eq!(code(&out), 0);
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        help.contains("--unix") && help.contains("--token-file"),
        "{help}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = docdb(
        &[
            &"serve",
            &"--data",
            &tmp.path().join("d"),
            &"--unix",
            &tmp.path().join("s.sock"),
            &"--tcp",
            &"127.0.0.1:0",
        ],
        b"",
    );
    assert_ne!(code(&out), 0, "TCP without a token must not start");
}
