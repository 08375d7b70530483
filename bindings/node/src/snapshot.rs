//! `Snapshot`: a consistent read-only view, and its document iterator.

use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::{AsyncTask, BigInt, Buffer, ToNapiValue, TypeName, Unknown};
use napi::{sys, Env, Result, ValueType};
use napi_derive::napi;

use crate::args;
use crate::error::closed;
use crate::task::{inline, Job};

type Core = docdb::Snapshot;

fn closed_snapshot() -> docdb::Error {
    closed("snapshot")
}

/// A read-only view of a database at one commit. It never blocks writers but keeps the
/// versions it can see alive, so `close()` it when done (or let it be garbage-collected).
/// Iterate it with `for (const [id, data] of snapshot)` (ascending id).
#[napi]
pub struct Snapshot {
    inner: Option<Arc<Core>>,
}

impl Snapshot {
    pub fn new(inner: Core) -> Self {
        Snapshot {
            inner: Some(Arc::new(inner)),
        }
    }

    fn get(&self) -> docdb::Result<Arc<Core>> {
        self.inner.clone().ok_or_else(closed_snapshot)
    }

    fn read_job(&self, env: &Env, id: Unknown) -> Result<Job<Buffer>> {
        let id = args::doc_id(env, &id, "id")?;
        let snap = self.inner.clone();
        Ok(Job::new(move || {
            snap.ok_or_else(closed_snapshot)?.read(id).map(Buffer::from)
        }))
    }
}

#[napi]
impl Snapshot {
    /// The commit version this snapshot reads at.
    #[napi(getter)]
    pub fn version(&self, env: Env) -> Result<f64> {
        inline(&env, || self.get().map(|s| s.version() as f64))
    }

    /// Whether `close()` was called (the snapshot's store closing does not set it).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// Reads a document as of the snapshot. Throws `NOT_FOUND` if it did not exist then.
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

    /// Whether a document existed as of the snapshot.
    #[napi]
    pub fn contains(&self, env: Env, #[napi(ts_arg_type = "DocId")] id: Unknown) -> Result<bool> {
        let id = args::doc_id(&env, &id, "id")?;
        inline(&env, || self.get()?.contains(id))
    }

    /// Number of documents in the snapshot.
    #[napi]
    pub fn len(&self, env: Env) -> Result<f64> {
        inline(&env, || self.get()?.len().map(|n| n as f64))
    }

    /// Number of documents of a range (at most `limit`; every document without options);
    /// no document is read.
    #[napi]
    pub fn count(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<f64> {
        let range = args::id_range(&env, options.as_ref())?;
        inline(&env, || self.get()?.count(&range).map(|n| n as f64))
    }

    /// Ids of every document in the snapshot, ascending (no document is read).
    #[napi]
    pub fn ids(&self, env: Env) -> Result<Vec<BigInt>> {
        inline(&env, || {
            Ok(self.get()?.ids()?.into_iter().map(BigInt::from).collect())
        })
    }

    /// Releases the snapshot; afterwards its methods throw `CLOSED`. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }

    /// A cursor over `[id, data]` of a range (every document, ascending, without options);
    /// used by `range()` and `[Symbol.iterator]`.
    #[napi]
    pub fn scan(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RangeOptions")] options: Option<Unknown>,
    ) -> Result<SnapshotScan> {
        let range = args::id_range(&env, options.as_ref())?;
        inline(&env, || {
            Core::clone(&*self.get()?)
                .into_range(&range)
                .map(SnapshotScan::new)
        })
    }
}

/// The engine's scan (over a clone of a snapshot, or the snapshot of `Database.scan`);
/// `None` once over. Shared with the `nextAsync` job in flight.
type Docs = Arc<Mutex<Option<docdb::OwnedScan>>>;

/// Cursor of `Snapshot.scan()` and `Database.scan()`: `next()` returns `[id, data]`, or
/// `null` at the end; `nextAsync()` the same, read on the libuv pool. Each document is read
/// (and its checksum verified) when reached; an error ends the cursor.
#[napi]
pub struct SnapshotScan {
    docs: Docs,
}

impl SnapshotScan {
    pub fn new(docs: docdb::OwnedScan) -> Self {
        SnapshotScan {
            docs: Arc::new(Mutex::new(Some(docs))),
        }
    }

    fn next_job(&self) -> Job<Entry> {
        let docs = Arc::clone(&self.docs);
        Job::new(move || {
            let mut docs = docs.lock().unwrap_or_else(PoisonError::into_inner);
            let next = docs.as_mut().and_then(Iterator::next).transpose();
            if !matches!(next, Ok(Some(_))) {
                *docs = None;
            }
            next.map(|doc| Entry(doc.map(|(id, data)| (BigInt::from(id), Buffer::from(data)))))
        })
    }
}

#[napi]
impl SnapshotScan {
    #[napi(ts_return_type = "[bigint, Buffer] | null")]
    pub fn next(&self, env: Env) -> Result<Entry> {
        self.next_job().run(env)
    }

    #[napi(ts_return_type = "Promise<[bigint, Buffer] | null>")]
    pub fn next_async(&self) -> AsyncTask<Job<Entry>> {
        self.next_job().spawn()
    }

    /// Ends the cursor early and releases its hold on the snapshot.
    #[napi]
    pub fn close(&self) {
        *self.docs.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// One step of a cursor: `[id, data]`, or `null` at the end.
pub struct Entry(pub Option<(BigInt, Buffer)>);

impl TypeName for Entry {
    fn type_name() -> &'static str {
        "Entry"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Entry {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: the caller's contract (a live env of this thread) is passed on unchanged.
        unsafe { Option::<(BigInt, Buffer)>::to_napi_value(env, val.0) }
    }
}
