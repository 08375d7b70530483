//! `Transaction`: staged writes committed atomically (snapshot isolation).

use docdb::TxnPages;
use napi::bindgen_prelude::{AsyncTask, BigInt, Buffer, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::args::{self, Call};
use crate::error::closed;
use crate::task::{inline, Job};

type Core = docdb::Transaction;

/// A transaction from `Database.begin()`. It reads the snapshot taken at `begin` plus its
/// own writes. `commit()` applies every staged write atomically or throws `CONFLICT` (and
/// applies nothing) if another commit changed one of the written documents meanwhile.
/// After `commit()` or `rollback()` every call throws `CLOSED`; a transaction that is
/// garbage-collected unfinished is rolled back.
#[napi]
pub struct Transaction {
    inner: Option<Core>,
}

impl Transaction {
    pub fn new(inner: Core) -> Self {
        Transaction { inner: Some(inner) }
    }

    fn with<T>(&mut self, env: &Env, f: impl FnOnce(&mut Core) -> docdb::Result<T>) -> Result<T> {
        inline(env, || match self.inner.as_mut() {
            Some(txn) => f(txn),
            None => Err(closed("transaction (already committed or rolled back)")),
        })
    }

    fn write(
        &mut self,
        env: &Env,
        id: Unknown,
        data: Unknown,
        f: fn(&mut Core, u64, &[u8]) -> docdb::Result<()>,
    ) -> Result<()> {
        let id = args::doc_id(env, &id, "id")?;
        let data = args::data(env, &data, "data", Call::Sync)?;
        self.with(env, |txn| f(txn, id, &data))
    }

    fn commit_job(&mut self) -> Job<f64> {
        let txn = self.inner.take();
        Job::new(move || match txn {
            Some(txn) => txn.commit().map(|v| v as f64),
            None => Err(closed("transaction (already committed or rolled back)")),
        })
    }
}

#[napi]
impl Transaction {
    /// Whether the transaction can still be used (not committed or rolled back).
    #[napi(getter)]
    pub fn active(&self) -> bool {
        self.inner.is_some()
    }

    /// Number of staged writes. Throws `CLOSED` once the transaction is finished.
    #[napi(getter)]
    pub fn pending(&mut self, env: Env) -> Result<u32> {
        self.with(
            &env,
            |t| Ok(u32::try_from(t.pending()?).unwrap_or(u32::MAX)),
        )
    }

    /// The commit version this transaction reads at. Throws `CLOSED` once it is finished.
    #[napi(getter)]
    pub fn read_version(&mut self, env: Env) -> Result<f64> {
        self.with(&env, |t| Ok(t.read_version() as f64))
    }

    /// Reads a document as this transaction sees it. Throws `NOT_FOUND` if absent.
    #[napi]
    pub fn read(&mut self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<Buffer> {
        let id = args::doc_id(&env, &id, "id")?;
        self.with(&env, |txn| txn.read(id).map(Buffer::from))
    }

    /// Whether a document exists as this transaction sees it.
    #[napi]
    pub fn contains(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
    ) -> Result<bool> {
        let id = args::doc_id(&env, &id, "id")?;
        self.with(&env, |txn| txn.contains(id))
    }

    /// Number of documents of a range as this transaction sees it, its own writes and
    /// deletes included (at most `limit`; every document without options); no document is
    /// read.
    #[napi]
    pub fn count(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<f64> {
        let range = args::id_range(&env, options.as_ref())?;
        self.with(&env, |txn| txn.count(&range).map(|n| n as f64))
    }

    /// Stages a new document. Throws `ALREADY_EXISTS` if it exists as seen here.
    #[napi]
    pub fn create(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write(&env, id, data, Core::create)
    }

    /// Stages a replacement. Throws `NOT_FOUND` if the document does not exist as seen here.
    #[napi]
    pub fn update(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write(&env, id, data, Core::update)
    }

    /// Stages an insert-or-replace.
    #[napi]
    pub fn put(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "DocId")] id: Unknown,
        #[napi(ts_arg_type = "Uint8Array")] data: Unknown,
    ) -> Result<()> {
        self.write(&env, id, data, Core::put)
    }

    /// Stages a deletion. Throws `NOT_FOUND` if the document does not exist as seen here.
    #[napi]
    pub fn delete(&mut self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<()> {
        let id = args::doc_id(&env, &id, "id")?;
        self.with(&env, |txn| txn.delete(id))
    }

    /// A cursor over `[id, data]` of a range as this transaction sees it (its own writes
    /// included); used by `range()`. Throws `CLOSED` once the transaction is finished or
    /// its store closed.
    #[napi]
    pub fn scan(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<TransactionScan> {
        let range = args::id_range(&env, options.as_ref())?;
        let mut pages = TxnPages::new(range);
        // The first page is read now, so that a finished transaction or a closed store is
        // reported by `range()` itself, as by a database's or a snapshot's range.
        self.with(&env, |txn| pages.fill(txn))?;
        Ok(TransactionScan { pages })
    }

    /// The next step of `scan`: `[id, data]`, or `null` at the end.
    #[napi(ts_return_type = "[bigint, Buffer] | null")]
    pub fn scan_next(
        &mut self,
        env: Env,
        scan: &mut TransactionScan,
    ) -> Result<Option<(BigInt, Buffer)>> {
        if scan.pages.is_done() {
            return Ok(None);
        }
        let next = self.with(&env, |txn| scan.pages.next(txn));
        if next.is_err() {
            // Reported once (a finished transaction too); the cursor is over.
            scan.close();
        }
        Ok(next?.map(|(id, data)| (BigInt::from(id), Buffer::from(data))))
    }

    /// Commits every staged write atomically; returns the commit version.
    #[napi]
    pub fn commit(&mut self, env: Env) -> Result<f64> {
        self.commit_job().run(env)
    }

    /// `commit()` on the libuv pool (the durable fsync does not block the event loop).
    #[napi(ts_return_type = "Promise<number>")]
    pub fn commit_async(&mut self) -> AsyncTask<Job<f64>> {
        self.commit_job().spawn()
    }

    /// Discards every staged write. Throws `CLOSED` if already finished.
    #[napi]
    pub fn rollback(&mut self, env: Env) -> Result<()> {
        let txn = self.inner.take();
        inline(&env, || match txn {
            Some(txn) => {
                txn.rollback();
                Ok(())
            }
            None => Err(closed("transaction (already committed or rolled back)")),
        })
    }
}

/// Cursor of `Transaction.scan()`, stepped by `Transaction.scanNext`. The engine's scan of
/// a transaction borrows it, so this cursor reads the range in pages of at most 64
/// documents (about 1 MiB, `docdb::TxnPages`), each continuing after the last id read:
/// writes the transaction makes while iterating are seen only by the pages read after them.
#[napi]
pub struct TransactionScan {
    pages: TxnPages,
}

#[napi]
impl TransactionScan {
    /// Ends the cursor early.
    #[napi]
    pub fn close(&mut self) {
        self.pages.close();
    }
}
