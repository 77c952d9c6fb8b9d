//! `v2::Body::validate_at`: each rule fires with its path from the body.

use crate::common::now;
use serde_json::{json, Value};
use smooch_events::parse_webhook;

/// The problems of a body holding `events`, as `path: message` lines.
fn problems(events: Value) -> Vec<String> {
    let body = json!({"app": {"id": "a"}, "webhook": {"id": "w", "version": "v2"}, "events": events});
    let webhook = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert!(webhook.is_v2());
    match webhook.validate_at(now()) {
        Ok(()) => Vec::new(),
        Err(errors) => {
            assert_eq!(errors.subject(), "webhook");
            errors
                .issues()
                .iter()
                .map(|issue| format!("{}: {}", issue.path, issue.message))
                .collect()
        }
    }
}

/// An event of `kind` with a good id and time.
fn event(kind: &str, payload: Value) -> Value {
    json!({"id": "e", "createdAt": "2024-06-01T12:00:00.000Z", "type": kind, "payload": payload})
}

/// A `conversation:message` event with this message.
fn message(message: Value) -> Value {
    event(
        "conversation:message",
        json!({"conversation": {"id": "c"}, "message": message}),
    )
}

/// A `conversation:message` event whose message has this content.
fn content(content: Value) -> Value {
    message(json!({"id": "m", "author": {"type": "business"}, "content": content}))
}

#[test]
fn a_clean_body_has_no_problem() {
    assert_eq!(
        problems(json!([content(json!({"type": "text", "text": "hi"}))])),
        Vec::<String>::new()
    );
    assert_eq!(problems(json!([])), Vec::<String>::new());
}

#[test]
fn empty_ids() {
    let body = json!({"app": {"id": ""}, "webhook": {"id": " "}, "events": [
        {"id": "", "createdAt": "2024-06-01T12:00:00.000Z", "type": "conversation:message:delivery:channel",
         "payload": {"conversation": {"id": "", "activeSwitchboardIntegration": {"id": ""}},
                     "user": {"id": ""}, "message": {"id": ""}, "externalMessages": [{"id": ""}]}}
    ]});
    let webhook = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let found: Vec<String> = webhook
        .validate_at(now())
        .unwrap_err()
        .into_iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(
        found,
        [
            "advice: app.id: is empty",
            "advice: webhook.id: is empty",
            "advice: events[0].id: is empty",
            "advice: events[0].payload.user.id: is empty",
            "advice: events[0].payload.conversation.id: is empty",
            "advice: events[0].payload.conversation.activeSwitchboardIntegration.id: is empty",
            "advice: events[0].payload.message.id: is empty",
            "advice: events[0].payload.externalMessages[0].id: is empty",
        ]
    );
    // Missing ids of the objects that have one.
    assert_eq!(
        problems(json!([event(
            "client:update",
            json!({"conversation": {}, "user": {}, "client": {}})
        )])),
        [
            "events[0].payload.conversation.id: is missing",
            "events[0].payload.user.id: is missing",
            "events[0].payload.client.id: is missing",
        ]
    );
}

#[test]
fn an_event_without_id_created_at_or_payload() {
    assert_eq!(
        problems(json!([{"type": "user:remove"}])),
        [
            "events[0].id: is missing",
            "events[0].createdAt: is missing",
            "events[0].payload: is missing"
        ]
    );
}

#[test]
fn implausible_times() {
    let mut old = event("user:remove", json!({}));
    old["createdAt"] = json!("2001-09-09T01:46:40.000Z");
    let mut future = event("user:remove", json!({}));
    future["createdAt"] = json!("2025-01-03T00:00:00.000Z");
    let received = message(json!({"id": "m", "received": "1969-12-31T23:59:59.000Z"}));
    assert_eq!(
        problems(json!([old, future, received])),
        [
            "events[0].createdAt: is before 2010 (2001-09-09T01:46:40.000Z)",
            "events[1].createdAt: is more than a day in the future (2025-01-03T00:00:00.000Z)",
            "events[2].payload.message.received: is negative (1969-12-31T23:59:59.000Z)",
        ]
    );
}

#[test]
fn a_value_of_another_type_is_reported_where_it_is_kept() {
    let mut bad = event(
        "user:remove",
        json!({"user": {"id": "u", "signedUpAt": "yesterday"}}),
    );
    bad["createdAt"] = json!(1717243200000u64);
    assert_eq!(
        problems(json!([bad])),
        [
            "events[0].payload.user.signedUpAt: expected an ISO-8601 time, found the string \"yesterday\"",
            "events[0].createdAt: expected an ISO-8601 time, found the number 1717243200000",
        ]
    );
}

#[test]
fn failure_events_need_an_error() {
    assert_eq!(
        problems(json!([
            event(
                "conversation:message:delivery:failure",
                json!({"message": {"id": "m"}})
            ),
            event(
                "conversation:message:delivery:failure",
                json!({"error": {"code": " "}})
            ),
            event(
                "switchboard:acceptControl:failure",
                json!({"conversation": {"id": "c"}})
            ),
            event("switchboard:offerControl:failure", json!({"error": {"code": ""}})),
            event(
                "switchboard:passControl:failure",
                json!({"error": {"message": "no code, no problem"}})
            ),
            // Not a failure: no error needed.
            event("conversation:message:delivery:channel", json!({})),
            // `null` is no error.
            event("switchboard:passControl:failure", json!({"error": null})),
        ])),
        [
            "events[0].payload.error: is missing on a failure event",
            "events[1].payload.error.code: is empty",
            "events[2].payload.error: is missing on a failure event",
            "events[3].payload.error.code: is empty",
            "events[6].payload.error: is missing on a failure event",
        ]
    );
    // The delivery error's code is expected; an error of another type is kept and reported once.
    assert_eq!(
        problems(json!([
            event(
                "conversation:message:delivery:failure",
                json!({"error": {"message": "?"}})
            ),
            event("conversation:message:delivery:failure", json!({"error": "boom"})),
        ])),
        [
            "events[0].payload.error.code: is missing",
            "events[1].payload.error: expected an error object, found the string \"boom\"",
        ]
    );
}

#[test]
fn a_message_source_needs_its_type() {
    let source = json!({"integrationId": "i"});
    let recent = event(
        "conversation:message",
        json!({"recentNotifications": [{"id": "n", "source": source}]}),
    );
    let quoted = message(json!({"id": "m", "source": {"type": "web"},
        "quotedMessage": {"type": "message", "message": {"id": "q", "source": source}}}));
    assert_eq!(
        problems(json!([
            message(json!({"id": "m", "source": source})),
            recent,
            quoted
        ])),
        [
            "events[0].payload.message.source.type: is missing",
            "events[1].payload.recentNotifications[0].source.type: is missing",
            "events[2].payload.message.quotedMessage.message.source.type: is missing",
        ]
    );
    // Other sources need nothing.
    assert_eq!(
        problems(json!([event("user:update", json!({"source": {}}))])),
        Vec::<String>::new()
    );
}

#[test]
fn a_tagged_object_needs_a_string_type() {
    assert_eq!(
        problems(json!([
            {"id": "e", "createdAt": "2024-06-01T12:00:00.000Z", "payload": {}},
            {"id": "f", "createdAt": "2024-06-01T12:00:00.000Z", "type": ["user:remove"]},
            content(json!({"text": "no type"})),
            content(json!({"type": "text", "actions": [{"text": "no type"}]})),
            message(json!({"id": "m", "quotedMessage": {"message": {}}})),
            message(json!({"id": "m", "quotedMessage": {"type": "message", "message": {"id": "q", "activity": {"data": {}}}}})),
        ])),
        [
            "events[0].type: is missing",
            "events[1].type: expected a string, found an array",
            "events[2].payload.message.content.type: is missing",
            "events[3].payload.message.content.actions[0].type: is missing",
            "events[4].payload.message.quotedMessage.type: is missing",
            "events[5].payload.message.quotedMessage.message.activity.type: is missing",
        ]
    );
}

#[test]
fn what_each_content_type_requires() {
    assert_eq!(
        problems(json!([
            content(json!({"type": "image"})),
            content(json!({"type": "file"})),
            content(json!({"type": "carousel"})),
            content(json!({"type": "list"})),
            content(json!({"type": "location", "coordinates": {"lat": 1}})),
            content(json!({"type": "form"})),
            content(json!({"type": "formResponse"})),
            content(json!({"type": "template"})),
            content(json!({"type": "text"})),
        ])),
        [
            "events[0].payload.message.content.mediaUrl: is missing",
            "events[1].payload.message.content.mediaUrl: is missing",
            "events[2].payload.message.content.items: is missing",
            "events[3].payload.message.content.items: is missing",
            "events[4].payload.message.content.coordinates.long: is missing",
            "events[5].payload.message.content.fields: is missing",
            "events[6].payload.message.content.fields: is missing",
            "events[7].payload.message.content.template: is missing",
        ]
    );
}

#[test]
fn items_fields_references_and_authors() {
    assert_eq!(
        problems(json!([
            content(json!({"type": "carousel", "items": [{}]})),
            content(json!({"type": "form", "fields": [{"type": "text"}]})),
            message(json!({"id": "m", "author": {"userId": "u"},
                "quotedMessage": {"type": "message", "message": {"id": "q", "references": [{"title": "t"}]}}})),
        ])),
        [
            "events[0].payload.message.content.items[0].title: is missing",
            "events[0].payload.message.content.items[0].actions: is missing",
            "events[1].payload.message.content.fields[0].name: is missing",
            "events[1].payload.message.content.fields[0].label: is missing",
            "events[2].payload.message.author.type: is missing",
            "events[2].payload.message.quotedMessage.message.references[0].uri: is missing",
        ]
    );
}

#[test]
fn what_each_action_type_requires() {
    assert_eq!(
        problems(json!([content(json!({"type": "text", "actions": [
            {"type": "buy"},
            {"type": "link", "text": "t"},
            {"type": "locationRequest"},
            {"type": "postback", "text": "t"},
            {"type": "reply", "text": "t"},
            {"type": "webview", "text": "t", "uri": "u"},
            {"type": "share"},
        ]}))])),
        [
            "events[0].payload.message.content.actions[0].text: is missing",
            "events[0].payload.message.content.actions[0].amount: is missing",
            "events[0].payload.message.content.actions[1].uri: is missing",
            "events[0].payload.message.content.actions[2].text: is missing",
            "events[0].payload.message.content.actions[3].payload: is missing",
            "events[0].payload.message.content.actions[4].payload: is missing",
            "events[0].payload.message.content.actions[5].fallback: is missing",
        ]
    );
}

#[test]
fn items_and_lists_take_only_some_action_types() {
    let reply = json!({"type": "reply", "text": "t", "payload": "p"});
    let location = json!({"type": "locationRequest", "text": "t"});
    let link = json!({"type": "link", "text": "t", "uri": "u"});
    assert_eq!(
        problems(json!([
            content(json!({"type": "carousel", "items": [{"title": "t", "actions": [link, reply]}]})),
            content(json!({"type": "list", "items": [{"title": "t", "actions": [location]}], "actions": [reply]})),
            // A text message takes them all.
            content(json!({"type": "text", "actions": [reply, location]})),
        ])),
        [
            "events[0].payload.message.content.items[0].actions[1].type: `reply` is not allowed here (items and lists take buy, link, postback and webview)",
            "events[1].payload.message.content.items[0].actions[0].type: `locationRequest` is not allowed here (items and lists take buy, link, postback and webview)",
            "events[1].payload.message.content.actions[0].type: `reply` is not allowed here (items and lists take buy, link, postback and webview)",
        ]
    );
}

#[test]
fn an_empty_referral_code() {
    assert_eq!(
        problems(json!([
            event("conversation:referral", json!({"referral": {"code": ""}})),
            event(
                "conversation:create",
                json!({"referral": {"code": " ", "details": {}}})
            ),
            // No code at all is what the spec's own example sends.
            event("conversation:referral", json!({"referral": {}})),
        ])),
        [
            "events[0].payload.referral.code: is empty",
            "events[1].payload.referral.code: is empty"
        ]
    );
}

#[test]
fn an_unknown_event_is_checked_for_its_id_and_time() {
    assert_eq!(
        problems(json!([
            {"type": "passthrough:messaging", "payload": {"anything": [1]}},
            {"type": "passthrough:messaging", "id": 7, "createdAt": "later"},
            {"type": "passthrough:messaging", "id": "", "createdAt": "2001-09-09T01:46:40.000Z"},
            {"type": "passthrough:messaging", "id": "e", "createdAt": "2024-06-01T12:00:00.000Z"},
        ])),
        [
            "events[0].id: is missing",
            "events[0].createdAt: is missing",
            "events[1].id: expected a string, found the number 7",
            "events[1].createdAt: expected an ISO-8601 time, found the string \"later\"",
            "events[2].id: is empty",
            "events[2].createdAt: is before 2010 (2001-09-09T01:46:40.000Z)",
        ]
    );
}

#[test]
fn text_holding_the_replacement_character() {
    let body =
        br#"{"events":[{"id":"e","createdAt":"2024-06-01T12:00:00.000Z","type":"passthrough:messaging",
        "payload":{"note":"cut \udc00","\ud800key":1}}]}"#;
    let webhook = parse_webhook(body).unwrap();
    let found: Vec<String> = webhook
        .validate_at(now())
        .unwrap_err()
        .into_iter()
        .map(|i| i.path)
        .collect();
    assert_eq!(found, ["events[0].payload.note", "events[0].payload.\u{FFFD}key"]);
}

#[test]
fn problems_come_in_the_order_of_the_body_app_before_events() {
    // Generic problems, a rule of an event type (a failure without `error`) and U+FFFD in a text,
    // all placed where they stand in the body as it is written back.
    let body = json!({"app": {"id": ""}, "webhook": {"id": "w"}, "events": [
        {"id": "", "createdAt": "2024-06-01T12:00:00.000Z", "type": "conversation:message",
         "payload": {"conversation": {"id": "c"}, "message": {"id": "m", "author": {"type": "user"},
             "content": {"type": "text", "text": "Hi \u{FFFD}"}, "received": 7}}},
        {"id": "f", "createdAt": "2024-06-01T12:00:00.000Z", "type": "switchboard:passControl:failure",
         "payload": {"conversation": {"id": ""}}}
    ]});
    let webhook = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let problems = webhook.validate_at(now()).unwrap_err();
    let paths: Vec<&str> = problems
        .issues()
        .iter()
        .map(|issue| issue.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "app.id",
            "events[0].id",
            "events[0].payload.message.content.text",
            "events[0].payload.message.received",
            "events[1].payload.conversation.id",
            // Missing, so nowhere in the body: after the rest of its object.
            "events[1].payload.error",
        ]
    );
}

#[test]
fn the_one_line_display_names_each_problem_s_kind() {
    let body = json!({"app": {"id": ""}, "events": [
        {"id": "e", "createdAt": 7, "type": "conversation:message",
         "payload": {"message": {"id": "m", "author": {}}}}]});
    let webhook = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let problems = webhook.validate_at(now()).unwrap_err();
    assert_eq!(
        problems.to_string(),
        "webhook: 3 problems: advice: app.id: is empty; \
         spec: events[0].payload.message.author.type: is missing; \
         kept: events[0].createdAt: expected an ISO-8601 time, found the number 7"
    );
    let kinds: Vec<String> = problems
        .issues()
        .iter()
        .map(|issue| issue.kind.to_string())
        .collect();
    assert_eq!(kinds, ["advice", "spec", "kept"]);
}
