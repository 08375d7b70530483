//! Gives libdocdb.so its SONAME: rustc sets none on cdylibs, and without one a program
//! linked against `libdocdb.so` would record that unversioned name instead of
//! `libdocdb.so.0`, so an ABI-breaking `libdocdb.so.1` could never sit beside it.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "freebsd" || os == "netbsd" || os == "openbsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdocdb.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
