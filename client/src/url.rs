//! Server addresses: `unix:///path/to.sock`, `tcp://host:port`, `tls://host:port`.

use docdb_core::{Error, Result};

/// Where a server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(std::path::PathBuf),
    Tcp { host: String, port: u16 },
    Tls { host: String, port: u16 },
}

impl Endpoint {
    /// Parses a server URL.
    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| {
            Err(Error::InvalidArgument(format!(
                "bad server URL {url:?}: {why} (use unix:///path/to.sock, tcp://host:port or tls://host:port)"
            )))
        };
        if let Some(path) = url.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return bad("a Unix socket path must be absolute");
            }
            return Ok(Endpoint::Unix(path.into()));
        }
        let (tls, rest) = if let Some(r) = url.strip_prefix("tcp://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("tls://") {
            (true, r)
        } else {
            return bad("unknown scheme");
        };
        let rest = rest.trim_end_matches('/');
        let Some((host, port)) = rest.rsplit_once(':') else {
            return bad("missing :port");
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(port) = port.parse::<u16>() else {
            return bad("bad port");
        };
        if host.is_empty() {
            return bad("missing host");
        }
        let host = host.to_string();
        Ok(if tls {
            Endpoint::Tls { host, port }
        } else {
            Endpoint::Tcp { host, port }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Endpoint::parse("unix:///run/docdb.sock").unwrap(),
            Endpoint::Unix("/run/docdb.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:7070").unwrap(),
            Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 7070
            }
        );
        assert_eq!(
            Endpoint::parse("tls://[::1]:7070").unwrap(),
            Endpoint::Tls {
                host: "::1".into(),
                port: 7070
            }
        );
        for bad in [
            "unix://rel.sock",
            "http://x:1",
            "tcp://host",
            "tcp://:1",
            "tcp://h:99999",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert_eq!(e.kind(), docdb_core::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
