//! Delivery run of the receiver: how fast the events stored reach a service that takes a while
//! to answer, in order within each conversation.
//!
//! A sink on loopback (in this process) answers each POST after `20 ms` or `200 ms`; the receiver
//! forwards to it (`SMOOCH_FORWARD_URL`, `SMOOCH_CONCURRENCY` at its default of 16). The load
//! posts `DELIVERY_CONVERSATIONS` conversations (default 1,000) of `DELIVERY_MESSAGES` v2 messages
//! each (default 5): each conversation's messages one after the other, 64 conversations at a time,
//! as fast as they are answered 200 (a burst, as after an outage of the service). Runs:
//!
//! - SQLite, one receiver; PostgreSQL (`RECEIVER_LOAD_DATABASE_URL` or
//!   `RECEIVER_TEST_DATABASE_URL`, a fresh schema each run), two receivers sharing the database,
//!   the load split between them (both in this process: two `Receiver`s, each with its own pool
//!   and scheduler);
//! - each with every conversation answered 200 (**live**: posts and deliveries at once), with one
//!   conversation more that the service refuses (500) all along (the others' rate is compared
//!   with the rate without it), and, at 20 ms, a **backlog**: every event stored while the
//!   service is away (the application waits at a gate), then the gate opens, as when the service
//!   comes back after an outage.
//!
//! For each run: events delivered a second (live: the events of the load over the time from the
//! first post to the last delivery, so never above the intake's rate, which is shown too; backlog:
//! over the time from the gate's opening to the last delivery, the delivery side alone), p50 and
//! p99 from an event's 200 (backlog: from the gate's opening) to its arrival at the sink, and the
//! conversations whose events arrived out of order (each key counted once). The table names the
//! CPU it ran on. `cargo bench -p smooch-receiver --bench delivery` prints it, and one JSON
//! line starting with `{"bench":"delivery"`; without `--bench` (as under `cargo test --benches`)
//! it makes one small run, a smoke test.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use smooch_receiver::{Application, Delivery, Failure, Forward, ForwardSettings, Options, Receiver};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// The secret of the runs.
const SECRET: &str = "delivery-secret-5a0c7e2d";

/// The app id of the bodies.
const APP: &str = "5ebee0975ac5304b664a12fa";

/// Conversations posted at once.
const POSTERS: usize = 64;

/// The load of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Posts and deliveries at once, every conversation answered 200.
    Live,
    /// As `Live`, with one conversation more that the service refuses all along.
    Refused,
    /// Every event stored first, then delivered.
    Backlog,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Refused => "live, one conversation refused",
            Mode::Backlog => "backlog",
        }
    }
}

/// The forward behind a gate: each delivery waits until the gate opens (the service away).
struct Gated {
    gate: watch::Receiver<bool>,
    forward: Forward,
}

impl Application for Gated {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let mut gate = self.gate.clone();
        let _ = gate.wait_for(|open| *open).await;
        self.forward.handle(delivery).await
    }
}

/// One POST the sink got: when, and which event (its conversation and its place).
#[derive(Clone, Debug)]
struct Arrival {
    at: Instant,
    key: String,
    conversation: String,
    message: usize,
}

/// The sink: answers after `latency`, 500 for the conversation `refused`.
async fn sink(latency: Duration, arrivals: Arc<Mutex<Vec<Arrival>>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let arrivals = Arc::clone(&arrivals);
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let arrivals = Arc::clone(&arrivals);
                    async move {
                        let key = request
                            .headers()
                            .get("idempotency-key")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let (conversation, message) = event_of(&body);
                        let refused = conversation == "refused";
                        arrivals.lock().unwrap().push(Arrival {
                            at: Instant::now(),
                            key,
                            conversation,
                            message,
                        });
                        tokio::time::sleep(latency).await;
                        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"ok")));
                        if refused {
                            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

/// The conversation and message number of a delivered body.
fn event_of(body: &[u8]) -> (String, usize) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let payload = &value["events"][0]["payload"];
    (
        payload["conversation"]["id"].as_str().unwrap_or("").to_owned(),
        payload["message"]["content"]["text"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or(usize::MAX),
    )
}

/// Message `m` of conversation `c`.
fn body(conversation: &str, m: usize) -> Vec<u8> {
    format!(
        r#"{{"app":{{"id":"{APP}"}},"webhook":{{"id":"5f4eaef81e3dcc117c7ba48a","version":"v2"}},"events":[{{"id":"{conversation}-{m}","createdAt":"2020-09-30T15:14:29.834Z","type":"conversation:message","payload":{{"conversation":{{"id":"{conversation}","type":"personal"}},"message":{{"id":"m-{conversation}-{m}","received":"2020-09-30T18:00:56.820Z","author":{{"userId":"u-{conversation}","displayName":"Steve","type":"user"}},"content":{{"type":"text","text":"{m}"}},"source":{{"type":"telegram"}}}}}}}}]}}"#
    )
    .into_bytes()
}

/// POSTs `body`, on a kept-alive connection; the status.
async fn post(stream: &mut BufReader<TcpStream>, body: &[u8]) -> Option<u16> {
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: {SECRET}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream_mut = stream.get_mut();
    stream_mut.write_all(head.as_bytes()).await.ok()?;
    stream_mut.write_all(body).await.ok()?;
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let status = line.get(9..12)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut rest = vec![0; length];
    stream.read_exact(&mut rest).await.ok()?;
    Some(status)
}

/// What one run measured.
#[derive(Clone, Debug)]
struct Measured {
    store: &'static str,
    latency_ms: u64,
    mode: Mode,
    events: usize,
    per_second: f64,
    /// The intake's 200s a second while the load was posted.
    posted_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    out_of_order: usize,
    duplicates: usize,
    /// Requests not answered 200 at the first try.
    retried: usize,
}

/// One run: receivers on `stores` (one each), the sink at `latency`, the load, until every event
/// of it arrived.
async fn run(
    name: &'static str,
    stores: &[String],
    latency: Duration,
    mode: Mode,
    conversations: usize,
    messages: usize,
) -> Measured {
    let (open, gate) = watch::channel(mode != Mode::Backlog);
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let sink = sink(latency, Arc::clone(&arrivals)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut receivers = Vec::new();
    for store in stores {
        let options = Options {
            webhook_secrets: Some(SECRET.to_owned()),
            listen: "127.0.0.1:0".to_owned(),
            store: store.replace("{dir}", dir.path().to_str().unwrap()),
            forward_url: Some(format!("http://{sink}/smooch")),
            ..Options::default()
        };
        let receiver = Receiver::open(&options).await.unwrap();
        let address = receiver.address();
        let settings = ForwardSettings::new(options.forward_url.clone().unwrap(), options.forward_timeout);
        let forward = Gated {
            gate: gate.clone(),
            forward: Forward::new(&settings).unwrap(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(receiver.serve(forward, async {
            let _ = stopped.await;
        }));
        receivers.push((address, stop, task));
    }
    let addresses: Vec<SocketAddr> = receivers.iter().map(|(address, _, _)| *address).collect();
    let answered: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let first_post = started;
    let mut names: Vec<String> = (0..conversations).map(|c| format!("c{c}")).collect();
    if mode == Mode::Refused {
        names.insert(conversations / 2, "refused".to_owned());
    }
    let names = Arc::new(Mutex::new(names.into_iter().enumerate().collect::<Vec<_>>()));
    // A request not answered 200 is sent again (on a new connection when the receiver closed
    // it), as Smooch does; they are counted.
    let retried = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let posters: Vec<_> = (0..POSTERS)
        .map(|_| {
            let (names, answered, addresses) = (Arc::clone(&names), Arc::clone(&answered), addresses.clone());
            let retried = Arc::clone(&retried);
            tokio::spawn(async move {
                let mut streams: Vec<Option<BufReader<TcpStream>>> = addresses.iter().map(|_| None).collect();
                loop {
                    let Some((i, name)) = names.lock().unwrap().pop() else {
                        break;
                    };
                    let target = i % addresses.len();
                    for m in 0..messages {
                        let body = body(&name, m);
                        for attempt in 0.. {
                            assert!(attempt < 100, "{name}-{m}: no 200 in 100 tries");
                            if streams[target].is_none() {
                                let stream = TcpStream::connect(addresses[target]).await.unwrap();
                                streams[target] = Some(BufReader::new(stream));
                            }
                            let stream = streams[target].as_mut().unwrap();
                            match post(stream, &body).await {
                                Some(200) => break,
                                answer => {
                                    retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                    if answer.is_none() {
                                        streams[target] = None;
                                    }
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                }
                            }
                        }
                        answered
                            .lock()
                            .unwrap()
                            .insert(format!("{name}-{m}"), Instant::now());
                    }
                }
            })
        })
        .collect();
    for poster in posters {
        poster.await.unwrap();
    }
    let posted = Instant::now();
    // The backlog: every event stored; the service comes back.
    let started = if mode == Mode::Backlog {
        open.send_replace(true);
        posted
    } else {
        started
    };
    let expected = conversations * messages;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let delivered: BTreeSet<String> = arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|arrival| arrival.conversation != "refused")
            .map(|arrival| arrival.key.clone())
            .collect();
        if delivered.len() >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {expected} delivered after 10 minutes",
            delivered.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (_, stop, task) in receivers {
        let _ = stop.send(());
        task.await.unwrap().unwrap();
    }
    let arrivals = arrivals.lock().unwrap().clone();
    let answered = answered.lock().unwrap().clone();
    let mut seen = BTreeSet::new();
    let mut orders: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut waits = Vec::new();
    let mut last = started;
    let mut duplicates = 0;
    for arrival in arrivals
        .iter()
        .filter(|arrival| arrival.conversation != "refused")
    {
        if !seen.insert(arrival.key.as_str()) {
            duplicates += 1;
            continue;
        }
        orders
            .entry(arrival.conversation.as_str())
            .or_default()
            .push(arrival.message);
        let name = format!("{}-{}", arrival.conversation, arrival.message);
        if let Some(at) = answered.get(&name) {
            let since = (*at).max(started);
            waits.push(arrival.at.saturating_duration_since(since).as_secs_f64() * 1000.0);
        }
        last = last.max(arrival.at);
    }
    waits.sort_by(f64::total_cmp);
    let percentile = |p: f64| waits[((waits.len() - 1) as f64 * p).round() as usize];
    let in_order: Vec<usize> = (0..messages).collect();
    Measured {
        store: name,
        latency_ms: latency.as_millis() as u64,
        mode,
        events: expected,
        per_second: expected as f64 / last.duration_since(started).as_secs_f64(),
        posted_per_second: expected as f64 / posted.duration_since(first_post).as_secs_f64(),
        p50_ms: percentile(0.5),
        p99_ms: percentile(0.99),
        out_of_order: orders.values().filter(|order| **order != in_order).count(),
        duplicates,
        retried: retried.load(std::sync::atomic::Ordering::Relaxed),
    }
}

/// A fresh schema in the database at `base`, as a store location.
async fn schema(base: &str, seq: usize) -> String {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let schema = format!("delivery_{}_{seq}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    // Plain text, as the load bench's plain PostgreSQL row (a URL without sslmode uses TLS when
    // the server offers it).
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}sslmode=disable&options=-csearch_path%3D{schema}")
}

/// The CPU model, as `lscpu` names it.
fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let (conversations, messages) = if full {
        (
            number("DELIVERY_CONVERSATIONS", 1000),
            number("DELIVERY_MESSAGES", 5),
        )
    } else {
        (20, 3)
    };
    let latencies: Vec<u64> = if full { vec![20, 200] } else { vec![20] };
    let database = std::env::var("RECEIVER_LOAD_DATABASE_URL")
        .or_else(|_| std::env::var("RECEIVER_TEST_DATABASE_URL"))
        .ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let mut results = Vec::new();
        let mut seq = 0;
        for &latency in &latencies {
            // The backlog at the shortest latency only: there the delivery side's own rate shows.
            let modes: &[Mode] = if latency == latencies[0] {
                &[Mode::Live, Mode::Refused, Mode::Backlog]
            } else {
                &[Mode::Live, Mode::Refused]
            };
            for &mode in modes {
                let latency = Duration::from_millis(latency);
                let sqlite = vec!["{dir}/webhooks.sqlite3".to_owned()];
                results.push(
                    run(
                        "SQLite, 1 receiver",
                        &sqlite,
                        latency,
                        mode,
                        conversations,
                        messages,
                    )
                    .await,
                );
                if let Some(base) = &database {
                    seq += 1;
                    let location = schema(base, seq).await;
                    let two = vec![location.clone(), location];
                    results.push(
                        run(
                            "PostgreSQL, 2 receivers",
                            &two,
                            latency,
                            mode,
                            conversations,
                            messages,
                        )
                        .await,
                    );
                }
            }
        }
        results
    });
    println!(
        "CPU: {}; {conversations} conversations × {messages} events; SMOOCH_CONCURRENCY 16 a receiver",
        cpu()
    );
    println!("| store | sink latency | load | delivered/s | target | intake 200s/s | p50 ms | p99 ms | out of order | duplicates | requests sent again |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for result in &results {
        let receivers = if result.store.starts_with("PostgreSQL") {
            2.0
        } else {
            1.0
        };
        let target = 0.8 * 16.0 * receivers / (result.latency_ms as f64 / 1000.0);
        println!(
            "| {} | {} ms | {} | {:.0} | ≥ {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} |",
            result.store,
            result.latency_ms,
            result.mode.name(),
            result.per_second,
            target,
            result.posted_per_second,
            result.p50_ms,
            result.p99_ms,
            result.out_of_order,
            result.duplicates,
            result.retried
        );
    }
    for pair in results.iter().filter(|result| result.mode == Mode::Refused) {
        if let Some(base) = results.iter().find(|other| {
            other.mode == Mode::Live && other.store == pair.store && other.latency_ms == pair.latency_ms
        }) {
            println!(
                "{} at {} ms: with one conversation refused, the others' rate is {:.2} × the rate without (target ≥ 0.9)",
                pair.store,
                pair.latency_ms,
                pair.per_second / base.per_second
            );
        }
    }
    let json: Vec<String> = results
        .iter()
        .map(|result| {
            format!(
                r#"{{"store":"{}","latency_ms":{},"load":"{}","events":{},"per_second":{:.1},"posted_per_second":{:.1},"p50_ms":{:.1},"p99_ms":{:.1},"out_of_order":{},"duplicates":{}}}"#,
                result.store,
                result.latency_ms,
                result.mode.name(),
                result.events,
                result.per_second,
                result.posted_per_second,
                result.p50_ms,
                result.p99_ms,
                result.out_of_order,
                result.duplicates
            )
        })
        .collect();
    println!(
        r#"{{"bench":"delivery","cpu":"{}","runs":[{}]}}"#,
        cpu(),
        json.join(",")
    );
}
