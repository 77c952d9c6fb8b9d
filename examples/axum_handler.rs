//! `axum_handler`: receiving webhooks inside an axum service of your own, with the extractor of
//! the `axum` feature.
//!
//! ```text
//! SMOOCH_WEBHOOK_SECRETS=secret cargo run --features axum --example axum_handler
//! curl -H 'X-API-Key: secret' --data-binary @fixtures/message_appUser_text.json http://127.0.0.1:3000/webhook
//! ```
//!
//! `VerifiedWebhook` checks the key before reading the body (401), the body's size (413) and the
//! body (400 for one that is not a webhook, which Smooch does not retry), as `smooch-receiver`
//! answers; the handler gets a parsed webhook of either version, prints its messages and
//! postbacks, and answers 200. A service that must never lose a webhook answered 200 stores it
//! first: the workspace's `smooch-receiver` (`receiver/README.md`) does that, and hands each
//! stored webhook to your application.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use smooch_events::axum::VerifiedWebhook;
use smooch_events::{IncomingKind, WebhookSecrets};

async fn webhook(VerifiedWebhook(webhook): VerifiedWebhook) -> StatusCode {
    println!("{:?} from app {:?}", webhook.event_types(), webhook.app_id());
    for item in webhook.incoming() {
        match &item.kind {
            IncomingKind::Message(message) => {
                println!(
                    "  {:?} wrote {:?} on {:?}",
                    item.user_id, message.text, item.channel
                )
            }
            IncomingKind::Postback(postback) => {
                println!("  {:?} tapped {:?}", item.user_id, postback.payload)
            }
            _ => {}
        }
    }
    StatusCode::OK
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let list = std::env::var("SMOOCH_WEBHOOK_SECRETS").unwrap_or_default();
    let secrets = Arc::new(WebhookSecrets::new(list.split(',').map(str::trim)));
    let app = Router::new().route("/webhook", post(webhook)).with_state(secrets);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await
}
