//! The `axum_receiver` example over real HTTP on loopback: the status of every kind of request, a
//! full channel, and 2,000 requests on 50 keep-alive connections with no event lost or doubled.

// The example's `main` is not used here, and its `pub` items are public only within this test.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/axum_receiver.rs"]
mod receiver;

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{all_fixtures, fixture, v2_fixtures};
use smooch_events::{parse_webhook, Webhook, WebhookSecrets};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// The secret being rotated in, the current one, and one rotated out.
const NEXT: &str = "next-7f3a0c9e51b24d88";
const CURRENT: &str = "current-91b2e6f0a3c84d17";
const ROTATED_OUT: &str = "old-00c4d2a8b7e94f63";

/// The body limit of the test server (every fixture is under 3 KB).
const LIMIT: usize = 16 * 1024;

/// The longest any single read, write or connect may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs a test body under a time limit.
async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test).await.expect("the test took too long");
}

/// A running receiver: its address, the application's end of the channel, and the server task.
struct Server {
    address: SocketAddr,
    events: mpsc::Receiver<Webhook>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(capacity: usize) -> Server {
    let secrets = WebhookSecrets::new([NEXT, CURRENT]).with_max_body(LIMIT);
    let (sender, events) = mpsc::channel(capacity);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, receiver::app(secrets, sender))
            .await
            .unwrap();
    });
    Server {
        address,
        events,
        task,
    }
}

/// An HTTP/1.1 connection, kept alive between requests.
struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// A response: the status and the body.
#[derive(Debug)]
struct Response {
    status: u16,
    body: String,
}

impl Client {
    async fn connect(address: SocketAddr) -> Client {
        let stream = timeout(IO_TIMEOUT, TcpStream::connect(address))
            .await
            .unwrap()
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let (reader, writer) = stream.into_split();
        Client {
            reader: BufReader::new(reader),
            writer,
        }
    }

    /// `POST /webhook` with the body, and `X-API-Key: key` unless `key` is `None`.
    async fn post(&mut self, key: Option<&str>, body: &[u8]) -> Response {
        let mut request = format!(
            "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some(key) = key {
            request.push_str(&format!("X-API-Key: {key}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        timeout(IO_TIMEOUT, self.writer.write_all(&bytes))
            .await
            .unwrap()
            .unwrap();
        timeout(IO_TIMEOUT, self.read_response())
            .await
            .expect("no response in time")
    }

    async fn read_response(&mut self) -> Response {
        let status_line = self.read_line().await;
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut length = None;
        loop {
            let line = self.read_line().await;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header");
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().unwrap());
            }
            assert!(!name.eq_ignore_ascii_case("transfer-encoding"), "chunked: {line}");
        }
        let mut body = vec![0; length.expect("a Content-Length")];
        self.reader.read_exact(&mut body).await.unwrap();
        Response {
            status,
            body: String::from_utf8(body).unwrap(),
        }
    }

    /// A line without its CRLF.
    async fn read_line(&mut self) -> String {
        let mut line = String::new();
        let read = self.reader.read_line(&mut line).await.unwrap();
        assert!(read > 0, "the server closed the connection");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }
}

/// The fixtures that are webhook bodies, with their bytes.
fn webhook_fixtures() -> Vec<(String, Vec<u8>)> {
    all_fixtures()
        .into_iter()
        .filter(|name| !name.starts_with("later-docs-fragments/"))
        .chain(v2_fixtures())
        .map(|name| {
            let bytes = fixture(&name);
            (name, bytes)
        })
        .collect()
}

/// The body with `"testSeq": seq` as its first key.
fn with_seq(body: &[u8], seq: usize) -> Vec<u8> {
    let open = body.iter().position(|&b| b == b'{').expect("an object");
    let mut out = body[..=open].to_vec();
    out.extend_from_slice(format!("\"testSeq\": {seq},").as_bytes());
    out.extend_from_slice(&body[open + 1..]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_the_status_smooch_expects() {
    bounded(Duration::from_secs(20), async {
        let mut server = start(4096).await;
        let mut client = Client::connect(server.address).await;

        // Every fixture, with either valid secret: 200, and the application gets that event.
        let fixtures = all_fixtures();
        assert!(fixtures.len() >= 60, "only {} fixtures", fixtures.len());
        for (i, name) in fixtures.iter().enumerate() {
            let bytes = fixture(name);
            let key = if i % 2 == 0 { CURRENT } else { NEXT };
            let response = client.post(Some(key), &bytes).await;
            if name.starts_with("later-docs-fragments/") {
                // Not webhook bodies (no trigger): 400, which Smooch does not retry.
                assert_eq!(response.status, 400, "{name}: {response:?}");
                assert!(response.body.contains("`trigger`"), "{name}: {response:?}");
                continue;
            }
            assert_eq!(response.status, 200, "{name}: {response:?}");
            let received = server.events.try_recv().expect("the event is in the channel");
            assert_eq!(received, parse_webhook(&bytes).unwrap(), "{name}");
        }
        // Every v2 fixture too: the same endpoint takes both versions.
        for name in v2_fixtures() {
            let bytes = fixture(&name);
            let response = client.post(Some(CURRENT), &bytes).await;
            assert_eq!(response.status, 200, "{name}: {response:?}");
            let received = server.events.try_recv().expect("the body is in the channel");
            assert!(received.is_v2(), "{name}");
            assert_eq!(received, parse_webhook(&bytes).unwrap(), "{name}");
        }

        // An unknown trigger is a success.
        let unknown = fixture("written/client_add_unknown_trigger.json");
        assert_eq!(client.post(Some(CURRENT), &unknown).await.status, 200);
        let event = server.events.try_recv().unwrap();
        let event = event.as_v1().unwrap();
        assert!(event.is_unknown() && event.trigger() == "client:add", "{event:?}");

        // A wrong, rotated-out, near-miss, empty or missing key: 401, whatever the body.
        let body = fixture("message_appUser_text.json");
        let upper = CURRENT.to_uppercase();
        let prefix = &CURRENT[..CURRENT.len() - 1];
        let longer = format!("{CURRENT}0");
        for key in ["wrong", ROTATED_OUT, &upper, prefix, &longer, ""] {
            let response = client.post(Some(key), &body).await;
            assert_eq!(response.status, 401, "{key:?}: {response:?}");
            assert_eq!(response.body, "unauthorized: the X-API-Key header does not match");
        }
        let response = client.post(None, &body).await;
        assert_eq!(response.status, 401);
        assert_eq!(response.body, "unauthorized: the X-API-Key header is missing");
        assert_eq!(
            client.post(Some(ROTATED_OUT), b"{").await.status,
            401,
            "the key comes first"
        );

        // Malformed JSON, or JSON that is not a webhook body: 400.
        for bad in [
            &b"{\"trigger\": \"message:appUser\", "[..],
            b"",
            b"[]",
            b"{}",
            b"{\"trigger\": 3}",
        ] {
            let response = client.post(Some(CURRENT), bad).await;
            assert_eq!(response.status, 400, "{bad:?}: {response:?}");
            assert!(response.body.starts_with("invalid body: "), "{response:?}");
        }
        let mut wrong_type: serde_json::Value = serde_json::from_slice(&body).unwrap();
        wrong_type["messages"][0]["_id"] = 3.into();
        let response = client
            .post(Some(CURRENT), &serde_json::to_vec(&wrong_type).unwrap())
            .await;
        assert_eq!(response.status, 400, "{response:?}");
        assert!(response.body.contains("messages[0]._id"), "{response:?}");

        // Exactly the limit: 200. One byte over: the crate's 413, on the same connection.
        let mut padded = body.clone();
        padded.resize(LIMIT, b' ');
        assert_eq!(client.post(Some(CURRENT), &padded).await.status, 200);
        assert!(server.events.try_recv().is_ok());
        padded.push(b' ');
        let response = client.post(Some(CURRENT), &padded).await;
        assert_eq!(response.status, 413, "{response:?}");
        assert_eq!(
            response.body,
            format!("the body is {} bytes, over the limit of {LIMIT}", LIMIT + 1)
        );
        assert_eq!(client.post(Some(CURRENT), &body).await.status, 200, "still alive");
        assert!(server.events.try_recv().is_ok());

        // Far over the limit: axum stops reading and answers 413 too.
        let mut huge = body.clone();
        huge.resize(4 * LIMIT, b' ');
        let mut other = Client::connect(server.address).await;
        assert_eq!(other.post(Some(CURRENT), &huge).await.status, 413);

        // Nothing refused reached the application.
        assert!(server.events.try_recv().is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_channel_answers_503_after_waiting_for_room() {
    bounded(Duration::from_secs(20), async {
        let mut server = start(1).await;
        let mut client = Client::connect(server.address).await;
        let body = fixture("postback.json");

        assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        let started = Instant::now();
        let response = client.post(Some(CURRENT), &body).await;
        let waited = started.elapsed();
        assert_eq!(response.status, 503, "{response:?}");
        assert_eq!(response.body, "busy, retry later");
        // It waited for room first (a lower bound only: how much longer depends on the machine).
        assert!(waited >= receiver::ENQUEUE_TIMEOUT, "{waited:?}");

        // The application catches up; the retry gets in, and only the two accepted events exist.
        assert!(server.events.recv().await.is_some());
        assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        assert!(server.events.recv().await.is_some());
        assert!(server.events.try_recv().is_err());

        // The application has stopped: 503 without waiting for room.
        server.events.close();
        let response = client.post(Some(CURRENT), &body).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (503, "stopping, retry later")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_requests_on_fifty_connections_lose_and_double_nothing() {
    const CONNECTIONS: usize = 50;
    const PER_CONNECTION: usize = 40;
    const TOTAL: usize = CONNECTIONS * PER_CONNECTION;

    bounded(Duration::from_secs(25), async {
        let fixtures = webhook_fixtures();
        let mut server = start(64).await;
        let address = server.address;
        let started = Instant::now();

        // The application: counts each event by its `testSeq`.
        let mut events = std::mem::replace(&mut server.events, mpsc::channel(1).1);
        let application = tokio::spawn(async move {
            let mut seen = BTreeMap::<u64, usize>::new();
            while seen.values().sum::<usize>() < TOTAL {
                let Some(event) = events.recv().await else { break };
                let body = serde_json::to_value(&event).unwrap();
                let seq = body["testSeq"].as_u64().expect("a testSeq");
                *seen.entry(seq).or_default() += 1;
            }
            (seen, events)
        });

        // Every connection sends its requests one after another, on the same socket.
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|connection| {
                let bodies: Vec<_> = (0..PER_CONNECTION)
                    .map(|i| {
                        let seq = connection * PER_CONNECTION + i;
                        with_seq(&fixtures[seq % fixtures.len()].1, seq)
                    })
                    .collect();
                tokio::spawn(async move {
                    let mut client = Client::connect(address).await;
                    let mut statuses = Vec::new();
                    for (i, body) in bodies.iter().enumerate() {
                        let key = if i % 2 == 0 { CURRENT } else { NEXT };
                        statuses.push(client.post(Some(key), body).await.status);
                    }
                    statuses
                })
            })
            .collect();
        let mut answered = 0;
        for client in clients {
            let statuses = client.await.unwrap();
            assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
            answered += statuses.len();
        }
        assert_eq!(answered, TOTAL);

        let (seen, mut events) = application.await.unwrap();
        assert_eq!(seen.len(), TOTAL, "events lost");
        assert!(seen.values().all(|&n| n == 1), "events doubled");
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (0..TOTAL as u64).collect::<Vec<_>>()
        );
        assert!(events.try_recv().is_err(), "an extra event");
        eprintln!(
            "{TOTAL} requests on {CONNECTIONS} connections in {:?}",
            started.elapsed()
        );
    })
    .await;
}
