//! Renders the samples as `docs/performance.md`: machine, sizes, the ops/s table with
//! DocDB's ratios, the performance targets marked met / not met, binding overhead.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::{Config, Samples, SIZES};

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub(crate) fn med(s: &Samples, w: &str, store: &str) -> Option<f64> {
    s.get(&(w.to_string(), store.to_string()))
        .map(|v| median(v))
}

/// "min-max" of the repetitions, as a measure of the noise.
fn spread(s: &Samples, w: &str, store: &str) -> String {
    match s.get(&(w.to_string(), store.to_string())) {
        Some(v) if v.len() > 1 => {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(0.0, f64::max);
            format!("{}–{}", num(lo), num(hi))
        }
        _ => "–".into(),
    }
}

pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 100.0 {
        // Thousands separators for readability.
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

pub fn int(v: u64) -> String {
    if v >= 1000 {
        num(v as f64)
    } else {
        v.to_string()
    }
}

fn cmd(prog: &str, args: &[&str]) -> String {
    Command::new(prog)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine(cfg: &Config, s: &Samples) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1048576.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let fs = cmd("df", &["--output=fstype,source", &cfg.dir_str()])
        .lines()
        .last()
        .unwrap_or("unknown")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" on ");
    let mut m = String::new();
    let _ = writeln!(m, "| | |\n|---|---|");
    let _ = writeln!(m, "| CPU | {model}, {cores} cores available |");
    let _ = writeln!(m, "| Memory | {mem} |");
    let _ = writeln!(m, "| Kernel | Linux {kernel} |");
    let _ = writeln!(
        m,
        "| Compiler | {} (release profile) |",
        cmd("rustc", &["--version"])
    );
    let _ = writeln!(m, "| File system of the data | {fs} |");
    let _ = writeln!(
        m,
        "| 4 KiB append + fdatasync | {} /s (median; reps {}) |",
        num(med(s, "fsync", "disk").unwrap_or(f64::NAN)),
        spread(s, "fsync", "disk")
    );
    let _ = writeln!(
        m,
        "| 4 KiB overwrite of written blocks + fdatasync | {} /s (median; reps {}) |",
        num(med(s, "overwrite", "disk").unwrap_or(f64::NAN)),
        spread(s, "overwrite", "disk")
    );
    let _ = writeln!(
        m,
        "| Sequential write + final fsync | {} MiB/s (median; reps {}) |",
        num(med(s, "seq", "disk").unwrap_or(f64::NAN)),
        spread(s, "seq", "disk")
    );
    m
}

impl Config {
    fn dir_str(&self) -> String {
        // df needs an existing path: the data directory's parent always exists.
        let p = if self.dir.exists() {
            self.dir.clone()
        } else {
            self.dir
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default()
        };
        p.display().to_string()
    }
}

/// Rows of the main table: key, label, unit, higher-is-better.
const ROWS: &[(&str, &str, &str, bool)] = &[
    ("a", "(a) bulk load, 1 transaction", "docs/s", true),
    (
        "a-random",
        "(a) bulk load, ids in random order",
        "docs/s",
        true,
    ),
    (
        "b",
        "(b) single durable commits, 1 thread",
        "commits/s",
        true,
    ),
    (
        "c",
        "(c) single durable commits, N threads",
        "commits/s",
        true,
    ),
    ("d", "(d) random point reads, warm", "reads/s", true),
    ("e", "(e) random updates, batched", "docs/s", true),
    (
        "f",
        "(f) full scan: ascending load + (e)'s updates",
        "docs/s",
        true,
    ),
    (
        "f-random",
        "(f) full scan: load in random id order",
        "docs/s",
        true,
    ),
    (
        "f-compacted",
        "(f) full scan: after compaction",
        "docs/s",
        true,
    ),
    ("g", "(g) open of the reopened database", "s", false),
    ("h", "(h) disk after (a) / payload bytes", "x", false),
    (
        "g-mem",
        "(h) anonymous memory after (g) per doc",
        "bytes",
        false,
    ),
    (
        "g-load",
        "load of the (g) database, batched",
        "docs/s",
        true,
    ),
];

/// Whether `store`'s figure for `key` counts when picking the best peer. sled's `flush()`
/// ends in `sync_file_range` (sled 0.34, `pagecache/iobuf.rs`), which neither flushes the
/// disk's write cache nor writes the file's metadata: its commits need not survive a power
/// loss as the others' fdatasynced ones do. On rows timed by single durable commits
/// ((b), (c), the YCSB workloads that commit) sled is shown but not counted.
pub(crate) fn counts_as_peer(store: &str, key: &str) -> bool {
    let durable_commits =
        key == "b" || key == "c" || (key.starts_with("ycsb-") && key != "ycsb-load");
    !(store == "sled" && durable_commits)
}

/// Said under tables where [`counts_as_peer`] leaves sled out.
pub(crate) const SLED_NOTE: &str = "sled's durable-commit figures are shown but not counted \
    as the best peer: its `flush()` ends in `sync_file_range`, not `fdatasync`, so its commits \
    need not survive a power loss (sled 0.34, `pagecache/iobuf.rs`).";

/// DocDB's figure over the best peer's for `key` (inverted where lower is better, so that a
/// ratio above 1 always means DocDB is better); `None` without figures.
pub(crate) fn vs_best(s: &Samples, peers: &[&String], key: &str, higher: bool) -> Option<f64> {
    let d = med(s, key, "docdb")?;
    let best = peers
        .iter()
        .filter(|p| counts_as_peer(p, key))
        .filter_map(|p| med(s, key, p))
        .filter(|v| v.is_finite())
        .reduce(|a, b| if higher { a.max(b) } else { a.min(b) })?;
    Some(if higher { d / best } else { best / d })
}

/// DocDB / best peer for every row of the results table and every YCSB workload (what the
/// ratio chart draws), in table order.
pub fn ratios(cfg: &Config, s: &Samples) -> Vec<(String, f64)> {
    let peers: Vec<&String> = cfg.stores.iter().filter(|n| *n != "docdb").collect();
    let mut v: Vec<(String, f64)> = ROWS
        .iter()
        .filter_map(|(key, label, _, higher)| {
            vs_best(s, &peers, key, *higher).map(|r| (label.to_string(), r))
        })
        .collect();
    for wl in &crate::ycsb::WORKLOADS {
        if let Some(r) = vs_best(s, &peers, &format!("ycsb-{}", wl.name), true) {
            v.push((format!("YCSB {}: {}", wl.name, wl.describe()), r));
        }
    }
    v
}

/// Cost of each language's DocDB binding relative to Rust: (language, point read, durable
/// commit), as Rust ops/s over the language's (what the binding chart draws).
pub fn binding_costs(s: &Samples) -> Vec<(String, f64, f64)> {
    let rust = |w: &str| med(s, w, "rust-docdb");
    [
        ("Python", "py-docdb"),
        ("Node", "node-docdb"),
        ("Go", "go-docdb"),
    ]
    .iter()
    .filter_map(|(lang, st)| {
        let read = rust("bind-read")? / med(s, "bind-read", st)?;
        let commit = rust("bind-commit")? / med(s, "bind-commit", st)?;
        Some((lang.to_string(), read, commit))
    })
    .collect()
}

pub fn render(
    cfg: &Config,
    s: &Samples,
    notes: &[String],
    redis_missing: Option<&str>,
    elapsed: Duration,
    analysis: Option<&str>,
) -> String {
    let stores = &cfg.stores;
    let peers: Vec<&String> = stores.iter().filter(|n| *n != "docdb").collect();
    let m = |w: &str, st: &str| med(s, w, st).unwrap_or(f64::NAN);
    let mut o = String::new();
    let _ = writeln!(o, "# DocDB performance\n");
    let _ = writeln!(
        o,
        "Generated by `make bench` (`bench/`){} in {:.0} s; do not edit by hand: \
         the analysis and next steps come from `bench/analysis.md`. Every figure is the \
         median of {} repetition(s) in one run; ratios compare figures of the same run.\n",
        if cfg.smoke {
            " in SMOKE mode (tiny sizes: figures are meaningless)"
        } else {
            ""
        },
        elapsed.as_secs_f64(),
        cfg.get("reps")
    );
    let _ = writeln!(o, "## Machine\n\n{}", machine(cfg, s));
    let _ = writeln!(o, "## Sizes\n\n| size | value | meaning |\n|---|---:|---|");
    for (k, _, _, what) in SIZES {
        let _ = writeln!(o, "| `{k}` | {} | {what} |", int(cfg.get(k)));
    }
    let _ = writeln!(
        o,
        "\nDocuments are 1 KiB of random (incompressible) bytes with u64 ids; each store \
         starts in a fresh directory. Durable commits: DocDB `Sync::Full` (fdatasync, group \
         commit), redb `Durability::Immediate`, LMDB default (sync on commit), sled `flush()` \
         after each commit, fjall `PersistMode::SyncData`, SQLite WAL + `synchronous=FULL` \
         (one connection behind a mutex). DocDB writes a multi-document transaction with \
         `Database::batch`, its atomic blind-write commit (`DOCDB_BENCH_TXN=1` takes the \
         `Transaction` path), with memory limits raised so that large sizes fit. Reads: peers use one read transaction for a whole \
         loop and borrow values where the API allows (their best case); DocDB borrows from its \
         record cache (`Database::read_cached`, default `cache_size`, falling back to \
         `Database::read` on a miss), and its owned `Database::read` is reported below the \
         table; its scan borrows too (`Snapshot::for_each`). (g) runs in fresh processes: open \
         time to a usable handle, and the growth of anonymous resident memory (`RssAnon`, \
         i.e. beyond the page cache and file mappings) across the open.\n"
    );

    let _ = writeln!(o, "## Results\n");
    let mut head = String::from("| workload | unit |");
    let mut sep = String::from("|---|---|");
    for st in stores {
        let _ = write!(head, " {st} |");
        sep += "---:|";
    }
    head += " DocDB / best peer | DocDB / physical | DocDB reps (min–max) |";
    sep += "---:|---:|---|";
    let _ = writeln!(o, "{head}\n{sep}");
    let fsync = m("fsync", "disk");
    let overwrite = m("overwrite", "disk");
    let seq_docs = m("seq", "disk") * 1024.0; // 1 KiB documents per second
    for (key, label, unit, higher) in ROWS {
        let mut row = format!("| {label} | {unit} |");
        for st in stores {
            let _ = write!(row, " {} |", num(m(key, st)));
        }
        let d = m(key, "docdb");
        let vs_best =
            vs_best(s, &peers, key, *higher).map_or("–".into(), |r| format!("{}x", num(r)));
        let phys = match *key {
            "a" => format!("{}x of seq. write", num(d / seq_docs)),
            "b" => format!("{}x of overwrite+fdatasync", num(d / overwrite)),
            "c" => format!("{}x of fdatasync", num(d / fsync)),
            _ => "–".into(),
        };
        let _ = writeln!(row, " {vs_best} | {phys} | {} |", spread(s, key, "docdb"));
        o += &row;
    }
    let _ = writeln!(o, "\n{SLED_NOTE}");
    if let Some(owned) = med(s, "d-owned", "docdb") {
        let lmdb = med(s, "d", "lmdb")
            .map(|l| format!(", {}x LMDB's", num(owned / l)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "\nDocDB's (d) borrows from its record cache (`Database::read_cached`), as the \
             peers borrow from their pages. With an owned copy per read (`Database::read`) the \
             same ids ran at {} reads/s (reps {}{lmdb}).",
            num(owned),
            spread(s, "d-owned", "docdb"),
        );
    }
    let _ = writeln!(
        o,
        "\nThe (f) rows scan every document in id order in three layouts, each store in the \
         same one: (1) after (a)'s ascending bulk load and (e)'s {} random updates ({:.0}% of \
         the documents, ids drawn with replacement); (2) after a bulk load of the same number \
         of documents in one transaction with the ids shuffled (a fresh store; its load rate \
         is the \"ids in random order\" row); (3) layout 1 after the store's explicit \
         compaction: DocDB `Database::compact` (writes live documents in id order), redb \
         `Database::compact`, fjall `Keyspace::major_compact`, SQLite `VACUUM`; LMDB and \
         sled have none, so their row is layout 1 scanned again.",
        int(cfg.get("updates")),
        100.0 * cfg.get("updates") as f64 / cfg.get("docs").max(1) as f64,
    );
    if let Some(c) = med(s, "g-crash", "docdb") {
        let _ = writeln!(
            o,
            "\nDocDB crash path (exit without `close`, no checkpoint written at exit): open \
             in {} s (reps {}), replaying {} MiB of log written since the last background \
             checkpoint. The (g) row is the clean path (checkpoint written by `close`).",
            num(c),
            spread(s, "g-crash", "docdb"),
            num(m("g-replayed", "docdb") / 1048576.0)
        );
    }
    if !notes.is_empty() {
        let _ = writeln!(o);
    }
    for n in notes {
        let _ = writeln!(o, "- {n}");
    }
    o += &crate::ycsb::section(cfg, s);

    // The performance targets DocDB is held to.
    let _ = writeln!(
        o,
        "\n## Targets\n\n| target | measured | status |\n|---|---|---|"
    );
    let best = |key: &str| -> (f64, String) {
        peers
            .iter()
            .filter(|p| counts_as_peer(p, key))
            .map(|p| (m(key, p), p.to_string()))
            .filter(|(v, _)| v.is_finite())
            .fold((f64::NAN, "none".into()), |acc, x| {
                if acc.0.is_nan() || x.0 > acc.0 {
                    x
                } else {
                    acc
                }
            })
    };
    let mut target = |name: &str, measured: String, ok: bool| {
        let _ = writeln!(
            o,
            "| {name} | {measured} | {} |",
            if ok { "**met**" } else { "**not met**" }
        );
    };
    let (a, (ba, bn)) = (m("a", "docdb"), best("a"));
    target(
        "(a) bulk load >= 1.0x best peer",
        format!("{} vs {bn} {} docs/s = {}x", num(a), num(ba), num(a / ba)),
        a >= ba,
    );
    target(
        "(a) bulk load >= 0.8x sequential write",
        format!(
            "{} MiB/s vs {} MiB/s = {}x",
            num(a / 1024.0),
            num(seq_docs / 1024.0),
            num(a / seq_docs)
        ),
        a >= 0.8 * seq_docs,
    );
    let (b, (bb, bbn)) = (m("b", "docdb"), best("b"));
    target(
        "(b) single commits >= 1.0x best peer",
        format!("{} vs {bbn} {} /s = {}x", num(b), num(bb), num(b / bb)),
        b >= bb,
    );
    target(
        "(b) single commits >= 0.9x overwrite+fdatasync",
        format!(
            "{} vs {} /s = {}x",
            num(b),
            num(overwrite),
            num(b / overwrite)
        ),
        b >= 0.9 * overwrite,
    );
    let c = m("c", "docdb");
    target(
        &format!("(c) {} threads >= 4x DocDB's (b)", cfg.get("threads")),
        format!("{} vs {} /s = {}x", num(c), num(b), num(c / b)),
        c >= 4.0 * b,
    );
    let (d, l) = (m("d", "docdb"), m("d", "lmdb"));
    target(
        "(d) point reads >= 1.0x LMDB",
        format!("{} vs {} reads/s = {}x", num(d), num(l), num(d / l)),
        d >= l,
    );
    for (key, what) in [
        ("e", "(e) batched updates"),
        ("f", "(f) scan, ascending load + updates"),
        ("f-random", "(f) scan, random-order load"),
        ("f-compacted", "(f) scan, after compaction"),
    ] {
        let (v, (bv, bn)) = (m(key, "docdb"), best(key));
        target(
            &format!("{what} >= 1.0x best peer"),
            format!("{} vs {bn} {} docs/s = {}x", num(v), num(bv), num(v / bv)),
            v >= bv,
        );
    }
    for wl in &crate::ycsb::WORKLOADS {
        let key = format!("ycsb-{}", wl.name);
        let (v, (bv, bn)) = (m(&key, "docdb"), best(&key));
        target(
            &format!("YCSB {} >= 1.0x best peer", wl.name),
            format!("{} vs {bn} {} ops/s = {}x", num(v), num(bv), num(v / bv)),
            v >= bv,
        );
    }
    let g = m("g", "docdb");
    target(
        &format!(
            "(g) open of {} documents <= 0.5 s",
            int(cfg.get("open_docs"))
        ),
        format!("{} s (crash path {} s)", num(g), num(m("g-crash", "docdb"))),
        g <= 0.5,
    );
    let gm = m("g-mem", "docdb");
    target(
        "(g) resident memory <= 64 bytes/document",
        format!("{} bytes/document", num(gm)),
        gm <= 64.0,
    );
    let h = m("h", "docdb");
    target(
        "(h) disk after bulk load <= 1.1x payload",
        format!("{}x", num(h)),
        h <= 1.1,
    );
    let rr = m("bind-read", "rust-docdb");
    for (lang, store) in [
        ("Python", "py-docdb"),
        ("Node", "node-docdb"),
        ("Go", "go-docdb"),
    ] {
        let v = m("bind-read", store);
        if v.is_finite() {
            target(
                &format!("{lang} point read <= 2x the Rust cost"),
                format!(
                    "{} vs Rust {} reads/s = {}x the cost",
                    num(v),
                    num(rr),
                    num(rr / v)
                ),
                rr / v <= 2.0,
            );
        }
    }
    // Each binding's point reads against its language's peer, in the same run. Node:
    // DocDB's `readInto` (into a buffer the caller reuses) against lmdb-js's
    // `getBinaryFast` (into a buffer lmdb-js reuses), the same contract, with the owned
    // reads (`read`, lmdb-js `get`) beside them. Go: owned copies on both sides.
    let (nr, ng) = (m("bind-read", "node-docdb"), m("bind-read", "node-lmdb"));
    let peer_reads = [
        (
            "Go point read >= bbolt's (pure-Go peer)",
            ("", "go-docdb"),
            ("bbolt ", "go-bbolt"),
            String::new(),
        ),
        (
            "Node point read >= 1.0x lmdb-js getBinaryFast",
            ("readInto ", "node-docdb-into"),
            ("getBinaryFast ", "node-lmdb-fast"),
            format!(
                " (owned: read {} vs get {} = {}x)",
                num(nr),
                num(ng),
                num(nr / ng)
            ),
        ),
        (
            "Python point read >= 1.0x py-lmdb",
            ("read ", "py-docdb"),
            ("py-lmdb ", "py-lmdb"),
            format!(" (read_into {})", num(m("bind-read", "py-docdb-into"))),
        ),
    ];
    for (name, (ours_label, ours), (peer_label, peer), note) in peer_reads {
        let (v, p) = (m("bind-read", ours), m("bind-read", peer));
        if v.is_finite() && p.is_finite() {
            target(
                name,
                format!(
                    "{ours_label}{} vs {peer_label}{} reads/s = {}x{note}",
                    num(v),
                    num(p),
                    num(v / p)
                ),
                v >= p,
            );
        }
    }
    server_targets(cfg, s, redis_missing, &mut target);

    o += &crate::chart::links(cfg, s);

    // Binding overhead.
    let _ = writeln!(
        o,
        "\n## Binding overhead\n\n{} documents loaded, then {} random point reads and {} \
         single-document durable commits, from each language (1 KiB documents). Cost ratio = \
         Rust ops/s / language ops/s for the same DocDB workload (reads: an owned copy of each \
         document in every language, `Database::read` in Rust). Rows ending in `-into` read \
         into one buffer the caller reuses (`readInto`, `read_into`); `node-lmdb-fast` is \
         lmdb-js's `getBinaryFast` (into a buffer lmdb-js reuses), `node-lmdb` its `get`.\n",
        int(cfg.get("bind_docs")),
        int(cfg.get("bind_reads")),
        int(cfg.get("bind_commits"))
    );
    let _ = writeln!(
        o,
        "| runtime / store | point reads/s | cost vs Rust | durable commits/s | cost vs Rust |\n|---|---:|---:|---:|---:|"
    );
    let rc = m("bind-commit", "rust-docdb");
    let mut bind_stores: Vec<&String> = s
        .keys()
        .filter(|(w, _)| w == "bind-read")
        .map(|(_, st)| st)
        .collect();
    bind_stores.sort_by_key(|st| (!st.starts_with("rust"), !st.contains("-docdb"), *st));
    for st in bind_stores {
        let (r, c) = (m("bind-read", st), m("bind-commit", st));
        let ratio = |rust: f64, v: f64| {
            if st.contains("-docdb") && v.is_finite() {
                format!("{}x", num(rust / v))
            } else {
                "–".into()
            }
        };
        let _ = writeln!(
            o,
            "| {st} | {} | {} | {} | {} |",
            num(r),
            ratio(rr, r),
            num(c),
            ratio(rc, c)
        );
    }
    if cfg.python.is_none() || cfg.node.is_none() || cfg.go.is_none() {
        let _ = writeln!(
            o,
            "\n(Python, Node and/or Go not run: pass `--python`/`--node`/`--go`, as `make bench` does.)"
        );
    }
    server_section(cfg, s, redis_missing, &mut o);
    if let Some(a) = analysis {
        let _ = writeln!(o, "\n{}", a.trim_end());
    }
    o
}

/// The server-mode rows of the targets table: remote reads against Redis at the same
/// concurrency and one at a time, remote durable commits against the in-process (c).
fn server_targets(
    cfg: &Config,
    s: &Samples,
    redis_missing: Option<&str>,
    target: &mut impl FnMut(&str, String, bool),
) {
    let m = |w: &str, st: &str| med(s, w, st).unwrap_or(f64::NAN);
    let clients = cfg.get("srv_clients");
    let (dn, rn) = (m("srv-read-n", "docdb"), m("srv-read-n", "redis"));
    let (d1, r1) = (m("srv-read-1", "docdb"), m("srv-read-1", "redis"));
    let missing = |what: &str| format!("{what}; Redis not run: {}", redis_missing.unwrap_or("?"));
    let reads = format!("Remote point reads, {clients} clients >= 1.0x Redis GET (c={clients})");
    let latency = "Remote read latency, one at a time <= 1.2x Redis's (c=1)";
    if rn.is_finite() && r1.is_finite() {
        target(
            &reads,
            format!(
                "{} vs Redis {} reads/s = {}x",
                num(dn),
                num(rn),
                num(dn / rn)
            ),
            dn >= rn,
        );
        let (ld, lr) = (1e6 / d1, 1e6 / r1);
        target(
            latency,
            format!("{} µs vs Redis {} µs = {}x", num(ld), num(lr), num(ld / lr)),
            ld <= 1.2 * lr,
        );
    } else {
        target(&reads, missing(&format!("{} reads/s", num(dn))), false);
        target(latency, missing(&format!("{} µs", num(1e6 / d1))), false);
    }
    let (dc, lc) = (m("srv-commit", "docdb"), m("c", "docdb"));
    let t = cfg.get("threads");
    target(
        &format!("Remote durable commits, {t} processes >= 0.9x local (c), {t} threads"),
        format!(
            "{} vs local {} commits/s = {}x",
            num(dc),
            num(lc),
            num(dc / lc)
        ),
        dc >= 0.9 * lc,
    );
}

/// "## Server mode": DocDB's server beside Redis and beside DocDB in-process.
fn server_section(cfg: &Config, s: &Samples, redis_missing: Option<&str>, o: &mut String) {
    let m = |w: &str, st: &str| med(s, w, st).unwrap_or(f64::NAN);
    let clients = cfg.get("srv_clients");
    let t = cfg.get("threads");
    let _ = writeln!(
        o,
        "\n## Server mode\n\n{docs} documents of 1 KiB in DocDB's server (`docdb serve`: \
         default options, `Sync::Full`, its own process) and as many keys with the same \
         values in Redis (`redis-server`, in memory only: no RDB snapshots, no AOF), each over \
         a Unix socket on this machine, in the same run. Reads: {reads} random ids. DocDB's \
         clients are the blocking Rust client (`docdb-client`), one thread with its own \
         connection per client, each read an owned copy; Redis's are `redis-benchmark -s \
         SOCKET -t get -d 1024 -r {docs} -c C -n {reads}` (one event-loop process driving C \
         connections). Latency one at a time = 1 / reads per second of one client. Durable \
         commits: {single} single-document `put`s from {t} client processes at once, each \
         acknowledged only once fsynced, against the in-process (c) ({single} commits from \
         {t} threads).\n",
        docs = int(cfg.get("srv_docs")),
        reads = int(cfg.get("srv_reads")),
        single = int(cfg.get("single")),
    );
    let _ = writeln!(
        o,
        "| workload | unit | DocDB server | Redis | DocDB vs Redis | DocDB in-process | DocDB server reps (min–max) |\n|---|---|---:|---:|---:|---:|---|"
    );
    let (d1, r1) = (m("srv-read-1", "docdb"), m("srv-read-1", "redis"));
    let local_read = m("bind-read", "rust-docdb");
    let _ = writeln!(
        o,
        "| point reads, 1 client | reads/s | {} | {} | {}x the rate | {} | {} |",
        num(d1),
        num(r1),
        num(d1 / r1),
        num(local_read),
        spread(s, "srv-read-1", "docdb")
    );
    let _ = writeln!(
        o,
        "| read latency, 1 client | µs | {} | {} | {}x the latency | {} | – |",
        num(1e6 / d1),
        num(1e6 / r1),
        num(r1 / d1),
        num(1e6 / local_read),
    );
    let (dn, rn) = (m("srv-read-n", "docdb"), m("srv-read-n", "redis"));
    let _ = writeln!(
        o,
        "| point reads, {clients} clients | reads/s | {} | {} | {}x the rate | – | {} |",
        num(dn),
        num(rn),
        num(dn / rn),
        spread(s, "srv-read-n", "docdb")
    );
    let _ = writeln!(
        o,
        "| durable commits, {t} processes | commits/s | {} | – | – | {} ((c), {t} threads) | {} |",
        num(m("srv-commit", "docdb")),
        num(m("c", "docdb")),
        spread(s, "srv-commit", "docdb")
    );
    let _ = writeln!(
        o,
        "\nThe server's durable commits shared an fsync {} at a time (median; reps {}; the \
         server counts its fsyncs).",
        num(m("srv-commit-group", "docdb")),
        spread(s, "srv-commit-group", "docdb")
    );
    let _ = writeln!(
        o,
        "\nCPU time of the server process per request (its `/proc` figures): {} µs per read \
         with 1 client, {} with {clients}, {} per durable commit.",
        num(m("srv-cpu-read-1", "docdb")),
        num(m("srv-cpu-read-n", "docdb")),
        num(m("srv-cpu-commit", "docdb")),
    );
    let _ = writeln!(
        o,
        "\nThe in-process read column is the binding table's Rust row ({} documents, owned \
         copies, one thread).",
        int(cfg.get("bind_docs"))
    );
    if let Some(why) = redis_missing {
        let _ = writeln!(o, "\n**Redis was not run**: {why}.");
    }
}
