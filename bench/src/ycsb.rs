//! YCSB's core workloads A-F (Cooper et al., SoCC 2010; `workloads/workload[a-f]` of the
//! YCSB repository) with YCSB's own generators, ported from its Java sources so that the
//! key choices are the reference ones: `ScrambledZipfianGenerator` (constant 0.99, drawn
//! over YCSB's fixed 10^10 items with their precomputed zeta, then FNV-hashed into the key
//! space), `SkewedLatestGenerator` over the insert counter (D), `UniformLongGenerator` scan
//! lengths 1-100 (E), `DiscreteGenerator` for the operation mix, and YCSB's default
//! `insertorder=hashed`: record number n is stored under id `fnv64(n)`, so the load and
//! every insert land at random places of the id order, as YCSB's `user<hash>` keys do.
//!
//! Each workload's operations are drawn once (fixed seed) and replayed against every store,
//! so the stores see the same keys in the same order. Reads, updates, inserts and
//! read-modify-writes are one operation each; every write is its own durable transaction.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use crate::report::{int, med, num, vs_best};
use crate::stores::{Kv, Res};
use crate::{Config, Rng, Samples, DOC};

/// YCSB's `ZipfianGenerator.ZIPFIAN_CONSTANT`.
const THETA: f64 = 0.99;
/// `ScrambledZipfianGenerator.ITEM_COUNT`: the scrambled generator draws over this many
/// items and hashes the draw into the real key space.
const SCRAMBLED_ITEMS: u64 = 10_000_000_000;
/// `ScrambledZipfianGenerator.ZETAN`: zeta(10^10, 0.99), precomputed by YCSB.
const SCRAMBLED_ZETAN: f64 = 26.469_028_201_783_02;
/// `CoreWorkload`'s default `maxscanlength`.
const MAX_SCAN: u64 = 100;

/// YCSB's `Utils.fnvhash64`: FNV-1a over the 8 bytes of `v`, low byte first, made
/// non-negative as Java's `Math.abs` does.
pub fn fnv64(mut v: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..8 {
        h ^= v & 0xff;
        h = h.wrapping_mul(1_099_511_628_211);
        v >>= 8;
    }
    (h as i64).unsigned_abs()
}

/// The id record number `n` is stored under (`insertorder=hashed`).
pub fn id_of(n: u64) -> u64 {
    fnv64(n)
}

/// A uniform double in [0, 1), as `ThreadLocalRandom.nextDouble`.
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Sum of 1 / i^theta for i in (from, to], added to `sum` (YCSB's incremental `zeta`).
fn zeta(from: u64, to: u64, sum: f64) -> f64 {
    (from..to).fold(sum, |s, i| s + 1.0 / ((i + 1) as f64).powf(THETA))
}

/// YCSB's `ZipfianGenerator` (Gray et al.'s algorithm), including its handling of a
/// growing item count (the zeta is extended; `eta` keeps the constructor's item count, as
/// YCSB's does).
struct Zipfian {
    items: u64,
    zetan: f64,
    zeta2: f64,
    alpha: f64,
    eta: f64,
    count_for_zeta: u64,
}

impl Zipfian {
    fn with_zetan(items: u64, zetan: f64) -> Zipfian {
        let zeta2 = zeta(0, 2, 0.0);
        let mut z = Zipfian {
            items,
            zetan,
            zeta2,
            alpha: 1.0 / (1.0 - THETA),
            eta: 0.0,
            count_for_zeta: items,
        };
        z.eta = z.eta();
        z
    }

    fn new(items: u64) -> Zipfian {
        Zipfian::with_zetan(items, zeta(0, items, 0.0))
    }

    fn eta(&self) -> f64 {
        (1.0 - (2.0 / self.items as f64).powf(1.0 - THETA)) / (1.0 - self.zeta2 / self.zetan)
    }

    /// A value in [0, item_count), 0 the most popular (`nextLong(itemcount)`).
    fn next(&mut self, rng: &mut Rng, item_count: u64) -> u64 {
        if item_count > self.count_for_zeta {
            self.zetan = zeta(self.count_for_zeta, item_count, self.zetan);
            self.count_for_zeta = item_count;
            self.eta = self.eta();
        }
        let u = unit(rng);
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(THETA) {
            return 1;
        }
        (item_count as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64
    }
}

/// YCSB's `ScrambledZipfianGenerator(min, max)`: popular items spread over the key space.
struct ScrambledZipfian {
    min: u64,
    item_count: u64,
    zipf: Zipfian,
}

impl ScrambledZipfian {
    fn new(min: u64, max: u64) -> ScrambledZipfian {
        ScrambledZipfian {
            min,
            item_count: max - min + 1,
            // `new ZipfianGenerator(0, ITEM_COUNT, ...)`: ITEM_COUNT + 1 items.
            zipf: Zipfian::with_zetan(SCRAMBLED_ITEMS + 1, SCRAMBLED_ZETAN),
        }
    }

    fn next(&mut self, rng: &mut Rng) -> u64 {
        let items = self.zipf.items;
        let v = self.zipf.next(rng, items);
        self.min + fnv64(v) % self.item_count
    }
}

/// The key distributions the core workloads use.
enum KeyChooser {
    Zipfian(ScrambledZipfian),
    /// `SkewedLatestGenerator`: the newest record most popular.
    Latest(Zipfian),
}

/// One YCSB operation on record numbers (not yet ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read(u64),
    Update(u64),
    Insert(u64),
    Scan(u64, u64),
    ReadModifyWrite(u64),
}

/// A core workload: its name and the proportions of `workloads/workload[a-f]`.
pub struct Workload {
    pub name: &'static str,
    read: f64,
    update: f64,
    insert: f64,
    scan: f64,
    rmw: f64,
    latest: bool,
}

const fn w(name: &'static str, mix: [f64; 5], latest: bool) -> Workload {
    let [read, update, insert, scan, rmw] = mix;
    Workload {
        name,
        read,
        update,
        insert,
        scan,
        rmw,
        latest,
    }
}

/// A-F in YCSB's recommended order (F before D: D and E insert).
/// Proportions: read, update, insert, scan, read-modify-write.
pub const WORKLOADS: [Workload; 6] = [
    w("A", [0.5, 0.5, 0.0, 0.0, 0.0], false),
    w("B", [0.95, 0.05, 0.0, 0.0, 0.0], false),
    w("C", [1.0, 0.0, 0.0, 0.0, 0.0], false),
    w("F", [0.5, 0.0, 0.0, 0.0, 0.5], false),
    w("D", [0.95, 0.0, 0.05, 0.0, 0.0], true),
    w("E", [0.0, 0.0, 0.05, 0.95, 0.0], false),
];

impl Workload {
    /// What the workload's operations mostly are, for the report.
    pub fn describe(&self) -> String {
        let parts = [
            (self.read, "read"),
            (self.update, "update"),
            (self.insert, "insert"),
            (self.scan, "scan 1-100"),
            (self.rmw, "read-modify-write"),
        ];
        let mix: Vec<String> = parts
            .iter()
            .filter(|(p, _)| *p > 0.0)
            .map(|(p, what)| format!("{:.0}% {what}", p * 100.0))
            .collect();
        let dist = if self.latest { "latest" } else { "zipfian" };
        format!("{}, {dist}", mix.join(" / "))
    }

    /// Draws `ops` operations against a database of `records` records (numbers
    /// 0..records), as YCSB's `CoreWorkload` does, including its key-chooser range
    /// (`records + 2 * ops * insert proportion` items; draws past the newest record are
    /// drawn again).
    pub fn generate(&self, records: u64, ops: u64, seed: u64) -> Vec<Op> {
        let mut rng = Rng::new(seed);
        let new_keys = (ops as f64 * self.insert * 2.0) as u64;
        let mut chooser = if self.latest {
            KeyChooser::Latest(Zipfian::new(records - 1))
        } else {
            KeyChooser::Zipfian(ScrambledZipfian::new(0, records + new_keys))
        };
        // The insert counter: the next record number, and the newest one acknowledged.
        let mut next_insert = records;
        let weights = [
            (self.read, 0),
            (self.update, 1),
            (self.insert, 2),
            (self.scan, 3),
            (self.rmw, 4),
        ];
        let total: f64 = weights.iter().map(|(p, _)| p).sum();
        let mut out = Vec::with_capacity(ops as usize);
        for _ in 0..ops {
            // `DiscreteGenerator.nextValue`.
            let mut u = unit(&mut rng);
            let mut kind = 0;
            for (p, k) in weights.iter().filter(|(p, _)| *p > 0.0) {
                kind = *k;
                if u < p / total {
                    break;
                }
                u -= p / total;
            }
            let last = next_insert - 1;
            let mut key = || loop {
                let k = match &mut chooser {
                    KeyChooser::Zipfian(z) => z.next(&mut rng),
                    KeyChooser::Latest(z) => last - z.next(&mut rng, last),
                };
                if k <= last {
                    return k;
                }
            };
            out.push(match kind {
                0 => Op::Read(key()),
                1 => Op::Update(key()),
                2 => {
                    next_insert += 1;
                    Op::Insert(next_insert - 1)
                }
                3 => {
                    let start = key();
                    // `UniformLongGenerator(1, maxscanlength)`.
                    let len = 1 + (unit(&mut rng) * MAX_SCAN as f64) as u64;
                    Op::Scan(start, len)
                }
                _ => Op::ReadModifyWrite(key()),
            });
        }
        out
    }
}

/// Checks of the generators on one workload's operations: the share of keyed operations on
/// the hottest 1% and 10% of the records, and the mean scan length.
pub struct Check {
    pub hot1: f64,
    pub hot10: f64,
    pub mean_scan: Option<f64>,
}

impl Workload {
    /// The generator checks of `ops`, drawn against `records` records. The hottest records
    /// are those the most operations chose, except for "latest", whose hottest records move
    /// with every insert: there they are the newest ones at the time of each read.
    pub fn check(&self, ops: &[Op], records: u64) -> Check {
        let mut count: HashMap<u64, u64> = HashMap::new();
        let (mut scans, mut scanned) = (0u64, 0u64);
        let mut newest = records - 1;
        // Reads among the newest 1% and 10% of the records at the time (latest).
        let mut recent = [0u64; 2];
        for op in ops {
            let key = match *op {
                Op::Read(k) | Op::Update(k) | Op::ReadModifyWrite(k) => k,
                Op::Scan(k, len) => {
                    scans += 1;
                    scanned += len;
                    k
                }
                Op::Insert(k) => {
                    newest = k;
                    continue;
                }
            };
            for (n, pct) in recent.iter_mut().zip([1, 10]) {
                *n += u64::from(newest - key < ((newest + 1) * pct / 100).max(1));
            }
            *count.entry(key).or_default() += 1;
        }
        let mut c: Vec<u64> = count.into_values().collect();
        c.sort_unstable_by(|a, b| b.cmp(a));
        let keyed = c.iter().sum::<u64>().max(1);
        let share = |i: usize, pct: u64| {
            let hot = if self.latest {
                recent[i]
            } else {
                c.iter().take((records * pct / 100).max(1) as usize).sum()
            };
            hot as f64 / keyed as f64
        };
        Check {
            hot1: share(0, 1),
            hot10: share(1, 10),
            mean_scan: (scans > 0).then(|| scanned as f64 / scans as f64),
        }
    }
}

/// What one store did with one workload.
pub struct Outcome {
    /// Operations run (fewer than drawn if the time cap stopped the run).
    pub done: u64,
    pub secs: f64,
}

/// Bulk-loads records 0..records under their hashed ids, `batch` per durable transaction.
pub fn load(kv: &dyn Kv, records: u64, batch: u64, rng: &mut Rng) -> Res<()> {
    let mut n = 0;
    while n < records {
        let k = (records - n).min(batch);
        let data = rng.payloads(k as usize);
        let items: Vec<(u64, &[u8])> = (n..n + k).map(id_of).zip(data.chunks(DOC)).collect();
        kv.write_txn(&items)?;
        n += k;
    }
    Ok(())
}

/// Replays `ops` against `kv`, stopping early once `cap_secs` have passed.
pub fn run(kv: &dyn Kv, ops: &[Op], cap_secs: f64, rng: &mut Rng) -> Res<Outcome> {
    // New values come from a pool of random payloads (drawing 1 KiB per write would time
    // the generator); a read-modify-write changes one 100-byte field, as YCSB's does.
    let pool = rng.payloads(64);
    let value = |i: usize| &pool[(i % 64) * DOC..][..DOC];
    let t = Instant::now();
    let mut done = 0;
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Read(k) => {
                if kv.read_many(&[id_of(k)])? != DOC as u64 {
                    return Err(format!("YCSB read of record {k}: wrong size").into());
                }
            }
            Op::Update(k) | Op::Insert(k) => kv.write_txn(&[(id_of(k), value(i))])?,
            Op::Scan(k, len) => {
                let (n, bytes) = kv.scan_from(id_of(k), len)?;
                if n == 0 || bytes != n * DOC as u64 {
                    return Err(format!("YCSB scan from record {k}: {n} documents").into());
                }
            }
            Op::ReadModifyWrite(k) => {
                let field = (i % 10) * 100;
                kv.read_modify_write(id_of(k), &mut |doc| {
                    doc[field..field + 100].copy_from_slice(&value(i)[..100]);
                })?;
            }
        }
        done += 1;
        if done % 64 == 0 && t.elapsed().as_secs_f64() > cap_secs {
            break;
        }
    }
    Ok(Outcome {
        done,
        secs: crate::secs(t.elapsed()),
    })
}

/// Record numbers per durable transaction of the load (not a timed YCSB workload; its rate
/// is reported on its own row).
pub const LOAD_BATCH: u64 = 10_000;

/// The YCSB section of `docs/performance.md`: ops/s per store and workload, DocDB / best
/// peer, and the generator checks. Empty if YCSB did not run.
pub fn section(cfg: &Config, s: &Samples) -> String {
    let mut o = String::new();
    if med(s, "ycsb-load", "docdb").is_none() {
        return o;
    }
    let peers: Vec<&String> = cfg.stores.iter().filter(|n| *n != "docdb").collect();
    let _ = writeln!(
        o,
        "\n## YCSB core workloads\n\n\
         YCSB's workloads A-F (the proportions of `workloads/workload[a-f]`) with YCSB's own \
         generators, ported to `bench/src/ycsb.rs`: scrambled zipfian (constant 0.99, drawn over \
         YCSB's 10^10 items and FNV-hashed into the records) for A, B, C, E and F, skewed-latest \
         over the insert counter for D, scan lengths uniform in 1-100 for E, and YCSB's default \
         `insertorder=hashed` (record n has id `fnv64(n)`, so loads and inserts land all over \
         the id order). {} records of 1 KiB are loaded ({} per durable transaction; the load \
         row), then the workloads run on the same data in YCSB's recommended order A, B, C, F, \
         D, E, one thread, the same operations for every store; each workload runs on every \
         store in turn (the order rotating) before the next, so that a slow spell of the \
         shared disk hits every store's run of a workload alike. Each update, insert and \
         read-modify-write (read the record, change one 100-byte field, write it back) is \
         one durable transaction at the store's setting above; a read is one document \
         (peers: a read transaction per operation, borrowing; DocDB: `read_cached`, else \
         `read`); a scan reads up to its length from a start id in id order (DocDB \
         `Snapshot::for_each_in(&IdRange::new(start..).limit(len))` on a fresh snapshot; \
         redb `range`, LMDB `range` (a cursor), sled `range`, fjall `range`, SQLite \
         `WHERE id >= ? ORDER BY id LIMIT ?`). Operations: {} for B, C, D and E, {} for A \
         and F (half of theirs are durable commits, bound by fsync); a workload stops early after {} s per store (the \"ops run\" \
         line says where). Run once, not per repetition. Note on sled: its `flush()` \
         ends in `sync_file_range` (sled 0.34, `pagecache/iobuf.rs`), not `fdatasync`, which \
         per its manual page neither flushes the disk's write cache nor writes the file's \
         metadata: sled's commits are not held to the same durability as the others' and can \
         beat the machine's fdatasync rate (here and in (b), (c)), so the ratios leave it \
         out of the best peer of every workload that commits (A, B, D, E, F).\n",
        int(cfg.get("ycsb_records")),
        int(LOAD_BATCH),
        int(cfg.get("ycsb_ops")),
        int(cfg.get("ycsb_write_ops")),
        cfg.get("ycsb_cap"),
    );
    let mut head = String::from("| workload | unit |");
    let mut sep = String::from("|---|---|");
    for st in &cfg.stores {
        let _ = write!(head, " {st} |");
        sep += "---:|";
    }
    let _ = writeln!(o, "{head} DocDB / best peer |\n{sep}---:|");
    let mut row = |key: &str, label: &str, unit: &str| {
        let mut r = format!("| {label} | {unit} |");
        for st in &cfg.stores {
            let _ = write!(r, " {} |", num(med(s, key, st).unwrap_or(f64::NAN)));
        }
        let ratio = vs_best(s, &peers, key, true).map_or("–".into(), |v| format!("{}x", num(v)));
        let _ = writeln!(o, "{r} {ratio} |");
    };
    row("ycsb-load", "load (hashed ids, batched)", "records/s");
    for wl in &WORKLOADS {
        let key = format!("ycsb-{}", wl.name);
        row(&key, &format!("{}: {}", wl.name, wl.describe()), "ops/s");
    }
    let drawn = |wl: &Workload| med(s, &format!("ycsb-{}-ops", wl.name), "generator");
    let capped: Vec<String> = WORKLOADS
        .iter()
        .flat_map(|wl| {
            cfg.stores.iter().filter_map(move |st| {
                let done = med(s, &format!("ycsb-{}-done", wl.name), st)?;
                (done < drawn(wl)?).then(|| format!("{st} {} ({} ops)", wl.name, int(done as u64)))
            })
        })
        .collect();
    let _ = writeln!(
        o,
        "\nOps run: {}.",
        if capped.is_empty() {
            "every store ran every operation drawn".to_string()
        } else {
            format!("stopped at the time cap: {}", capped.join(", "))
        }
    );
    let _ = writeln!(
        o,
        "\nGenerator checks: each workload's generators (same code and settings, another seed) \
         draw the operations counted here, enough per record that the hottest keys can be \
         ranked by their counts; share of the keyed operations on the hottest 1% and 10% of \
         the records (uniform: 1% and 10%; for D's latest, the newest 1% and 10% at the time \
         of each read, as its hottest records move with every insert), and E's mean scan length (uniform 1-100: 50.5).\n\n\
         | workload | operations run | operations checked | on hottest 1% | on hottest 10% | mean scan length |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    for wl in &WORKLOADS {
        let g = |what: &str| med(s, &format!("ycsb-{}-{what}", wl.name), "generator");
        let pct = |v: Option<f64>| v.map_or("–".into(), |v| format!("{:.1}%", 100.0 * v));
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            wl.name,
            drawn(wl).map_or("–".into(), |v| int(v as u64)),
            g("checked").map_or("–".into(), |v| int(v as u64)),
            pct(g("hot1")),
            pct(g("hot10")),
            g("scanlen").map_or("–".into(), num),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv64_matches_ycsb() {
        // FNV-1a 64 over the value's bytes, low first, then Java's `Math.abs` (all three
        // are negative as Java longs, so the abs is exercised).
        assert_eq!(fnv64(0), 0x5738_07cd_d7e5_c63b);
        assert_eq!(fnv64(1), 0x7632_ced6_e2d5_105c);
        assert_eq!(fnv64(12345), 0x18e1_4e7a_1d12_33b4);
    }

    #[test]
    fn proportions_follow_the_workload_files() {
        for wl in &WORKLOADS {
            let ops = wl.generate(10_000, 20_000, 1);
            let share = |f: fn(&Op) -> bool| ops.iter().filter(|o| f(o)).count() as f64 / 2e4;
            let reads = share(|o| matches!(o, Op::Read(_)));
            let inserts = share(|o| matches!(o, Op::Insert(_)));
            assert!((reads - wl.read).abs() < 0.02, "{} reads {reads}", wl.name);
            assert!((inserts - wl.insert).abs() < 0.02, "{} inserts", wl.name);
        }
    }

    #[test]
    fn keys_stay_within_the_records_and_are_skewed() {
        let records = 10_000;
        let ops = WORKLOADS[2].generate(records, 50_000, 2);
        assert!(ops.iter().all(|o| matches!(o, Op::Read(k) if *k < records)));
        let c = WORKLOADS[2].check(&ops, records);
        // Zipfian 0.99: far more than the uniform 1% / 10% on the hottest keys.
        assert!(c.hot1 > 0.1 && c.hot10 > c.hot1 && c.hot10 < 1.0);
        assert!(c.mean_scan.is_none());
    }

    #[test]
    fn latest_prefers_new_records_and_inserts_count_up() {
        let records = 10_000;
        let ops = WORKLOADS[4].generate(records, 20_000, 3);
        let mut newest = records - 1;
        let mut near = 0;
        for op in &ops {
            match *op {
                Op::Insert(k) => {
                    assert_eq!(k, newest + 1);
                    newest = k;
                }
                Op::Read(k) => {
                    assert!(k <= newest);
                    near += u64::from(newest - k < records / 100);
                }
                other => panic!("D does {other:?}"),
            }
        }
        assert!(near as f64 > 0.3 * 19_000.0, "{near} reads near the newest");
        let c = WORKLOADS[4].check(&ops, records);
        assert!(c.hot1 > 0.3 && c.hot10 > c.hot1, "{} {}", c.hot1, c.hot10);
    }

    #[test]
    fn scan_lengths_are_uniform_1_to_100() {
        let ops = WORKLOADS[5].generate(10_000, 20_000, 4);
        let lens: Vec<u64> = ops
            .iter()
            .filter_map(|o| match o {
                Op::Scan(_, l) => Some(*l),
                _ => None,
            })
            .collect();
        assert!(lens.iter().all(|l| (1..=100).contains(l)));
        let mean = lens.iter().sum::<u64>() as f64 / lens.len() as f64;
        assert!((mean - 50.5).abs() < 1.5, "mean {mean}");
        assert!(WORKLOADS[5].check(&ops, 10_000).mean_scan.is_some());
    }
}
