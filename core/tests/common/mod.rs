//! Shared by the tests: the fault-injecting file system and the model of acknowledged
//! commits the crash sweeps verify against, the workloads and fuzz harness that drive them,
//! and a pass-through file system that counts fsyncs and fails on demand (`probe_fs`).

#![allow(dead_code)] // each test binary uses a different part

pub mod faultfs;
pub mod fuzz_harness;
pub mod model;
pub mod probe_fs;
pub mod workload;
