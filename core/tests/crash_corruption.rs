//! Corruption sweep: flip each bit of every byte of every file kind — log segments, `CHECKPOINT`, `CATALOG` — then open the store and read
//! every document. Each case must either recover as documented (a torn tail is cut off:
//! at most the last commit disappears, whole) or report `Corruption` (or
//! `UnsupportedVersion` for a flipped version field), and never panic or return bytes the
//! model does not have for that document.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use common::faultfs::{FaultFs, Survive};
use common::model::{payload, DbModel, Docs};
use common::workload::{dir, opts, DIR};
use docdb_core::{BatchOp, ErrorKind, Store, Sync};

/// Builds a store image: database "a" with sealed segments, a checkpoint covering part of
/// the log and an uncovered tail. `closed`: closed cleanly (the checkpoint covers all).
fn build(closed: bool) -> (FaultFs, DbModel) {
    let fs = FaultFs::new(dir());
    let store = Store::open_with(fs.clone(), DIR, opts(Sync::Full)).unwrap();
    let db = store.create_db("a").unwrap();
    let mut m = DbModel::default();
    let mut c = 0u64;
    let mut put = |db: &docdb_core::Database<FaultFs>, m: &mut DbModel, ids: &[u64]| {
        c += 1;
        let datas: Vec<Vec<u8>> = ids.iter().map(|&id| payload(c, id)).collect();
        let ops: Vec<BatchOp<'_>> = ids
            .iter()
            .zip(&datas)
            .map(|(&id, d)| BatchOp::Put(id, d))
            .collect();
        db.batch(&ops).unwrap();
        m.record(
            ids.iter()
                .zip(datas)
                .map(|(&id, d)| (id, Some(d)))
                .collect(),
            true,
        );
    };
    for id in 1..=16 {
        put(&db, &mut m, &[id]);
    }
    db.delete(3).unwrap();
    m.record(vec![(3, None)], true);
    db.checkpoint().unwrap();
    for id in (2..=16).step_by(3) {
        put(&db, &mut m, &[id, id + 20]);
    }
    db.delete(5).unwrap();
    m.record(vec![(5, None)], true);
    put(&db, &mut m, &[7, 8, 9]);
    if closed {
        store.close().unwrap();
    }
    drop(db);
    drop(store);
    (fs.image(Survive::Everything), m)
}

#[derive(Default)]
struct Figures {
    cases: u64,
    recovered_intact: u64,
    torn_tail_cut: u64,
    corruption_reported: u64,
    reads_checked: u64,
    failures: Vec<String>,
}

/// Opens the image and reads everything; checks the outcome against the model.
fn check(image: FaultFs, m: &DbModel, fig: &mut Figures) -> Result<(), String> {
    let store = match Store::open_with(image, DIR, opts(Sync::Full)) {
        Ok(s) => s,
        Err(e) => return documented(&e, fig),
    };
    let db = match store.open_db("a") {
        Ok(db) => db,
        Err(e) => return documented(&e, fig),
    };
    // Every document with a definite answer; `None` = NotFound.
    let mut seen: BTreeMap<u64, Option<Vec<u8>>> = BTreeMap::new();
    let mut corrupt = 0;
    for id in m.ids() {
        fig.reads_checked += 1;
        match db.read(id) {
            Ok(v) => {
                seen.insert(id, Some(v));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                seen.insert(id, None);
            }
            Err(e) if e.kind() == ErrorKind::Corruption => corrupt += 1,
            Err(e) => return Err(format!("read {id}: undocumented error {e}")),
        }
    }
    if let Ok(snap) = db.snapshot() {
        for item in snap.scan().map_err(|e| e.to_string())? {
            match item {
                Ok((id, v)) => {
                    if seen.get(&id).is_some_and(|s| s.as_ref() != Some(&v)) {
                        return Err(format!("scan of {id} disagrees with its read"));
                    }
                    if !seen.contains_key(&id) && !m.ids().contains(&id) {
                        return Err(format!("scan returned unknown document {id}"));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Corruption => {}
                Err(e) => return Err(format!("scan: undocumented error {e}")),
            }
        }
    }
    // The definite answers must all come from one state: the whole model, or (torn tail
    // cut off) the model without its last commit.
    let n = m.commits.len();
    for (p, lost_last) in [(n, false), (n - 1, true)] {
        let mut prefix = DbModel::default();
        for c in &m.commits[..p] {
            prefix.record(c.writes.clone(), true);
        }
        let state: Docs = prefix.latest();
        if seen.iter().all(|(id, v)| state.get(id) == v.as_ref()) {
            if corrupt > 0 {
                fig.corruption_reported += 1;
            } else if lost_last {
                fig.torn_tail_cut += 1;
            } else {
                fig.recovered_intact += 1;
            }
            return Ok(());
        }
    }
    let wrong: Vec<u64> = seen
        .iter()
        .filter(|(id, v)| m.latest().get(id) != v.as_ref())
        .map(|(id, _)| *id)
        .collect();
    Err(format!(
        "reads returned data of no allowed state (documents {wrong:?})"
    ))
}

fn documented(e: &docdb_core::Error, fig: &mut Figures) -> Result<(), String> {
    match e.kind() {
        ErrorKind::Corruption | ErrorKind::UnsupportedVersion => {
            fig.corruption_reported += 1;
            Ok(())
        }
        _ => Err(format!("undocumented error at open: {e}")),
    }
}

fn all_files(fs: &FaultFs) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for name in fs.list(dir()) {
        if name == "CATALOG" {
            out.push(dir().join(name));
        }
    }
    let db_dir = dir().join("db-1");
    for name in fs.list(&db_dir) {
        if name.ends_with(".log") || name == "CHECKPOINT" {
            out.push(db_dir.join(name));
        }
    }
    out
}

#[test]
fn bit_flip_sweep() {
    let t = Instant::now();
    let mut fig = Figures::default();
    let mut per_kind: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for closed in [false, true] {
        let (image, m) = build(closed);
        for path in all_files(&image) {
            let bytes = image.file_bytes(&path).unwrap();
            let kind = match path.file_name().unwrap().to_str().unwrap() {
                "CATALOG" => "CATALOG",
                "CHECKPOINT" => "CHECKPOINT",
                _ => "segment",
            };
            // Every bit of every byte (the files are small: 4 KiB segments).
            for off in 0..bytes.len() {
                for bit in 0..8u8 {
                    let mut bad = bytes.clone();
                    bad[off] ^= 1 << bit;
                    let case = image.image(Survive::Everything);
                    case.put_file(&path, &bad);
                    fig.cases += 1;
                    let e = per_kind.entry(kind).or_default();
                    e.0 += 1;
                    e.1 = e.1.max(bytes.len() as u64);
                    let res = catch_unwind(AssertUnwindSafe(|| check(case, &m, &mut fig)));
                    let what = match res {
                        Ok(Ok(())) => continue,
                        Ok(Err(e)) => e,
                        Err(_) => "panicked".to_string(),
                    };
                    if fig.failures.len() < 30 {
                        fig.failures.push(format!(
                            "{} byte {off} bit {bit} (closed: {closed}): {what}",
                            path.display()
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "corruption sweep: {} single-bit flips ({}), every bit of every byte of every file of \
         a crashed and a cleanly closed store; recovered intact {}, torn tail cut off {}, \
         Corruption reported {}, {} reads compared with the model, wrong bytes / panics: {}, \
         {:.1}s",
        fig.cases,
        per_kind
            .iter()
            .map(|(k, (n, max))| format!("{k}: {n} flips, largest file {max} B"))
            .collect::<Vec<_>>()
            .join("; "),
        fig.recovered_intact,
        fig.torn_tail_cut,
        fig.corruption_reported,
        fig.reads_checked,
        fig.failures.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(fig.failures.is_empty(), "{:#?}", fig.failures);
}
