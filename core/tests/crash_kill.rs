//! Real process crashes and the directory lock across processes.
//!
//! - `kill_9_sweep`: a child process (this test binary re-executed with `DOCDB_KILL_CHILD`
//!   set) runs a random workload with background checkpoints and compactions and reports
//!   each commit it tries and each one acknowledged over a pipe; the parent SIGKILLs it at a
//!   random moment, reopens the directory and checks every acknowledged commit is there and
//!   the one in flight is all-or-nothing. 200 kills by default; `DOCDB_KILL_ROUNDS` raises it.
//! - `second_process_is_locked_out_until_the_first_dies`: a second process gets `Locked`;
//!   after the holder is killed the directory opens cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::model::{payload, DbModel, Docs, Rng};
use docdb_core::{BatchOp, ErrorKind, Options, Store, Sync};

const CHILD_ENV: &str = "DOCDB_KILL_CHILD";
const IDS: u64 = 64;

fn opts(sync: Sync) -> Options {
    Options {
        sync,
        segment_size: 16 << 10,
        // Background maintenance runs often, so kills land inside it too.
        compaction_min_dead_bytes: 8 << 10,
        compaction_dead_ratio: 0.3,
        checkpoint_bytes: 24 << 10,
        index_shards: 8,
        ..Options::default()
    }
}

fn sync_of(round: u64) -> Sync {
    if round % 3 == 2 {
        Sync::Normal
    } else {
        Sync::Full
    }
}

/// The child: `DOCDB_KILL_CHILD="workload <dir> <round> <first commit number> <seed>"`.
#[test]
fn child_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let a: Vec<&str> = spec.split_whitespace().collect();
    match a[0] {
        "workload" => child_workload(
            Path::new(a[1]),
            a[2].parse().unwrap(),
            a[3].parse().unwrap(),
            a[4].parse().unwrap(),
        ),
        "hold" => {
            let _store = Store::open(a[1], Options::default()).unwrap();
            println!("@@OPEN");
            std::thread::sleep(Duration::from_secs(600));
        }
        "try" => match Store::open(a[1], Options::default()) {
            Err(e) if e.kind() == ErrorKind::Locked => println!("@@LOCKED"),
            other => println!("@@UNEXPECTED {other:?}"),
        },
        _ => unreachable!(),
    }
}

/// Runs commits until killed. Each is announced (`@@T`) before it is tried and
/// acknowledged (`@@A`) once it returned `Ok`.
fn child_workload(dir: &Path, round: u64, mut c: u64, seed: u64) {
    let store = Store::open(dir, opts(sync_of(round))).unwrap();
    let db = store.open_or_create_db("k").unwrap();
    let mut rng = Rng::new(seed);
    loop {
        c += 1;
        let n = 1 + rng.below(4) as usize;
        let mut writes = Vec::new();
        for _ in 0..n {
            let id = rng.below(IDS);
            let del = rng.below(4) == 0;
            writes.push((id, del));
        }
        // In a batch a "deletion" stores the empty document (`e`; a batch `Delete` of an
        // absent id would fail); in a transaction it deletes if present, else stores the
        // empty document (`d`).
        let batch = rng.below(2) == 0;
        let desc: Vec<String> = writes
            .iter()
            .map(|(id, del)| {
                let k = match (*del, batch) {
                    (false, _) => 'p',
                    (true, true) => 'e',
                    (true, false) => 'd',
                };
                format!("{id}:{k}")
            })
            .collect();
        println!("@@T {c} {}", desc.join(" "));
        let datas: Vec<Vec<u8>> = writes.iter().map(|(id, _)| payload(c, *id)).collect();
        let res = if batch {
            let ops: Vec<BatchOp<'_>> = writes
                .iter()
                .zip(&datas)
                .map(|((id, del), d)| {
                    if *del {
                        BatchOp::Put(*id, b"")
                    } else {
                        BatchOp::Put(*id, d)
                    }
                })
                .collect();
            db.batch(&ops).map(drop)
        } else {
            (|| {
                let mut tx = db.begin()?;
                for ((id, del), d) in writes.iter().zip(&datas) {
                    if *del {
                        if tx.contains(*id)? {
                            tx.delete(*id)?;
                        } else {
                            tx.put(*id, b"")?;
                        }
                    } else {
                        tx.put(*id, d)?;
                    }
                }
                tx.commit().map(drop)
            })()
        };
        match res {
            Ok(()) => println!("@@A {c}"),
            Err(e) => panic!("commit {c} failed: {e}"),
        }
    }
}

/// One announced commit: per id `p` (store the payload), `e` (store the empty document) or
/// `d` (delete if present, else store the empty document), resolved against its state.
struct Tried {
    c: u64,
    writes: Vec<(u64, char)>,
    acked: bool,
}

fn resolve(state: &Docs, t: &Tried) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut cur = state.clone();
    let mut out = Vec::new();
    for &(id, kind) in &t.writes {
        let w = match kind {
            'p' => Some(payload(t.c, id)),
            'e' => Some(Vec::new()),
            _ if cur.contains_key(&id) => None,
            _ => Some(Vec::new()),
        };
        match &w {
            Some(d) => cur.insert(id, d.clone()),
            None => cur.remove(&id),
        };
        out.push((id, w));
    }
    out
}

fn spawn(spec: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test child_entry ... " on the same line first.
            if let Some(at) = line.find("@@") {
                if tx.send(line[at + 2..].to_string()).is_err() {
                    break;
                }
            }
        }
    });
    (child, rx)
}

fn read_state(dir: &Path, sync: Sync, ids: impl Iterator<Item = u64>) -> Docs {
    let store = Store::open(dir, opts(sync)).unwrap_or_else(|e| panic!("reopen failed: {e}"));
    let db = store.open_or_create_db("k").unwrap();
    let snap = db.snapshot().unwrap();
    let mut docs = Docs::new();
    for item in snap.scan().unwrap() {
        let (id, v) = item.unwrap_or_else(|e| panic!("scan failed after a kill: {e}"));
        docs.insert(id, v);
    }
    for id in ids {
        match db.read(id) {
            Ok(v) => assert_eq!(docs.get(&id), Some(&v), "read of {id} disagrees with scan"),
            Err(e) if e.kind() == ErrorKind::NotFound => assert!(!docs.contains_key(&id)),
            Err(e) => panic!("read of {id} failed after a kill: {e}"),
        }
    }
    drop(snap);
    store.close().unwrap();
    docs
}

#[test]
fn kill_9_sweep() {
    let rounds: u64 = std::env::var("DOCDB_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let t = Instant::now();
    let mut rng = Rng::new(0x6b696c6c);
    let mut state = Docs::new();
    let mut next_c = 0;
    let (mut acked_total, mut in_flight_applied, mut in_flight_absent) = (0u64, 0u64, 0u64);
    let mut max_acked = 0;
    for round in 0..rounds {
        let seed = rng.next_u64();
        let spec = format!("workload {} {round} {next_c} {seed}", path.display());
        let (mut child, rx) = spawn(&spec);
        // Kill at a random moment: sometimes during open/recovery, mostly mid-workload.
        let delay = Duration::from_micros(rng.below(40_000));
        let start = Instant::now();
        let mut lines = Vec::new();
        while start.elapsed() < delay {
            if let Ok(l) = rx.recv_timeout(delay.saturating_sub(start.elapsed())) {
                lines.push(l);
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success() && status.code().is_none(),
            "child exited by itself ({status}): it failed before the kill"
        );
        // Everything it wrote before dying is still in the pipe.
        lines.extend(rx.iter());

        let mut tried: Vec<Tried> = Vec::new();
        for l in &lines {
            let mut parts = l.split_whitespace();
            match parts.next() {
                Some("T") => {
                    let c: u64 = parts.next().unwrap().parse().unwrap();
                    let writes = parts
                        .map(|w| {
                            let (id, k) = w.split_once(':').unwrap();
                            (id.parse().unwrap(), k.chars().next().unwrap())
                        })
                        .collect();
                    tried.push(Tried {
                        c,
                        writes,
                        acked: false,
                    });
                }
                Some("A") => {
                    let c: u64 = parts.next().unwrap().parse().unwrap();
                    let t = tried.last_mut().unwrap();
                    assert_eq!(t.c, c);
                    t.acked = true;
                }
                _ => {}
            }
        }
        if let Some(t) = tried.last() {
            next_c = t.c;
        }
        // Model: the state verified after the previous kill, then this round's commits.
        let mut m = DbModel::default();
        m.record(
            state.iter().map(|(k, v)| (*k, Some(v.clone()))).collect(),
            true,
        );
        let mut cur = state.clone();
        let mut acked = 0;
        for t in &tried {
            let writes = resolve(&cur, t);
            assert!(
                t.acked || std::ptr::eq(t, tried.last().unwrap()),
                "only the last commit can be in flight"
            );
            if t.acked {
                acked += 1;
                for (id, w) in &writes {
                    match w {
                        Some(d) => cur.insert(*id, d.clone()),
                        None => cur.remove(id),
                    };
                }
            }
            m.record(writes, t.acked);
        }
        let ids: Vec<u64> = (0..IDS).collect();
        let recovered = read_state(&path, sync_of(round), ids.into_iter());
        if let Err(e) = m.allows(&recovered, true) {
            panic!("round {round} (killed after {delay:?}, {acked} acked): {e}");
        }
        match tried.last() {
            Some(t) if !t.acked => {
                if recovered == cur {
                    in_flight_absent += 1;
                } else {
                    in_flight_applied += 1;
                }
            }
            _ => {}
        }
        acked_total += acked;
        max_acked = max_acked.max(acked);
        state = recovered;
    }
    eprintln!(
        "kill -9 sweep: {rounds} SIGKILLs of a child process at random moments (Sync::Full and \
         Normal, background checkpoints and compactions), {acked_total} acknowledged commits \
         verified after reopen (up to {max_acked} per round), in-flight commit applied whole \
         {in_flight_applied} times and absent whole {in_flight_absent} times, {} documents at \
         the end, losses: 0, {:.1}s",
        state.len(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn second_process_is_locked_out_until_the_first_dies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    // This process holds the directory: another process is refused.
    let store = Store::open(&path, Options::default()).unwrap();
    store.create_db("x").unwrap().put(1, b"one").unwrap();
    let (mut child, rx) = spawn(&format!("try {}", path.display()));
    assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), "LOCKED");
    child.wait().unwrap();
    store.close().unwrap();
    drop(store);

    // Another process holds it: this one is refused until that process is killed.
    let (mut holder, rx) = spawn(&format!("hold {}", path.display()));
    assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), "OPEN");
    match Store::open(&path, Options::default()) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Locked, "{e}"),
        Ok(_) => panic!("a second process opened a locked directory"),
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    let store = Store::open(&path, Options::default()).unwrap();
    assert_eq!(store.open_db("x").unwrap().read(1).unwrap(), b"one");
    store.close().unwrap();
    eprintln!(
        "multi-process lock: second process got Locked (both directions); after SIGKILL of the \
         holder the directory opened cleanly with its data"
    );
}
