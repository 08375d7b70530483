//! `Database`: one logical database of a store.

use docdb::BatchOp;
use napi::bindgen_prelude::{AsyncTask, Buffer, ToNapiValue, TypeName, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::args::{self, Call};
use crate::snapshot::{Snapshot, SnapshotScan};
use crate::stats::DbStats;
use crate::task::{self, Job};
use crate::transaction::Transaction;

type Core = docdb::Database;
type WriteFn = fn(&Core, u64, &[u8]) -> docdb::Result<()>;

/// A handle to one database. Every plain operation is its own durable transaction.
#[napi]
pub struct Database {
    inner: Core,
}

impl Database {
    pub fn new(inner: Core) -> Self {
        Database { inner }
    }

    fn job<T, F>(&self, f: F) -> Job<T>
    where
        T: ToNapiValue + TypeName + Send + 'static,
        F: FnOnce(&Core) -> docdb::Result<T> + Send + 'static,
    {
        let db = self.inner.clone();
        Job::new(move || f(&db))
    }

    fn write_job(
        &self,
        env: &Env,
        id: Unknown,
        data: Unknown,
        f: WriteFn,
        call: Call,
    ) -> Result<Job<()>> {
        let id = args::doc_id(env, &id, "id")?;
        let data = args::data(env, &data, "data", call)?;
        Ok(self.job(move |db| f(db, id, &data)))
    }

    fn read_job(&self, env: &Env, id: Unknown) -> Result<Job<Buffer>> {
        let id = args::doc_id(env, &id, "id")?;
        // The engine's Vec becomes the Buffer's memory: no copy.
        Ok(self.job(move |db| db.read(id).map(Buffer::from)))
    }

    /// `readInto(id, target)` (a plain Node-API callback, fast_read.rs): copies the document
    /// into `target` if it fits and returns its length either way.
    pub(crate) fn read_into_args(&self, env: &Env, id: &Unknown, target: &Unknown) -> Result<f64> {
        let id = args::doc_id(env, id, "id")?;
        let mut target = args::target(env, target)?;
        // SAFETY: this call is synchronous, so no JavaScript runs while the slice lives and
        // nothing else touches the typed array's memory; the slice is the view's own range.
        let dest = unsafe { target.as_mut() };
        // Inline rather than a `Job`: no boxed closure, and a cached document is copied
        // straight from the record cache into `target` (`Database::read_into`).
        task::inline(env, || self.inner.read_into(id, dest)).map(|len| len as f64)
    }

    fn delete_job(&self, env: &Env, id: Unknown) -> Result<Job<()>> {
        let id = args::doc_id(env, &id, "id")?;
        Ok(self.job(move |db| db.delete(id)))
    }

    fn batch_job(&self, env: &Env, ops: Unknown, call: Call) -> Result<Job<f64>> {
        let ops = args::batch_ops(env, &ops, call)?;
        Ok(self.job(move |db| {
            let ops: Vec<BatchOp<'_>> = ops.iter().map(args::OwnedOp::as_op).collect();
            db.batch(&ops).map(|v| v as f64)
        }))
    }
}

#[napi]
impl Database {
    /// The database's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The database's catalog id (never reused).
    #[napi(getter)]
    pub fn id(&self) -> f64 {
        self.inner.id() as f64
    }

    /// Inserts a new document. Throws `ALREADY_EXISTS` if `id` is taken.
    #[napi]
    pub fn create(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write_job(&env, id, data, Core::create, Call::Sync)?
            .run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self
            .write_job(&env, id, data, Core::create, Call::Async)?
            .spawn())
    }

    /// Reads a document. Throws `NOT_FOUND` if absent.
    #[napi]
    pub fn read(&self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<Buffer> {
        self.read_job(&env, id)?.run(env)
    }

    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        Ok(self.read_job(&env, id)?.spawn())
    }

    /// Replaces a whole document. Throws `NOT_FOUND` if absent.
    #[napi]
    pub fn update(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write_job(&env, id, data, Core::update, Call::Sync)?
            .run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self
            .write_job(&env, id, data, Core::update, Call::Async)?
            .spawn())
    }

    /// Inserts or replaces a document.
    #[napi]
    pub fn put(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write_job(&env, id, data, Core::put, Call::Sync)?
            .run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn put_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self
            .write_job(&env, id, data, Core::put, Call::Async)?
            .spawn())
    }

    /// Deletes a document. Throws `NOT_FOUND` if absent.
    #[napi]
    pub fn delete(&self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<()> {
        self.delete_job(&env, id)?.run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self.delete_job(&env, id)?.spawn())
    }

    /// Whether a document exists.
    #[napi]
    pub fn contains(&self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<bool> {
        let id = args::doc_id(&env, &id, "id")?;
        self.job(move |db| db.contains(id)).run(env)
    }

    /// Number of documents.
    #[napi]
    pub fn len(&self, env: Env) -> Result<f64> {
        self.job(|db| db.len().map(|n| n as f64)).run(env)
    }

    /// Number of documents of a range now (at most `limit`; every document without
    /// options); no document is read.
    #[napi]
    pub fn count(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<f64> {
        let range = args::id_range(&env, options.as_ref())?;
        self.job(move |db| db.snapshot()?.count(&range).map(|n| n as f64))
            .run(env)
    }

    /// A cursor over `[id, data]` of a range of the database as it is now (its own
    /// snapshot, held until the cursor ends or is closed); used by `range()`.
    #[napi]
    pub fn scan(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<SnapshotScan> {
        let range = args::id_range(&env, options.as_ref())?;
        self.job(move |db| db.range(&range).map(SnapshotScan::new))
            .run(env)
    }

    /// Applies every operation atomically and in order: all take effect or none does. A
    /// failing operation throws a `DocDBError` whose `batchIndex` is its position. Returns
    /// the commit's version.
    #[napi]
    pub fn batch(&self, env: Env, #[napi(ts_arg_type = "BatchOp[]")] ops: Unknown) -> Result<f64> {
        self.batch_job(&env, ops, Call::Sync)?.run(env)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn batch_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "BatchOp[]")] ops: Unknown,
    ) -> Result<AsyncTask<Job<f64>>> {
        Ok(self.batch_job(&env, ops, Call::Async)?.spawn())
    }

    /// Starts a transaction (snapshot isolation; first committer wins, the loser's commit
    /// throws `CONFLICT`). Prefer `transaction(fn)`, which commits or rolls back for you.
    #[napi]
    pub fn begin(&self, env: Env) -> Result<Transaction> {
        self.job(|db| db.begin().map(Transaction::new)).run(env)
    }

    /// A consistent read-only view of the database as it is now. Close it when done: it
    /// keeps the versions it sees alive.
    #[napi]
    pub fn snapshot(&self, env: Env) -> Result<Snapshot> {
        self.job(|db| db.snapshot().map(Snapshot::new)).run(env)
    }

    /// Rewrites live documents into new log segments; returns the bytes reclaimed.
    #[napi]
    pub fn compact(&self, env: Env) -> Result<f64> {
        self.job(|db| db.compact().map(|n| n as f64)).run(env)
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn compact_async(&self) -> AsyncTask<Job<f64>> {
        self.job(|db| db.compact().map(|n| n as f64)).spawn()
    }

    /// Writes a checkpoint so the next open replays only what follows it.
    #[napi]
    pub fn checkpoint(&self, env: Env) -> Result<()> {
        self.job(Core::checkpoint).run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn checkpoint_async(&self) -> AsyncTask<Job<()>> {
        self.job(Core::checkpoint).spawn()
    }

    /// fsyncs the log (useful with `sync: 'normal'`).
    #[napi]
    pub fn sync(&self, env: Env) -> Result<()> {
        self.job(Core::sync).run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync_async(&self) -> AsyncTask<Job<()>> {
        self.job(Core::sync).spawn()
    }

    /// Counters and sizes of this database.
    #[napi]
    pub fn stats(&self, env: Env) -> Result<DbStats> {
        self.job(|db| db.stats().map(DbStats::from)).run(env)
    }
}
