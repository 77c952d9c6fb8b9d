//! Receiving webhooks inside an axum service of your own (the `axum` feature): the extractor
//! [`VerifiedWebhook`].
//!
//! It does what [`WebhookSecrets::verify_and_parse`] does, in the order a receiver must: the
//! `X-API-Key` header first, before a byte of the body is read (**401**); then the body's size,
//! announced or read (**413**); then the body, of either version (**400** for a body that is not
//! a webhook, which Smooch does not retry, rather than the 422 of `axum::Json`, which it retries
//! five times). The answers are those of the workspace's `smooch-receiver`: the status and the
//! error as plain text.
//!
//! The secrets come from the router's state, as an `Arc<WebhookSecrets>` (the state itself, or a
//! field of yours through [`FromRef`]). Their [`max_body`](WebhookSecrets::max_body) is the body
//! limit; axum's own `DefaultBodyLimit` does not apply, since the extractor reads the body itself.
//!
//! ```
//! use std::sync::Arc;
//!
//! use axum::http::StatusCode;
//! use axum::routing::post;
//! use axum::Router;
//! use smooch_events::axum::VerifiedWebhook;
//! use smooch_events::WebhookSecrets;
//!
//! async fn webhook(VerifiedWebhook(webhook): VerifiedWebhook) -> StatusCode {
//!     for item in webhook.incoming() {
//!         println!("{} from {:?}", item.event_type, item.user_id); // hand it on
//!     }
//!     StatusCode::OK
//! }
//!
//! let secrets = Arc::new(WebhookSecrets::new(["old-secret", "new-secret"]));
//! let app: Router = Router::new().route("/webhook", post(webhook)).with_state(secrets);
//! ```
//!
//! Answering 200 says the webhook is handled: Smooch never sends it again. A service that must not
//! lose one stores it before answering (`smooch-receiver` does).

use std::fmt;
use std::sync::Arc;

use ::axum::body::{Body, Bytes};
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::http::{header, HeaderValue, StatusCode};
use ::axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::parse::parse_webhook;
use crate::versions::Webhook;
use crate::webhook::{WebhookError, WebhookSecrets};

/// A webhook whose `X-API-Key` matched one of the secrets of the state and whose body parsed, of
/// either version: an axum extractor (see the [module](self) docs). Take it as the last argument of
/// a handler: it reads the body.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedWebhook(pub Webhook);

/// Why [`VerifiedWebhook`] refused a request: the response is its [`status`](Self::status) and
/// its text.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The key is missing or wrong (401), the announced body is over the limit (413), or the body
    /// is not a webhook body (400): see [`WebhookError::status`].
    Webhook(WebhookError),
    /// A body without a `Content-Length` went over the limit while it was read (413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read: the connection broke (400).
    Unreadable(Box<dyn std::error::Error + Send + Sync>),
}

impl WebhookRejection {
    /// The status answered: 401, 413 or 400.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookRejection::Webhook(error) => {
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            WebhookRejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookRejection::Unreadable(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookRejection::Webhook(error) => fmt::Display::fmt(error, f),
            WebhookRejection::TooLarge { limit } => {
                write!(f, "the body is over the limit of {limit} bytes")
            }
            WebhookRejection::Unreadable(_) => f.write_str("the body could not be read"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookRejection::Webhook(error) => Some(error),
            WebhookRejection::TooLarge { .. } => None,
            WebhookRejection::Unreadable(error) => Some(&**error),
        }
    }
}

impl From<WebhookError> for WebhookRejection {
    fn from(error: WebhookError) -> Self {
        WebhookRejection::Webhook(error)
    }
}

impl IntoResponse for WebhookRejection {
    /// The status, and the rejection's text as `text/plain`.
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

impl<S> FromRequest<S> for VerifiedWebhook
where
    Arc<WebhookSecrets>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, WebhookRejection> {
        let secrets = Arc::<WebhookSecrets>::from_ref(state);
        let (parts, body) = request.into_parts();
        // The key, on the headers alone: not a byte of the body has been read.
        let key = parts.headers.get("x-api-key").map(HeaderValue::as_bytes);
        secrets.verify(key).map_err(WebhookError::from)?;
        let limit = secrets.max_body();
        let announced = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
        if let Some(len) = announced.filter(|&len| len > limit) {
            return Err(WebhookError::TooLarge { len, limit }.into());
        }
        let bytes = read(body, limit).await?;
        match parse_webhook(&bytes) {
            Ok(webhook) => Ok(VerifiedWebhook(webhook)),
            Err(error) => Err(WebhookError::from(error).into()),
        }
    }
}

/// The whole body, refused once it is over `limit` bytes.
async fn read(body: Body, limit: usize) -> Result<Bytes, WebhookRejection> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(WebhookRejection::TooLarge { limit }),
        Err(error) => Err(WebhookRejection::Unreadable(error)),
    }
}
