//! `axum_receiver`: a Smooch webhook endpoint, `POST /webhook`.
//!
//! ```text
//! SMOOCH_WEBHOOK_SECRETS=secret1,secret2 SMOOCH_LISTEN=127.0.0.1:3000 cargo run --example axum_receiver
//! ```
//!
//! `SMOOCH_WEBHOOK_SECRETS` holds the valid secrets, comma-separated (two during a rotation);
//! `SMOOCH_LISTEN` is the address to listen on (default `127.0.0.1:3000`).
//!
//! The handler checks the `X-API-Key` header, parses the body (v1, v1.1 or v2), logs one line per
//! body and hands it to the application through a bounded channel. It answers 200 once the body is
//! in the channel (an unknown trigger or event type included), or the status of the
//! [`WebhookError`]: 401 or 400, which Smooch never retries, or 413. The application reads the channel at its own pace, so a slow
//! application never makes Smooch wait more than [`ENQUEUE_TIMEOUT`].
//!
//! When the channel stays full for [`ENQUEUE_TIMEOUT`] (or the application has stopped), the
//! handler answers 503. The body was fine, so it should come again: Smooch retries a 503 with
//! exponential backoff, which also gives the application time to catch up. Waiting longer would
//! risk Smooch's 5-second limit, after which it retries an event that may already be in the
//! channel, and the application would get it twice.
//!
//! An event answered 200 is in memory only: an application that must not lose one on a crash
//! stores it before the answer. On Ctrl-C (or SIGTERM) the server stops taking requests and the
//! application handles what the channel still holds before the process exits.

use std::process::ExitCode;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use smooch_events::{v2, Event, Webhook, WebhookError, WebhookSecrets};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::SendTimeoutError;

/// How long the handler waits for room in a full channel before it answers 503.
pub const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(1);

/// How many events wait for the application before the channel is full.
const CHANNEL_CAPACITY: usize = 1024;

/// What the handler needs.
#[derive(Clone)]
struct Receiver {
    secrets: std::sync::Arc<WebhookSecrets>,
    events: mpsc::Sender<Webhook>,
}

/// The router: `POST /webhook`, checked with `secrets`, events sent to `events`.
///
/// axum's own body limit is set just above the crate's, so that the crate's check answers 413 for
/// a body over [`WebhookSecrets::max_body`], while axum stops reading a body larger than that
/// (also with 413) before buffering it all.
pub fn app(secrets: WebhookSecrets, events: mpsc::Sender<Webhook>) -> Router {
    let limit = secrets.max_body().saturating_add(1);
    let state = Receiver {
        secrets: std::sync::Arc::new(secrets),
        events,
    };
    Router::new()
        .route("/webhook", post(receive))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let key = headers.get("x-api-key").map(|value| value.as_bytes());
    let event = match receiver.secrets.verify_and_parse(key, &body) {
        Ok(event) => event,
        Err(error) => return refuse(&error),
    };
    eprintln!(
        "webhook: {} app={}",
        event.event_types().join(","),
        event.app_id().unwrap_or("-")
    );
    match receiver.events.send_timeout(event, ENQUEUE_TIMEOUT).await {
        Ok(()) => (StatusCode::OK, "ok".to_owned()),
        Err(SendTimeoutError::Timeout(event)) => {
            eprintln!(
                "webhook: 503 {}: the application is behind, Smooch will retry",
                event.event_types().join(",")
            );
            (StatusCode::SERVICE_UNAVAILABLE, "busy, retry later".to_owned())
        }
        Err(SendTimeoutError::Closed(event)) => {
            eprintln!(
                "webhook: 503 {}: the application has stopped, Smooch will retry",
                event.event_types().join(",")
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "stopping, retry later".to_owned(),
            )
        }
    }
}

/// The answer to a refused request. The error holds no secret, so it is logged and sent back.
fn refuse(error: &WebhookError) -> (StatusCode, String) {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    eprintln!("webhook: {} {error}", status.as_u16());
    (status, error.to_string())
}

/// The secrets in `SMOOCH_WEBHOOK_SECRETS`, comma-separated, each trimmed.
fn secrets_from_env() -> Result<WebhookSecrets, String> {
    let list = std::env::var("SMOOCH_WEBHOOK_SECRETS")
        .map_err(|_| "set SMOOCH_WEBHOOK_SECRETS to the webhook secrets, comma-separated".to_owned())?;
    let secrets = WebhookSecrets::new(list.split(',').map(str::trim));
    if secrets.is_empty() {
        return Err("SMOOCH_WEBHOOK_SECRETS holds no secret".to_owned());
    }
    Ok(secrets)
}

/// The application: here it only prints what users write.
async fn handle_events(mut events: mpsc::Receiver<Webhook>) {
    while let Some(webhook) = events.recv().await {
        match &webhook {
            Webhook::V1(Event::MessageAppUser(message)) => {
                for text in message.messages.iter().filter_map(|m| m.text.as_deref()) {
                    println!("{}: {text}", message.app_user.id);
                }
            }
            Webhook::V2(body) => {
                for event in &body.events {
                    let Some(message) = event.message() else { continue };
                    let author = message.author.as_ref();
                    if author.and_then(|a| a.kind.as_ref()) != Some(&v2::AuthorType::User) {
                        continue;
                    }
                    let user = author.and_then(|a| a.user_id.as_deref()).unwrap_or("-");
                    if let Some(text) = message.text() {
                        println!("{user}: {text}");
                    }
                }
            }
            _ => {}
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum_receiver: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let secrets = secrets_from_env()?;
    let address = std::env::var("SMOOCH_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let (sender, events) = mpsc::channel(CHANNEL_CAPACITY);
    let application = tokio::spawn(handle_events(events));

    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    eprintln!(
        "axum_receiver: {} secret(s), POST http://{}/webhook",
        secrets.len(),
        listener.local_addr()?
    );
    axum::serve(listener, app(secrets, sender))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The router, and so the sender, is gone: the application ends once the channel is empty.
    application.await?;
    eprintln!("axum_receiver: stopped");
    Ok(())
}
