//! Listening sockets, the connection limit, TLS, and the shutdown sequence.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use docdb_core::{Error, Options, Sync};
use docdb_proto::{encode_frame, Reply};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::{rustls, TlsAcceptor};

use crate::metered_fs::MeteredFs;
use crate::{conn, Counters, ServeArgs, Shared, Store, SyncMode};

/// An accepted socket, before TLS.
enum Accepted {
    Unix(UnixStream),
    Tcp(TcpStream, String),
}

/// Starts, serves until `stop` resolves (a signal, for the server process), shuts down.
/// `Err` is the message of a failed start or close.
pub(crate) async fn serve(
    args: ServeArgs,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    if args.tcp.is_some() && args.token_file.is_none() {
        return Err("--tcp needs --token-file: TCP is never served without a token".into());
    }
    let token = match &args.token_file {
        None => None,
        Some(p) => Some(read_token(p)?),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(tls_acceptor(c, k)?),
        _ => None,
    };
    let opts = Options {
        sync: match args.sync {
            SyncMode::Full => Sync::Full,
            SyncMode::Normal => Sync::Normal,
        },
        ..Options::default()
    };
    let data = args.data.clone();
    let fs = MeteredFs::default();
    let counters = Counters {
        fsyncs: fs.fsyncs.clone(),
        ..Counters::default()
    };
    let store = tokio::task::spawn_blocking(move || Store::open_with(fs, &data, opts))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot open the store {}: {e}", args.data.display()))?;
    // TCP first: a port in use then stops the start before the socket file exists, so
    // no file is left that nothing listens on.
    let tcp = match &args.tcp {
        None => None,
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on TCP {addr}: {e}"))?,
        ),
    };
    let unix = bind_unix(&args.unix, args.socket_mode)
        .map_err(|e| format!("cannot listen on {}: {e}", args.unix.display()))?;
    let (shutdown, _) = watch::channel(false);
    let shared = Arc::new(Shared {
        store: store.clone(),
        connections: Arc::new(Semaphore::new(args.max_connections)),
        token,
        shutdown,
        args,
        counters,
    });
    // Each connection task holds a clone of `done`; when all are dropped, all are done.
    let (done, mut all_done) = mpsc::channel::<()>(1);
    tracing::info!(
        unix = %shared.args.unix.display(),
        tcp = ?tcp.as_ref().and_then(|l| l.local_addr().ok()),
        tls = tls.is_some(),
        data = %shared.args.data.display(),
        "docdb server listening"
    );
    let mut loops = Vec::new();
    loops.push(tokio::spawn(accept_loop(
        shared.clone(),
        done.clone(),
        None,
        Listener::Unix(unix),
    )));
    if let Some(tcp) = tcp {
        loops.push(tokio::spawn(accept_loop(
            shared.clone(),
            done.clone(),
            tls,
            Listener::Tcp(tcp),
        )));
    }
    drop(done);

    stop.await;
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    let _ = shared.shutdown.send(true);
    for l in loops {
        let _ = l.await;
    }
    let _ = std::fs::remove_file(&shared.args.unix);
    if tokio::time::timeout(shared.args.shutdown_timeout, all_done.recv())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after the shutdown timeout; closing the store anyway"
        );
    }
    let closed = tokio::task::spawn_blocking(move || {
        store.checkpoint()?;
        store.close()
    })
    .await
    .map_err(|e| e.to_string())?;
    match closed {
        Ok(()) => {
            tracing::info!("store checkpointed and closed; bye");
            Ok(())
        }
        Err(e) => Err(format!("closing the store failed: {e}")),
    }
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Unix(l) => Ok(Accepted::Unix(l.accept().await?.0)),
            Listener::Tcp(l) => {
                let (s, addr) = l.accept().await?;
                // Small requests and replies must not wait for Nagle's algorithm.
                let _ = s.set_nodelay(true);
                Ok(Accepted::Tcp(s, addr.to_string()))
            }
        }
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    done: mpsc::Sender<()>,
    tls: Option<TlsAcceptor>,
    listener: Listener,
) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            a = listener.accept() => a,
        };
        let accepted = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
            Counters::bump(&shared.counters.connections_refused);
            refuse_busy(&accepted, shared.args.max_connections, tls.is_some());
            continue;
        };
        Counters::bump(&shared.counters.connections_total);
        let (shared, done, tls) = (shared.clone(), done.clone(), tls.clone());
        tokio::spawn(async move {
            match accepted {
                Accepted::Unix(s) => conn::serve(s, "unix".into(), shared).await,
                Accepted::Tcp(s, peer) => match tls {
                    None => conn::serve(s, peer, shared).await,
                    Some(tls) => {
                        let limit = shared.args.handshake_timeout;
                        match tokio::time::timeout(limit, tls.accept(s)).await {
                            Ok(Ok(s)) => conn::serve(s, peer, shared).await,
                            Ok(Err(e)) => tracing::warn!(%peer, "TLS handshake failed: {e}"),
                            Err(_) => tracing::warn!(%peer, "TLS handshake timed out"),
                        }
                    }
                },
            }
            drop(permit);
            drop(done);
        });
    }
}

/// Tells a connection over the limit why it is closed, if its socket takes the few bytes
/// at once (never waiting: the accept loop must not block). TLS clients only see the close.
fn refuse_busy(accepted: &Accepted, max: usize, tls: bool) {
    tracing::warn!("connection refused: {max} connections already served");
    let err = Error::Unavailable {
        message: format!("the server already serves its maximum of {max} connections"),
        outcome_unknown: false,
    };
    let (kind, body) = Reply::Error(err).encode();
    let mut frame = Vec::new();
    encode_frame(0, kind, &body, &mut frame);
    let _ = match accepted {
        Accepted::Unix(s) => s.try_write(&frame),
        Accepted::Tcp(s, _) if !tls => s.try_write(&frame),
        Accepted::Tcp(..) => Ok(0),
    };
}

/// Binds the Unix socket under a temporary name, sets its mode, then renames it into
/// place, so no client can connect while it still has the umask's permissions. A stale
/// socket file (no server behind it) is replaced; a live one is an error.
fn bind_unix(path: &Path, mode: u32) -> io::Result<UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the path exists and is not a socket",
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "another server listens on this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let listener = std::os::unix::net::UnixListener::bind(&tmp)?;
    let placed = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    listener.set_nonblocking(true)?;
    UnixListener::from_std(listener)
}

fn read_token(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path)
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "the token file {} is readable by other users; chmod 600 it",
                path.display()
            );
        }
    }
    let token = raw.trim_ascii_end().to_vec();
    if token.is_empty() {
        return Err(format!("the token file {} is empty", path.display()));
    }
    Ok(token)
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect())
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("bad TLS certificate or key: {e}"))?;
    // No session tickets: clients keep connections open instead of resuming, and a ticket
    // arriving on an idle pooled connection would look like the server closing it.
    config.send_tls13_tickets = 0;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install the signal handlers; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
