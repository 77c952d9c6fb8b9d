//! [`parse_event`]: bytes in, an [`Event`] or a classified [`ParseError`] out.

use serde_json::Value;

use crate::error::{short_message, ParseError};
use crate::event::{Event, UnknownEvent};
use crate::object::StrictValue;

/// Parses a webhook body.
///
/// A trigger this crate does not model is not an error: it comes back as [`Event::Unknown`] with
/// its body. Unknown keys and enum values are kept too (see the crate docs).
///
/// Correct bodies are read in one pass. Only when that pass fails is the body read again, to say
/// what is wrong and where (see [`ParseError`]); that second reading is also what lets a body with
/// an unmodelled trigger whose keys did not fit the modelled types still come back as
/// [`Event::Unknown`].
///
/// ```
/// let body = br#"{"trigger": "client:add", "app": {"_id": "57ec2881c47d2d24b0c16427"}}"#;
/// let event = smooch_events::parse_event(body)?;
/// assert!(event.is_unknown());
/// assert_eq!(event.trigger(), "client:add");
/// assert_eq!(event.app_id(), Some("57ec2881c47d2d24b0c16427"));
/// # Ok::<(), smooch_events::ParseError>(())
/// ```
pub fn parse_event(bytes: &[u8]) -> Result<Event, ParseError> {
    // Checking UTF-8 once for the whole body is cheaper than serde_json checking each string.
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text).or_else(|_| diagnose(bytes)),
        Err(_) => diagnose(bytes),
    }
}

/// Reads a body that failed to parse again, step by step, to classify the failure.
fn diagnose(bytes: &[u8]) -> Result<Event, ParseError> {
    let mut body = match read_json(bytes)? {
        Value::Object(body) => body,
        other => return Err(ParseError::NotAnObject { found: kind(&other) }),
    };
    let trigger = match body.get_mut("trigger") {
        None => return Err(ParseError::MissingTrigger),
        Some(Value::String(trigger)) => std::mem::take(trigger),
        Some(other) => return Err(ParseError::TriggerNotString { found: kind(other) }),
    };
    if !Event::TRIGGERS.contains(&trigger.as_str()) {
        return Ok(Event::Unknown(Box::new(UnknownEvent::new(trigger, body))));
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, Event>(&mut json) {
        // Unreachable unless the first pass failed for a reason that does not repeat.
        Ok(event) => Ok(event),
        Err(error) => {
            let path = path_string(error.path());
            let source = error.into_inner();
            Err(ParseError::Malformed {
                trigger,
                path,
                message: short_message(&source),
                line: source.line(),
                column: source.column(),
                source,
            })
        }
    }
}

/// Reads the body as JSON, refusing duplicate keys, with the path of the first problem.
fn read_json(bytes: &[u8]) -> Result<Value, ParseError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let error = match serde_path_to_error::deserialize::<_, StrictValue>(&mut json) {
        Ok(StrictValue(value)) => match json.end() {
            Ok(()) => return Ok(value),
            Err(trailing) => trailing,
        },
        Err(error) => {
            let path = path_string(error.path());
            let error = error.into_inner();
            if let Some(key) = duplicate_key_of(&error) {
                return Err(ParseError::DuplicateKey {
                    key,
                    path,
                    source: error,
                });
            }
            error
        }
    };
    let message = if bytes.starts_with(BOM) && (error.line(), error.column()) == (1, 1) {
        "a byte-order mark before the JSON (JSON bodies must not start with one)".to_owned()
    } else {
        short_message(&error)
    };
    Err(ParseError::InvalidJson {
        line: error.line(),
        column: error.column(),
        message,
        source: error,
    })
}

/// The UTF-8 byte-order mark, which some tools put before a document.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The key of a duplicate-key error raised by this crate ("duplicate key `k`") or by a typed
/// field ("duplicate field `k`").
fn duplicate_key_of(error: &serde_json::Error) -> Option<String> {
    if !error.is_data() {
        return None;
    }
    let message = short_message(error);
    let rest = message
        .strip_prefix("duplicate key `")
        .or_else(|| message.strip_prefix("duplicate field `"))?;
    Some(rest.strip_suffix('`')?.to_owned())
}

/// A path as `messages[0].actions[1].amount`, or empty for the top level.
fn path_string(path: &serde_path_to_error::Path) -> String {
    if path.iter().next().is_none() {
        String::new()
    } else {
        path.to_string()
    }
}

/// How a JSON value is named in messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
