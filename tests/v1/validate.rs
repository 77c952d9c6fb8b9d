//! `Event::validate_at`: each rule fires with its path, and clean fixtures pass.

use crate::common::{all_fixtures, now, parse};
use smooch_events::{parse_event, Event};

/// The problems of a body, as `path: message` lines.
fn problems(body: &str) -> Vec<String> {
    crate::common::problems(parse_event(body.as_bytes()).unwrap().validate_at(now()))
}

#[test]
fn every_documented_fixture_is_valid() {
    for name in all_fixtures() {
        if name.starts_with("later-docs-fragments/") {
            continue;
        }
        let event = parse(&name);
        if let Err(errors) = event.validate_at(now()) {
            panic!("{name}: {errors}");
        }
    }
}

#[test]
fn empty_ids() {
    assert_eq!(
        problems(r#"{"trigger":"conversation:read","app":{"_id":""},"appUser":{"_id":" "}}"#),
        ["app._id: is empty", "appUser._id: is empty"]
    );
    assert_eq!(
        problems(
            r#"{"trigger":"message:appUser","appUser":{"_id":"u","clients":[{"platform":"ios","id":""}]},
                "messages":[{"_id":"","role":"appUser"}]}"#
        ),
        ["messages[0]._id: is empty", "appUser.clients[0].id: is empty"]
    );
}

#[test]
fn times_before_2010_negative_or_in_the_future() {
    let body =
        |t: &str| format!(r#"{{"trigger":"conversation:read","appUser":{{"_id":"u"}},"timestamp":{t}}}"#);
    assert_eq!(
        problems(&body("1262304000")),
        Vec::<String>::new(),
        "2010-01-01 itself is fine"
    );
    assert_eq!(
        problems(&body("1262303999.999")),
        ["timestamp: is before 2010 (2009-12-31T23:59:59.999Z)"]
    );
    assert_eq!(
        problems(&body("-1.5")),
        ["timestamp: is negative (1969-12-31T23:59:58.500Z)"]
    );
    // The clock is 2025-01-01T00:00:00Z: up to a day ahead is allowed.
    assert_eq!(problems(&body("1735776000")), Vec::<String>::new());
    assert_eq!(
        problems(&body("1735776000.001")),
        ["timestamp: is more than a day in the future (2025-01-02T00:00:00.001Z)"]
    );
    // Milliseconds read as seconds: year 48,000-something.
    assert_eq!(
        problems(&body("1480349392103")),
        ["timestamp: is more than a day in the future (+48880-05-27T12:28:23.000Z)"]
    );
    assert_eq!(
        problems(
            r#"{"trigger":"message:appUser","appUser":{"_id":"u","signedUpAt":"2009-01-01T00:00:00.000Z",
                "clients":[{"platform":"web","lastSeen":"2030-01-01T00:00:00.000Z"}]},
                "messages":[{"_id":"m","role":"appUser","received":1}]}"#
        ),
        [
            "messages[0].received: is before 2010 (1970-01-01T00:00:01.000Z)",
            "appUser.signedUpAt: is before 2010 (2009-01-01T00:00:00.000Z)",
            "appUser.clients[0].lastSeen: is more than a day in the future (2030-01-01T00:00:00.000Z)",
        ]
    );
}

#[test]
fn empty_lists() {
    assert_eq!(
        problems(r#"{"trigger":"message:appMaker","appUser":{"_id":"u"},"messages":[]}"#),
        ["messages: is empty"]
    );
    assert_eq!(
        problems(r#"{"trigger":"postback","appUser":{"_id":"u"},"postbacks":[]}"#),
        ["postbacks: is empty"]
    );
    assert_eq!(
        problems(r#"{"trigger":"payment:success","appUser":{"_id":"u"},"payments":[]}"#),
        ["payments: is empty"]
    );
    assert_eq!(
        problems(r#"{"trigger":"merge:appUser","surviving":{"_id":"u"},"discarded":[]}"#),
        ["discarded: is empty"]
    );
}

#[test]
fn roles_must_fit_the_trigger() {
    let body = |trigger: &str, role: &str| {
        format!(r#"{{"trigger":"{trigger}","appUser":{{"_id":"u"}},"messages":[{{"_id":"m"{role}}}]}}"#)
    };
    assert_eq!(
        problems(&body("message:appUser", r#","role":"appMaker""#)),
        ["messages[0].role: is `appMaker` on this trigger, expected `appUser`"]
    );
    assert_eq!(
        problems(&body("message:appMaker", r#","role":"appUser""#)),
        ["messages[0].role: is `appUser` on this trigger, expected `appMaker` or `whisper`"]
    );
    assert_eq!(
        problems(&body("message:appMaker", r#","role":"whisper""#)),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(&body("message:appUser", "")),
        ["messages[0].role: is missing"]
    );
}

#[test]
fn buy_actions_need_amount_and_currency() {
    assert_eq!(
        problems(
            r#"{"trigger":"message:appMaker","appUser":{"_id":"u"},"messages":[{"_id":"m","role":"appMaker",
                "actions":[{"type":"link","uri":"https://example.com"},{"type":"buy","text":"Buy"}],
                "items":[{"title":"t","actions":[{"type":"buy","amount":100}]}]}]}"#
        ),
        [
            "messages[0].actions[1].amount: is missing on a buy action",
            "messages[0].actions[1].currency: is missing on a buy action",
            "messages[0].items[0].actions[0].currency: is missing on a buy action",
        ]
    );
}

#[test]
fn failure_events_need_an_error() {
    assert_eq!(
        problems(r#"{"trigger":"link:failure","appUser":{"_id":"u"},"channel":"twilio","criteria":{}}"#),
        ["error: is missing on a failure event"]
    );
    assert_eq!(
        problems(r#"{"trigger":"link:match","appUser":{"_id":"u"}}"#),
        ["channel: is missing", "criteria: is missing"]
    );
    assert_eq!(
        problems(r#"{"trigger":"delivery:failure","appUser":{"_id":"u"},"messages":[{"_id":"m"}]}"#),
        ["error: is missing on a failure event"]
    );
    assert_eq!(
        problems(r#"{"trigger":"message:delivery:failure"}"#),
        ["error: is missing on a failure event"]
    );
    assert_eq!(
        problems(r#"{"trigger":"message:delivery:user"}"#),
        Vec::<String>::new()
    );
}

#[test]
fn referrals_only_from_messenger_and_wechat() {
    let body = |trigger: &str, channel: &str| {
        format!(
            r#"{{"trigger":"{trigger}","source":{{"type":"{channel}"}},"appUser":{{"_id":"u"}},"referral":{{"code":"c"}}}}"#
        )
    };
    for trigger in ["conversation:start", "conversation:referral"] {
        assert_eq!(problems(&body(trigger, "messenger")), Vec::<String>::new());
        assert_eq!(problems(&body(trigger, "wechat")), Vec::<String>::new());
        assert_eq!(
            problems(&body(trigger, "line")),
            ["referral: sent by `line`, but only `messenger` and `wechat` send referrals"]
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let event = parse_event(
        br#"{"trigger":"message:appUser","app":{"_id":""},"timestamp":1,
             "appUser":{"_id":""},"messages":[{"_id":"","role":"appMaker"}]}"#,
    )
    .unwrap();
    let errors = event.validate_at(now()).unwrap_err();
    assert_eq!(errors.subject(), "message:appUser");
    assert_eq!(
        errors.to_string(),
        "message:appUser: 5 problems: advice: app._id: is empty; advice: messages[0]._id: is empty; \
         spec: messages[0].role: is `appMaker` on this trigger, expected `appUser`; \
         advice: appUser._id: is empty; advice: timestamp: is before 2010 (1970-01-01T00:00:01.000Z)"
    );
    let paths: Vec<String> = errors.into_iter().map(|issue| issue.path).collect();
    assert_eq!(
        paths,
        [
            "app._id",
            "messages[0]._id",
            "messages[0].role",
            "appUser._id",
            "timestamp",
        ]
    );
}

#[test]
fn unknown_events_are_only_checked_for_replaced_text() {
    let event = parse_event(br#"{"trigger":"client:add","appUser":{"_id":""}}"#).unwrap();
    assert!(matches!(event, Event::Unknown(_)));
    assert_eq!(event.validate_at(now()), Ok(()));
    let event = parse_event(br#"{"trigger":"client:add","appUser":{"_id":"\ud83d"}}"#).unwrap();
    assert_eq!(
        event.validate_at(now()).unwrap_err().issues()[0].path,
        "appUser._id"
    );
}

#[test]
fn empty_item_and_external_message_ids() {
    assert_eq!(
        problems(
            r#"{"trigger":"message:appMaker","appUser":{"_id":"u"},"messages":[{"_id":"m","role":"appMaker",
                "items":[{"title":"t","_id":""}]}]}"#
        ),
        ["messages[0].items[0]._id: is empty"]
    );
    assert_eq!(
        problems(r#"{"trigger":"message:delivery:channel","externalMessages":[{"id":"a"},{"id":""}]}"#),
        ["externalMessages[1].id: is empty"]
    );
}

#[test]
fn an_empty_referral_code_with_or_without_a_source() {
    for source in ["", r#","source":{"type":"messenger"}"#] {
        let body = format!(
            r#"{{"trigger":"conversation:referral","appUser":{{"_id":"u"}},"referral":{{"code":""}}{source}}}"#
        );
        assert_eq!(problems(&body), ["referral.code: is empty"], "{body}");
    }
    assert_eq!(
        problems(r#"{"trigger":"conversation:referral","appUser":{"_id":"u"}}"#),
        ["referral: is missing"]
    );
}

#[test]
fn a_lone_surrogate_is_read_as_the_replacement_character_and_reported() {
    let body = br#"{"trigger":"message:appUser","appUser":{"_id":"u"},
        "messages":[{"_id":"m","role":"appUser","text":"Hi \ud83d"}]}"#;
    let event = parse_event(body).unwrap();
    assert_eq!(event.messages()[0].text.as_deref(), Some("Hi \u{FFFD}"));
    assert_eq!(
        event.validate_at(now()).unwrap_err().issues()[0].to_string(),
        "advice: messages[0].text: holds U+FFFD, the replacement character (a lone surrogate escape, such as \
         half an emoji, was replaced)"
    );
}

#[test]
fn fields_the_docs_say_are_always_sent() {
    assert_eq!(
        problems(
            r#"{"trigger":"message:appUser","app":{},"appUser":{"_id":"u","clients":[{"id":"c"}]},
                "messages":[{"_id":"m","role":"appUser","source":{},"coordinates":{"lat":1},
                "actions":[{"text":"Go"}],"items":[{"_id":"i"}]}]}"#
        ),
        [
            "app._id: is missing",
            "messages[0].source.type: is missing",
            "messages[0].actions[0].type: is missing",
            "messages[0].coordinates.long: is missing",
            "messages[0].items[0].title: is missing",
            "appUser.clients[0].platform: is missing",
        ]
    );
    assert_eq!(
        problems(
            r#"{"trigger":"delivery:failure","appUser":{"_id":"u"},"messages":[{"_id":"m"}],"error":{}}"#
        ),
        ["error.code: is missing"]
    );
    assert_eq!(
        problems(r#"{"trigger":"typing:appUser","activity":{},"appUser":{}}"#),
        ["activity.type: is missing", "appUser._id: is missing"]
    );
}
