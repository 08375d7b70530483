//! Server mode: DocDB's server (`docdb-server`'s `run`, in a child process of this binary)
//! and Redis (Debian's `redis-server`, driven by its own `redis-benchmark`), each over a
//! Unix socket, with the same number of 1 KiB values, in the same run.
//!
//! Workloads: random point reads one at a time from one client (latency), the same from
//! `srv_clients` clients with a connection each (throughput), and DocDB's single-document
//! durable commits from `threads` client processes (compared with the in-process (c)).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::stores::Res;
use crate::{fresh, record, secs, Config, Rng, Samples, DOC};

/// The database the server-mode clients use.
const DB: &str = "bench";

/// `redis-server` and `redis-benchmark`, when both are on the PATH (`make bench` installs
/// them from Debian's packages); `Err` says why Redis is not run.
pub fn find_redis() -> Result<(PathBuf, PathBuf), String> {
    let find = |name: &str| {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    };
    match (find("redis-server"), find("redis-benchmark")) {
        (Some(s), Some(b)) => Ok((s, b)),
        _ => Err(
            "redis-server and/or redis-benchmark are not installed (`make bench` installs \
                  Debian's redis-server and redis-tools with apt-get as root; without apt-get \
                  or root the Redis comparison cannot run)"
                .into(),
        ),
    }
}

/// A child process killed when dropped, so that a failed run leaves no server behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts connections on `sock`.
fn wait_for_socket(sock: &Path, child: &mut Child) -> Res<()> {
    let t = Instant::now();
    while UnixStream::connect(sock).is_err() {
        if let Some(status) = child.try_wait()? {
            return Err(format!(
                "server exited before listening on {}: {status}",
                sock.display()
            )
            .into());
        }
        if t.elapsed() > Duration::from_secs(30) {
            return Err(format!("nothing listens on {} after 30 s", sock.display()).into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// One repetition of the server-mode workloads: DocDB's server, then Redis if available.
pub fn run(cfg: &Config, rep: u64, redis: Option<&(PathBuf, PathBuf)>, s: &mut Samples) -> Res<()> {
    // Absolute: the client's `unix://` URLs need an absolute path.
    let dir = std::path::absolute(cfg.dir.join("server-mode"))?;
    fresh(&dir)?;
    let docs = cfg.get("srv_docs");
    let mut rng = Rng::new(0x5e17 ^ rep);
    let values = rng.payloads(docs as usize);
    docdb(cfg, &dir, &values, &mut rng, s)?;
    if let Some((server, bench)) = redis {
        redis_run(cfg, &dir, server, bench, &values, s)?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn docdb(cfg: &Config, dir: &Path, values: &[u8], rng: &mut Rng, s: &mut Samples) -> Res<()> {
    let sock = dir.join("docdb.sock");
    let data = dir.join("docdb-data");
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("child-serve")
        .arg("--data")
        .arg(&data)
        .arg("--unix")
        .arg(&sock)
        // Errors only: `wait_for_socket`'s probe connections end without a handshake.
        .args(["--log-level", "error"])
        .spawn()?;
    wait_for_socket(&sock, &mut child)?;
    let server = Guard(child);
    let cpu = || cpu_micros(server.0.id());
    let url = format!("unix://{}", sock.display());
    let store = connect(&url)?;
    let db = store.create_db(DB)?;
    let docs = values.len() / DOC;
    for (k, chunk) in values.chunks(1000 * DOC).enumerate() {
        let ops: Vec<docdb_core::BatchOp<'_>> = chunk
            .chunks_exact(DOC)
            .enumerate()
            .map(|(i, v)| docdb_core::BatchOp::Put((k * 1000 + i) as u64, v))
            .collect();
        db.batch(&ops)?;
    }
    // Warm: every document once, so the server's record cache holds them (Redis keeps
    // every value in memory too).
    for id in 0..docs as u64 {
        if db.read(id)?.len() != DOC {
            return Err(format!("remote read of {id} returned a wrong size").into());
        }
    }
    let reads = cfg.get("srv_reads");
    let ids: Vec<u64> = (0..reads).map(|_| rng.below(docs as u64)).collect();

    // One client, one request at a time.
    let cpu0 = cpu()?;
    let (_, t) = crate::timed(|| read_ids(&db, &ids))?;
    record(s, "srv-read-1", "docdb", reads as f64 / t);
    record(s, "srv-cpu-read-1", "docdb", (cpu()? - cpu0) / reads as f64);

    // `srv_clients` clients at once, each with its own connection.
    let clients = cfg.n("srv_clients");
    let per = ids.len().div_ceil(clients).max(1);
    let dbs = (0..clients)
        .map(|_| connect(&url)?.open_db(DB).map_err(Into::into))
        .collect::<Res<Vec<_>>>()?;
    let barrier = std::sync::Barrier::new(clients + 1);
    let cpu0 = cpu()?;
    let t = std::thread::scope(|sc| -> Res<f64> {
        let hs: Vec<_> = dbs
            .iter()
            .zip(ids.chunks(per))
            .map(|(db, part)| {
                let barrier = &barrier;
                sc.spawn(move || {
                    barrier.wait();
                    read_ids(db, part)
                })
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        for h in hs {
            h.join().map_err(|_| "client thread panicked")??;
        }
        Ok(secs(t.elapsed()))
    })?;
    record(s, "srv-read-n", "docdb", reads as f64 / t);
    record(s, "srv-cpu-read-n", "docdb", (cpu()? - cpu0) / reads as f64);

    // Durable commits from `threads` processes, as many as the in-process (c).
    let single = cfg.get("single");
    let procs = cfg.get("threads");
    let per = single.div_ceil(procs).max(1);
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for p in 0..procs {
        let first = docs as u64 + p * per;
        let n = per.min(single.saturating_sub(p * per));
        let child = Command::new(&exe)
            .args(["child-remote-commit", &url])
            .args([first.to_string(), n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        children.push(Guard(child));
    }
    let fsyncs_before = store.server_stats()?.fsyncs;
    let cpu0 = cpu()?;
    let mut outs = Vec::new();
    for c in &mut children {
        let mut out = BufReader::new(c.0.stdout.take().ok_or("no stdout")?);
        expect_line(&mut out, "ready")?;
        outs.push(out);
    }
    let t = Instant::now();
    for c in &mut children {
        c.0.stdin.take().ok_or("no stdin")?.write_all(b"go\n")?;
    }
    for out in &mut outs {
        expect_line(out, "done")?;
    }
    let t = secs(t.elapsed());
    for mut c in children {
        let status = c.0.wait()?;
        if !status.success() {
            return Err(format!("child-remote-commit failed: {status}").into());
        }
    }
    record(s, "srv-commit", "docdb", single as f64 / t);
    record(
        s,
        "srv-cpu-commit",
        "docdb",
        (cpu()? - cpu0) / single as f64,
    );
    let fsyncs = store.server_stats()?.fsyncs - fsyncs_before;
    record(
        s,
        "srv-commit-group",
        "docdb",
        single as f64 / fsyncs.max(1) as f64,
    );
    let expect = docs as u64 + single;
    if db.len()? != expect {
        return Err(format!("server holds {} documents, not {expect}", db.len()?).into());
    }
    Ok(())
}

/// CPU time (user + system) process `pid` has used, in µs (Linux's `/proc/PID/stat`, in
/// ticks of 10 ms: good to a few percent over the workloads' seconds).
fn cpu_micros(pid: u32) -> Res<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let rest = stat.rsplit_once(')').ok_or("bad /proc stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>()? + f[12].parse::<f64>()?;
    Ok(ticks * 10_000.0)
}

fn connect(url: &str) -> Res<docdb_client::Store> {
    let opts = docdb_client::ConnectOptions {
        pool_size: 1,
        ..Default::default()
    };
    Ok(docdb_client::Store::connect(url, opts)?)
}

fn read_ids(db: &docdb_client::Database, ids: &[u64]) -> Res<()> {
    for &id in ids {
        if db.read(id)?.len() != DOC {
            return Err(format!("remote read of {id} returned a wrong size").into());
        }
    }
    Ok(())
}

fn expect_line(out: &mut impl BufRead, want: &str) -> Res<()> {
    let mut line = String::new();
    out.read_line(&mut line)?;
    if line.trim() != want {
        return Err(format!("child-remote-commit said {line:?}, expected {want:?}").into());
    }
    Ok(())
}

/// `child-remote-commit URL FIRST N`: connects, says "ready", waits for a line on stdin,
/// puts N documents (ids FIRST..) one durable commit each, says "done".
pub fn child_commit(args: &[String]) -> Res<()> {
    let [url, first, n] = args else {
        return Err("child-remote-commit URL FIRST N".into());
    };
    let (first, n): (u64, u64) = (first.parse()?, n.parse()?);
    let db = connect(url)?.open_db(DB)?;
    let data = Rng::new(first).payloads(n as usize);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    let mut go = String::new();
    std::io::stdin().read_line(&mut go)?;
    for (i, v) in data.chunks_exact(DOC).enumerate() {
        db.put(first + i as u64, v)?;
    }
    writeln!(stdout, "done")?;
    stdout.flush()?;
    Ok(())
}

/// `child-serve` + `docdb serve`'s arguments: runs the server until it is killed.
pub fn child_serve(args: &[String]) -> Res<()> {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: docdb_server::ServeArgs,
    }
    let cli = Cli::try_parse_from(
        std::iter::once("child-serve".to_string()).chain(args.iter().cloned()),
    )?;
    if docdb_server::run(cli.serve) != std::process::ExitCode::SUCCESS {
        return Err("the server failed".into());
    }
    Ok(())
}

fn redis_run(
    cfg: &Config,
    dir: &Path,
    server: &Path,
    bench: &Path,
    values: &[u8],
    s: &mut Samples,
) -> Res<()> {
    let sock = dir.join("redis.sock");
    let data = dir.join("redis-data");
    std::fs::create_dir_all(&data)?;
    // In memory only (no snapshots, no append-only file), no TCP: the cache-server setup
    // Redis is usually run in, and its fastest.
    let mut child = Command::new(server)
        .args(["--port", "0", "--unixsocket"])
        .arg(&sock)
        .args([
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--loglevel", "warning", "--dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()?;
    wait_for_socket(&sock, &mut child)?;
    let _server = Guard(child);
    load_redis(&sock, values)?;
    let docs = values.len() / DOC;
    let reads = cfg.get("srv_reads");
    let one = redis_benchmark(bench, &sock, 1, reads, docs)?;
    record(s, "srv-read-1", "redis", one);
    let n = redis_benchmark(bench, &sock, cfg.get("srv_clients"), reads, docs)?;
    record(s, "srv-read-n", "redis", n);
    Ok(())
}

/// `SET key:%012d value` for every value, pipelined in groups of 1,000 (the key names
/// `redis-benchmark -r N` asks for), then checks `DBSIZE`.
fn load_redis(sock: &Path, values: &[u8]) -> Res<()> {
    let mut conn = UnixStream::connect(sock)?;
    for (g, group) in values.chunks(1000 * DOC).enumerate() {
        let mut out = Vec::with_capacity(group.len() + 64 * 1000);
        let n = group.len() / DOC;
        for (i, v) in group.chunks_exact(DOC).enumerate() {
            let key = format!("key:{:012}", g * 1000 + i);
            write!(
                out,
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n",
                key.len(),
                v.len()
            )?;
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        conn.write_all(&out)?;
        let mut replies = vec![0u8; 5 * n];
        conn.read_exact(&mut replies)?;
        if replies.chunks(5).any(|r| r != b"+OK\r\n") {
            return Err("Redis refused a SET".into());
        }
    }
    conn.write_all(b"*1\r\n$6\r\nDBSIZE\r\n")?;
    let mut reply = String::new();
    BufReader::new(conn).read_line(&mut reply)?;
    let want = format!(":{}", values.len() / DOC);
    if reply.trim() != want {
        return Err(format!("Redis DBSIZE said {reply:?}, expected {want:?}").into());
    }
    Ok(())
}

/// GETs per second from `redis-benchmark -t get` with `clients` connections over random
/// keys among the `keys` loaded.
fn redis_benchmark(bench: &Path, sock: &Path, clients: u64, n: u64, keys: usize) -> Res<f64> {
    let out = Command::new(bench)
        .arg("-s")
        .arg(sock)
        .args(["-t", "get", "-d", &DOC.to_string(), "--csv"])
        .args(["-c", &clients.to_string(), "-n", &n.to_string()])
        .args(["-r", &keys.to_string()])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "redis-benchmark failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    // "test","rps",... then "GET","97087.38",...
    text.lines()
        .find_map(|l| l.strip_prefix("\"GET\",\""))
        .and_then(|rest| rest.split('"').next()?.parse::<f64>().ok())
        .ok_or_else(|| format!("no GET figure in redis-benchmark's output: {text}").into())
}
