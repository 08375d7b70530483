//! Writes `include/docdb.h` from the `docdb-ffi` sources with cbindgen
//! (configuration: `ffi/cbindgen.toml`).
//!
//! Usage: `docdb-header` (write the header) or `docdb-header --verify` (exit 1 when the
//! committed header differs from a fresh generation: the drift check of `make test`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let verify = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--verify") => true,
        Some(other) => {
            eprintln!("usage: docdb-header [--verify]   (unknown argument {other:?})");
            return ExitCode::from(2);
        }
    };
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/header has a parent")
        .to_path_buf();
    let header: PathBuf = ffi.join("../include/docdb.h");
    match run(&ffi, &header, verify) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("docdb-header: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(ffi: &Path, header: &Path, verify: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let config = cbindgen::Config::from_file(ffi.join("cbindgen.toml"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(ffi)
        .with_config(config)
        .generate()?;
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let committed = std::fs::read(header).unwrap_or_default();
    if verify {
        if committed == fresh {
            println!("include/docdb.h is up to date");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "include/docdb.h differs from what ffi/src generates: run `make header` and \
             commit the result"
        );
        return Ok(ExitCode::FAILURE);
    }
    if committed != fresh {
        std::fs::create_dir_all(header.parent().expect("include/ has a parent"))?;
        std::fs::write(header, &fresh)?;
        println!("wrote include/docdb.h");
    } else {
        println!("include/docdb.h is up to date");
    }
    Ok(ExitCode::SUCCESS)
}
