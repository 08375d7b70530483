//! Opening the store a command works on, without creating or touching a directory that is
//! not a DocDB store (unless asked to with `--create`).

use std::path::Path;

use docdb_core::{Database, Error, Options, Store};

use crate::failure::Failure;

/// Whether `names` (a directory's entries) are those of a data directory.
fn is_store(names: &[String]) -> bool {
    names.iter().any(|n| {
        n == "CATALOG"
            || n == "LOCK"
            || n.strip_prefix("db-")
                .is_some_and(|id| id.parse::<u64>().is_ok())
    })
}

/// Opens the existing store at `dir`; with `create`, a missing or empty directory becomes
/// a new store.
pub fn open(dir: &Path, create: bool) -> Result<Store, Failure> {
    require(dir, create)?;
    Ok(Store::open(dir, Options::default())?)
}

/// Fails unless `dir` is a store (or, with `create`, absent or empty), touching nothing.
pub fn require(dir: &Path, create: bool) -> Result<(), Failure> {
    let names: Option<Vec<String>> = match std::fs::read_dir(dir) {
        Ok(entries) => Some(
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Failure::io(format!("reading {}", dir.display()), e)),
    };
    match &names {
        None if !create => Err(Failure::new(format!(
            "no DocDB store at {}: no such directory",
            dir.display()
        ))
        .with_hint("check the path, or pass --create to a command that writes")),
        Some(n) if n.is_empty() && !create => Err(Failure::new(format!(
            "{} is an empty directory, not a DocDB store",
            dir.display()
        ))
        .with_hint("pass --create to a command that writes to make it a store")),
        Some(n) if !n.is_empty() && !is_store(n) => Err(Failure::new(format!(
            "{} is not a DocDB data directory (no CATALOG, LOCK or db-* directory)",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Opens the database `name`; with `create`, creates it if it does not exist.
pub fn database(store: &Store, name: &str, create: bool) -> Result<Database, Failure> {
    let db = if create {
        store.open_or_create_db(name)
    } else {
        store.open_db(name)
    };
    db.map_err(|e| match e {
        Error::NotFound(_) => Failure::from(e).with_hint(format!(
            "`docdb ls {}` lists the databases",
            store.path().display()
        )),
        e => e.into(),
    })
}
