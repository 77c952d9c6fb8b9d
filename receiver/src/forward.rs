//! [`Forward`]: the application that POSTs each delivery to a URL (`SMOOCH_FORWARD_URL`, `http://`
//! or `https://`), so that the receiver is a durable buffer in front of an application written in
//! any language.
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
//! | `webhook-id`, `webhook-timestamp`, `webhook-signature` | with a signing secret ([`ForwardSettings::signing_secret_file`]): the [Standard Webhooks] signature; `webhook-id` is `msg_` and the event's key, the same for every try |
//! | the headers file's ([`ForwardSettings::headers_file`]) | each of its `Name: value` lines |
//!
//! (Header values are percent-encoded where a byte is not visible ASCII.) A 2xx marks the
//! delivery done; anything else, or no answer within `SMOOCH_FORWARD_TIMEOUT`, is a failure:
//! the delivery is tried again after a backoff (after the `Retry-After` of a 429 or a 503,
//! within the backoff's bounds), and set aside after `SMOOCH_MAX_ATTEMPTS`. Delivery is at least
//! once: use `Idempotency-Key` (or `webhook-id`) to act once.
//!
//! **HTTPS.** The server's certificate is checked, its chain and its host name, against the
//! system's certificate authorities and those of [`ForwardSettings::ca_file`]; a client
//! certificate is shown to a server that asks for one ([`ForwardSettings::client_cert`]). HTTP/1.1
//! only (offered by ALPN as `http/1.1`). A certificate the receiver does not trust fails the
//! delivery like a refusal, with the reason ([`tls::explain`]) in the log and in `last_error`.
//!
//! **Signatures.** With `webhook-signature: v1,<base64>`, the base64 of the HMAC-SHA256 of
//! `<webhook-id>.<webhook-timestamp>.<body>` keyed with the secret (the bytes of the base64 after
//! `whsec_`); with two secrets (a rotation), two signatures, space-separated. `webhook-timestamp`
//! is the try's time in UNIX seconds. A service checks them with any Standard Webhooks library.
//!
//! Connections are kept alive and reused (closed after 30 s idle). The files are read once, by
//! [`Forward::new`]; an error names the file and the line, never what it holds.
//!
//! [Standard Webhooks]: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

mod headers;
mod signature;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::{check_url, redact_url, Options};
use crate::delivery::{Application, Delivery, Failure};
use crate::tls::{self, ClientCert, Roots, TlsSettings, Verify};

use self::signature::Signer;

/// How long a connection to the service may stay idle in the pool before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a [`Forward`] is made of: where, within how long, and the files of its TLS, its
/// signature and its headers. Its `Debug` shows the URL redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ForwardSettings {
    /// Where each delivery is POSTed: `http://…` or `https://…`.
    pub url: String,
    /// How long one POST may take (the connection and the TLS handshake included) before it
    /// counts as failed.
    pub timeout: Duration,
    /// A PEM file of certificate authorities trusted besides the system's (`https://` only).
    pub ca_file: Option<PathBuf>,
    /// The certificate shown to a service that asks for one (`https://` only).
    pub client_cert: Option<ClientCert>,
    /// A file of `whsec_…` secrets, one a line (two during a rotation): each forward is signed
    /// with each.
    pub signing_secret_file: Option<PathBuf>,
    /// A file of `Name: value` lines: headers added to every forward. Blank lines and lines
    /// starting with `#` are skipped; a header the receiver sets itself (`Content-Type`,
    /// `Idempotency-Key`, `Host`, `webhook-*`, `x-smooch-*`, and those of the connection) is
    /// refused.
    pub headers_file: Option<PathBuf>,
}

impl std::fmt::Debug for ForwardSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardSettings")
            .field("url", &redact_url(&self.url))
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("signing_secret_file", &self.signing_secret_file)
            .field("headers_file", &self.headers_file)
            .finish()
    }
}

impl ForwardSettings {
    /// POSTs to `url`, each within `timeout`; no file.
    pub fn new(url: impl Into<String>, timeout: Duration) -> ForwardSettings {
        ForwardSettings {
            url: url.into(),
            timeout,
            ca_file: None,
            client_cert: None,
            signing_secret_file: None,
            headers_file: None,
        }
    }

    /// The forward the options describe (`SMOOCH_FORWARD_*`): `None` without
    /// `SMOOCH_FORWARD_URL`; an error for options that cannot work together (as
    /// [`Options::check`] says).
    pub fn from_options(options: &Options) -> Result<Option<ForwardSettings>, String> {
        options.check_forward()?;
        let Some(url) = &options.forward_url else {
            return Ok(None);
        };
        let client_cert = match (
            &options.forward_client_cert_file,
            &options.forward_client_key_file,
        ) {
            (Some(cert), Some(key)) => Some(ClientCert::new(cert, key)),
            _ => None,
        };
        Ok(Some(ForwardSettings {
            url: url.clone(),
            timeout: options.forward_timeout,
            ca_file: options.forward_ca_file.clone(),
            client_cert,
            signing_secret_file: options.forward_signing_secret_file.clone(),
            headers_file: options.forward_headers_file.clone(),
        }))
    }
}

/// POSTs each delivery to a URL, with the headers of the [module](self); done on a 2xx, a
/// failure otherwise. Its `Debug` shows the URL redacted, and neither secrets nor header values.
#[derive(Clone)]
pub struct Forward {
    client: Transport,
    url: Uri,
    timeout: Duration,
    headers: HeaderMap,
    signer: Option<Signer>,
}

/// The pooled client: plain for an `http://` URL, TLS for an `https://` one.
#[derive(Clone)]
enum Transport {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl Transport {
    fn request(&self, request: Request<Full<Bytes>>) -> ResponseFuture {
        match self {
            Transport::Plain(client) => client.request(request),
            Transport::Tls(client) => client.request(request),
        }
    }
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("url", &redact_url(&self.url.to_string()))
            .field("timeout", &self.timeout)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl Forward {
    /// A forwarder as `settings` say: reads its files (once: a renewed file is taken at the next
    /// start) and builds the TLS configuration for an `https://` URL. An error names the option,
    /// the file and the line, never a file's content.
    pub fn new(settings: &ForwardSettings) -> Result<Forward, String> {
        let url = without_user_info(check_url(&settings.url)?);
        let https = url.scheme_str() == Some("https");
        if !https && (settings.ca_file.is_some() || settings.client_cert.is_some()) {
            return Err(format!(
                "a CA file or a client certificate is for an https:// SMOOCH_FORWARD_URL, and {} is http://",
                redact_url(&settings.url)
            ));
        }
        let signer = settings
            .signing_secret_file
            .as_deref()
            .map(Signer::read)
            .transpose()?;
        let headers = match &settings.headers_file {
            Some(file) => headers::read(file)?,
            None => HeaderMap::new(),
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(settings.timeout));
        let mut builder = Client::builder(TokioExecutor::new());
        // (The timer closes idle connections in the background; without it they would only be
        // found expired when next taken from the pool.)
        builder
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new());
        let client = if https {
            let tls = TlsSettings {
                verify: Verify::Full(match &settings.ca_file {
                    Some(file) => Roots::system_and_file(file),
                    None => Roots::system(),
                }),
                client_cert: settings.client_cert.clone(),
            };
            let mut config = tls
                .client_config()
                .map_err(|error| format!("HTTPS to SMOOCH_FORWARD_URL: {error}"))?;
            // The client speaks HTTP/1.1 only: it says so, for a server that offers h2 first.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            // https:// only (the scheme of the one URL); the host name of the URL checked.
            connector.enforce_http(false);
            let mut connector = HttpsConnector::from((connector, config));
            connector.enforce_https();
            Transport::Tls(builder.build(connector))
        } else {
            Transport::Plain(builder.build(connector))
        };
        Ok(Forward {
            client,
            url,
            timeout: settings.timeout,
            headers,
            signer,
        })
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
        if let Some(signer) = &self.signer {
            let id = webhook_id(delivery.key());
            let timestamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let signature = signer.sign(&id, timestamp, delivery.body());
            request = request
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp)
                .header("webhook-signature", signature);
        }
        let mut request = request
            .body(Full::new(delivery.bytes()))
            .map_err(|error| format!("forward: cannot build the request: {error}"))?;
        for (name, value) in &self.headers {
            request.headers_mut().append(name, value.clone());
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| format!("forward: {}", tls::explain(&error)))?;
        answer(response).await
    }
}

/// The outcome of the service's answer: done on a 2xx.
async fn answer(response: hyper::Response<Incoming>) -> Result<(), Failure> {
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

impl Application for Forward {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let outcome = match tokio::time::timeout(self.timeout, self.post(delivery)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::new(format!(
                "forward: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        };
        if let Err(failure) = &outcome {
            // The forward's own words (a status, a connection's or a certificate's error; no
            // byte of the body, no header value): why, at the default level.
            tracing::warn!(
                delivery_id = delivery.id(),
                attempt = delivery.attempt(),
                error = %failure.reason(),
                "forward failed"
            );
        }
        outcome
    }
}

/// `url` without the user info of its authority: it is not sent (hyper sends none), and the
/// client's pool would show it in its `trace` lines.
fn without_user_info(url: Uri) -> Uri {
    let Some((_, host)) = url
        .authority()
        .and_then(|authority| authority.as_str().rsplit_once('@'))
    else {
        return url;
    };
    let host = host.parse().expect("the end of an authority is one");
    let mut parts = url.into_parts();
    parts.authority = Some(host);
    Uri::from_parts(parts).expect("a URL with another authority of the same form")
}

/// The `webhook-id` of the event of key `key`: `msg_` and the key (64 hex digits), as Standard
/// Webhooks' ids are prefixed; the same for every try, as the specification asks.
fn webhook_id(key: &str) -> String {
    format!("msg_{key}")
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
    fn the_user_info_of_the_url_is_dropped() {
        for (url, kept) in [
            (
                "https://operator:hunter2@hooks.internal:8443/in?token=t",
                "https://hooks.internal:8443/in?token=t",
            ),
            ("http://user@127.0.0.1/in", "http://127.0.0.1/in"),
            ("https://hooks.internal/in", "https://hooks.internal/in"),
        ] {
            assert_eq!(without_user_info(url.parse().unwrap()).to_string(), kept);
        }
    }

    #[test]
    fn header_values_keep_visible_ascii_and_encode_the_rest() {
        assert_eq!(header_value("message:appUser"), "message:appUser");
        assert_eq!(header_value("a\r\nb"), "a%0D%0Ab");
        assert_eq!(header_value("é 100%"), "%C3%A9 100%25");
    }
}
