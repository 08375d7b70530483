//! `Snapshot`: a consistent read-only view, and its document iterator.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, BigInt, Buffer, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::args;
use crate::error::closed;
use crate::task::{inline, Job};

type Core = docdb_core::Snapshot;

fn closed_snapshot() -> docdb_core::Error {
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

    fn get(&self) -> docdb_core::Result<Arc<Core>> {
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

    /// A cursor over `[id, data]` in ascending id order (used by `[Symbol.iterator]`).
    #[napi]
    pub fn scan(&self, env: Env) -> Result<SnapshotScan> {
        inline(&env, || {
            let docs = Core::clone(&*self.get()?).into_scan()?;
            Ok(SnapshotScan { docs: Some(docs) })
        })
    }
}

/// Cursor of `Snapshot.scan()`: `next()` returns `[id, data]`, or `null` at the end.
/// Each document is read (and its checksum verified) when reached.
#[napi]
pub struct SnapshotScan {
    /// The engine's scan over a clone of the snapshot (same version); `None` once over.
    docs: Option<docdb_core::OwnedScan>,
}

#[napi]
impl SnapshotScan {
    #[napi(ts_return_type = "[bigint, Buffer] | null")]
    pub fn next(&mut self, env: Env) -> Result<Option<(BigInt, Buffer)>> {
        let Some(docs) = self.docs.as_mut() else {
            return Ok(None);
        };
        match inline(&env, || docs.next().transpose()) {
            Ok(Some((id, data))) => Ok(Some((BigInt::from(id), Buffer::from(data)))),
            Ok(None) => {
                self.close();
                Ok(None)
            }
            Err(e) => {
                self.close();
                Err(e)
            }
        }
    }

    /// Ends the cursor early and releases its hold on the snapshot.
    #[napi]
    pub fn close(&mut self) {
        self.docs = None;
    }
}
