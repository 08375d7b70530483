//! The remote handles: the API of `docdb_core`'s `Store`, `Database`, `Transaction` and
//! `Snapshot`, each call one request to the server.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use docdb_core::{BatchOp, DbInfo, DbStats, Error, ErrorKind, IdRange, Result, StoreStats};
use docdb_proto::{BatchEntry, Reply, Request, ScanEntry};

use crate::conn::{Conn, ConnectOptions, Pool, Target};

/// Documents and bytes asked for per scan page: big enough to amortise a round trip,
/// small enough to bound the memory of both ends.
const PAGE_DOCS: u32 = 1024;
const PAGE_BYTES: u32 = 4 << 20;

fn unexpected(reply: Reply) -> Error {
    let what = match reply {
        Reply::Error(e) => return e,
        Reply::Bytes(b) => format!("{} bytes", b.len()),
        other => format!("{other:?}").chars().take(80).collect(),
    };
    Error::Io {
        context: "unexpected reply from the server".into(),
        source: std::io::Error::other(what),
    }
}

/// A remote store: a connection pool to one server. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.pool.target.url)
            .finish()
    }
}

impl Store {
    /// Connects to the server at `url` (`unix:///path`, `tcp://host:port`,
    /// `tls://host:port`). Fails with `UNAVAILABLE` if it cannot be reached, with the
    /// server's error if the handshake is refused (wrong token: `INVALID_ARGUMENT`).
    pub fn connect(url: &str, opts: ConnectOptions) -> Result<Store> {
        let pool = Arc::new(Pool::new(Target::new(url, opts)?));
        let c = pool.checkout()?;
        pool.checkin(c);
        Ok(Store { pool })
    }

    /// The URL this store was connected with.
    pub fn url(&self) -> &str {
        &self.pool.target.url
    }

    pub fn create_db(&self, name: &str) -> Result<Database> {
        self.db_reply(Request::CreateDb { name: name.into() })
    }

    pub fn open_db(&self, name: &str) -> Result<Database> {
        self.db_reply(Request::OpenDb { name: name.into() })
    }

    pub fn open_or_create_db(&self, name: &str) -> Result<Database> {
        self.db_reply(Request::OpenOrCreateDb { name: name.into() })
    }

    fn db_reply(&self, req: Request) -> Result<Database> {
        match self.pool.call(&req)? {
            Reply::Db(info) => Ok(Database {
                pool: self.pool.clone(),
                info,
            }),
            r => Err(unexpected(r)),
        }
    }

    pub fn drop_db(&self, name: &str) -> Result<()> {
        self.unit(Request::DropDb { name: name.into() })
    }

    pub fn list_dbs(&self) -> Result<Vec<DbInfo>> {
        match self.pool.call(&Request::ListDbs)? {
            Reply::Dbs(d) => Ok(d),
            r => Err(unexpected(r)),
        }
    }

    pub fn stats(&self) -> Result<StoreStats> {
        match self.pool.call(&Request::StoreStats)? {
            Reply::StoreStats(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }

    pub fn checkpoint(&self) -> Result<()> {
        self.unit(Request::StoreCheckpoint)
    }

    pub fn sync(&self) -> Result<()> {
        self.unit(Request::StoreSync)
    }

    /// The server's own counters: connections, requests, fsyncs.
    pub fn server_stats(&self) -> Result<docdb_proto::ServerStats> {
        match self.pool.call(&Request::ServerStats)? {
            Reply::ServerStats(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }

    /// Checks that the server answers.
    pub fn ping(&self) -> Result<()> {
        self.unit(Request::Ping)
    }

    /// Closes this client's connections; the server and its store keep running. Later
    /// calls fail with `CLOSED`, as on a closed local store.
    pub fn close(&self) -> Result<()> {
        self.pool.close();
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    fn unit(&self, req: Request) -> Result<()> {
        unit(self.pool.call(&req)?)
    }
}

fn unit(reply: Reply) -> Result<()> {
    match reply {
        Reply::Unit => Ok(()),
        r => Err(unexpected(r)),
    }
}

fn bytes(reply: Reply) -> Result<Vec<u8>> {
    match reply {
        Reply::Bytes(b) => Ok(b),
        r => Err(unexpected(r)),
    }
}

fn boolean(reply: Reply) -> Result<bool> {
    match reply {
        Reply::Bool(b) => Ok(b),
        r => Err(unexpected(r)),
    }
}

fn number(reply: Reply) -> Result<u64> {
    match reply {
        Reply::U64(v) => Ok(v),
        r => Err(unexpected(r)),
    }
}

/// A database of a remote store. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Database {
    pool: Arc<Pool>,
    info: DbInfo,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("id", &self.info.id)
            .field("name", &self.info.name)
            .finish()
    }
}

impl Database {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    fn call(&self, req: Request) -> Result<Reply> {
        self.pool.call(&req)
    }

    pub fn create(&self, id: u64, data: &[u8]) -> Result<()> {
        let db = self.info.id;
        unit(self.call(Request::Create {
            db,
            id,
            data: data.to_vec(),
        })?)
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        bytes(self.call(Request::Read {
            db: self.info.id,
            id,
        })?)
    }

    pub fn update(&self, id: u64, data: &[u8]) -> Result<()> {
        let db = self.info.id;
        unit(self.call(Request::Update {
            db,
            id,
            data: data.to_vec(),
        })?)
    }

    pub fn put(&self, id: u64, data: &[u8]) -> Result<()> {
        let db = self.info.id;
        unit(self.call(Request::Put {
            db,
            id,
            data: data.to_vec(),
        })?)
    }

    pub fn delete(&self, id: u64) -> Result<()> {
        unit(self.call(Request::Delete {
            db: self.info.id,
            id,
        })?)
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        boolean(self.call(Request::Contains {
            db: self.info.id,
            id,
        })?)
    }

    pub fn len(&self) -> Result<u64> {
        number(self.call(Request::Len { db: self.info.id })?)
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Applies every operation atomically; returns the commit version.
    pub fn batch(&self, ops: &[BatchOp<'_>]) -> Result<u64> {
        let ops = ops.iter().map(BatchEntry::from_op).collect();
        number(self.call(Request::Batch {
            db: self.info.id,
            ops,
        })?)
    }

    pub fn compact(&self) -> Result<u64> {
        number(self.call(Request::Compact { db: self.info.id })?)
    }

    pub fn checkpoint(&self) -> Result<()> {
        unit(self.call(Request::DbCheckpoint { db: self.info.id })?)
    }

    pub fn sync(&self) -> Result<()> {
        unit(self.call(Request::DbSync { db: self.info.id })?)
    }

    pub fn stats(&self) -> Result<DbStats> {
        match self.call(Request::DbStats { db: self.info.id })? {
            Reply::DbStats(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }

    /// Begins a transaction, held by the server on a connection of its own until commit
    /// or rollback (dropping it rolls back).
    pub fn begin(&self) -> Result<Transaction> {
        let mut lease = Lease::new(&self.pool)?;
        match lease.call(Request::Begin { db: self.info.id })? {
            Reply::Handle { handle, version } => Ok(Transaction {
                lease: Mutex::new(lease),
                handle,
                read_version: version,
            }),
            r => Err(unexpected(r)),
        }
    }

    /// The documents of `range` as they are now, in the range's order, up to its limit;
    /// fetched a page at a time. A range that fits in its first page costs one request;
    /// a longer one reads every page from one snapshot, which the server holds (on a
    /// connection of its own) until the iterator ends or is dropped.
    pub fn range(&self, range: &IdRange) -> Result<OwnedScan> {
        let mut lease = Lease::new(&self.pool)?;
        let reply = lease.call(Request::DbRange {
            db: self.info.id,
            range: *range,
            max_docs: PAGE_DOCS,
            max_bytes: PAGE_BYTES,
        })?;
        let Reply::RangePage {
            snap,
            entries,
            done,
        } = reply
        else {
            return Err(unexpected(reply));
        };
        let source = if done {
            // Nothing is held on the server: the connection goes back to the pool.
            if let Some(c) = lease.conn.take() {
                self.pool.checkin(c);
            }
            RangeSource::Done(self.pool.clone())
        } else {
            RangeSource::Snap(Arc::new(SnapInner {
                lease: Mutex::new(lease),
                handle: snap,
                version: 0,
            }))
        };
        let mut pages = RangePages::new(source, range);
        pages.accept(entries, done)?;
        Ok(OwnedScan {
            pages: Paged::Range(pages),
        })
    }

    /// Takes a snapshot, held by the server on a connection of its own until the last
    /// clone of it (and its scans) is dropped.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut lease = Lease::new(&self.pool)?;
        match lease.call(Request::Snapshot { db: self.info.id })? {
            Reply::Handle { handle, version } => Ok(Snapshot {
                inner: Arc::new(SnapInner {
                    lease: Mutex::new(lease),
                    handle,
                    version,
                }),
            }),
            r => Err(unexpected(r)),
        }
    }
}

/// A connection taken from the pool for a transaction or snapshot, which the server binds
/// to it. Requests on it are never resent: the server-side state died with a broken one.
struct Lease {
    pool: Arc<Pool>,
    conn: Option<Conn>,
}

impl Lease {
    fn new(pool: &Arc<Pool>) -> Result<Lease> {
        Ok(Lease {
            pool: pool.clone(),
            conn: Some(pool.checkout()?),
        })
    }

    fn call(&mut self, req: Request) -> Result<Reply> {
        // A closed store closes its transactions and snapshots too, as locally: the
        // connection is dropped, so the server rolls back and releases what it held.
        if let Err(closed) = self.pool.check_open() {
            self.conn = None;
            return Err(closed);
        }
        let Some(c) = self.conn.as_mut() else {
            return Err(Error::Closed(
                "transaction or snapshot whose connection to the server was lost (the server rolled it back)".into(),
            ));
        };
        match c.exchange(&req) {
            Ok(Reply::Error(e)) => {
                if c.broken {
                    self.conn = None;
                }
                Err(e)
            }
            Ok(r) => Ok(r),
            Err(lost) => {
                self.conn = None;
                Err(lost.into_error())
            }
        }
    }

    /// `CLOSED` once the store is closed: what a scan checks before it returns a document
    /// it already holds, as a local scan does.
    fn check_open(&self) -> Result<()> {
        self.pool.check_open()
    }

    /// Ends the server-side handle with `req` and returns the connection to the pool.
    fn release(&mut self, req: Request) {
        if self.pool.is_closed() {
            self.conn = None;
            return;
        }
        if self.call(req).is_ok() {
            if let Some(c) = self.conn.take() {
                self.pool.checkin(c);
            }
        }
        self.conn = None;
    }
}

/// A remote transaction: snapshot isolation and conflicts as local; the server stages the
/// writes (bounded per connection) and rolls them back if the connection is lost.
pub struct Transaction {
    /// A mutex only so that reads take `&self`, as on a local transaction.
    lease: Mutex<Lease>,
    handle: u64,
    read_version: u64,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("read_version", &self.read_version)
            .finish()
    }
}

impl Transaction {
    pub fn read_version(&self) -> u64 {
        self.read_version
    }

    fn call(&self, req: Request) -> Result<Reply> {
        self.lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .call(req)
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        let txn = self.handle;
        bytes(self.call(Request::TxnRead { txn, id })?)
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        let txn = self.handle;
        boolean(self.call(Request::TxnContains { txn, id })?)
    }

    pub fn create(&mut self, id: u64, data: &[u8]) -> Result<()> {
        let (txn, data) = (self.handle, data.to_vec());
        unit(self.call(Request::TxnCreate { txn, id, data })?)
    }

    pub fn update(&mut self, id: u64, data: &[u8]) -> Result<()> {
        let (txn, data) = (self.handle, data.to_vec());
        unit(self.call(Request::TxnUpdate { txn, id, data })?)
    }

    pub fn put(&mut self, id: u64, data: &[u8]) -> Result<()> {
        let (txn, data) = (self.handle, data.to_vec());
        unit(self.call(Request::TxnPut { txn, id, data })?)
    }

    pub fn delete(&mut self, id: u64) -> Result<()> {
        let txn = self.handle;
        unit(self.call(Request::TxnDelete { txn, id })?)
    }

    /// Iterates over the documents of `range` as this transaction sees them (its snapshot
    /// with its own staged writes and deletions applied), in the range's order, up to its
    /// limit; fetched a page at a time. The first page is fetched now, so an error (a
    /// closed store, a lost connection) is returned here as locally.
    pub fn range(&self, range: &IdRange) -> Result<TxnScan<'_>> {
        Ok(TxnScan {
            pages: RangePages::open(RangeSource::Txn(self), range)?,
        })
    }

    /// Number of documents of `range` as this transaction sees them (up to its limit);
    /// the server reads no document.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        let (txn, range) = (self.handle, *range);
        number(self.call(Request::TxnCount { txn, range })?)
    }

    /// `CLOSED` once the store is closed (no request is made).
    pub fn check_open(&self) -> Result<()> {
        self.lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check_open()
    }

    /// Number of staged writes (a request: the server holds them).
    pub fn pending(&self) -> Result<usize> {
        let txn = self.handle;
        Ok(number(self.call(Request::TxnPending { txn })?)? as usize)
    }

    /// Commits atomically and returns the commit version. If the connection breaks while
    /// the commit is in flight the error is `UNAVAILABLE` with `outcome_unknown()` true:
    /// the commit may or may not have been applied (it is never resent).
    pub fn commit(self) -> Result<u64> {
        let txn = self.handle;
        let mut lease = self.lease.lock().unwrap_or_else(|e| e.into_inner());
        let r = lease.call(Request::TxnCommit { txn });
        // The server has forgotten the handle whatever the result.
        if let Some(c) = lease.conn.take() {
            lease.pool.checkin(c);
        }
        number(r?)
    }

    /// Discards every staged write.
    pub fn rollback(self) {}
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let lease = self.lease.get_mut().unwrap_or_else(|e| e.into_inner());
        if lease.conn.is_some() {
            lease.release(Request::TxnRollback { txn: self.handle });
        }
    }
}

struct SnapInner {
    lease: Mutex<Lease>,
    handle: u64,
    version: u64,
}

impl SnapInner {
    fn check_open(&self) -> Result<()> {
        self.lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check_open()
    }

    fn call(&self, req: Request) -> Result<Reply> {
        self.lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .call(req)
    }
}

impl Drop for SnapInner {
    fn drop(&mut self) {
        let lease = self.lease.get_mut().unwrap_or_else(|e| e.into_inner());
        if lease.conn.is_some() {
            lease.release(Request::SnapClose { snap: self.handle });
        }
    }
}

/// A remote snapshot: a consistent view held by the server. Cheap to clone; `Send + Sync`
/// (clones share one connection, so their calls take turns).
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<SnapInner>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.inner.version)
            .finish()
    }
}

impl Snapshot {
    pub fn version(&self) -> u64 {
        self.inner.version
    }

    pub fn read(&self, id: u64) -> Result<Vec<u8>> {
        let snap = self.inner.handle;
        bytes(self.inner.call(Request::SnapRead { snap, id })?)
    }

    pub fn contains(&self, id: u64) -> Result<bool> {
        let snap = self.inner.handle;
        boolean(self.inner.call(Request::SnapContains { snap, id })?)
    }

    pub fn len(&self) -> Result<u64> {
        let snap = self.inner.handle;
        number(self.inner.call(Request::SnapLen { snap })?)
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Ids of every document, ascending (streamed in pages; no document is read).
    pub fn ids(&self) -> Result<Vec<u64>> {
        let scan = Pages::open(self.inner.clone(), true)?;
        scan.map(|r| r.map(|(id, _)| id)).collect()
    }

    /// Every document in ascending id order, fetched a page at a time.
    pub fn scan(&self) -> Result<Scan<'_>> {
        Ok(Scan {
            pages: Paged::Scan(Pages::open(self.inner.clone(), false)?),
            _snapshot: std::marker::PhantomData,
        })
    }

    /// Like [`Snapshot::scan`] but the iterator owns the snapshot.
    pub fn into_scan(self) -> Result<OwnedScan> {
        Ok(OwnedScan {
            pages: Paged::Scan(Pages::open(self.inner.clone(), false)?),
        })
    }

    /// Iterates over the documents of `range`, in its order, up to its limit; fetched a
    /// page at a time (each page continues after the last id of the previous one, so the
    /// server holds nothing between pages). The first page is fetched now, so an error is
    /// returned here as locally.
    pub fn range(&self, range: &IdRange) -> Result<Scan<'_>> {
        Ok(Scan {
            pages: Paged::Range(RangePages::open(
                RangeSource::Snap(self.inner.clone()),
                range,
            )?),
            _snapshot: std::marker::PhantomData,
        })
    }

    /// Like [`Snapshot::range`] but the iterator owns the snapshot.
    pub fn into_range(self, range: &IdRange) -> Result<OwnedScan> {
        Ok(OwnedScan {
            pages: Paged::Range(RangePages::open(RangeSource::Snap(self.inner), range)?),
        })
    }

    /// Number of documents of `range` (up to its limit); the server reads no document.
    pub fn count(&self, range: &IdRange) -> Result<u64> {
        let (snap, range) = (self.inner.handle, *range);
        number(self.inner.call(Request::SnapCount { snap, range })?)
    }

    /// Calls `f(id, bytes)` for every document in ascending id order; stops early on
    /// `ControlFlow::Break`.
    pub fn for_each(&self, mut f: impl FnMut(u64, &[u8]) -> ControlFlow<()>) -> Result<()> {
        for item in Pages::open(self.inner.clone(), false)? {
            let (id, data) = item?;
            if f(id, &data).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// A server-side scan read page by page: at most one page in memory on each side.
struct Pages {
    snap: Arc<SnapInner>,
    handle: u64,
    buffered: VecDeque<ScanEntry>,
    done: bool,
}

impl Pages {
    fn open(snap: Arc<SnapInner>, ids_only: bool) -> Result<Pages> {
        let handle = match snap.call(Request::ScanOpen {
            snap: snap.handle,
            ids_only,
        })? {
            Reply::Handle { handle, .. } => handle,
            r => return Err(unexpected(r)),
        };
        Ok(Pages {
            snap,
            handle,
            buffered: VecDeque::new(),
            done: false,
        })
    }
}

impl Iterator for Pages {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let ControlFlow::Break(item) =
            go_on(&mut self.buffered, &mut self.done, self.snap.check_open())
        {
            return item;
        }
        if self.buffered.is_empty() {
            let req = Request::ScanNext {
                scan: self.handle,
                max_docs: PAGE_DOCS,
                max_bytes: PAGE_BYTES,
            };
            match self.snap.call(req) {
                Ok(Reply::Page { entries, done }) => {
                    self.buffered = entries.into();
                    self.done = done;
                }
                Ok(r) => {
                    self.done = true;
                    return Some(Err(unexpected(r)));
                }
                Err(e) => {
                    // The server's scan moved past a damaged document: go on after it, as
                    // a local scan does. Any other error (closed, connection lost) ends it.
                    self.done = e.kind() != ErrorKind::Corruption;
                    return Some(Err(e));
                }
            }
        }
        self.buffered.pop_front().map(|e| Ok((e.id, e.data)))
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.snap.call(Request::ScanClose { scan: self.handle });
        }
    }
}

/// A document as the iterators return it.
type Doc = (u64, Vec<u8>);

/// Whether an iterator over pages of the server may return its next document: not at its
/// end (`done` and nothing held), and not once the store is closed (`open` failed): then
/// the page it holds is dropped and the error returned once, as a local scan ends.
fn go_on(
    held: &mut VecDeque<ScanEntry>,
    done: &mut bool,
    open: Result<()>,
) -> ControlFlow<Option<Result<Doc>>> {
    if held.is_empty() && *done {
        return ControlFlow::Break(None);
    }
    if let Err(e) = open {
        held.clear();
        *done = true;
        return ControlFlow::Break(Some(Err(e)));
    }
    ControlFlow::Continue(())
}

/// Where the pages of a range come from: a snapshot or a transaction held by the server,
/// or nowhere (a one-shot range whose first page was its last).
enum RangeSource<'a> {
    Snap(Arc<SnapInner>),
    Txn(&'a Transaction),
    /// The pool is kept to tell a closed store.
    Done(Arc<Pool>),
}

impl RangeSource<'_> {
    /// `CLOSED` once the store is closed, without a request.
    fn check_open(&self) -> Result<()> {
        match self {
            RangeSource::Snap(s) => s.check_open(),
            RangeSource::Txn(t) => t.check_open(),
            RangeSource::Done(pool) => pool.check_open(),
        }
    }
}

/// A range read page by page with keyset continuation: each request asks for what is left
/// (the range after the last id received, its limit less the documents received), so the
/// server keeps no cursor and each side holds one page at a time.
struct RangePages<'a> {
    source: RangeSource<'a>,
    rest: IdRange,
    buffered: VecDeque<ScanEntry>,
    done: bool,
}

impl<'a> RangePages<'a> {
    fn new(source: RangeSource<'a>, range: &IdRange) -> Self {
        RangePages {
            source,
            rest: *range,
            buffered: VecDeque::new(),
            done: false,
        }
    }

    /// Fetches the first page now, so that errors come from the call that opens the range.
    fn open(source: RangeSource<'a>, range: &IdRange) -> Result<Self> {
        let mut pages = RangePages::new(source, range);
        pages.fetch()?;
        Ok(pages)
    }

    /// Fetches the next page unless the range is done.
    fn fetch(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        // Until a page arrives whole, the range counts as done: an error ends it.
        self.done = true;
        let (range, max_docs, max_bytes) = (self.rest, PAGE_DOCS, PAGE_BYTES);
        let reply = match &self.source {
            RangeSource::Snap(s) => s.call(Request::SnapRange {
                snap: s.handle,
                range,
                max_docs,
                max_bytes,
            }),
            RangeSource::Txn(t) => t.call(Request::TxnRange {
                txn: t.handle,
                range,
                max_docs,
                max_bytes,
            }),
            RangeSource::Done(_) => return Ok(()),
        }?;
        let Reply::Page { entries, done } = reply else {
            return Err(unexpected(reply));
        };
        self.accept(entries, done)
    }

    /// Takes a page in: buffers it and moves what is left of the range past it.
    fn accept(&mut self, entries: Vec<ScanEntry>, done: bool) -> Result<()> {
        self.check_page(&entries)?;
        if let Some(last) = entries.last() {
            self.rest = self.rest.after(last.id);
            self.rest.limit = self.rest.limit.map(|n| n - entries.len() as u64);
        }
        self.done = done || entries.is_empty() || self.rest.limit == Some(0);
        self.buffered = entries.into();
        Ok(())
    }

    /// A page must hold ids of what is left of the range, in its order, within its limit:
    /// anything else would make the keyset continuation skip or repeat documents.
    fn check_page(&self, entries: &[ScanEntry]) -> Result<()> {
        let mut rest = self.rest;
        for (n, e) in entries.iter().enumerate() {
            if !rest.contains(e.id) || rest.limit.is_some_and(|l| n as u64 >= l) {
                return Err(Error::Io {
                    context: "a range page from the server".into(),
                    source: std::io::Error::other(format!(
                        "id {} lies outside the range asked for ({:?})",
                        e.id, self.rest
                    )),
                });
            }
            rest = rest.after(e.id);
        }
        Ok(())
    }
}

impl Iterator for RangePages<'_> {
    type Item = Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let ControlFlow::Break(item) =
            go_on(&mut self.buffered, &mut self.done, self.source.check_open())
        {
            return item;
        }
        if self.buffered.is_empty() {
            if let Err(e) = self.fetch() {
                return Some(Err(e));
            }
        }
        self.buffered.pop_front().map(|e| Ok((e.id, e.data)))
    }
}

/// The pages behind a snapshot's iterators: a server-side scan or a keyset range.
enum Paged {
    Scan(Pages),
    Range(RangePages<'static>),
}

impl Iterator for Paged {
    type Item = Result<(u64, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Paged::Scan(p) => p.next(),
            Paged::Range(p) => p.next(),
        }
    }
}

/// Iterator over `(id, bytes)` of a [`Snapshot`]: ascending by id, or in a range's order.
pub struct Scan<'a> {
    pages: Paged,
    _snapshot: std::marker::PhantomData<&'a Snapshot>,
}

impl Iterator for Scan<'_> {
    type Item = Result<(u64, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.pages.next()
    }
}

/// An owned scan (see [`Snapshot::into_scan`], [`Snapshot::into_range`] and
/// [`Database::range`]).
pub struct OwnedScan {
    pages: Paged,
}

/// Iterator over `(id, bytes)` of a range as a [`Transaction`] sees it.
pub struct TxnScan<'a> {
    pages: RangePages<'a>,
}

impl Iterator for TxnScan<'_> {
    type Item = Result<(u64, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.pages.next()
    }
}

impl Iterator for OwnedScan {
    type Item = Result<(u64, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.pages.next()
    }
}

/// The handles cross threads as the local ones do.
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Store>();
    is::<Database>();
    is::<Snapshot>();
    is::<Transaction>();
};
