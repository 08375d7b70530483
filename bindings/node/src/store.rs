//! `Store`: an open data directory.

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::args;
use crate::database::Database;
use crate::stats::{DbInfo, StoreStats};
use crate::task::Job;

/// An open data directory holding named databases, in this process (`open()`) or behind a
/// server (`connect()`): the same methods work on both.
///
/// Opening a directory that this process already has open (in any worker thread) returns
/// a new handle on the same open store (`INVALID_ARGUMENT` if the options differ).
/// `close()` releases this handle, which throws `CLOSED` afterwards; closing the last
/// handle checkpoints every database and releases the directory lock, and afterwards every
/// call on its databases, transactions and snapshots throws `CLOSED`. Another process gets
/// `LOCKED`.
#[napi]
pub struct Store {
    inner: docdb::Store,
}

impl Store {
    pub fn new(inner: docdb::Store) -> Self {
        Store { inner }
    }

    fn db_job(
        &self,
        env: &Env,
        name: Unknown,
        f: fn(&docdb::Store, &str) -> docdb::Result<docdb::Database>,
    ) -> Result<Job<Database>> {
        let name = args::name(env, &name)?;
        let store = self.inner.clone();
        Ok(Job::new(move || f(&store, &name).map(Database::new)))
    }

    fn drop_job(&self, env: &Env, name: Unknown) -> Result<Job<()>> {
        let name = args::name(env, &name)?;
        let store = self.inner.clone();
        Ok(Job::new(move || store.drop_db(&name)))
    }

    fn backup_job(&self, env: &Env, path: Unknown) -> Result<Job<()>> {
        let dest = args::path(env, &path)?;
        Ok(self.job(move |s| s.backup(&dest, |_, _| {})))
    }

    fn job<T, F>(&self, f: F) -> Job<T>
    where
        T: napi::bindgen_prelude::ToNapiValue + napi::bindgen_prelude::TypeName + Send + 'static,
        F: FnOnce(&docdb::Store) -> docdb::Result<T> + Send + 'static,
    {
        let store = self.inner.clone();
        Job::new(move || f(&store))
    }
}

#[napi]
impl Store {
    /// Creates a database. Throws `ALREADY_EXISTS` if the name is taken, `INVALID_NAME` if
    /// it is not 1 to 64 characters of `[A-Za-z0-9_.-]` (not starting with `.`).
    #[napi]
    pub fn create_db(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<Database> {
        self.db_job(&env, name, docdb::Store::create_db)?.run(env)
    }

    #[napi(ts_return_type = "Promise<Database>")]
    pub fn create_db_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<AsyncTask<Job<Database>>> {
        Ok(self.db_job(&env, name, docdb::Store::create_db)?.spawn())
    }

    /// Opens an existing database (loading it on first use). Throws `NOT_FOUND`.
    #[napi]
    pub fn open_db(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<Database> {
        self.db_job(&env, name, docdb::Store::open_db)?.run(env)
    }

    #[napi(ts_return_type = "Promise<Database>")]
    pub fn open_db_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<AsyncTask<Job<Database>>> {
        Ok(self.db_job(&env, name, docdb::Store::open_db)?.spawn())
    }

    /// Opens a database, creating it first if it does not exist.
    #[napi]
    pub fn open_or_create_db(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<Database> {
        self.db_job(&env, name, docdb::Store::open_or_create_db)?
            .run(env)
    }

    #[napi(ts_return_type = "Promise<Database>")]
    pub fn open_or_create_db_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<AsyncTask<Job<Database>>> {
        Ok(self
            .db_job(&env, name, docdb::Store::open_or_create_db)?
            .spawn())
    }

    /// Drops a database and deletes its files; its open handles throw `CLOSED` from then
    /// on. Throws `NOT_FOUND` if it does not exist.
    #[napi]
    pub fn drop_db(&self, env: Env, #[napi(ts_arg_type = "string")] name: Unknown) -> Result<()> {
        self.drop_job(&env, name)?.run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn drop_db_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self.drop_job(&env, name)?.spawn())
    }

    /// The databases of the store (not dropped), by id.
    #[napi]
    pub fn list_dbs(&self, env: Env) -> Result<Vec<DbInfo>> {
        self.job(|s| {
            Ok(s.list_dbs()?
                .into_iter()
                .map(|d| DbInfo {
                    id: d.id as f64,
                    name: d.name,
                })
                .collect::<Vec<_>>())
        })
        .run(env)
    }

    /// Statistics of the store and of each database loaded by this process.
    #[napi]
    pub fn stats(&self, env: Env) -> Result<StoreStats> {
        self.job(|s| s.stats().map(StoreStats::from)).run(env)
    }

    /// Writes a checkpoint of every open database (bounds the next open's replay).
    #[napi]
    pub fn checkpoint(&self, env: Env) -> Result<()> {
        self.job(docdb::Store::checkpoint).run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn checkpoint_async(&self) -> AsyncTask<Job<()>> {
        self.job(docdb::Store::checkpoint).spawn()
    }

    /// fsyncs every open database's log (useful with `sync: 'normal'`).
    #[napi]
    pub fn sync(&self, env: Env) -> Result<()> {
        self.job(docdb::Store::sync).run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync_async(&self) -> AsyncTask<Job<()>> {
        self.job(docdb::Store::sync).spawn()
    }

    /// Writes a consistent copy of the store into `path` (absent, or an empty directory
    /// outside the store) while reads and writes go on: for every database exactly the
    /// commits made before one instant, fsynced and verified by opening it before this
    /// returns. Throws `ALREADY_EXISTS` if `path` is not empty; on failure nothing of the
    /// copy is left. Blocks the event loop: prefer `backupAsync`.
    #[napi]
    pub fn backup(&self, env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> Result<()> {
        self.backup_job(&env, path)?.run(env)
    }

    /// `backup` on the libuv pool.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn backup_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(self.backup_job(&env, path)?.spawn())
    }

    /// Checkpoints and syncs every database and releases the directory lock. Calling it
    /// again does nothing.
    #[napi]
    pub fn close(&self, env: Env) -> Result<()> {
        self.job(docdb::Store::close).run(env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn close_async(&self) -> AsyncTask<Job<()>> {
        self.job(docdb::Store::close).spawn()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The data directory, as given to `open()`; `null` for a store connected to a server.
    #[napi(getter)]
    pub fn path(&self) -> Option<String> {
        self.inner.path().map(|p| p.to_string_lossy().into_owned())
    }

    /// The server's URL, as given to `connect()`; `null` for a store opened in this process.
    #[napi(getter)]
    pub fn url(&self) -> Option<String> {
        self.inner.url().map(str::to_string)
    }
}
