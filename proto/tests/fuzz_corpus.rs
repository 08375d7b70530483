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

/// A few thousand deterministic mutations of the corpus (bit flips, truncations, splices,
/// overwritten length fields) through the same function, so stable CI explores beyond the
/// checked-in inputs.
#[test]
fn decode_frame_corpus_mutations() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode_frame");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n.max(1) as u64) as usize
    };
    let mut n = 0;
    for seed in &seeds {
        for _ in 0..100 {
            let mut d = seed.clone();
            match rand(4) {
                0 if !d.is_empty() => {
                    let i = rand(d.len());
                    d[i] ^= 1 << rand(8);
                }
                1 => d.truncate(rand(d.len() + 1)),
                2 => {
                    let other = &seeds[rand(seeds.len())];
                    d.extend_from_slice(&other[rand(other.len() + 1)..]);
                }
                _ if d.len() >= 4 => {
                    let len = (rand(64) as u32).to_le_bytes();
                    d[..4].copy_from_slice(&len);
                }
                _ => {}
            }
            docdb_proto::fuzzing::decode_all(&d);
            n += 1;
        }
    }
    eprintln!("decode_frame corpus mutations: {n} inputs");
}
