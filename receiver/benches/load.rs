//! Load run of the receiver: durable on SQLite, durable on PostgreSQL in plain text
//! (`sslmode=disable`) and over TLS (`sslmode=require`), and the in-memory hand-off (the receiver
//! before issue 11: a bounded queue, nothing on disk), on the same machine, in the same run.
//!
//! Each receiver runs as its own process (this executable, started again with
//! `RECEIVER_LOAD_ROLE=sqlite`, `postgres`, `postgres-tls` or `memory`), so that its peak memory is its own: `VmHWM` from
//! `/proc/<pid>/status`, read before it is stopped; its CPU time per request comes from
//! `/proc/<pid>/task/*/stat` (for PostgreSQL, the server's backends are not counted there). All
//! run the receiver's whole request path (the key check, room in the byte budget, the body under
//! its timeout, the parse, the idempotency key, one log line per request to a file, the
//! application claiming every webhook); they differ only in the store behind the `Store` trait.
//! PostgreSQL is the database named by `RECEIVER_LOAD_DATABASE_URL` (or
//! `RECEIVER_TEST_DATABASE_URL`), each run in a fresh schema; without one it is left out. This process is the load: [`CONNECTIONS`] keep-alive connections
//! over loopback, each sending distinct webhook bodies (the fixtures, each with a sequence
//! number) one after another as fast as they are answered, for `RECEIVER_LOAD_SECS` seconds
//! (default 20) after two seconds of warm-up. The receivers take turns, in alternating order,
//! `RECEIVER_LOAD_ROUNDS` rounds (default 3); the table gives medians, and the throughput ratio
//! is the median of each round's ratio, so that a slow phase of a shared machine hits both alike.
//!
//! `cargo bench --bench receiver_load` prints a table and one JSON line starting with
//! `{"bench":"receiver_load"`. Without `--bench` (as under `cargo test --benches`), it makes one
//! short round: a smoke test whose numbers mean little. `RECEIVER_LOAD_ONLY=sqlite` (or
//! `postgres`, `postgres-tls`, `memory`) runs one receiver only, for a profiler; each receiver logs to a file in a
//! temporary directory, or in `RECEIVER_LOAD_LOGS` if set.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smooch_receiver::metrics::Metrics;
use smooch_receiver::store::{
    Accepted, DeadLetter, Failed, Incoming, Purged, Settings, Stats, Store, StoreError, StoreFuture, Stored,
    Taken,
};
use smooch_receiver::{LogApplication, Logging, Options, Receiver};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

/// Connections of the load, each one request at a time.
const CONNECTIONS: usize = 100;

/// The secret.
const SECRET: &str = "load-secret-3b7c9e01";

/// The receivers, in the order of the table.
const MODES: [&str; 4] = ["sqlite", "postgres", "postgres-tls", "memory"];

/// Whether a receiver stores in PostgreSQL.
fn is_postgres(mode: &str) -> bool {
    mode.starts_with("postgres")
}

fn main() {
    match std::env::var("RECEIVER_LOAD_ROLE") {
        Ok(mode) => serve(&mode),
        Err(_) => load(),
    }
}

/// The PostgreSQL database of the run, if any.
fn database_url() -> Option<String> {
    std::env::var("RECEIVER_LOAD_DATABASE_URL")
        .or_else(|_| std::env::var("RECEIVER_TEST_DATABASE_URL"))
        .ok()
}

// ---------------------------------------------------------------------------------------------
// The receiver side.

/// Runs a receiver on 127.0.0.1, port chosen by the system and printed on standard output, until
/// SIGTERM: on the store at `SMOOCH_STORE` (`sqlite`, `postgres`), or the in-memory hand-off.
fn serve(mode: &str) {
    let _logging = Logging::init(tracing::Level::INFO);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = Options {
            webhook_secrets: Some(SECRET.to_owned()),
            listen: "127.0.0.1:0".to_owned(),
            store: std::env::var("SMOOCH_STORE").unwrap_or_default(),
            ..Options::default()
        };
        let metrics = Metrics::new();
        let store: Arc<dyn Store> = if mode == "memory" {
            Arc::new(MemoryHandoff::new(1024))
        } else {
            let settings = Settings {
                lease: options.limits.lease,
                wal_limit: options.limits.wal_limit,
                timeout: options.limits.store_timeout,
                observer: Arc::clone(&metrics) as Arc<dyn smooch_receiver::store::Observer>,
            };
            smooch_receiver::store::open(&options.store, &settings)
                .await
                .unwrap()
        };
        let receiver = Receiver::with_store(&options, store, metrics).await.unwrap();
        println!("port {}", receiver.address().port());
        let terminate = async {
            let mut signal =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
            signal.recv().await;
        };
        receiver.serve(LogApplication, terminate).await.unwrap();
    });
}

/// The hand-off of the receiver before issue 11, behind the same trait: a queue of at most
/// `capacity` webhooks in memory, a 503 when it stays full for a second, nothing kept on disk
/// (so nothing survives a crash), no idempotency; one lane, each event handed out once.
struct MemoryHandoff {
    queue: Mutex<VecDeque<Stored>>,
    held: std::sync::atomic::AtomicBool,
    capacity: usize,
    room: Notify,
    work: Notify,
    next_id: AtomicI64,
}

impl MemoryHandoff {
    fn new(capacity: usize) -> MemoryHandoff {
        MemoryHandoff {
            queue: Mutex::new(VecDeque::with_capacity(capacity)),
            held: std::sync::atomic::AtomicBool::new(false),
            capacity,
            room: Notify::new(),
            work: Notify::new(),
            next_id: AtomicI64::new(1),
        }
    }
}

impl Store for MemoryHandoff {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            loop {
                let room = self.room.notified();
                {
                    let mut queue = self.queue.lock().unwrap();
                    if queue.len() < self.capacity {
                        let id = self.next_id.fetch_add(1, Relaxed);
                        queue.push_back(Stored {
                            id,
                            key: webhook.key,
                            lane: "memory".to_owned(),
                            kind: webhook.kinds,
                            webhook_id: id,
                            received_at: webhook.received_at,
                            app_id: webhook.app_id,
                            attempts: 0,
                            index: 0,
                            events: 1,
                            body: Arc::new(webhook.body),
                        });
                        self.work.notify_one();
                        return Ok(Accepted::New(id));
                    }
                }
                if tokio::time::timeout_at(deadline, room).await.is_err() {
                    return Err(StoreError("the queue is full".to_owned()));
                }
            }
        })
    }

    fn dead_letter(&self, _letter: DeadLetter) -> StoreFuture<'_, i64> {
        Box::pin(async { Ok(0) })
    }

    fn take(&self, _max: usize) -> StoreFuture<'_, Vec<Taken>> {
        let waiting = !self.queue.lock().unwrap().is_empty();
        let taken = waiting && !self.held.swap(true, Relaxed);
        Box::pin(async move {
            Ok(if taken {
                vec![Taken {
                    lane: "memory".to_owned(),
                    after: 0,
                }]
            } else {
                Vec::new()
            })
        })
    }

    fn next(&self, _lane: &str, _after: i64, max: usize, _max_bytes: usize) -> StoreFuture<'_, Vec<Stored>> {
        let mut queue = self.queue.lock().unwrap();
        let count = queue.len().min(max);
        let batch: Vec<Stored> = queue.drain(..count).collect();
        drop(queue);
        if !batch.is_empty() {
            self.room.notify_waiters();
        }
        Box::pin(async move { Ok(batch) })
    }

    fn done(&self, _marks: Vec<(String, i64)>) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn failed(&self, _delivery: &Stored, _error: String, _max_attempts: u32) -> StoreFuture<'_, Failed> {
        Box::pin(async { Ok(Failed::Retry { attempts: 1 }) })
    }

    fn extend(&self, lanes: Vec<String>) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { Ok(lanes) })
    }

    fn release(&self, _lanes: Vec<String>) -> StoreFuture<'_, ()> {
        self.held.store(false, Relaxed);
        self.work.notify_one();
        Box::pin(async { Ok(()) })
    }

    fn purge(&self, _age: Duration, _max_rows: usize) -> StoreFuture<'_, Purged> {
        Box::pin(async { Ok(Purged::default()) })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(async { Ok(Stats::default()) })
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn new_work(&self) -> Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.work.notified())
    }

    fn broken(&self) -> Pin<Box<dyn std::future::Future<Output = String> + Send + '_>> {
        Box::pin(std::future::pending())
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

// ---------------------------------------------------------------------------------------------
// The load side.

/// What one receiver did under one load run.
#[derive(Clone, Debug)]
struct Run {
    mode: &'static str,
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
    peak_kib: u64,
    stored: Option<usize>,
    /// CPU time of the load (this process) per request, in microseconds.
    load_cpu_us: f64,
    /// CPU time of the receiver per request, in microseconds, by thread name (summed).
    cpu_us: Vec<(String, f64)>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

fn load() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let seconds: u64 = match std::env::var("RECEIVER_LOAD_SECS") {
        Ok(value) => value.parse().expect("RECEIVER_LOAD_SECS: whole seconds"),
        Err(_) if full => 20,
        Err(_) => 1,
    };
    let rounds = match std::env::var("RECEIVER_LOAD_ROUNDS") {
        Ok(value) => value.parse().expect("RECEIVER_LOAD_ROUNDS: a whole number"),
        Err(_) if full => 3,
        Err(_) => 1,
    };
    let bodies = Arc::new(bodies());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runs = Vec::new();
    let mut next_seq = 0;
    for round in 0..rounds {
        // The order alternates, so that none always runs first.
        let mut modes: Vec<&'static str> = MODES.to_vec();
        if database_url().is_none() {
            modes.retain(|mode| !is_postgres(mode));
        }
        if round % 2 == 1 {
            modes.reverse();
        }
        if let Ok(only) = std::env::var("RECEIVER_LOAD_ONLY") {
            modes.retain(|mode| *mode == only);
        }
        for mode in modes {
            let run = runtime.block_on(run_one(
                mode,
                Duration::from_secs(seconds),
                &bodies,
                &mut next_seq,
            ));
            let cpu: Vec<String> = run
                .cpu_us
                .iter()
                .map(|(name, us)| format!("{name} {us:.1}"))
                .collect();
            eprintln!(
                "round {} {:>8}: {:>7.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, peak {} KiB, {} errors; \
                 CPU us/request: {:.1} ({}), load {:.1}",
                round + 1,
                run.mode,
                run.per_second(),
                run.percentile_ms(0.50),
                run.percentile_ms(0.99),
                run.peak_kib,
                run.errors,
                run.cpu_us.iter().map(|(_, us)| us).sum::<f64>(),
                cpu.join(", "),
                run.load_cpu_us
            );
            runs.push(run);
        }
    }
    report(&runs, seconds);
}

/// The fixtures that are webhook bodies.
fn bodies() -> Vec<Vec<u8>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if !path.ends_with("later-docs-fragments") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &mut out,
    );
    assert!(out.len() > 50, "{} fixtures", out.len());
    out
}

/// `body` with `"loadSeq": seq` as its first key, so that every request is a distinct body.
fn with_seq(body: &[u8], seq: usize) -> Vec<u8> {
    let open = body.iter().position(|&b| b == b'{').unwrap();
    let mut out = Vec::with_capacity(body.len() + 24);
    out.extend_from_slice(&body[..=open]);
    out.extend_from_slice(format!("\"loadSeq\": {seq},").as_bytes());
    out.extend_from_slice(&body[open + 1..]);
    out
}

async fn run_one(
    mode: &'static str,
    length: Duration,
    bodies: &Arc<Vec<Vec<u8>>>,
    next_seq: &mut usize,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("webhooks.sqlite3");
    let schema = format!("load_{}_{}", std::process::id(), *next_seq);
    let location = match mode {
        "postgres" | "postgres-tls" => {
            let base = database_url().expect("a database for the PostgreSQL run");
            let client = pg_connect(&base).await;
            client
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .await
                .unwrap();
            // Plain text said explicitly: the default, `prefer`, would use TLS where the server
            // offers it.
            let tls = if mode == "postgres" { "disable" } else { "require" };
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("{base}{separator}options=-csearch_path%3D{schema}&sslmode={tls}")
        }
        _ => db.to_str().unwrap().to_owned(),
    };
    let log_dir = std::env::var_os("RECEIVER_LOAD_LOGS").map_or_else(|| dir.path().to_owned(), Into::into);
    let log = std::fs::File::create(log_dir.join(format!("{mode}-{}.log", *next_seq))).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("RECEIVER_LOAD_ROLE", mode)
        .env("SMOOCH_STORE", &location)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], port));

    // Warm-up, then the measured run.
    let warm_up = Duration::from_secs(2);
    let _ = drive(address, bodies, next_seq, warm_up).await;
    let cpu_before = cpu_by_thread(child.id());
    let load_before: u64 = cpu_by_thread(std::process::id()).iter().map(|(_, t)| t).sum();
    let started = Instant::now();
    let (latencies, errors) = drive(address, bodies, next_seq, length).await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = cpu_by_thread(child.id());
    let load_after: u64 = cpu_by_thread(std::process::id()).iter().map(|(_, t)| t).sum();
    let peak_kib = peak_kib(child.id());
    let requests = latencies.len();

    send_sigterm(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "{mode} receiver: {status}");
    let stored = match mode {
        "sqlite" => {
            let connection = rusqlite::Connection::open(&db).unwrap();
            Some(
                connection
                    .query_row("SELECT count(*) FROM webhooks", [], |row| row.get::<_, i64>(0))
                    .unwrap() as usize,
            )
        }
        "postgres" | "postgres-tls" => {
            let base = database_url().unwrap();
            let client = pg_connect(&base).await;
            let count: i64 = client
                .query_one(&format!("SELECT count(*) FROM {schema}.webhooks"), &[])
                .await
                .unwrap()
                .get(0);
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap();
            Some(count as usize)
        }
        _ => None,
    };
    let mut latencies_us = latencies;
    latencies_us.sort_unstable();
    let mut cpu: Vec<(String, f64)> = cpu_after
        .iter()
        .map(|(name, after)| {
            let before = cpu_before.iter().find(|(n, _)| n == name).map_or(0, |(_, t)| *t);
            (name.clone(), (after - before) as f64 * 10_000.0 / requests as f64)
        })
        .collect();
    cpu.sort_by(|a, b| b.1.total_cmp(&a.1));
    let load_cpu_us = (load_after - load_before) as f64 * 10_000.0 / requests as f64;
    Run {
        load_cpu_us,
        cpu_us: cpu,
        mode,
        requests,
        errors,
        seconds,
        latencies_us,
        peak_kib,
        stored,
    }
}

async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// `CONNECTIONS` connections sending for `length`; the latency of every answered request (in
/// microseconds) and the number of requests that got something other than 200.
async fn drive(
    address: SocketAddr,
    bodies: &Arc<Vec<Vec<u8>>>,
    next_seq: &mut usize,
    length: Duration,
) -> (Vec<u32>, usize) {
    let until = Instant::now() + length;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|connection| {
            let bodies = Arc::clone(bodies);
            let first = *next_seq + connection;
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(address).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (reader, mut writer) = stream.into_split();
                let mut reader = tokio::io::BufReader::new(reader);
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut seq = first;
                let mut request = Vec::new();
                let mut line = String::new();
                while Instant::now() < until {
                    let body = with_seq(&bodies[seq % bodies.len()], seq);
                    seq += CONNECTIONS;
                    request.clear();
                    request.extend_from_slice(
                        format!(
                            "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                             X-API-Key: {SECRET}\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    );
                    request.extend_from_slice(&body);
                    let sent = Instant::now();
                    writer.write_all(&request).await.unwrap();
                    // The status line, the headers, then the body by its Content-Length.
                    line.clear();
                    reader.read_line(&mut line).await.unwrap();
                    let ok = line.starts_with("HTTP/1.1 200");
                    let mut length = 0;
                    loop {
                        line.clear();
                        reader.read_line(&mut line).await.unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut answer = vec![0; length];
                    reader.read_exact(&mut answer).await.unwrap();
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut most = 0;
    for task in tasks {
        let (mine, failed) = task.await.unwrap();
        most = most.max(mine.len());
        latencies.extend(mine);
        errors += failed;
    }
    *next_seq += CONNECTIONS * (most + 1);
    (latencies, errors)
}

/// The CPU time of each thread of a process, summed by thread name, in clock ticks (1/100 s).
fn cpu_by_thread(pid: u32) -> Vec<(String, u64)> {
    let mut by_name: Vec<(String, u64)> = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ... : the fields after the closing parenthesis, utime is the 12th.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let name = head.split_once(" (").map_or("?", |(_, name)| name).to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        match by_name.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += ticks,
            None => by_name.push((name, ticks)),
        }
    }
    by_name
}

/// The peak resident memory of a process (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[allow(unsafe_code)] // one libc call, with no pointer
fn send_sigterm(pid: u32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill(2) takes two integers and touches no memory of this process.
    let result = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(result, 0);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn report(runs: &[Run], seconds: u64) {
    let rounds = runs.iter().filter(|run| run.mode == "memory").count();
    println!();
    println!(
        "{CONNECTIONS} connections, {seconds} s per run, {rounds} run(s) per receiver, medians of the runs"
    );
    println!();
    println!(
        "| receiver | requests/s | p50 ms | p99 ms | max ms | peak RSS MiB | CPU µs/request | non-200 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = Vec::new();
    for mode in MODES {
        let mine: Vec<&Run> = runs.iter().filter(|run| run.mode == mode).collect();
        if mine.is_empty() {
            continue;
        }
        let rate = median(mine.iter().map(|run| run.per_second()).collect());
        let p50 = median(mine.iter().map(|run| run.percentile_ms(0.50)).collect());
        let p99 = median(mine.iter().map(|run| run.percentile_ms(0.99)).collect());
        let max = mine.iter().map(|run| run.percentile_ms(1.0)).fold(0.0, f64::max);
        let peak = mine.iter().map(|run| run.peak_kib).max().unwrap_or(0) as f64 / 1024.0;
        let cpu = median(
            mine.iter()
                .map(|run| run.cpu_us.iter().map(|(_, us)| us).sum())
                .collect(),
        );
        let errors: usize = mine.iter().map(|run| run.errors).sum();
        let name = match mode {
            "sqlite" => "durable: SQLite, grouped commits, fsync before the 200",
            "postgres" => "durable: PostgreSQL (local), grouped multi-row inserts, commit before the 200",
            "postgres-tls" => "durable: PostgreSQL (local) over TLS (`sslmode=require`), the same",
            _ => "in-memory hand-off (before issue 11)",
        };
        println!("| {name} | {rate:.0} | {p50:.2} | {p99:.2} | {max:.1} | {peak:.1} | {cpu:.0} | {errors} |");
        for run in &mine {
            if let Some(stored) = run.stored {
                // Every 200 of the warm-up and of the run is a distinct body: one row each.
                assert!(
                    stored >= run.requests - run.errors,
                    "{stored} rows for {} answers",
                    run.requests
                );
            }
        }
        json.push(format!(
            "\"{mode}\":{{\"requests_per_s\":{rate:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3},\
             \"max_ms\":{max:.3},\"peak_rss_mib\":{peak:.1},\"cpu_us_per_request\":{cpu:.1},\"non_200\":{errors}}}"
        ));
    }
    // Each round's runs against each other, next to each other in time.
    let per_round = runs.len() / rounds.max(1);
    let ratio = |over: &str, under: &str| -> Vec<f64> {
        runs.chunks(per_round)
            .filter_map(|round| {
                let a = round.iter().find(|run| run.mode == over)?;
                let b = round.iter().find(|run| run.mode == under)?;
                Some(a.per_second() / b.per_second())
            })
            .collect()
    };
    println!();
    for (over, under, target, key) in [
        ("sqlite", "memory", Some(0.6), "sqlite_over_memory"),
        ("postgres", "sqlite", Some(0.5), "postgres_over_sqlite"),
        ("postgres-tls", "postgres", None, "postgres_tls_over_postgres"),
    ] {
        let ratios = ratio(over, under);
        if ratios.is_empty() {
            continue;
        }
        let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        let median = median(ratios);
        let target = target.map_or_else(String::new, |target| format!("; target at least {target}"));
        println!(
            "{over} / {under} throughput: {median:.2} (rounds: {}{target})",
            each.join(", ")
        );
        json.push(format!("\"{key}\":{median:.3}"));
    }
    println!(
        "{{\"bench\":\"receiver_load\",\"connections\":{CONNECTIONS},\"seconds\":{seconds},{}}}",
        json.join(",")
    );
}
