//! The `docdb` tool as a user runs it: the built binary, its stdin, stdout, stderr and
//! exit status.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{code, docdb, files, stderr, stdout};
use docdb_core::Options;

/// Every document of every database, read through the engine.
fn contents(dir: &Path) -> BTreeMap<String, BTreeMap<u64, Vec<u8>>> {
    let store = common::open_store(dir, Options::default());
    let mut all = BTreeMap::new();
    for info in store.list_dbs().unwrap() {
        let snap = store.open_db(&info.name).unwrap().snapshot().unwrap();
        all.insert(
            info.name,
            snap.scan().unwrap().map(Result::unwrap).collect(),
        );
    }
    store.close().unwrap();
    all
}

/// A store with JSON, binary, empty and 16 MiB documents, and thousands of small ones.
fn sample_store(dir: &Path) {
    let store = common::open_store(dir, Options::default());
    let db = store.create_db("mixed").unwrap();
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i * 31 % 251) as u8).collect();
    let docs: Vec<(u64, Vec<u8>)> = vec![
        (1, br#"{"name":"Ada","tags":["x",1.50,null]}"#.to_vec()),
        (2, Vec::new()),
        (3, vec![0, 159, 146, 150, 255, b'\n', b'"']),
        (4, big),
        (5, b"{\n  \"pretty\": true\n}".to_vec()),
        (6, b" 42".to_vec()),
        (7, b"null".to_vec()),
        (u64::MAX, "\"caf\u{e9}\"".as_bytes().to_vec()),
    ];
    for (id, d) in &docs {
        db.put(*id, d).unwrap();
    }
    let many = store.create_db("many").unwrap();
    for chunk in (0..5000u64).collect::<Vec<_>>().chunks(500) {
        let owned: Vec<Vec<u8>> = chunk
            .iter()
            .map(|i| format!("{{\"n\":{i}}}").into_bytes())
            .collect();
        let ops: Vec<_> = chunk
            .iter()
            .zip(&owned)
            .map(|(i, d)| docdb_core::BatchOp::Put(*i, d))
            .collect();
        many.batch(&ops).unwrap();
    }
    store.close().unwrap();
}

#[test]
fn dump_then_load_gives_byte_identical_databases() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    sample_store(&src);
    let want = contents(&src);

    // One database at a time, all at once and in batches.
    for (k, db) in ["mixed", "many"].iter().enumerate() {
        let dump = docdb(&[&"dump", &src, db], b"");
        assert_eq!(code(&dump), 0, "{}", stderr(&dump));
        assert_eq!(
            dump.stdout.iter().filter(|&&b| b == b'\n').count(),
            want[*db].len()
        );
        let file = tmp.path().join(format!("{db}.jsonl"));
        std::fs::write(&file, &dump.stdout).unwrap();
        let dst = tmp.path().join(format!("dst-{k}"));
        let load = docdb(&[&"load", &"--create", &dst, db, &"-i", &file], b"");
        assert_eq!(code(&load), 0, "{}", stderr(&load));
        let batched = tmp.path().join(format!("batched-{k}"));
        let load = docdb(
            &[&"load", &"--create", &"--batch", &"7", &batched, db],
            &dump.stdout,
        );
        assert_eq!(code(&load), 0, "{}", stderr(&load));
        for dst in [dst, batched] {
            assert_eq!(contents(&dst)[*db], want[*db]);
            let again = docdb(&[&"dump", &dst, db], b"");
            assert_eq!(again.stdout, dump.stdout, "the dump of the copy differs");
        }
    }
    // JSON documents are embedded as JSON; the others in base64.
    let lines = stdout(&docdb(&[&"dump", &src, &"mixed"], b""));
    assert!(
        lines.starts_with("{\"id\":1,\"json\":{\"name\":\"Ada\",\"tags\":[\"x\",1.50,null]}}\n")
    );
    assert!(lines.contains("{\"id\":2,\"base64\":\"\"}\n"));
    assert!(lines.contains("{\"id\":7,\"json\":null}\n"));

    // The whole store: every line names its database.
    let dump = docdb(&[&"dump", &src], b"");
    assert_eq!(code(&dump), 0, "{}", stderr(&dump));
    let all = tmp.path().join("all");
    let load = docdb(&[&"load", &"--create", &all], &dump.stdout);
    assert_eq!(code(&load), 0, "{}", stderr(&load));
    assert_eq!(contents(&all), want);
}

#[test]
fn a_malformed_line_is_reported_with_its_number_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let store = common::open_store(&dir, Options::default());
    store.create_db("d").unwrap().put(1, b"original").unwrap();
    store.close().unwrap();
    let before = files(&dir);

    let input = b"{\"id\":1,\"json\":\"new\"}\n{\"id\":2,\"json\":2}\n\n{\"id\":3,\"json\":[1,}\n{\"id\":4,\"json\":4}\n";
    let out = docdb(&[&"load", &dir, &"d"], input);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("line 4:"), "{err}");
    assert!(err.contains("nothing was loaded"), "{err}");
    assert_eq!(
        files(&dir),
        before,
        "a failed load changed the store's files"
    );

    for (bad, what) in [
        (&b"{\"id\":1,\"base64\":\"%%%%\"}\n"[..], "invalid base64"),
        (b"{\"id\":1}\n", "exactly one"),
        (
            b"{\"id\":1,\"json\":1,\"db\":\"other\"}\n",
            "database 'other'",
        ),
        (b"not json\n", "line 1:"),
        (b"{\"id\":1,\"json\":1}\n\xff\n", "line 2: not UTF-8"),
    ] {
        let out = docdb(&[&"load", &dir, &"d"], bad);
        assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(bad));
        assert!(stderr(&out).contains(what), "{}", stderr(&out));
        assert_eq!(files(&dir), before);
    }

    // With --batch, the batches before the bad line are committed, nothing after.
    let out = docdb(&[&"load", &"--batch", &"2", &dir, &"d"], input);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("line 4:") && err.contains("2 documents (1 commit)"),
        "{err}"
    );
    let now = &contents(&dir)["d"];
    assert_eq!(now.get(&1).unwrap(), b"\"new\"");
    assert_eq!(now.get(&2).unwrap(), b"2");
    assert!(!now.contains_key(&4));
}

#[test]
fn a_missing_or_foreign_directory_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"mine").unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    let line = b"{\"id\":1,\"json\":1}\n";
    let copy = tmp.path().join("copy");
    for dir in [&missing, &foreign, &empty] {
        let runs: Vec<Vec<&dyn AsRef<std::ffi::OsStr>>> = vec![
            vec![&"ls", dir],
            vec![&"stats", dir],
            vec![&"dump", dir],
            vec![&"load", dir, &"d"],
            vec![&"get", dir, &"d", &"1"],
            vec![&"put", dir, &"d", &"1"],
            vec![&"del", dir, &"d", &"1"],
            vec![&"check", dir],
            vec![&"compact", dir],
            vec![&"backup", dir, &copy],
        ];
        for args in runs {
            let out = docdb(&args, line);
            assert_eq!(
                code(&out),
                2,
                "{:?}",
                args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
            );
            let err = stderr(&out);
            assert!(
                err.contains("no DocDB store")
                    || err.contains("not a DocDB data directory")
                    || err.contains("not found")
                    || err.contains("empty directory"),
                "{err}"
            );
            assert!(out.stdout.is_empty());
        }
    }
    // With --create, a missing input file still creates nothing.
    let nothing = tmp.path().join("no-such-input");
    for args in [
        vec![
            &"load" as &dyn AsRef<std::ffi::OsStr>,
            &"--create",
            &missing,
            &"d",
            &"-i",
            &nothing,
        ],
        vec![&"put", &"--create", &missing, &"d", &"1", &nothing],
    ] {
        let out = docdb(&args, b"");
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains("no-such-input"), "{}", stderr(&out));
    }
    // Nor does a --create command that fails once the store is open: a bad line, a bad
    // database name (a missing directory stays missing, an empty one empty).
    for dir in [&missing, &empty] {
        let bad_line = docdb(
            &[&"load", &"--create", dir, &"d"],
            b"{\"id\":1,\"json\":}\n",
        );
        assert_eq!(code(&bad_line), 2);
        assert!(stderr(&bad_line).contains("nothing was loaded"));
        let bad_name = docdb(&[&"put", &"--create", dir, &"no such name", &"1"], b"x");
        assert_eq!(code(&bad_name), 2);
        assert!(stderr(&bad_name).contains("INVALID_NAME"));
    }
    assert!(!missing.exists());
    assert!(!tmp.path().join("copy").exists());
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}

#[test]
fn documents_go_through_stdin_and_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    // put needs --create for a new store and database.
    let out = docdb(&[&"put", &dir, &"d", &"1"], b"x");
    assert_eq!(code(&out), 2);
    assert!(!dir.exists());
    let out = docdb(
        &[&"put", &"--create", &dir, &"d", &"1"],
        br#"{"b":[1,2],"a":{}}"#,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = docdb(&[&"get", &dir, &"d", &"1"], b"");
    assert_eq!(out.stdout, br#"{"b":[1,2],"a":{}}"#);
    let out = docdb(&[&"get", &"--pretty", &dir, &"d", &"1"], b"");
    assert_eq!(
        stdout(&out),
        "{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": {}\n}\n"
    );

    let file = tmp.path().join("bin");
    std::fs::write(&file, [0u8, 1, 2, 255]).unwrap();
    assert_eq!(code(&docdb(&[&"put", &dir, &"d", &"2", &file], b"")), 0);
    assert_eq!(
        docdb(&[&"get", &dir, &"d", &"2"], b"").stdout,
        [0u8, 1, 2, 255]
    );
    let out = docdb(&[&"get", &"--pretty", &dir, &"d", &"2"], b"");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not JSON"));

    assert_eq!(code(&docdb(&[&"del", &dir, &"d", &"2"], b"")), 0);
    for args in [
        vec![&"get" as &dyn AsRef<std::ffi::OsStr>, &dir, &"d", &"2"],
        vec![&"del", &dir, &"d", &"2"],
        vec![&"get", &dir, &"nope", &"1"],
    ] {
        let out = docdb(&args, b"");
        assert_eq!(code(&out), 3);
        assert!(stderr(&out).contains("NOT_FOUND"), "{}", stderr(&out));
    }
    let out = docdb(&[&"get", &dir, &"d", &"-1"], b"");
    assert_eq!(code(&out), 2, "a usage error");
}

#[test]
fn ls_and_stats_describe_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    sample_store(&dir);
    let out = docdb(&[&"ls", &dir], b"");
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("DATABASE") && lines[0].contains("DEAD_BYTES"));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("many") && l.contains(" 5000 ")));

    let out = docdb(&[&"stats", &"--json", &dir], b"");
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["store"]["databases_active"], 2);
    let many = v["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "many")
        .unwrap();
    assert_eq!(many["documents"], 5000);
    let out = docdb(&[&"stats", &dir, &"many"], b"");
    assert!(stdout(&out).contains("documents") && stdout(&out).contains("5000"));
    assert!(!stdout(&out).contains("STORE"));
}

#[test]
fn a_store_held_by_another_process_is_locked_never_waited_for() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    sample_store(&dir);
    let held = common::open_store(&dir, Options::default());
    for args in [
        vec![&"ls" as &dyn AsRef<std::ffi::OsStr>, &dir],
        vec![&"check", &dir],
        vec![&"dump", &dir],
        vec![&"backup", &dir, &tmp.path().join("copy")],
    ] {
        let out = docdb(&args, b"");
        assert_eq!(code(&out), 2);
        let err = stderr(&out);
        assert!(err.contains("LOCKED") && err.contains("hint:"), "{err}");
    }
    held.close().unwrap();
}

#[test]
fn compact_and_backup_through_the_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    {
        let store = common::open_store(&dir, Options::default());
        let db = store.create_db("d").unwrap();
        for round in 0..3u8 {
            for i in 0..300u64 {
                db.put(i, &[round; 500]).unwrap();
            }
        }
        store.close().unwrap();
    }
    let want = contents(&dir);
    let dead = |dir: &Path| -> u64 {
        let ls = stdout(&docdb(&[&"ls", &dir], b""));
        let row = ls.lines().nth(1).unwrap().to_string();
        row.split_whitespace().last().unwrap().parse().unwrap()
    };
    assert!(dead(&dir) > 300_000);
    let out = docdb(&[&"compact", &dir], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("compact: d:"), "{}", stderr(&out));
    assert_eq!(contents(&dir), want);
    // What is left dead is the segment headers.
    assert!(dead(&dir) < 1000, "{}", dead(&dir));

    let copy = tmp.path().join("copy");
    let out = docdb(&[&"backup", &"--quiet", &dir, &copy], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
    assert_eq!(contents(&copy), want);
    let out = docdb(&[&"backup", &dir, &copy], b"");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "ls", "stats", "get", "put", "del", "dump", "load", "check", "compact", "backup",
    ] {
        let out = docdb(&[&sub, &"--help"], b"");
        assert_eq!(code(&out), 0);
        assert!(stdout(&out).contains("Usage: docdb"), "{sub}");
    }
    let out = docdb(&[&"frobnicate"], b"");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unrecognized subcommand"));
}
