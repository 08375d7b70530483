//! The subcommands on a server's store: STORE given as a URL (`unix:///...`) with
//! `--token-file`, against a `docdb serve` of the same binary. The same commands give the
//! same output as on a directory; `check` and `backup` (which read the files) say so.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{code, docdb, stderr, stdout, BIN};

/// A `docdb serve` with a token, stopped when dropped.
struct Served {
    child: Child,
    url: String,
    token: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    serve_with(&[])
}

/// A server started with `extra` flags.
fn serve_with(extra: &[&str]) -> Served {
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    std::fs::write(&token, "cli-secret\n").unwrap();
    let sock = tmp.path().join("docdb.sock");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--auth-delay",
            "10ms",
            "--log-level",
            "error",
            "--data",
        ])
        .arg(tmp.path().join("data"))
        .arg("--unix")
        .arg(&sock)
        .arg("--token-file")
        .arg(&token)
        .args(extra)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("unix://{}", sock.display());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sock.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("docdb serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "docdb serve did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    Served {
        child,
        url,
        token,
        _tmp: tmp,
    }
}

/// Runs `docdb --token-file TOKEN args...`.
fn run(s: &Served, args: &[&dyn AsRef<std::ffi::OsStr>], stdin: &[u8]) -> std::process::Output {
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--token-file", &s.token];
    all.extend_from_slice(args);
    // The server may still be binding its socket: retry while it is unavailable.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = docdb(&all, stdin);
        if !stderr(&out).contains("unavailable") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ok(out: &std::process::Output) -> String {
    assert_eq!(code(out), 0, "stderr: {}", stderr(out));
    stdout(out)
}

#[test]
fn documents_through_a_server() {
    let s = serve();
    let url = s.url.as_str();
    ok(&run(
        &s,
        &[&"put", &"--create", &url, &"people", &"1"],
        br#"{"name":"Ada"}"#,
    ));
    assert_eq!(
        ok(&run(&s, &[&"get", &url, &"people", &"1"], b"")),
        r#"{"name":"Ada"}"#
    );
    let pretty = ok(&run(&s, &[&"get", &"--pretty", &url, &"people", &"1"], b""));
    assert!(pretty.contains("\n  \"name\": \"Ada\""), "{pretty}");

    // Absent database and document: exit status 3, as on a directory.
    let out = run(&s, &[&"get", &url, &"people", &"2"], b"");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let out = run(&s, &[&"get", &url, &"nobody", &"1"], b"");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("docdb ls {url}")),
        "{}",
        stderr(&out)
    );

    let lines = "{\"db\":\"people\",\"id\":2,\"json\":{\"name\":\"Charles\"}}\n\
                 {\"db\":\"notes\",\"id\":7,\"json\":\"hello\"}\n";
    ok(&run(&s, &[&"load", &"--create", &url], lines.as_bytes()));
    let dump = ok(&run(&s, &[&"dump", &url], b""));
    assert_eq!(
        dump,
        "{\"db\":\"people\",\"id\":1,\"json\":{\"name\":\"Ada\"}}\n".to_string() + lines,
    );
    let ls = ok(&run(&s, &[&"ls", &url], b""));
    assert!(ls.starts_with("DATABASE"), "{ls}");
    assert!(ls.contains("people") && ls.contains("notes"), "{ls}");
    let stats = ok(&run(&s, &[&"stats", &"--json", &url, &"people"], b""));
    assert!(stats.contains("\"documents\": 2"), "{stats}");
    let table = ok(&run(&s, &[&"stats", &url], b""));
    assert!(table.contains(url), "{table}");

    ok(&run(&s, &[&"del", &url, &"people", &"1"], b""));
    assert_eq!(code(&run(&s, &[&"get", &url, &"people", &"1"], b"")), 3);
    ok(&run(&s, &[&"compact", &url], b""));
    assert_eq!(
        ok(&run(&s, &[&"dump", &url, &"people"], b"")),
        "{\"id\":2,\"json\":{\"name\":\"Charles\"}}\n"
    );
}

#[test]
fn a_load_larger_than_one_request_says_to_use_batch() {
    let s = serve_with(&["--max-frame", "65536"]);
    let url = s.url.as_str();
    // 40 documents of 4 KiB: one batch of 160 KiB, more than a 64 KiB request.
    let doc = "x".repeat(4096);
    let input: String = (0..40)
        .map(|i| format!("{{\"id\":{i},\"json\":\"{doc}\"}}\n"))
        .collect();
    let out = run(&s, &[&"load", &"--create", &url, &"d"], input.as_bytes());
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("lines 1 to 40: PAYLOAD_TOO_LARGE"), "{err}");
    assert!(
        err.contains("--max-frame") && err.contains("--batch N"),
        "{err}"
    );
    assert!(err.contains("nothing was loaded"), "{err}");
    // As the hint says, --batch loads it.
    ok(&run(
        &s,
        &[&"load", &"--batch", &"10", &url, &"d"],
        input.as_bytes(),
    ));
    assert_eq!(ok(&run(&s, &[&"dump", &url, &"d"], b"")), input);
}

#[test]
fn file_commands_and_bad_credentials_are_clear_errors() {
    let s = serve();
    let url = s.url.as_str();
    for cmd in ["check", "backup"] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&cmd, &url];
        if cmd == "backup" {
            args.push(&"/tmp/never-written");
        }
        let out = run(&s, &args, b"");
        assert_eq!(code(&out), 2, "{cmd}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("reads the store's files"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!Path::new("/tmp/never-written").exists());

    let wrong = s._tmp.path().join("wrong");
    std::fs::write(&wrong, "not-the-token").unwrap();
    let out = docdb(&[&"--token-file", &wrong, &"ls", &url], b"");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("token"), "{}", stderr(&out));
    let out = docdb(&[&"--token-file", &"/nonexistent/token", &"ls", &url], b"");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("token file"), "{}", stderr(&out));

    let nobody = format!("unix://{}", s._tmp.path().join("nobody.sock").display());
    let out = docdb(&[&"ls", &nobody], b"");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unavailable"), "{}", stderr(&out));
}
