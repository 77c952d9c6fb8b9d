//! `axum_handler`: checking and parsing a webhook inside an axum handler, in a few lines.
//!
//! ```text
//! SMOOCH_WEBHOOK_SECRETS=secret cargo run --example axum_handler
//! curl -H 'X-API-Key: secret' --data-binary @fixtures/conversation_start.json http://127.0.0.1:3000/webhook
//! ```
//!
//! It answers what Smooch expects (200, or 401, 413 or 400, which Smooch does not retry) and only
//! prints what it got. A service that must never lose a webhook answered 200 stores it first: the
//! workspace's `smooch-receiver` (`receiver/README.md`) does that, and hands each stored webhook
//! to your application.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use smooch_events::{Webhook, WebhookSecrets};
use std::sync::Arc;

async fn webhook(
    State(secrets): State<Arc<WebhookSecrets>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let key = headers.get("x-api-key").map(|value| value.as_bytes());
    match secrets.verify_and_parse(key, &body) {
        Ok(Webhook::V1(event)) => println!("v1 {} from app {:?}", event.trigger(), event.app_id()),
        Ok(webhook) => println!("{:?} from app {:?}", webhook.event_types(), webhook.app_id()),
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return (status, error.to_string());
        }
    }
    (StatusCode::OK, "ok".to_owned())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let list = std::env::var("SMOOCH_WEBHOOK_SECRETS").unwrap_or_default();
    let secrets = Arc::new(WebhookSecrets::new(list.split(',').map(str::trim)));
    // Axum's own body limit is 2 MiB; the secrets' (1 MiB by default) answers 413 below it.
    let app = Router::new().route("/webhook", post(webhook)).with_state(secrets);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await
}
