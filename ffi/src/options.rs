//! `docdb_options`: the engine's `Options` as a plain C struct.

use std::ffi::c_char;
use std::time::Duration;

use docdb::{ConnectOptions, Error, Options, Result, Sync};

use crate::ptr;

/// When a commit is durable (values of `docdb_options.sync`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum docdb_sync {
    /// A commit returns after its records are fsynced; survives power loss. The default.
    DOCDB_SYNC_FULL = 0,
    /// A commit returns after its records reach the OS; survives a process crash. The log
    /// is fsynced after every 8 MiB of appends, at segment rotation, checkpoint,
    /// compaction, `docdb_db_sync`/`docdb_store_sync` and close; power loss can lose the
    /// newest commits (never part of a transaction).
    DOCDB_SYNC_NORMAL = 1,
}

/// Options of `docdb_store_open`. Always start from `docdb_options_default()` and change
/// the fields you need; a value out of range makes the open fail with
/// `DOCDB_INVALID_ARGUMENT`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct docdb_options {
    /// One of `docdb_sync` (stored as an integer so that any value C passes is checked).
    pub sync: u32,
    /// Largest accepted document in bytes (1 .. 1 GiB). Default 16 MiB.
    pub max_document_size: u64,
    /// Global cap on engine memory (index, retained versions, pending transaction data).
    /// Default 1 GiB.
    pub memory_limit: u64,
    /// The same cap per database. Default 256 MiB.
    pub db_memory_limit: u64,
    /// Size at which a log segment is sealed (4 KiB .. 3 GiB). Default 64 MiB.
    pub segment_size: u64,
    /// Automatic compaction needs at least this many dead bytes... Default 64 MiB.
    pub compaction_min_dead_bytes: u64,
    /// ...making up at least this fraction (0 < r <= 1) of the log. Default 0.5.
    pub compaction_dead_ratio: f64,
    /// Automatic compaction on or off (`docdb_db_compact` always works). Default true.
    pub auto_compact: bool,
    /// Log bytes after which a checkpoint is written automatically. Default 256 MiB.
    pub checkpoint_bytes: u64,
    /// Index shards, a power of two (1 .. 65536). Default 16.
    pub index_shards: u64,
    /// Bytes of recently read documents kept in memory for the whole store, so that warm
    /// reads make no system call; 0 turns the cache off. Not part of `memory_limit`.
    /// Default 256 MiB.
    pub cache_size: u64,
}

impl docdb_options {
    /// The engine's `Options` (the engine validates the values when the store opens).
    pub(crate) fn to_core(self) -> Result<Options> {
        let sync = match self.sync {
            0 => Sync::Full,
            1 => Sync::Normal,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "sync must be a docdb_sync value, not {other}"
                )))
            }
        };
        let index_shards = usize::try_from(self.index_shards).map_err(|_| {
            Error::InvalidArgument(format!("index_shards {} is too large", self.index_shards))
        })?;
        Ok(Options {
            sync,
            max_document_size: self.max_document_size,
            memory_limit: self.memory_limit,
            db_memory_limit: self.db_memory_limit,
            segment_size: self.segment_size,
            compaction_min_dead_bytes: self.compaction_min_dead_bytes,
            compaction_dead_ratio: self.compaction_dead_ratio,
            auto_compact: self.auto_compact,
            checkpoint_bytes: self.checkpoint_bytes,
            index_shards,
            cache_size: self.cache_size,
        })
    }
}

/// The default options (the engine's defaults). Cannot fail.
#[no_mangle]
pub extern "C" fn docdb_options_default() -> docdb_options {
    crate::panic::boundary(defaults(), defaults)
}

fn defaults() -> docdb_options {
    let o = Options::default();
    docdb_options {
        sync: match o.sync {
            Sync::Full => docdb_sync::DOCDB_SYNC_FULL,
            Sync::Normal => docdb_sync::DOCDB_SYNC_NORMAL,
        } as u32,
        max_document_size: o.max_document_size,
        memory_limit: o.memory_limit,
        db_memory_limit: o.db_memory_limit,
        segment_size: o.segment_size,
        compaction_min_dead_bytes: o.compaction_min_dead_bytes,
        compaction_dead_ratio: o.compaction_dead_ratio,
        auto_compact: o.auto_compact,
        checkpoint_bytes: o.checkpoint_bytes,
        index_shards: o.index_shards as u64,
        cache_size: o.cache_size,
    }
}

/// Options of `docdb_store_connect`. Always start from `docdb_connect_options_default()`
/// and change the fields you need. The strings are borrowed for the duration of the call
/// only; NULL means "none".
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct docdb_connect_options {
    /// The server's shared secret (the contents of its `--token-file`), UTF-8. Required by
    /// servers started with a token (always over TCP). Default NULL.
    pub token: *const c_char,
    /// For `tls://` URLs: path of the PEM file of the certificate authority (or the
    /// self-signed certificate) that signed the server's certificate. Default NULL.
    pub tls_ca_file: *const c_char,
    /// For `tls://` URLs: the name to verify in the server's certificate; NULL for the
    /// URL's host. Default NULL.
    pub tls_server_name: *const c_char,
    /// Milliseconds allowed to connect and complete the handshake (> 0). Default 10000.
    pub connect_timeout_ms: u64,
    /// Milliseconds a request may wait for its reply before the connection is given up
    /// (the call then fails with `DOCDB_UNAVAILABLE`, its outcome unknown); 0 waits as long
    /// as the server keeps the connection open. Default 300000.
    pub request_timeout_ms: u64,
    /// Idle connections kept for reuse. Default 8.
    pub pool_size: u64,
}

impl docdb_connect_options {
    /// The client's `ConnectOptions` (strings copied, values checked).
    pub(crate) fn to_client(self) -> Result<ConnectOptions> {
        if self.connect_timeout_ms == 0 {
            return Err(Error::InvalidArgument(
                "connect_timeout_ms must be greater than 0".into(),
            ));
        }
        let pool_size = usize::try_from(self.pool_size).map_err(|_| {
            Error::InvalidArgument(format!("pool_size {} is too large", self.pool_size))
        })?;
        Ok(ConnectOptions {
            token: ptr::opt_utf8(self.token, "token")?.map(str::to_owned),
            ca_file: ptr::opt_path(self.tls_ca_file, "tls_ca_file")?,
            server_name: ptr::opt_utf8(self.tls_server_name, "tls_server_name")?.map(str::to_owned),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            request_timeout: (self.request_timeout_ms > 0)
                .then(|| Duration::from_millis(self.request_timeout_ms)),
            pool_size,
        })
    }
}

/// The default connect options (the client's defaults). Cannot fail.
#[no_mangle]
pub extern "C" fn docdb_connect_options_default() -> docdb_connect_options {
    crate::panic::boundary(connect_defaults(), connect_defaults)
}

fn connect_defaults() -> docdb_connect_options {
    let o = ConnectOptions::default();
    docdb_connect_options {
        token: std::ptr::null(),
        tls_ca_file: std::ptr::null(),
        tls_server_name: std::ptr::null(),
        connect_timeout_ms: o.connect_timeout.as_millis() as u64,
        request_timeout_ms: o.request_timeout.map_or(0, |t| t.as_millis() as u64),
        pool_size: o.pool_size as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docdb::OptionType;

    /// Sets the C field of core's option `name` to a valid non-default value.
    fn set(o: &mut docdb_options, name: &str) -> bool {
        match name {
            "sync" => o.sync = docdb_sync::DOCDB_SYNC_NORMAL as u32,
            "max_document_size" => o.max_document_size = 1000,
            "memory_limit" => o.memory_limit = 1000,
            "db_memory_limit" => o.db_memory_limit = 1000,
            "segment_size" => o.segment_size = 8192,
            "compaction_min_dead_bytes" => o.compaction_min_dead_bytes = 1000,
            "compaction_dead_ratio" => o.compaction_dead_ratio = 0.25,
            "auto_compact" => o.auto_compact = false,
            "checkpoint_bytes" => o.checkpoint_bytes = 1000,
            "index_shards" => o.index_shards = 4,
            "cache_size" => o.cache_size = 0,
            _ => return false,
        }
        true
    }

    /// Walks core's list of options: one added to core fails here until C carries it.
    #[test]
    fn every_core_option_reaches_the_engine() {
        for (name, ty) in Options::FIELDS {
            let mut o = defaults();
            assert!(set(&mut o, name), "docdb_options has no field for {name}");
            let core = o.to_core().unwrap();
            assert_ne!(
                core,
                Options::default(),
                "{name} ({ty:?}) did not reach the engine"
            );
            if *ty == OptionType::Sync {
                assert_eq!(core.sync, Sync::Normal);
            }
        }
        let bad = docdb_options {
            sync: 99,
            ..defaults()
        };
        assert!(bad.to_core().is_err());
    }

    #[test]
    fn connect_options_reach_the_client() {
        let d = connect_defaults().to_client().unwrap();
        let core = ConnectOptions::default();
        assert_eq!(
            (d.connect_timeout, d.request_timeout, d.pool_size, d.token),
            (
                core.connect_timeout,
                core.request_timeout,
                core.pool_size,
                None
            )
        );
        let token = c"s3cret";
        let ca = c"/etc/ca.pem";
        let o = docdb_connect_options {
            token: token.as_ptr(),
            tls_ca_file: ca.as_ptr(),
            tls_server_name: token.as_ptr(),
            connect_timeout_ms: 1500,
            request_timeout_ms: 0,
            pool_size: 2,
        }
        .to_client()
        .unwrap();
        assert_eq!(o.token.as_deref(), Some("s3cret"));
        assert_eq!(o.server_name.as_deref(), Some("s3cret"));
        assert_eq!(
            o.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert_eq!(o.connect_timeout, Duration::from_millis(1500));
        assert_eq!((o.request_timeout, o.pool_size), (None, 2));
        let zero = docdb_connect_options {
            connect_timeout_ms: 0,
            ..connect_defaults()
        };
        assert_eq!(
            zero.to_client().unwrap_err().kind(),
            docdb::ErrorKind::InvalidArgument
        );
    }
}
