//! Opening the store a command works on: a data directory, without creating or touching a
//! directory that is not a DocDB store (unless asked to with `--create`), or a server,
//! when the STORE argument is a URL (`unix:///path.sock`, `tcp://host:port`,
//! `tls://host:port`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use docdb::{ConnectOptions, Database, Error, Options, Store};

use crate::failure::Failure;

/// How to authenticate to a server (`--token-file`, `--tls-ca`), for STORE arguments that
/// are URLs.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Remote {
    /// File holding the server's token (its --token-file), for a STORE given as a URL.
    #[arg(long, value_name = "FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// PEM file of the CA (or self-signed certificate) of a tls:// server.
    #[arg(long, value_name = "FILE", global = true)]
    pub tls_ca: Option<PathBuf>,
}

static REMOTE: OnceLock<Remote> = OnceLock::new();

/// Records the command line's `Remote` options (once, at start).
pub fn set_remote(r: Remote) {
    let _ = REMOTE.set(r);
}

/// The URL of a server, if `dir` names one rather than a directory.
pub fn url(dir: &Path) -> Option<&str> {
    let s = dir.to_str()?;
    ["unix://", "tcp://", "tls://"]
        .iter()
        .any(|scheme| s.starts_with(scheme))
        .then_some(s)
}

fn connect(url: &str) -> Result<Store, Failure> {
    let remote = REMOTE.get().cloned().unwrap_or_default();
    let token = match &remote.token_file {
        None => None,
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| Failure::io(format!("reading the token file {}", f.display()), e))?
                .trim_end()
                .to_string(),
        ),
    };
    let opts = ConnectOptions {
        token,
        ca_file: remote.tls_ca,
        ..ConnectOptions::default()
    };
    Ok(Store::connect(url, opts)?)
}

/// Fails for a command that works on the files of a store when STORE is a server's URL.
pub fn local_only(dir: &Path, command: &str) -> Result<(), Failure> {
    match url(dir) {
        None => Ok(()),
        Some(url) => Err(Failure::new(format!(
            "`docdb {command}` reads the store's files, which the server at {url} holds"
        ))
        .with_hint(format!(
            "run `docdb {command} DIR` on the server's host, with the server's data directory"
        ))),
    }
}

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
/// a new store. A URL connects to that server instead (its directory exists).
pub fn open(dir: &Path, create: bool) -> Result<Store, Failure> {
    if let Some(url) = url(dir) {
        return connect(url);
    }
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

/// A `--create` command's directory that held nothing before it ran (missing or empty):
/// if the command fails, [`Fresh::undo`] removes the empty store it made, so that a failed
/// command creates nothing, as a failed open in the engine.
pub struct Fresh {
    dir: PathBuf,
    existed: bool,
}

impl Fresh {
    /// `Some` when `dir` is a directory path (not a URL) that is missing or empty.
    pub fn before(dir: &Path) -> Option<Fresh> {
        if url(dir).is_some() {
            return None;
        }
        match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none().then(|| Fresh {
                dir: dir.to_path_buf(),
                existed: true,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Fresh {
                dir: dir.to_path_buf(),
                existed: false,
            }),
            Err(_) => None,
        }
    }

    /// Removes the store made since [`Fresh::before`] if it holds nothing but its lock
    /// file (no database was created): anything else is left as it is.
    pub fn undo(self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let names: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        if names.iter().any(|n| n != "LOCK") {
            return;
        }
        // Only while holding the lock: a process that opened the store meanwhile keeps it.
        let lock = self.dir.join("LOCK");
        let Ok(file) = std::fs::File::open(&lock) else {
            return;
        };
        if file.try_lock().is_err() {
            return;
        }
        let _ = std::fs::remove_file(&lock);
        drop(file);
        if !self.existed {
            let _ = std::fs::remove_dir(&self.dir);
        }
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
            store.location()
        )),
        e => e.into(),
    })
}
