//! Fuzz target: arbitrary bytes through the public API; the body is shared with the
//! corpus replay test (`core/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../../core/tests/common/faultfs.rs"]
mod faultfs;
#[path = "../../core/tests/common/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_harness::run(fuzz_harness::Target::Checkpoint, data);
});
