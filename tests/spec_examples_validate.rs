//! The docs' own examples meet the docs: the 25 v2 examples of the spec and the 18 v1 examples
//! of the Smooch docs validate with no `IssueKind::Spec` problem. The only problems are those of
//! the v2 `conversation:referral` example, which the spec itself gets wrong.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{fixture_path, parse, parse_v2};
use smooch_events::v2::Event;
use smooch_events::{IssueKind, ValidationErrors};

/// The clock of these tests: after every example (the newest is from 2021).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

/// Every problem, as `kind: path: message`.
fn problems(result: Result<(), ValidationErrors>) -> Vec<String> {
    match result {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .issues()
            .iter()
            .map(|issue| format!("{}: {issue}", issue.kind))
            .collect(),
    }
}

/// The 25 documented v2 examples, one per event type.
fn v2_examples() -> Vec<String> {
    Event::TYPES
        .iter()
        .map(|kind| format!("v2/{}.json", kind.replace(':', "_")))
        .collect()
}

#[test]
fn the_25_v2_examples_have_no_spec_problem() {
    let examples = v2_examples();
    assert_eq!(examples.len(), 25);
    for name in &examples {
        let result = parse_v2(name).validate_at(now());
        if let Err(errors) = &result {
            assert_eq!(errors.of_kind(IssueKind::Spec).count(), 0, "{name}: {errors}");
        }
        if name != "v2/conversation_referral.json" {
            assert_eq!(problems(result), Vec::<String>::new(), "{name}");
        }
    }
}

#[test]
fn the_v2_referral_example_has_only_a_kept_external_id_and_an_advice() {
    let errors = parse_v2("v2/conversation_referral.json")
        .validate_at(now())
        .unwrap_err();
    assert_eq!(
        problems(Err(errors.clone())),
        [
            "advice: events[0].createdAt: is missing",
            "kept: events[0].payload.user.externalId: expected a string, found the number 912382197",
        ]
    );
    assert_eq!(errors.of_kind(IssueKind::Kept).count(), 1);
    assert_eq!(errors.of_kind(IssueKind::Advice).count(), 1);
}

#[test]
fn the_18_v1_docs_examples_have_no_problem() {
    let names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(names.len(), 18, "{names:?}");
    for name in &names {
        assert_eq!(
            problems(parse(name).validate_at(now())),
            Vec::<String>::new(),
            "{name}"
        );
    }
}
