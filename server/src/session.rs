//! What one connection may hold on the server: opened databases, transactions, snapshots
//! and scans, named by handles that die with the connection. Dropping a `Session` rolls
//! back its transactions and releases its snapshots. Its methods block (they run engine
//! calls) and are called from the runtime's blocking pool, except `answer_inline`.

use std::collections::HashMap;
use std::iter::Peekable;

use docdb_core::{Error, IdRange, Result};
use docdb_proto::{Reply, Request, ScanEntry};

use crate::metered_fs::MeteredFs;
use crate::Store;

type Database = docdb_core::Database<MeteredFs>;
type Transaction = docdb_core::Transaction<MeteredFs>;
type Snapshot = docdb_core::Snapshot<MeteredFs>;
type OwnedScan = docdb_core::OwnedScan<MeteredFs>;

/// Limits of one connection's server-side state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionLimits {
    /// Bytes of documents staged by this connection's open transactions.
    pub max_txn_bytes: u64,
    /// Bytes of one scan page (kept under the client's frame limit).
    pub max_page_bytes: u32,
}

/// Open transactions, snapshots and scans per connection: each costs server memory.
const MAX_HANDLES: usize = 1024;
/// Open scans per connection: each holds its snapshot's id list (up to 24 bytes per
/// document) until it ends, so their number is kept small.
const MAX_SCANS: usize = 16;
/// Documents per scan page at most, whatever the client asks.
const MAX_PAGE_DOCS: u32 = 10_000;

struct Txn {
    txn: Transaction,
    /// Document bytes staged so far (overwrites counted again: an upper bound).
    staged: u64,
}

enum Cursor {
    Docs(Peekable<OwnedScan>),
    Ids(std::vec::IntoIter<u64>),
}

pub(crate) struct Session {
    store: Store,
    limits: SessionLimits,
    dbs: HashMap<u64, Database>,
    txns: HashMap<u64, Txn>,
    snaps: HashMap<u64, Snapshot>,
    scans: HashMap<u64, Cursor>,
    next_handle: u64,
    staged: u64,
}

impl Session {
    pub(crate) fn new(store: Store, limits: SessionLimits) -> Self {
        Session {
            store,
            limits,
            dbs: HashMap::new(),
            txns: HashMap::new(),
            snaps: HashMap::new(),
            scans: HashMap::new(),
            next_handle: 1,
            staged: 0,
        }
    }

    /// Open transactions (for the shutdown log).
    pub(crate) fn open_transactions(&self) -> usize {
        self.txns.len()
    }

    /// Runs one request; every engine error becomes an `ERROR` reply.
    pub(crate) fn handle(&mut self, req: Request) -> Reply {
        self.dispatch(req).unwrap_or_else(Reply::Error)
    }

    /// Answers `req` only if that needs no system call and no wait, so that the runtime's
    /// thread can run it without a trip to the blocking pool: a read of a document the
    /// record cache holds, `contains`, `len` and `ping` on a database this connection has
    /// open. `None`: the request may block (disk, fsync, locks); run it with [`handle`].
    ///
    /// [`handle`]: Session::handle
    pub(crate) fn answer_inline(&self, req: &Request) -> Option<Reply> {
        use Request as R;
        let reply = match req {
            R::Ping => Ok(Reply::Unit),
            R::Read { db, id } => match self.dbs.get(db)?.read_cached(*id, <[u8]>::to_vec) {
                Ok(Some(data)) => Ok(Reply::Bytes(data)),
                // Not cached: the read goes to the disk.
                Ok(None) => return None,
                Err(e) => Err(e),
            },
            R::Contains { db, id } => self.dbs.get(db)?.contains(*id).map(Reply::Bool),
            R::Len { db } => self.dbs.get(db)?.len().map(Reply::U64),
            _ => return None,
        };
        Some(reply.unwrap_or_else(Reply::Error))
    }

    fn dispatch(&mut self, req: Request) -> Result<Reply> {
        use Request as R;
        Ok(match req {
            R::Hello(_) => return Err(invalid("the handshake was already done")),
            R::Ping => Reply::Unit,
            // Answered by the connection, which has the server's counters.
            R::ServerStats => return Err(invalid("SERVER_STATS is not an engine request")),
            R::ListDbs => Reply::Dbs(self.store.list_dbs()?),
            R::CreateDb { name } => self.remember(self.store.create_db(&name)?),
            R::OpenDb { name } => self.remember(self.store.open_db(&name)?),
            R::OpenOrCreateDb { name } => self.remember(self.store.open_or_create_db(&name)?),
            R::DropDb { name } => {
                self.store.drop_db(&name)?;
                self.dbs.retain(|_, d| d.name() != name);
                Reply::Unit
            }
            R::StoreStats => Reply::StoreStats(self.store.stats()?),
            R::StoreCheckpoint => unit(self.store.checkpoint())?,
            R::StoreSync => unit(self.store.sync())?,
            R::Create { db, id, data } => unit(self.db(db)?.create(id, &data))?,
            R::Read { db, id } => Reply::Bytes(self.db(db)?.read(id)?),
            R::Update { db, id, data } => unit(self.db(db)?.update(id, &data))?,
            R::Put { db, id, data } => unit(self.db(db)?.put(id, &data))?,
            R::Delete { db, id } => unit(self.db(db)?.delete(id))?,
            R::Contains { db, id } => Reply::Bool(self.db(db)?.contains(id)?),
            R::Len { db } => Reply::U64(self.db(db)?.len()?),
            R::Batch { db, ops } => {
                let ops: Vec<_> = ops.iter().map(|o| o.as_op()).collect();
                Reply::U64(self.db(db)?.batch(&ops)?)
            }
            R::Compact { db } => Reply::U64(self.db(db)?.compact()?),
            R::DbStats { db } => Reply::DbStats(self.db(db)?.stats()?),
            R::DbCheckpoint { db } => unit(self.db(db)?.checkpoint())?,
            R::DbSync { db } => unit(self.db(db)?.sync())?,
            R::Begin { db } => {
                self.check_handles()?;
                let txn = self.db(db)?.begin()?;
                let version = txn.read_version();
                let handle = self.handle_id();
                self.txns.insert(handle, Txn { txn, staged: 0 });
                Reply::Handle { handle, version }
            }
            R::TxnRead { txn, id } => Reply::Bytes(self.txn(txn)?.txn.read(id)?),
            R::TxnContains { txn, id } => Reply::Bool(self.txn(txn)?.txn.contains(id)?),
            R::TxnCreate { txn, id, data } => self.stage(txn, &data, |t| t.create(id, &data))?,
            R::TxnUpdate { txn, id, data } => self.stage(txn, &data, |t| t.update(id, &data))?,
            R::TxnPut { txn, id, data } => self.stage(txn, &data, |t| t.put(id, &data))?,
            R::TxnDelete { txn, id } => self.stage(txn, &[], |t| t.delete(id))?,
            R::TxnPending { txn } => Reply::U64(self.txn(txn)?.txn.pending() as u64),
            R::TxnCommit { txn } => {
                let t = self.take_txn(txn)?;
                Reply::U64(t.commit()?)
            }
            R::TxnRollback { txn } => {
                self.take_txn(txn)?.rollback();
                Reply::Unit
            }
            R::Snapshot { db } => {
                self.check_handles()?;
                let snap = self.db(db)?.snapshot()?;
                let version = snap.version();
                let handle = self.handle_id();
                self.snaps.insert(handle, snap);
                Reply::Handle { handle, version }
            }
            R::SnapRead { snap, id } => Reply::Bytes(self.snap(snap)?.read(id)?),
            R::SnapContains { snap, id } => Reply::Bool(self.snap(snap)?.contains(id)?),
            R::SnapLen { snap } => Reply::U64(self.snap(snap)?.len()?),
            R::SnapClose { snap } => {
                self.snaps
                    .remove(&snap)
                    .ok_or_else(|| gone("snapshot", snap))?;
                Reply::Unit
            }
            R::ScanOpen { snap, ids_only } => {
                self.check_handles()?;
                if self.scans.len() >= MAX_SCANS {
                    return Err(invalid(&format!(
                        "this connection has {MAX_SCANS} open scans; finish or close one first"
                    )));
                }
                let s = self.snap(snap)?;
                let cursor = if ids_only {
                    Cursor::Ids(s.ids()?.into_iter())
                } else {
                    Cursor::Docs(s.clone().into_scan()?.peekable())
                };
                let handle = self.handle_id();
                self.scans.insert(handle, cursor);
                Reply::Handle { handle, version: 0 }
            }
            R::ScanNext {
                scan,
                max_docs,
                max_bytes,
            } => self.page(scan, max_docs, max_bytes)?,
            R::ScanClose { scan } => {
                self.scans.remove(&scan).ok_or_else(|| gone("scan", scan))?;
                Reply::Unit
            }
            R::TxnRange {
                txn,
                range,
                max_docs,
                max_bytes,
            } => {
                let (range, page) = self.page_limits(range, max_docs, max_bytes);
                let (entries, done) = range_page(self.txn(txn)?.txn.range(&range)?, page)?;
                Reply::Page { entries, done }
            }
            R::SnapRange {
                snap,
                range,
                max_docs,
                max_bytes,
            } => {
                let (range, page) = self.page_limits(range, max_docs, max_bytes);
                let (entries, done) = range_page(self.snap(snap)?.range(&range)?, page)?;
                Reply::Page { entries, done }
            }
            R::DbRange {
                db,
                range,
                max_docs,
                max_bytes,
            } => {
                let (range, page) = self.page_limits(range, max_docs, max_bytes);
                let snapshot = self.db(db)?.snapshot()?;
                let (entries, done) = range_page(snapshot.range(&range)?, page)?;
                // Kept only when there is more to read: a range of one page holds nothing.
                let snap = if done {
                    0
                } else {
                    self.check_handles()?;
                    let handle = self.handle_id();
                    self.snaps.insert(handle, snapshot);
                    handle
                };
                Reply::RangePage {
                    snap,
                    entries,
                    done,
                }
            }
            R::TxnCount { txn, range } => Reply::U64(self.txn(txn)?.txn.count(&range)?),
            R::SnapCount { snap, range } => Reply::U64(self.snap(snap)?.count(&range)?),
        })
    }

    fn remember(&mut self, db: Database) -> Reply {
        let info = docdb_core::DbInfo {
            id: db.id(),
            name: db.name().to_string(),
        };
        self.dbs.insert(db.id(), db);
        Reply::Db(info)
    }

    /// The database with catalog id `id`. A connection that did not open it yet (a client
    /// that reconnected) opens it by name, unless it was dropped: then, as for a local
    /// handle of a dropped database, `Closed`.
    fn db(&mut self, id: u64) -> Result<&Database> {
        if !self.dbs.contains_key(&id) {
            let info = self.store.list_dbs()?.into_iter().find(|d| d.id == id);
            let db = match info {
                Some(info) => self.store.open_db(&info.name)?,
                None => return Err(Error::Closed(format!("database #{id} (dropped)"))),
            };
            self.dbs.insert(id, db);
        }
        Ok(&self.dbs[&id])
    }

    fn txn(&mut self, handle: u64) -> Result<&mut Txn> {
        self.txns
            .get_mut(&handle)
            .ok_or_else(|| gone("transaction", handle))
    }

    fn take_txn(&mut self, handle: u64) -> Result<Transaction> {
        let t = self
            .txns
            .remove(&handle)
            .ok_or_else(|| gone("transaction", handle))?;
        self.staged -= t.staged;
        Ok(t.txn)
    }

    fn snap(&self, handle: u64) -> Result<&Snapshot> {
        self.snaps
            .get(&handle)
            .ok_or_else(|| gone("snapshot", handle))
    }

    /// Stages a write, within the connection's budget of pending transaction bytes.
    fn stage(
        &mut self,
        handle: u64,
        data: &[u8],
        f: impl FnOnce(&mut Transaction) -> Result<()>,
    ) -> Result<Reply> {
        let n = data.len() as u64;
        let limit = self.limits.max_txn_bytes;
        if self.staged + n > limit {
            return Err(Error::MemoryLimit {
                scope: "this connection's open transactions".into(),
                requested: self.staged + n,
                limit,
            });
        }
        let t = self.txn(handle)?;
        f(&mut t.txn)?;
        t.staged += n;
        self.staged += n;
        Ok(Reply::Unit)
    }

    /// The caps of one page, whatever the client asked: at least one document, at most
    /// [`MAX_PAGE_DOCS`] and `max_page_bytes`.
    fn page_caps(&self, max_docs: u32, max_bytes: u32) -> PageCaps {
        PageCaps {
            docs: max_docs.clamp(1, MAX_PAGE_DOCS) as usize,
            bytes: u64::from(max_bytes.clamp(1, self.limits.max_page_bytes)),
        }
    }

    /// A range page's caps, and the range cut to one document past the page: the engine
    /// then reads no further than the page (and the one document that tells whether the
    /// range goes on), however large the range.
    fn page_limits(&self, range: IdRange, max_docs: u32, max_bytes: u32) -> (IdRange, PageCaps) {
        let caps = self.page_caps(max_docs, max_bytes);
        let past_page = caps.docs as u64 + 1;
        let limit = range.limit.map_or(past_page, |n| n.min(past_page));
        (
            IdRange {
                limit: Some(limit),
                ..range
            },
            caps,
        )
    }

    fn page(&mut self, scan: u64, max_docs: u32, max_bytes: u32) -> Result<Reply> {
        let PageCaps {
            docs: max_docs,
            bytes: max_bytes,
        } = self.page_caps(max_docs, max_bytes);
        let cursor = self
            .scans
            .get_mut(&scan)
            .ok_or_else(|| gone("scan", scan))?;
        let mut entries = Vec::new();
        let mut bytes = 0u64;
        let done = loop {
            if entries.len() == max_docs {
                break false;
            }
            match cursor {
                Cursor::Ids(ids) => match ids.next() {
                    Some(id) => entries.push(ScanEntry {
                        id,
                        data: Vec::new(),
                    }),
                    None => break true,
                },
                Cursor::Docs(docs) => {
                    // A page holds at least one document, and stops before the one that
                    // would take it over `max_bytes`.
                    let next_len = match docs.peek() {
                        None => break true,
                        Some(Ok((_, d))) => d.len() as u64 + 12,
                        // A damaged document: the page ends before it, and its error is
                        // the next reply, after which the scan goes on, as locally.
                        Some(Err(_)) if !entries.is_empty() => break false,
                        Some(Err(_)) => 0,
                    };
                    if !entries.is_empty() && bytes + next_len > max_bytes {
                        break false;
                    }
                    let (id, data) = docs.next().expect("peeked")?;
                    bytes += next_len;
                    entries.push(ScanEntry { id, data });
                }
            }
        };
        if done {
            self.scans.remove(&scan);
        }
        Ok(Reply::Page { entries, done })
    }

    fn check_handles(&self) -> Result<()> {
        let open = self.txns.len() + self.snaps.len() + self.scans.len();
        if open >= MAX_HANDLES {
            return Err(invalid(&format!(
                "this connection has {open} open transactions, snapshots and scans \
                 (at most {MAX_HANDLES}); finish some first"
            )));
        }
        Ok(())
    }

    fn handle_id(&mut self) -> u64 {
        let h = self.next_handle;
        self.next_handle += 1;
        h
    }
}

/// How much one page may carry.
#[derive(Clone, Copy)]
struct PageCaps {
    docs: usize,
    bytes: u64,
}

/// One page of a range, read from the start of `docs` (a range already cut to
/// `caps.docs + 1` documents): at least one document, then more while they fit the caps.
/// `done` when the range has no document after the page, so the client does not ask again.
fn range_page(
    docs: impl Iterator<Item = Result<(u64, Vec<u8>)>>,
    caps: PageCaps,
) -> Result<(Vec<ScanEntry>, bool)> {
    let mut docs = docs.peekable();
    let mut entries = Vec::new();
    let mut bytes = 0u64;
    let done = loop {
        let next_len = match docs.peek() {
            None => break true,
            Some(Ok((_, d))) => d.len() as u64 + 12,
            // A damaged document: the documents before it are a page, its error the reply
            // to the next request.
            Some(Err(_)) if !entries.is_empty() => break false,
            Some(Err(_)) => 0,
        };
        if entries.len() == caps.docs || (!entries.is_empty() && bytes + next_len > caps.bytes) {
            break false;
        }
        let (id, data) = docs.next().expect("peeked")?;
        bytes += next_len;
        entries.push(ScanEntry { id, data });
    };
    Ok((entries, done))
}

fn unit(r: Result<()>) -> Result<Reply> {
    r.map(|()| Reply::Unit)
}

fn invalid(msg: &str) -> Error {
    Error::InvalidArgument(msg.to_string())
}

/// A handle this connection does not hold (finished, or never given): like a finished
/// local transaction, `Closed`.
fn gone(what: &str, handle: u64) -> Error {
    Error::Closed(format!("{what} handle {handle}"))
}
