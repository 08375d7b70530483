//! Replays the checked-in corpus of the `decode_frame` fuzz target (`fuzz/corpus/
//! decode_frame/*`) through the function the target runs, so CI needs no nightly toolchain.

use std::path::PathBuf;

#[test]
fn decode_frame_corpus_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode_frame");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "corpus {} is too small", dir.display());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let res = std::panic::catch_unwind(|| docdb_proto::fuzzing::decode_all(&data));
        assert!(res.is_ok(), "corpus input {} panicked", f.display());
    }
    eprintln!("decode_frame corpus replay: {} inputs", files.len());
}
