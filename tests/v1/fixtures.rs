//! Every v1 fixture parses to the variant its trigger names and round-trips (every fixture of
//! either version through `parse_webhook`: `tests/webhook_versions.rs`).

use crate::common::{all_fixtures, assert_round_trip, fixture};
use serde_json::Value;
use smooch_events::{parse_event, Event, ParseError};

#[test]
fn every_fixture_parses_to_its_trigger_and_round_trips() {
    let names = all_fixtures();
    // 18 documented examples, 15 historical, 12 captures, 2 fragments, and the written ones.
    assert!(names.len() >= 60, "only {} fixtures found", names.len());
    for name in &names {
        let bytes = fixture(name);
        if name.starts_with("later-docs-fragments/") {
            // Fragments of a referral body: no trigger, so a clear refusal is right.
            let error = parse_event(&bytes).unwrap_err();
            assert!(matches!(error, ParseError::MissingTrigger), "{name}: {error:?}");
            continue;
        }
        let event = parse_event(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let trigger = original["trigger"].as_str().unwrap();
        assert_eq!(event.trigger(), trigger, "{name}");
        assert_eq!(
            event.is_unknown(),
            !Event::TRIGGERS.contains(&trigger),
            "{name}: variant for {trigger}"
        );
        assert_round_trip(name, &event);
        // The generic `Deserialize` (here from a `Value`, whose keys are sorted) agrees.
        let from_value: Event = serde_json::from_value(original).unwrap();
        assert_eq!(from_value, event, "{name}: from_value differs");
    }
}

#[test]
fn an_unknown_trigger_after_a_misfit_key_is_kept_exactly() {
    let name = "written/notification_delivery_user_unknown_trigger_last.json";
    let bytes = fixture(name);
    let event = parse_event(&bytes).unwrap();
    let Event::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.trigger, "notification:delivery:user");
    // `messages` has another shape than message triggers give it; the keys before the trigger
    // are kept as JSON until the trigger is known, so nothing is typed against another shape.
    assert_eq!(unknown.body["messages"], "not the shape message triggers use");
    assert_eq!(unknown.body["notification"]["_id"], "5c3cc2b10db8d0a2b4d4a120");
    assert_eq!(unknown.body["timestamp"].as_f64(), Some(1547485105.77));
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(Value::Object(unknown.body.clone()), original);
    // Any serde reader agrees.
    assert_eq!(serde_json::from_slice::<Event>(&bytes).unwrap(), event);
}

#[test]
fn every_modelled_trigger_has_a_fixture() {
    let names = all_fixtures();
    for trigger in Event::TRIGGERS {
        let found = names.iter().any(|name| {
            let value: Value = serde_json::from_slice(&fixture(name)).unwrap();
            value["trigger"] == *trigger
        });
        assert!(found, "no fixture for {trigger}");
    }
}

#[test]
fn the_concatenated_capture_file_is_refused_at_its_second_object() {
    let bytes = fixture("branch-f-enum-payloads/enumerated_payloads.json.invalid");
    let error = parse_event(&bytes).unwrap_err();
    match &error {
        ParseError::InvalidJson {
            line,
            column,
            message,
            ..
        } => {
            assert_eq!((*line, *column), (65, 1));
            assert_eq!(message, "trailing characters");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "invalid JSON at line 65, column 1: trailing characters"
    );
}
