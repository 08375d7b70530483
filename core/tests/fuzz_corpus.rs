//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/*`) through the same function
//! the cargo-fuzz targets run (`common/fuzz_harness.rs`), so CI needs no nightly toolchain.
//! `DOCDB_WRITE_SEEDS=1` (re)writes the seed inputs generated from a real store.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::fuzz_harness::{run, seeds, Target};

fn corpus_dir(target: Target) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target.name())
}

#[test]
fn fuzz_corpus_replay() {
    let t = Instant::now();
    let mut counts = Vec::new();
    for target in Target::ALL {
        let dir = corpus_dir(target);
        if std::env::var_os("DOCDB_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            for (i, s) in seeds(target).iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
            }
        }
        let mut n = 0;
        // The seeds themselves always run, so a missing corpus cannot pass silently.
        for s in seeds(target) {
            run(target, &s);
            n += 1;
        }
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "empty corpus {}", dir.display());
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let res = std::panic::catch_unwind(|| run(target, &data));
            assert!(res.is_ok(), "corpus input {} panicked", f.display());
            n += 1;
        }
        counts.push(format!("{}: {n}", target.name()));
    }
    eprintln!(
        "fuzz corpus replay: {} inputs, losses: 0, {:.1}s",
        counts.join(", "),
        t.elapsed().as_secs_f64()
    );
}
