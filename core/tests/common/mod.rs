//! Shared by the crash and fault-injection tests: the fault-injecting file system and the
//! model of acknowledged commits the sweeps verify against.

#![allow(dead_code)] // each test binary uses a different part

pub mod faultfs;
pub mod fuzz_harness;
pub mod model;
pub mod workload;
