//! The `axum` feature's `VerifiedWebhook`, over real HTTP on loopback: an axum server with the
//! extractor, and requests written byte by byte on a TCP connection. A key that does not match is
//! answered 401 before the body is read (the body is never sent); a body over the limit 413; a
//! body that is not a webhook 400; a webhook of either version 200.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use common::fixture;
use smooch_events::axum::VerifiedWebhook;
use smooch_events::WebhookSecrets;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "k3y-0123456789abcdef";
const LIMIT: usize = 64 * 1024;
/// How long any one exchange may take: a response that waits for a body never sent fails here.
const PATIENCE: Duration = Duration::from_secs(10);

/// What the handler answers: 200 and the body's event types.
async fn handler(VerifiedWebhook(webhook): VerifiedWebhook) -> (StatusCode, String) {
    (StatusCode::OK, webhook.event_types().join(","))
}

/// A server on a free loopback port, running until the test's runtime ends.
async fn server() -> SocketAddr {
    let secrets = Arc::new(WebhookSecrets::new(["old-secret", KEY]).with_max_body(LIMIT));
    let app = Router::new().route("/webhook", post(handler)).with_state(secrets);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends `head` (the request line and headers, without the blank line) and `body`, and reads the
/// response until the server closes the connection: its status and its body.
async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        stream.write_all(body).await.unwrap();
        let mut response = Vec::new();
        // The server may close before it read what it refused: keep what arrived.
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8(response).unwrap()
    };
    let response = tokio::time::timeout(PATIENCE, exchange)
        .await
        .expect("no response in time");
    let status = response[9..12].parse().unwrap();
    let (_, text) = response.split_once("\r\n\r\n").unwrap();
    (status, text.to_owned())
}

/// A POST of `body` with `key`, its length announced.
async fn post_body(addr: SocketAddr, key: Option<&str>, body: &[u8]) -> (u16, String) {
    let key = key.map_or(String::new(), |key| format!("\r\nX-API-Key: {key}"));
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}{key}",
        body.len()
    );
    exchange(addr, &head, body).await
}

#[tokio::test]
async fn a_webhook_of_either_version_is_answered_200() {
    let addr = server().await;
    let v1 = post_body(addr, Some(KEY), &fixture("message_appUser_text.json")).await;
    assert_eq!(v1, (200, "message:appUser".to_owned()));
    let v2 = post_body(
        addr,
        Some("old-secret"),
        &fixture("v2/written/several_events.json"),
    )
    .await;
    assert_eq!(
        v2,
        (
            200,
            "conversation:message,conversation:read,conversation:message:delivery:channel,\
             user:update,switchboard:passControl"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_answered_401_before_the_body() {
    let addr = server().await;
    // A body of 100 kB is announced and never sent: only an answer on the headers alone comes back.
    for (key, text) in [
        ("", "unauthorized: the X-API-Key header is missing"),
        (
            "\r\nX-API-Key: guess",
            "unauthorized: the X-API-Key header does not match",
        ),
    ] {
        let head = format!("POST /webhook HTTP/1.1\r\nHost: test\r\nContent-Length: 100000{key}");
        assert_eq!(exchange(addr, &head, b"").await, (401, text.to_owned()));
    }
    // With the body sent, still 401.
    let body = fixture("v2/conversation_message.json");
    assert_eq!(post_body(addr, None, &body).await.0, 401);
}

#[tokio::test]
async fn a_body_that_is_not_a_webhook_is_answered_400_as_the_receiver_answers() {
    let addr = server().await;
    for body in [&br#"{"hello": "world"}"#[..], br#"{"events": {}}"#, b"{", b"[]"] {
        let (status, answer) = post_body(addr, Some(KEY), body).await;
        // The text `WebhookSecrets::verify_and_parse` gives, which the receiver answers too.
        let expected = WebhookSecrets::new([KEY])
            .verify_and_parse(Some(KEY.as_bytes()), body)
            .unwrap_err();
        assert_eq!((status, answer), (400, expected.to_string()));
    }
    let (_, answer) = post_body(addr, Some(KEY), br#"{"events": {}}"#).await;
    assert_eq!(
        answer,
        "invalid body: v2: events: expected a list, found an object"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_answered_413() {
    let addr = server().await;
    // Announced: refused on the headers.
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: test\r\nX-API-Key: {KEY}\r\nContent-Length: {}",
        LIMIT + 1
    );
    assert_eq!(
        exchange(addr, &head, b"").await,
        (
            413,
            format!("the body is {} bytes, over the limit of {LIMIT}", LIMIT + 1)
        )
    );
    // Chunked: refused once the limit is passed.
    let head =
        format!("POST /webhook HTTP/1.1\r\nHost: test\r\nX-API-Key: {KEY}\r\nTransfer-Encoding: chunked");
    let chunk = vec![b' '; 16 * 1024];
    let mut body = Vec::new();
    for _ in 0..5 {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(
        exchange(addr, &head, &body).await,
        (413, format!("the body is over the limit of {LIMIT} bytes"))
    );
    // Exactly the limit is accepted (white space around a webhook).
    let mut body = fixture("conversation_start.json");
    body.resize(LIMIT, b' ');
    assert_eq!(
        post_body(addr, Some(KEY), &body).await,
        (200, "conversation:start".to_owned())
    );
}
