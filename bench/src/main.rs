//! `docdb-bench`: DocDB against peer embedded stores, plus the disk's physical
//! limits and the cost of the Python and Node bindings, measured in one run and written to
//! `docs/performance.md` as medians and ratios. `make bench` runs the full comparison,
//! `make bench-smoke` the same code with tiny sizes (CI: it must not rot).
//!
//! Sizes come from flags (`--docs 200000`) or the environment (`DOCDB_BENCH_DOCS=200000`);
//! `--smoke` makes every default tiny. See `--help`.

mod chart;
mod remote;
mod report;
mod stores;
mod ycsb;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stores::{Kv, Res};

const DOC: usize = 1024;

/// Parts of the run `--only` can pick (all by default).
const SECTIONS: &[&str] = &["physical", "core", "layouts", "ycsb", "bindings", "reopen"];

/// Every size, with its full-run and smoke defaults.
const SIZES: &[(&str, u64, u64, &str)] = &[
    (
        "docs",
        200_000,
        2_000,
        "(a) documents bulk-loaded in one transaction",
    ),
    (
        "single",
        2_000,
        40,
        "(b)/(c) single-document durable commits",
    ),
    ("threads", 8, 4, "(c) committing threads"),
    ("reads", 200_000, 2_000, "(d) random point reads"),
    ("updates", 50_000, 400, "(e) random updates"),
    (
        "update_batch",
        1_000,
        100,
        "(e) updates per durable transaction",
    ),
    (
        "open_docs",
        1_000_000,
        3_000,
        "(g) documents in the reopened database",
    ),
    (
        "open_batch",
        10_000,
        1_000,
        "(g) documents per load transaction",
    ),
    ("reps", 3, 1, "repetitions (medians are reported)"),
    ("fsyncs", 2_000, 20, "4 KiB append + fdatasync iterations"),
    (
        "seq_mib",
        256,
        4,
        "MiB written for the sequential-bandwidth limit",
    ),
    ("bind_docs", 10_000, 200, "binding runs: documents loaded"),
    (
        "bind_reads",
        100_000,
        1_000,
        "binding runs: random point reads",
    ),
    (
        "bind_commits",
        500,
        20,
        "binding runs: single-document durable commits",
    ),
    (
        "ycsb_records",
        200_000,
        2_000,
        "YCSB: records loaded before the workloads",
    ),
    (
        "ycsb_ops",
        50_000,
        500,
        "YCSB: operations of B, C, D and E (95-100% reads or scans)",
    ),
    (
        "ycsb_write_ops",
        20_000,
        200,
        "YCSB: operations of A and F (half are durable commits)",
    ),
    (
        "ycsb_cap",
        10,
        5,
        "YCSB: seconds at most per workload and store",
    ),
    (
        "srv_docs",
        10_000,
        200,
        "server mode: documents (Redis: keys) loaded",
    ),
    (
        "srv_reads",
        50_000,
        1_000,
        "server mode: random point reads per client count",
    ),
    (
        "srv_clients",
        8,
        4,
        "server mode: concurrent clients, a connection each",
    ),
];

pub struct Config {
    sizes: BTreeMap<&'static str, u64>,
    smoke: bool,
    dir: PathBuf,
    out: PathBuf,
    analysis: Option<PathBuf>,
    stores: Vec<String>,
    python: Option<PathBuf>,
    node: Option<PathBuf>,
    /// The Go benchmark program (bench/go, built by `make bench-go`).
    go: Option<PathBuf>,
    scripts: PathBuf,
    /// The sections to run (`--only`).
    only: Vec<String>,
}

impl Config {
    fn get(&self, k: &str) -> u64 {
        self.sizes[k]
    }
    fn n(&self, k: &str) -> usize {
        self.sizes[k] as usize
    }
    fn runs(&self, section: &str) -> bool {
        self.only.iter().any(|s| s == section)
    }
}

fn usage() -> String {
    let mut s = String::from(
        "usage: docdb-bench [--smoke] [--dir DIR] [--out FILE.md] [--analysis FILE.md]\n\
         \x20      [--stores docdb,redb,...] [--python PY] [--node NODE] [--go PROGRAM] [--scripts DIR]\n\
         \x20      [--only SECTION,...] [--SIZE N]...\n\
         sizes (flag or env DOCDB_BENCH_<SIZE>; full default / smoke default):\n",
    );
    for (k, full, smoke, what) in SIZES {
        s += &format!("  --{k:<13} {full:>9} / {smoke:<6} {what}\n");
    }
    s += &format!("sections (--only): {}\n", SECTIONS.join(","));
    s += &format!("stores compiled in: {}\n", stores::available().join(","));
    s
}

fn parse_args(args: &[String]) -> Res<Config> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sizes: BTreeMap<&'static str, u64> = SIZES
        .iter()
        .map(|(k, full, sm, _)| (*k, if smoke { *sm } else { *full }))
        .collect();
    for (k, _, _, _) in SIZES {
        if let Ok(v) = std::env::var(format!("DOCDB_BENCH_{}", k.to_uppercase())) {
            sizes.insert(k, v.parse()?);
        }
    }
    let mut cfg = Config {
        sizes,
        smoke,
        dir: root.join("target/bench-data"),
        out: root.join(if smoke {
            "target/bench-smoke.md"
        } else {
            "docs/performance.md"
        }),
        analysis: None,
        stores: stores::available().iter().map(|s| s.to_string()).collect(),
        python: None,
        node: None,
        go: None,
        scripts: root.join("bench"),
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--smoke" => {}
            "--help" | "-h" => {
                print!("{}", usage());
                std::process::exit(0);
            }
            "--dir" => cfg.dir = PathBuf::from(val()?),
            "--out" => cfg.out = PathBuf::from(val()?),
            "--analysis" => cfg.analysis = Some(PathBuf::from(val()?)),
            "--python" => cfg.python = Some(PathBuf::from(val()?)),
            "--node" => cfg.node = Some(PathBuf::from(val()?)),
            "--go" => cfg.go = Some(PathBuf::from(val()?)),
            "--scripts" => cfg.scripts = PathBuf::from(val()?),
            "--stores" => cfg.stores = val()?.split(',').map(str::to_string).collect(),
            "--only" => {
                cfg.only = val()?.split(',').map(str::to_string).collect();
                if let Some(bad) = cfg.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("unknown section {bad}\n{}", usage()).into());
                }
            }
            flag => {
                let key = flag.strip_prefix("--").unwrap_or(flag);
                let Some((k, ..)) = SIZES.iter().find(|(k, ..)| *k == key) else {
                    return Err(format!("unknown argument {flag}\n{}", usage()).into());
                };
                cfg.sizes.insert(k, val()?.parse()?);
            }
        }
    }
    if ["reps", "threads", "update_batch", "srv_docs", "srv_clients"]
        .iter()
        .any(|k| cfg.get(k) == 0)
    {
        return Err(
            "reps, threads, update_batch, srv_docs and srv_clients must be at least 1".into(),
        );
    }
    Ok(cfg)
}

/// splitmix64: fast, seedable, good enough to make payloads incompressible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// `n` random 1 KiB payloads, back to back.
    pub fn payloads(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n * DOC);
        for _ in 0..n * DOC / 8 {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v
    }
}

fn items(ids: impl Iterator<Item = u64>, data: &[u8]) -> Vec<(u64, &[u8])> {
    ids.zip(data.chunks_exact(DOC)).collect()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

fn timed<T>(f: impl FnOnce() -> Res<T>) -> Res<(T, f64)> {
    let t = Instant::now();
    let r = f()?;
    Ok((r, secs(t.elapsed())))
}

/// Allocated bytes of every file under `dir` (what `du` reports).
fn disk_bytes(dir: &Path) -> Res<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() {
            disk_bytes(&e.path())?
        } else {
            m.blocks() * 512
        };
    }
    Ok(total)
}

/// Anonymous resident memory of this process (heap, not file-backed pages), bytes.
fn rss_anon() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn fresh(dir: &Path) -> Res<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Results: (workload, store) -> one value per repetition.
pub type Samples = BTreeMap<(String, String), Vec<f64>>;

fn record(s: &mut Samples, workload: &str, store: &str, v: f64) {
    s.entry((workload.into(), store.into()))
        .or_default()
        .push(v);
}

/// The disk's limits: 4 KiB append + fdatasync per second, and sequential MiB/s with a
/// final fsync.
fn physical(cfg: &Config, s: &mut Samples) -> Res<()> {
    let dir = cfg.dir.join("physical");
    fresh(&dir)?;
    let mut f = std::fs::File::create(dir.join("append"))?;
    let block = Rng::new(1).payloads(4);
    let n = cfg.get("fsyncs");
    let (_, t) = timed(|| {
        for _ in 0..n {
            f.write_all(&block)?;
            f.sync_data()?;
        }
        Ok(())
    })?;
    record(s, "fsync", "disk", n as f64 / t);
    let mut f = std::fs::File::create(dir.join("seq"))?;
    let chunk = Rng::new(2).payloads(1024);
    let mib = cfg.get("seq_mib");
    let (_, t) = timed(|| {
        for _ in 0..mib {
            f.write_all(&chunk)?;
        }
        f.sync_all()?;
        Ok(())
    })?;
    record(s, "seq", "disk", mib as f64 / t);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Workloads (a)-(f) and the disk figure (h) on one fresh store.
fn workloads(cfg: &Config, name: &str, rep: u64, s: &mut Samples) -> Res<()> {
    let dir = cfg.dir.join(name);
    fresh(&dir)?;
    let kv = stores::open(name, &dir)?;
    let docs = cfg.get("docs");
    let mut rng = Rng::new(0x5eed ^ rep);

    // (a) bulk load, one durable transaction.
    let data = rng.payloads(docs as usize);
    let load = items(0..docs, &data);
    let (_, t) = timed(|| kv.write_txn(&load))?;
    record(s, "a", name, docs as f64 / t);
    drop(load);
    drop(data);
    // (h) disk after the bulk load.
    record(
        s,
        "h",
        name,
        disk_bytes(&dir)? as f64 / (docs as f64 * DOC as f64),
    );

    // (d) random point reads, warm: one untimed pass over the same ids first.
    let ids: Vec<u64> = (0..cfg.get("reads")).map(|_| rng.below(docs)).collect();
    let expect = ids.len() as u64 * DOC as u64;
    if kv.read_many(&ids)? != expect {
        return Err(format!("{name}: point reads returned wrong sizes").into());
    }
    let (_, t) = timed(|| kv.read_many(&ids))?;
    record(s, "d", name, ids.len() as f64 / t);
    if name == "docdb" {
        let (_, t) = timed(|| kv.read_many_owned(&ids))?;
        record(s, "d-owned", name, ids.len() as f64 / t);
    }

    // (e) random updates in durable transactions of `update_batch`.
    let updates = cfg.n("updates");
    let per = cfg.n("update_batch");
    let data = rng.payloads(updates);
    let ids: Vec<u64> = (0..updates).map(|_| rng.below(docs)).collect();
    let batches: Vec<Vec<(u64, &[u8])>> = ids
        .chunks(per)
        .zip(data.chunks(per * DOC))
        .map(|(ids, data)| items(ids.iter().copied(), data))
        .collect();
    let (_, t) = timed(|| {
        for b in &batches {
            kv.write_txn(b)?;
        }
        Ok(())
    })?;
    record(s, "e", name, updates as f64 / t);
    drop(batches);

    // (f) full scan in id order, layout 1: ascending bulk load plus (e)'s random updates.
    full_scan(&*kv, name, docs, "f", s)?;
    // Layout 3: the same data after the store's explicit compaction (DocDB's writes it back
    // in id order); LMDB and sled have none and scan their layout of layout 1 again.
    kv.compact()?;
    full_scan(&*kv, name, docs, "f-compacted", s)?;

    // (b) single-document durable commits from one thread, new ids.
    let single = cfg.n("single");
    let data = rng.payloads(single);
    let one = items(docs.., &data);
    let (_, t) = timed(|| {
        for it in &one {
            kv.write_txn(std::slice::from_ref(it))?;
        }
        Ok(())
    })?;
    record(s, "b", name, single as f64 / t);

    // (c) the same number of commits spread over `threads` threads at once.
    let threads = cfg.n("threads");
    let many = items(docs + single as u64.., &data);
    let kv_ref: &dyn Kv = &*kv;
    let (_, t) = timed(|| {
        std::thread::scope(|sc| {
            let hs: Vec<_> = many
                .chunks(single.div_ceil(threads).max(1))
                .map(|part| {
                    sc.spawn(move || -> Res<()> {
                        for it in part {
                            kv_ref.write_txn(std::slice::from_ref(it))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in hs {
                h.join().map_err(|_| "committer thread panicked")??;
            }
            Ok(())
        })
    })?;
    record(s, "c", name, single as f64 / t);

    kv.close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A full scan in id order, checked and recorded under `key`.
fn full_scan(kv: &dyn Kv, name: &str, docs: u64, key: &str, s: &mut Samples) -> Res<()> {
    let ((n, bytes), t) = timed(|| kv.scan())?;
    if n != docs || bytes != docs * DOC as u64 {
        return Err(format!("{name}: scan ({key}) saw {n} documents, {bytes} bytes").into());
    }
    record(s, key, name, docs as f64 / t);
    Ok(())
}

/// (f) layout 2: a bulk load (one durable transaction, as (a)) of ids in random order, then
/// a full scan in id order.
fn random_order_scan(cfg: &Config, name: &str, rep: u64, s: &mut Samples) -> Res<()> {
    let dir = cfg.dir.join(format!("{name}-random"));
    fresh(&dir)?;
    let kv = stores::open(name, &dir)?;
    let docs = cfg.get("docs");
    let mut rng = Rng::new(0xf00d ^ rep);
    let mut ids: Vec<u64> = (0..docs).collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let data = rng.payloads(docs as usize);
    let load = items(ids.into_iter(), &data);
    let (_, t) = timed(|| kv.write_txn(&load))?;
    record(s, "a-random", name, docs as f64 / t);
    drop(load);
    drop(data);
    full_scan(&*kv, name, docs, "f-random", s)?;
    kv.close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// YCSB A-F on every store: each store loads `ycsb_records`, then each workload's
/// operations (the same for every store) run on each store in turn, on the same data as
/// YCSB's recommended order. Workload by workload rather than store by store, with the
/// store order rotating, so that a slow spell of the shared disk (these workloads are
/// fsync-bound) falls on every store's run of a workload rather than on one store's.
fn ycsb_all(
    cfg: &Config,
    plan: &[(usize, Vec<ycsb::Op>)],
    s: &mut Samples,
    say: &dyn Fn(&str),
) -> Res<()> {
    let records = cfg.get("ycsb_records");
    let mut open = Vec::new();
    for name in &cfg.stores {
        say(&format!("{name} YCSB load"));
        let dir = cfg.dir.join(format!("{name}-ycsb"));
        fresh(&dir)?;
        let kv = stores::open(name, &dir)?;
        let mut rng = Rng::new(0x9c5b);
        let (_, t) = timed(|| ycsb::load(&*kv, records, ycsb::LOAD_BATCH, &mut rng))?;
        record(s, "ycsb-load", name, records as f64 / t);
        open.push((name, kv, dir));
    }
    let cap = cfg.get("ycsb_cap") as f64;
    for (turn, (w, ops)) in plan.iter().enumerate() {
        let wl = &ycsb::WORKLOADS[*w];
        say(&format!("YCSB {} on every store", wl.name));
        for i in 0..open.len() {
            let (name, kv, _) = &open[(i + turn) % open.len()];
            let mut rng = Rng::new(0x9c5b + *w as u64);
            let out = ycsb::run(&**kv, ops, cap, &mut rng)?;
            let key = format!("ycsb-{}", wl.name);
            record(s, &key, name, out.done as f64 / out.secs);
            record(s, &format!("{key}-done"), name, out.done as f64);
        }
    }
    for (_, kv, dir) in open {
        kv.close()?;
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

/// Draws every workload's operations once, records the generator checks, and returns them
/// in run order.
fn ycsb_plan(cfg: &Config, s: &mut Samples) -> Vec<(usize, Vec<ycsb::Op>)> {
    let mut records = cfg.get("ycsb_records");
    let mut plan = Vec::new();
    for (i, wl) in ycsb::WORKLOADS.iter().enumerate() {
        let n = if matches!(wl.name, "A" | "F") {
            cfg.get("ycsb_write_ops")
        } else {
            cfg.get("ycsb_ops")
        };
        let ops = wl.generate(records, n, 0x7c5b + i as u64);
        // The checks rank keys by their counts: on a draw of a few operations per record
        // the hottest 1% would just be the keys drawn at all, so they use a larger one.
        let sample = wl.generate(records, (5 * records).max(n), 0xc4ec + i as u64);
        let c = wl.check(&sample, records);
        record(
            s,
            &format!("ycsb-{}-checked", wl.name),
            "generator",
            sample.len() as f64,
        );
        let key = |what: &str| format!("ycsb-{}-{what}", wl.name);
        record(s, &key("hot1"), "generator", c.hot1);
        record(s, &key("hot10"), "generator", c.hot10);
        if let Some(m) = c.mean_scan {
            record(s, &key("scanlen"), "generator", m);
        }
        record(s, &key("ops"), "generator", ops.len() as f64);
        records += ops
            .iter()
            .filter(|o| matches!(o, ycsb::Op::Insert(_)))
            .count() as u64;
        plan.push((i, ops));
    }
    plan
}

/// Runs this binary as a child (open times and memory need a fresh process).
fn child(args: &[&str]) -> Res<String> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// `child-load STORE DIR N BATCH [crash]`: loads N documents in durable transactions of BATCH.
fn child_load(args: &[String]) -> Res<()> {
    let [name, dir, n, batch, rest @ ..] = args else {
        return Err("child-load STORE DIR N BATCH [crash]".into());
    };
    let (n, batch): (u64, usize) = (n.parse()?, batch.parse()?);
    let dir = Path::new(dir);
    fresh(dir)?;
    let kv = stores::open(name, dir)?;
    let mut rng = Rng::new(7);
    let t = Instant::now();
    let mut next = 0;
    while next < n {
        let k = (n - next).min(batch as u64);
        let data = rng.payloads(k as usize);
        kv.write_txn(&items(next..next + k, &data))?;
        next += k;
    }
    println!("{}", n as f64 / secs(t.elapsed()));
    std::io::stdout().flush()?;
    if rest.first().map(String::as_str) == Some("crash") {
        std::process::exit(0);
    }
    kv.close()
}

/// `child-open STORE DIR [crash]`: prints "seconds anon_bytes_delta replayed_bytes".
fn child_open(args: &[String]) -> Res<()> {
    let [name, dir, rest @ ..] = args else {
        return Err("child-open STORE DIR [crash]".into());
    };
    let crash = rest.first().map(String::as_str) == Some("crash");
    let dir = Path::new(dir);
    let before = rss_anon();
    let t = Instant::now();
    if name == "docdb" {
        let kv = stores::DocDb::open(dir)?;
        let secs = secs(t.elapsed());
        let st = kv.db().stats()?;
        let delta = rss_anon().saturating_sub(before);
        println!(
            "{secs} {delta} {} {}",
            st.recovered_replayed_bytes, st.documents
        );
        std::io::stdout().flush()?;
        if crash {
            kv.abandon();
        }
        return Box::new(kv).close();
    }
    let kv = stores::open(name, dir)?;
    let secs = secs(t.elapsed());
    // One read proves the data is there.
    kv.read_many(&[0])?;
    let delta = rss_anon().saturating_sub(before);
    println!("{secs} {delta} 0 0");
    kv.close()
}

fn parse_open(line: &str) -> Res<(f64, f64, f64)> {
    let v: Vec<f64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    match v[..] {
        [s, m, r, ..] => Ok((s, m, r)),
        _ => Err(format!("bad child output {line:?}").into()),
    }
}

/// (g) open time and (h) memory per document of a reopened database, in fresh processes.
fn reopen(cfg: &Config, name: &str, s: &mut Samples, notes: &mut Vec<String>) -> Res<()> {
    let dir = cfg.dir.join(format!("{name}-open"));
    let d = dir.to_str().ok_or("non-UTF-8 path")?;
    let n = cfg.get("open_docs");
    let batch = cfg.get("open_batch").to_string();
    let crash = name == "docdb";
    let ns = n.to_string();
    let mut load = vec!["child-load", name, d, &ns, &batch];
    if crash {
        load.push("crash");
    }
    let rate: f64 = child(&load)?.trim().parse()?;
    record(s, "g-load", name, rate);
    if crash {
        // The crash path: no checkpoint written at exit, so open replays the log written
        // since the last background checkpoint. Each run exits without closing again.
        for _ in 0..cfg.get("reps") {
            let (t, _, replayed) = parse_open(&child(&["child-open", name, d, "crash"])?)?;
            record(s, "g-crash", name, t);
            record(s, "g-replayed", name, replayed);
        }
        // A clean close writes the checkpoint the next opens load.
        child(&["child-open", name, d])?;
    }
    for _ in 0..cfg.get("reps") {
        let (t, mem, _) = parse_open(&child(&["child-open", name, d])?)?;
        record(s, "g", name, t);
        record(s, "g-mem", name, mem / n as f64);
    }
    let disk = disk_bytes(&dir)?;
    notes.push(format!(
        "{name}: {} documents reopened from {:.0} MiB on disk",
        report::int(n),
        disk as f64 / (1 << 20) as f64
    ));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The binding workloads from Rust: the baseline the Python and Node figures are compared to.
fn bind_rust(cfg: &Config, rep: u64, s: &mut Samples) -> Res<()> {
    let dir = cfg.dir.join("bind-rust");
    fresh(&dir)?;
    let kv = stores::DocDb::open(&dir)?;
    let db = kv.db();
    let docs = cfg.get("bind_docs");
    let mut rng = Rng::new(11 + rep);
    let data = rng.payloads(docs as usize);
    kv.write_txn(&items(0..docs, &data))?;
    let ids: Vec<u64> = (0..cfg.get("bind_reads"))
        .map(|_| rng.below(docs))
        .collect();
    // `Database::read`, an owned copy: what `read` returns in Python and Node too.
    kv.read_many_owned(&ids)?;
    let (_, t) = timed(|| kv.read_many_owned(&ids))?;
    record(s, "bind-read", "rust-docdb", ids.len() as f64 / t);
    let commits = cfg.get("bind_commits");
    let payload = &data[..DOC];
    let (_, t) = timed(|| {
        for i in 0..commits {
            db.put(docs + i, payload)?;
        }
        Ok(())
    })?;
    record(s, "bind-commit", "rust-docdb", commits as f64 / t);
    Box::new(kv).close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Runs a binding script; each output line is "STORE WORKLOAD OPS_PER_SEC".
fn bind_script(cfg: &Config, interp: &Path, script: &str, s: &mut Samples) -> Res<()> {
    let mut cmd = Command::new(interp);
    cmd.arg(cfg.scripts.join(script));
    bind_run(cfg, cmd, script, s)
}

/// Runs a binding benchmark (`cmd` plus DIR DOCS READS COMMITS) and records its lines.
fn bind_run(cfg: &Config, mut cmd: Command, what: &str, s: &mut Samples) -> Res<()> {
    let dir = cfg.dir.join("bind-script");
    fresh(&dir)?;
    let out = cmd
        .arg(&dir)
        .arg(cfg.get("bind_docs").to_string())
        .arg(cfg.get("bind_reads").to_string())
        .arg(cfg.get("bind_commits").to_string())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    for line in String::from_utf8(out.stdout)?.lines() {
        if let [store, workload, ops] = line.split_whitespace().collect::<Vec<_>>()[..] {
            record(s, &format!("bind-{workload}"), store, ops.parse()?);
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("child-load") => child_load(&args[1..]),
        Some("child-open") => child_open(&args[1..]),
        Some("child-serve") => remote::child_serve(&args[1..]),
        Some("child-remote-commit") => remote::child_commit(&args[1..]),
        _ => run(&args),
    };
    if let Err(e) = r {
        eprintln!("docdb-bench: {e}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Res<()> {
    let cfg = parse_args(args)?;
    let started = Instant::now();
    let mut s = Samples::new();
    let mut notes = Vec::new();
    for name in &cfg.stores {
        if !stores::available().contains(&name.as_str()) {
            return Err(format!("store {name} is not compiled in").into());
        }
    }
    let say = |what: &str| {
        eprintln!("[{:6.1}s] {what}", started.elapsed().as_secs_f64());
    };
    let redis = remote::find_redis();
    if let Err(why) = &redis {
        eprintln!("docdb-bench: WARNING: no Redis comparison: {why}");
    }
    // Repetitions outermost and stores interleaved, so that background noise (a shared
    // machine) spreads over every store rather than hitting one.
    for rep in 0..cfg.get("reps") {
        if cfg.runs("physical") {
            say(&format!("rep {}: physical limits", rep + 1));
            physical(&cfg, &mut s)?;
        }
        // The order rotates too: the first store of a rep meets a different page cache
        // and disk state (reclaim, writeback of the previous store) than the last.
        let k = cfg.stores.len();
        for i in 0..k {
            let name = &cfg.stores[(i + rep as usize) % k];
            if cfg.runs("core") {
                say(&format!("rep {}: {name} (a)-(f)", rep + 1));
                workloads(&cfg, name, rep, &mut s)?;
            }
            if cfg.runs("layouts") {
                say(&format!("rep {}: {name} (f) random-order load", rep + 1));
                random_order_scan(&cfg, name, rep, &mut s)?;
            }
        }
        if !cfg.runs("bindings") {
            continue;
        }
        say(&format!("rep {}: bindings", rep + 1));
        bind_rust(&cfg, rep, &mut s)?;
        if let Some(py) = &cfg.python {
            bind_script(&cfg, py, "bindings.py", &mut s)?;
        }
        if let Some(node) = &cfg.node {
            bind_script(&cfg, node, "bindings.js", &mut s)?;
        }
        if let Some(go) = &cfg.go {
            bind_run(&cfg, Command::new(go), "the Go benchmark", &mut s)?;
        }
        say(&format!("rep {}: server mode", rep + 1));
        remote::run(&cfg, rep, redis.as_ref().ok(), &mut s)?;
    }
    // YCSB once per store (not per repetition: it is the longest part, fsync-bound).
    if cfg.runs("ycsb") {
        let plan = ycsb_plan(&cfg, &mut s);
        ycsb_all(&cfg, &plan, &mut s, &say)?;
    }
    for name in cfg.stores.iter().filter(|_| cfg.runs("reopen")) {
        say(&format!("{name} (g) reopen"));
        reopen(&cfg, name, &mut s, &mut notes)?;
    }
    let elapsed = started.elapsed();
    say("done");
    let analysis = match &cfg.analysis {
        Some(p) => {
            let mut a = String::new();
            std::fs::File::open(p)?.read_to_string(&mut a)?;
            Some(a)
        }
        None => None,
    };
    let md = report::render(
        &cfg,
        &s,
        &notes,
        redis.err().as_deref(),
        elapsed,
        analysis.as_deref(),
    );
    if let Some(parent) = cfg.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&cfg.out, &md)?;
    chart::write_all(&cfg, &s)?;
    println!("{md}");
    eprintln!("written to {}", cfg.out.display());
    let _ = std::fs::remove_dir(&cfg.dir);
    Ok(())
}
