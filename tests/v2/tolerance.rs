//! Never lose an event to a field, in v2 bodies: odd bodies parse, keep every value exactly as
//! sent, serialize back to the same document, and `validate()` names what is odd.

use crate::common::positions::{positions, replacement, without_indices, wrong_type};
use crate::common::{fixture, now, problems, v2_fixtures};
use proptest::prelude::*;
use serde_json::{json, Value};
use smooch_events::{parse_webhook, v2, ParseError, Webhook};

/// Parses a v2 body that must parse, checks that it serializes back to the same document (and
/// that every entry agrees), and gives the problems validation reports.
fn tolerated(body: &Value) -> (v2::Body, Vec<String>) {
    let bytes = serde_json::to_vec(body).unwrap();
    let webhook = match parse_webhook(&bytes) {
        Ok(Webhook::V2(webhook)) => *webhook,
        other => panic!("{other:?}: {body}"),
    };
    assert_eq!(&serde_json::to_value(&webhook).unwrap(), body, "round trip");
    let from_value: Webhook = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(from_value, Webhook::from(webhook.clone()), "from_value");
    let problems = problems(webhook.validate_at(now()));
    (webhook, problems)
}

/// A body with one event.
fn one_event(event: Value) -> Value {
    json!({"app": {"id": "a"}, "webhook": {"id": "w", "version": "v2"}, "events": [event]})
}

#[test]
fn what_the_spec_does_not_require_may_be_missing() {
    // An event without `createdAt` (as the referral example), a conversation without `type`, an
    // author that is only `{"type": "user"}`.
    let (webhook, problems) = tolerated(&one_event(json!({
        "id": "e", "type": "conversation:message",
        "payload": {"conversation": {"id": "c"}, "message": {"id": "m", "author": {"type": "user"}}}
    })));
    let event = &webhook.events[0];
    assert_eq!(event.created_at(), None);
    assert_eq!(event.conversation().unwrap().kind, None);
    assert_eq!(
        event.message().unwrap().author.as_ref().unwrap().kind,
        Some(v2::AuthorType::User)
    );
    assert_eq!(problems, ["events[0].createdAt: is missing"]);
    // No `events` to speak of, no app, no webhook: still a v2 body.
    let (webhook, problems) = tolerated(&json!({"events": []}));
    assert!(webhook.events.is_empty());
    assert_eq!(problems, Vec::<String>::new());
    // An event that is only `{}`: an unknown event, whose missing keys validation names.
    let (webhook, problems) = tolerated(&json!({"events": [{}]}));
    assert!(webhook.events[0].is_unknown());
    assert_eq!(
        problems,
        [
            "events[0].type: is missing",
            "events[0].id: is missing",
            "events[0].createdAt: is missing"
        ]
    );
    // Optional objects with their inner fields missing.
    let (_, problems) = tolerated(&one_event(json!({
        "id": "e", "createdAt": "2024-01-01T00:00:00.000Z", "type": "conversation:message",
        "payload": {"conversation": {}, "message": {"author": {}, "source": {},
            "content": {"type": "location", "coordinates": {}}, "quotedMessage": {}}}
    })));
    assert_eq!(
        problems,
        [
            "events[0].payload.conversation.id: is missing",
            "events[0].payload.message.id: is missing",
            "events[0].payload.message.author.type: is missing",
            "events[0].payload.message.content.coordinates.lat: is missing",
            "events[0].payload.message.content.coordinates.long: is missing",
            "events[0].payload.message.source.type: is missing",
            "events[0].payload.message.quotedMessage.type: is missing",
        ]
    );
}

#[test]
fn values_of_another_type_or_impossible_are_kept() {
    let body = one_event(json!({
        "id": "e", "createdAt": 1601478869834u64, "type": "conversation:message",
        "payload": {
            "conversation": {"id": "c", "type": ["personal"], "metadata": []},
            "message": {
                "id": "m", "received": "2020-02-30T18:00:56.820Z", "deleted": "no",
                "author": {"type": "user", "user": {"id": "u", "authenticated": "true", "signedUpAt": 1}},
                "content": {"type": "image", "mediaUrl": "https://x", "mediaSize": "big", "actions": {}},
                "source": {"type": "web", "originalMessageTimestamp": 1601488856}
            }
        }
    }));
    let (webhook, problems) = tolerated(&body);
    let event = &webhook.events[0];
    assert_eq!(event.created_at(), None);
    let v2::Event::ConversationMessage(e) = event else {
        panic!()
    };
    assert_eq!(e.extra["createdAt"], 1601478869834u64);
    let message = event.message().unwrap();
    assert_eq!((message.received.as_ref(), message.deleted), (None, None));
    let Some(v2::Content::Image(image)) = &message.content else {
        panic!()
    };
    assert_eq!((image.media_size, image.actions.as_ref()), (None, None));
    assert_eq!(image.extra["mediaSize"], "big");
    assert_eq!(
        problems,
        [
            "events[0].payload.conversation.metadata: expected a JSON object, found an empty array",
            "events[0].payload.conversation.type: expected a string, found an array",
            "events[0].payload.message.author.user.authenticated: expected a boolean, found the string \"true\"",
            "events[0].payload.message.author.user.signedUpAt: expected an ISO-8601 time, found the number 1",
            "events[0].payload.message.content.actions: expected a list, found an object",
            "events[0].payload.message.content.mediaSize: expected a number (integers below 2^53), found the string \"big\"",
            "events[0].payload.message.source.originalMessageTimestamp: expected an ISO-8601 time, found the number 1601488856",
            "events[0].payload.message.deleted: expected a boolean, found the string \"no\"",
            "events[0].payload.message.received: expected an ISO-8601 time, found the string \"2020-02-30T18:00:56.820Z\"",
            "events[0].createdAt: expected an ISO-8601 time, found the number 1601478869834",
        ]
    );
    // A value of another type where an object or a list of objects is expected: kept whole.
    let (webhook, problems) = tolerated(&one_event(json!({
        "id": "e", "createdAt": "2024-01-01T00:00:00.000Z", "type": "conversation:message:delivery:user",
        "payload": {"conversation": "c", "externalMessages": [{"id": "x"}, "y"], "isFinalEvent": "yes"}
    })));
    let v2::Event::ConversationMessageDeliveryUser(e) = &webhook.events[0] else {
        panic!()
    };
    assert_eq!(
        e.payload.as_ref().unwrap().extra["externalMessages"],
        json!([{"id": "x"}, "y"])
    );
    assert_eq!(
        problems,
        [
            "events[0].payload.conversation: expected a conversation object, found the string \"c\"",
            "events[0].payload.externalMessages[1]: expected an external message object, found the string \"y\"",
            "events[0].payload.isFinalEvent: expected a boolean, found the string \"yes\"",
        ]
    );
    // A payload of another type, and an event `type` that is not a string.
    let (_, problems) = tolerated(&json!({"events": [
        {"id": "e", "createdAt": "2024-01-01T00:00:00.000Z", "type": "user:remove", "payload": []},
        {"id": "f", "createdAt": "2024-01-01T00:00:00.000Z", "type": 7, "payload": {}}
    ]}));
    assert_eq!(
        problems,
        [
            "events[0].payload: expected a user:remove payload, found an empty array",
            "events[1].type: expected a string, found the number 7",
        ]
    );
}

#[test]
fn a_key_another_event_type_uses_is_kept_as_sent() {
    for (key, value) in [
        ("message", json!(17)),
        ("source", json!("api")),
        ("error", json!("text")),
        ("user", json!(["u"])),
        ("reason", json!({"why": "not"})),
        ("referral", json!(null)),
    ] {
        let mut payload = json!({"conversation": {"id": "c"}, "activity": {"type": "conversation:read"}});
        payload[key] = value.clone();
        let event = json!({"id": "e", "createdAt": "2024-01-01T00:00:00.000Z", "type": "conversation:read", "payload": payload});
        let (webhook, problems) = tolerated(&one_event(event));
        let v2::Event::ConversationRead(read) = &webhook.events[0] else {
            panic!()
        };
        assert_eq!(read.payload.as_ref().unwrap().extra[key], value, "{key}");
        assert_eq!(
            problems,
            Vec::<String>::new(),
            "{key}: not a field of conversation:read"
        );
    }
}

#[test]
fn a_text_cut_in_the_middle_of_an_emoji() {
    let body = br#"{"events":[{"id":"e","createdAt":"2024-01-01T00:00:00.000Z","type":"conversation:message",
        "payload":{"message":{"id":"m","author":{"type":"user"},"content":{"type":"text","text":"Hi \ud83d"}}}}]}"#;
    let webhook = parse_webhook(body).unwrap();
    let Webhook::V2(v2) = &webhook else { panic!() };
    assert_eq!(v2.events[0].message().unwrap().text(), Some("Hi \u{FFFD}"));
    let problems = webhook.validate().unwrap_err();
    let paths: Vec<&str> = problems.issues().iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["events[0].payload.message.content.text"]);
    assert_eq!(problems.subject(), "webhook");
}

#[test]
fn an_unknown_event_is_kept_exactly_wherever_its_type_stands() {
    let event = json!({
        "createdAt": "2024-01-01T02:00:00.5+02:00", "id": "e", "payload": {"n": null, "f": 1.5e-7, "w": 1480349392.0},
        "type": "passthrough:messaging"
    });
    let (webhook, problems) = tolerated(&one_event(event.clone()));
    let v2::Event::Unknown(unknown) = &webhook.events[0] else {
        panic!()
    };
    assert_eq!(Value::Object(unknown.body.clone()), event);
    assert_eq!(
        webhook.events[0].created_at().unwrap().timestamp_millis(),
        1704067200500
    );
    assert_eq!(problems, Vec::<String>::new());
}

/// Every v2 fixture with `events` moved to every position among the body's keys, and each event's
/// `type` to every position among its keys: `parse_webhook` and `serde_json::from_value` (whose
/// maps are sorted) give the same body.
#[test]
fn events_and_type_at_every_position() {
    fn reorder(map: &serde_json::Map<String, Value>, key: &str, position: usize) -> String {
        let others: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != key).collect();
        let mut parts: Vec<String> = others.iter().map(|(k, v)| format!("{}:{v}", json!(k))).collect();
        if let Some(value) = map.get(key) {
            parts.insert(position.min(parts.len()), format!("{}:{value}", json!(key)));
        }
        format!("{{{}}}", parts.join(","))
    }
    for name in v2_fixtures() {
        let original: Value = serde_json::from_slice(&fixture(&name)).unwrap();
        let reference = parse_webhook(&fixture(&name)).unwrap();
        let body = original.as_object().unwrap();
        for position in 0..body.len() {
            let text = reorder(body, "events", position);
            assert_eq!(
                parse_webhook(text.as_bytes()).unwrap(),
                reference,
                "{name}: events at {position}"
            );
        }
        let from_value: Webhook = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(from_value, reference, "{name}: from_value");
        for (i, event) in original["events"].as_array().unwrap().iter().enumerate() {
            let event = event.as_object().unwrap();
            for position in 0..event.len() {
                let mut events: Vec<String> = original["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::to_string)
                    .collect();
                events[i] = reorder(event, "type", position);
                let mut parts = vec![format!("\"events\":[{}]", events.join(","))];
                parts.extend(
                    body.iter()
                        .filter(|(k, _)| *k != "events")
                        .map(|(k, v)| format!("{}:{v}", json!(k))),
                );
                let text = format!("{{{}}}", parts.join(","));
                let webhook =
                    parse_webhook(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}: {text}"));
                assert_eq!(webhook, reference, "{name}: events[{i}].type at {position}");
            }
        }
    }
}

/// What identifies a v2 body: refused at its own path when it is of another type.
const IDENTIFYING: &[&str] = &["events", "events[]"];

/// The parts of the v2 fixtures the crate does not model (an unknown event, content or action
/// type), kept whole as JSON: anything fits inside them.
const UNKNOWN: &[(&str, &str)] = &[
    ("v2/written/unknown_types.json", "events[0]."),
    ("v2/written/unknown_types.json", "events[1]."),
    (
        "v2/written/unknown_types.json",
        "events[2].payload.message.content.",
    ),
    (
        "v2/written/unknown_types.json",
        "events[3].payload.message.content.actions[0].",
    ),
];

/// What takes any JSON value in the v2 fixtures: free-form maps, keys the crate does not model,
/// and the inside of unknown types.
fn free_form(name: &str, path: &str) -> bool {
    const MAPS: [&str; 8] = [
        "metadata",
        "info",
        "raw",
        "template",
        "data",
        "select[]",
        "discardedMetadata",
        "interactiveDataRef",
    ];
    const UNKNOWN_KEYS: [&str; 1] = ["events[].payload.error.retryable"];
    let plain = without_indices(path);
    let segments: Vec<&str> = plain.split('.').collect();
    let parents = &segments[..segments.len() - 1];
    UNKNOWN
        .iter()
        .any(|(file, prefix)| *file == name && path.starts_with(prefix))
        || parents.iter().any(|s| MAPS.contains(s))
        || UNKNOWN_KEYS.contains(&plain.as_str())
}

/// The v2 fixtures, parsed as JSON, with the paths validation already reports in them (the
/// documented examples' own defects: a value of another type there may well fit).
fn fixture_values() -> Vec<(String, Value, Vec<String>)> {
    v2_fixtures()
        .into_iter()
        .map(|name| {
            let value: Value = serde_json::from_slice(&fixture(&name)).unwrap();
            let reported = parse_webhook(&fixture(&name))
                .unwrap()
                .validate()
                .err()
                .map(|e| e.issues().iter().map(|i| i.path.clone()).collect())
                .unwrap_or_default();
            (name, value, reported)
        })
        .collect()
}

/// Replaces the value at every position of every v2 fixture with one of another JSON type:
/// either the body is refused at exactly that path (only `events` and its items), or it parses,
/// serializes back to the damaged document, and validation reports that path.
#[test]
fn a_value_of_another_type_anywhere() {
    let (mut kept, mut refused) = (0, std::collections::BTreeSet::new());
    for (name, original, reported_before) in fixture_values() {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        for (path, pointer) in all {
            let mut damaged = original.clone();
            let slot = damaged.pointer_mut(&pointer).unwrap();
            // A `null` (absent) replaced with a string may well fit its field.
            let was_null = slot.is_null();
            *slot = wrong_type(slot);
            match parse_webhook(&serde_json::to_vec(&damaged).unwrap()) {
                Ok(webhook) => {
                    assert!(webhook.is_v2(), "{name}: {path}");
                    assert_eq!(serde_json::to_value(&webhook).unwrap(), damaged, "{name}: {path}");
                    let problems = webhook
                        .validate()
                        .err()
                        .map(|e| e.issues().to_vec())
                        .unwrap_or_default();
                    let reported = problems.iter().any(|issue| issue.path == path);
                    assert!(
                        reported || was_null || free_form(&name, &path) || reported_before.contains(&path),
                        "{name}: {path} is not reported: {problems:?}"
                    );
                    kept += 1;
                }
                Err(ParseError::Malformed { trigger, path: p, .. }) => {
                    assert_eq!((trigger.as_str(), p.as_str()), ("v2", path.as_str()), "{name}");
                    refused.insert(without_indices(&path));
                }
                Err(other) => panic!("{name}: {path}: {other:?}"),
            }
        }
    }
    assert!(kept > 2_000, "{kept}");
    assert_eq!(
        refused.iter().map(String::as_str).collect::<Vec<_>>(),
        IDENTIFYING
    );
}

/// Replaces every object of every v2 fixture with `{}`: never refused (an event that is `{}` is an
/// unknown event), always round-tripped.
#[test]
fn an_empty_object_anywhere() {
    for (name, original, _) in fixture_values() {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        for (path, pointer) in all {
            let mut damaged = original.clone();
            let slot = damaged.pointer_mut(&pointer).unwrap();
            if !slot.is_object() {
                continue;
            }
            *slot = json!({});
            let webhook = parse_webhook(&serde_json::to_vec(&damaged).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert_eq!(serde_json::to_value(&webhook).unwrap(), damaged, "{name}: {path}");
        }
    }
}

/// A v2 fixture, one of its positions, and a value to put there.
fn damage() -> impl Strategy<Value = (String, Value, Vec<String>, String, String, Value)> {
    prop::sample::select(fixture_values()).prop_flat_map(|(name, original, reported)| {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        prop::sample::select(all).prop_flat_map(move |(path, pointer)| {
            let current = original.pointer(&pointer).unwrap();
            (
                Just(name.clone()),
                Just(original.clone()),
                Just(reported.clone()),
                Just(path),
                Just(pointer.clone()),
                replacement(current),
            )
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any v2 fixture, any one value replaced with a value of another JSON type (or an object
    /// with `{}`): refused only at `events` or one of its items, at that path; otherwise it
    /// parses, serializes back to the damaged document, and validation reports that path or
    /// something inside it (a value of another type always; `{}` when the object lacks a field
    /// validation expects).
    #[test]
    fn any_value_replaced((name, original, reported_before, path, pointer, value) in damage()) {
        let mut damaged = original;
        let slot = damaged.pointer_mut(&pointer).unwrap();
        let was_null = slot.is_null();
        *slot = value.clone();
        match parse_webhook(&serde_json::to_vec(&damaged).unwrap()) {
            Ok(webhook) => {
                prop_assert_eq!(serde_json::to_value(&webhook).unwrap(), damaged, "{}: {}", name, path);
                let problems = webhook.validate().err().map(|e| e.issues().to_vec()).unwrap_or_default();
                let inside = format!("{path}.");
                let reported = problems.iter().any(|issue| issue.path == path || issue.path.starts_with(&inside));
                prop_assert!(
                    reported || was_null || value == json!({}) || free_form(&name, &path)
                        || reported_before.contains(&path),
                    "{}: {} not reported: {:?}", name, path, problems
                );
            }
            Err(ParseError::Malformed { path: p, .. }) => {
                prop_assert_eq!(&p, &path, "{}", name);
                prop_assert!(IDENTIFYING.contains(&without_indices(&path).as_str()), "{}: {}", name, path);
            }
            Err(other) => prop_assert!(false, "{}: {}: {:?}", name, path, other),
        }
    }
}
