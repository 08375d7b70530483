//! The command line of the server (`docdb serve` / `docdb-server`): one `clap::Args` struct
//! so the CLI can embed it as a subcommand unchanged.

use std::path::PathBuf;
use std::time::Duration;

/// Serve one data directory to many clients over a Unix socket, and optionally TCP or TLS.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Data directory of the store (created if missing); the server holds its lock.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Path of the Unix socket to create (a stale socket file there is replaced).
    #[arg(long, value_name = "PATH")]
    pub unix: PathBuf,
    /// Also listen on TCP (requires --token-file).
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// File holding the shared secret clients must present (trailing whitespace ignored).
    /// Required with --tcp; with only --unix it is checked if given.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain: TCP connections then speak TLS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key", requires = "tcp")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Permissions of the Unix socket, in octal.
    #[arg(long, value_name = "MODE", default_value = "600", value_parser = parse_mode)]
    pub socket_mode: u32,
    /// Log level on stderr: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: tracing::Level,
    /// Durability of commits: full (fsync before the reply) or normal (see
    /// docs/failure_modes.md).
    #[arg(long, value_enum, default_value = "full")]
    pub sync: SyncMode,
    /// Connections served at once (at least 1); more are told UNAVAILABLE and closed.
    #[arg(long, value_name = "N", default_value_t = 128,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,
    /// Largest frame accepted, in bytes (at least 4096); a larger one closes that
    /// connection.
    #[arg(long, value_name = "BYTES", default_value_t = docdb_proto::DEFAULT_MAX_FRAME,
          value_parser = clap::value_parser!(u32).range(MIN_FRAME..))]
    pub max_frame: u32,
    /// Bytes of documents staged by the open transactions of one connection.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_txn_bytes: u64,
    /// Time a new connection has to complete its handshake (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Time the rest of a frame may take once its first byte arrived (slow senders).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// Time a reply may wait for a client that does not read it.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub write_timeout: Duration,
    /// A connection with no request for this long is closed (its transactions roll back).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Delay before a wrong token is answered, so guessing is slow.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub auth_delay: Duration,
    /// On SIGTERM/SIGINT, how long requests in flight may take before the store is closed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
}

/// The smallest `--max-frame`: below it even small requests would be refused, so the
/// server would serve nothing.
const MIN_FRAME: i64 = 4096;

/// `--sync`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    Full,
    Normal,
}

fn parse_mode(s: &str) -> Result<u32, String> {
    match u32::from_str_radix(s, 8) {
        Ok(m) if m <= 0o777 => Ok(m),
        _ => Err(format!("{s:?} is not an octal mode such as 600 or 660")),
    }
}

/// `500ms`, `10s`, `5m`, or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as 500ms, 10s or 5m");
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else {
        (s, 1000)
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    n.checked_mul(scale)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_modes() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_mode("660"), Ok(0o660));
        assert!(parse_mode("999").is_err());
    }
}
