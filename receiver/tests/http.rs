//! The receiver in this process: its real listener, connections and store (a SQLite file in a
//! temporary directory, or a PostgreSQL schema), over real HTTP on loopback. One scenario per
//! test; those that concern the store run on both stores. What needs a real process (a kill,
//! SIGTERM, thousands of connections, the log) is in `process.rs`.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smooch_receiver::metrics::Metrics;
use smooch_receiver::store::{
    Accepted, DeadLetter, Failed, Incoming, Purged, Stats, Store, StoreFuture, Stored, Taken,
    DEAD_LETTER_PREFIX,
};
use smooch_receiver::{Application, Broken, Delivery, Failure, Limits, LogApplication, Options, Receiver};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The body limit of most test servers (every fixture is under 3 KB).
const LIMIT: usize = 16 * 1024;

/// A receiver running in this process.
struct Server {
    address: std::net::SocketAddr,
    admin: Option<std::net::SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), Broken>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The options of a test receiver on `store`: both secrets, a port of its own, `limits`.
fn options(store: &TestStore, limits: Limits) -> Options {
    Options {
        webhook_secrets: Some(format!("{NEXT},{CURRENT}")),
        listen: "127.0.0.1:0".to_owned(),
        store: store.location(),
        limits,
        ..Options::default()
    }
}

impl Server {
    async fn start(store: &TestStore, limits: Limits) -> Server {
        Server::start_with(store, limits, LogApplication).await
    }

    async fn start_with(store: &TestStore, limits: Limits, application: impl Application) -> Server {
        let receiver = Receiver::open(&options(store, limits)).await.unwrap();
        Server::run(receiver, application)
    }

    fn run(receiver: Receiver, application: impl Application) -> Server {
        let address = receiver.address();
        let admin = receiver.admin_address();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(receiver.serve(application, async {
            let _ = stopped.await;
        }));
        Server {
            address,
            admin,
            stop: Some(stop),
            task,
        }
    }

    /// Asks the receiver to stop, as a signal does, and waits for it.
    async fn stop(mut self) -> Result<(), Broken> {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.task).await.unwrap()
    }
}

/// The test limits: the default ones but for a small body limit.
fn limits() -> Limits {
    Limits {
        max_body: LIMIT,
        ..Limits::default()
    }
}

on_both_stores!(
    every_webhook_fixture_is_stored_once_with_its_description,
    a_retry_is_answered_200_and_stored_once_even_at_the_same_moment,
    what_is_not_a_webhook_body_is_kept_as_a_dead_letter_and_answered_400,
    the_body_limit_is_inclusive_and_a_body_within_the_dead_letter_limit_is_kept_whole,
    a_body_over_the_dead_letter_limit_leaves_its_size_and_its_first_64_kib,
    a_wrong_or_missing_key_is_answered_401_and_the_connection_closed,
    the_application_failing_is_restarted_and_never_stops_the_receiver,
    an_application_far_behind_gets_every_delivery_once,
    requeue_gives_the_deliveries_set_aside_back_without_a_restart,
    a_dead_letter_that_parses_now_is_replayed_once,
    done_webhooks_are_deleted_after_the_retention_in_small_batches,
    the_admin_listener_says_live_ready_and_counts,
);

async fn every_webhook_fixture_is_stored_once_with_its_description(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let server = Server::start(&store, limits()).await;
        let mut client = Client::connect(server.address).await;
        let fixtures = webhook_fixtures();
        assert!(fixtures.len() >= 90, "only {} fixtures", fixtures.len());
        for (i, (name, bytes)) in fixtures.iter().enumerate() {
            let key = if i % 2 == 0 { CURRENT } else { NEXT };
            let response = client.post(Some(key), bytes).await;
            assert_eq!((response.status, response.body.as_str()), (200, "ok"), "{name}");
        }
        // One row per distinct body, in the order they first arrived, each with its description.
        let mut distinct: Vec<&Vec<u8>> = Vec::new();
        for (_, body) in &fixtures {
            if !distinct.contains(&body) {
                distinct.push(body);
            }
        }
        let rows = store.rows().await;
        let stored: Vec<&Vec<u8>> = rows.iter().map(|row| &row.body).collect();
        assert_eq!(stored, distinct);
        for row in &rows {
            let value: serde_json::Value = serde_json::from_slice(&row.body).unwrap();
            if let Some(trigger) = value["trigger"].as_str() {
                assert_eq!(row.kinds, trigger, "v1: the trigger");
                assert_eq!(row.app_id.as_deref(), value["app"]["_id"].as_str());
            } else {
                let types: Vec<&str> = value["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|event| event["type"].as_str().unwrap_or_default())
                    .collect();
                assert_eq!(row.kinds, types.join(","), "v2: the event types");
                assert_eq!(row.app_id.as_deref(), value["app"]["id"].as_str());
            }
            assert_eq!(
                row.key,
                <sha2::Sha256 as sha2::Digest>::digest(&row.body).to_vec()
            );
            assert_recent(&row.received_at);
        }
        assert!(store.dead_letters().await.is_empty());
        server.stop().await.unwrap();
    })
    .await;
}

async fn a_retry_is_answered_200_and_stored_once_even_at_the_same_moment(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(&store, limits()).await;
        let body = fixture("postback.json");
        // Twenty copies at once on twenty connections: they fall in the same commit group or not.
        let copies: Vec<_> = (0..20)
            .map(|_| {
                let body = body.clone();
                let address = server.address;
                tokio::spawn(async move {
                    Client::connect(address)
                        .await
                        .post(Some(NEXT), &body)
                        .await
                        .status
                })
            })
            .collect();
        for copy in copies {
            assert_eq!(copy.await.unwrap(), 200);
        }
        // And again later, one by one (Smooch's retries).
        let mut client = Client::connect(server.address).await;
        for _ in 0..3 {
            assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        }
        let rows = store.rows().await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].body, body);
        server.stop().await.unwrap();
    })
    .await;
}

async fn what_is_not_a_webhook_body_is_kept_as_a_dead_letter_and_answered_400(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(&store, limits()).await;
        let mut client = Client::connect(server.address).await;
        // The fixtures that are fragments of the docs (no trigger, no events).
        let fragments: Vec<Vec<u8>> = all_fixtures()
            .into_iter()
            .filter(|name| is_fragment(name))
            .map(|name| fixture(&name))
            .collect();
        assert!(!fragments.is_empty());
        let body = fixture("message_appUser_text.json");
        let mut wrong_type: serde_json::Value = serde_json::from_slice(&body).unwrap();
        wrong_type["messages"][0]["_id"] = 3.into();
        let wrong_type = serde_json::to_vec(&wrong_type).unwrap();
        let mut bad: Vec<Vec<u8>> = vec![
            b"{\"trigger\": \"message:appUser\", ".to_vec(),
            b"".to_vec(),
            b"[]".to_vec(),
            b"{}".to_vec(),
            b"{\"trigger\": 3}".to_vec(),
            wrong_type,
        ];
        bad.extend(fragments);
        for body in &bad {
            let before = store.dead_letters().await.len();
            let response = client.post(Some(CURRENT), body).await;
            assert_eq!(response.status, 400, "{body:?}: {response:?}");
            assert!(response.body.starts_with("invalid body: "), "{response:?}");
            assert!(!response.close, "the body was read: the connection stays");
            // Stored before the answer: the row is there as soon as the 400 is.
            let letters = store.dead_letters().await;
            assert_eq!(letters.len(), before + 1);
            let letter = letters.last().unwrap();
            assert_eq!(
                (letter.status, letter.body.as_slice(), letter.error.as_str()),
                (400, body.as_slice(), response.body.as_str())
            );
            assert_eq!(letter.size, body.len() as u64);
            assert_recent(&letter.received_at);
        }
        assert!(store.dead_letters().await[5].error.contains("messages[0]._id"));
        assert!(store.rows().await.is_empty(), "nothing refused became a webhook");
        server.stop().await.unwrap();
    })
    .await;
}

async fn the_body_limit_is_inclusive_and_a_body_within_the_dead_letter_limit_is_kept_whole(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(
            &store,
            Limits {
                max_dead_letter: 128 * 1024,
                ..limits()
            },
        )
        .await;
        let mut client = Client::connect(server.address).await;
        // Exactly the limit: 200.
        let mut padded = fixture("message_appUser_text.json");
        padded.resize(LIMIT, b' ');
        assert_eq!(client.post(Some(CURRENT), &padded).await.status, 200);
        // Over it, over the 64 KiB a dead letter keeps of a larger body, within the dead-letter
        // limit: 413, kept whole, connection closed.
        let mut over = padded.clone();
        over.resize(100 * 1024, b' ');
        let response = client.post(Some(CURRENT), &over).await;
        assert_eq!(response.status, 413, "{response:?}");
        assert_eq!(
            response.body,
            format!("the body is {} bytes, over the limit of {LIMIT}", 100 * 1024)
        );
        assert!(response.close);
        let letter = store.dead_letters().await.pop().unwrap();
        assert_eq!((letter.status, letter.size), (413, 100 * 1024));
        assert_eq!(letter.body, over, "within the dead-letter limit: all of it");

        // The same sent chunked (no Content-Length): counted as it comes, kept whole too.
        let mut chunked = Client::connect(server.address).await;
        chunked.send(&chunked_request(&over, 5000)).await.unwrap();
        let response = chunked.response().await;
        assert_eq!(response.status, 413, "{response:?}");
        let letter = store.dead_letters().await.pop().unwrap();
        assert_eq!((letter.size, letter.body == over), (100 * 1024, true));
        assert_eq!(store.rows().await.len(), 1, "only the body at the limit");
        server.stop().await.unwrap();
    })
    .await;
}

/// `body` as a chunked request with `X-API-Key: CURRENT`, in chunks of `size`.
fn chunked_request(body: &[u8], size: usize) -> Vec<u8> {
    let mut request = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-API-Key: {CURRENT}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(size) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    request
}

async fn a_body_over_the_dead_letter_limit_leaves_its_size_and_its_first_64_kib(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let limit = 100 * 1024;
        let server = Server::start(
            &store,
            Limits {
                max_body: limit,
                max_dead_letter: 200 * 1024,
                ..Limits::default()
            },
        )
        .await;
        let body: Vec<u8> = (0..300 * 1024).map(|i| b'a' + (i % 26) as u8).collect();

        // Announced by its Content-Length: 413 after the first 64 KiB, the rest never read.
        let mut client = Client::connect(server.address).await;
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body);
        // The server may close before it has read everything: the write can fail.
        let _ = client.send(&request).await;
        let response = client.response().await;
        assert_eq!(response.status, 413, "{response:?}");
        assert_eq!(
            response.body,
            format!("the body is {} bytes, over the limit of {limit}", body.len())
        );
        let letter = store.dead_letters().await.pop().expect("a dead letter");
        assert_eq!((letter.status, letter.size), (413, body.len() as u64));
        assert_eq!(letter.body, body[..DEAD_LETTER_PREFIX]);
        assert_eq!(letter.error, response.body);

        // Chunked: counted as it comes, 413 once over the dead-letter limit.
        let mut client = Client::connect(server.address).await;
        let _ = client.send(&chunked_request(&body, 10_000)).await;
        let response = client.response().await;
        assert_eq!(response.status, 413, "{response:?}");
        let letter = store.dead_letters().await.pop().expect("a dead letter");
        assert_eq!(letter.status, 413);
        assert!(
            letter.size > 200 * 1024 && letter.size <= 200 * 1024 + 10_000,
            "{}",
            letter.size
        );
        assert_eq!(letter.body, body[..DEAD_LETTER_PREFIX]);
        assert!(letter.error.contains("over the limit"), "{}", letter.error);
        assert!(store.rows().await.is_empty());
        server.stop().await.unwrap();
    })
    .await;
}

async fn a_wrong_or_missing_key_is_answered_401_and_the_connection_closed(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        // The body timeout is far longer than the test: an answer means nobody waited for a body.
        let server = Server::start(
            &store,
            Limits {
                body_timeout: Duration::from_secs(600),
                ..limits()
            },
        )
        .await;
        let body = fixture("message_appUser_text.json");
        let upper = CURRENT.to_uppercase();
        let prefix = &CURRENT[..CURRENT.len() - 1];
        let longer = format!("{CURRENT}0");
        for key in [
            Some("wrong"),
            Some(ROTATED_OUT),
            Some(&upper),
            Some(prefix),
            Some(&longer),
            Some(""),
            None,
        ] {
            let mut client = Client::connect(server.address).await;
            let response = client.post(key, &body).await;
            assert_eq!(response.status, 401, "{key:?}: {response:?}");
            let expected = if key.is_some() {
                "does not match"
            } else {
                "is missing"
            };
            assert_eq!(
                response.body,
                format!("unauthorized: the X-API-Key header {expected}")
            );
            assert!(response.close, "{response:?}");
            client.closed_within(IO_TIMEOUT).await.unwrap();
        }
        // Announcing 50 MB: answered without waiting for a byte of it.
        for key in [Some("wrong"), None] {
            let mut client = Client::connect(server.address).await;
            client.send(&head(key, 50_000_000)).await.unwrap();
            let response = client.response().await;
            assert_eq!(response.status, 401, "{response:?}");
            client.closed_within(IO_TIMEOUT).await.unwrap();
        }
        assert!(store.rows().await.is_empty());
        assert!(
            store.dead_letters().await.is_empty(),
            "a 401 is no dead letter: nothing was read"
        );
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_and_methods_are_refused_with_404_and_405() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let server = Server::start(&store, limits()).await;
        let mut other = Client::connect(server.address).await;
        other
            .send(b"GET /webhook HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(other.response().await.status, 405);
        let mut other = Client::connect(server.address).await;
        other
            .send(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(other.response().await.status, 404);
        server.stop().await.unwrap();
    })
    .await;
}

/// An application that fails on chosen bodies: it panics on `"poison-panic"`, returns an error on
/// `"poison-error"`, and counts every delivery it gets.
#[derive(Default)]
struct Fragile {
    seen: Mutex<BTreeMap<i64, u32>>,
}

impl Application for Fragile {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        *self.seen.lock().unwrap().entry(delivery.id()).or_default() += 1;
        let text = String::from_utf8_lossy(delivery.body());
        if text.contains("poison-panic") {
            panic!("cannot handle delivery {}", delivery.id());
        }
        if text.contains("poison-error") {
            return Err(format!("refused delivery {}", delivery.id()).into());
        }
        Ok(())
    }
}

/// A message body whose text is `"{marker} {seq}"`.
fn text(marker: &str, seq: usize) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(&fixture("message_appUser_text.json")).unwrap();
    value["messages"][0]["text"] = format!("{marker} {seq}").into();
    serde_json::to_vec(&value).unwrap()
}

/// Waits until every delivery is done or set aside, and returns them.
async fn settled(store: &TestStore, limit: Duration) -> Vec<DeliveryRow> {
    eventually(limit, "every delivery done or set aside", || async {
        let deliveries = store.deliveries().await;
        deliveries
            .iter()
            .all(|delivery| delivery.done || delivery.state == "failed")
            .then_some(deliveries)
    })
    .await
}

async fn the_application_failing_is_restarted_and_never_stops_the_receiver(store: TestStore) {
    bounded(Duration::from_secs(40), async {
        let application = Arc::new(Fragile::default());
        let server = Server::start_with(
            &store,
            Limits {
                max_attempts: 3,
                ..limits()
            },
            Arc::clone(&application),
        )
        .await;
        let mut client = Client::connect(server.address).await;
        let sent = [
            text("fine", 1),
            text("poison-panic", 2),
            text("fine", 3),
            text("poison-error", 4),
            text("fine", 5),
        ];
        for body in &sent {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        // The two bad ones are tried three times each, then set aside (their lane goes on past
        // them); the others are done.
        let done = settled(&store, Duration::from_secs(20)).await;
        let states: Vec<_> = done
            .iter()
            .map(|row| (row.done, row.state.as_str(), row.attempts))
            .collect();
        assert_eq!(
            states,
            [
                (true, "pending", 0),
                (false, "failed", 3),
                (true, "pending", 0),
                (false, "failed", 3),
                (true, "pending", 0)
            ]
        );
        assert!(done[1]
            .last_error
            .as_deref()
            .unwrap()
            .contains("panicked: cannot handle delivery"));
        assert_eq!(
            done[3].last_error.as_deref(),
            Some(format!("refused delivery {}", done[3].id).as_str())
        );
        let seen: Vec<u32> = application.seen.lock().unwrap().values().copied().collect();
        assert_eq!(seen, [1, 3, 1, 3, 1]);

        // All along, and after, the receiver answers and stores; the delivery goes on.
        assert_eq!(client.post(Some(NEXT), &text("fine", 6)).await.status, 200);
        let rows = settled(&store, Duration::from_secs(10)).await;
        assert!(rows.last().unwrap().done);
        assert_eq!(application.seen.lock().unwrap().len(), 6);
        server.stop().await.unwrap();
    })
    .await;
}

/// An application that waits until it is let through, and counts every delivery it gets.
#[derive(Default)]
struct Gated {
    open: std::sync::atomic::AtomicBool,
    gate: tokio::sync::Notify,
    seen: Mutex<BTreeMap<i64, u32>>,
}

impl Gated {
    fn let_through(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
        self.gate.notify_waiters();
    }
}

impl Application for Gated {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        while !self.open.load(std::sync::atomic::Ordering::SeqCst) {
            let opened = self.gate.notified();
            if self.open.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            opened.await;
        }
        *self.seen.lock().unwrap().entry(delivery.id()).or_default() += 1;
        Ok(())
    }
}

/// Sends `bodies` over `connections` keep-alive connections; asserts every one is answered 200.
async fn send_all_ok(address: std::net::SocketAddr, bodies: Arc<Vec<Vec<u8>>>, connections: usize) {
    let clients: Vec<_> = (0..connections)
        .map(|c| {
            let bodies = Arc::clone(&bodies);
            tokio::spawn(async move {
                let mut client = Client::connect(address).await;
                for body in bodies.iter().skip(c).step_by(connections) {
                    assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
}

async fn an_application_far_behind_gets_every_delivery_once(store: TestStore) {
    const BODIES: usize = 5000;

    bounded(Duration::from_secs(90), async {
        let application = Arc::new(Gated::default());
        let server = Server::start_with(&store, limits(), Arc::clone(&application)).await;
        let bodies = Arc::new(distinct_bodies(BODIES));
        let total: usize = bodies.iter().map(Vec::len).sum();
        // More than the SQLite writer keeps in memory for the application: it must read the rest.
        assert!(
            total > smooch_receiver::store::sqlite::FRESH_BYTES,
            "{total} bytes"
        );
        send_all_ok(server.address, Arc::clone(&bodies), 8).await;
        assert!(application.seen.lock().unwrap().is_empty(), "held at the gate");
        assert_eq!(store.rows().await.len(), BODIES);
        application.let_through();
        let deliveries = store.all_done(1, Duration::from_secs(60)).await;
        let seen = application.seen.lock().unwrap().clone();
        assert!(seen.values().all(|&n| n == 1), "a delivery handled twice");
        let ids: Vec<i64> = deliveries.iter().map(|row| row.id).collect();
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), ids);
        server.stop().await.unwrap();
    })
    .await;
}

async fn requeue_gives_the_deliveries_set_aside_back_without_a_restart(store: TestStore) {
    bounded(Duration::from_secs(40), async {
        /// Fails while `failing` is set.
        #[derive(Default)]
        struct Switch {
            failing: std::sync::atomic::AtomicBool,
            done: Mutex<Vec<i64>>,
        }
        impl Application for Switch {
            async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
                if self.failing.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err("down".into());
                }
                self.done.lock().unwrap().push(delivery.id());
                Ok(())
            }
        }
        let application = Arc::new(Switch::default());
        application
            .failing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let server = Server::start_with(
            &store,
            Limits {
                max_attempts: 1,
                ..limits()
            },
            Arc::clone(&application),
        )
        .await;
        let mut client = Client::connect(server.address).await;
        for seq in 0..3 {
            assert_eq!(client.post(Some(CURRENT), &text("x", seq)).await.status, 200);
        }
        let rows = settled(&store, Duration::from_secs(20)).await;
        assert!(rows.iter().all(|row| row.state == "failed"), "{rows:?}");
        let keys: Vec<Vec<u8>> = rows.iter().map(|row| row.key.clone()).collect();
        application
            .failing
            .store(false, std::sync::atomic::Ordering::Relaxed);

        let admin = smooch_receiver::store::open_admin(&store.location(), false)
            .await
            .unwrap();
        let said = smooch_receiver::commands::requeue(&*admin, None).await.unwrap();
        assert!(said.starts_with("3 delivery(ies)"), "{said}");
        // Each at the back of its lane again: new rows, after the old ones, the same keys.
        let rows = store.all_done(3, Duration::from_secs(10)).await;
        assert_eq!(rows.iter().map(|row| row.key.clone()).collect::<Vec<_>>(), keys);
        let done = application.done.lock().unwrap().clone();
        assert_eq!(
            done,
            rows.iter().map(|row| row.id).collect::<Vec<_>>(),
            "in order"
        );
        server.stop().await.unwrap();
    })
    .await;
}

async fn a_dead_letter_that_parses_now_is_replayed_once(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(&store, limits()).await;
        let mut client = Client::connect(server.address).await;
        // Refused: not a webhook body. Then stored by hand, as if a newer crate parsed it.
        let refused = b"{\"trigger\": 3}".to_vec();
        assert_eq!(client.post(Some(CURRENT), &refused).await.status, 400);
        let good = fixture("conversation_start.json");
        let id = store.dead_letters().await[0].id;
        let admin = smooch_receiver::store::open_admin(&store.location(), false)
            .await
            .unwrap();
        let error = smooch_receiver::commands::replay(&*admin, id).await.unwrap_err();
        assert!(error.contains("still does not parse"), "{error}");

        let hex: String = good.iter().map(|b| format!("{b:02x}")).collect();
        let literal = if store.is_postgres() {
            format!("'\\x{hex}'::bytea")
        } else {
            format!("x'{hex}'")
        };
        store
            .execute(&format!(
                "UPDATE dead_letters SET body = {literal}, size = {} WHERE id = {id}",
                good.len()
            ))
            .await;
        let said = smooch_receiver::commands::replay(&*admin, id).await.unwrap();
        let rows = store.rows().await;
        assert_eq!(rows.len(), 1);
        assert_eq!(
            said,
            format!("dead letter {id} replayed as webhook {}\n", rows[0].id)
        );
        assert_eq!(
            (rows[0].body.as_slice(), rows[0].kinds.as_str()),
            (good.as_slice(), "conversation:start")
        );
        assert_eq!(store.dead_letters().await[0].webhook_id, Some(rows[0].id));
        // Once: a second replay refuses, and nothing more is stored.
        let again = smooch_receiver::commands::replay(&*admin, id).await.unwrap_err();
        assert!(again.contains("replayed before"), "{again}");
        assert_eq!(store.rows().await.len(), 1);
        // The running receiver hands it to the application.
        let deliveries = store.all_done(1, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].webhook_id, rows[0].id);
        server.stop().await.unwrap();
    })
    .await;
}

async fn done_webhooks_are_deleted_after_the_retention_in_small_batches(store: TestStore) {
    bounded(Duration::from_secs(40), async {
        let server = Server::start(&store, limits()).await;
        let mut client = Client::connect(server.address).await;
        for seq in 0..5 {
            assert_eq!(client.post(Some(CURRENT), &text("keep", seq)).await.status, 200);
        }
        assert_eq!(client.post(Some(CURRENT), b"[]").await.status, 400);
        settled(&store, Duration::from_secs(10)).await;
        server.stop().await.unwrap();
        // One set aside stays whatever its age, and so does its body.
        store
            .execute(
                "UPDATE deliveries SET state = 'failed' WHERE id = (SELECT max(id) FROM deliveries); \
                 DELETE FROM delivery_done WHERE delivery_id = (SELECT max(id) FROM deliveries)",
            )
            .await;

        // The store deletes at most the batch asked, the oldest done first.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let settings = smooch_receiver::store::Settings {
            lease: Duration::from_secs(60),
            wal_limit: 64 << 20,
            timeout: Duration::from_secs(4),
            observer: Arc::new(()),
        };
        let opened = smooch_receiver::store::open(&store.location(), &settings)
            .await
            .unwrap();
        assert_eq!(
            opened.purge(Duration::from_secs(3600), 2).await.unwrap(),
            Purged::default(),
            "none that old"
        );
        // Two deliveries done, and their bodies, which have none left.
        assert_eq!(
            opened.purge(Duration::from_secs(1), 2).await.unwrap(),
            Purged {
                deliveries: 2,
                webhooks: 2
            }
        );
        assert_eq!(store.rows().await.len(), 3);
        assert_eq!(store.deliveries().await.len(), 3);
        opened.close().await.unwrap();
        drop(opened);

        // A receiver with a retention of one second deletes the rest of the done ones itself.
        let server = Server::start(
            &store,
            Limits {
                retention: Duration::from_secs(1),
                ..limits()
            },
        )
        .await;
        let rows = eventually(Duration::from_secs(10), "done ones deleted", || async {
            let rows = store.rows().await;
            (rows.len() == 1).then_some(rows)
        })
        .await;
        let deliveries = store.deliveries().await;
        assert_eq!(deliveries.len(), 1);
        assert_eq!(
            (deliveries[0].webhook_id, deliveries[0].state.as_str()),
            (rows[0].id, "failed")
        );
        assert_eq!(store.dead_letters().await.len(), 1, "dead letters are kept");
        server.stop().await.unwrap();
    })
    .await;
}

/// `GET path` on `address`: the status and the body.
async fn the_admin_listener_says_live_ready_and_counts(store: TestStore) {
    bounded(Duration::from_secs(30), async {
        let options = Options {
            admin_listen: Some("127.0.0.1:0".to_owned()),
            ..options(&store, limits())
        };
        let server = Server::run(Receiver::open(&options).await.unwrap(), LogApplication);
        let admin = server.admin.expect("an admin listener");
        assert_ne!(admin, server.address);
        assert_eq!(get(admin, "/livez").await, (200, "ok".to_owned()));
        assert_eq!(get(admin, "/readyz").await, (200, "ok".to_owned()));
        // The admin endpoints are not on the webhook port.
        assert_eq!(get(server.address, "/metrics").await.0, 404);

        let mut client = Client::connect(server.address).await;
        for seq in 0..3 {
            assert_eq!(client.post(Some(CURRENT), &text("count", seq)).await.status, 200);
        }
        assert_eq!(client.post(Some(CURRENT), b"{}").await.status, 400);
        settled(&store, Duration::from_secs(10)).await;
        let (status, text) = get(admin, "/metrics").await;
        assert_eq!(status, 200);
        for line in [
            "smooch_receiver_requests_total{status=\"200\",outcome=\"stored\"} 3",
            "smooch_receiver_requests_total{status=\"400\",outcome=\"invalid\"} 1",
            "smooch_receiver_requests_total{status=\"404\",outcome=\"not found\"} 1",
            "smooch_receiver_dead_letters_kept_total{status=\"400\"} 1",
            "smooch_receiver_application_done_total 3",
            "smooch_receiver_pending_deliveries 0",
            "smooch_receiver_lanes_waiting 0",
            "smooch_receiver_deliveries_in_flight 0",
            "smooch_receiver_dead_letters 1",
            "smooch_receiver_store_up 1",
            "smooch_receiver_buffered_bytes 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        for name in [
            "smooch_receiver_request_duration_seconds_count 5",
            "smooch_receiver_store_commit_duration_seconds_count",
            "smooch_receiver_store_group_size_count",
            "smooch_receiver_open_connections",
            "smooch_receiver_log_lines_dropped_total",
        ] {
            assert!(text.contains(name), "{name} not in:\n{text}");
        }
        // No label takes a value from a body.
        assert!(!text.contains("message:appUser"), "{text}");
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_connections_over_its_cap_of_64_wait_for_a_free_slot() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let slow = Limits {
            header_timeout: Duration::from_secs(60),
            ..limits()
        };
        let options = Options {
            admin_listen: Some("127.0.0.1:0".to_owned()),
            ..options(&store, slow)
        };
        let server = Server::run(Receiver::open(&options).await.unwrap(), LogApplication);
        let admin = server.admin.unwrap();
        // 64 connections that send nothing, 16 from each of four addresses (16: the cap of one).
        let mut holders = Vec::new();
        for host in 10..14 {
            let address = std::net::IpAddr::from([127, 0, 0, host]);
            for _ in 0..16 {
                holders.push(Client::connect_from(address, admin).await);
            }
        }
        // The 65th connects (the backlog holds it) but is not served while they are open.
        let mut probe = Client::connect_from([127, 0, 0, 20].into(), admin).await;
        probe
            .send(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(500), probe.response()).await;
        assert!(waiting.is_err(), "served over the cap: {waiting:?}");
        // The webhook port is served meanwhile.
        let mut client = Client::connect(server.address).await;
        assert_eq!(client.post(Some(CURRENT), &text("admin", 0)).await.status, 200);
        // One leaves: the 65th is served.
        drop(holders.pop());
        let response = probe.response().await;
        assert_eq!((response.status, response.body.as_str()), (200, "ok"));
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_shutting_down() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let options = Options {
            admin_listen: Some("127.0.0.1:0".to_owned()),
            ..options(&store, limits())
        };
        let server = Server::run(Receiver::open(&options).await.unwrap(), LogApplication);
        let admin = server.admin.unwrap();
        // A client stalled mid-body keeps the shutdown going; meanwhile, not ready.
        let mut stalled = Client::connect(server.address).await;
        let body = fixture("postback.json");
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body[..10]);
        stalled.send(&request).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut server = server;
        let _ = server.stop.take().unwrap().send(());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, text) = get(admin, "/readyz").await;
        assert_eq!((status, text.as_str()), (503, "shutting down"));
        drop(stalled);
        (&mut server.task).await.unwrap().unwrap();
    })
    .await;
}

/// Limits with room in memory for `bodies` bodies of `max_body` bytes, waited for 300 ms.
fn room_for(bodies: usize, max_body: usize) -> Limits {
    Limits {
        max_body,
        max_dead_letter: max_body,
        max_buffered_bytes: bodies * max_body,
        memory_wait: Duration::from_millis(300),
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bytes_held_in_memory_are_bounded_not_only_the_requests() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let max_body = 64 * 1024;
        let server = Server::start(&store, room_for(2, max_body)).await;
        let body = {
            let mut body = fixture("postback.json");
            body.resize(max_body, b' ');
            body
        };
        // Two clients announce the largest body, send half of it and stall: all the room is taken.
        let mut stalled = Vec::new();
        for _ in 0..2 {
            let mut client = Client::connect(server.address).await;
            let mut request = head(Some(CURRENT), body.len());
            request.extend_from_slice(&body[..max_body / 2]);
            client.send(&request).await.unwrap();
            stalled.push(client);
        }
        // Once the server has read their headers, a small request finds no room: 503 after
        // waiting for it. (Until then, a small request may still get in: it is stored.)
        let mut small_ones = 0;
        let mut refused = None;
        for seq in 0..100 {
            let small = with_seq(&fixture("conversation_read.json"), seq);
            let mut client = Client::connect(server.address).await;
            let started = Instant::now();
            let response = client.post(Some(CURRENT), &small).await;
            if response.status == 503 {
                refused = Some((response, started.elapsed()));
                break;
            }
            assert_eq!(response.status, 200, "{response:?}");
            small_ones += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (response, waited) = refused.expect("no 503 in 100 tries");
        assert_eq!(response.body, "busy, retry later");
        assert!(response.close);
        assert!(
            waited >= Duration::from_millis(300),
            "it waited for room first: {waited:?}"
        );

        // The stalled bodies arrive: stored, and the room is free again.
        for client in &mut stalled {
            client.send(&body[max_body / 2..]).await.unwrap();
            assert_eq!(client.response().await.status, 200);
        }
        let mut client = Client::connect(server.address).await;
        let last = fixture("conversation_read.json");
        assert_eq!(client.post(Some(CURRENT), &last).await.status, 200);
        // The two large bodies are the same bytes (one row), and the last small one.
        assert_eq!(store.rows().await.len(), small_ones + 2);
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_reserves_only_what_it_has_sent() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let max_body = 64 * 1024;
        let server = Server::start(&store, room_for(4, max_body)).await;
        // Sixteen chunked requests trickle: one small chunk each, then nothing. Before, each took
        // room for a whole body (the limit): four would have taken it all.
        let mut trickling = Vec::new();
        for _ in 0..16 {
            let mut client = Client::connect(server.address).await;
            let request = format!(
                "POST /webhook HTTP/1.1\r\nHost: x\r\nX-API-Key: {CURRENT}\r\nTransfer-Encoding: chunked\r\n\r\n\
                 10\r\n{{\"trigger\": \"cli\r\n"
            );
            client.send(request.as_bytes()).await.unwrap();
            trickling.push(client);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Everyone else still gets in.
        for seq in 0..5 {
            let mut client = Client::connect(server.address).await;
            let body = with_seq(&fixture("postback.json"), seq);
            let response = client.post(Some(CURRENT), &body).await;
            assert_eq!(response.status, 200, "{response:?}");
        }
        assert_eq!(store.rows().await.len(), 5);
        drop(trickling);
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn done_marks_survive_a_write_group_that_fails() {
    bounded(Duration::from_secs(40), async {
        let store = TestStore::sqlite();
        // Webhooks stored; an operator takes the write lock for longer than the receiver waits
        // for it (2 s) before the application marks them done.
        let application = Arc::new(Gated::default());
        let server = Server::start_with(&store, limits(), Arc::clone(&application)).await;
        let mut client = Client::connect(server.address).await;
        for seq in 1..=5 {
            assert_eq!(client.post(Some(CURRENT), &text("marked", seq)).await.status, 200);
        }
        let TestStore::Sqlite { path, .. } = &store else {
            unreachable!()
        };
        let lock = open(path);
        lock.execute_batch("BEGIN IMMEDIATE").unwrap();
        // The application handles the five; their done mark goes with a group that cannot begin.
        application.let_through();
        eventually(Duration::from_secs(10), "the five handled", || async {
            (application.seen.lock().unwrap().len() == 5).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        lock.execute_batch("COMMIT").unwrap();
        // A later write (a request) carries the marks; nothing restarts.
        assert_eq!(client.post(Some(CURRENT), &text("after", 9)).await.status, 200);
        let deliveries = store.all_done(6, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 6);
        let seen = application.seen.lock().unwrap().clone();
        assert!(seen.values().all(|&n| n == 1), "handled twice: {seen:?}");
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_after_their_timeouts() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let server = Server::start(
            &store,
            Limits {
                header_timeout: Duration::from_millis(400),
                body_timeout: Duration::from_millis(400),
                idle_timeout: Duration::from_millis(800),
                ..limits()
            },
        )
        .await;
        let body = fixture("conversation_start.json");

        // Half the headers: closed after the header timeout.
        let mut in_head = Client::connect(server.address).await;
        in_head
            .send(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api")
            .await
            .unwrap();
        // Nothing at all: the same.
        let mut silent = Client::connect(server.address).await;
        // Half the body: 408, then closed.
        let mut in_body = Client::connect(server.address).await;
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body[..body.len() / 2]);
        in_body.send(&request).await.unwrap();
        // A request, then idle: closed after the idle timeout (and not before the header timeout).
        let mut idle = Client::connect(server.address).await;
        assert_eq!(idle.post(Some(CURRENT), &body).await.status, 200);
        let idle_since = Instant::now();

        let limit = Duration::from_secs(10);
        let waited = in_head.closed_within(limit).await.unwrap();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        silent.closed_within(limit).await.unwrap();
        let response = in_body.response().await;
        assert_eq!(response.status, 408, "{response:?}");
        assert!(response.close);
        in_body.closed_within(limit).await.unwrap();
        idle.closed_within(limit).await.unwrap();
        assert!(
            idle_since.elapsed() >= Duration::from_millis(700),
            "{:?}",
            idle_since.elapsed()
        );

        // A kept-alive connection that does send its next request is served.
        let mut busy = Client::connect(server.address).await;
        for _ in 0..3 {
            assert_eq!(busy.post(Some(CURRENT), &body).await.status, 200);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_maximum_wait_for_a_free_slot() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let server = Server::start(
            &store,
            Limits {
                max_connections: 3,
                header_timeout: Duration::from_secs(60),
                ..limits()
            },
        )
        .await;
        let body = fixture("conversation_read.json");
        let mut holders = Vec::new();
        for _ in 0..3 {
            holders.push(TcpStream::connect(server.address).await.unwrap());
        }
        // The fourth connects (the backlog holds it) but is not served while the three are open.
        let mut fourth = Client::connect(server.address).await;
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body);
        fourth.send(&request).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(500), fourth.response()).await;
        assert!(waiting.is_err(), "served over the maximum: {waiting:?}");
        // One leaves: the fourth is served.
        let mut first = holders.remove(0);
        first.shutdown().await.unwrap();
        drop(first);
        assert_eq!(fourth.response().await.status, 200);
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_of_one_address_are_closed_and_others_served() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let server = Server::start(
            &store,
            Limits {
                max_connections_per_address: 3,
                header_timeout: Duration::from_secs(60),
                ..limits()
            },
        )
        .await;
        let mut holders = Vec::new();
        for _ in 0..3 {
            holders.push(Client::connect(server.address).await);
        }
        // A fourth from the same address is closed at once.
        let mut fourth = Client::connect(server.address).await;
        fourth.closed_within(IO_TIMEOUT).await.unwrap();
        // Another address is served.
        let other = "127.0.0.2".parse().unwrap();
        let mut client = Client::connect_from(other, server.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        // One of the three leaves: the address may open one again.
        drop(holders.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut again = Client::connect(server.address).await;
        assert_eq!(
            again.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        server.stop().await.unwrap();
    })
    .await;
}

/// The SQLite store, with a switch that makes it report itself broken (as after failed commits
/// or a failed sync: a full or failing disk).
struct Breakable {
    inner: Arc<dyn Store>,
    breaks: tokio::sync::Notify,
}

impl Store for Breakable {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        self.inner.accept(webhook)
    }
    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64> {
        self.inner.dead_letter(letter)
    }
    fn take(&self, max: usize) -> StoreFuture<'_, Vec<Taken>> {
        self.inner.take(max)
    }
    fn next(&self, lane: &str, after: i64, max: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Stored>> {
        self.inner.next(lane, after, max, max_bytes)
    }
    fn done(&self, marks: Vec<(String, i64)>) -> StoreFuture<'_, ()> {
        self.inner.done(marks)
    }
    fn failed(&self, delivery: &Stored, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        self.inner.failed(delivery, error, max_attempts)
    }
    fn extend(&self, lanes: Vec<String>) -> StoreFuture<'_, Vec<String>> {
        self.inner.extend(lanes)
    }
    fn release(&self, lanes: Vec<String>) -> StoreFuture<'_, ()> {
        self.inner.release(lanes)
    }
    fn purge(&self, age: Duration, max_rows: usize) -> StoreFuture<'_, Purged> {
        self.inner.purge(age, max_rows)
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.inner.stats()
    }
    fn ready(&self) -> StoreFuture<'_, ()> {
        self.inner.ready()
    }
    fn new_work(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.inner.new_work()
    }
    fn broken(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send + '_>> {
        Box::pin(async {
            self.breaks.notified().await;
            "the disk is gone".to_owned()
        })
    }
    fn close(&self) -> StoreFuture<'_, ()> {
        self.inner.close()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_store_stops_the_receiver_with_an_error_instead_of_answering_503_forever() {
    bounded(Duration::from_secs(30), async {
        let test_store = TestStore::sqlite();
        let metrics = Metrics::new();
        let settings = smooch_receiver::store::Settings {
            lease: Duration::from_secs(60),
            wal_limit: 64 << 20,
            timeout: Duration::from_secs(4),
            observer: Arc::clone(&metrics) as Arc<dyn smooch_receiver::store::Observer>,
        };
        let store = Arc::new(Breakable {
            inner: smooch_receiver::store::open(&test_store.location(), &settings)
                .await
                .unwrap(),
            breaks: tokio::sync::Notify::new(),
        });
        let options = options(
            &test_store,
            Limits {
                shutdown_timeout: Duration::from_secs(2),
                ..limits()
            },
        );
        let receiver = Receiver::with_store(&options, store.clone(), metrics)
            .await
            .unwrap();
        let mut server = Server::run(receiver, LogApplication);
        let mut client = Client::connect(server.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );

        store.breaks.notify_one();
        // `serve` returns the reason, and the binary turns it into exit code 1.
        let stopped = (&mut server.task).await.unwrap();
        assert_eq!(stopped.unwrap_err().0, "the disk is gone");
        // Nothing listens any more: a supervisor sees the process gone, not a server that accepts.
        assert!(TcpStream::connect(server.address).await.is_err());
        assert_eq!(test_store.rows().await.len(), 1);
    })
    .await;
}
