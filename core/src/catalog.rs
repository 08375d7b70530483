//! The catalog: which logical databases exist, their ids, names and status.
//!
//! Stored in `CATALOG`, replaced atomically: write `CATALOG.tmp`, fsync it, rename it over
//! `CATALOG`, fsync the directory (the rename is not durable until its entry is).
//!
//! ```text
//! 0  [u8; 8] magic "DOCDBCAT"
//! 8  u32     format version (2)
//! 12 u32     number of entries
//! 16 u64     next database id
//! 24 entries: u64 id, u64 salt, u8 status (1 active, 2 dropped), u8 name length, name
//! .. u32     CRC-32 of everything before it
//! ```
//!
//! The salt is a random number bound into the checksum of every record of the database's
//! log (see `log/record.rs`): no document's bytes can pass for a record. A version-1 catalog
//! (no salts) is still read; `Store::open` upgrades it in place.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::{write_atomically, FileSystem};

const MAGIC: &[u8; 8] = b"DOCDBCAT";
const VERSION: u32 = 2;
/// The first format: entries without a salt.
const LEGACY_VERSION: u32 = 1;
pub(crate) const CATALOG_FILE: &str = "CATALOG";
const CATALOG_TMP: &str = "CATALOG.tmp";
const MAX_NAME_LEN: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbStatus {
    Active,
    Dropped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CatalogEntry {
    pub id: u64,
    /// Bound into the checksum of every record of this database's format-2 segments.
    pub salt: u64,
    pub name: String,
    pub status: DbStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    pub entries: Vec<CatalogEntry>,
    pub next_id: u64,
    /// Read from a version-1 file: the entries have no salt yet.
    pub legacy: bool,
}

/// A fresh random salt for a database (std's randomly keyed hasher over the time, the
/// process and a counter: unpredictable to clients, no dependency).
pub(crate) fn new_salt() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// Checks a database name: 1..=64 characters of `[A-Za-z0-9_.-]`, not starting with '.'.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName(name.to_string()))
    }
}

impl Catalog {
    pub(crate) fn active(&self, name: &str) -> Option<&CatalogEntry> {
        self.entries
            .iter()
            .find(|e| e.status == DbStatus::Active && e.name == name)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32 + self.entries.len() * 32);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        b.extend_from_slice(&self.next_id.to_le_bytes());
        for e in &self.entries {
            b.extend_from_slice(&e.id.to_le_bytes());
            b.extend_from_slice(&e.salt.to_le_bytes());
            b.push(match e.status {
                DbStatus::Active => 1,
                DbStatus::Dropped => 2,
            });
            b.push(e.name.len() as u8);
            b.extend_from_slice(e.name.as_bytes());
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8], path: &Path) -> Result<Catalog> {
        let bad = |offset: usize, why: &str| Error::corruption(path, offset as u64, why);
        if b.len() < 28 {
            return Err(bad(0, "catalog is truncated"));
        }
        if &b[0..8] != MAGIC {
            return Err(bad(0, "not a DocDB catalog (bad magic)"));
        }
        let body = &b[..b.len() - 4];
        let crc = u32::from_le_bytes(b[b.len() - 4..].try_into().expect("4 bytes"));
        if crc != crc32fast::hash(body) {
            return Err(bad(b.len() - 4, "catalog checksum mismatch"));
        }
        let version = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        if version != VERSION && version != LEGACY_VERSION {
            return Err(Error::UnsupportedVersion {
                file: path.to_path_buf(),
                found: version,
                supported: VERSION,
            });
        }
        let legacy = version == LEGACY_VERSION;
        let salt_len = if legacy { 0 } else { 8 };
        let count = u32::from_le_bytes(b[12..16].try_into().expect("4 bytes"));
        let next_id = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        let mut pos = 24;
        let mut entries = Vec::new();
        for _ in 0..count {
            let head = body
                .get(pos..pos + 10 + salt_len)
                .ok_or_else(|| bad(pos, "catalog entry is truncated"))?;
            let id = u64::from_le_bytes(head[0..8].try_into().expect("8 bytes"));
            let salt = if legacy {
                0
            } else {
                u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"))
            };
            let head = &head[salt_len..];
            let status = match head[8] {
                1 => DbStatus::Active,
                2 => DbStatus::Dropped,
                _ => return Err(bad(pos + 8, "unknown database status")),
            };
            let len = usize::from(head[9]);
            let at = pos + 10 + salt_len;
            let name = body
                .get(at..at + len)
                .and_then(|n| std::str::from_utf8(n).ok())
                .ok_or_else(|| bad(at, "catalog name is truncated or not UTF-8"))?;
            validate_name(name).map_err(|_| bad(at, "invalid database name in catalog"))?;
            if id >= next_id || entries.iter().any(|e: &CatalogEntry| e.id == id) {
                return Err(bad(pos, "duplicate or out-of-range database id"));
            }
            entries.push(CatalogEntry {
                id,
                salt,
                name: name.to_string(),
                status,
            });
            pos = at + len;
        }
        if pos != body.len() {
            return Err(bad(pos, "trailing bytes after the last catalog entry"));
        }
        Ok(Catalog {
            entries,
            next_id,
            legacy,
        })
    }

    /// Loads the catalog; a directory without one has an empty catalog.
    pub(crate) fn load<F: FileSystem>(fs: &F, dir: &Path) -> Result<Catalog> {
        let path = dir.join(CATALOG_FILE);
        match fs.read(&path) {
            Ok(bytes) => Catalog::decode(&bytes, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog {
                entries: Vec::new(),
                next_id: 1,
                legacy: false,
            }),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Replaces the catalog file atomically and durably.
    pub(crate) fn save<F: FileSystem>(&self, fs: &F, dir: &Path) -> Result<()> {
        Ok(write_atomically(
            fs,
            dir,
            CATALOG_TMP,
            CATALOG_FILE,
            &self.encode(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "users", "my-db_2.0", &"x".repeat(64)] {
            validate_name(ok).unwrap();
        }
        for bad in [
            "",
            ".hidden",
            "a/b",
            "spaced name",
            "é",
            &"x".repeat(65),
            "a\0b",
        ] {
            assert!(
                matches!(validate_name(bad), Err(Error::InvalidName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn encode_decode_and_detect_every_flip() {
        let c = Catalog {
            entries: vec![
                CatalogEntry {
                    id: 1,
                    salt: 0xdead_beef,
                    name: "users".into(),
                    status: DbStatus::Active,
                },
                CatalogEntry {
                    id: 2,
                    salt: 7,
                    name: "old".into(),
                    status: DbStatus::Dropped,
                },
            ],
            next_id: 3,
            legacy: false,
        };
        let b = c.encode();
        let p = Path::new("CATALOG");
        assert_eq!(Catalog::decode(&b, p).unwrap(), c);
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x10;
            assert!(Catalog::decode(&bad, p).is_err(), "flip at {i} accepted");
        }
        for len in 0..b.len() {
            assert!(
                Catalog::decode(&b[..len], p).is_err(),
                "truncation to {len} accepted"
            );
        }
    }
}
