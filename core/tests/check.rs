//! `check_dir`: every problem with its file and offset, notes for what an open repairs,
//! nothing modified, and the cases where the check cannot run.

use std::path::{Path, PathBuf};

use docdb_core::{check_dir, ErrorKind, Options, Store};

fn store_with_segments(dir: &Path) {
    let opts = Options {
        segment_size: 8 << 10,
        ..Options::default()
    };
    let store = Store::open(dir, opts).unwrap();
    let db = store.create_db("d").unwrap();
    for i in 0..200u64 {
        db.put(i, &[i as u8; 150]).unwrap();
    }
    store.close().unwrap();
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut s: Vec<_> = std::fs::read_dir(dir.join("db-1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    s.sort();
    s
}

fn flip(file: &Path, at: usize) {
    let mut b = std::fs::read(file).unwrap();
    b[at] ^= 0x20;
    std::fs::write(file, b).unwrap();
}

#[test]
fn a_clean_store_checks_clean_and_progress_reaches_the_total() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_segments(tmp.path());
    let mut last = (0, 0);
    let report = check_dir(tmp.path(), |done, total| last = (done, total)).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert_eq!(report.databases, 1);
    assert_eq!(report.records, 200);
    assert!(report.segments >= 3);
    assert_eq!(last.0, last.1);
    assert!(last.1 > 200 * 150);
}

#[test]
fn every_damaged_record_is_reported_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_segments(tmp.path());
    let segs = segments(tmp.path());
    // A record's payload in the first two (sealed) segments.
    for seg in &segs[..2] {
        flip(seg, 32 + 36 + 10);
    }
    let before: Vec<Vec<u8>> = segs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let report = check_dir(tmp.path(), |_, _| {}).unwrap();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    for (p, seg) in report.problems.iter().zip(&segs) {
        assert_eq!((&p.file, p.offset), (seg, 32));
    }
    // The walk resumed after each damaged record.
    assert_eq!(report.records, 198);
    let after: Vec<Vec<u8>> = segs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(before, after);
}

#[test]
fn a_torn_final_transaction_is_a_note_not_damage() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_segments(tmp.path());
    let tail = segments(tmp.path()).pop().unwrap();
    let len = std::fs::metadata(&tail).unwrap().len();
    // Half of a record appended after the last one, as a crash mid-write leaves it.
    let mut bytes = std::fs::read(&tail).unwrap();
    bytes.extend_from_slice(&[0x5a; 40]);
    std::fs::write(&tail, bytes).unwrap();
    let report = check_dir(tmp.path(), |_, _| {}).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert_eq!(
        (&report.notes[0].file, report.notes[0].offset),
        (&tail, len)
    );
    assert_eq!(
        std::fs::metadata(&tail).unwrap().len(),
        len + 40,
        "check repaired"
    );
}

#[test]
fn the_check_cannot_run_on_a_live_missing_or_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_segments(tmp.path());
    let held = Store::open(tmp.path(), Options::default()).unwrap();
    let err = check_dir(tmp.path(), |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked);
    held.close().unwrap();

    let err = check_dir(tmp.path().join("missing"), |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("x"), b"x").unwrap();
    let err = check_dir(foreign.path(), |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!foreign.path().join("LOCK").exists());
}
