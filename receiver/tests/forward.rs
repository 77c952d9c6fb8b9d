//! `SMOOCH_FORWARD_URL`: every stored body POSTed byte for byte to a sink (a real HTTP server in
//! this test), on both stores; and two receivers sharing one PostgreSQL database behind the
//! test's own round-robin, one of them SIGKILLed in the middle of the load.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use support::*;
use tokio::net::TcpListener;

/// One POST the sink got.
#[derive(Clone, Debug)]
struct Delivery {
    key: i64,
    kinds: String,
    app: Option<String>,
    attempt: u32,
    body: Vec<u8>,
    at: Instant,
}

/// An HTTP server that records every POST and answers 500 to the first `fail_first` of them.
struct Sink {
    address: SocketAddr,
    got: Arc<Mutex<Vec<Delivery>>>,
}

impl Sink {
    async fn start(fail_first: usize) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(fail_first));
        let recorded = Arc::clone(&got);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (got, failures) = (Arc::clone(&recorded), Arc::clone(&failures));
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (got, failures) = (Arc::clone(&got), Arc::clone(&failures));
                        async move {
                            let header = |name: &str| {
                                request
                                    .headers()
                                    .get(name)
                                    .map(|value| value.to_str().unwrap().to_owned())
                            };
                            let key = header("idempotency-key").unwrap().parse().unwrap();
                            let kinds = header("x-smooch-kinds").unwrap();
                            let app = header("x-smooch-app-id");
                            let attempt = header("x-smooch-attempt").unwrap().parse().unwrap();
                            assert_eq!(header("content-type").as_deref(), Some("application/json"));
                            let body = request.into_body().collect().await.unwrap().to_bytes().to_vec();
                            got.lock().unwrap().push(Delivery {
                                key,
                                kinds,
                                app,
                                attempt,
                                body,
                                at: Instant::now(),
                            });
                            let fail = failures
                                .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
                                .is_ok();
                            let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
                            if fail {
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
        Sink { address, got }
    }

    fn url(&self) -> String {
        format!("http://{}/smooch", self.address)
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }
}

on_both_stores!(every_stored_body_is_forwarded_byte_for_byte_and_retried_until_a_2xx);

async fn every_stored_body_is_forwarded_byte_for_byte_and_retried_until_a_2xx(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        // The first two POSTs fail: the first webhook is retried twice, then goes through.
        let sink = Sink::start(2).await;
        let process = Process::start(
            &store.location(),
            &store.dir().join(format!("forward-{}.log", std::process::id())),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_MAX_ATTEMPTS", "5")],
        );
        let bodies = distinct_bodies(40);
        let mut client = Client::connect(process.address).await;
        for body in &bodies {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        let rows = eventually(Duration::from_secs(30), "every webhook forwarded", || async {
            let rows = store.rows().await;
            (rows.len() == bodies.len() && rows.iter().all(|row| row.state == "done")).then_some(rows)
        })
        .await;
        let got = sink.deliveries();
        let first: BTreeMap<i64, &Delivery> = got.iter().rev().map(|d| (d.key, d)).collect();
        for row in &rows {
            let delivery = first
                .get(&row.id)
                .unwrap_or_else(|| panic!("row {} not forwarded", row.id));
            assert_eq!(delivery.body, row.body, "byte for byte");
            assert_eq!(delivery.kinds, row.kinds);
            assert_eq!(delivery.app, row.app_id);
        }
        // The first webhook: three tries, numbered; the others once each.
        let tries: Vec<u32> = got
            .iter()
            .filter(|d| d.key == rows[0].id)
            .map(|d| d.attempt)
            .collect();
        assert_eq!(tries, [1, 2, 3]);
        assert_eq!(got.len(), rows.len() + 2);
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_the_sink_keeps_refusing_is_set_aside_after_the_attempts() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let sink = Sink::start(usize::MAX).await;
        let process = Process::start(
            &store.location(),
            &store.dir().join("forward.log"),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_MAX_ATTEMPTS", "2")],
        );
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        let rows = eventually(Duration::from_secs(20), "set aside", || async {
            let rows = store.rows().await;
            rows.iter().all(|row| row.state == "failed").then_some(rows)
        })
        .await;
        assert_eq!(rows[0].attempts, 2);
        assert_eq!(
            rows[0].last_error.as_deref(),
            Some("forward: answered 500 Internal Server Error")
        );
        assert_eq!(sink.deliveries().len(), 2);
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_on_one_database_survive_a_kill_of_one_mid_load() {
    const BODIES: usize = 2000;
    const CONNECTIONS: usize = 8;

    let Some(store) = TestStore::postgres("two_receivers").await else {
        return;
    };
    bounded(Duration::from_secs(90), async {
        let sink = Sink::start(0).await;
        let log =
            |name: &str| std::env::temp_dir().join(format!("cluster-{name}-{}.log", std::process::id()));
        let env = [
            ("SMOOCH_FORWARD_URL", sink.url()),
            ("SMOOCH_LEASE", "2s".to_owned()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut first = Process::start(&store.location(), &log("a"), &env);
        let second = Process::start(&store.location(), &log("b"), &env);
        let addresses = [first.address, second.address];
        let bodies = Arc::new(distinct_bodies(BODIES));
        let answered = Arc::new(AtomicUsize::new(0));
        let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The test's own round-robin: body i goes to receiver i % 2; a request that finds its
        // receiver gone is retried on the other one (as a load balancer does, or Smooch later).
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let (bodies, answered) = (Arc::clone(&bodies), Arc::clone(&answered));
                tokio::spawn(async move {
                    let mut clients: [Option<Client>; 2] = [None, None];
                    let mut ok = BTreeSet::new();
                    for i in (c..BODIES).step_by(CONNECTIONS) {
                        // Up to six tries, alternating from receiver i % 2 (as Smooch retries a
                        // request that got no 200, here sooner); a connection that failed or got
                        // something else than 200 is opened again for the next try.
                        for attempt in 0..6 {
                            let target = (i + attempt) % 2;
                            if clients[target].is_none() {
                                clients[target] = Client::try_connect(addresses[target]).await;
                            }
                            let response = match clients[target].as_mut() {
                                Some(client) => client.try_post(Some(CURRENT), &bodies[i]).await,
                                None => None,
                            };
                            if response.as_ref().is_some_and(|response| response.status == 200) {
                                ok.insert(i);
                                answered.fetch_add(1, Relaxed);
                                break;
                            }
                            clients[target] = None;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    ok
                })
            })
            .collect();
        eventually(Duration::from_secs(30), "half the bodies answered", || {
            let done = answered.load(Relaxed) >= BODIES / 2;
            async move { done.then_some(()) }
        })
        .await;
        first.kill();
        killed.store(true, Relaxed);
        let killed_at = Instant::now();
        let mut ok = BTreeSet::new();
        for task in tasks {
            ok.extend(task.await.unwrap());
        }
        assert_eq!(
            ok.len(),
            BODIES,
            "every body answered 200 by one receiver or the other"
        );
        // Retries of bodies answered before, sent to the survivor: 200, not stored again.
        let mut client = Client::connect(second.address).await;
        for i in (0..BODIES).step_by(50) {
            assert_eq!(client.post(Some(NEXT), &bodies[i]).await.status, 200);
        }
        // Every 200 stored exactly once; every row forwarded; none left pending after the lease.
        let rows = eventually(Duration::from_secs(40), "every webhook done", || async {
            let rows = store.rows().await;
            (rows.len() >= BODIES && rows.iter().all(|row| row.state == "done")).then_some(rows)
        })
        .await;
        let mut copies: BTreeMap<&[u8], usize> = BTreeMap::new();
        for row in &rows {
            *copies.entry(&row.body).or_default() += 1;
        }
        assert_eq!(rows.len(), BODIES, "one row per body");
        assert!(bodies.iter().all(|body| copies.get(body.as_slice()) == Some(&1)));
        let got = sink.deliveries();
        let mut forwarded: BTreeMap<i64, Vec<&Delivery>> = BTreeMap::new();
        for delivery in &got {
            forwarded.entry(delivery.key).or_default().push(delivery);
        }
        for row in &rows {
            let deliveries = forwarded
                .get(&row.id)
                .unwrap_or_else(|| panic!("row {} never forwarded", row.id));
            assert!(deliveries.iter().all(|d| d.body == row.body));
            // More than once only for a row the killed receiver held: its first delivery came
            // before the kill.
            if deliveries.len() > 1 {
                assert!(
                    deliveries[0].at <= killed_at,
                    "row {} forwarded twice, not by the killed one",
                    row.id
                );
            }
        }
        let twice = forwarded.values().filter(|d| d.len() > 1).count();
        assert!(
            twice <= 64,
            "{twice} rows forwarded twice: more than one claim of the killed receiver"
        );
        assert!(killed.load(Relaxed));
        second.stop();
    })
    .await;
}
