//! Arbitrary bytes as a stream of protocol frames: cut, parsed as requests and as replies,
//! re-encoded (`docdb_proto::fuzzing::decode_all`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| docdb_proto::fuzzing::decode_all(data));
