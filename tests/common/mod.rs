//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;
use smooch_events::{parse_event, parse_webhook, v2, Event, Webhook};

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

/// Every v2 fixture: each `*.json` under `fixtures/v2/` (the documented examples and `written/`),
/// as paths relative to `fixtures/` (`v2/conversation_message.json`), sorted.
pub(crate) fn v2_fixtures() -> Vec<String> {
    walk_fixtures("v2")
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
