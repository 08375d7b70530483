//! The deterministic mixed workload the error-injection and power-loss sweeps run over the
//! fault-injecting file system, with the model of what each call acknowledged.

use std::collections::BTreeMap;
use std::path::Path;

use docdb_core::{BatchOp, Database, ErrorKind, Options, Store, Sync};

use super::faultfs::{FaultFs, OpKind, Survive};
use super::model::{payload, payload_sized, DbModel, Docs, Exists, Write};

pub const DIR: &str = "/data/store";

pub fn opts(sync: Sync) -> Options {
    Options {
        sync,
        // Small segments: the workload rotates, seals and compacts several of them.
        segment_size: 4096,
        // No background threads: the sequence of I/O operations must be deterministic.
        auto_compact: false,
        checkpoint_bytes: 1 << 40,
        index_shards: 4,
        ..Options::default()
    }
}

/// One document operation of the workload.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Create(u64),
    Update(u64),
    Put(u64),
    Delete(u64),
}

impl Op {
    fn id(self) -> u64 {
        match self {
            Op::Create(i) | Op::Update(i) | Op::Put(i) | Op::Delete(i) => i,
        }
    }
}

/// How the workload submits a commit.
#[derive(Clone, Copy, Debug)]
enum Via {
    Single,
    Batch,
    Txn,
}

/// A fault that hit a workload step.
#[derive(Clone, Debug)]
pub struct Hit {
    pub step: String,
    pub kind: OpKind,
    pub path: String,
    pub surfaced: bool,
}

pub struct Run {
    pub fs: FaultFs,
    pub sync: Sync,
    /// Baseline run without faults: every outcome must be exactly the expected one.
    pub strict: bool,
    store: Option<Store<FaultFs>>,
    dbs: BTreeMap<String, Database<FaultFs>>,
    pub model: BTreeMap<String, DbModel>,
    commit_no: u64,
    pub violations: Vec<String>,
    pub hit: Option<Hit>,
    /// Handles checked to be poisoned after an fsync failure.
    pub poison_checks: u64,
    stop_on_crash: bool,
    /// Power loss just before the final close (whose checkpoint would fsync everything),
    /// with the model as it was then.
    pub before_close: Option<(FaultFs, BTreeMap<String, DbModel>)>,
    /// When set, commits write payloads of exactly this many bytes.
    pub payload_len: Option<usize>,
}

fn db_id_in(path: &str) -> Option<u64> {
    let at = path.find("/db-")?;
    let rest = &path[at + 4..];
    let end = rest.find('/').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

impl Run {
    pub fn new(fs: FaultFs, sync: Sync, strict: bool) -> Run {
        Run {
            fs,
            sync,
            strict,
            store: None,
            dbs: BTreeMap::new(),
            model: BTreeMap::new(),
            commit_no: 0,
            violations: Vec::new(),
            hit: None,
            poison_checks: 0,
            stop_on_crash: true,
            before_close: None,
            payload_len: None,
        }
    }

    /// The next process on the tree `fs` (after a kill, a power loss or a clean exit): the
    /// model and the commit numbering carry over, the handles do not.
    pub fn next_process(&mut self, fs: FaultFs, sync: Sync) {
        self.drop_handles();
        self.fs = fs;
        self.sync = sync;
        self.hit = None;
        self.stop_on_crash = true;
    }

    /// Drops every handle without closing (a process that exits, or was killed).
    pub fn drop_handles(&mut self) {
        self.dbs.clear();
        self.store = None;
    }

    pub fn is_open(&self) -> bool {
        self.store.is_some()
    }

    /// Reads every database the just opened store holds and checks it against the model
    /// (`all_durable`: no power loss since the last observation), then rewrites the model's
    /// history to what was observed. Returns the acknowledged commits verified.
    pub fn observe(&mut self, all_durable: bool) -> Result<u64, String> {
        let store = self.store.clone().ok_or("the store is not open")?;
        let listed = store.list_dbs().map_err(|e| format!("list_dbs: {e}"))?;
        let mut verified = 0;
        for (name, m) in self.model.iter_mut() {
            let present = listed.iter().any(|d| &d.name == name);
            match (m.exists, present) {
                (Exists::Yes, false) => {
                    return Err(format!("lost commits: database {name} is missing"))
                }
                (Exists::No, true) => return Err(format!("database {name} should not exist")),
                (_, false) => {
                    m.exists = Exists::No;
                    continue;
                }
                (_, true) => m.exists = Exists::Yes,
            }
            let db = self
                .dbs
                .get(name)
                .ok_or_else(|| format!("failed to open: database {name} was not opened"))?;
            let docs = read_all(db, m).map_err(|e| format!("failed to open: {name}: {e}"))?;
            verified += m.required(all_durable) as u64;
            m.rebase(&docs, all_durable)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(verified)
    }

    fn stopped(&self) -> bool {
        self.stop_on_crash && self.fs.crashed()
    }

    fn violation(&mut self, step: &str, what: String) {
        self.violations.push(format!("{step}: {what}"));
    }

    /// Checks an error that is not an expected outcome: in a fault run it must be of a kind
    /// an I/O failure may cause.
    fn unexpected(&mut self, step: &str, e: &docdb_core::Error) {
        let ok = !self.strict
            && matches!(
                e.kind(),
                ErrorKind::Io | ErrorKind::Poisoned | ErrorKind::Closed
            );
        if !ok {
            self.violation(step, format!("unexpected error {e}"));
        }
    }

    /// Runs one step, noting whether the armed fault fired inside it and whether the step
    /// reported an error then.
    fn step<T>(&mut self, name: &str, f: impl FnOnce(&mut Run) -> Option<Result<T, ()>>) {
        if self.stopped() {
            return;
        }
        let before = self.fs.fired().is_some();
        let out = f(self);
        if before {
            return;
        }
        let Some(fired) = self.fs.fired() else {
            return;
        };
        let surfaced = matches!(out, Some(Err(())));
        let path = fired.path.display().to_string();
        self.hit = Some(Hit {
            step: name.to_string(),
            kind: fired.kind,
            path: path.clone(),
            surfaced,
        });
        // (A failed open leaves no handle; the handle a retry opens is a new one.)
        // A failed fsync of a temporary file (a checkpoint or compaction output being
        // written) costs only that file, which is discarded: no poisoning needed.
        let discarded = path.ends_with(".tmp");
        if surfaced
            && fired.kind.is_sync()
            && !discarded
            && !self.fs.crashed()
            && !name.starts_with("open")
        {
            self.check_poisoned(name, &path);
        }
    }

    /// After an fsync failure in a database's files, its handle must refuse writes.
    fn check_poisoned(&mut self, step: &str, path: &str) {
        let Some(id) = db_id_in(path) else {
            return;
        };
        let Some(db) = self.dbs.values().find(|d| d.id() == id).cloned() else {
            return;
        };
        match db.stats() {
            Ok(s) if !s.poisoned => self.violation(
                step,
                format!("fsync of {path} failed but the handle is not poisoned"),
            ),
            Ok(_) => match db.put(1, b"after poison") {
                Err(e) if e.kind() == ErrorKind::Poisoned => self.poison_checks += 1,
                other => self.violation(
                    step,
                    format!("write to a poisoned handle returned {other:?}"),
                ),
            },
            Err(_) => {}
        }
    }

    fn mark_durable_all(&mut self) {
        for (name, m) in self.model.iter_mut() {
            if self.dbs.get(name).is_some_and(|d| d.stats().is_ok()) {
                m.barrier();
            }
        }
    }

    pub fn open_store(&mut self) {
        self.step("open store", |r| {
            let mut res = Store::open_with(r.fs.clone(), DIR, opts(r.sync));
            if let Err(e) = &res {
                r.unexpected("open store", e);
                // One fault at a time: a retry must work.
                res = Store::open_with(r.fs.clone(), DIR, opts(r.sync));
            }
            let failed_once = r.fs.fired().is_some();
            match res {
                Ok(s) => {
                    r.store = Some(s);
                    Some(if failed_once { Err(()) } else { Ok(()) })
                }
                Err(e) => {
                    r.unexpected("open store (retry)", &e);
                    Some(Err(()))
                }
            }
        });
        let names: Vec<String> = self
            .model
            .iter()
            .filter(|(_, m)| m.exists != Exists::No)
            .map(|(n, _)| n.clone())
            .collect();
        for name in names {
            self.step(&format!("open_db {name}"), |r| {
                let store = r.store.clone()?;
                let mut res = store.open_db(&name);
                let mut failed = false;
                if let Err(e) = &res {
                    if e.kind() != ErrorKind::NotFound {
                        r.unexpected("open_db", e);
                        failed = true;
                        res = store.open_db(&name);
                    }
                }
                match res {
                    Ok(db) => {
                        r.dbs.insert(name.clone(), db);
                        Some(if failed { Err(()) } else { Ok(()) })
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        if r.model[&name].exists == Exists::Yes {
                            r.violation("open_db", format!("database {name} vanished"));
                        }
                        Some(Ok(()))
                    }
                    Err(e) => {
                        r.unexpected("open_db (retry)", &e);
                        Some(Err(()))
                    }
                }
            });
        }
    }

    pub fn close_store(&mut self) {
        self.step("close", |r| {
            let store = r.store.take()?;
            // Handles still open (not dropped, even by a drop that reported a failure).
            let open: Vec<String> = std::mem::take(&mut r.dbs)
                .into_iter()
                .filter(|(_, d)| d.stats().is_ok())
                .map(|(n, _)| n)
                .collect();
            let res = store.close();
            match res {
                Ok(()) => {
                    // close checkpoints (fsyncs) every open database.
                    for name in open {
                        r.model.get_mut(&name).expect("known").barrier();
                    }
                    Some(Ok(()))
                }
                Err(e) => {
                    r.unexpected("close", &e);
                    Some(Err(()))
                }
            }
        });
        // A failed step may have left the store unclosed: drop it (releases the lock).
        self.store = None;
        self.dbs.clear();
    }

    pub fn create_db(&mut self, name: &str) {
        self.step(&format!("create_db {name}"), |r| {
            let store = r.store.clone()?;
            let res = store.create_db(name);
            let m = r.model.entry(name.to_string()).or_default();
            match res {
                Ok(db) => {
                    m.exists = Exists::Yes;
                    r.dbs.insert(name.to_string(), db);
                    Some(Ok(()))
                }
                Err(e) => {
                    m.exists = Exists::Maybe;
                    r.unexpected("create_db", &e);
                    Some(Err(()))
                }
            }
        });
    }

    pub fn drop_db(&mut self, name: &str) {
        self.step(&format!("drop_db {name}"), |r| {
            let store = r.store.clone()?;
            r.dbs.get(name)?;
            let res = store.drop_db(name);
            let m = r.model.get_mut(name).expect("known database");
            match res {
                Ok(()) => {
                    m.exists = Exists::No;
                    r.dbs.remove(name);
                    Some(Ok(()))
                }
                Err(e) => {
                    m.exists = Exists::Maybe;
                    r.unexpected("drop_db", &e);
                    Some(Err(()))
                }
            }
        });
    }

    /// A commit through `via`; `expect` is the error kind the baseline run must see.
    fn commit(&mut self, db: &str, via: Via, ops: &[Op], expect: Option<ErrorKind>) {
        let name = format!("{via:?} on {db} {ops:?}");
        self.step(&name.clone(), |r| {
            let handle = r.dbs.get(db)?.clone();
            r.commit_no += 1;
            let c = r.commit_no;
            let datas: Vec<Vec<u8>> = ops
                .iter()
                .map(|o| match r.payload_len {
                    Some(n) => payload_sized(c, o.id(), n),
                    None => payload(c, o.id()),
                })
                .collect();
            let writes: Vec<Write> = ops
                .iter()
                .zip(&datas)
                .map(|(o, d)| match o {
                    Op::Delete(i) => (*i, None),
                    o => (o.id(), Some(d.clone())),
                })
                .collect();
            let bops: Vec<BatchOp<'_>> = ops
                .iter()
                .zip(&datas)
                .map(|(o, d)| match *o {
                    Op::Create(i) => BatchOp::Create(i, d),
                    Op::Update(i) => BatchOp::Update(i, d),
                    Op::Put(i) => BatchOp::Put(i, d),
                    Op::Delete(i) => BatchOp::Delete(i),
                })
                .collect();
            let res = match via {
                Via::Single => match bops[0] {
                    BatchOp::Create(i, d) => handle.create(i, d),
                    BatchOp::Update(i, d) => handle.update(i, d),
                    BatchOp::Put(i, d) => handle.put(i, d),
                    BatchOp::Delete(i) => handle.delete(i),
                },
                Via::Batch => handle.batch(&bops).map(drop),
                Via::Txn => (|| {
                    let mut tx = handle.begin()?;
                    for op in &bops {
                        match *op {
                            BatchOp::Create(i, d) => tx.create(i, d)?,
                            BatchOp::Update(i, d) => tx.update(i, d)?,
                            BatchOp::Put(i, d) => tx.put(i, d)?,
                            BatchOp::Delete(i) => tx.delete(i)?,
                        }
                    }
                    tx.commit().map(drop)
                })(),
            };
            let full = r.sync == Sync::Full;
            let strict = r.strict;
            match res {
                Ok(()) => {
                    if strict && expect.is_some() {
                        r.violation(&name, format!("succeeded, expected {expect:?}"));
                    }
                    let m = r.model.get_mut(db).expect("known database");
                    m.record(writes, true);
                    m.exists = Exists::Yes;
                    if full {
                        m.barrier();
                    }
                    Some(Ok(()))
                }
                Err(e) => match e.kind() {
                    ErrorKind::NotFound | ErrorKind::AlreadyExists | ErrorKind::Conflict => {
                        if strict && expect != Some(e.kind()) {
                            r.violation(&name, format!("failed with {e}, expected {expect:?}"));
                        }
                        Some(Ok(()))
                    }
                    ErrorKind::Io => {
                        let m = r.model.get_mut(db).expect("known database");
                        m.record(writes, false);
                        Some(Err(()))
                    }
                    _ => {
                        r.unexpected(&name, &e);
                        Some(Err(()))
                    }
                },
            }
        });
    }

    pub fn single(&mut self, db: &str, op: Op, expect: Option<ErrorKind>) {
        self.commit(db, Via::Single, &[op], expect);
    }

    pub fn batch(&mut self, db: &str, ops: &[Op], expect: Option<ErrorKind>) {
        self.commit(db, Via::Batch, ops, expect);
    }

    pub fn txn(&mut self, db: &str, ops: &[Op], expect: Option<ErrorKind>) {
        self.commit(db, Via::Txn, ops, expect);
    }

    /// Two transactions write the same document; the second to commit must get `Conflict`
    /// and leave nothing behind.
    pub fn conflict(&mut self, db: &str, id: u64) {
        self.step(&format!("conflict on {db}/{id}"), |r| {
            let handle = r.dbs.get(db)?.clone();
            r.commit_no += 1;
            let (c1, c2) = (r.commit_no, r.commit_no + 1);
            r.commit_no += 1;
            let (d1, d2) = (payload(c1, id), payload(c2, id));
            let res = (|| {
                let mut t1 = handle.begin()?;
                let mut t2 = handle.begin()?;
                t1.put(id, &d1)?;
                t2.put(id, &d2)?;
                t2.put(id + 1000, &d2)?;
                Ok::<_, docdb_core::Error>((t1.commit(), t2.commit()))
            })();
            let full = r.sync == Sync::Full;
            let mut surfaced = false;
            match res {
                Err(e) => {
                    r.unexpected("conflict begin", &e);
                    surfaced = true;
                }
                Ok((first, second)) => {
                    let m = r.model.get_mut(db).expect("known database");
                    match first {
                        Ok(_) => {
                            m.record(vec![(id, Some(d1))], true);
                            if full {
                                m.barrier();
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::Io => {
                            m.record(vec![(id, Some(d1))], false);
                            surfaced = true;
                        }
                        Err(e) => {
                            r.unexpected("first commit", &e);
                            surfaced = true;
                        }
                    }
                    let first_failed = r.model[db].commits.last().is_some_and(|c| !c.acked);
                    match second {
                        Err(e) if e.kind() == ErrorKind::Conflict => {}
                        // The first commit failed and left nothing: no conflict then.
                        Ok(_) if !r.strict && first_failed => {
                            let m = r.model.get_mut(db).expect("known database");
                            m.record(vec![(id, Some(d2.clone())), (id + 1000, Some(d2))], true);
                            if full {
                                m.barrier();
                            }
                        }
                        // The first failed before writing (poisoned): no conflict then.
                        Err(e)
                            if !r.strict
                                && matches!(e.kind(), ErrorKind::Poisoned | ErrorKind::Io) =>
                        {
                            if e.kind() == ErrorKind::Io {
                                let m = r.model.get_mut(db).expect("known database");
                                m.record(
                                    vec![(id, Some(d2.clone())), (id + 1000, Some(d2))],
                                    false,
                                );
                            }
                            surfaced = true;
                        }
                        other => r.violation(
                            "conflict",
                            format!("second commit returned {other:?}, expected Conflict"),
                        ),
                    }
                }
            }
            Some(if surfaced { Err(()) } else { Ok(()) })
        });
    }

    /// `checkpoint`, `compact` or `sync` of one database: on success all its commits are
    /// durable.
    pub fn maintain(&mut self, db: &str, what: &str) {
        self.step(&format!("{what} {db}"), |r| {
            let handle = r.dbs.get(db)?.clone();
            let res = match what {
                "checkpoint" => handle.checkpoint(),
                "compact" => handle.compact().map(drop),
                "sync" => handle.sync(),
                _ => unreachable!(),
            };
            match res {
                Ok(()) => {
                    r.model.get_mut(db).expect("known").barrier();
                    Some(Ok(()))
                }
                Err(e) => {
                    r.unexpected(what, &e);
                    Some(Err(()))
                }
            }
        });
    }

    pub fn store_checkpoint(&mut self) {
        self.step("store checkpoint", |r| {
            let store = r.store.clone()?;
            match store.checkpoint() {
                Ok(()) => {
                    r.mark_durable_all();
                    Some(Ok(()))
                }
                Err(e) => {
                    r.unexpected("store checkpoint", &e);
                    Some(Err(()))
                }
            }
        });
    }

    /// Reads every document the model knows and compares it with the model, where the
    /// model is certain (no call of this database failed).
    pub fn check_reads(&mut self, db: &str) {
        self.step(&format!("reads {db}"), |r| {
            let handle = r.dbs.get(db)?.clone();
            let m = r.model.get(db)?.clone();
            if !m.certain() {
                return None;
            }
            let latest = m.latest();
            let mut failed = false;
            for id in m.ids() {
                match handle.read(id) {
                    Ok(v) if latest.get(&id) == Some(&v) => {}
                    Err(e) if e.kind() == ErrorKind::NotFound && !latest.contains_key(&id) => {}
                    Err(e) if !r.strict && e.kind() == ErrorKind::Io => failed = true,
                    other => r.violation(
                        "read",
                        format!(
                            "doc {id} read {:?}, model has {:?}",
                            other.map(|v| String::from_utf8_lossy(&v).into_owned()),
                            latest
                                .get(&id)
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                        ),
                    ),
                }
            }
            Some(if failed { Err(()) } else { Ok(()) })
        });
    }

    /// Ops a process crash or power loss interrupted from here on are not run.
    pub fn run_all_steps_even_after_crash(&mut self) {
        self.stop_on_crash = false;
    }
}

/// The workload: creates, updates, deletes, batches (one failing), transactions (one
/// conflicting), checkpoints, compactions, a drop, store syncs and reopens.
pub fn workload(r: &mut Run) {
    use Op::*;
    r.open_store();
    r.create_db("a");
    r.create_db("b");
    for round in 0..3u64 {
        let base = round * 10;
        for i in 1..=6 {
            r.single("a", Put(base + i), None);
        }
        r.single("a", Create(base + 7), None);
        r.single("a", Create(base + 7), Some(ErrorKind::AlreadyExists));
        r.single("a", Update(base + 2), None);
        r.single("a", Delete(base + 3), None);
        r.single("a", Delete(base + 3), Some(ErrorKind::NotFound));
        r.batch(
            "a",
            &[Put(base + 8), Delete(base + 4), Update(base + 5)],
            None,
        );
        // The third operation fails: nothing of the batch may be applied.
        r.batch(
            "a",
            &[Put(base + 9), Update(base + 6), Create(base + 1)],
            Some(ErrorKind::AlreadyExists),
        );
        r.txn(
            "a",
            &[Update(base + 1), Put(base + 10), Delete(base + 2)],
            None,
        );
        r.conflict("a", base + 5);
        for i in 1..=4 {
            r.single("b", Put(round * 3 + i), None);
        }
        r.batch("b", &[Delete(round * 3 + 1), Put(100 + round)], None);
        r.check_reads("a");
        match round {
            0 => r.maintain("a", "checkpoint"),
            1 => {
                r.maintain("a", "compact");
                r.maintain("b", "sync");
            }
            _ => r.store_checkpoint(),
        }
        let tmp = format!("tmp{round}");
        r.create_db(&tmp);
        r.single(&tmp, Put(1), None);
        r.batch(&tmp, &[Put(2), Put(3)], None);
        if round != 1 {
            r.drop_db(&tmp);
            // Refused (Closed) once dropped; a failed drop may leave it usable.
            r.single(&tmp, Put(4), None);
        }
        // Deletes of documents that live in sealed (and later compacted) segments.
        r.single("a", Delete(base + 6), None);
        r.single("a", Put(base + 1), None);
        if round == 1 {
            r.maintain("a", "compact");
        }
        r.check_reads("a");
        r.close_store();
        r.open_store();
        r.check_reads("a");
        r.check_reads("b");
    }
    r.maintain("a", "compact");
    // Reopen (after a failure in the compaction, from what it left) and commit once more:
    // what the reopened store acknowledges must survive power loss before any close.
    r.close_store();
    r.open_store();
    r.single("a", Put(77), None);
    r.single("b", Put(78), None);
    r.before_close = Some((r.fs.image(Survive::Durable), r.model.clone()));
    r.close_store();
}

/// What a recovered image must hold. Returns the number of acknowledged commits verified.
pub fn verify(
    image: FaultFs,
    model: &BTreeMap<String, DbModel>,
    sync: Sync,
    all_durable: bool,
) -> Result<u64, String> {
    let store = Store::open_with(image.clone(), DIR, opts(sync))
        .map_err(|e| format!("failed to open: {e}"))?;
    let listed = store.list_dbs().map_err(|e| format!("list_dbs: {e}"))?;
    for d in &listed {
        match model.get(&d.name) {
            Some(m) if m.exists != Exists::No => {}
            _ => return Err(format!("database {} should not exist", d.name)),
        }
    }
    let mut verified = 0;
    let mut states: BTreeMap<String, Docs> = BTreeMap::new();
    for (name, m) in model {
        let db = match store.open_db(name) {
            Ok(db) => db,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if m.exists == Exists::Yes {
                    return Err(format!("lost commits: database {name} is missing"));
                }
                continue;
            }
            Err(e) => return Err(format!("failed to open: open_db {name}: {e}")),
        };
        if m.exists == Exists::No {
            return Err(format!("dropped database {name} is back"));
        }
        let docs = read_all(&db, m).map_err(|e| format!("failed to open: {name}: {e}"))?;
        m.allows(&docs, all_durable)
            .map_err(|e| format!("{name}: {e}"))?;
        verified += m.required(all_durable) as u64;
        // The recovered database takes writes.
        db.put(1 << 40, b"after recovery")
            .map_err(|e| format!("{name}: write after recovery: {e}"))?;
        states.insert(name.clone(), docs);
    }
    store.close().map_err(|e| format!("close: {e}"))?;
    drop(store);
    // ...which survive another reopen, with everything else unchanged.
    let store = Store::open_with(image, DIR, opts(sync))
        .map_err(|e| format!("failed to open: reopen: {e}"))?;
    for (name, mut docs) in states {
        let db = store
            .open_db(&name)
            .map_err(|e| format!("reopen {name}: {e}"))?;
        docs.insert(1 << 40, b"after recovery".to_vec());
        let mut m = model[&name].clone();
        m.record(vec![(1 << 40, None)], true);
        let again = read_all(&db, &m).map_err(|e| format!("{name} after reopen: {e}"))?;
        if again != docs {
            return Err(format!("{name}: state changed across a clean reopen"));
        }
    }
    Ok(verified)
}

/// Reads every document of `db` (the model's ids and whatever a scan shows) and checks a
/// full scan agrees with point reads.
fn read_all(db: &Database<FaultFs>, m: &DbModel) -> Result<Docs, String> {
    let snap = db.snapshot().map_err(|e| e.to_string())?;
    let mut docs = Docs::new();
    for item in snap.scan().map_err(|e| e.to_string())? {
        let (id, v) = item.map_err(|e| format!("scan: {e}"))?;
        docs.insert(id, v);
    }
    for id in m.ids() {
        match db.read(id) {
            Ok(v) if docs.get(&id) == Some(&v) => {}
            Err(e) if e.kind() == ErrorKind::NotFound && !docs.contains_key(&id) => {}
            other => return Err(format!("read of {id} ({other:?}) disagrees with the scan")),
        }
    }
    if db.len().map_err(|e| e.to_string())? != docs.len() as u64 {
        return Err("len() disagrees with the scan".into());
    }
    Ok(docs)
}

pub fn dir() -> &'static Path {
    Path::new(DIR)
}
