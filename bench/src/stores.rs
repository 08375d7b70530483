//! One adapter per store behind the narrow [`Kv`] trait the workloads drive.
//!
//! Every adapter commits durably with the store's own documented setting:
//! DocDB `Sync::Full` (fdatasync, group commit), redb `Durability::Immediate`, LMDB its
//! default (sync on commit), sled `flush()` after each commit, fjall
//! `PersistMode::SyncData` on each batch, SQLite WAL + `synchronous=FULL`.
//! Reads use each store's cheapest documented way (peers: one read transaction for a whole
//! loop, zero-copy where offered; DocDB: plain `Database::read`, which copies).

use docdb_core::{BatchOp, IdRange};
use std::error::Error;
use std::path::Path;

pub type Res<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// A store under test. `Sync` so that workload (c) can commit from several threads.
pub trait Kv: Send + Sync {
    /// One transaction holding every item, committed durably.
    fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()>;
    /// Reads each id, borrowing the value where the store's API allows (every store's best
    /// case); returns the total bytes seen (so nothing is optimised away).
    fn read_many(&self, ids: &[u64]) -> Res<u64>;
    /// Reads each id into an owned copy (what DocDB's `Database::read` returns). Peers
    /// only borrow here too.
    fn read_many_owned(&self, ids: &[u64]) -> Res<u64> {
        self.read_many(ids)
    }
    /// Reads every document in id order; returns (documents, bytes).
    fn scan(&self) -> Res<(u64, u64)>;
    /// Reads up to `limit` documents in id order from `start` on (YCSB's scan): the store's
    /// ordered range, borrowing values as `scan` does; returns (documents, bytes).
    fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)>;
    /// Reads document `id`, lets `change` modify it and writes it back, in one durable
    /// transaction (YCSB's read-modify-write).
    fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()>;
    /// Rewrites the store's files if it has an explicit compaction (DocDB, redb, fjall,
    /// SQLite's `VACUUM`); `false` if not (LMDB, sled).
    fn compact(&self) -> Res<bool> {
        Ok(false)
    }
    /// Closes cleanly (DocDB: writes a checkpoint).
    fn close(self: Box<Self>) -> Res<()>;
}

/// Stores compiled into this binary, in report order.
pub fn available() -> Vec<&'static str> {
    let mut v = vec!["docdb"];
    if cfg!(feature = "redb") {
        v.push("redb");
    }
    if cfg!(feature = "lmdb") {
        v.push("lmdb");
    }
    if cfg!(feature = "sled") {
        v.push("sled");
    }
    if cfg!(feature = "fjall") {
        v.push("fjall");
    }
    if cfg!(feature = "sqlite") {
        v.push("sqlite");
    }
    v
}

/// Opens (or creates) store `name` in directory `dir`.
pub fn open(name: &str, dir: &Path) -> Res<Box<dyn Kv>> {
    std::fs::create_dir_all(dir)?;
    match name {
        "docdb" => Ok(Box::new(DocDb::open(dir)?)),
        #[cfg(feature = "redb")]
        "redb" => Ok(Box::new(redb_kv::Redb::open(dir)?)),
        #[cfg(feature = "lmdb")]
        "lmdb" => Ok(Box::new(lmdb_kv::Lmdb::open(dir)?)),
        #[cfg(feature = "sled")]
        "sled" => Ok(Box::new(sled_kv::Sled::open(dir)?)),
        #[cfg(feature = "fjall")]
        "fjall" => Ok(Box::new(fjall_kv::Fjall::open(dir)?)),
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Box::new(sqlite_kv::Sqlite::open(dir)?)),
        other => Err(format!("unknown or not compiled-in store {other:?}").into()),
    }
}

fn txn_path() -> bool {
    static TXN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TXN.get_or_init(|| std::env::var_os("DOCDB_BENCH_TXN").is_some_and(|v| v == "1"))
}

pub struct DocDb {
    store: docdb_core::Store,
    db: docdb_core::Database,
}

impl DocDb {
    pub fn open(dir: &Path) -> Res<DocDb> {
        let opts = docdb_core::Options {
            // Only so that large configured sizes (one transaction of 200k+ documents is
            // staged in memory) stay within budget; the accounting does not change speed.
            memory_limit: 16 << 30,
            db_memory_limit: 16 << 30,
            ..docdb_core::Options::default()
        };
        let store = docdb_core::Store::open(dir, opts)?;
        let db = store.open_or_create_db("bench")?;
        Ok(DocDb { store, db })
    }

    pub fn db(&self) -> &docdb_core::Database {
        &self.db
    }

    /// Leaves without `close` (no checkpoint): the next open takes the crash path.
    pub fn abandon(self) -> ! {
        std::process::exit(0);
    }
}

impl Kv for DocDb {
    fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
        if let [(id, data)] = items {
            self.db.put(*id, data)?;
            return Ok(());
        }
        // Blind writes: the atomic batch is DocDB's API for them (one commit, one fsync).
        // `DOCDB_BENCH_TXN=1` takes the `Transaction` path instead, which stages a copy of
        // every document first (docs/performance.md compares the two).
        if txn_path() {
            let mut tx = self.db.begin()?;
            for (id, data) in items {
                tx.put(*id, data)?;
            }
            tx.commit()?;
        } else {
            let ops: Vec<BatchOp<'_>> = items.iter().map(|(id, d)| BatchOp::Put(*id, d)).collect();
            self.db.batch(&ops)?;
        }
        Ok(())
    }

    /// Borrows from the record cache (`read_cached`), like the peers' read transactions
    /// borrow from their pages; a document not in the cache is read (and cached) by `read`.
    fn read_many(&self, ids: &[u64]) -> Res<u64> {
        let mut total = 0;
        for &id in ids {
            total += match self.db.read_cached(id, <[u8]>::len)? {
                Some(len) => len,
                None => self.db.read(id)?.len(),
            } as u64;
        }
        Ok(total)
    }

    fn read_many_owned(&self, ids: &[u64]) -> Res<u64> {
        let mut total = 0;
        for &id in ids {
            total += self.db.read(id)?.len() as u64;
        }
        Ok(total)
    }

    fn compact(&self) -> Res<bool> {
        self.db.compact()?;
        Ok(true)
    }

    /// Borrows each document's verified bytes (`Snapshot::for_each`), as the peers'
    /// iterators borrow from their pages.
    fn scan(&self) -> Res<(u64, u64)> {
        let snap = self.db.snapshot()?;
        let (mut n, mut bytes) = (0, 0);
        snap.for_each(|_, data| {
            n += 1;
            bytes += data.len() as u64;
            std::ops::ControlFlow::Continue(())
        })?;
        Ok((n, bytes))
    }

    /// An ordered range on a fresh snapshot, lending each verified document.
    fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
        let snap = self.db.snapshot()?;
        let (mut n, mut bytes) = (0, 0);
        snap.for_each_in(&IdRange::new(start..).limit(limit), |_, data| {
            n += 1;
            bytes += data.len() as u64;
            std::ops::ControlFlow::Continue(())
        })?;
        Ok((n, bytes))
    }

    fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
        let mut tx = self.db.begin()?;
        let mut doc = tx.read(id)?;
        change(&mut doc);
        tx.put(id, &doc)?;
        tx.commit()?;
        Ok(())
    }

    fn close(self: Box<Self>) -> Res<()> {
        drop(self.db);
        self.store.close()?;
        Ok(())
    }
}

#[cfg(feature = "redb")]
mod redb_kv {
    use super::{Kv, Res};
    use redb::{Durability, ReadableDatabase, ReadableTable, TableDefinition};
    use std::path::Path;
    use std::sync::{RwLock, RwLockReadGuard};

    const T: TableDefinition<u64, &[u8]> = TableDefinition::new("docs");

    /// Behind a lock only because `compact` needs `&mut` (an uncontended read lock per
    /// transaction otherwise).
    pub struct Redb(RwLock<redb::Database>);

    impl Redb {
        pub fn open(dir: &Path) -> Res<Redb> {
            let db = redb::Database::create(dir.join("redb.db"))?;
            // Creates the table so that readers find it.
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            tx.open_table(T)?;
            tx.commit()?;
            Ok(Redb(RwLock::new(db)))
        }

        /// Poison is ignored: a panicked benchmark thread aborts the whole run anyway.
        fn db(&self) -> RwLockReadGuard<'_, redb::Database> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl Kv for Redb {
        fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
            let mut tx = self.db().begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            {
                let mut t = tx.open_table(T)?;
                for (id, data) in items {
                    t.insert(*id, *data)?;
                }
            }
            tx.commit()?;
            Ok(())
        }

        fn read_many(&self, ids: &[u64]) -> Res<u64> {
            let tx = self.db().begin_read()?;
            let t = tx.open_table(T)?;
            let mut total = 0;
            for &id in ids {
                total += t.get(id)?.ok_or("missing")?.value().len() as u64;
            }
            Ok(total)
        }

        fn scan(&self) -> Res<(u64, u64)> {
            let tx = self.db().begin_read()?;
            let t = tx.open_table(T)?;
            let (mut n, mut bytes) = (0, 0);
            for kv in t.iter()? {
                let (_, v) = kv?;
                n += 1;
                bytes += v.value().len() as u64;
            }
            Ok((n, bytes))
        }

        fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
            let tx = self.db().begin_read()?;
            let t = tx.open_table(T)?;
            let (mut n, mut bytes) = (0, 0);
            for kv in t.range(start..)?.take(limit as usize) {
                let (_, v) = kv?;
                n += 1;
                bytes += v.value().len() as u64;
            }
            Ok((n, bytes))
        }

        /// `Database::compact` until it reports nothing left to do.
        fn compact(&self) -> Res<bool> {
            let mut db = self.0.write().unwrap_or_else(|e| e.into_inner());
            while db.compact()? {}
            Ok(true)
        }

        fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
            let mut tx = self.db().begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            {
                let mut t = tx.open_table(T)?;
                let mut doc = t.get(id)?.ok_or("missing")?.value().to_vec();
                change(&mut doc);
                t.insert(id, doc.as_slice())?;
            }
            tx.commit()?;
            Ok(())
        }

        fn close(self: Box<Self>) -> Res<()> {
            Ok(())
        }
    }
}

#[cfg(feature = "lmdb")]
mod lmdb_kv {
    use super::{Kv, Res};
    use heed::byteorder::BigEndian;
    use heed::types::{Bytes, U64};
    use std::path::Path;

    type Db = heed::Database<'static, U64<BigEndian>, Bytes>;

    pub struct Lmdb {
        env: heed::Env,
        db: Db,
    }

    impl Lmdb {
        pub fn open(dir: &Path) -> Res<Lmdb> {
            // SAFETY: the directory is ours and opened once per process (heed's contract:
            // no second Env on the same file in one process, no concurrent truncation).
            let env = unsafe {
                heed::EnvOpenOptions::new()
                    .map_size(64 << 30) // a reservation of address space, not of disk
                    .max_dbs(1)
                    .open(dir)?
            };
            let wtxn = env.write_txn()?;
            let db: Db = env
                .create_databases_and_commit(wtxn, |dbo, wtxn| {
                    dbo.create_database(wtxn, Some("docs"))
                        .map(heed::CommitOrAbort::<_, ()>::Commit)
                })?
                .unwrap_commit();
            Ok(Lmdb { env, db })
        }
    }

    impl Kv for Lmdb {
        fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
            let mut wtxn = self.env.write_txn()?;
            for (id, data) in items {
                self.db.put(&mut wtxn, id, data)?;
            }
            wtxn.commit()?;
            Ok(())
        }

        fn read_many(&self, ids: &[u64]) -> Res<u64> {
            let rtxn = self.env.read_txn()?;
            let mut total = 0;
            for id in ids {
                total += self.db.get(&rtxn, id)?.ok_or("missing")?.len() as u64;
            }
            Ok(total)
        }

        fn scan(&self) -> Res<(u64, u64)> {
            let rtxn = self.env.read_txn()?;
            let (mut n, mut bytes) = (0, 0);
            for kv in self.db.iter(&rtxn)? {
                let (_, v) = kv?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
            let rtxn = self.env.read_txn()?;
            let (mut n, mut bytes) = (0, 0);
            for kv in self.db.range(&rtxn, &(start..))?.take(limit as usize) {
                let (_, v) = kv?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
            let mut wtxn = self.env.write_txn()?;
            let mut doc = self.db.get(&wtxn, &id)?.ok_or("missing")?.to_vec();
            change(&mut doc);
            self.db.put(&mut wtxn, &id, &doc)?;
            wtxn.commit()?;
            Ok(())
        }

        fn close(self: Box<Self>) -> Res<()> {
            let Lmdb { env, db: _ } = *self;
            env.prepare_for_closing().wait();
            Ok(())
        }
    }
}

#[cfg(feature = "sled")]
mod sled_kv {
    use super::{Kv, Res};
    use std::path::Path;

    pub struct Sled(sled::Db);

    impl Sled {
        pub fn open(dir: &Path) -> Res<Sled> {
            Ok(Sled(sled::open(dir)?))
        }
    }

    impl Kv for Sled {
        fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
            if let [(id, data)] = items {
                self.0.insert(id.to_be_bytes(), *data)?;
            } else {
                let mut batch = sled::Batch::default();
                for (id, data) in items {
                    batch.insert(&id.to_be_bytes(), *data);
                }
                self.0.apply_batch(batch)?;
            }
            // sled's documented durability point.
            self.0.flush()?;
            Ok(())
        }

        fn read_many(&self, ids: &[u64]) -> Res<u64> {
            let mut total = 0;
            for id in ids {
                total += self.0.get(id.to_be_bytes())?.ok_or("missing")?.len() as u64;
            }
            Ok(total)
        }

        fn scan(&self) -> Res<(u64, u64)> {
            let (mut n, mut bytes) = (0, 0);
            for kv in self.0.iter() {
                let (_, v) = kv?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
            let (mut n, mut bytes) = (0, 0);
            for kv in self.0.range(start.to_be_bytes()..).take(limit as usize) {
                let (_, v) = kv?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        /// sled's transaction (it retries on conflict; one thread never conflicts), then
        /// its durability point.
        fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
            let key = id.to_be_bytes();
            let change = std::cell::RefCell::new(change);
            self.0
                .transaction(|t| {
                    let Some(old) = t.get(key)? else {
                        return sled::transaction::abort("missing");
                    };
                    let mut doc = old.to_vec();
                    (change.borrow_mut())(&mut doc);
                    t.insert(&key, doc)?;
                    Ok(())
                })
                .map_err(|e| format!("sled read-modify-write: {e:?}"))?;
            self.0.flush()?;
            Ok(())
        }

        fn close(self: Box<Self>) -> Res<()> {
            self.0.flush()?;
            Ok(())
        }
    }
}

#[cfg(feature = "fjall")]
mod fjall_kv {
    use super::{Kv, Res};
    use fjall::{KeyspaceCreateOptions, PersistMode};
    use std::path::Path;

    pub struct Fjall {
        db: fjall::Database,
        ks: fjall::Keyspace,
    }

    impl Fjall {
        pub fn open(dir: &Path) -> Res<Fjall> {
            let db = fjall::Database::builder(dir).open()?;
            let ks = db.keyspace("docs", KeyspaceCreateOptions::default)?;
            Ok(Fjall { db, ks })
        }
    }

    impl Kv for Fjall {
        fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
            let mut batch = self.db.batch().durability(Some(PersistMode::SyncData));
            for (id, data) in items {
                batch.insert(&self.ks, id.to_be_bytes(), *data);
            }
            batch.commit()?;
            Ok(())
        }

        fn read_many(&self, ids: &[u64]) -> Res<u64> {
            let mut total = 0;
            for id in ids {
                total += self.ks.get(id.to_be_bytes())?.ok_or("missing")?.len() as u64;
            }
            Ok(total)
        }

        fn scan(&self) -> Res<(u64, u64)> {
            let (mut n, mut bytes) = (0, 0);
            for guard in self.ks.iter() {
                let (_, v) = guard.into_inner()?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
            let (mut n, mut bytes) = (0, 0);
            for guard in self.ks.range(start.to_be_bytes()..).take(limit as usize) {
                let (_, v) = guard.into_inner()?;
                n += 1;
                bytes += v.len() as u64;
            }
            Ok((n, bytes))
        }

        /// A blocking major compaction (`Keyspace::major_compact`, hidden from fjall's docs
        /// but public): every table rewritten in key order.
        fn compact(&self) -> Res<bool> {
            self.ks.major_compact()?;
            Ok(true)
        }

        /// A read, then a durable one-item batch: the plain keyspace has no read-write
        /// transaction (fjall's transactional database is another type), and with one
        /// thread nothing can come in between.
        fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
            let key = id.to_be_bytes();
            let mut doc = self.ks.get(key)?.ok_or("missing")?.to_vec();
            change(&mut doc);
            self.write_txn(&[(id, &doc)])
        }

        fn close(self: Box<Self>) -> Res<()> {
            self.db.persist(PersistMode::SyncAll)?;
            Ok(())
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite_kv {
    use super::{Kv, Res};
    use rusqlite::Connection;
    use std::path::Path;
    use std::sync::{Mutex, MutexGuard};

    /// One connection behind a mutex: SQLite admits one writer at a time anyway, and a
    /// connection per thread would only add `SQLITE_BUSY` retries.
    pub struct Sqlite(Mutex<Connection>);

    impl Sqlite {
        pub fn open(dir: &Path) -> Res<Sqlite> {
            let conn = Connection::open(dir.join("sqlite.db"))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
            )?;
            Ok(Sqlite(Mutex::new(conn)))
        }

        /// Poison is ignored: a panicked benchmark thread aborts the whole run anyway.
        fn conn(&self) -> MutexGuard<'_, Connection> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl Kv for Sqlite {
        fn write_txn(&self, items: &[(u64, &[u8])]) -> Res<()> {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            {
                let mut st =
                    tx.prepare_cached("INSERT OR REPLACE INTO docs (id, data) VALUES (?1, ?2)")?;
                for (id, data) in items {
                    // SQLite integers are i64: the bit pattern round-trips.
                    st.execute(rusqlite::params![*id as i64, data])?;
                }
            }
            tx.commit()?;
            Ok(())
        }

        fn read_many(&self, ids: &[u64]) -> Res<u64> {
            let conn = self.conn();
            let tx = conn.unchecked_transaction()?;
            let mut total = 0;
            {
                let mut st = tx.prepare_cached("SELECT data FROM docs WHERE id = ?1")?;
                for &id in ids {
                    total += st.query_row([id as i64], |r| {
                        Ok(r.get_ref(0)?.as_blob().map(|b| b.len()).unwrap_or(0))
                    })? as u64;
                }
            }
            tx.commit()?;
            Ok(total)
        }

        fn scan(&self) -> Res<(u64, u64)> {
            let conn = self.conn();
            let mut st = conn.prepare("SELECT id, data FROM docs ORDER BY id")?;
            let mut rows = st.query([])?;
            let (mut n, mut bytes) = (0, 0);
            while let Some(row) = rows.next()? {
                n += 1;
                bytes += row.get_ref(1)?.as_blob()?.len() as u64;
            }
            Ok((n, bytes))
        }

        fn scan_from(&self, start: u64, limit: u64) -> Res<(u64, u64)> {
            let conn = self.conn();
            let mut st = conn
                .prepare_cached("SELECT id, data FROM docs WHERE id >= ?1 ORDER BY id LIMIT ?2")?;
            let mut rows = st.query([start as i64, limit as i64])?;
            let (mut n, mut bytes) = (0, 0);
            while let Some(row) = rows.next()? {
                n += 1;
                bytes += row.get_ref(1)?.as_blob()?.len() as u64;
            }
            Ok((n, bytes))
        }

        /// `VACUUM`: the database file rebuilt, table in rowid order.
        fn compact(&self) -> Res<bool> {
            self.conn().execute_batch("VACUUM")?;
            Ok(true)
        }

        fn read_modify_write(&self, id: u64, change: &mut dyn FnMut(&mut Vec<u8>)) -> Res<()> {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            {
                let mut get = tx.prepare_cached("SELECT data FROM docs WHERE id = ?1")?;
                let mut doc: Vec<u8> = get.query_row([id as i64], |r| r.get(0))?;
                change(&mut doc);
                let mut put = tx.prepare_cached("UPDATE docs SET data = ?2 WHERE id = ?1")?;
                put.execute(rusqlite::params![id as i64, doc])?;
            }
            tx.commit()?;
            Ok(())
        }

        fn close(self: Box<Self>) -> Res<()> {
            let conn = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
            conn.close().map_err(|(_, e)| e)?;
            Ok(())
        }
    }
}
