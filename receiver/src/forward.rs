//! [`Forward`]: the application that POSTs each stored webhook to a URL (`SMOOCH_FORWARD_URL`), so
//! that the receiver is a durable buffer in front of an application written in any language.
//!
//! The body goes byte for byte as Smooch sent it, with these headers:
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `Idempotency-Key` | the webhook's row id: the same for every delivery of the same webhook |
//! | `X-Smooch-Kinds` | the trigger (v1) or the event types, comma-separated (v2) |
//! | `X-Smooch-App-Id` | the app's id, when the body names one |
//! | `X-Smooch-Attempt` | 1 for the first delivery, then one more after each failure |
//!
//! (Header values are percent-encoded where a byte is not visible ASCII.) A 2xx marks the webhook
//! done; anything else, or no answer within `SMOOCH_FORWARD_TIMEOUT`, is a failure of the
//! application: the supervisor retries with backoff and sets the webhook aside after
//! `SMOOCH_MAX_ATTEMPTS`. Delivery is at least once: use `Idempotency-Key` to act once. Only
//! `http://` URLs (forward to a local proxy for TLS).

use std::time::Duration;

use axum::http::{HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::{check_url, redact_url};
use crate::store::Webhook;
use crate::worker::Application;

/// POSTs each webhook to a URL: the body byte for byte, with `Idempotency-Key` (the row id),
/// `X-Smooch-Kinds`, `X-Smooch-App-Id` and `X-Smooch-Attempt`; done on a 2xx, a failure otherwise.
/// Its `Debug` shows the URL redacted.
#[derive(Clone)]
pub struct Forward {
    client: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
    timeout: Duration,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("url", &redact_url(&self.url.to_string()))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Forward {
    /// A forwarder to `url` (`http://…`), each POST within `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Forward, String> {
        let url = check_url(url)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Forward { client, url, timeout })
    }

    async fn post(&self, webhook: &Webhook) -> Result<(), String> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header("content-type", "application/json")
            .header("idempotency-key", webhook.id)
            .header("x-smooch-kinds", header_value(&webhook.kinds))
            .header("x-smooch-attempt", webhook.attempts + 1);
        if let Some(app) = &webhook.app_id {
            request = request.header("x-smooch-app-id", header_value(app));
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(&webhook.body)))
            .map_err(|error| format!("forward: cannot build the request: {error}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| format!("forward: {error}"))?;
        let status = response.status();
        // Read the answer to its end, so that the connection can carry the next one.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("forward: answered {status}"))
        }
    }
}

impl Application for Forward {
    async fn handle(&self, webhook: &Webhook) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.post(webhook)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "forward: no answer within {} ms",
                self.timeout.as_millis()
            )),
        }
    }
}

/// `text` as a header value: visible ASCII and spaces as they are, every other byte (and `%`)
/// percent-encoded.
fn header_value(text: &str) -> HeaderValue {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (byte == b' ' || byte.is_ascii_graphic()) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&encoded).expect("visible ASCII is a header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_keep_visible_ascii_and_encode_the_rest() {
        assert_eq!(header_value("message:appUser"), "message:appUser");
        assert_eq!(header_value("a\r\nb"), "a%0D%0Ab");
        assert_eq!(header_value("é 100%"), "%C3%A9 100%25");
    }
}
