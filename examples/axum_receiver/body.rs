//! What the receiver reads from a body: the one place that knows the body format.
//!
//! [`parse`] decides between 200 and 400, [`describe`] gives what the log line and the `webhooks`
//! row show of a body, and [`idempotency_key`] names a body so that a retry is stored once.
//! `parse` is `smooch_events::parse_webhook`: Smooch v1 and v1.1 bodies (a `trigger`) and
//! Sunshine Conversations v2 bodies (an `events` array, each event with its `type`) alike.

use sha2::{Digest, Sha256};
use smooch_events::{parse_webhook, ParseError, Webhook};

/// A parsed body.
pub(crate) type Parsed = Webhook;

/// Parses a body; an error is answered 400 (and the body kept in `dead_letters`).
pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    parse_webhook(body)
}

/// What the log and the store show of an accepted body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Description {
    /// The trigger (v1), or the event types, comma-separated (v2); cut to [`MAX_KINDS`] bytes.
    pub(crate) kinds: String,
    /// The app's id, when the body names one; cut to [`MAX_KINDS`] bytes.
    pub(crate) app_id: Option<String>,
}

/// The most bytes of `kinds` or `app_id` kept: a trigger is a few dozen bytes, an id 24.
pub(crate) const MAX_KINDS: usize = 256;

/// What the log and the store show of `parsed`.
pub(crate) fn describe(parsed: &Parsed) -> Description {
    Description {
        kinds: cut(&parsed.event_types().join(","), MAX_KINDS).to_owned(),
        app_id: parsed.app_id().map(|id| cut(id, MAX_KINDS).to_owned()),
    }
}

/// The idempotency key of a body: the SHA-256 of its exact bytes.
///
/// Smooch retries a request that got no 2xx (a timeout, a 5xx) by sending the same body again, so
/// the same bytes mean the same delivery, whatever the body's version or trigger (v2 events carry
/// an `id`, v1 bodies do not always). Two different deliveries with identical bytes (same ids,
/// same timestamps) are the same delivery. The key is computed from the bytes, never from a parse,
/// so it does not change when the crate learns a new format.
pub(crate) fn idempotency_key(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_sha256_of_the_bytes() {
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let hex: String = idempotency_key(b"abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // One byte of white space more is another key: the key is of the bytes, not the JSON.
        assert_ne!(idempotency_key(b"{}"), idempotency_key(b"{ }"));
    }

    #[test]
    fn a_description_holds_the_trigger_and_the_app() {
        let body = br#"{"trigger": "client:add", "app": {"_id": "57ec2881c47d2d24b0c16427"}}"#;
        let described = describe(&parse(body).unwrap());
        assert_eq!(described.kinds, "client:add");
        assert_eq!(described.app_id.as_deref(), Some("57ec2881c47d2d24b0c16427"));

        let long = format!(r#"{{"trigger": "{}é"}}"#, "x".repeat(MAX_KINDS - 1));
        let described = describe(&parse(long.as_bytes()).unwrap());
        assert_eq!(
            described.kinds,
            "x".repeat(MAX_KINDS - 1),
            "cut before the two-byte é"
        );
        assert_eq!(described.app_id, None);

        let v2 = br#"{"app": {"id": "5ebee0975ac5304b664a12fa"}, "events": [
            {"type": "conversation:message"}, {"type": "conversation:read"}]}"#;
        let described = describe(&parse(v2).unwrap());
        assert_eq!(described.kinds, "conversation:message,conversation:read");
        assert_eq!(described.app_id.as_deref(), Some("5ebee0975ac5304b664a12fa"));
    }
}
