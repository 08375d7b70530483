//! `docdb-bench`: DocDB against peer embedded stores, plus the disk's physical
//! limits and the cost of the Python and Node bindings, measured in one run and written to
//! `docs/performance.md` as medians and ratios. `make bench` runs the full comparison,
//! `make bench-smoke` the same code with tiny sizes (CI: it must not rot).
//!
//! Sizes come from flags (`--docs 200000`) or the environment (`DOCDB_BENCH_DOCS=200000`);
//! `--smoke` makes every default tiny. See `--help`.

mod report;
mod stores;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stores::{Kv, Res};

const DOC: usize = 1024;

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
    (
        "fsyncs",
        2_000,
        20,
        "4 KiB append (then overwrite) + fdatasync iterations",
    ),
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
}

impl Config {
    fn get(&self, k: &str) -> u64 {
        self.sizes[k]
    }
    fn n(&self, k: &str) -> usize {
        self.sizes[k] as usize
    }
}

fn usage() -> String {
    let mut s = String::from(
        "usage: docdb-bench [--smoke] [--dir DIR] [--out FILE.md] [--analysis FILE.md]\n\
         \x20      [--stores docdb,redb,...] [--python PY] [--node NODE] [--go PROGRAM] [--scripts DIR] [--SIZE N]...\n\
         sizes (flag or env DOCDB_BENCH_<SIZE>; full default / smoke default):\n",
    );
    for (k, full, smoke, what) in SIZES {
        s += &format!("  --{k:<13} {full:>9} / {smoke:<6} {what}\n");
    }
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
            flag => {
                let key = flag.strip_prefix("--").unwrap_or(flag);
                let Some((k, ..)) = SIZES.iter().find(|(k, ..)| *k == key) else {
                    return Err(format!("unknown argument {flag}\n{}", usage()).into());
                };
                cfg.sizes.insert(k, val()?.parse()?);
            }
        }
    }
    if cfg.get("reps") == 0 || cfg.get("threads") == 0 || cfg.get("update_batch") == 0 {
        return Err("reps, threads and update_batch must be at least 1".into());
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

/// The disk's limits: 4 KiB append + fdatasync per second, 4 KiB overwrite of written
/// blocks + fdatasync per second, and sequential MiB/s with a final fsync.
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
    // The same 4 KiB blocks overwritten in place: the file's size and block map do not
    // change, so fdatasync has no metadata to commit (what preallocated log space gives).
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("append"))?;
    let (_, t) = timed(|| {
        for i in 0..n {
            f.write_all_at(&block, i * block.len() as u64)?;
            f.sync_data()?;
        }
        Ok(())
    })?;
    record(s, "overwrite", "disk", n as f64 / t);
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

    // (f) full scan.
    let ((n, bytes), t) = timed(|| kv.scan())?;
    if n != docs || bytes != docs * DOC as u64 {
        return Err(format!("{name}: scan saw {n} documents, {bytes} bytes").into());
    }
    record(s, "f", name, docs as f64 / t);
    // The same scan after an explicit compaction, for stores that have one: (e)'s random
    // updates left DocDB's log out of id order, and compaction writes it back in id order.
    if kv.compact()? {
        let ((n, _), t) = timed(|| kv.scan())?;
        if n != docs {
            return Err(format!("{name}: scan after compaction saw {n} documents").into());
        }
        record(s, "f-compacted", name, docs as f64 / t);
    }

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
    // Repetitions outermost and stores interleaved, so that background noise (a shared
    // machine) spreads over every store rather than hitting one.
    for rep in 0..cfg.get("reps") {
        say(&format!("rep {}: physical limits", rep + 1));
        physical(&cfg, &mut s)?;
        // The order rotates too: the first store of a rep meets a different page cache
        // and disk state (reclaim, writeback of the previous store) than the last.
        let k = cfg.stores.len();
        for i in 0..k {
            let name = &cfg.stores[(i + rep as usize) % k];
            say(&format!("rep {}: {name} (a)-(f)", rep + 1));
            workloads(&cfg, name, rep, &mut s)?;
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
    }
    for name in &cfg.stores {
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
    let md = report::render(&cfg, &s, &notes, elapsed, analysis.as_deref());
    if let Some(parent) = cfg.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&cfg.out, &md)?;
    println!("{md}");
    eprintln!("written to {}", cfg.out.display());
    let _ = std::fs::remove_dir(&cfg.dir);
    Ok(())
}
