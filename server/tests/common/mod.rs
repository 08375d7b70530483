//! Starting, stopping and killing a server process for the tests, and a raw protocol
//! connection for the tests that misbehave on purpose.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use docdb_client::{ConnectOptions, Store};
use docdb_proto::{decode_frame, encode_frame, Hello, Reply, Request};

/// The server executable. The one place to change when the server is run as
/// `docdb serve` (then: the `docdb` binary with a leading "serve" argument).
pub fn server_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_docdb-server"))
}

/// A server process on a fresh (or given) data directory.
pub struct Server {
    pub child: Option<Child>,
    pub data: PathBuf,
    pub sock: PathBuf,
    pub extra: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a new temporary directory with `extra` arguments.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Server {
            child: None,
            data: dir.path().join("data"),
            sock: dir.path().join("docdb.sock"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _dir: Some(dir),
        };
        s.spawn();
        s
    }

    pub fn dir(&self) -> &Path {
        self.data.parent().unwrap()
    }

    /// Starts the process and waits until its Unix socket answers a ping.
    pub fn spawn(&mut self) {
        let child = self.command().spawn().expect("start the server");
        self.child = Some(child);
        let t = Instant::now();
        loop {
            if let Ok(store) = Store::connect(&self.url(), self.opts()) {
                if store.ping().is_ok() {
                    return;
                }
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("server exited at start: {st}");
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn command(&self) -> Command {
        let mut c = server_command();
        c.arg("--data")
            .arg(&self.data)
            .arg("--unix")
            .arg(&self.sock);
        c.args(&self.extra);
        let level = std::env::var("DOCDB_SERVER_LOG").unwrap_or_else(|_| "error".into());
        c.args(["--log-level", &level]);
        c.stdin(Stdio::null());
        c
    }

    /// Options with the token of `--token-file`, if the server has one.
    pub fn opts(&self) -> ConnectOptions {
        let token = self
            .extra
            .iter()
            .position(|a| a == "--token-file")
            .map(|i| std::fs::read_to_string(&self.extra[i + 1]).unwrap());
        ConnectOptions {
            token: token.map(|t| t.trim().to_string()),
            connect_timeout: Duration::from_secs(5),
            ..ConnectOptions::default()
        }
    }

    pub fn url(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    pub fn connect(&self) -> Store {
        Store::connect(&self.url(), self.opts()).unwrap()
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM, and wait for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().unwrap();
        // SAFETY: signalling our own child process, which we have not reaped yet.
        assert_eq!(unsafe { libc::kill(c.id() as i32, libc::SIGTERM) }, 0);
        wait_within(&mut c, Duration::from_secs(60))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for a child, failing the test rather than hanging.
pub fn wait_within(c: &mut Child, limit: Duration) -> ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st;
        }
        assert!(t.elapsed() < limit, "process did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A protocol connection driven by hand.
pub struct Raw {
    pub s: UnixStream,
    next: u64,
    buf: Vec<u8>,
}

impl Raw {
    /// Connects without a handshake.
    pub fn connect(server: &Server) -> Raw {
        let s = UnixStream::connect(&server.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Raw {
            s,
            next: 0,
            buf: Vec::new(),
        }
    }

    /// Connects and completes the handshake.
    pub fn ready(server: &Server) -> Raw {
        let mut r = Raw::connect(server);
        let token = server.opts().token.unwrap_or_default().into_bytes();
        let reply = r.call(&Request::Hello(Hello {
            min_version: 1,
            max_version: 1,
            token,
        }));
        assert!(matches!(reply, Reply::HelloOk(_)), "{reply:?}");
        r
    }

    pub fn send(&mut self, req: &Request) -> u64 {
        self.next += 1;
        let (kind, body) = req.encode();
        let mut f = Vec::new();
        encode_frame(self.next, kind, &body, &mut f);
        self.s.write_all(&f).unwrap();
        self.next
    }

    /// The next reply, or `None` once the server closed the connection.
    pub fn recv(&mut self) -> Option<(u64, Reply)> {
        loop {
            if let Some((f, used)) = decode_frame(&self.buf, u32::MAX).unwrap() {
                self.buf.drain(..used);
                return Some((f.id, Reply::decode(f.kind, &f.body).unwrap()));
            }
            let mut chunk = [0u8; 65536];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    pub fn call(&mut self, req: &Request) -> Reply {
        let id = self.send(req);
        let (rid, reply) = self.recv().expect("a reply");
        assert!(rid == id || rid == 0, "reply id {rid} for request {id}");
        reply
    }

    /// Whether the server closed this connection (reads until EOF, skipping replies).
    pub fn closed_by_server(&mut self) -> bool {
        while self.recv().is_some() {}
        true
    }
}

/// The error of a reply that must be one.
pub fn error_of(reply: Reply) -> docdb_core::Error {
    match reply {
        Reply::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}
