//! Property tests generated from the fixtures: the 25 documented examples (`fixtures/v2/*.json`),
//! one per event type, and the written fixtures (`fixtures/v2/written/`: every content, action
//! and quoted-message type, unknown types). A fixture with its keys in any order at every level,
//! values replaced by others of the same kind (a time by another ISO spelling), keys dropped or
//! added, events repeated with a new id, and bodies made of events drawn from several fixtures,
//! parses to the event types it names and serializes back to exactly the document sent. Each of
//! the 25 types is also checked without chance
//! (`every_documented_example_round_trips_with_its_keys_in_any_order`).

use std::sync::OnceLock;

use crate::common::strategies::{iso_time, json, text};
use crate::common::{fixture, v2_examples, v2_fixtures};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;
use smooch_events::time::IsoTime;
use smooch_events::{parse_webhook, v2, Webhook};

/// A JSON document whose objects keep their key order (`serde_json::Value` sorts its keys), so
/// that a body can be written with its keys in any order.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(Value),
    Array(Vec<Doc>),
    Object(Vec<(String, Doc)>),
}

impl Doc {
    fn new(value: &Value) -> Doc {
        match value {
            Value::Array(items) => Doc::Array(items.iter().map(Doc::new).collect()),
            Value::Object(map) => Doc::Object(map.iter().map(|(k, v)| (k.clone(), Doc::new(v))).collect()),
            scalar => Doc::Scalar(scalar.clone()),
        }
    }

    /// The document as a `Value`, to compare whatever the key order.
    fn value(&self) -> Value {
        match self {
            Doc::Scalar(value) => value.clone(),
            Doc::Array(items) => Value::Array(items.iter().map(Doc::value).collect()),
            Doc::Object(members) => {
                Value::Object(members.iter().map(|(k, v)| (k.clone(), v.value())).collect())
            }
        }
    }

    /// The document as compact JSON, its keys in the order they have here.
    fn text(&self) -> String {
        match self {
            Doc::Scalar(value) => value.to_string(),
            Doc::Array(items) => format!("[{}]", items.iter().map(Doc::text).collect::<Vec<_>>().join(",")),
            Doc::Object(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v.text()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }

    /// The same document with the keys of every object in reverse order.
    fn reversed(&self) -> Doc {
        match self {
            Doc::Scalar(_) => self.clone(),
            Doc::Array(items) => Doc::Array(items.iter().map(Doc::reversed).collect()),
            Doc::Object(members) => Doc::Object(
                members
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.reversed()))
                    .collect(),
            ),
        }
    }
}

/// The 25 documented examples, each with the type of its only event, in the order of
/// `v2::Event::TYPES`.
fn examples() -> &'static [(String, Value, String)] {
    static EXAMPLES: OnceLock<Vec<(String, Value, String)>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        v2_examples()
            .into_iter()
            .map(|name| {
                let body: Value = serde_json::from_slice(&fixture(&name)).unwrap();
                let [event] = body["events"].as_array().unwrap().as_slice() else {
                    panic!("{name}: not one event")
                };
                let kind = event["type"].as_str().unwrap().to_owned();
                (name, body, kind)
            })
            .collect()
    })
}

/// The written fixtures (`fixtures/v2/written/`), parsed as JSON.
fn written() -> &'static [(String, Value)] {
    static WRITTEN: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        v2_fixtures()
            .into_iter()
            .filter(|name| name.starts_with("v2/written/"))
            .map(|name| {
                let body = serde_json::from_slice(&fixture(&name)).unwrap();
                (name, body)
            })
            .collect()
    })
}

/// Every event of every v2 fixture.
fn all_events() -> Vec<&'static Value> {
    examples()
        .iter()
        .map(|(_, body, _)| body)
        .chain(written().iter().map(|(_, body)| body))
        .flat_map(|body| body["events"].as_array().unwrap())
        .collect()
}

/// An unknown key: no documented key starts with `x-`.
fn unknown_key() -> impl Strategy<Value = String> {
    "x-[a-z]{1,6}"
}

/// A scalar, kept or replaced by another of the same kind: a string by any text, an ISO time by
/// the same or another instant in any RFC 3339 spelling, a whole number by a whole number, a
/// fraction by a fraction, a boolean by either. `type` values are kept: they choose the variant
/// of events, contents, actions and quoted messages.
fn scalar(value: &Value, key: Option<&str>) -> BoxedStrategy<Doc> {
    let same = Just(Doc::Scalar(value.clone()));
    if key == Some("type") {
        return same.boxed();
    }
    let other: BoxedStrategy<Value> = match value {
        Value::String(text_value) if text_value.parse::<IsoTime>().is_ok() => {
            iso_time().prop_map(|time| Value::from(time.to_string())).boxed()
        }
        Value::String(_) => text().prop_map(Value::from).boxed(),
        Value::Number(n) if n.is_i64() || n.is_u64() => any::<i64>().prop_map(Value::from).boxed(),
        Value::Number(_) => any::<f64>()
            .prop_filter("finite", |f| f.is_finite() && f.fract() != 0.0)
            .prop_map(Value::from)
            .boxed(),
        Value::Bool(_) => any::<bool>().prop_map(Value::from).boxed(),
        _ => return same.boxed(),
    };
    prop_oneof![6 => same, 1 => other.prop_map(Doc::Scalar)].boxed()
}

/// A document drawn from `value`: each object's keys shuffled, some dropped (never a `type`, nor
/// the body's `events`), unknown keys added; each array's items drawn the same way, one of them
/// sometimes repeated (an event with a new id); each scalar kept or replaced (see [`scalar`]).
fn mutated(value: &Value, key: Option<&str>, top: bool) -> BoxedStrategy<Doc> {
    match value {
        Value::Object(map) => {
            let members: Vec<BoxedStrategy<Option<(String, Doc)>>> = map
                .iter()
                .map(|(k, v)| {
                    let name = k.clone();
                    let kept = mutated(v, Some(k), false).prop_map(move |doc| Some((name.clone(), doc)));
                    if k == "type" || (top && k == "events") {
                        kept.boxed()
                    } else {
                        prop_oneof![9 => kept, 1 => Just(None)].boxed()
                    }
                })
                .collect();
            let added = prop_oneof![
                9 => Just(Vec::new()),
                1 => btree_map(unknown_key(), json(), 1..3)
                    .prop_map(|keys| keys.into_iter().map(|(k, v)| (k, Doc::new(&v))).collect()),
            ];
            (members, added)
                .prop_flat_map(|(members, added)| {
                    let all: Vec<(String, Doc)> = members.into_iter().flatten().chain(added).collect();
                    Just(all).prop_shuffle()
                })
                .prop_map(Doc::Object)
                .boxed()
        }
        Value::Array(items) => {
            let events = key == Some("events");
            let items: Vec<BoxedStrategy<Doc>> =
                items.iter().map(|item| mutated(item, None, false)).collect();
            (items, prop_oneof![3 => Just(None), 1 => any::<(prop::sample::Index, prop::sample::Index)>().prop_map(Some)], "[0-9a-f]{24}")
                .prop_map(move |(mut items, repeat, id)| {
                    if let (Some((which, at)), false) = (repeat, items.is_empty()) {
                        let mut copy = which.get(&items).clone();
                        if events {
                            with_id(&mut copy, id);
                        }
                        let at = at.index(items.len() + 1);
                        items.insert(at, copy);
                    }
                    Doc::Array(items)
                })
                .boxed()
        }
        scalar_value => scalar(scalar_value, key),
    }
}

/// Sets the `id` of an event object (adding it where it was dropped).
fn with_id(event: &mut Doc, id: String) {
    let Doc::Object(members) = event else { return };
    match members.iter_mut().find(|(k, _)| k == "id") {
        Some((_, value)) => *value = Doc::Scalar(Value::from(id)),
        None => members.push(("id".to_owned(), Doc::Scalar(Value::from(id)))),
    }
}

/// Parses `doc` as a body and checks it: it is a v2 body whose events have the types `kinds`, in
/// that order, each the variant its type names (`Unknown` only for a type the crate does not
/// model); it serializes back to exactly the document; serde's `Deserialize` reads the same body;
/// validating it does not panic.
fn assert_round_trip(doc: &Doc, kinds: &[&str], what: &str) {
    let text = doc.text();
    let body = match parse_webhook(text.as_bytes()) {
        Ok(Webhook::V2(body)) => body,
        other => panic!("{what}: {other:?}\n{text}"),
    };
    let types: Vec<&str> = body.events.iter().map(v2::Event::trigger).collect();
    assert_eq!(types, kinds, "{what}: event types\n{text}");
    for event in &body.events {
        let modelled = v2::Event::TYPES.contains(&event.trigger());
        assert_eq!(
            !matches!(event, v2::Event::Unknown(_)),
            modelled,
            "{what}: {event:?}\n{text}"
        );
    }
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        doc.value(),
        "{what}: round trip\n{text}"
    );
    let deserialized: v2::Body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
    assert_eq!(deserialized, *body, "{what}: Deserialize\n{text}");
    let _ = body.validate();
}

/// The `type` of each event of a drawn body.
fn kinds(doc: &Doc) -> Vec<&str> {
    let Doc::Object(members) = doc else {
        panic!("{doc:?}")
    };
    let Some((_, Doc::Array(events))) = members.iter().find(|(k, _)| k == "events") else {
        panic!("no events: {doc:?}")
    };
    events
        .iter()
        .map(|event| {
            let Doc::Object(members) = event else {
                panic!("{event:?}")
            };
            match members.iter().find(|(k, _)| k == "type") {
                Some((_, Doc::Scalar(Value::String(kind)))) => kind.as_str(),
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

/// One documented example (its index in [`examples`]), drawn from as [`mutated`] says.
fn one_example() -> impl Strategy<Value = (usize, Doc)> {
    (0..examples().len()).prop_flat_map(|i| (Just(i), mutated(&examples()[i].1, None, true)))
}

/// One written fixture (its index in [`written`]), drawn from as [`mutated`] says.
fn one_written() -> impl Strategy<Value = (usize, Doc)> {
    (0..written().len()).prop_flat_map(|i| (Just(i), mutated(&written()[i].1, None, true)))
}

/// A body whose events are drawn from several fixtures (their types, in the order of the
/// events), its `app` and `webhook` from the first documented example.
fn several_fixtures() -> impl Strategy<Value = (Vec<&'static str>, Doc)> {
    vec(prop::sample::select(all_events()), 2..6).prop_flat_map(|picks| {
        let (_, first, _) = &examples()[0];
        let head: Vec<BoxedStrategy<(String, Doc)>> = ["app", "webhook"]
            .into_iter()
            .map(|key| {
                mutated(&first[key], Some(key), false)
                    .prop_map(move |doc| (key.to_owned(), doc))
                    .boxed()
            })
            .collect();
        let events: Vec<BoxedStrategy<Doc>> = picks.iter().map(|event| mutated(event, None, false)).collect();
        let kinds: Vec<&str> = picks
            .iter()
            .map(|event| event["type"].as_str().unwrap())
            .collect();
        let body = (head, events)
            .prop_flat_map(|(head, events)| {
                let mut members = head;
                members.push(("events".to_owned(), Doc::Array(events)));
                Just(members).prop_shuffle()
            })
            .prop_map(Doc::Object);
        (Just(kinds), body)
    })
}

#[test]
fn every_documented_example_round_trips_with_its_keys_in_any_order() {
    let examples = examples();
    assert_eq!(examples.len(), 25);
    let mut kinds: Vec<&str> = examples.iter().map(|(_, _, kind)| kind.as_str()).collect();
    kinds.sort_unstable();
    let mut types = v2::Event::TYPES.to_vec();
    types.sort_unstable();
    assert_eq!(kinds, types, "one example per documented type");
    for (name, body, kind) in examples {
        let doc = Doc::new(body);
        assert_round_trip(&doc, &[kind], &format!("{name} as sent"));
        assert_round_trip(
            &doc.reversed(),
            &[kind],
            &format!("{name} with its keys reversed"),
        );
    }
}

#[test]
fn every_written_fixture_round_trips_with_its_keys_reversed() {
    assert!(written().len() >= 12, "{}", written().len());
    for (name, body) in written() {
        let doc = Doc::new(body).reversed();
        assert_round_trip(&doc, &kinds(&doc), &format!("{name} with its keys reversed"));
    }
}

#[test]
fn a_body_of_all_25_documented_events_round_trips_with_its_keys_in_any_order() {
    let events: Vec<Doc> = examples()
        .iter()
        .map(|(_, body, _)| Doc::new(&body["events"][0]))
        .collect();
    let kinds: Vec<&str> = examples().iter().map(|(_, _, kind)| kind.as_str()).collect();
    let (_, first, _) = &examples()[0];
    let doc = Doc::Object(vec![
        ("app".to_owned(), Doc::new(&first["app"])),
        ("webhook".to_owned(), Doc::new(&first["webhook"])),
        ("events".to_owned(), Doc::Array(events)),
    ]);
    assert_round_trip(&doc, &kinds, "all 25 events");
    assert_round_trip(&doc.reversed(), &kinds, "all 25 events, keys reversed");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Any documented example, drawn as [`mutated`] says, parses to the same event types and
    /// serializes back to exactly the body sent.
    #[test]
    fn any_documented_example_changed_round_trips_exactly((i, doc) in one_example()) {
        let (name, _, kind) = &examples()[i];
        let kinds = kinds(&doc);
        prop_assert!(!kinds.is_empty() && kinds.iter().all(|k| k == kind), "{}: {:?}", name, kinds);
        assert_round_trip(&doc, &kinds, name);
    }
}

// The written fixtures are larger (up to 15 KB): fewer cases keep the tests fast.
proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// A body of events drawn from several fixtures, each changed, parses to their types in
    /// order and serializes back to exactly the body sent.
    #[test]
    fn events_of_several_fixtures_in_one_body_round_trip_exactly((expected, doc) in several_fixtures()) {
        prop_assert_eq!(&kinds(&doc), &expected);
        assert_round_trip(&doc, &expected, "several fixtures");
    }

    /// Any written fixture, drawn as [`mutated`] says, parses to the same event types and
    /// serializes back to exactly the body sent.
    #[test]
    fn any_written_fixture_changed_round_trips_exactly((i, doc) in one_written()) {
        assert_round_trip(&doc, &kinds(&doc), &written()[i].0);
    }
}
