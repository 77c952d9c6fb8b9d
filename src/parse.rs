//! The entries: bytes in, an event or a classified [`ParseError`] out.
//!
//! A body is read in one pass. Only when that pass fails is it read again, step by step, to say
//! what is wrong and where: as JSON first (invalid JSON and duplicate keys, with their position),
//! then as a `Value` whose tag keys are read first, through `serde_path_to_error`, for the path
//! of the value that made it fail.

use std::cell::RefCell;

use serde::de::DeserializeSeed;
use serde_json::Value;

use crate::de::codec::Ctx;
use crate::de::json::{kind, RecordingSeed, TagFirst};
use crate::de::tagged::{Tagged, TaggedSeed};
use crate::error::ParseError;
use crate::versions::Webhook;
use crate::{v1, v2};

/// Parses a webhook body of any version: Smooch v1 and v1.1 (a `trigger`) or Sunshine
/// Conversations v2 (a list of `events`).
///
/// The version comes from the body, in the same single pass that reads it: a `trigger` key,
/// wherever it stands, makes a v1 body, read as [`parse_event`] reads it; otherwise an `events`
/// key makes a v2 body. A v2 body is refused only when it is not a JSON object, holds a key
/// twice, or its `events` is not a list of objects (`"events": []` is a body with no events).
/// Everything else that does not fit its field is kept and reported by
/// [`Webhook::validate`](crate::Webhook::validate), and an event type the crate does not model is
/// [`v2::Event::Unknown`](crate::v2::Event::Unknown). A lone surrogate escape (half of an emoji)
/// is read as U+FFFD, as in `parse_event`.
///
/// A refused v2 body is a [`ParseError::Malformed`] whose `trigger` is `"v2"` and whose path
/// starts at the body (`events[2]`), or a [`ParseError::DuplicateKey`] with the path of the
/// object (`events[2].payload.message.content`). A body with neither key is
/// [`ParseError::UnknownVersion`].
///
/// ```
/// use smooch_events::{parse_webhook, v2, Webhook};
///
/// let body = br#"{"app": {"id": "5ebee0975ac5304b664a12fa"},
///     "webhook": {"id": "5f4eaef81e3dcc117c7ba48a", "version": "v2"},
///     "events": [{"id": "5f74a0d52b5315fc007e798a", "createdAt": "2020-09-30T15:14:29.834Z",
///                 "type": "conversation:typing", "payload": {"activity": {"type": "typing:start"}}},
///                {"id": "5f74a0d52b5315fc007e798b", "type": "passthrough:messaging", "payload": {}}]}"#;
/// let webhook = parse_webhook(body)?;
/// assert_eq!(webhook.event_types(), ["conversation:typing", "passthrough:messaging"]);
/// let Webhook::V2(webhook) = webhook else { unreachable!() };
/// assert!(matches!(webhook.events[0], v2::Event::ConversationTyping(_)));
/// assert_eq!(webhook.events[0].created_at().unwrap().timestamp_millis(), 1601478869834);
/// assert!(webhook.events[1].is_unknown());
///
/// let error = parse_webhook(br#"{"events": [{"type": "user:remove"}, 7]}"#).unwrap_err();
/// assert_eq!(error.to_string(), "v2: events[1]: expected a v2 event object, found the number 7");
/// # Ok::<(), smooch_events::ParseError>(())
/// ```
pub fn parse_webhook(bytes: &[u8]) -> Result<Webhook, ParseError> {
    if let Some(webhook) = fast(bytes) {
        return Ok(webhook);
    }
    match repair_surrogates(bytes) {
        Some(repaired) => fast(&repaired).map_or_else(|| diagnose_any(&repaired), Ok),
        None => diagnose_any(bytes),
    }
}

/// Parses a Smooch v1 or v1.1 webhook body (one with a `trigger`). For a body of any version,
/// v2 included, use [`parse_webhook`]; given a v2 body, this answers [`ParseError::V2Body`].
///
/// A trigger this crate does not model is not an error: it comes back as
/// [`Event::Unknown`](crate::Event::Unknown) with its body. Unknown keys and enum values are kept,
/// and so is a value that does not fit its field (see the crate docs): a body is refused only
/// when it is not a JSON object, has no string `trigger`, holds a key twice, or lacks what
/// identifies its event (each payload's docs say what that is). A lone surrogate escape (half of
/// an emoji, `"\ud83d"`) is read as U+FFFD, which [`Event::validate`](crate::Event::validate)
/// reports.
///
/// ```
/// let body = br#"{"trigger": "client:add", "app": {"_id": "57ec2881c47d2d24b0c16427"}}"#;
/// let event = smooch_events::parse_event(body)?;
/// assert!(event.is_unknown());
/// assert_eq!(event.trigger(), "client:add");
/// assert_eq!(event.app_id(), Some("57ec2881c47d2d24b0c16427"));
/// # Ok::<(), smooch_events::ParseError>(())
/// ```
pub fn parse_event(bytes: &[u8]) -> Result<v1::Event, ParseError> {
    if let Some(event) = fast(bytes) {
        return Ok(event);
    }
    match repair_surrogates(bytes) {
        Some(repaired) => fast(&repaired).map_or_else(|| diagnose_v1(&repaired), Ok),
        None => diagnose_v1(bytes),
    }
}

/// The one-pass read, by serde_json from a `&str`, which the reader is given too: values can be
/// borrowed from it as raw JSON, and tags looked ahead for in it. `None` when it fails.
fn fast<T: Tagged>(bytes: &[u8]) -> Option<T> {
    // Checking UTF-8 once for the whole body is cheaper than serde_json checking each string.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut json = serde_json::Deserializer::from_str(text);
    let value = TaggedSeed::new(Ctx::body(Some(text)))
        .deserialize(&mut json)
        .ok()?;
    json.end().ok()?;
    Some(value)
}

/// Reads a v1 body that failed to parse again, to classify the failure.
fn diagnose_v1(bytes: &[u8]) -> Result<v1::Event, ParseError> {
    let body = read_object(bytes)?;
    let trigger = match body.get("trigger") {
        None if body.get("events").is_some() => return Err(ParseError::V2Body),
        None => return Err(ParseError::MissingTrigger),
        Some(Value::String(trigger)) => trigger.as_str(),
        Some(other) => return Err(ParseError::TriggerNotString { found: kind(other) }),
    };
    typed(&body, trigger)
}

/// Reads a body of any version that failed to parse again, to classify the failure.
fn diagnose_any(bytes: &[u8]) -> Result<Webhook, ParseError> {
    let body = read_object(bytes)?;
    match body.get("trigger") {
        Some(Value::String(trigger)) => typed::<v1::Event>(&body, trigger).map(Webhook::V1),
        Some(other) => Err(ParseError::TriggerNotString { found: kind(other) }),
        None if body.get("events").is_some() => typed::<v2::Body>(&body, "v2").map(Webhook::from),
        None => Err(ParseError::UnknownVersion),
    }
}

/// Reads `body` into `T` with its tag keys first, naming the path of the value that fails.
fn typed<T: serde::de::DeserializeOwned>(body: &Value, name: &str) -> Result<T, ParseError> {
    let reader = TagFirst {
        value: body,
        tags: &["trigger", "events", "type"],
    };
    serde_path_to_error::deserialize(reader).map_err(|error| {
        let path = path_string(error.path());
        ParseError::malformed(name, &path, error.inner())
    })
}

/// Reads the body as a JSON object (a `Value` that is always an object), refusing duplicate keys,
/// with the position or path of the first problem.
fn read_object(bytes: &[u8]) -> Result<Value, ParseError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let duplicate = RefCell::new(None);
    let mut track = serde_path_to_error::Track::new();
    let read = RecordingSeed {
        duplicate: &duplicate,
    }
    .deserialize(serde_path_to_error::Deserializer::new(&mut json, &mut track));
    let error = match read.map_err(|error| serde_path_to_error::Error::new(track.path(), error)) {
        Ok(value) => match json.end() {
            Ok(()) => {
                return match value {
                    Value::Object(_) => Ok(value),
                    other => Err(ParseError::NotAnObject { found: kind(&other) }),
                }
            }
            Err(trailing) => trailing,
        },
        Err(error) => {
            let path = path_string(error.path());
            let error = error.into_inner();
            if let Some(key) = duplicate.into_inner() {
                return Err(ParseError::duplicate_key(&key, &path));
            }
            error
        }
    };
    let bom = bytes.starts_with(BOM) && (error.line(), error.column()) == (1, 1);
    let message = bom.then_some("a byte-order mark before the JSON (JSON bodies must not start with one)");
    Err(ParseError::invalid_json(&error, message))
}

/// The UTF-8 byte-order mark, which some tools put before a document.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A path as `messages[0].actions[1].amount`, or empty for the top level.
fn path_string(path: &serde_path_to_error::Path) -> String {
    if path.iter().next().is_none() {
        String::new()
    } else {
        path.to_string()
    }
}

/// The body with every lone surrogate escape (`\ud83d` not followed by a low surrogate escape, or
/// a low one alone) replaced by `\ufffd`, the same length, so that positions stay the same; `None`
/// when it has none.
///
/// JSON writers emit lone surrogates when they cut a string in the middle of an emoji; serde_json
/// refuses them in a string. A backslash can only start an escape in valid JSON, so the escapes
/// are found without tracking strings (in invalid JSON, the repair changes nothing that matters).
fn repair_surrogates(bytes: &[u8]) -> Option<Vec<u8>> {
    fn unit(bytes: &[u8], at: usize) -> Option<u16> {
        let hex = bytes.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    }
    let mut repaired: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(n) = unit(bytes, i) else {
            i += 2;
            continue;
        };
        let lone = match n {
            0xD800..=0xDBFF => match unit(bytes, i + 6) {
                Some(0xDC00..=0xDFFF) => {
                    i += 12;
                    continue;
                }
                _ => true,
            },
            0xDC00..=0xDFFF => true,
            _ => false,
        };
        if lone {
            repaired.get_or_insert_with(|| bytes.to_vec())[i..i + 6].copy_from_slice(b"\\ufffd");
        }
        i += 6;
    }
    repaired
}

#[cfg(test)]
mod tests {
    use super::repair_surrogates;

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        let repair = |text: &str| repair_surrogates(text.as_bytes()).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(repair(r#""Hi \ud83d""#).as_deref(), Some(r#""Hi \ufffd""#));
        assert_eq!(repair(r#""\ude00 x""#).as_deref(), Some(r#""\ufffd x""#));
        assert_eq!(repair(r#""\ud83d\u0041""#).as_deref(), Some(r#""\ufffd\u0041""#));
        assert_eq!(
            repair(r#""\ud83d\ud83d\ude00""#).as_deref(),
            Some(r#""\ufffd\ud83d\ude00""#)
        );
        assert_eq!(repair(r#""\ud83d\ude00 \\ud83d \u00e9""#), None);
        assert_eq!(repair(r#""\\""#), None);
        assert_eq!(repair("\\"), None);
        assert_eq!(repair(r#""\uD83D""#).as_deref(), Some(r#""\ufffd""#));
    }
}
