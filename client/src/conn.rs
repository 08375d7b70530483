//! Connections to a server: the transports, the handshake, one request at a time, and the
//! pool that plain requests share.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use docdb_core::{Error, Result};
use docdb_proto::frame::check_len;
use docdb_proto::{encode_frame, Hello, Reply, Request, HEADER_LEN, LEN_PREFIX};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::url::Endpoint;

/// How to reach and authenticate to a server.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The server's shared secret (`--token-file`), required over TCP.
    pub token: Option<String>,
    /// PEM file of the certificate authority (or the self-signed certificate) that signed
    /// the server's certificate, for `tls://` URLs.
    pub ca_file: Option<PathBuf>,
    /// Name to verify in the server's certificate; default: the URL's host.
    pub server_name: Option<String>,
    /// Time allowed to connect and complete the handshake.
    pub connect_timeout: Duration,
    /// Time a request may wait for its reply before the connection is given up (its outcome
    /// is then unknown). `None` waits as long as the server keeps the connection open.
    pub request_timeout: Option<Duration>,
    /// Idle connections kept for reuse.
    pub pool_size: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            token: None,
            ca_file: None,
            server_name: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(300)),
            pool_size: 8,
        }
    }
}

/// The largest reply accepted: a scan page or a document, which the server keeps under
/// its own frame limit; this only bounds what a broken server could make us allocate.
const MAX_REPLY: u32 = (1 << 30) + (64 << 20);

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

enum Transport {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<TlsStream>),
}

impl Transport {
    fn raw_fd(&self) -> i32 {
        match self {
            Transport::Unix(s) => s.as_raw_fd(),
            Transport::Tcp(s) => s.as_raw_fd(),
            Transport::Tls(s) => s.sock.as_raw_fd(),
        }
    }

    fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Transport::Unix(s) => s.set_read_timeout(t).and(s.set_write_timeout(t)),
            Transport::Tcp(s) => s.set_read_timeout(t).and(s.set_write_timeout(t)),
            Transport::Tls(s) => s.sock.set_read_timeout(t).and(s.sock.set_write_timeout(t)),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Unix(s) => s.read(buf),
            Transport::Tcp(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Unix(s) => s.write(buf),
            Transport::Tcp(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Unix(s) => s.flush(),
            Transport::Tcp(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// A failed exchange: whether the request may have reached the server decides whether it
/// may be resent.
pub(crate) enum Lost {
    /// The request was not (completely) sent: the server cannot have run it.
    NotSent(String),
    /// The request was sent, its reply did not come: it may or may not have been applied.
    InFlight(String),
    /// The server closed the connection between requests (shutdown, idle timeout) and
    /// said so: the request was not run.
    Closing(Error),
}

impl Lost {
    pub(crate) fn into_error(self) -> Error {
        match self {
            Lost::NotSent(m) => unavailable(m, false),
            Lost::InFlight(m) => unavailable(m, true),
            Lost::Closing(e) => e,
        }
    }
}

/// Why a request failed when its reply did not come in time.
const NO_REPLY: &str = "no reply within the request timeout";

pub(crate) fn unavailable(message: String, outcome_unknown: bool) -> Error {
    Error::Unavailable {
        message,
        outcome_unknown,
    }
}

/// Replies up to this size (a header and a few KiB of document) arrive with one read.
const INBOX_BYTES: usize = 16 << 10;

/// Bytes received and not yet parsed, so that a reply costs one `read` rather than one
/// for its length and one for the rest.
struct Inbox {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox {
            buf: vec![0; INBOX_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads from `io` until at least `need` (at most the buffer's size) bytes are pending.
    fn fill(&mut self, io: &mut impl Read, need: usize) -> io::Result<()> {
        if self.start + need > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < need {
            // A signal (the Go runtime preempts threads with SIGURG) interrupts a read
            // without breaking the connection: read again, as `read_exact` does.
            match io.read(&mut self.buf[self.end..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// One connection, after a successful handshake.
pub(crate) struct Conn {
    io: Transport,
    inbox: Inbox,
    next_id: u64,
    max_frame: u32,
    /// Set once the connection cannot be used again.
    pub(crate) broken: bool,
    /// The fork generation it was opened in: after a `fork` the child must not talk on the
    /// parent's sockets (their frames would interleave), so it opens its own.
    generation: u64,
    /// When its last reply arrived: a connection that just answered is reused without
    /// checking that the server still holds it open (see `looks_alive`).
    last_reply: Instant,
}

/// Forks this process has gone through: a child sees a higher number than its parent had
/// when it opened its connections. Cheaper than comparing `std::process::id()`, which is a
/// system call each time.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The current fork generation, counting forks from the first connection on.
fn fork_generation() -> u64 {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: registers a child-side fork handler that only increments an atomic
        // (async-signal-safe, no allocation, no lock).
        unsafe {
            libc::pthread_atfork(None, None, Some(count_fork_in_child));
        }
    });
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// A connection that answered more recently than this is reused without the liveness
/// check: a server that closed it in between is as likely as one that closes it right
/// after the check, and either way the request is reported, never silently lost.
const TRUSTED_AFTER_REPLY: Duration = Duration::from_millis(10);

impl Conn {
    fn open(target: &Target) -> Result<Conn> {
        let opts = &target.opts;
        let fail =
            |e: io::Error| unavailable(format!("cannot connect to {}: {e}", target.url), false);
        let io = match &target.endpoint {
            Endpoint::Unix(p) => Transport::Unix(UnixStream::connect(p).map_err(fail)?),
            Endpoint::Tcp { host, port } => {
                Transport::Tcp(tcp_connect(host, *port, opts.connect_timeout).map_err(fail)?)
            }
            Endpoint::Tls { host, port } => {
                let sock = tcp_connect(host, *port, opts.connect_timeout).map_err(fail)?;
                let config = target.tls.clone().expect("tls config for tls://");
                let name = opts.server_name.clone().unwrap_or_else(|| host.clone());
                let name = ServerName::try_from(name)
                    .map_err(|e| Error::InvalidArgument(format!("bad TLS server name: {e}")))?;
                let conn = rustls::ClientConnection::new(config, name)
                    .map_err(|e| unavailable(format!("TLS: {e}"), false))?;
                Transport::Tls(Box::new(rustls::StreamOwned::new(conn, sock)))
            }
        };
        let mut c = Conn {
            io,
            inbox: Inbox::new(),
            next_id: 0,
            max_frame: docdb_proto::MAX_HELLO_FRAME,
            broken: false,
            generation: fork_generation(),
            last_reply: Instant::now(),
        };
        c.io.set_timeouts(Some(opts.connect_timeout))
            .map_err(|e| unavailable(e.to_string(), false))?;
        let hello = Request::Hello(Hello {
            min_version: docdb_proto::VERSION,
            max_version: docdb_proto::VERSION,
            token: opts.token.clone().unwrap_or_default().into_bytes(),
        });
        match c.exchange(&hello) {
            Ok(Reply::HelloOk(ok)) => c.max_frame = ok.max_frame,
            Ok(Reply::Error(e)) => return Err(e),
            Ok(other) => {
                return Err(unavailable(
                    format!("unexpected handshake reply {other:?}"),
                    false,
                ))
            }
            Err(Lost::Closing(e)) => return Err(e),
            Err(Lost::NotSent(why) | Lost::InFlight(why)) => {
                // The handshake asks nothing of the store, and runs under the connect
                // timeout.
                let why = if why == NO_REPLY {
                    "no reply within the connect timeout".to_string()
                } else {
                    why
                };
                return Err(unavailable(
                    format!("handshake with {} failed: {why}", target.url),
                    false,
                ));
            }
        }
        c.io.set_timeouts(opts.request_timeout)
            .map_err(|e| unavailable(e.to_string(), false))?;
        Ok(c)
    }

    /// Sends one request and waits for its reply. An `ERROR` reply is `Ok`: the exchange
    /// worked; the caller turns it into `Err`.
    pub(crate) fn exchange(&mut self, req: &Request) -> Result<Reply, Lost> {
        if self.broken {
            return Err(Lost::NotSent("connection already broken".into()));
        }
        if !self.opened_here() {
            return Err(Lost::Closing(Error::Closed(
                "connection (transaction or snapshot) of the parent process, before fork".into(),
            )));
        }
        let (kind, body) = req.encode();
        let size = body.len() + HEADER_LEN - LEN_PREFIX;
        if size > self.max_frame as usize {
            // Refused here rather than by the server, which would close the connection.
            return Ok(Reply::Error(Error::PayloadTooLarge {
                size: size as u64,
                max: u64::from(self.max_frame),
            }));
        }
        self.next_id += 1;
        let id = self.next_id;
        let mut frame = Vec::with_capacity(size + LEN_PREFIX);
        encode_frame(id, kind, &body, &mut frame);
        drop(body);
        if let Err(e) = self.io.write_all(&frame).and_then(|()| self.io.flush()) {
            self.broken = true;
            // A server that refuses a connection (limit, shutdown) says why and closes it;
            // the reason may be waiting in our receive buffer.
            let closed = matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            );
            if closed {
                match self.read_reply() {
                    Ok((0, Reply::Error(e @ Error::Unavailable { .. }))) => {
                        return Err(Lost::Closing(e))
                    }
                    Ok((0, reply @ Reply::Error(_))) => return Ok(reply),
                    _ => {}
                }
            }
            return Err(Lost::NotSent(format!("sending the request failed: {e}")));
        }
        drop(frame);
        match self.read_reply() {
            Ok((rid, reply)) if rid == id => {
                self.last_reply = Instant::now();
                Ok(reply)
            }
            Ok((0, Reply::Error(e))) => {
                // A connection-level error (oversized frame, shutdown, idle, limit): the
                // server closes the connection after it; the request was not run.
                self.broken = true;
                if matches!(e, Error::Unavailable { .. }) {
                    return Err(Lost::Closing(e));
                }
                Ok(Reply::Error(e))
            }
            Ok((rid, _)) => {
                self.broken = true;
                Err(Lost::InFlight(format!(
                    "reply to request {rid} while waiting for {id}"
                )))
            }
            Err(e) => {
                self.broken = true;
                let why = match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NO_REPLY.to_string(),
                    io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
                    _ => format!("the connection broke: {e}"),
                };
                Err(Lost::InFlight(why))
            }
        }
    }

    fn read_reply(&mut self) -> io::Result<(u64, Reply)> {
        self.inbox.fill(&mut self.io, LEN_PREFIX)?;
        let prefix = self.inbox.pending()[..LEN_PREFIX].try_into().unwrap();
        let len = check_len(prefix, MAX_REPLY).map_err(io::Error::other)? as usize;
        let decode = |frame: &[u8]| {
            let id = u64::from_le_bytes(frame[..8].try_into().unwrap());
            let reply = Reply::decode(frame[8], &frame[9..]).map_err(io::Error::other)?;
            Ok((id, reply))
        };
        if LEN_PREFIX + len <= INBOX_BYTES {
            self.inbox.fill(&mut self.io, LEN_PREFIX + len)?;
            let frame = &self.inbox.pending()[LEN_PREFIX..LEN_PREFIX + len];
            let parsed = decode(frame);
            self.inbox.start += LEN_PREFIX + len;
            return parsed;
        }
        // A large reply: what the inbox holds of it, then the rest straight from the socket.
        let mut frame = self.inbox.pending()[LEN_PREFIX..].to_vec();
        (self.inbox.start, self.inbox.end) = (0, 0);
        let have = frame.len();
        frame.resize(len, 0);
        self.io.read_exact(&mut frame[have..])?;
        decode(&frame)
    }

    /// Whether this process opened the connection (false in a child after `fork`).
    pub(crate) fn opened_here(&self) -> bool {
        self.generation == fork_generation()
    }

    /// Whether an idle connection still looks usable: the server never sends anything
    /// unasked, so readable bytes or end-of-file mean it closed (restart, idle timeout).
    fn looks_alive(&self) -> bool {
        if !self.inbox.pending().is_empty() {
            return false;
        }
        if self.last_reply.elapsed() < TRUSTED_AFTER_REPLY {
            return true;
        }
        let mut byte = 0u8;
        // SAFETY: recv on our own open socket into a one-byte buffer we own; MSG_PEEK and
        // MSG_DONTWAIT leave the socket's data and blocking mode untouched.
        let n = unsafe {
            libc::recv(
                self.io.raw_fd(),
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }
}

fn tcp_connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Everything needed to open a connection.
pub(crate) struct Target {
    pub(crate) url: String,
    endpoint: Endpoint,
    opts: ConnectOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Target {
    pub(crate) fn new(url: &str, opts: ConnectOptions) -> Result<Target> {
        let endpoint = Endpoint::parse(url)?;
        let tls = match endpoint {
            Endpoint::Tls { .. } => Some(tls_config(&opts)?),
            _ => None,
        };
        Ok(Target {
            url: url.to_string(),
            endpoint,
            opts,
            tls,
        })
    }
}

fn tls_config(opts: &ConnectOptions) -> Result<Arc<rustls::ClientConfig>> {
    let Some(ca) = &opts.ca_file else {
        return Err(Error::InvalidArgument(
            "tls:// needs the PEM certificate that signed the server's (option ca_file; \
             tls_ca_file in C, TLSCAFile in Go, caFile in Node, --tls-ca for the docdb tool)"
                .into(),
        ));
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", ca.display())))?;
    for c in certs {
        roots
            .add(c)
            .map_err(|e| Error::InvalidArgument(format!("bad CA certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidArgument(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The connections of one `Store`: idle ones wait in `idle` for the next plain request.
pub(crate) struct Pool {
    pub(crate) target: Target,
    idle: std::sync::Mutex<Vec<Conn>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Pool {
    pub(crate) fn new(target: Target) -> Pool {
        Pool {
            target,
            idle: std::sync::Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// An idle connection that still looks alive, or a new one.
    pub(crate) fn checkout(&self) -> Result<Conn> {
        self.check_open()?;
        loop {
            let c = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match c {
                Some(c) if c.opened_here() && c.looks_alive() => return Ok(c),
                // Closing our copy of a parent's socket leaves the parent's connection open.
                Some(_) => continue,
                None => return Conn::open(&self.target),
            }
        }
    }

    pub(crate) fn checkin(&self, c: Conn) {
        if c.broken || self.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.target.opts.pool_size {
            idle.push(c);
        }
    }

    /// Runs a plain request on a pooled connection. A request that did not reach the
    /// server, or that cannot change anything, is tried once more on a new connection.
    pub(crate) fn call(&self, req: &Request) -> Result<Reply> {
        let mut retried = false;
        loop {
            let mut c = self.checkout()?;
            match c.exchange(req) {
                Ok(reply) => {
                    self.checkin(c);
                    return match reply {
                        Reply::Error(e) => Err(e),
                        r => Ok(r),
                    };
                }
                Err(lost) => {
                    let safe =
                        matches!(lost, Lost::NotSent(_) | Lost::Closing(_)) || req.is_idempotent();
                    if safe && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(lost.into_error());
                }
            }
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `CLOSED` once the store is closed: every call of its handles fails then, and a
    /// scan does not go on with a page it already holds.
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed("store".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns `Interrupted` before every chunk of its bytes, as a read interrupted by a
    /// signal does.
    struct Interrupting {
        data: Vec<u8>,
        interrupt: bool,
    }

    impl Read for Interrupting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.data.len()).min(3);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_read_is_retried_not_a_broken_connection() {
        let mut inbox = Inbox::new();
        let mut io = Interrupting {
            data: b"0123456789".to_vec(),
            interrupt: false,
        };
        inbox.fill(&mut io, 10).unwrap();
        assert_eq!(&inbox.buf[inbox.start..inbox.end], b"0123456789");
    }

    #[test]
    fn a_silent_server_fails_the_handshake_with_a_known_outcome() {
        // A peer that accepts and never answers: the handshake runs out of time.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("tcp://{}", listener.local_addr().unwrap());
        let silent = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
        let opts = ConnectOptions {
            token: Some("t".into()),
            connect_timeout: std::time::Duration::from_millis(200),
            ..ConnectOptions::default()
        };
        let Err(e) = crate::Store::connect(&url, opts) else {
            panic!("connected to a server that never answered");
        };
        let message = e.to_string();
        assert_eq!(e.kind(), docdb_core::ErrorKind::Unavailable, "{message}");
        // Nothing was run, and the message says no more than the flag.
        assert!(!e.outcome_unknown(), "{message}");
        assert!(message.contains("handshake"), "{message}");
        assert!(!message.contains("outcome"), "{message}");
        assert!(
            message.contains("no reply within the connect timeout"),
            "{message}"
        );
        drop(silent.join().unwrap());
    }
}
