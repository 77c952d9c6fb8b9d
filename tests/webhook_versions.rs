//! What concerns both versions: `parse_webhook` tells a v1 body (`trigger`) from a v2 body
//! (`events`) and refuses a body of neither; both entries agree on every v1 body, damaged or not.
//! (The tests of each version are in `tests/v1/` and `tests/v2/`.)

mod common;

use common::refusals::{refused, refused_any};
use common::{all_fixtures, fixture, v2_fixtures};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use smooch_events::{parse_event, parse_webhook, Event, ParseError, Webhook};

#[test]
fn trigger_makes_a_v1_body_wherever_it_stands_next_to_events() {
    // `trigger` makes a v1 body, whatever the order and whatever `events` holds; `events` is
    // kept as sent, like any key the trigger does not use.
    for text in [
        r#"{"trigger":"conversation:read","appUser":{"_id":"u"},"events":[{"type":"user:remove"}]}"#,
        r#"{"events":[{"type":"user:remove"}],"trigger":"conversation:read","appUser":{"_id":"u"}}"#,
        r#"{"appUser":{"_id":"u"},"events":[{"type":"user:remove"}],"trigger":"conversation:read"}"#,
    ] {
        let webhook = parse_webhook(text.as_bytes()).unwrap();
        let Webhook::V1(Event::ConversationRead(read)) = &webhook else {
            panic!("{webhook:?}")
        };
        assert_eq!(
            read.envelope.extra["events"],
            json!([{"type": "user:remove"}]),
            "{text}"
        );
        assert_eq!(
            webhook,
            Webhook::V1(parse_event(text.as_bytes()).unwrap()),
            "{text}"
        );
        let from_value: Webhook = serde_json::from_str::<Value>(text)
            .and_then(serde_json::from_value)
            .unwrap();
        assert_eq!(from_value, webhook, "{text}");
    }
}

#[test]
fn trigger_makes_a_v1_body_even_next_to_an_events_no_v2_body_could_have() {
    for text in [
        r#"{"events":5,"trigger":"client:add"}"#,
        r#"{"events":[1,null],"trigger":"client:add"}"#,
    ] {
        let webhook = parse_webhook(text.as_bytes()).unwrap();
        let Webhook::V1(Event::Unknown(unknown)) = &webhook else {
            panic!("{webhook:?}")
        };
        assert_eq!(
            Value::Object(unknown.body.clone()),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }
}

#[test]
fn what_was_read_of_a_v2_body_before_its_trigger_comes_back_exactly() {
    let text = r#"{"app":{"id":"a","x":null},"events":[{"type":"conversation:message","createdAt":"2024-01-01T00:00:00.000Z",
        "payload":{"message":{"id":"m","content":{"type":"image","mediaUrl":"u","mediaSize":1.0}}}}],"trigger":"client:add"}"#;
    let Webhook::V1(Event::Unknown(unknown)) = parse_webhook(text.as_bytes()).unwrap() else {
        panic!()
    };
    let mut expected: Value = serde_json::from_str(text).unwrap();
    // The one difference: a whole `number` is written as JavaScript writes it.
    expected["events"][0]["payload"]["message"]["content"]["mediaSize"] = json!(1);
    assert_eq!(Value::Object(unknown.body), expected);
}

#[test]
fn every_fixture_of_either_version_goes_through_parse_webhook() {
    let v1 = all_fixtures();
    let v2 = v2_fixtures();
    for name in v1.iter().chain(&v2) {
        let bytes = fixture(name);
        if name.starts_with("later-docs-fragments/") {
            // Neither `trigger` nor `events`.
            assert_eq!(parse_webhook(&bytes), Err(ParseError::UnknownVersion), "{name}");
            continue;
        }
        let webhook = parse_webhook(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        match &webhook {
            Webhook::V1(event) => {
                assert!(v1.contains(name), "{name}: read as v1");
                assert_eq!(Ok(event), parse_event(&bytes).as_ref(), "{name}");
            }
            Webhook::V2(_) => assert!(v2.contains(name), "{name}: read as v2"),
            other => panic!("{name}: {other:?}"),
        }
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            serde_json::to_value(&webhook).unwrap(),
            original,
            "{name}: round trip differs"
        );
        assert_eq!(
            serde_json::from_value::<Webhook>(original).unwrap(),
            webhook,
            "{name}: from_value"
        );
    }
}

#[test]
fn a_v1_body_through_parse_webhook_is_the_v1_event() {
    let name = "conversation_start.json";
    let bytes = fixture(name);
    let webhook = parse_webhook(&bytes).unwrap();
    assert_eq!(webhook, Webhook::V1(parse_event(&bytes).unwrap()));
    assert_eq!(webhook.event_types(), ["conversation:start"]);
    assert_eq!(
        serde_json::to_value(&webhook).unwrap(),
        serde_json::from_slice::<Value>(&bytes).unwrap()
    );
}

#[test]
fn a_body_with_neither_trigger_nor_events_is_of_no_version() {
    for body in [
        &b"{}"[..],
        br#"{"app":{"id":"a"},"webhook":{"id":"w"}}"#,
        br#"{"event":[]}"#,
    ] {
        let error = refused_any(body);
        assert_eq!(error, ParseError::UnknownVersion);
        assert_eq!(
            error.to_string(),
            "the body is not a webhook: it has neither `trigger` (v1) nor `events` (v2)"
        );
    }
}

#[test]
fn trigger_decides_next_to_events_even_when_it_is_not_a_string() {
    let error = refused_any(br#"{"events":[],"trigger":3}"#);
    assert_eq!(error, ParseError::TriggerNotString { found: "a number" });
}

#[test]
fn parse_event_refuses_a_v2_body_naming_parse_webhook() {
    let error = refused(br#"{"events":[]}"#);
    assert_eq!(error, ParseError::V2Body);
    assert!(error.to_string().contains("parse_webhook"), "{error}");
}

#[test]
fn parse_webhook_refuses_a_non_object_and_invalid_json_as_for_v1() {
    assert_eq!(refused_any(b"[]"), ParseError::NotAnObject { found: "an array" });
    assert!(matches!(
        refused_any(b"{\"events\":[}"),
        ParseError::InvalidJson { .. }
    ));
}

// ---- Damaged fixtures ----

/// A random change to a body: flip, insert or delete bytes, or cut it short.
#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let interesting = select(&b"{}[]\":,\\0123456789.eE-+ntfu\xff\x00 "[..]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Damage::Insert(i, b)),
        any::<usize>().prop_map(Damage::Delete),
        any::<usize>().prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let len = bytes.len().max(1);
    match *damage {
        Damage::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b.max(1),
        Damage::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Damage::Delete(i) if !bytes.is_empty() => {
            bytes.remove(i % len);
        }
        Damage::Truncate(i) => bytes.truncate(i % len),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Damaging any fixture, v1 or v2, never panics; what still parses round-trips; and
    /// `parse_webhook` agrees with `parse_event` on every body `parse_event` takes.
    #[test]
    fn damaged_fixtures_never_panic(index in any::<prop::sample::Index>(), damages in vec(damage(), 1..6)) {
        let names: Vec<String> = all_fixtures().into_iter().chain(v2_fixtures()).collect();
        let name = index.get(&names);
        let mut bytes = fixture(name);
        for d in &damages {
            apply(&mut bytes, d);
        }
        let v1 = parse_event(&bytes);
        if let Ok(event) = &v1 {
            let _ = event.validate();
            let again = serde_json::to_vec(event).unwrap();
            prop_assert_eq!(&parse_event(&again).unwrap(), event);
        }
        let any = parse_webhook(&bytes);
        if let Ok(webhook) = &any {
            let _ = webhook.validate();
            let again = serde_json::to_vec(webhook).unwrap();
            prop_assert_eq!(&parse_webhook(&again).unwrap(), webhook);
        }
        match (v1, any) {
            (Ok(event), any) => prop_assert_eq!(any, Ok(Webhook::V1(event))),
            (Err(ParseError::V2Body), _) | (Err(ParseError::MissingTrigger), Err(ParseError::UnknownVersion)) => {}
            (Err(v1), any) => prop_assert_eq!(any, Err(v1)),
        }
    }
}
