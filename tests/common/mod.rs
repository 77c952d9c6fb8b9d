//! Helpers shared by the integration tests: fixtures, round trips, the tests' clock, and (in the
//! submodules) the open-enum checks, refusals, positions in a document and proptest strategies.
#![allow(dead_code)]

pub(crate) mod open_enums;
pub(crate) mod positions;
pub(crate) mod refusals;
pub(crate) mod strategies;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use smooch_events::{parse_event, parse_webhook, v2, Event, ValidationErrors, Webhook};

/// The path of a fixture, relative to `fixtures/`.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The bytes of a fixture.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A fixture, parsed.
pub(crate) fn parse(name: &str) -> Event {
    parse_event(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Asserts that the event serializes back to the fixture it was parsed from, as a JSON value
/// (members that are `null` in the fixture may come back absent).
pub(crate) fn assert_round_trip(name: &str, event: &Event) {
    let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let back = serde_json::to_value(event).unwrap();
    assert_eq!(back, without_nulls(original), "{name}: round trip differs");
}

/// Removes object members whose value is `null`, at every depth.
pub(crate) fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The clock of the tests: after the newest fixture (2024).
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

/// The problems validation reports, in their order, as `path: message` lines (without the kind,
/// which `ValidationIssue`'s `Display` puts first).
pub(crate) fn problems(result: Result<(), ValidationErrors>) -> Vec<String> {
    match result {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .issues()
            .iter()
            .map(|issue| match issue.path.as_str() {
                "" => issue.message.clone(),
                path => format!("{path}: {}", issue.message),
            })
            .collect(),
    }
}

/// A v1 body given as JSON, parsed by `parse_event`; it must serialize back to the same JSON.
pub(crate) fn parse_v1_json(body: &Value) -> Event {
    let event = parse_event(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(&serde_json::to_value(&event).unwrap(), body, "round trip");
    event
}

/// A v2 body given as JSON, parsed by `parse_webhook`; it must serialize back to the same JSON.
pub(crate) fn parse_v2_json(body: &Value) -> v2::Body {
    match parse_webhook(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}")) {
        Webhook::V2(parsed) => {
            assert_eq!(&serde_json::to_value(&parsed).unwrap(), body, "round trip");
            *parsed
        }
        other => panic!("not a v2 body: {other:?}"),
    }
}

/// Milliseconds since the Unix epoch, of a `DateTime<Utc>` or a `&IsoTime`.
pub(crate) fn ms<T: Into<DateTime<Utc>>>(time: Option<T>) -> i64 {
    time.expect("a time").into().timestamp_millis()
}

/// Every `*.json` under `dir` (relative to `fixtures/`), as paths relative to `fixtures/`, sorted.
fn walk_fixtures(dir: &str) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let root = fixture_path("");
    let mut out = Vec::new();
    walk(&fixture_path(dir), &root, &mut out);
    out.sort();
    out
}

/// Every v1 and v1.1 fixture: each `*.json` under `fixtures/` but `fixtures/v2/`, as paths
/// relative to `fixtures/`, sorted.
pub(crate) fn all_fixtures() -> Vec<String> {
    walk_fixtures("")
        .into_iter()
        .filter(|name| !name.starts_with("v2/"))
        .collect()
}

/// Every v1 and v1.1 fixture that is a whole body (all but the two referral fragments, which
/// have no `trigger`), as [`all_fixtures`] names them.
pub(crate) fn v1_bodies() -> Vec<String> {
    all_fixtures()
        .into_iter()
        .filter(|name| !name.starts_with("later-docs-fragments/"))
        .collect()
}

/// Every v2 fixture: each `*.json` under `fixtures/v2/` (the documented examples and `written/`),
/// as paths relative to `fixtures/` (`v2/conversation_message.json`), sorted.
pub(crate) fn v2_fixtures() -> Vec<String> {
    walk_fixtures("v2")
}

/// The documented v2 example of an event type: `v2/conversation_message.json` for
/// `conversation:message`.
pub(crate) fn v2_example(kind: &str) -> String {
    format!("v2/{}.json", kind.replace(':', "_"))
}

/// The 25 documented v2 examples, one per event type, in the order of `v2::Event::TYPES`.
pub(crate) fn v2_examples() -> Vec<String> {
    v2::Event::TYPES.iter().map(|kind| v2_example(kind)).collect()
}

/// A v2 fixture, parsed (by `parse_webhook`, which must find a v2 body).
pub(crate) fn parse_v2(name: &str) -> v2::Body {
    match parse_webhook(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}")) {
        Webhook::V2(webhook) => *webhook,
        other => panic!("{name}: not a v2 body: {other:?}"),
    }
}

/// Asserts that a v2 body serializes back to the fixture it was parsed from, exactly as a JSON
/// value (`null` members included).
pub(crate) fn assert_v2_round_trip(name: &str, webhook: &v2::Body) {
    let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let back = serde_json::to_value(webhook).unwrap();
    assert_eq!(back, original, "{name}: round trip differs");
}

/// Each spelling of an ISO time, with the way Smooch writes the same instant (JavaScript's
/// `toISOString`).
pub(crate) const TIME_SPELLINGS: [(&str, &str); 6] = [
    ("2020-09-30T18:00:56.820Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T18:00:56Z", "2020-09-30T18:00:56.000Z"),
    ("2020-09-30T18:00:56.82Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T20:00:56.820+02:00", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T18:00:56.820000Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30t18:00:56.820z", "2020-09-30T18:00:56.820Z"),
];
