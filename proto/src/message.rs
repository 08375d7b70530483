//! Every request and reply, with its opcode or reply tag and its body layout
//! (`docs/protocol.md` lists the same table for implementers of other clients).

use std::ops::Bound;

use docdb_core::{BatchOp, DbInfo, DbStats, Error, IdRange, StoreStats};

use crate::error::{decode_error, encode_error};
use crate::wire::{bad, DecodeError, Reader, Writer};
use crate::MAGIC;

/// The client's first frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Oldest and newest protocol versions the client speaks.
    pub min_version: u16,
    pub max_version: u16,
    /// The shared secret (empty: none). Required on TCP; optional on a Unix socket, where
    /// file permissions guard access, but checked whenever the server has one.
    pub token: Vec<u8>,
}

/// The server's answer to a good [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloOk {
    /// The version both sides now speak.
    pub version: u16,
    /// Largest frame the server accepts; a larger one closes the connection.
    pub max_frame: u32,
    /// The server's DocDB version, for diagnostics.
    pub server: String,
}

/// One operation of a remote atomic batch (the owned twin of `docdb_core::BatchOp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchEntry {
    Create(u64, Vec<u8>),
    Update(u64, Vec<u8>),
    Put(u64, Vec<u8>),
    Delete(u64),
}

impl BatchEntry {
    pub fn as_op(&self) -> BatchOp<'_> {
        match self {
            BatchEntry::Create(id, d) => BatchOp::Create(*id, d),
            BatchEntry::Update(id, d) => BatchOp::Update(*id, d),
            BatchEntry::Put(id, d) => BatchOp::Put(*id, d),
            BatchEntry::Delete(id) => BatchOp::Delete(*id),
        }
    }

    pub fn from_op(op: &BatchOp<'_>) -> Self {
        match *op {
            BatchOp::Create(id, d) => BatchEntry::Create(id, d.to_vec()),
            BatchOp::Update(id, d) => BatchEntry::Update(id, d.to_vec()),
            BatchOp::Put(id, d) => BatchEntry::Put(id, d.to_vec()),
            BatchOp::Delete(id) => BatchEntry::Delete(id),
        }
    }
}

/// The server's own counters (`SERVER_STATS`), beside the store's statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections being served now, and since start.
    pub connections: u64,
    pub connections_total: u64,
    /// Connections refused at `--max-connections`.
    pub connections_refused: u64,
    /// Handshakes refused for a wrong or missing token.
    pub auth_failures: u64,
    /// Requests answered since start.
    pub requests: u64,
    /// fsyncs of the store's files since start: with concurrent durable commits, fewer
    /// than the commits (group commit).
    pub fsyncs: u64,
}

/// One document of a scan page (`data` is empty for an ids-only scan).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanEntry {
    pub id: u64,
    pub data: Vec<u8>,
}

/// A client's request. `db` is a database id from `CreateDb`/`OpenDb`; `txn`, `snap` and
/// `scan` are handles the server gave this connection (they die with it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Hello(Hello),
    Ping,
    ServerStats,
    ListDbs,
    CreateDb {
        name: String,
    },
    OpenDb {
        name: String,
    },
    OpenOrCreateDb {
        name: String,
    },
    DropDb {
        name: String,
    },
    StoreStats,
    StoreCheckpoint,
    StoreSync,
    Create {
        db: u64,
        id: u64,
        data: Vec<u8>,
    },
    Read {
        db: u64,
        id: u64,
    },
    Update {
        db: u64,
        id: u64,
        data: Vec<u8>,
    },
    Put {
        db: u64,
        id: u64,
        data: Vec<u8>,
    },
    Delete {
        db: u64,
        id: u64,
    },
    Contains {
        db: u64,
        id: u64,
    },
    Len {
        db: u64,
    },
    Batch {
        db: u64,
        ops: Vec<BatchEntry>,
    },
    Compact {
        db: u64,
    },
    DbStats {
        db: u64,
    },
    DbCheckpoint {
        db: u64,
    },
    DbSync {
        db: u64,
    },
    /// The first page of `range` in the database as it is now; the server keeps the
    /// snapshot for the next pages only if the range goes on (see `Reply::RangePage`).
    DbRange {
        db: u64,
        range: IdRange,
        max_docs: u32,
        max_bytes: u32,
    },
    Begin {
        db: u64,
    },
    TxnRead {
        txn: u64,
        id: u64,
    },
    TxnContains {
        txn: u64,
        id: u64,
    },
    TxnCreate {
        txn: u64,
        id: u64,
        data: Vec<u8>,
    },
    TxnUpdate {
        txn: u64,
        id: u64,
        data: Vec<u8>,
    },
    TxnPut {
        txn: u64,
        id: u64,
        data: Vec<u8>,
    },
    TxnDelete {
        txn: u64,
        id: u64,
    },
    TxnCommit {
        txn: u64,
    },
    TxnRollback {
        txn: u64,
    },
    TxnPending {
        txn: u64,
    },
    Snapshot {
        db: u64,
    },
    SnapRead {
        snap: u64,
        id: u64,
    },
    SnapContains {
        snap: u64,
        id: u64,
    },
    SnapLen {
        snap: u64,
    },
    SnapClose {
        snap: u64,
    },
    ScanOpen {
        snap: u64,
        ids_only: bool,
    },
    ScanNext {
        scan: u64,
        max_docs: u32,
        max_bytes: u32,
    },
    ScanClose {
        scan: u64,
    },
    /// The next page of `range` as the transaction sees it. Stateless: the next page is
    /// asked for with `range.after(last id)` and the limit less what was received.
    TxnRange {
        txn: u64,
        range: IdRange,
        max_docs: u32,
        max_bytes: u32,
    },
    /// The next page of `range` in the snapshot (stateless, as `TxnRange`).
    SnapRange {
        snap: u64,
        range: IdRange,
        max_docs: u32,
        max_bytes: u32,
    },
    /// Number of documents of `range` as the transaction sees them.
    TxnCount {
        txn: u64,
        range: IdRange,
    },
    /// Number of documents of `range` in the snapshot.
    SnapCount {
        snap: u64,
        range: IdRange,
    },
}

/// A reply's kind byte tells its shape, so replies decode without knowing the request.
#[derive(Debug)]
pub enum Reply {
    Error(Error),
    Unit,
    Bytes(Vec<u8>),
    Bool(bool),
    U64(u64),
    Dbs(Vec<DbInfo>),
    Db(DbInfo),
    /// A new transaction, snapshot or scan handle, with the version it reads at (0 for a
    /// scan).
    Handle {
        handle: u64,
        version: u64,
    },
    /// Up to the requested number of documents; `done` once the scan is exhausted (the
    /// server then has already closed it).
    Page {
        entries: Vec<ScanEntry>,
        done: bool,
    },
    /// The first page of a `DbRange`. Unless `done`, `snap` is a snapshot handle the server
    /// now holds for this connection (the view of the whole range): the client reads the
    /// next pages with `SnapRange` and releases it with `SnapClose`. When `done`, `snap` is 0
    /// and nothing is held.
    RangePage {
        snap: u64,
        entries: Vec<ScanEntry>,
        done: bool,
    },
    StoreStats(StoreStats),
    DbStats(DbStats),
    HelloOk(HelloOk),
    ServerStats(ServerStats),
}

/// Opcodes of the requests, in `docs/protocol.md` order.
pub mod op {
    pub const HELLO: u8 = 0x01;
    pub const PING: u8 = 0x02;
    pub const SERVER_STATS: u8 = 0x03;
    pub const LIST_DBS: u8 = 0x10;
    pub const CREATE_DB: u8 = 0x11;
    pub const OPEN_DB: u8 = 0x12;
    pub const OPEN_OR_CREATE_DB: u8 = 0x13;
    pub const DROP_DB: u8 = 0x14;
    pub const STORE_STATS: u8 = 0x15;
    pub const STORE_CHECKPOINT: u8 = 0x16;
    pub const STORE_SYNC: u8 = 0x17;
    pub const CREATE: u8 = 0x20;
    pub const READ: u8 = 0x21;
    pub const UPDATE: u8 = 0x22;
    pub const PUT: u8 = 0x23;
    pub const DELETE: u8 = 0x24;
    pub const CONTAINS: u8 = 0x25;
    pub const LEN: u8 = 0x26;
    pub const BATCH: u8 = 0x27;
    pub const COMPACT: u8 = 0x28;
    pub const DB_STATS: u8 = 0x29;
    pub const DB_CHECKPOINT: u8 = 0x2A;
    pub const DB_SYNC: u8 = 0x2B;
    pub const DB_RANGE: u8 = 0x2C;
    pub const BEGIN: u8 = 0x30;
    pub const TXN_READ: u8 = 0x31;
    pub const TXN_CONTAINS: u8 = 0x32;
    pub const TXN_CREATE: u8 = 0x33;
    pub const TXN_UPDATE: u8 = 0x34;
    pub const TXN_PUT: u8 = 0x35;
    pub const TXN_DELETE: u8 = 0x36;
    pub const TXN_COMMIT: u8 = 0x37;
    pub const TXN_ROLLBACK: u8 = 0x38;
    pub const TXN_PENDING: u8 = 0x39;
    pub const TXN_RANGE: u8 = 0x3A;
    pub const TXN_COUNT: u8 = 0x3B;
    pub const SNAPSHOT: u8 = 0x40;
    pub const SNAP_READ: u8 = 0x41;
    pub const SNAP_CONTAINS: u8 = 0x42;
    pub const SNAP_LEN: u8 = 0x43;
    pub const SNAP_CLOSE: u8 = 0x44;
    pub const SCAN_OPEN: u8 = 0x45;
    pub const SCAN_NEXT: u8 = 0x46;
    pub const SCAN_CLOSE: u8 = 0x47;
    pub const SNAP_RANGE: u8 = 0x48;
    pub const SNAP_COUNT: u8 = 0x49;
}

/// Tags of the replies.
pub mod tag {
    pub const ERROR: u8 = 0x80;
    pub const UNIT: u8 = 0x81;
    pub const BYTES: u8 = 0x82;
    pub const BOOL: u8 = 0x83;
    pub const U64: u8 = 0x84;
    pub const DBS: u8 = 0x85;
    pub const DB: u8 = 0x86;
    pub const HANDLE: u8 = 0x87;
    pub const PAGE: u8 = 0x88;
    pub const STORE_STATS: u8 = 0x89;
    pub const DB_STATS: u8 = 0x8A;
    pub const HELLO_OK: u8 = 0x8B;
    pub const SERVER_STATS: u8 = 0x8C;
    pub const RANGE_PAGE: u8 = 0x8D;
}

const BATCH_CREATE: u8 = 1;
const BATCH_UPDATE: u8 = 2;
const BATCH_PUT: u8 = 3;
const BATCH_DELETE: u8 = 4;

impl Request {
    /// The opcode and body of this request.
    pub fn encode(&self) -> (u8, Vec<u8>) {
        let mut w = Writer::default();
        let code = match self {
            Request::Hello(h) => {
                w.buf.extend_from_slice(&MAGIC);
                w.u16(h.min_version).u16(h.max_version).bytes(&h.token);
                op::HELLO
            }
            Request::Ping => op::PING,
            Request::ServerStats => op::SERVER_STATS,
            Request::ListDbs => op::LIST_DBS,
            Request::CreateDb { name } => name_op(&mut w, op::CREATE_DB, name),
            Request::OpenDb { name } => name_op(&mut w, op::OPEN_DB, name),
            Request::OpenOrCreateDb { name } => name_op(&mut w, op::OPEN_OR_CREATE_DB, name),
            Request::DropDb { name } => name_op(&mut w, op::DROP_DB, name),
            Request::StoreStats => op::STORE_STATS,
            Request::StoreCheckpoint => op::STORE_CHECKPOINT,
            Request::StoreSync => op::STORE_SYNC,
            Request::Create { db, id, data } => id_data(&mut w, op::CREATE, *db, *id, data),
            Request::Read { db, id } => two(&mut w, op::READ, *db, *id),
            Request::Update { db, id, data } => id_data(&mut w, op::UPDATE, *db, *id, data),
            Request::Put { db, id, data } => id_data(&mut w, op::PUT, *db, *id, data),
            Request::Delete { db, id } => two(&mut w, op::DELETE, *db, *id),
            Request::Contains { db, id } => two(&mut w, op::CONTAINS, *db, *id),
            Request::Len { db } => one(&mut w, op::LEN, *db),
            Request::Batch { db, ops } => {
                w.u64(*db).u32(ops.len() as u32);
                for e in ops {
                    match e {
                        BatchEntry::Create(id, d) => w.u8(BATCH_CREATE).u64(*id).bytes(d),
                        BatchEntry::Update(id, d) => w.u8(BATCH_UPDATE).u64(*id).bytes(d),
                        BatchEntry::Put(id, d) => w.u8(BATCH_PUT).u64(*id).bytes(d),
                        BatchEntry::Delete(id) => w.u8(BATCH_DELETE).u64(*id),
                    };
                }
                op::BATCH
            }
            Request::Compact { db } => one(&mut w, op::COMPACT, *db),
            Request::DbStats { db } => one(&mut w, op::DB_STATS, *db),
            Request::DbCheckpoint { db } => one(&mut w, op::DB_CHECKPOINT, *db),
            Request::DbSync { db } => one(&mut w, op::DB_SYNC, *db),
            Request::DbRange {
                db,
                range,
                max_docs,
                max_bytes,
            } => {
                write_range(w.u64(*db), range)
                    .u32(*max_docs)
                    .u32(*max_bytes);
                op::DB_RANGE
            }
            Request::Begin { db } => one(&mut w, op::BEGIN, *db),
            Request::TxnRead { txn, id } => two(&mut w, op::TXN_READ, *txn, *id),
            Request::TxnContains { txn, id } => two(&mut w, op::TXN_CONTAINS, *txn, *id),
            Request::TxnCreate { txn, id, data } => {
                id_data(&mut w, op::TXN_CREATE, *txn, *id, data)
            }
            Request::TxnUpdate { txn, id, data } => {
                id_data(&mut w, op::TXN_UPDATE, *txn, *id, data)
            }
            Request::TxnPut { txn, id, data } => id_data(&mut w, op::TXN_PUT, *txn, *id, data),
            Request::TxnDelete { txn, id } => two(&mut w, op::TXN_DELETE, *txn, *id),
            Request::TxnCommit { txn } => one(&mut w, op::TXN_COMMIT, *txn),
            Request::TxnRollback { txn } => one(&mut w, op::TXN_ROLLBACK, *txn),
            Request::TxnPending { txn } => one(&mut w, op::TXN_PENDING, *txn),
            Request::Snapshot { db } => one(&mut w, op::SNAPSHOT, *db),
            Request::SnapRead { snap, id } => two(&mut w, op::SNAP_READ, *snap, *id),
            Request::SnapContains { snap, id } => two(&mut w, op::SNAP_CONTAINS, *snap, *id),
            Request::SnapLen { snap } => one(&mut w, op::SNAP_LEN, *snap),
            Request::SnapClose { snap } => one(&mut w, op::SNAP_CLOSE, *snap),
            Request::ScanOpen { snap, ids_only } => {
                w.u64(*snap).u8(u8::from(*ids_only));
                op::SCAN_OPEN
            }
            Request::ScanNext {
                scan,
                max_docs,
                max_bytes,
            } => {
                w.u64(*scan).u32(*max_docs).u32(*max_bytes);
                op::SCAN_NEXT
            }
            Request::ScanClose { scan } => one(&mut w, op::SCAN_CLOSE, *scan),
            Request::TxnRange {
                txn,
                range,
                max_docs,
                max_bytes,
            } => {
                write_range(w.u64(*txn), range)
                    .u32(*max_docs)
                    .u32(*max_bytes);
                op::TXN_RANGE
            }
            Request::SnapRange {
                snap,
                range,
                max_docs,
                max_bytes,
            } => {
                write_range(w.u64(*snap), range)
                    .u32(*max_docs)
                    .u32(*max_bytes);
                op::SNAP_RANGE
            }
            Request::TxnCount { txn, range } => {
                write_range(w.u64(*txn), range);
                op::TXN_COUNT
            }
            Request::SnapCount { snap, range } => {
                write_range(w.u64(*snap), range);
                op::SNAP_COUNT
            }
        };
        (code, w.buf)
    }

    /// Parses a request frame's opcode and body. An unknown opcode or a malformed body is
    /// an error the server answers with `INVALID_ARGUMENT`; the connection stays usable.
    pub fn decode(code: u8, body: &[u8]) -> Result<Request, DecodeError> {
        let mut r = Reader::new(body);
        let r = &mut r;
        let req = match code {
            op::HELLO => {
                if r.u64()?.to_le_bytes() != MAGIC {
                    return bad("bad magic: not a DocDB client");
                }
                Request::Hello(Hello {
                    min_version: r.u16()?,
                    max_version: r.u16()?,
                    token: r.bytes()?.to_vec(),
                })
            }
            op::PING => Request::Ping,
            op::SERVER_STATS => Request::ServerStats,
            op::LIST_DBS => Request::ListDbs,
            op::CREATE_DB => Request::CreateDb { name: r.str()? },
            op::OPEN_DB => Request::OpenDb { name: r.str()? },
            op::OPEN_OR_CREATE_DB => Request::OpenOrCreateDb { name: r.str()? },
            op::DROP_DB => Request::DropDb { name: r.str()? },
            op::STORE_STATS => Request::StoreStats,
            op::STORE_CHECKPOINT => Request::StoreCheckpoint,
            op::STORE_SYNC => Request::StoreSync,
            op::CREATE => Request::Create {
                db: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::READ => Request::Read {
                db: r.u64()?,
                id: r.u64()?,
            },
            op::UPDATE => Request::Update {
                db: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::PUT => Request::Put {
                db: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::DELETE => Request::Delete {
                db: r.u64()?,
                id: r.u64()?,
            },
            op::CONTAINS => Request::Contains {
                db: r.u64()?,
                id: r.u64()?,
            },
            op::LEN => Request::Len { db: r.u64()? },
            op::BATCH => {
                let db = r.u64()?;
                let n = r.count(9)?;
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    let kind = r.u8()?;
                    let id = r.u64()?;
                    ops.push(match kind {
                        BATCH_CREATE => BatchEntry::Create(id, r.bytes()?.to_vec()),
                        BATCH_UPDATE => BatchEntry::Update(id, r.bytes()?.to_vec()),
                        BATCH_PUT => BatchEntry::Put(id, r.bytes()?.to_vec()),
                        BATCH_DELETE => BatchEntry::Delete(id),
                        k => return bad(format!("batch operation kind {k}")),
                    });
                }
                Request::Batch { db, ops }
            }
            op::COMPACT => Request::Compact { db: r.u64()? },
            op::DB_STATS => Request::DbStats { db: r.u64()? },
            op::DB_CHECKPOINT => Request::DbCheckpoint { db: r.u64()? },
            op::DB_SYNC => Request::DbSync { db: r.u64()? },
            op::DB_RANGE => Request::DbRange {
                db: r.u64()?,
                range: read_range(r)?,
                max_docs: r.u32()?,
                max_bytes: r.u32()?,
            },
            op::BEGIN => Request::Begin { db: r.u64()? },
            op::TXN_READ => Request::TxnRead {
                txn: r.u64()?,
                id: r.u64()?,
            },
            op::TXN_CONTAINS => Request::TxnContains {
                txn: r.u64()?,
                id: r.u64()?,
            },
            op::TXN_CREATE => Request::TxnCreate {
                txn: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::TXN_UPDATE => Request::TxnUpdate {
                txn: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::TXN_PUT => Request::TxnPut {
                txn: r.u64()?,
                id: r.u64()?,
                data: r.bytes()?.to_vec(),
            },
            op::TXN_DELETE => Request::TxnDelete {
                txn: r.u64()?,
                id: r.u64()?,
            },
            op::TXN_COMMIT => Request::TxnCommit { txn: r.u64()? },
            op::TXN_ROLLBACK => Request::TxnRollback { txn: r.u64()? },
            op::TXN_PENDING => Request::TxnPending { txn: r.u64()? },
            op::SNAPSHOT => Request::Snapshot { db: r.u64()? },
            op::SNAP_READ => Request::SnapRead {
                snap: r.u64()?,
                id: r.u64()?,
            },
            op::SNAP_CONTAINS => Request::SnapContains {
                snap: r.u64()?,
                id: r.u64()?,
            },
            op::SNAP_LEN => Request::SnapLen { snap: r.u64()? },
            op::SNAP_CLOSE => Request::SnapClose { snap: r.u64()? },
            op::SCAN_OPEN => Request::ScanOpen {
                snap: r.u64()?,
                ids_only: r.bool()?,
            },
            op::SCAN_NEXT => Request::ScanNext {
                scan: r.u64()?,
                max_docs: r.u32()?,
                max_bytes: r.u32()?,
            },
            op::SCAN_CLOSE => Request::ScanClose { scan: r.u64()? },
            op::TXN_RANGE => Request::TxnRange {
                txn: r.u64()?,
                range: read_range(r)?,
                max_docs: r.u32()?,
                max_bytes: r.u32()?,
            },
            op::SNAP_RANGE => Request::SnapRange {
                snap: r.u64()?,
                range: read_range(r)?,
                max_docs: r.u32()?,
                max_bytes: r.u32()?,
            },
            op::TXN_COUNT => Request::TxnCount {
                txn: r.u64()?,
                range: read_range(r)?,
            },
            op::SNAP_COUNT => Request::SnapCount {
                snap: r.u64()?,
                range: read_range(r)?,
            },
            other => return bad(format!("unknown opcode 0x{other:02x}")),
        };
        let rest = std::mem::replace(r, Reader::new(&[]));
        rest.finish()?;
        Ok(req)
    }

    /// Whether sending this request twice has the effect of sending it once, so a client
    /// may resend it on a new connection when the first one broke.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self,
            Request::Ping
                | Request::ServerStats
                | Request::ListDbs
                | Request::OpenDb { .. }
                | Request::StoreStats
                | Request::Read { .. }
                | Request::Contains { .. }
                | Request::Len { .. }
                | Request::DbStats { .. }
                | Request::StoreSync
                | Request::DbSync { .. }
        )
    }
}

/// Kinds of a range bound on the wire.
const BOUND_UNBOUNDED: u8 = 0;
const BOUND_INCLUDED: u8 = 1;
const BOUND_EXCLUDED: u8 = 2;

/// A range: start and end (kind `u8`, id `u64`, the id 0 when unbounded), reverse `bool`,
/// has_limit `bool`, limit `u64` (0 without a limit). One encoding per range, so a decoded
/// range encodes back to the same bytes.
fn write_range<'w>(w: &'w mut Writer, range: &IdRange) -> &'w mut Writer {
    for bound in [range.start, range.end] {
        match bound {
            Bound::Unbounded => w.u8(BOUND_UNBOUNDED).u64(0),
            Bound::Included(id) => w.u8(BOUND_INCLUDED).u64(id),
            Bound::Excluded(id) => w.u8(BOUND_EXCLUDED).u64(id),
        };
    }
    w.u8(u8::from(range.reverse))
        .u8(u8::from(range.limit.is_some()))
        .u64(range.limit.unwrap_or(0))
}

fn read_range(r: &mut Reader<'_>) -> Result<IdRange, DecodeError> {
    let mut bound = |which: &str| -> Result<Bound<u64>, DecodeError> {
        let (kind, id) = (r.u8()?, r.u64()?);
        match kind {
            BOUND_UNBOUNDED if id == 0 => Ok(Bound::Unbounded),
            BOUND_UNBOUNDED => bad(format!("unbounded {which} with id {id} (must be 0)")),
            BOUND_INCLUDED => Ok(Bound::Included(id)),
            BOUND_EXCLUDED => Ok(Bound::Excluded(id)),
            k => bad(format!("range {which} bound kind {k}")),
        }
    };
    let start = bound("start")?;
    let end = bound("end")?;
    let reverse = r.bool()?;
    let limit = match (r.bool()?, r.u64()?) {
        (true, n) => Some(n),
        (false, 0) => None,
        (false, n) => return bad(format!("limit {n} without has_limit (must be 0)")),
    };
    Ok(IdRange {
        start,
        end,
        reverse,
        limit,
    })
}

fn name_op(w: &mut Writer, code: u8, name: &str) -> u8 {
    w.str(name);
    code
}
fn one(w: &mut Writer, code: u8, a: u64) -> u8 {
    w.u64(a);
    code
}
fn two(w: &mut Writer, code: u8, a: u64, b: u64) -> u8 {
    w.u64(a).u64(b);
    code
}
fn id_data(w: &mut Writer, code: u8, a: u64, id: u64, data: &[u8]) -> u8 {
    w.u64(a).u64(id).bytes(data);
    code
}

impl Reply {
    /// The tag and body of this reply.
    pub fn encode(&self) -> (u8, Vec<u8>) {
        let mut w = Writer::default();
        let code = match self {
            Reply::Error(e) => {
                encode_error(e, &mut w);
                tag::ERROR
            }
            Reply::Unit => tag::UNIT,
            Reply::Bytes(b) => {
                w.buf.extend_from_slice(b);
                tag::BYTES
            }
            Reply::Bool(b) => {
                w.u8(u8::from(*b));
                tag::BOOL
            }
            Reply::U64(v) => {
                w.u64(*v);
                tag::U64
            }
            Reply::Dbs(dbs) => {
                w.u32(dbs.len() as u32);
                for d in dbs {
                    w.u64(d.id).str(&d.name);
                }
                tag::DBS
            }
            Reply::Db(d) => {
                w.u64(d.id).str(&d.name);
                tag::DB
            }
            Reply::Handle { handle, version } => {
                w.u64(*handle).u64(*version);
                tag::HANDLE
            }
            Reply::Page { entries, done } => {
                write_page(&mut w, entries, *done);
                tag::PAGE
            }
            Reply::RangePage {
                snap,
                entries,
                done,
            } => {
                write_page(w.u64(*snap), entries, *done);
                tag::RANGE_PAGE
            }
            Reply::StoreStats(s) => {
                encode_store_stats(s, &mut w);
                tag::STORE_STATS
            }
            Reply::DbStats(s) => {
                encode_db_stats(s, &mut w);
                tag::DB_STATS
            }
            Reply::HelloOk(h) => {
                w.u16(h.version).u32(h.max_frame).str(&h.server);
                tag::HELLO_OK
            }
            Reply::ServerStats(s) => {
                let ServerStats {
                    connections,
                    connections_total,
                    connections_refused,
                    auth_failures,
                    requests,
                    fsyncs,
                } = s;
                for v in [
                    connections,
                    connections_total,
                    connections_refused,
                    auth_failures,
                    requests,
                    fsyncs,
                ] {
                    w.u64(*v);
                }
                tag::SERVER_STATS
            }
        };
        (code, w.buf)
    }

    /// Parses a reply frame's tag and body.
    pub fn decode(code: u8, body: &[u8]) -> Result<Reply, DecodeError> {
        if code == tag::BYTES {
            return Ok(Reply::Bytes(body.to_vec()));
        }
        let mut r = Reader::new(body);
        let reply = match code {
            tag::ERROR => Reply::Error(decode_error(&mut r)?),
            tag::UNIT => Reply::Unit,
            tag::BOOL => Reply::Bool(r.bool()?),
            tag::U64 => Reply::U64(r.u64()?),
            tag::DBS => {
                let n = r.count(12)?;
                let mut dbs = Vec::with_capacity(n);
                for _ in 0..n {
                    dbs.push(DbInfo {
                        id: r.u64()?,
                        name: r.str()?,
                    });
                }
                Reply::Dbs(dbs)
            }
            tag::DB => Reply::Db(DbInfo {
                id: r.u64()?,
                name: r.str()?,
            }),
            tag::HANDLE => Reply::Handle {
                handle: r.u64()?,
                version: r.u64()?,
            },
            tag::PAGE => {
                let (entries, done) = read_page(&mut r)?;
                Reply::Page { entries, done }
            }
            tag::RANGE_PAGE => {
                let snap = r.u64()?;
                let (entries, done) = read_page(&mut r)?;
                Reply::RangePage {
                    snap,
                    entries,
                    done,
                }
            }
            tag::STORE_STATS => Reply::StoreStats(decode_store_stats(&mut r)?),
            tag::DB_STATS => Reply::DbStats(decode_db_stats(&mut r)?),
            tag::HELLO_OK => Reply::HelloOk(HelloOk {
                version: r.u16()?,
                max_frame: r.u32()?,
                server: r.str()?,
            }),
            tag::SERVER_STATS => Reply::ServerStats(ServerStats {
                connections: r.u64()?,
                connections_total: r.u64()?,
                connections_refused: r.u64()?,
                auth_failures: r.u64()?,
                requests: r.u64()?,
                fsyncs: r.u64()?,
            }),
            other => return bad(format!("unknown reply tag 0x{other:02x}")),
        };
        r.finish()?;
        Ok(reply)
    }
}

/// A page body: done `bool`, count `u32`, count × (id `u64`, data `bytes`).
fn write_page(w: &mut Writer, entries: &[ScanEntry], done: bool) {
    w.u8(u8::from(done)).u32(entries.len() as u32);
    for e in entries {
        w.u64(e.id).bytes(&e.data);
    }
}

fn read_page(r: &mut Reader<'_>) -> Result<(Vec<ScanEntry>, bool), DecodeError> {
    let done = r.bool()?;
    let n = r.count(12)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        entries.push(ScanEntry {
            id: r.u64()?,
            data: r.bytes()?.to_vec(),
        });
    }
    Ok((entries, done))
}

/// Every field of `DbStats`, in declaration order. The destructuring makes a field added
/// to the engine a compile error here rather than a statistic that silently stays local.
fn encode_db_stats(s: &DbStats, w: &mut Writer) {
    let DbStats {
        id,
        name,
        documents,
        live_bytes,
        dead_bytes,
        log_bytes,
        segments,
        committed_txns,
        compactions,
        checkpoints,
        last_version,
        active_readers,
        memory_used,
        memory_limit,
        poisoned,
        recovered_truncated_bytes,
        recovered_replayed_bytes,
    } = s;
    w.u64(*id).str(name);
    for v in [
        documents,
        live_bytes,
        dead_bytes,
        log_bytes,
        segments,
        committed_txns,
        compactions,
        checkpoints,
        last_version,
        active_readers,
        memory_used,
        memory_limit,
    ] {
        w.u64(*v);
    }
    w.u8(u8::from(*poisoned))
        .u64(*recovered_truncated_bytes)
        .u64(*recovered_replayed_bytes);
}

fn decode_db_stats(r: &mut Reader<'_>) -> Result<DbStats, DecodeError> {
    Ok(DbStats {
        id: r.u64()?,
        name: r.str()?,
        documents: r.u64()?,
        live_bytes: r.u64()?,
        dead_bytes: r.u64()?,
        log_bytes: r.u64()?,
        segments: r.u64()?,
        committed_txns: r.u64()?,
        compactions: r.u64()?,
        checkpoints: r.u64()?,
        last_version: r.u64()?,
        active_readers: r.u64()?,
        memory_used: r.u64()?,
        memory_limit: r.u64()?,
        poisoned: r.bool()?,
        recovered_truncated_bytes: r.u64()?,
        recovered_replayed_bytes: r.u64()?,
    })
}

fn encode_store_stats(s: &StoreStats, w: &mut Writer) {
    let StoreStats {
        databases_total,
        databases_active,
        databases_open,
        documents,
        committed_txns,
        log_bytes,
        live_bytes,
        dead_bytes,
        compactions,
        memory_used,
        memory_limit,
        cache_bytes,
        cache_hits,
        cache_misses,
        databases,
    } = s;
    for v in [
        databases_total,
        databases_active,
        databases_open,
        documents,
        committed_txns,
        log_bytes,
        live_bytes,
        dead_bytes,
        compactions,
        memory_used,
        memory_limit,
        cache_bytes,
        cache_hits,
        cache_misses,
    ] {
        w.u64(*v);
    }
    w.u32(databases.len() as u32);
    for d in databases {
        encode_db_stats(d, w);
    }
}

fn decode_store_stats(r: &mut Reader<'_>) -> Result<StoreStats, DecodeError> {
    let mut s = StoreStats {
        databases_total: r.u64()?,
        databases_active: r.u64()?,
        databases_open: r.u64()?,
        documents: r.u64()?,
        committed_txns: r.u64()?,
        log_bytes: r.u64()?,
        live_bytes: r.u64()?,
        dead_bytes: r.u64()?,
        compactions: r.u64()?,
        memory_used: r.u64()?,
        memory_limit: r.u64()?,
        cache_bytes: r.u64()?,
        cache_hits: r.u64()?,
        cache_misses: r.u64()?,
        databases: Vec::new(),
    };
    let n = r.count(8 + 4 + 12 * 8 + 1 + 16)?;
    for _ in 0..n {
        s.databases.push(decode_db_stats(r)?);
    }
    Ok(s)
}
