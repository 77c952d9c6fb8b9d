//! What the receiver reads from a request with the `smooch_events` crate: the one module that uses
//! it.
//!
//! [`Secrets`] checks the `X-API-Key` header, [`describe`] decides between 200 and 400 and gives
//! what the log line and the `webhooks` row show of a body, [`idempotency_key`] names a body so that
//! a retry is stored once, and [`message_texts`] gives the texts a body carries (logged at `debug`
//! by [`LogApplication`](crate::LogApplication)). Smooch v1 and v1.1 bodies (a `trigger`) and
//! Sunshine Conversations v2 bodies (an `events` array, each event with its `type`) alike.

use sha2::{Digest, Sha256};
use smooch_events::{parse_webhook, WebhookError, WebhookSecrets};

/// The valid `X-API-Key` secrets.
#[derive(Debug)]
pub(crate) struct Secrets(WebhookSecrets);

impl Secrets {
    /// The secrets of `list` (blank ones dropped).
    pub(crate) fn new<S: AsRef<str>>(list: impl IntoIterator<Item = S>) -> Secrets {
        let list: Vec<String> = list
            .into_iter()
            .map(|secret| secret.as_ref().trim().to_owned())
            .filter(|secret| !secret.is_empty())
            .collect();
        Secrets(WebhookSecrets::new(list))
    }

    /// Checks the header's value in constant time; `Err` holds the text answered with the 401.
    pub(crate) fn verify(&self, header: Option<&[u8]>) -> Result<(), String> {
        self.0
            .verify(header)
            .map_err(|error| WebhookError::from(error).to_string())
    }
}

/// What the log and the store show of an accepted body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Description {
    /// The trigger (v1), or the event types, comma-separated (v2); cut to [`MAX_KINDS`] bytes.
    pub(crate) kinds: String,
    /// The app's id, when the body names one; cut to [`MAX_KINDS`] bytes.
    pub(crate) app_id: Option<String>,
}

/// Why a body is not a webhook body (answered 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The text answered with the 400 (it may quote a value of the body: logged at `debug` only).
    pub(crate) error: String,
    /// The trigger, when the body names one.
    pub(crate) trigger: Option<String>,
    /// The JSON path of the problem, when there is one.
    pub(crate) path: Option<String>,
}

/// The most bytes of `kinds` or `app_id` kept: a trigger is a few dozen bytes, an id 24.
pub(crate) const MAX_KINDS: usize = 256;

/// Parses a body: its description, or why it is refused (400, and a dead letter).
pub(crate) fn describe(body: &[u8]) -> Result<Description, Refusal> {
    match parse_webhook(body) {
        Ok(parsed) => Ok(Description {
            kinds: cut(&parsed.event_types().join(","), MAX_KINDS).to_owned(),
            app_id: parsed.app_id().map(|id| cut(id, MAX_KINDS).to_owned()),
        }),
        Err(error) => Err(Refusal {
            trigger: error.trigger().map(str::to_owned),
            path: error.path().map(str::to_owned),
            error: WebhookError::from(error).to_string(),
        }),
    }
}

/// The texts of the messages a body carries (v1 `message:appUser`, v2 `conversation:message`).
pub(crate) fn message_texts(body: &[u8]) -> Vec<String> {
    match parse_webhook(body) {
        Ok(smooch_events::Webhook::V1(event)) => event
            .messages()
            .iter()
            .filter_map(|message| message.text())
            .map(str::to_owned)
            .collect(),
        Ok(smooch_events::Webhook::V2(webhook)) => webhook
            .events
            .iter()
            .filter_map(smooch_events::v2::Event::message)
            .filter_map(|message| message.text())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
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
        let described = describe(body).unwrap();
        assert_eq!(described.kinds, "client:add");
        assert_eq!(described.app_id.as_deref(), Some("57ec2881c47d2d24b0c16427"));

        let long = format!(r#"{{"trigger": "{}é"}}"#, "x".repeat(MAX_KINDS - 1));
        let described = describe(long.as_bytes()).unwrap();
        assert_eq!(
            described.kinds,
            "x".repeat(MAX_KINDS - 1),
            "cut before the two-byte é"
        );
        assert_eq!(described.app_id, None);

        let v2 = br#"{"app": {"id": "5ebee0975ac5304b664a12fa"}, "events": [
            {"type": "conversation:message"}, {"type": "conversation:read"}]}"#;
        let described = describe(v2).unwrap();
        assert_eq!(described.kinds, "conversation:message,conversation:read");
        assert_eq!(described.app_id.as_deref(), Some("5ebee0975ac5304b664a12fa"));
    }

    #[test]
    fn a_refusal_names_the_trigger_and_the_path() {
        let refusal = describe(br#"{"trigger": "conversation:read", "appUser": {"_id": 7}}"#).unwrap_err();
        assert_eq!(refusal.trigger.as_deref(), Some("conversation:read"));
        assert_eq!(refusal.path.as_deref(), Some("appUser._id"));
        assert!(refusal.error.starts_with("invalid body: "), "{}", refusal.error);
        assert!(describe(b"[]").unwrap_err().trigger.is_none());
    }

    #[test]
    fn message_texts_come_from_v1_and_v2_bodies() {
        let v1 = br#"{"trigger": "message:appUser", "appUser": {"_id": "u"},
            "messages": [{"_id": "m", "type": "text", "text": "hello", "role": "appUser",
            "authorId": "u", "received": 1}]}"#;
        assert_eq!(message_texts(v1), ["hello"]);
        let v2 = br#"{"app": {"id": "a"}, "events": [{"id": "e", "type": "conversation:message",
            "payload": {"message": {"id": "m", "author": {"type": "user"},
            "content": {"type": "text", "text": "hi"}}}}]}"#;
        assert_eq!(message_texts(v2), ["hi"]);
        assert!(message_texts(b"{}").is_empty());
    }
}
