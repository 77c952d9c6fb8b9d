//! The v2 bad-input catalogue: whatever bytes arrive, `parse_webhook` answers with a body or a
//! classified error whose message says what is wrong, short whatever the body, and never panics.
//! (Bodies of no version, and the choice between versions: `tests/webhook_versions.rs`.)

use crate::common::refusals::{assert_prefixes_cut_short, cut, refused_any};
use crate::common::{fixture, v2_fixtures};
use serde_json::Value;
use smooch_events::{parse_webhook, v2, ParseError};

fn assert_malformed_v2(body: &[u8], path: &str, message: &str) {
    let error = refused_any(body);
    assert_eq!(
        error,
        ParseError::Malformed {
            trigger: "v2".into(),
            path: path.into(),
            message: message.into()
        }
    );
    assert_eq!(error.trigger(), Some("v2"));
    assert_eq!(error.to_string(), format!("v2: {path}: {message}"));
}

/// Every prefix of every documented v2 example is refused. The written fixtures are larger (up to
/// 15 KB pretty-printed) and the cost grows with the square of the size, so they are cut in their
/// compact form, at every 7th byte (so that each kind of cut still falls somewhere in them).
#[test]
fn every_prefix_of_every_fixture_is_refused_as_cut_short() {
    let mut checked = 0;
    for name in v2_fixtures() {
        let mut bytes = fixture(&name);
        let mut stride = 1;
        if name.starts_with("v2/written/") {
            bytes = serde_json::to_vec(&serde_json::from_slice::<Value>(&bytes).unwrap()).unwrap();
            stride = 7;
        }
        checked += assert_prefixes_cut_short(&name, &bytes, stride, |b| parse_webhook(b).map(drop));
    }
    assert!(checked > 25_000, "{checked}");
}

#[test]
fn events_that_is_not_a_list_is_malformed() {
    assert_malformed_v2(br#"{"events":{}}"#, "events", "expected a list, found an object");
    assert_malformed_v2(br#"{"events":null}"#, "events", "expected a list, found null");
    assert_malformed_v2(
        br#"{"app":{"id":"a"},"events":"[]"}"#,
        "events",
        "expected a list, found the string \"[]\"",
    );
}

#[test]
fn an_event_that_is_not_an_object_is_malformed() {
    assert_malformed_v2(
        br#"{"events":[{"type":"user:remove"},7]}"#,
        "events[1]",
        "expected a v2 event object, found the number 7",
    );
    assert_malformed_v2(
        br#"{"events":[null]}"#,
        "events[0]",
        "expected a v2 event object, found null",
    );
    assert_malformed_v2(
        br#"{"events":[[]],"webhook":{}}"#,
        "events[0]",
        "expected a v2 event object, found an empty array",
    );
}

#[test]
fn duplicate_keys_are_refused_with_their_name_and_path_at_any_depth() {
    for (body, key, path) in [
        (&br#"{"events":[],"events":[]}"#[..], "events", ""),
        (br#"{"app":{"id":"a"},"app":{},"events":[]}"#, "app", ""),
        (br#"{"events":[{"type":"user:remove","type":"user:remove"}]}"#, "type", "events[0]"),
        (br#"{"events":[{"id":"a","type":"x:y","id":"b"}]}"#, "id", "events[0]"),
        (
            br#"{"events":[{},{"type":"conversation:message","payload":{"message":{"content":{"type":"text","type":"image"}}}}]}"#,
            "type",
            "events[1].payload.message.content",
        ),
        (
            br#"{"events":[{"type":"conversation:message","payload":{"conversation":{"metadata":{"k":1,"k":2}}}}]}"#,
            "k",
            "events[0].payload.conversation.metadata",
        ),
    ] {
        let error = refused_any(body);
        assert!(
            matches!(&error, ParseError::DuplicateKey { key: k, path: p } if k == key && p == path),
            "{error:?}"
        );
    }
}

#[test]
fn errors_stay_short_whatever_the_body() {
    let huge = "x".repeat(1 << 20);
    for body in [
        format!(r#"{{"events":["{huge}"]}}"#),
        format!(r#"{{"events":"{huge}"}}"#),
        format!(r#"{{"events":[{{"type":"user:remove","{huge}":1,"{huge}":2}}]}}"#),
    ] {
        let error = refused_any(body.as_bytes());
        assert!(error.to_string().len() < 300, "{}", cut(&error.to_string()));
    }
}

#[test]
fn a_mib_value_that_does_not_fit_its_field_is_kept_and_reported_short() {
    let huge = "x".repeat(1 << 20);
    let body = format!(r#"{{"events":[{{"type":"user:remove","createdAt":"{huge}"}}]}}"#);
    let webhook = parse_webhook(body.as_bytes()).unwrap().into_v2().unwrap();
    let v2::Event::UserRemove(remove) = &webhook.events[0] else {
        panic!()
    };
    assert_eq!(remove.extra["createdAt"].as_str().map(str::len), Some(1 << 20));
    let problems = webhook.validate().unwrap_err().to_string();
    assert!(problems.len() < 300, "{}", cut(&problems));
}

#[test]
fn ten_thousand_nested_objects_in_a_payload_are_refused_at_the_recursion_limit() {
    let body = format!(
        r#"{{"events":[{{"type":"conversation:message","payload":{}1{}}}]}}"#,
        r#"{"a":"#.repeat(10_000),
        "}".repeat(10_001)
    );
    assert!(matches!(
        refused_any(body.as_bytes()),
        ParseError::InvalidJson { message, .. } if message == "recursion limit exceeded"
    ));
}
