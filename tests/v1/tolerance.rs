//! Never lose an event to a field: bodies that are odd but still events parse, keep every value
//! exactly as sent, serialize back to the same document, and `validate()` names what is odd.

use crate::common::positions::{positions, replacement, without_indices, wrong_type};
use crate::common::{all_fixtures, fixture, now, problems};
use proptest::prelude::*;
use serde_json::{json, Value};
use smooch_events::v1::Platform;
use smooch_events::{parse_event, Event, ParseError};

/// Parses a body that must parse, checks that it serializes back to the same document, and gives
/// the problems validation reports.
fn tolerated(body: &Value) -> (Event, Vec<String>) {
    let bytes = serde_json::to_vec(body).unwrap();
    let event = parse_event(&bytes).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(&serde_json::to_value(&event).unwrap(), body, "round trip");
    let from_value: Event = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(from_value, event, "from_value");
    let problems = problems(event.validate_at(now()));
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
            // `app` first, as Smooch sends it; then the trigger's keys; then the rest of the
            // envelope, in the order they are written back.
            "app._id: is missing",
            "appUser.clients[0].platform: is missing",
            "message.source.type: is missing",
            "message.coordinates.lat: is missing",
            "message.coordinates.long: is missing",
            "error.code: is missing",
            "destination.type: is missing",
            "client.platform: is missing",
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
    assert_eq!(paths, ["messages[0].text", "messages[0].name"]);
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
    assert_eq!(event.created_at(), None);
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
    assert_eq!(event.user_id(), Some("u"));
    assert_eq!(event.created_at().unwrap().timestamp_millis(), 1480349392500);
}

#[test]
fn other_never_holds_a_named_value() {
    let platform: Platform = serde_json::from_value(json!("messenger")).unwrap();
    assert_eq!(platform, Platform::Messenger);
    assert_eq!(Platform::from("messenger".to_owned()), Platform::Messenger);
    assert!(matches!(Platform::from("newChannel"), Platform::Other(ref v) if v == "newChannel"));
}

// ---- Every position of every fixture ----

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
