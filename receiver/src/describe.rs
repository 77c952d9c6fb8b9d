//! What the receiver reads from a request with the `smooch_events` crate: the one module that
//! reads bodies (the delivery hands the parsed event to the application, see
//! [`Delivery::event`](crate::Delivery::event)).
//!
//! `Secrets` checks the `X-API-Key` header; `describe` decides between 200 and 400 and gives
//! what the store keeps of a body: what the log line and the `webhooks` row show, and each event
//! to deliver, with its key and its lane; `idempotency_key` names a body so that a retry is
//! stored once; `event_body` cuts one event of a v2 body into a body of its own. Smooch v1 and
//! v1.1 bodies (a `trigger`) and Sunshine Conversations v2 bodies (an `events` array, each event
//! with its `type`) alike.
//!
//! **Lanes.** Each event goes in a lane: its conversation, else its user, else a lane of its own
//! ([`EVENT_LANE`]); the table, for each event type of both versions, is in the docs of
//! [`Delivery::lane`](crate::Delivery::lane) and in the README. A lane longer than [`MAX_LANE`]
//! bytes is named by the SHA-256 of its ids.
//!
//! **Keys.** A v2 event's key is the SHA-256 of its app id, type and id (the spec's examples reuse
//! ids across types), as `smooch_events` gives them (`v2::Event::dedupe_key`): the same event
//! sent again in another body (a retry serialized otherwise, or batched with other events) has the
//! same key, and is delivered once. A v1 body's key is the
//! SHA-256 of its bytes, as its idempotency key; so is, with its place, that of a v2 event without
//! an id.

use sha2::{Digest, Sha256};
use smooch_events::{parse_webhook, Webhook, WebhookError, WebhookSecrets};

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

/// One event of an accepted body, as the store keeps it for its delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMeta {
    /// The event's key: an event whose key is stored already (in any body, for as long as the
    /// retention keeps it) is not delivered again: for a v2 event, the SHA-256 of its app id,
    /// type and id; for a v1 body, of its bytes.
    pub key: [u8; 32],
    /// Its lane: its conversation, its user, or a lane of its own.
    pub lane: String,
    /// The trigger (v1) or the event's type (v2).
    pub kind: String,
}

/// What the log and the store show of an accepted body, and the events it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Description {
    /// The body's idempotency key ([`idempotency_key`]).
    pub(crate) key: [u8; 32],
    /// The trigger (v1), or the event types, comma-separated (v2); cut to [`MAX_KINDS`] bytes.
    pub(crate) kinds: String,
    /// The app's id, when the body names one; cut to [`MAX_KINDS`] bytes.
    pub(crate) app_id: Option<String>,
    /// Its events, in order: one for a v1 body, one per element of `events` for a v2 body.
    pub(crate) events: Vec<EventMeta>,
}

/// The lane of an event of no lane: `event:` and its key in hex, a lane of its own.
pub(crate) const EVENT_LANE: &str = "event:";

/// The longest lane name kept as it is; a longer one is named by the SHA-256 of its ids.
pub(crate) const MAX_LANE: usize = 160;

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
        Ok(parsed) => {
            let key = idempotency_key(body);
            let app_id = parsed.app_id();
            let events = match &parsed {
                Webhook::V1(event) => vec![EventMeta {
                    key,
                    lane: match event.user_id() {
                        Some(user) => lane("appUser", app_id, user),
                        None => event_lane(&key),
                    },
                    kind: cut(event.trigger(), MAX_KINDS).to_owned(),
                }],
                Webhook::V2(webhook) => webhook
                    .events
                    .iter()
                    .enumerate()
                    .map(|(index, event)| {
                        let key = event_key(&key, index, app_id, event);
                        EventMeta {
                            lane: match (event.conversation_id(), event.user_id()) {
                                (Some(conversation), _) => lane("conversation", app_id, conversation),
                                (None, Some(user)) => lane("user", app_id, user),
                                (None, None) => event_lane(&key),
                            },
                            key,
                            kind: cut(event.trigger(), MAX_KINDS).to_owned(),
                        }
                    })
                    .collect(),
                // A version this receiver does not know yet: one delivery, of its own.
                _ => vec![EventMeta {
                    key,
                    lane: event_lane(&key),
                    kind: cut(&parsed.event_types().join(","), MAX_KINDS).to_owned(),
                }],
            };
            Ok(Description {
                key,
                kinds: cut(&parsed.event_types().join(","), MAX_KINDS).to_owned(),
                app_id: app_id.map(|id| cut(id, MAX_KINDS).to_owned()),
                events,
            })
        }
        Err(error) => Err(Refusal {
            trigger: error.trigger().map(str::to_owned),
            path: error.path().map(str::to_owned),
            error: WebhookError::from(error).to_string(),
        }),
    }
}

/// The events of a stored body, as [`describe`] reads them; a body this
/// receiver would refuse now (stored by an older one) is one delivery of its own, so that nothing
/// stored is dropped.
pub(crate) fn stored_events(body: &[u8], key: &[u8; 32], kinds: &str) -> Vec<EventMeta> {
    match describe(body) {
        Ok(description) => description.events,
        Err(_) => vec![EventMeta {
            key: *key,
            lane: event_lane(key),
            kind: kinds.to_owned(),
        }],
    }
}

/// The texts of the messages a parsed body carries (v1 `message:appUser`, v2
/// `conversation:message`).
pub(crate) fn message_texts(parsed: Option<&Webhook>) -> Vec<&str> {
    match parsed {
        Some(Webhook::V1(event)) => event
            .messages()
            .iter()
            .filter_map(|message| message.text())
            .collect(),
        Some(Webhook::V2(webhook)) => webhook
            .events
            .iter()
            .filter_map(smooch_events::v2::Event::message)
            .filter_map(|message| message.text())
            .collect(),
        _ => Vec::new(),
    }
}

/// The key of the v2 event at `index` of the body whose key is `body_key`: by its app id, type
/// and id, or, for an event without an id, by the body and its place in it.
fn event_key(
    body_key: &[u8; 32],
    index: usize,
    app_id: Option<&str>,
    event: &smooch_events::v2::Event,
) -> [u8; 32] {
    let mut hash = Sha256::new();
    // The crate's own key (app id, type and id, as JSON text): what a bot stores to drop the
    // retries, and what the receiver's key is made from.
    match event.dedupe_key(app_id) {
        Some(key) => hash.update(key.as_bytes()),
        None => {
            hash.update(b"an event without an id\0");
            hash.update(body_key);
            hash.update((index as u64).to_be_bytes());
        }
    }
    hash.finalize().into()
}

/// The lane `kind:app:id`, or `kind:sha256:<hex>` of the two ids when that is longer than
/// [`MAX_LANE`].
fn lane(kind: &str, app_id: Option<&str>, id: &str) -> String {
    let app_id = app_id.unwrap_or("-");
    // (A NUL written `\u0000`, as the stores' text columns hold it.)
    let lane = format!("{kind}:{app_id}:{id}").replace('\0', "\\u0000");
    if lane.len() <= MAX_LANE {
        return lane;
    }
    let mut hash = Sha256::new();
    for part in [app_id, id] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    format!("{kind}:sha256:{}", hex(&hash.finalize()))
}

/// The lane of an event of no lane: one of its own.
pub(crate) fn event_lane(key: &[u8; 32]) -> String {
    format!("{EVENT_LANE}{}", hex(key))
}

/// Whether `lane` is the lane of its own of an event of no lane.
pub(crate) fn is_event_lane(lane: &str) -> bool {
    lane.starts_with(EVENT_LANE)
}

/// Bytes in lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The event at `index` of a v2 body of several events, as a body of its own: the body's other
/// members (`app`, `webhook`) as they were sent, in their order, and `events` holding that one
/// event, byte for byte as received: a valid v2 body, as Smooch could have sent it. `None` when
/// the body is not an object with an `events` array that long.
pub(crate) fn event_body(body: &[u8], index: usize) -> Option<Vec<u8>> {
    use serde_json::value::RawValue;

    /// The members of an object, in order, each value as its raw text.
    struct Members<'a>(Vec<(String, &'a RawValue)>);

    impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
                type Value = Members<'a>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<M: serde::de::MapAccess<'de>>(
                    self,
                    mut map: M,
                ) -> Result<Members<'a>, M::Error> {
                    let mut members = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        members.push((key, map.next_value::<&'de RawValue>()?));
                    }
                    Ok(Members(members))
                }
            }
            deserializer.deserialize_map(Visit(std::marker::PhantomData))
        }
    }

    let members: Members<'_> = serde_json::from_slice(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    out.push(b'{');
    let mut found = false;
    for (i, (key, value)) in members.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(serde_json::to_string(key).ok()?.as_bytes());
        out.push(b':');
        if key == "events" {
            let events: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
            out.push(b'[');
            out.extend_from_slice(events.get(index)?.get().as_bytes());
            out.push(b']');
            found = true;
        } else {
            out.extend_from_slice(value.get().as_bytes());
        }
    }
    out.push(b'}');
    found.then_some(out)
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

    /// The lane of each v2 event type documented, as the module's table (and the README's) says.
    const V2_LANES: &[(&str, &str)] = &[
        ("client:add", "conversation"),
        ("client:remove", "user"),
        ("client:update", "conversation"),
        ("conversation:create", "conversation"),
        ("conversation:join", "conversation"),
        ("conversation:leave", "conversation"),
        ("conversation:message", "conversation"),
        ("conversation:message:delivery:channel", "conversation"),
        ("conversation:message:delivery:failure", "conversation"),
        ("conversation:message:delivery:user", "conversation"),
        ("conversation:postback", "conversation"),
        ("conversation:read", "conversation"),
        ("conversation:referral", "conversation"),
        ("conversation:remove", "conversation"),
        ("conversation:typing", "conversation"),
        ("switchboard:acceptControl", "conversation"),
        ("switchboard:acceptControl:failure", "conversation"),
        ("switchboard:offerControl", "conversation"),
        ("switchboard:offerControl:failure", "conversation"),
        ("switchboard:passControl", "conversation"),
        ("switchboard:passControl:failure", "conversation"),
        ("switchboard:releaseControl", "conversation"),
        ("user:merge", "user"),
        ("user:remove", "user"),
        ("user:update", "user"),
    ];

    fn fixtures(under: &str) -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(under);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
            .collect()
    }

    #[test]
    fn every_documented_v2_event_goes_in_the_lane_of_the_table() {
        let mut types = std::collections::BTreeSet::new();
        for (name, body) in fixtures("v2") {
            let described = describe(&body).unwrap_or_else(|refusal| panic!("{name}: {}", refusal.error));
            for event in &described.events {
                let expected = V2_LANES
                    .iter()
                    .find(|(kind, _)| *kind == event.kind)
                    .unwrap_or_else(|| panic!("{name}: {} is not in the table", event.kind))
                    .1;
                assert!(
                    event.lane.starts_with(&format!("{expected}:")),
                    "{name}: {} in {}",
                    event.kind,
                    event.lane
                );
                types.insert(event.kind.clone());
            }
        }
        assert_eq!(
            types.len(),
            V2_LANES.len(),
            "a type of the table without a documented example"
        );
    }

    #[test]
    fn every_documented_v1_body_goes_in_its_app_users_lane() {
        let bodies = fixtures("");
        assert!(bodies.len() >= 15);
        for (name, body) in bodies {
            let described = describe(&body).unwrap_or_else(|refusal| panic!("{name}: {}", refusal.error));
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
            // (`merge:appUser`: the surviving one.)
            let user = value["appUser"]["_id"]
                .as_str()
                .or(value["surviving"]["_id"].as_str())
                .unwrap_or_else(|| panic!("{name}: no app user"));
            let app = value["app"]["_id"].as_str().unwrap_or("-");
            assert_eq!(described.events.len(), 1, "{name}");
            assert_eq!(
                described.events[0].lane,
                format!("appUser:{app}:{user}"),
                "{name}"
            );
            assert_eq!(
                described.events[0].key, described.key,
                "{name}: a v1 body's key is its own"
            );
        }
        let no_user = describe(br#"{"trigger": "client:add", "app": {"_id": "a"}}"#).unwrap();
        assert!(is_event_lane(&no_user.events[0].lane));
    }

    #[test]
    fn the_same_v2_event_has_one_key_in_any_body_and_two_types_with_one_id_two() {
        let event = r#"{"id": "e1", "type": "conversation:read", "payload": {"conversation": {"id": "c"}}}"#;
        let other =
            r#"{"id": "e1", "type": "conversation:typing", "payload": {"conversation": {"id": "c"}}}"#;
        let alone = describe(format!(r#"{{"app": {{"id": "a"}}, "events": [{event}]}}"#).as_bytes()).unwrap();
        let spaced =
            describe(format!(r#"{{ "events": [ {event} ], "app": {{ "id": "a" }} }}"#).as_bytes()).unwrap();
        let batched =
            describe(format!(r#"{{"app": {{"id": "a"}}, "events": [{other}, {event}]}}"#).as_bytes())
                .unwrap();
        assert_ne!(alone.key, spaced.key, "two bodies");
        assert_eq!(alone.events[0].key, spaced.events[0].key);
        assert_eq!(alone.events[0].key, batched.events[1].key);
        assert_ne!(
            batched.events[0].key, batched.events[1].key,
            "the same id, another type"
        );
        assert_eq!(batched.events[0].lane, "conversation:a:c");
        let other_app =
            describe(format!(r#"{{"app": {{"id": "b"}}, "events": [{event}]}}"#).as_bytes()).unwrap();
        assert_ne!(other_app.events[0].key, alone.events[0].key, "another app");
    }

    #[test]
    fn an_event_without_an_id_has_a_key_of_its_body_and_place() {
        let body = br#"{"app": {"id": "a"}, "events": [{"type": "x"}, {"type": "x"}]}"#;
        let described = describe(body).unwrap();
        assert_ne!(described.events[0].key, described.events[1].key);
        assert!(is_event_lane(&described.events[0].lane));
    }

    #[test]
    fn a_long_lane_is_named_by_the_hash_of_its_ids() {
        let long = "c".repeat(500);
        let body = format!(
            r#"{{"app": {{"id": "a"}}, "events": [{{"id": "e", "type": "conversation:read", "payload": {{"conversation": {{"id": "{long}"}}}}}}]}}"#
        );
        let lane = &describe(body.as_bytes()).unwrap().events[0].lane;
        assert!(
            lane.starts_with("conversation:sha256:") && lane.len() <= MAX_LANE,
            "{lane}"
        );
    }

    #[test]
    fn one_event_of_several_is_cut_out_byte_for_byte_in_a_body_of_its_own() {
        let body = br#"{ "app" : {"id":"a"}, "webhook": {"id": "w", "version": "v2"},
            "events": [ {"id": "e1", "type": "t"} , {"id":"e2","type":"t",  "x": [1, 2]} ] }"#;
        assert_eq!(
            event_body(body, 1).unwrap(),
            br#"{"app":{"id":"a"},"webhook":{"id": "w", "version": "v2"},"events":[{"id":"e2","type":"t",  "x": [1, 2]}]}"#
        );
        assert_eq!(event_body(body, 0).unwrap(), br#"{"app":{"id":"a"},"webhook":{"id": "w", "version": "v2"},"events":[{"id": "e1", "type": "t"}]}"#);
        assert_eq!(event_body(body, 2), None);
        assert_eq!(event_body(b"[]", 0), None);
        assert_eq!(event_body(br#"{"trigger": "x"}"#, 0), None);
    }

    #[test]
    fn message_texts_come_from_v1_and_v2_bodies() {
        let v1 = br#"{"trigger": "message:appUser", "appUser": {"_id": "u"},
            "messages": [{"_id": "m", "type": "text", "text": "hello", "role": "appUser",
            "authorId": "u", "received": 1}]}"#;
        assert_eq!(message_texts(parse_webhook(v1).ok().as_ref()), ["hello"]);
        let v2 = br#"{"app": {"id": "a"}, "events": [{"id": "e", "type": "conversation:message",
            "payload": {"message": {"id": "m", "author": {"type": "user"},
            "content": {"type": "text", "text": "hi"}}}}]}"#;
        assert_eq!(message_texts(parse_webhook(v2).ok().as_ref()), ["hi"]);
        assert!(message_texts(None).is_empty());
    }
}
