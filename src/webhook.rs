//! Receiving a webhook request: the `X-API-Key` check, the body size limit, then
//! [`parse_webhook`].

use std::fmt;
use std::hint::black_box;

use crate::error::ParseError;
use crate::parse::parse_webhook;
use crate::versions::Webhook;

/// The webhook secrets that are valid now, and the largest body accepted.
///
/// Smooch sends the webhook's secret verbatim in the `X-API-Key` header (there is no signature),
/// and so does Sunshine Conversations v2.
/// Every secret of the set is valid: during a rotation, hold both the old and the new one.
/// Secrets are compared byte for byte, as given (no trimming, case counts). An empty secret is
/// ignored, so a set built from an empty list or only empty strings holds no secret and refuses
/// every request.
///
/// `Debug` shows how many secrets there are, never what they are.
///
/// ```
/// use smooch_events::{AuthError, WebhookSecrets};
///
/// let secrets = WebhookSecrets::new(["old-secret", "new-secret"]);
/// assert!(secrets.verify(Some(b"new-secret")).is_ok());
/// assert_eq!(secrets.verify(Some(b"guess")), Err(AuthError::Mismatch));
/// assert_eq!(secrets.verify(None), Err(AuthError::Missing));
/// let shown = format!("{secrets:?}");
/// assert_eq!(shown, "WebhookSecrets { secrets: [2 redacted], max_body: 1048576 }");
/// ```
#[derive(Clone)]
pub struct WebhookSecrets {
    secrets: Vec<Box<[u8]>>,
    max_body: usize,
}

impl WebhookSecrets {
    /// The default largest body, in bytes: 1 MiB. Smooch bodies are a few kilobytes; the largest
    /// documented ones (a carousel, a full appUser with many clients) stay far below this.
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

    /// A set of valid secrets (empty ones are ignored), with the default body limit.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let secrets = secrets
            .into_iter()
            .filter(|secret| !secret.as_ref().is_empty())
            .map(|secret| Box::from(secret.as_ref()))
            .collect();
        WebhookSecrets {
            secrets,
            max_body: Self::DEFAULT_MAX_BODY,
        }
    }

    /// Sets the largest body [`verify_and_parse`](Self::verify_and_parse) accepts, in bytes.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// How many secrets the set holds.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether the set holds no secret (and so refuses every request).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Checks the value of the `X-API-Key` header (`None` when the request has none).
    ///
    /// The value is compared with every secret, in time that depends on the lengths of the value
    /// and the secrets but not on their bytes, and not on which secret matches, if any.
    pub fn verify(&self, header_value: Option<&[u8]>) -> Result<(), AuthError> {
        let given = header_value.ok_or(AuthError::Missing)?;
        let mut matched = false;
        for secret in &self.secrets {
            // `|=` through `black_box`, not `any()`: every secret is compared, even after a match.
            matched |= black_box(constant_time_eq(secret, given));
        }
        if matched {
            Ok(())
        } else {
            Err(AuthError::Mismatch)
        }
    }

    /// Checks a whole request: the `X-API-Key` header, then the body size, then the body, of any
    /// version ([`parse_webhook`](crate::parse_webhook): a v1 or v1.1 body with its `trigger`, or
    /// a v2 body with its `events`).
    ///
    /// The key comes first, so a sender without it learns nothing about the body. On error,
    /// answer [`WebhookError::status`]; on success, answer 2xx.
    ///
    /// The retry rule (v1 and v2 alike): a request answered with anything other than 2xx, or not
    /// answered within 5 seconds (20 in later docs and in v2), is retried up to 5 times with
    /// exponential backoff, except that 400, 401, 403, 404 and 406 are never retried. So answer
    /// quickly (hand the body on, do not handle it before answering), answer 2xx for an unknown
    /// trigger or event type, or one you ignore, and never 5xx for a body that will never parse.
    ///
    /// ```
    /// use smooch_events::{Webhook, WebhookSecrets};
    ///
    /// let secrets = WebhookSecrets::new(["s3cret"]).with_max_body(64 * 1024);
    /// let v1 = br#"{"trigger": "client:add", "app": {"_id": "57ec2881c47d2d24b0c16427"}}"#;
    /// let webhook = secrets.verify_and_parse(Some(b"s3cret"), v1)?;
    /// assert_eq!(webhook.as_v1().unwrap().trigger(), "client:add");
    ///
    /// let v2 = br#"{"app": {"id": "5ebee0975ac5304b664a12fa"}, "events": [{"type": "user:remove"}]}"#;
    /// let webhook = secrets.verify_and_parse(Some(b"s3cret"), v2)?;
    /// assert_eq!(webhook.event_types(), ["user:remove"]);
    /// assert!(matches!(webhook, Webhook::V2(_)));
    ///
    /// let error = secrets.verify_and_parse(Some(b"s3cret"), b"{").unwrap_err();
    /// assert_eq!(error.status(), 400);
    /// let error = secrets.verify_and_parse(None, v1).unwrap_err();
    /// assert_eq!(error.status(), 401);
    /// # Ok::<(), smooch_events::WebhookError>(())
    /// ```
    pub fn verify_and_parse(
        &self,
        header_value: Option<&[u8]>,
        body: &[u8],
    ) -> Result<Webhook, WebhookError> {
        self.verify(header_value)?;
        if body.len() > self.max_body {
            return Err(WebhookError::TooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        Ok(parse_webhook(body)?)
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSecrets")
            .field("secrets", &format_args!("[{} redacted]", self.secrets.len()))
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// Whether `a` and `b` are equal, reading every byte of the longer one whatever the content.
///
/// Written here rather than taken from a crate (`subtle`, `constant_time_eq`): it is a dozen
/// lines, and a dependency for them would cost more to audit than they do. The lengths' difference
/// goes into the same accumulator as the bytes' differences, so a prefix or an extension of a
/// secret fails without an early exit, and `black_box` keeps the optimizer from turning the fold
/// into a loop that stops at the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff = black_box(diff | usize::from(x ^ y));
    }
    diff == 0
}

/// Why the `X-API-Key` check failed. It never holds the value or a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request has no `X-API-Key` header.
    #[error("the X-API-Key header is missing")]
    Missing,
    /// The header matches no secret (or the set holds none).
    #[error("the X-API-Key header does not match")]
    Mismatch,
}

/// Why a webhook request was refused, and so which status to answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The `X-API-Key` header is missing or wrong: 401.
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] AuthError),
    /// The body is larger than the limit: 413.
    #[error("the body is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// The body's size, in bytes.
        len: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not a webhook body: 400.
    #[error("invalid body: {0}")]
    Invalid(#[from] ParseError),
}

impl WebhookError {
    /// The HTTP status to answer: 401, 413 or 400.
    ///
    /// Smooch never retries 400 and 401: the body or the key would be just as wrong the next time.
    /// It does retry 413, up to 5 times, before it drops the body.
    pub fn status(&self) -> u16 {
        match self {
            WebhookError::Unauthorized(_) => 401,
            WebhookError::TooLarge { .. } => 413,
            WebhookError::Invalid(_) => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "k3y-Old-0123456789abcdef";
    const NEW: &str = "k3y-New-fedcba9876543210";
    const BODY: &[u8] = br#"{"trigger": "client:add", "app": {"_id": "57ec2881c47d2d24b0c16427"}}"#;

    fn secrets() -> WebhookSecrets {
        WebhookSecrets::new([OLD, NEW])
    }

    #[test]
    fn constant_time_eq_is_equality() {
        let values: [&[u8]; 7] = [b"", b"a", b"b", b"ab", b"abc", b"abd", b"\0"];
        for a in values {
            for b in values {
                assert_eq!(constant_time_eq(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn every_secret_of_the_set_is_accepted() {
        let secrets = WebhookSecrets::new(["one", "two", "three"]);
        for key in ["one", "two", "three"] {
            assert_eq!(secrets.verify(Some(key.as_bytes())), Ok(()), "{key}");
        }
        assert_eq!(secrets.len(), 3);
    }

    #[test]
    fn near_misses_are_refused() {
        let secrets = secrets();
        let prefix = &NEW[..NEW.len() - 1];
        let longer = format!("{NEW}0");
        let upper = NEW.to_uppercase();
        let lower = NEW.to_lowercase();
        let padded = format!(" {NEW}");
        for key in [prefix, &longer, &upper, &lower, &padded, "", "k", "k3y-"] {
            assert_eq!(
                secrets.verify(Some(key.as_bytes())),
                Err(AuthError::Mismatch),
                "{key:?}"
            );
        }
        // Two secrets glued together match neither.
        let both = format!("{OLD}{NEW}");
        assert_eq!(secrets.verify(Some(both.as_bytes())), Err(AuthError::Mismatch));
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(secrets().verify(None), Err(AuthError::Missing));
        assert_eq!(WebhookSecrets::new([""; 0]).verify(None), Err(AuthError::Missing));
    }

    #[test]
    fn empty_secrets_are_ignored_and_an_empty_set_refuses_everything() {
        let secrets = WebhookSecrets::new(["", NEW, ""]);
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets.verify(Some(b"")), Err(AuthError::Mismatch));
        assert_eq!(secrets.verify(Some(NEW.as_bytes())), Ok(()));

        for empty in [
            WebhookSecrets::new(Vec::<String>::new()),
            WebhookSecrets::new([""]),
        ] {
            assert!(empty.is_empty());
            for key in ["", "anything", NEW] {
                assert_eq!(empty.verify(Some(key.as_bytes())), Err(AuthError::Mismatch));
            }
        }
    }

    #[test]
    fn secrets_are_bytes_of_any_kind() {
        let secrets = WebhookSecrets::new([b"\xff\x00bin".to_vec()]);
        assert_eq!(secrets.verify(Some(b"\xff\x00bin")), Ok(()));
        assert_eq!(secrets.verify(Some(b"\xff\x00bi")), Err(AuthError::Mismatch));
    }

    #[test]
    fn nothing_shows_a_secret() {
        let secrets = secrets();
        let debug = format!("{secrets:?} {secrets:#?}");
        assert_eq!(
            format!("{secrets:?}"),
            "WebhookSecrets { secrets: [2 redacted], max_body: 1048576 }"
        );
        let errors = [
            secrets.verify_and_parse(None, BODY).unwrap_err(),
            secrets
                .verify_and_parse(Some(&NEW.as_bytes()[1..]), BODY)
                .unwrap_err(),
            secrets.verify_and_parse(Some(OLD.as_bytes()), b"{").unwrap_err(),
            secrets
                .clone()
                .with_max_body(4)
                .verify_and_parse(Some(OLD.as_bytes()), BODY)
                .unwrap_err(),
        ];
        let mut shown = vec![debug];
        for error in &errors {
            shown.push(format!("{error} {error:?}"));
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                shown.push(format!("{inner} {inner:?}"));
                source = inner.source();
            }
        }
        for text in &shown {
            for secret in [OLD, NEW, &NEW[1..], &OLD[..OLD.len() - 1]] {
                assert!(!text.contains(secret), "{text}");
            }
            assert!(!text.contains("k3y"), "{text}");
        }
        assert_eq!(AuthError::Missing.to_string(), "the X-API-Key header is missing");
        assert_eq!(
            AuthError::Mismatch.to_string(),
            "the X-API-Key header does not match"
        );
    }

    #[test]
    fn verify_and_parse_gives_the_status_to_answer() {
        let secrets = secrets().with_max_body(BODY.len());
        let key = Some(OLD.as_bytes());
        assert_eq!(secrets.max_body(), BODY.len());

        let webhook = secrets.verify_and_parse(key, BODY).unwrap();
        assert!(
            webhook.as_v1().unwrap().is_unknown(),
            "an unknown trigger is a success"
        );

        let status = |header: Option<&[u8]>, body: &[u8]| secrets.verify_and_parse(header, body).unwrap_err();
        assert_eq!(status(None, BODY).status(), 401);
        assert_eq!(status(Some(b"nope"), BODY).status(), 401);

        let malformed = status(key, b"{\"trigger\": ");
        assert_eq!(malformed.status(), 400);
        let source = std::error::Error::source(&malformed).unwrap();
        assert!(source.downcast_ref::<ParseError>().is_some(), "{source:?}");
        assert_eq!(status(key, b"{}").status(), 400, "no trigger");
        assert_eq!(
            status(key, br#"{"events": {}}"#).status(),
            400,
            "v2, events not a list"
        );

        let mut large = BODY.to_vec();
        large.push(b' ');
        let too_large = status(key, &large);
        assert_eq!(too_large.status(), 413);
        assert_eq!(
            too_large.to_string(),
            format!(
                "the body is {} bytes, over the limit of {}",
                BODY.len() + 1,
                BODY.len()
            )
        );

        // The key comes first: a bad key with a bad body is 401.
        assert_eq!(status(Some(b"nope"), &large).status(), 401);
        assert_eq!(status(None, b"{").status(), 401);
        // Then the size: a large body that is not JSON is 413.
        assert_eq!(status(key, &vec![b'{'; BODY.len() + 1]).status(), 413);
    }

    #[test]
    fn v2_bodies_are_taken_too() {
        let secrets = secrets();
        let key = Some(NEW.as_bytes());
        let body = br#"{"app": {"id": "a"}, "webhook": {"id": "w", "version": "v2"},
            "events": [{"id": "e", "type": "conversation:remove", "payload": {"conversation": {"id": "c"}}},
                       {"id": "f", "type": "passthrough:messaging", "payload": {}}]}"#;
        let webhook = secrets.verify_and_parse(key, body).unwrap();
        assert_eq!(webhook.app_id(), Some("a"));
        assert_eq!(
            webhook.event_types(),
            ["conversation:remove", "passthrough:messaging"]
        );
        let events = &webhook.as_v2().unwrap().events;
        assert_eq!(events[0].conversation_id(), Some("c"));
        assert!(events[1].is_unknown(), "an unknown event type is a success");
        // The key comes first for v2 bodies too.
        assert_eq!(secrets.verify_and_parse(None, body).unwrap_err().status(), 401);
        // `parse_event` refuses a v2 body; `verify_and_parse` takes it.
        assert_eq!(crate::parse_event(body), Err(ParseError::V2Body));
    }

    #[test]
    fn the_default_limit_is_one_mib() {
        assert_eq!(secrets().max_body(), 1 << 20);
        let mut body = BODY.to_vec();
        body.resize(1 << 20, b' ');
        assert!(secrets().verify_and_parse(Some(NEW.as_bytes()), &body).is_ok());
        body.push(b' ');
        assert_eq!(
            secrets()
                .verify_and_parse(Some(NEW.as_bytes()), &body)
                .unwrap_err()
                .status(),
            413
        );
    }
}
