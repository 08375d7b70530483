//! One connection: the handshake, then requests read, run and answered one at a time, in
//! order. Reading the next request only after the reply is written is the backpressure: a
//! client that never reads its replies stalls only itself, and the server holds at most one
//! request (plus what its read buffer took ahead, at most 8 KiB) and one reply per
//! connection.

use std::sync::Arc;
use std::time::Duration;

use docdb_core::Error;
use docdb_proto::frame::check_len;
use docdb_proto::{encode_frame, FrameError, Hello, HelloOk, Reply, Request, LEN_PREFIX};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use tokio::time::timeout;

use crate::auth::token_matches;
use crate::session::{Session, SessionLimits};
use crate::Shared;

/// Why a connection ends.
enum Close {
    /// The peer closed or the socket failed.
    Gone(std::io::Error),
    /// A timeout: handshake, a slow frame, an unread reply or idleness.
    Timeout(&'static str),
    /// The peer broke the protocol; it was told why.
    Protocol(String),
    /// Shutdown.
    Shutdown,
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Close::Gone(e) => write!(f, "socket: {e}"),
            Close::Timeout(what) => write!(f, "timeout: {what}"),
            Close::Protocol(what) => write!(f, "protocol violation: {what}"),
            Close::Shutdown => f.write_str("shutdown"),
        }
    }
}

type Framed = (u64, u8, Vec<u8>);

/// Bytes of a connection's read buffer: a request up to this size costs one read.
const READ_BUFFER: usize = 8 << 10;

/// Serves one accepted, authenticated-or-not stream until it closes.
pub(crate) async fn serve<S>(stream: S, peer: String, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Reads through a buffer: a small request arrives with one system call instead of one
    // per field (length, then the rest); larger reads bypass the buffer.
    let mut stream = BufReader::with_capacity(READ_BUFFER, stream);
    let shutdown = shared.shutdown.subscribe();
    let session = match handshake(&mut stream, &shared).await {
        Ok(()) => Session::new(
            shared.store.clone(),
            SessionLimits {
                max_txn_bytes: shared.args.max_txn_bytes,
                max_page_bytes: shared.args.max_frame.saturating_sub(1024).max(1),
            },
        ),
        Err(why) => {
            tracing::warn!(%peer, %why, "handshake failed");
            return;
        }
    };
    tracing::debug!(%peer, "client connected");
    let (why, session) = requests(&mut stream, &shared, session, shutdown).await;
    // Closing between requests: a request the client sent meanwhile was not read, so it
    // was not applied; tell the client so (id 0) rather than leave it guessing.
    let notice = match why {
        Close::Shutdown => Some("the server is shutting down"),
        Close::Timeout("idle") => Some("the server closed an idle connection"),
        _ => None,
    };
    if let Some(message) = notice {
        let err = Error::Unavailable {
            message: message.into(),
            outcome_unknown: false,
        };
        let _ = write_reply(&mut stream, &shared, 0, &Reply::Error(err)).await;
    }
    if let Some(s) = &session {
        if s.open_transactions() > 0 {
            tracing::info!(%peer, open = s.open_transactions(), "rolling back the transactions of a closed connection");
        }
    }
    // Dropping the session rolls back its transactions and releases its snapshots; that
    // only frees memory, but do it off the runtime threads like every engine call.
    let _ = tokio::task::spawn_blocking(move || drop(session)).await;
    match why {
        Close::Gone(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            tracing::debug!(%peer, "client disconnected")
        }
        Close::Shutdown => tracing::debug!(%peer, "closed for shutdown"),
        why => tracing::info!(%peer, %why, "connection closed"),
    }
}

async fn handshake<S>(stream: &mut S, shared: &Shared) -> Result<(), Close>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limit = shared.args.handshake_timeout;
    let frame = timeout(
        limit,
        read_frame(stream, docdb_proto::MAX_HELLO_FRAME, limit, limit),
    )
    .await
    .map_err(|_| Close::Timeout("handshake"))?;
    let (id, kind, body) = match frame {
        Ok(f) => f,
        Err(e) => return Err(refuse_frame(stream, shared, e).await),
    };
    let hello = match Request::decode(kind, &body) {
        Ok(Request::Hello(h)) => h,
        Ok(_) => return Err(reject(stream, shared, id, "the first frame must be HELLO").await),
        Err(e) => return Err(reject(stream, shared, id, &e.to_string()).await),
    };
    let Hello {
        min_version,
        max_version,
        token,
    } = hello;
    if !(min_version..=max_version).contains(&docdb_proto::VERSION) {
        let msg = format!(
            "protocol versions {min_version}..={max_version} not supported; this server speaks {}",
            docdb_proto::VERSION
        );
        return Err(reject(stream, shared, id, &msg).await);
    }
    if let Some(expected) = &shared.token {
        if !token_matches(&token, expected) {
            crate::Counters::bump(&shared.counters.auth_failures);
            // Slow down guessing; the connection keeps its slot meanwhile, so the
            // connection limit also bounds the guessing rate.
            tokio::time::sleep(shared.args.auth_delay).await;
            return Err(reject(
                stream,
                shared,
                id,
                "authentication failed: wrong or missing token",
            )
            .await);
        }
    }
    let ok = Reply::HelloOk(HelloOk {
        version: docdb_proto::VERSION,
        max_frame: shared.args.max_frame,
        server: docdb_core::VERSION.to_string(),
    });
    write_reply(stream, shared, id, &ok).await
}

async fn requests<S>(
    stream: &mut S,
    shared: &Shared,
    mut session: Session,
    mut shutdown: watch::Receiver<bool>,
) -> (Close, Option<Session>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let args = &shared.args;
    loop {
        if *shutdown.borrow() {
            return (Close::Shutdown, Some(session));
        }
        let frame = tokio::select! {
            _ = shutdown.changed() => return (Close::Shutdown, Some(session)),
            f = read_frame(stream, args.max_frame, args.idle_timeout, args.read_timeout) => f,
        };
        let (id, kind, body) = match frame {
            Err(e) => return (refuse_frame(stream, shared, e).await, Some(session)),
            Ok(f) => f,
        };
        let reply = match Request::decode(kind, &body) {
            // A well-framed but malformed request: say so and go on (the framing is intact).
            Err(e) => Reply::Error(Error::InvalidArgument(e.to_string())),
            // The server's own counters; no engine call.
            Ok(Request::ServerStats) => Reply::ServerStats(shared.server_stats()),
            Ok(req) => match session.answer_inline(&req) {
                Some(reply) => reply,
                None => {
                    drop(body);
                    let job = tokio::task::spawn_blocking(move || {
                        let reply = session.handle(req);
                        (session, reply)
                    });
                    match job.await {
                        Ok((s, reply)) => {
                            session = s;
                            reply
                        }
                        Err(e) => {
                            // A panic in the engine: the session (and its transactions) is gone
                            // with it; the client sees the connection break.
                            tracing::error!(error = %e, "request panicked; closing its connection");
                            return (Close::Protocol("internal error".into()), None);
                        }
                    }
                }
            },
        };
        crate::Counters::bump(&shared.counters.requests);
        if let Err(why) = write_reply(stream, shared, id, &reply).await {
            return (why, Some(session));
        }
    }
}

/// Reads one frame: waits up to `first_wait` for its first byte (idleness), then gives the
/// rest `read_timeout` (slow senders). The body is read as it arrives, never allocated from the declared
/// length, so a client that announces a large frame and stalls costs nothing.
async fn read_frame<S>(
    stream: &mut S,
    max: u32,
    first_wait: Duration,
    read_timeout: Duration,
) -> Result<Framed, FrameRead>
where
    S: AsyncRead + Unpin,
{
    let mut prefix = [0u8; LEN_PREFIX];
    timeout(first_wait, stream.read_exact(&mut prefix[..1]))
        .await
        .map_err(|_| FrameRead::Idle)??;
    timeout(read_timeout, async {
        stream.read_exact(&mut prefix[1..]).await?;
        let len = check_len(prefix, max)?;
        let mut rest = Vec::new();
        (&mut *stream)
            .take(u64::from(len))
            .read_to_end(&mut rest)
            .await?;
        if rest.len() < len as usize {
            return Err(FrameRead::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let id = u64::from_le_bytes(rest[..8].try_into().unwrap());
        let kind = rest[8];
        rest.drain(..9);
        Ok((id, kind, rest))
    })
    .await
    .map_err(|_| FrameRead::Slow)?
}

#[derive(Debug)]
enum FrameRead {
    Io(std::io::Error),
    Bad(FrameError),
    Idle,
    Slow,
}

impl From<std::io::Error> for FrameRead {
    fn from(e: std::io::Error) -> Self {
        FrameRead::Io(e)
    }
}

impl From<FrameError> for FrameRead {
    fn from(e: FrameError) -> Self {
        FrameRead::Bad(e)
    }
}

/// Ends a connection whose frame could not be read, telling the client why when the
/// framing (not the socket) failed. Request id 0: the frame's own id was never read.
async fn refuse_frame<S>(stream: &mut S, shared: &Shared, e: FrameRead) -> Close
where
    S: AsyncWrite + Unpin,
{
    match e {
        FrameRead::Io(e) => Close::Gone(e),
        FrameRead::Idle => Close::Timeout("idle"),
        FrameRead::Slow => Close::Timeout("slow frame"),
        FrameRead::Bad(e) => {
            let err = match e {
                FrameError::TooLarge { len, max } => Error::PayloadTooLarge {
                    size: u64::from(len),
                    max: u64::from(max),
                },
                FrameError::TooShort(_) => Error::InvalidArgument(e.to_string()),
            };
            let _ = write_reply(stream, shared, 0, &Reply::Error(err)).await;
            Close::Protocol(e.to_string())
        }
    }
}

async fn reject<S>(stream: &mut S, shared: &Shared, id: u64, msg: &str) -> Close
where
    S: AsyncWrite + Unpin,
{
    let err = Error::InvalidArgument(msg.to_string());
    let _ = write_reply(stream, shared, id, &Reply::Error(err)).await;
    Close::Protocol(msg.to_string())
}

async fn write_reply<S>(
    stream: &mut S,
    shared: &Shared,
    id: u64,
    reply: &Reply,
) -> Result<(), Close>
where
    S: AsyncWrite + Unpin,
{
    let (kind, body) = reply.encode();
    let mut out = Vec::with_capacity(body.len() + docdb_proto::HEADER_LEN);
    encode_frame(id, kind, &body, &mut out);
    drop(body);
    timeout(shared.args.write_timeout, async {
        stream.write_all(&out).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| Close::Timeout("client does not read its replies"))?
    .map_err(Close::Gone)
}
