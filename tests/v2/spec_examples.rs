//! The docs' own examples meet the docs: the 25 v2 examples of the spec validate with no
//! `IssueKind::Spec` problem. The only problems are those of the `conversation:referral` example,
//! which the spec itself gets wrong.

use crate::common::{now, parse_v2, v2_examples};
use smooch_events::{IssueKind, ValidationErrors};

/// Every problem, as `kind: path: message`.
fn problems(result: Result<(), ValidationErrors>) -> Vec<String> {
    match result {
        Ok(()) => Vec::new(),
        Err(errors) => errors.issues().iter().map(ToString::to_string).collect(),
    }
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
fn the_referral_example_has_only_a_kept_external_id_and_an_advice() {
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
