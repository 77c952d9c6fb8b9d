//! The `axum_receiver` example in this process: its real router, connections and store (a SQLite
//! file in a temporary directory), over real HTTP on loopback. What needs a real process (a kill,
//! SIGTERM, hundreds of connections) is in `receiver_process.rs`.

// The example's `main` is not used here, and its items are public only within this test.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/axum_receiver/main.rs"]
mod receiver;

mod common;
mod receiver_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{all_fixtures, fixture, v2_fixtures};
use receiver::config::Limits;
use receiver::store::sqlite::SqliteStore;
use receiver::store::{
    Accepted, DeadLetter, Failed, Incoming, Pending, Store, StoreFuture, DEAD_LETTER_PREFIX,
};
use receiver::worker::{Application, LogApplication};
use receiver::Broken;
use receiver_support::*;
use smooch_events::WebhookSecrets;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The body limit of most test servers (every fixture is under 3 KB).
const LIMIT: usize = 16 * 1024;

/// A receiver running in this process, with its store in a temporary directory.
struct Server {
    address: std::net::SocketAddr,
    db: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), Broken>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(limits: Limits) -> Server {
        Server::start_with(limits, LogApplication).await
    }

    async fn start_with(limits: Limits, application: impl Application) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        Server::start_on(dir, db, store, limits, application).await
    }

    async fn start_on(
        dir: tempfile::TempDir,
        db: PathBuf,
        store: Arc<dyn Store>,
        limits: Limits,
        application: impl Application,
    ) -> Server {
        let listener = receiver::server::bind("127.0.0.1:0", limits.backlog)
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        let secrets = WebhookSecrets::new([NEXT, CURRENT]);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(receiver::serve(
            listener,
            secrets,
            limits,
            store,
            application,
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            address,
            db,
            stop: Some(stop),
            task,
            _dir: dir,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_the_status_smooch_expects_and_the_store_keeps_it() {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(limits()).await;
        let mut client = Client::connect(server.address).await;

        // Every fixture, with either valid secret: 200, and a row with the exact bytes.
        let fixtures: Vec<String> = all_fixtures().into_iter().chain(v2_fixtures()).collect();
        assert!(fixtures.len() >= 95, "only {} fixtures", fixtures.len());
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        for (i, name) in fixtures.iter().enumerate() {
            let bytes = fixture(name);
            let key = if i % 2 == 0 { CURRENT } else { NEXT };
            let response = client.post(Some(key), &bytes).await;
            if name.starts_with("later-docs-fragments/") {
                // Not webhook bodies (no trigger): 400, which Smooch does not retry.
                assert_eq!(response.status, 400, "{name}: {response:?}");
                assert!(
                    response.body.contains("neither `trigger`"),
                    "{name}: {response:?}"
                );
                assert!(!response.close, "the body was read: the connection stays");
                refused.push((bytes, response.body));
                continue;
            }
            assert_eq!((response.status, response.body.as_str()), (200, "ok"), "{name}");
            accepted.push(bytes);
        }
        // The same bodies again (Smooch's retries): 200, and nothing stored twice.
        for bytes in accepted.iter().step_by(3) {
            assert_eq!(client.post(Some(CURRENT), bytes).await.status, 200);
        }
        // One row per distinct body, in the order they first arrived, each with its description.
        let mut distinct: Vec<&Vec<u8>> = Vec::new();
        for body in &accepted {
            if !distinct.contains(&body) {
                distinct.push(body);
            }
        }
        let rows = stored_rows(&server.db);
        let stored: Vec<&Vec<u8>> = rows.iter().map(|row| &row.body).collect();
        assert_eq!(stored, distinct);
        for row in &rows {
            let described = receiver::body::describe(&receiver::body::parse(&row.body).unwrap());
            assert_eq!(row.kinds, described.kinds);
            assert_eq!(row.app_id, described.app_id);
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

        // The refused bodies are dead letters, with the error that was answered.
        let letters = dead_letters(&server.db);
        assert_eq!(letters.len(), refused.len());
        for (letter, (body, answer)) in letters.iter().zip(&refused) {
            assert_eq!((letter.status, &letter.body, &letter.error), (400, body, answer));
            assert_eq!(letter.size, body.len() as u64);
            assert_recent(&letter.received_at);
        }

        // A wrong, rotated-out, near-miss, empty or missing key: 401, whatever the body, and the
        // connection is closed (the body was not read).
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

        // Malformed JSON, or JSON that is not a webhook body: 400, and a dead letter each.
        let mut wrong_type: serde_json::Value = serde_json::from_slice(&body).unwrap();
        wrong_type["messages"][0]["_id"] = 3.into();
        let wrong_type = serde_json::to_vec(&wrong_type).unwrap();
        let bad: [&[u8]; 6] = [
            b"{\"trigger\": \"message:appUser\", ",
            b"",
            b"[]",
            b"{}",
            b"{\"trigger\": 3}",
            &wrong_type,
        ];
        for body in bad {
            let before = dead_letters(&server.db).len();
            let response = client.post(Some(CURRENT), body).await;
            assert_eq!(response.status, 400, "{body:?}: {response:?}");
            assert!(response.body.starts_with("invalid body: "), "{response:?}");
            // Stored before the answer: the row is there as soon as the 400 is.
            let letters = dead_letters(&server.db);
            assert_eq!(letters.len(), before + 1);
            let letter = letters.last().unwrap();
            assert_eq!(
                (letter.body.as_slice(), letter.error.as_str()),
                (body, response.body.as_str())
            );
        }
        assert!(dead_letters(&server.db)
            .last()
            .unwrap()
            .error
            .contains("messages[0]._id"));

        // Exactly the limit: 200. One byte over: 413, a dead letter, and the connection closed.
        let mut padded = body.clone();
        padded.resize(LIMIT, b' ');
        assert_eq!(client.post(Some(CURRENT), &padded).await.status, 200);
        padded.push(b' ');
        let response = client.post(Some(CURRENT), &padded).await;
        assert_eq!(response.status, 413, "{response:?}");
        assert_eq!(
            response.body,
            format!("the body is {} bytes, over the limit of {LIMIT}", LIMIT + 1)
        );
        assert!(response.close);
        let letter = dead_letters(&server.db).pop().unwrap();
        assert_eq!((letter.status, letter.size), (413, LIMIT as u64 + 1));
        assert_eq!(letter.body, padded, "under 64 KiB: all of it");

        // Other paths and methods.
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

        // Nothing refused became a webhook.
        assert_eq!(
            stored_rows(&server.db).len(),
            distinct.len() + 1,
            "and the body at the limit"
        );
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_answered_401_at_once_without_waiting_for_the_body() {
    bounded(Duration::from_secs(30), async {
        // The body timeout is far longer than the test: an answer means nobody waited for a body.
        let server = Server::start(Limits {
            body_timeout: Duration::from_secs(600),
            ..limits()
        })
        .await;
        for key in [Some("wrong"), None] {
            let mut client = Client::connect(server.address).await;
            client.send(&head(key, 50_000_000)).await.unwrap();
            let response = client.response().await;
            assert_eq!(response.status, 401, "{response:?}");
            assert!(response.close);
            client.closed_within(IO_TIMEOUT).await.unwrap();
        }
        assert!(stored_rows(&server.db).is_empty());
        assert!(
            dead_letters(&server.db).is_empty(),
            "a 401 is no dead letter: nothing was read"
        );
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_leaves_its_size_and_its_first_64_kib() {
    bounded(Duration::from_secs(30), async {
        let limit = 100 * 1024;
        let server = Server::start(Limits {
            max_body: limit,
            ..Limits::default()
        })
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
        let letter = dead_letters(&server.db).pop().expect("a dead letter");
        assert_eq!((letter.status, letter.size), (413, body.len() as u64));
        assert_eq!(letter.body.len(), DEAD_LETTER_PREFIX);
        assert_eq!(letter.body, body[..DEAD_LETTER_PREFIX]);
        assert_eq!(letter.error, response.body);

        // Chunked, with no Content-Length: counted as it comes, 413 once over the limit.
        let mut client = Client::connect(server.address).await;
        let mut request = format!(
            "POST /webhook HTTP/1.1\r\nHost: x\r\nX-API-Key: {CURRENT}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for chunk in body.chunks(10_000) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        let _ = client.send(&request).await;
        let response = client.response().await;
        assert_eq!(response.status, 413, "{response:?}");
        let letter = dead_letters(&server.db).pop().expect("a dead letter");
        assert_eq!(letter.status, 413);
        assert!(
            letter.size > limit as u64 && letter.size <= limit as u64 + 10_000,
            "{}",
            letter.size
        );
        assert_eq!(letter.body, body[..DEAD_LETTER_PREFIX]);
        assert!(letter.error.contains("over the limit"), "{}", letter.error);
        assert!(stored_rows(&server.db).is_empty());
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_answered_200_and_stored_once_even_at_the_same_moment() {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(limits()).await;
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
        let rows = stored_rows(&server.db);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].body, body);
        server.stop().await.unwrap();
    })
    .await;
}

/// An application that fails on chosen bodies: it panics on `"poison-panic"`, returns an error on
/// `"poison-error"`, and counts every webhook it gets.
#[derive(Default)]
struct Fragile {
    seen: Mutex<BTreeMap<i64, u32>>,
}

impl Application for Arc<Fragile> {
    async fn handle(&self, webhook: &Pending) -> Result<(), String> {
        *self.seen.lock().unwrap().entry(webhook.id).or_default() += 1;
        let text = String::from_utf8_lossy(&webhook.body);
        if text.contains("poison-panic") {
            panic!("cannot handle row {}", webhook.id);
        }
        if text.contains("poison-error") {
            return Err(format!("refused row {}", webhook.id));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_failing_is_restarted_and_never_stops_the_receiver() {
    bounded(Duration::from_secs(30), async {
        let application = Arc::new(Fragile::default());
        let server = Server::start_with(
            Limits {
                max_attempts: 3,
                ..limits()
            },
            Arc::clone(&application),
        )
        .await;
        let mut client = Client::connect(server.address).await;
        let body = fixture("message_appUser_text.json");
        let text = |marker: &str, seq: usize| {
            let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap();
            value["messages"][0]["text"] = format!("{marker} {seq}").into();
            serde_json::to_vec(&value).unwrap()
        };
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
        // The two bad webhooks are tried three times each, then set aside; the others are done.
        let done = eventually(Duration::from_secs(20), "every webhook done or set aside", || {
            let rows = stored_rows(&server.db);
            rows.iter().all(|row| row.state != "pending").then_some(rows)
        })
        .await;
        let states: Vec<_> = done
            .iter()
            .map(|row| (row.state.as_str(), row.attempts))
            .collect();
        assert_eq!(
            states,
            [
                ("done", 0),
                ("failed", 3),
                ("done", 0),
                ("failed", 3),
                ("done", 0)
            ]
        );
        assert!(done[1]
            .last_error
            .as_deref()
            .unwrap()
            .contains("panicked: cannot handle row 2"));
        assert_eq!(done[3].last_error.as_deref(), Some("refused row 4"));
        let seen = application.seen.lock().unwrap().clone();
        assert_eq!(seen, BTreeMap::from([(1, 1), (2, 3), (3, 1), (4, 3), (5, 1)]));

        // All along, and after, the receiver answers and stores; the restarted application works.
        let more = text("fine", 6);
        assert_eq!(client.post(Some(NEXT), &more).await.status, 200);
        eventually(Duration::from_secs(10), "the new webhook done", || {
            (stored_rows(&server.db).last().unwrap().state == "done").then_some(())
        })
        .await;
        assert_eq!(application.seen.lock().unwrap().get(&6), Some(&1));
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bytes_held_in_memory_are_bounded_not_only_the_requests() {
    bounded(Duration::from_secs(30), async {
        let max_body = 64 * 1024;
        let server = Server::start(Limits {
            max_body,
            max_buffered_bytes: 2 * max_body,
            memory_wait: Duration::from_millis(300),
            ..Limits::default()
        })
        .await;
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
        assert_eq!(
            client
                .post(Some(CURRENT), &fixture("conversation_read.json"))
                .await
                .status,
            200
        );
        // The two large bodies are the same bytes (one row), and the last small one.
        assert_eq!(stored_rows(&server.db).len(), small_ones + 2);
        server.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_after_their_timeouts() {
    bounded(Duration::from_secs(30), async {
        let server = Server::start(Limits {
            header_timeout: Duration::from_millis(400),
            body_timeout: Duration::from_millis(400),
            idle_timeout: Duration::from_millis(800),
            ..limits()
        })
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
        let server = Server::start(Limits {
            max_connections: 3,
            header_timeout: Duration::from_secs(60),
            ..limits()
        })
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

/// The SQLite store, with a switch that makes it report itself broken (as after failed commits
/// or a failed sync: a full or failing disk).
struct Breakable {
    inner: SqliteStore,
    breaks: tokio::sync::Notify,
}

impl Store for Breakable {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        self.inner.accept(webhook)
    }
    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64> {
        self.inner.dead_letter(letter)
    }
    fn pending(&self, after: i64, max_rows: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Pending>> {
        self.inner.pending(after, max_rows, max_bytes)
    }
    fn done(&self, after: i64, last: i64) -> StoreFuture<'_, ()> {
        self.inner.done(after, last)
    }
    fn failed(&self, id: i64, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        self.inner.failed(id, error, max_attempts)
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
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let store = Arc::new(Breakable {
            inner: SqliteStore::open(&db).unwrap(),
            breaks: tokio::sync::Notify::new(),
        });
        let limits = Limits {
            shutdown_timeout: Duration::from_secs(2),
            ..limits()
        };
        let mut server = Server::start_on(dir, db, store.clone(), limits, LogApplication).await;
        let mut client = Client::connect(server.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );

        store.breaks.notify_one();
        // `serve` returns the reason, and `main` turns it into exit code 1.
        let stopped = (&mut server.task).await.unwrap();
        assert_eq!(stopped.unwrap_err().0, "the disk is gone");
        // Nothing listens any more: a supervisor sees the process gone, not a server that accepts.
        assert!(TcpStream::connect(server.address).await.is_err());
        assert_eq!(stored_rows(&server.db).len(), 1);
    })
    .await;
}

/// An application that waits at its first webhook until it is let through, and counts every
/// webhook it gets.
#[derive(Default)]
struct Gated {
    gate: tokio::sync::Notify,
    seen: Mutex<BTreeMap<i64, u32>>,
}

impl Application for Arc<Gated> {
    async fn handle(&self, webhook: &Pending) -> Result<(), String> {
        if self.seen.lock().unwrap().is_empty() {
            self.gate.notified().await;
        }
        *self.seen.lock().unwrap().entry(webhook.id).or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_far_behind_reads_from_the_store_and_gets_everything_once() {
    const CONNECTIONS: usize = 8;
    const BODIES: usize = 5000;

    bounded(Duration::from_secs(60), async {
        let application = Arc::new(Gated::default());
        let server = Server::start_with(limits(), Arc::clone(&application)).await;
        let bodies = Arc::new(distinct_bodies(BODIES));
        let total: usize = bodies.iter().map(Vec::len).sum();
        // More than the writer keeps in memory for the application: it must read the rest.
        assert!(total > receiver::store::sqlite::FRESH_BYTES, "{total} bytes");
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let (bodies, address) = (Arc::clone(&bodies), server.address);
                tokio::spawn(async move {
                    let mut client = Client::connect(address).await;
                    for body in bodies.iter().skip(c).step_by(CONNECTIONS) {
                        assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        assert!(application.seen.lock().unwrap().is_empty(), "held at the gate");
        application.gate.notify_one();
        eventually(Duration::from_secs(40), "every webhook done", || {
            stored_rows(&server.db)
                .iter()
                .all(|row| row.state == "done")
                .then_some(())
        })
        .await;
        let seen = application.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), BODIES);
        assert!(seen.values().all(|&n| n == 1), "a webhook handled twice");
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (1..=BODIES as i64).collect::<Vec<_>>()
        );
        server.stop().await.unwrap();
    })
    .await;
}
