//! The audit bot's questions (issue 24), each answered on the current API as a new user would
//! write it, on the fixtures that carry the answer: not one call of `as_ref` or `and_then` in this
//! file (the last test reads the file to hold it to that).

mod common;

use chrono::{NaiveTime, Timelike};
use common::{fixture, now};
use smooch_events::v2::{self, ChannelType, Event, EventType};
use smooch_events::{parse_webhook, IncomingKind, Webhook};

/// A v2 fixture.
fn body(name: &str) -> v2::Body {
    match parse_webhook(&fixture(name)).unwrap() {
        Webhook::V2(body) => *body,
        other => panic!("{name}: {other:?}"),
    }
}

/// The events of a v2 fixture.
fn events(name: &str) -> Vec<Event> {
    body(name).events
}

/// The only event of a v2 fixture.
fn event(name: &str) -> Event {
    let [event] = <[Event; 1]>::try_from(events(name)).unwrap();
    event
}

#[test]
fn any_field_of_a_payload_is_one_step_away() {
    let Event::ConversationMessage(e) = event("v2/conversation_message.json") else {
        panic!()
    };
    let Some(message) = &e.payload().message else {
        panic!()
    };
    assert_eq!(message.text(), Some("hello"));
    // A `user:merge`'s discarded user: one call.
    let merge = event("v2/user_merge.json");
    assert_eq!(merge.discarded_user_id(), Some("1a64f7f75028fef55f815007"));
    assert_eq!(merge.surviving_user_id(), Some("26508c10541a4b0ff472e5e2"));
}

#[test]
fn which_integration_is_in_control_and_which_is_offered_it() {
    let offer = event("v2/switchboard_offerControl.json");
    let Some(active) = offer.integration_in_control() else {
        panic!()
    };
    let Some(offered) = offer.integration_offered_control() else {
        panic!()
    };
    assert_eq!(
        (active.name, active.id),
        (Some("bot"), Some("5eecde2dcdbffb08f5c3ed37"))
    );
    assert_eq!(
        (offered.name, offered.id),
        (Some("human"), Some("5eece1cacdbffb08f5c3ed43"))
    );
}

#[test]
fn is_this_message_from_a_user() {
    let event = event("v2/conversation_message.json");
    assert!(event.is_from_user());
    assert!(!event.is_from_business());
    let Some(message) = event.message() else { panic!() };
    assert!(message.is_from_user());
}

#[test]
fn where_the_user_is() {
    let events = events("v2/written/content_types.json");
    let Some(message) = events[5].message() else {
        panic!()
    };
    let Some(location) = message.location() else {
        panic!()
    };
    assert_eq!((location.latitude, location.longitude), (45.5261583, -73.595346));
    assert_eq!(location.name, Some("Zendesk"));
    assert_eq!(location.address, Some("5333 Avenue Casgrain, Montreal"));
}

#[test]
fn is_this_event_on_whatsapp() {
    let event = event("v2/written/channels/whatsapp.json");
    assert!(event.channel() == Some(ChannelType::Whatsapp));
    let Some(message) = event.message() else { panic!() };
    assert!(message.channel() == Some(ChannelType::Whatsapp));
}

#[test]
fn filter_and_count_events_by_type() {
    let events = events("v2/written/content_types.json");
    let messages = events
        .iter()
        .filter(|event| event.kind() == EventType::ConversationMessage)
        .count();
    assert_eq!(messages, 9);
    assert_eq!(events[0].kind().as_str(), "conversation:message");
}

#[test]
fn drop_retried_events() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2 {
        let body = body("v2/written/several_events.json");
        for event in &body.events {
            let Some(key) = event.dedupe_key(body.app_id()) else {
                panic!()
            };
            seen.insert(key);
        }
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn the_time_of_day_of_an_event() {
    let event = event("v2/written/channels/whatsapp.json");
    let Some(created) = event.created_at() else {
        panic!()
    };
    assert_eq!(
        created.time(),
        NaiveTime::from_hms_milli_opt(10, 15, 50, 120).unwrap()
    );
    // On an `IsoTime` too, chrono's `time()` is the time of day; `to_utc()` the `DateTime<Utc>`.
    let Some(message) = event.message() else { panic!() };
    let Some(received) = &message.received else {
        panic!()
    };
    assert_eq!(received.time().hour(), 10);
    assert_eq!(received.to_utc().timestamp_millis(), 1712052950020);
}

#[test]
fn one_handler_for_v1_and_v2() {
    let mut answers = Vec::new();
    for name in ["message_appUser_text.json", "v2/conversation_message.json"] {
        let webhook = parse_webhook(&fixture(name)).unwrap();
        for item in webhook.incoming() {
            if let IncomingKind::Message(message) = &item.kind {
                let said = (item.user_id, message.is_from_user(), message.text);
                answers.push(format!("{said:?}"));
            }
        }
    }
    assert_eq!(
        answers,
        [
            r#"(Some("c7f6e6d6c3a637261bd9656f"), true, Some("Hi! Do you have time to chat?"))"#,
            r#"(Some("26508c10541a4b0ff472e5e2"), true, Some("hello"))"#,
        ]
    );
}

#[test]
fn read_a_validation_report() {
    let webhook = parse_webhook(
        br#"{"app": {"id": ""}, "events": [{"id": "e", "type": "conversation:message",
            "createdAt": "2024-06-01T12:00:00.000Z",
            "payload": {"message": {"id": "m", "author": {"type": "user"}, "content": {"type": "image"}}}}]}"#,
    )
    .unwrap();
    let Err(problems) = webhook.validate_at(now()) else {
        panic!()
    };
    assert_eq!(
        problems.to_string(),
        "webhook: 2 problems: advice: app.id: is empty; \
         spec: events[0].payload.message.content.mediaUrl: is missing"
    );
}

#[test]
fn this_file_takes_no_as_ref_and_no_and_then() {
    let source = include_str!("audit.rs");
    for forbidden in [concat!(".as_", "ref()"), concat!(".and_", "then(")] {
        assert!(!source.contains(forbidden), "{forbidden} in tests/audit.rs");
    }
}
