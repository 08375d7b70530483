//! DocDB's server: one store shared by many client processes over a Unix socket, and
//! optionally TCP or TLS, speaking the protocol of `docs/protocol.md` (`docdb-proto`).
//!
//! [`run`] is the whole program: it opens the store (holding its lock), listens, serves
//! every connection in its own task (`conn`), runs engine calls on the blocking pool so an
//! fsync never stalls other connections (reads the record cache holds are answered in the
//! task: no system call, no wait), and on SIGTERM or SIGINT stops accepting, lets
//! requests in flight finish, rolls back open transactions, checkpoints, closes the store
//! and returns success. `docs/server.md` describes deployment, security and limits.

mod args;
mod auth;
mod conn;
mod listen;
mod metered_fs;
mod session;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use docdb_proto::ServerStats;
use tokio::sync::{watch, Semaphore};

use metered_fs::MeteredFs;

/// The server's store: on the operating system's files, with fsyncs counted.
pub(crate) type Store = docdb_core::Store<MeteredFs>;

pub use args::{ServeArgs, SyncMode};

/// What every connection task shares.
pub(crate) struct Shared {
    store: Store,
    args: ServeArgs,
    /// The token from `--token-file`, if any.
    token: Option<Vec<u8>>,
    /// Turns true once, at shutdown.
    shutdown: watch::Sender<bool>,
    /// One permit per connection being served (`--max-connections`).
    connections: Arc<Semaphore>,
    counters: Counters,
}

/// The counters of `SERVER_STATS` (besides the open connections, which are the permits
/// taken).
#[derive(Default)]
pub(crate) struct Counters {
    connections_total: AtomicU64,
    connections_refused: AtomicU64,
    auth_failures: AtomicU64,
    requests: AtomicU64,
    fsyncs: Arc<AtomicU64>,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Shared {
    pub(crate) fn server_stats(&self) -> ServerStats {
        let c = &self.counters;
        let open = self.args.max_connections - self.connections.available_permits();
        ServerStats {
            connections: open as u64,
            connections_total: c.connections_total.load(Ordering::Relaxed),
            connections_refused: c.connections_refused.load(Ordering::Relaxed),
            auth_failures: c.auth_failures.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            fsyncs: c.fsyncs.load(Ordering::Relaxed),
        }
    }
}

/// Runs the server until SIGTERM or SIGINT. Exit codes: 0 after a clean shutdown, 1 when
/// the server cannot start (store locked or unreadable, socket in use, missing token for
/// TCP, bad TLS files) or the store fails to close cleanly.
pub fn run(args: ServeArgs) -> ExitCode {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(args.log_level)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("docdb-server")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(listen::serve(args, listen::wait_for_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            tracing::error!("{msg}");
            ExitCode::FAILURE
        }
    }
}

/// A server running on threads of this process: for tests of the clients and for programs
/// that embed it. It installs no signal handler and no log subscriber; [`InProcess::stop`]
/// (or dropping it) shuts it down as SIGTERM does for the process.
pub struct InProcess {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl InProcess {
    /// Starts serving `args` on a thread of its own and returns at once: the socket
    /// answers shortly after (a start failure is returned by [`InProcess::stop`]).
    pub fn start(args: ServeArgs) -> std::io::Result<InProcess> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("docdb-server")
            .build()?;
        let thread = std::thread::Builder::new()
            .name("docdb-server".into())
            .spawn(move || {
                runtime.block_on(listen::serve(args, async {
                    let _ = stopped.await;
                }))
            })?;
        Ok(InProcess {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Shuts down (requests in flight finish, transactions roll back, the store is
    /// checkpointed and closed) and waits for it; `Err` if the start or the close failed.
    pub fn stop(mut self) -> Result<(), String> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| "the server thread panicked".to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl ServeArgs {
    /// The defaults of the command line, serving `data` on the Unix socket `unix`.
    pub fn new(
        data: impl Into<std::path::PathBuf>,
        unix: impl Into<std::path::PathBuf>,
    ) -> ServeArgs {
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let (data, unix): (std::path::PathBuf, std::path::PathBuf) = (data.into(), unix.into());
        let line = <Line as clap::Parser>::try_parse_from([
            std::ffi::OsStr::new("docdb-server"),
            "--data".as_ref(),
            data.as_os_str(),
            "--unix".as_ref(),
            unix.as_os_str(),
        ]);
        line.expect("the defaults of ServeArgs parse").serve
    }
}
