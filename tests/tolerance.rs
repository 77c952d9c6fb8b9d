//! Never lose an event to a field: bodies that are odd but still events parse, keep every value
//! exactly as sent, serialize back to the same document, and `validate()` names what is odd.

mod common;

use chrono::{TimeZone, Utc};
use common::{all_fixtures, fixture, v2_fixtures};
use proptest::prelude::*;
use serde_json::{json, Value};
use smooch_events::v1::Platform;
use smooch_events::{parse_event, parse_webhook, v2, Event, ParseError, Webhook};

/// Parses a body that must parse, checks that it serializes back to the same document, and gives
/// the problems validation reports.
fn tolerated(body: &Value) -> (Event, Vec<String>) {
    let bytes = serde_json::to_vec(body).unwrap();
    let event = parse_event(&bytes).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(&serde_json::to_value(&event).unwrap(), body, "round trip");
    let from_value: Event = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(from_value, event, "from_value");
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let problems = match event.validate_at(now) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.issues().iter().map(ToString::to_string).collect(),
    };
    (event, problems)
}

fn message_body(message: Value, app_user: Value) -> Value {
    json!({"trigger": "message:appUser", "appUser": app_user, "messages": [message]})
}

#[test]
fn optional_objects_with_an_inner_field_missing() {
    let (event, problems) = tolerated(&json!({
        "trigger": "message:delivery:failure", "version": "v1.1",
        "app": {}, "client": {}, "destination": {},
        "appUser": {"_id": "u", "clients": [{"id": "c"}]},
        "error": {"underlyingError": {"message": "no"}},
        "message": {"_id": "m", "source": {}, "coordinates": {}}
    }));
    let Event::MessageDeliveryFailure(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.envelope.app.as_ref().unwrap().id, None);
    assert_eq!(e.envelope.client.as_ref().unwrap().platform, None);
    assert_eq!(e.error.as_ref().unwrap().code, None);
    assert_eq!(event.app_id(), None);
    assert_eq!(
        problems,
        [
            "app._id: is missing",
            "destination.type: is missing",
            "client.platform: is missing",
            "appUser.clients[0].platform: is missing",
            "message.source.type: is missing",
            "message.coordinates.lat: is missing",
            "message.coordinates.long: is missing",
            "error.code: is missing",
        ]
    );
    let (_, problems) = tolerated(&json!({"trigger": "typing:appUser", "activity": {}}));
    assert_eq!(problems, ["activity.type: is missing"]);
}

#[test]
fn secondary_values_of_another_type_or_impossible() {
    let body = message_body(
        json!({"_id": "m", "role": "appUser", "received": "1444348338.704", "mediaSize": 1.5e6}),
        json!({
            "_id": "u", "properties": [], "signedUpAt": "2015-02-30T03:38:02.346Z",
            "clients": [{"platform": "ios", "active": "true", "lastSeen": 1457550541431u64}]
        }),
    );
    let (event, problems) = tolerated(&body);
    let Event::MessageAppUser(e) = &event else {
        panic!()
    };
    // Each misfit reads as absent and is kept under its own key.
    assert_eq!(e.messages[0].received, None);
    assert_eq!(e.messages[0].extra["received"], "1444348338.704");
    assert_eq!(e.messages[0].media_size, None);
    assert_eq!(e.app_user.properties, None);
    assert_eq!(e.app_user.extra["properties"], json!([]));
    assert_eq!(e.app_user.signed_up_at, None);
    let client = &e.app_user.clients()[0];
    assert_eq!(client.platform, Some(Platform::Ios));
    assert_eq!((client.active, client.last_seen.as_ref()), (None, None));
    assert_eq!(client.extra["lastSeen"], 1457550541431u64);
    assert_eq!(
        problems,
        [
            "messages[0].mediaSize: expected a whole number of 0 or more, found the number 1500000.0",
            "messages[0].received: expected Unix seconds (a number), found the string \"1444348338.704\"",
            "appUser.clients[0].active: expected a boolean, found the string \"true\"",
            "appUser.clients[0].lastSeen: expected an ISO-8601 time, found the number 1457550541431",
            "appUser.properties: expected a JSON object, found an empty array",
            "appUser.signedUpAt: expected an ISO-8601 time, found the string \"2015-02-30T03:38:02.346Z\"",
        ]
    );
    let (_, problems) = tolerated(&json!({
        "trigger": "link:success", "appUser": {"_id": "u"}, "channel": "twilio", "criteria": []
    }));
    assert_eq!(
        problems,
        ["criteria: expected a JSON object, found an empty array"]
    );
    let (_, problems) = tolerated(&json!({
        "trigger": "conversation:read", "appUser": {"_id": "u"}, "timestamp": 18446744073709551616.0
    }));
    assert_eq!(
        problems,
        ["timestamp: expected Unix seconds (a number), found the number 1.8446744073709552e+19"]
    );
}

#[test]
fn a_key_another_trigger_uses_is_kept_as_sent() {
    for (key, value) in [
        ("error", json!("some text")),
        ("channel", json!({"type": "twilio"})),
        ("isFinalEvent", json!("yes")),
        ("referral", json!(["r"])),
        ("activity", json!("typing")),
        ("criteria", json!("phone")),
        ("message", json!(17)),
        ("surviving", json!(null)),
        ("messages", json!({"_id": "m"})),
    ] {
        let mut body = json!({"trigger": "conversation:read", "appUser": {"_id": "u"}});
        body[key] = value.clone();
        let (event, problems) = tolerated(&body);
        let Event::ConversationRead(read) = &event else {
            panic!()
        };
        assert_eq!(read.envelope.extra[key], value, "{key}");
        assert_eq!(
            problems,
            Vec::<String>::new(),
            "{key}: not a field of conversation:read"
        );
    }
}

#[test]
fn a_text_cut_in_the_middle_of_an_emoji() {
    let body = br#"{"trigger":"message:appUser","appUser":{"_id":"u"},
        "messages":[{"_id":"m","role":"appUser","text":"Hi \ud83d","name":"\udc00x"}]}"#;
    let event = parse_event(body).unwrap();
    let message = &event.messages()[0];
    assert_eq!(message.text.as_deref(), Some("Hi \u{FFFD}"));
    assert_eq!(message.name.as_deref(), Some("\u{FFFD}x"));
    let problems = event.validate().unwrap_err();
    let paths: Vec<&str> = problems.issues().iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["messages[0].name", "messages[0].text"]);
    // A pair stays an emoji.
    let event = parse_event(br#"{"trigger":"client:add","x":"\ud83d\ude00"}"#).unwrap();
    let Event::Unknown(unknown) = &event else { panic!() };
    assert_eq!(unknown.body["x"], "\u{1F600}");
}

#[test]
fn nulls_are_kept_where_they_were() {
    let body = json!({
        "trigger": "conversation:start", "app": {"_id": "a"}, "timestamp": null,
        "appUser": {"_id": "u", "userId": null, "clients": [{"platform": "web", "info": null}]},
        "source": {"type": "web", "id": null}
    });
    let (event, problems) = tolerated(&body);
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(event.timestamp(), None);
}

#[test]
fn an_unknown_trigger_is_kept_exactly_wherever_it_stands() {
    let body = json!({
        "appUser": {"_id": "u", "signedUpAt": "2015-10-06T05:38:02.3+02:00"},
        "messages": null, "timestamp": 1480349392.5, "whole": 1480349392.0,
        "zzz": {"deep": [null, 1e-7]}, "trigger": "notification:something"
    });
    let (event, _) = tolerated(&body);
    let Event::Unknown(unknown) = &event else { panic!() };
    assert_eq!(Value::Object(unknown.body.clone()), body);
    assert_eq!(event.app_user_id(), Some("u"));
    assert_eq!(event.timestamp().unwrap().timestamp_millis(), 1480349392500);
}

#[test]
fn other_never_holds_a_named_value() {
    let platform: Platform = serde_json::from_value(json!("messenger")).unwrap();
    assert_eq!(platform, Platform::Messenger);
    assert_eq!(Platform::from("messenger".to_owned()), Platform::Messenger);
    assert!(matches!(Platform::from("newChannel"), Platform::Other(ref v) if v == "newChannel"));
}

// ---- Every position of every fixture ----

/// Every position in a JSON value: its path as errors show it and its JSON pointer.
fn positions(value: &Value, path: &str, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let child_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push((child_path.clone(), child_pointer.clone()));
                positions(child, &child_path, &child_pointer, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let child_path = format!("{path}[{i}]");
                let child_pointer = format!("{pointer}/{i}");
                out.push((child_path.clone(), child_pointer.clone()));
                positions(child, &child_path, &child_pointer, out);
            }
        }
        _ => {}
    }
}

/// A value of another JSON type than `value`.
fn wrong_type(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(12345),
        Value::Number(_) | Value::Bool(_) | Value::Null => json!("not this type"),
        Value::Object(_) => json!(["not", "an", "object"]),
        Value::Array(_) => json!({"not": "an array"}),
    }
}

/// A path with its array indices removed (`messages[].actions[].amount`).
fn without_indices(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The documented fixtures of modelled triggers, parsed as JSON.
fn modelled_fixtures() -> Vec<(String, Value)> {
    all_fixtures()
        .into_iter()
        .filter(|name| !name.starts_with("later-docs-fragments/"))
        .map(|name| {
            let value: Value = serde_json::from_slice(&fixture(&name)).unwrap();
            (name, value)
        })
        .filter(|(_, value)| Event::TRIGGERS.contains(&value["trigger"].as_str().unwrap()))
        .collect()
}

/// What identifies an event, in the fixtures: a value of another type there is refused, at its
/// own path. Everything else is kept.
const IDENTIFYING: &[&str] = &[
    "appUser",
    "appUser._id",
    "messages",
    "messages[]",
    "messages[]._id",
    "postbacks",
    "postbacks[]",
    "payments",
    "payments[]",
    "surviving",
    "surviving._id",
    "discarded",
    "discarded[]",
    "discarded[]._id",
];

/// Replaces the value at every position of every fixture with one of another JSON type: either
/// the body is refused at exactly that path (only what identifies the event), or it parses,
/// serializes back to the damaged document, and validation reports that path (unless the value
/// is free-form: an unknown key, or inside a free-form map).
#[test]
fn a_value_of_another_type_anywhere() {
    let (mut kept, mut refused) = (0, std::collections::BTreeSet::new());
    for (name, original) in modelled_fixtures() {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        for (path, pointer) in all {
            if path == "trigger" {
                continue;
            }
            let mut damaged = original.clone();
            let slot = damaged.pointer_mut(&pointer).unwrap();
            *slot = wrong_type(slot);
            match parse_event(&serde_json::to_vec(&damaged).unwrap()) {
                Ok(event) => {
                    assert_eq!(serde_json::to_value(&event).unwrap(), damaged, "{name}: {path}");
                    let problems = event
                        .validate()
                        .err()
                        .map(|e| e.issues().to_vec())
                        .unwrap_or_default();
                    let reported = problems.iter().any(|issue| issue.path == path);
                    assert!(
                        reported || free_form(&without_indices(&path)),
                        "{name}: {path} is not reported: {problems:?}"
                    );
                    kept += 1;
                }
                Err(ParseError::Malformed { path: p, .. }) => {
                    assert_eq!(p, path, "{name}");
                    refused.insert(without_indices(&path));
                }
                Err(other) => panic!("{name}: {path}: {other:?}"),
            }
        }
    }
    assert!(kept > 1_000, "{kept}");
    assert_eq!(refused.iter().map(String::as_str).collect::<Vec<_>>(), {
        let mut expected = IDENTIFYING.to_vec();
        expected.sort_unstable();
        expected
    });
}

/// What takes any JSON value in the fixtures, so a value of another type is no problem there:
/// keys the crate does not model, the inside of free-form maps and values kept as JSON, and the
/// legacy `metadata: []` given an object (which is what metadata is today).
fn free_form(path: &str) -> bool {
    const UNKNOWN_KEYS: [&str; 10] = [
        "app.name",
        "appUser.clients[].futureClientKey",
        "appUser.futureUserKey",
        "channel",
        "futureTopLevel",
        "messages[].actions[].futureActionKey",
        "messages[].language",
        "messages[].source.futureSourceKey",
        // The legacy `metadata: []` given an object is what metadata is today.
        "messages[].metadata",
        "postbacks[].message.metadata",
    ];
    const ANY_JSON: [&str; 3] = ["underlyingError", "originalMessageTimestamp", "futureTopLevel"];
    const MAPS: [&str; 6] = [
        "properties",
        "info",
        "metadata",
        "criteria",
        "raw",
        "extraChannelOptions",
    ];
    let segments: Vec<&str> = path.split('.').map(|s| s.trim_end_matches("[]")).collect();
    let (last, parents) = segments.split_last().unwrap();
    UNKNOWN_KEYS
        .iter()
        .any(|key| path == *key || path.starts_with(&format!("{key}.")))
        || ANY_JSON.contains(last)
        || parents.iter().any(|s| MAPS.contains(s) || ANY_JSON.contains(s))
}

/// Replaces every object of every fixture with `{}`: refused only where it identifies the event
/// (an appUser or a message that then has no `_id`), else kept and round-tripped.
#[test]
fn an_empty_object_anywhere() {
    for (name, original) in modelled_fixtures() {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        for (path, pointer) in all {
            let mut damaged = original.clone();
            let slot = damaged.pointer_mut(&pointer).unwrap();
            if !slot.is_object() {
                continue;
            }
            *slot = json!({});
            match parse_event(&serde_json::to_vec(&damaged).unwrap()) {
                Ok(event) => assert_eq!(serde_json::to_value(&event).unwrap(), damaged, "{name}: {path}"),
                Err(ParseError::Malformed { path: p, message, .. }) => {
                    assert_eq!(
                        (p.as_str(), message.as_str()),
                        (path.as_str(), "missing field `_id`"),
                        "{name}"
                    );
                    assert!(
                        ["appUser", "surviving", "discarded[]", "messages[]"]
                            .contains(&without_indices(&path).as_str()),
                        "{name}: {path}"
                    );
                }
                Err(other) => panic!("{name}: {path}: {other:?}"),
            }
        }
    }
}

/// For every fixture with `trigger` moved to every position among the keys, `parse_event` and
/// `serde_json::from_value` (whose maps are sorted) give the same event.
#[test]
fn trigger_at_every_position() {
    for name in all_fixtures() {
        if name.starts_with("later-docs-fragments/") || name.ends_with(".invalid") {
            continue;
        }
        let original: Value = serde_json::from_slice(&fixture(&name)).unwrap();
        let reference = parse_event(&fixture(&name)).unwrap();
        let map = original.as_object().unwrap();
        let others: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != "trigger").collect();
        for position in 0..=others.len() {
            let mut text = String::from("{");
            for (i, (key, value)) in others.iter().enumerate() {
                if i == position {
                    text.push_str(&format!("\"trigger\":{},", original["trigger"]));
                }
                text.push_str(&format!("{}:{},", json!(key), value));
            }
            if position == others.len() {
                text.push_str(&format!("\"trigger\":{},", original["trigger"]));
            }
            text.pop();
            text.push('}');
            let event = parse_event(text.as_bytes()).unwrap_or_else(|e| panic!("{name} at {position}: {e}"));
            assert_eq!(event, reference, "{name}: trigger at {position}");
            let from_value: Event = serde_json::from_value(original.clone()).unwrap();
            assert_eq!(from_value, reference, "{name}: from_value");
        }
    }
}

/// The kind of a JSON value, to draw a value of another kind.
fn kind(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A value of another JSON type than `current`, of any shape; for an object, also `{}`.
fn replacement(current: &Value) -> BoxedStrategy<Value> {
    let other_kind = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9..1e9f64).prop_map(Value::from),
        "[a-z0-9 :.-]{0,12}".prop_map(Value::from),
        prop::collection::vec(any::<u8>().prop_map(Value::from), 0..3).prop_map(Value::Array),
        prop::collection::btree_map("[a-z_]{1,6}", any::<bool>().prop_map(Value::from), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ];
    let current_kind = kind(current);
    let other = other_kind.prop_filter("another type", move |v| kind(v) != current_kind);
    if current.is_object() {
        prop_oneof![other, Just(json!({}))].boxed()
    } else {
        other.boxed()
    }
}

/// A fixture, one of its positions, and a value to put there.
fn damage() -> impl Strategy<Value = (String, Value, String, String, Value)> {
    prop::sample::select(modelled_fixtures()).prop_flat_map(|(name, original)| {
        let mut all = Vec::new();
        positions(&original, "", "", &mut all);
        all.retain(|(path, _)| path != "trigger");
        prop::sample::select(all).prop_flat_map(move |(path, pointer)| {
            let current = original.pointer(&pointer).unwrap();
            (
                Just(name.clone()),
                Just(original.clone()),
                Just(path),
                Just(pointer.clone()),
                replacement(current),
            )
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any fixture, any one value replaced with a value of another JSON type (or an object with
    /// `{}`): refused only where it identifies the event, at that path; otherwise it parses,
    /// serializes back to the damaged document, and validation reports that path (a value of
    /// another type always; `{}` when the object lacks a field the docs say is always sent).
    #[test]
    fn any_value_replaced((name, original, path, pointer, value) in damage()) {
        let mut damaged = original;
        *damaged.pointer_mut(&pointer).unwrap() = value.clone();
        match parse_event(&serde_json::to_vec(&damaged).unwrap()) {
            Ok(event) => {
                prop_assert_eq!(serde_json::to_value(&event).unwrap(), damaged, "{}: {}", name, path);
                let problems = event.validate().err().map(|e| e.issues().to_vec()).unwrap_or_default();
                let inside = format!("{path}.");
                let reported = problems.iter().any(|issue| issue.path == path || issue.path.starts_with(&inside));
                prop_assert!(
                    reported || value == json!({}) || free_form(&without_indices(&path)),
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

// ---- v2: the same rule, for bodies with `events` ----

/// Parses a v2 body that must parse, checks that it serializes back to the same document (and
/// that every entry agrees), and gives the problems validation reports.
fn tolerated_v2(body: &Value) -> (v2::Body, Vec<String>) {
    let bytes = serde_json::to_vec(body).unwrap();
    let webhook = match parse_webhook(&bytes) {
        Ok(Webhook::V2(webhook)) => *webhook,
        other => panic!("{other:?}: {body}"),
    };
    assert_eq!(&serde_json::to_value(&webhook).unwrap(), body, "round trip");
    let from_value: Webhook = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(from_value, Webhook::from(webhook.clone()), "from_value");
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let problems = match webhook.validate_at(now) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.issues().iter().map(ToString::to_string).collect(),
    };
    (webhook, problems)
}

/// A body with one event.
fn one_event(event: Value) -> Value {
    json!({"app": {"id": "a"}, "webhook": {"id": "w", "version": "v2"}, "events": [event]})
}

#[test]
fn v2_what_the_spec_does_not_require_may_be_missing() {
    // An event without `createdAt` (as the referral example), a conversation without `type`, an
    // author that is only `{"type": "user"}`.
    let (webhook, problems) = tolerated_v2(&one_event(json!({
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
    let (webhook, problems) = tolerated_v2(&json!({"events": []}));
    assert!(webhook.events.is_empty());
    assert_eq!(problems, Vec::<String>::new());
    // An event that is only `{}`: an unknown event, whose missing keys validation names.
    let (webhook, problems) = tolerated_v2(&json!({"events": [{}]}));
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
    let (_, problems) = tolerated_v2(&one_event(json!({
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
            "events[0].payload.message.quotedMessage.type: is missing",
            "events[0].payload.message.source.type: is missing",
        ]
    );
}

#[test]
fn v2_values_of_another_type_or_impossible_are_kept() {
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
    let (webhook, problems) = tolerated_v2(&body);
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
    let (webhook, problems) = tolerated_v2(&one_event(json!({
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
    let (_, problems) = tolerated_v2(&json!({"events": [
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
fn v2_a_key_another_event_type_uses_is_kept_as_sent() {
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
        let (webhook, problems) = tolerated_v2(&one_event(event));
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
fn v2_a_text_cut_in_the_middle_of_an_emoji() {
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
fn v2_an_unknown_event_is_kept_exactly_wherever_its_type_stands() {
    let event = json!({
        "createdAt": "2024-01-01T02:00:00.5+02:00", "id": "e", "payload": {"n": null, "f": 1.5e-7, "w": 1480349392.0},
        "type": "passthrough:messaging"
    });
    let (webhook, problems) = tolerated_v2(&one_event(event.clone()));
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

#[test]
fn v2_trigger_decides_wherever_it_stands() {
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
    // Even an `events` that no v2 body could have.
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
    // And what was read of a v2 body before its `trigger` comes back exactly.
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

/// Every v2 fixture with `events` moved to every position among the body's keys, and each event's
/// `type` to every position among its keys: `parse_webhook` and `serde_json::from_value` (whose
/// maps are sorted) give the same body.
#[test]
fn v2_events_and_type_at_every_position() {
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
const IDENTIFYING_V2: &[&str] = &["events", "events[]"];

/// The parts of the v2 fixtures the crate does not model (an unknown event, content or action
/// type), kept whole as JSON: anything fits inside them.
const UNKNOWN_V2: &[(&str, &str)] = &[
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
fn free_form_v2(name: &str, path: &str) -> bool {
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
    UNKNOWN_V2
        .iter()
        .any(|(file, prefix)| *file == name && path.starts_with(prefix))
        || parents.iter().any(|s| MAPS.contains(s))
        || UNKNOWN_KEYS.contains(&plain.as_str())
}

/// The v2 fixtures, parsed as JSON, with the paths validation already reports in them (the
/// documented examples' own defects: a value of another type there may well fit).
fn v2_fixture_values() -> Vec<(String, Value, Vec<String>)> {
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
fn v2_a_value_of_another_type_anywhere() {
    let (mut kept, mut refused) = (0, std::collections::BTreeSet::new());
    for (name, original, reported_before) in v2_fixture_values() {
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
                        reported || was_null || free_form_v2(&name, &path) || reported_before.contains(&path),
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
        IDENTIFYING_V2
    );
}

/// Replaces every object of every v2 fixture with `{}`: never refused (an event that is `{}` is an
/// unknown event), always round-tripped.
#[test]
fn v2_an_empty_object_anywhere() {
    for (name, original, _) in v2_fixture_values() {
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
fn damage_v2() -> impl Strategy<Value = (String, Value, Vec<String>, String, String, Value)> {
    prop::sample::select(v2_fixture_values()).prop_flat_map(|(name, original, reported)| {
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
    fn v2_any_value_replaced((name, original, reported_before, path, pointer, value) in damage_v2()) {
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
                    reported || was_null || value == json!({}) || free_form_v2(&name, &path)
                        || reported_before.contains(&path),
                    "{}: {} not reported: {:?}", name, path, problems
                );
            }
            Err(ParseError::Malformed { path: p, .. }) => {
                prop_assert_eq!(&p, &path, "{}", name);
                prop_assert!(IDENTIFYING_V2.contains(&without_indices(&path).as_str()), "{}: {}", name, path);
            }
            Err(other) => prop_assert!(false, "{}: {}: {:?}", name, path, other),
        }
    }
}
