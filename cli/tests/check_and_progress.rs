//! `docdb check` finds a flipped bit in every kind of file, reports every problem with its
//! file and offset, and changes nothing; progress goes to a terminal, plainly to a pipe,
//! and nowhere with `--quiet`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{files as snapshot, BIN};
use docdb_core::Options;

fn docdb(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    common::docdb(args, b"")
}

/// A closed store with several sealed segments, a checkpoint and a catalog.
fn pristine(dir: &Path) {
    let opts = Options {
        segment_size: 16 << 10,
        ..Options::default()
    };
    let store = common::open_store(dir, opts);
    let db = store.create_db("d").unwrap();
    for i in 0..400u64 {
        db.put(
            i,
            format!("document number {i} {}", "x".repeat(100)).as_bytes(),
        )
        .unwrap();
    }
    store.create_db("other").unwrap().put(1, b"one").unwrap();
    store.close().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn flip(file: &Path, offset: usize) {
    let mut b = std::fs::read(file).unwrap();
    b[offset] ^= 0x04;
    std::fs::write(file, b).unwrap();
}

fn segments(db: &Path) -> Vec<PathBuf> {
    let mut s: Vec<_> = std::fs::read_dir(db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    s.sort();
    s
}

#[test]
fn check_finds_a_flipped_bit_in_every_kind_of_file() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    pristine(&clean);
    let out = docdb(&[&"check", &clean]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("no damage") && !text.contains("damage:"),
        "{text}"
    );
    let segs = segments(&clean.join("db-1"));
    assert!(segs.len() >= 3, "want sealed segments, got {}", segs.len());
    let first = segs[0].file_name().unwrap().to_str().unwrap().to_string();

    // (what, file relative to the store, byte to flip, file and offset the report must name)
    let cases: Vec<(&str, PathBuf, usize, String)> = vec![
        (
            "segment header",
            PathBuf::from("db-1").join(&first),
            18,
            format!("{first} at offset 0"),
        ),
        (
            "record",
            PathBuf::from("db-1").join(&first),
            32 + 36 + 5,
            format!("{first} at offset 32"),
        ),
        (
            "checkpoint",
            PathBuf::from("db-1/CHECKPOINT"),
            44,
            "CHECKPOINT at offset".to_string(),
        ),
        (
            "catalog",
            PathBuf::from("CATALOG"),
            30,
            "CATALOG at offset".to_string(),
        ),
    ];
    for (what, file, at, expect) in cases {
        let dir = tmp.path().join(what.replace(' ', "-"));
        copy_dir(&clean, &dir);
        flip(&dir.join(&file), at);
        let before = snapshot(&dir);
        let out = docdb(&[&"check", &"--quiet", &dir]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(1), "{what}: {text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("damage: ") && l.contains(&expect)),
            "{what}: want {expect:?} in\n{text}"
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(snapshot(&dir), before, "{what}: check changed a file");
    }

    // Every problem is reported, not only the first: records in three segments.
    let dir = tmp.path().join("several");
    copy_dir(&clean, &dir);
    let segs = segments(&dir.join("db-1"));
    for seg in &segs[..3] {
        flip(seg, 32 + 36 + 5);
    }
    let out = docdb(&[&"check", &dir]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    for seg in &segs[..3] {
        let name = seg.file_name().unwrap().to_str().unwrap();
        assert!(
            text.contains(&format!("{name} at offset 32: ")),
            "{name} missing from\n{text}"
        );
    }
    assert!(text.contains("3 problems"), "{text}");
}

#[test]
fn check_cannot_run_on_a_live_or_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    pristine(&dir);
    let held = common::open_store(&dir, Options::default());
    let out = docdb(&[&"check", &dir]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOCKED"));
    held.close().unwrap();

    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("a.txt"), b"x").unwrap();
    let out = docdb(&[&"check", &foreign]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a DocDB data directory"));
    assert!(!foreign.join("LOCK").exists());
}

/// Runs `docdb args` with stderr (and stdout) on a pseudo-terminal that can draw a bar, as
/// in an interactive session (CI may have none); returns what the terminal received.
fn on_terminal(args: &str) -> String {
    on_terminal_of_type("xterm", args)
}

/// The same on a terminal of type `term`, through util-linux `script` (under coreutils
/// `timeout`).
fn on_terminal_of_type(term: &str, args: &str) -> String {
    let out = Command::new("timeout")
        // coreutils `timeout`: a hung run fails the test instead of hanging it.
        .args([
            "300",
            "script",
            "-q",
            "-e",
            "-c",
            &format!("{BIN} {args}"),
            "/dev/null",
        ])
        .env("TERM", term)
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the tool on a pseudo-terminal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_shows_on_a_terminal_plainly_in_a_pipe_and_not_when_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    pristine(&dir);
    let d = dir.display();
    let t = tmp.path().display();

    // A terminal gets a redrawn bar.
    let shown = on_terminal(&format!("backup {d} {t}/b1"));
    assert!(
        shown.contains("\x1b[2K") && shown.contains("backup ["),
        "{shown:?}"
    );
    assert!(shown.contains("100%"), "{shown:?}");
    let shown = on_terminal(&format!("check {d}"));
    assert!(
        shown.contains("check [") && shown.contains("no damage"),
        "{shown:?}"
    );
    let shown = on_terminal(&format!("dump {d} d > {t}/d.jsonl"));
    assert!(
        shown.contains("dump [") && shown.contains("documents"),
        "{shown:?}"
    );

    // A terminal that cannot draw a bar gets the plain lines.
    let shown = on_terminal_of_type("dumb", &format!("backup {d} {t}/b0"));
    assert!(
        shown.contains("(100%)") && !shown.contains('\x1b'),
        "{shown:?}"
    );

    // --quiet: nothing but the command's data.
    let shown = on_terminal(&format!("--quiet backup {d} {t}/b2"));
    assert_eq!(shown, "", "quiet backup printed {shown:?}");
    let shown = on_terminal(&format!("dump --quiet {d} d > /dev/null"));
    assert_eq!(shown, "");

    // A pipe gets plain lines, without terminal control sequences.
    let out = docdb(&[&"backup", &dir, &tmp.path().join("b3")]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("(100%)") && !err.contains('\x1b'), "{err:?}");
    let out = docdb(&[&"backup", &"-q", &dir, &tmp.path().join("b4")]);
    assert!(out.status.success() && out.stderr.is_empty());
}
