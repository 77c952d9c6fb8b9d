//! [`Forward`]: the application that POSTs each delivery to a URL (`SMOOCH_FORWARD_URL`), so that
//! the receiver is a durable buffer in front of an application written in any language.
//!
//! Each event goes on its own, as [`Delivery::body`] gives it (the body byte for byte as Smooch
//! sent it, for a body of one event), with these headers:
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `Idempotency-Key` | the event's key ([`Delivery::key`]): the same for every delivery of the same event, never another's |
//! | `X-Smooch-Kinds` | the trigger (v1) or the event's type (v2) |
//! | `X-Smooch-App-Id` | the app's id, when the body names one |
//! | `X-Smooch-Lane` | the event's lane (`conversation:<app>:<id>`, `user:<app>:<id>`, `appUser:<app>:<id>`), when it has one: the service may act on two lanes at once, never on two events of one lane |
//! | `X-Smooch-Attempt` | 1 for the first try, then one more after each failure |
//! | `X-Smooch-Delivery-Id`, `X-Smooch-Webhook-Id` | the rows of the delivery and of its body in the store |
//!
//! (Header values are percent-encoded where a byte is not visible ASCII.) A 2xx marks the
//! delivery done; anything else, or no answer within `SMOOCH_FORWARD_TIMEOUT`, is a failure:
//! the delivery is tried again after a backoff (after the `Retry-After` of a 429 or a 503,
//! within the backoff's bounds), and set aside after `SMOOCH_MAX_ATTEMPTS`. Delivery is at least
//! once: use `Idempotency-Key` to act once. Only `http://` URLs (forward to a local proxy for
//! TLS).

use std::time::Duration;

use axum::http::{HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::{check_url, redact_url};
use crate::delivery::{Application, Delivery, Failure};

/// POSTs each delivery to a URL, with the headers of the [module](self); done on a 2xx, a
/// failure otherwise. Its `Debug` shows the URL redacted.
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

    async fn post(&self, delivery: &Delivery) -> Result<(), Failure> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header("content-type", "application/json")
            .header("idempotency-key", delivery.key())
            .header("x-smooch-kinds", header_value(delivery.kind()))
            .header("x-smooch-attempt", delivery.attempt())
            .header("x-smooch-delivery-id", delivery.id())
            .header("x-smooch-webhook-id", delivery.webhook_id());
        if let Some(app) = delivery.app_id() {
            request = request.header("x-smooch-app-id", header_value(app));
        }
        if let Some(lane) = delivery.lane() {
            request = request.header("x-smooch-lane", header_value(lane));
        }
        let request = request
            .body(Full::new(delivery.bytes()))
            .map_err(|error| format!("forward: cannot build the request: {error}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| format!("forward: {error}"))?;
        let status = response.status();
        let wait = match status.as_u16() {
            429 | 503 => response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|value| retry_after(value.to_str().ok()?, chrono::Utc::now())),
            _ => None,
        };
        // Read the answer to its end, so that the connection can carry the next one.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            return Ok(());
        }
        let failure = Failure::new(format!("forward: answered {status}"));
        Err(match wait {
            Some(wait) => failure.retry_after(wait),
            None => failure,
        })
    }
}

impl Application for Forward {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.post(delivery)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::new(format!(
                "forward: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

/// A `Retry-After` value (seconds, or an HTTP date) as a wait from `now`.
fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
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
    fn a_retry_after_in_seconds_or_as_a_date_is_a_wait() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn header_values_keep_visible_ascii_and_encode_the_rest() {
        assert_eq!(header_value("message:appUser"), "message:appUser");
        assert_eq!(header_value("a\r\nb"), "a%0D%0Ab");
        assert_eq!(header_value("é 100%"), "%C3%A9 100%25");
    }
}
