//! An ISO time comes back exactly as it was sent, whatever its spelling, and reads as the same
//! instant as Smooch's own spelling: v1 `signedUpAt` and `lastSeen`, v2 `createdAt`, `received`,
//! `lastSeen` and `signedUpAt`.

mod common;

use chrono::{DateTime, Utc};
use common::ms;
use serde_json::{json, Value};
use smooch_events::{parse_event, parse_webhook, v2, Event, Webhook};

/// Each spelling, with the way Smooch writes the same instant (JavaScript's `toISOString`).
const SPELLINGS: [(&str, &str); 6] = [
    ("2020-09-30T18:00:56.820Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T18:00:56Z", "2020-09-30T18:00:56.000Z"),
    ("2020-09-30T18:00:56.82Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T20:00:56.820+02:00", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30T18:00:56.820000Z", "2020-09-30T18:00:56.820Z"),
    ("2020-09-30t18:00:56.820z", "2020-09-30T18:00:56.820Z"),
];

fn v1_body(time: &str) -> Value {
    json!({
        "trigger": "conversation:start",
        "appUser": {"_id": "c7f6e6d6c3a637261bd9656f", "signedUpAt": time,
                    "clients": [{"platform": "web", "lastSeen": time}]}
    })
}

fn v2_body(time: &str) -> Value {
    json!({"events": [
        {"id": "e1", "createdAt": time, "type": "conversation:message", "payload": {
            "message": {"id": "m", "received": time, "author": {"type": "user",
                "user": {"id": "u", "signedUpAt": time}}}}},
        {"id": "e2", "createdAt": time, "type": "client:add", "payload": {
            "client": {"id": "k", "lastSeen": time}}}
    ]})
}

fn parse_v1(body: &Value) -> Event {
    parse_event(body.to_string().as_bytes()).unwrap()
}

fn parse_v2(body: &Value) -> v2::Body {
    match parse_webhook(body.to_string().as_bytes()).unwrap() {
        Webhook::V2(parsed) => *parsed,
        other => panic!("{other:?}"),
    }
}

/// The v1 times of a body: `signedUpAt`, `lastSeen`.
fn v1_times(event: &Event) -> [DateTime<Utc>; 2] {
    let user = event.app_user().unwrap();
    [
        **user.signed_up_at.as_ref().unwrap(),
        **user.clients()[0].last_seen.as_ref().unwrap(),
    ]
}

/// The v2 times of a body: `createdAt` (twice), `received`, `signedUpAt`, `lastSeen`.
fn v2_times(body: &v2::Body) -> [DateTime<Utc>; 5] {
    let v2::Event::ClientAdd(add) = &body.events[1] else {
        panic!("{:?}", body.events[1])
    };
    let client = add.payload.as_ref().unwrap().client.as_ref().unwrap();
    let message = body.events[0].message().unwrap();
    [
        body.events[0].created_at().unwrap(),
        body.events[1].created_at().unwrap(),
        **message.received.as_ref().unwrap(),
        **body.events[0].user().unwrap().signed_up_at.as_ref().unwrap(),
        **client.last_seen.as_ref().unwrap(),
    ]
}

#[test]
fn v1_times_come_back_in_every_spelling() {
    for (spelling, _) in SPELLINGS {
        let body = v1_body(spelling);
        let event = parse_v1(&body);
        assert_eq!(serde_json::to_value(&event).unwrap(), body, "{spelling}");
        let user = event.app_user().unwrap();
        assert_eq!(user.signed_up_at.as_ref().unwrap().to_string(), spelling);
    }
}

#[test]
fn v2_times_come_back_in_every_spelling() {
    for (spelling, _) in SPELLINGS {
        let body = v2_body(spelling);
        let parsed = parse_v2(&body);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), body, "{spelling}");
        let received = parsed.events[0].message().unwrap().received.as_ref().unwrap();
        assert_eq!(received.to_string(), spelling);
    }
}

#[test]
fn v1_times_in_every_spelling_read_as_smooch_s_spelling() {
    for (spelling, canonical) in SPELLINGS {
        let times = v1_times(&parse_v1(&v1_body(spelling)));
        assert_eq!(times, v1_times(&parse_v1(&v1_body(canonical))), "{spelling}");
        let expected = if canonical.ends_with("56.000Z") {
            1601488856000
        } else {
            1601488856820
        };
        assert_eq!(times.map(|time| ms(Some(time))), [expected; 2], "{spelling}");
    }
}

#[test]
fn v2_times_in_every_spelling_read_as_smooch_s_spelling() {
    for (spelling, canonical) in SPELLINGS {
        let times = v2_times(&parse_v2(&v2_body(spelling)));
        assert_eq!(times, v2_times(&parse_v2(&v2_body(canonical))), "{spelling}");
        let expected = if canonical.ends_with("56.000Z") {
            1601488856000
        } else {
            1601488856820
        };
        assert_eq!(times.map(|time| ms(Some(time))), [expected; 5], "{spelling}");
    }
}

#[test]
fn smooch_s_own_spelling_keeps_no_text() {
    // The usual spelling is the fast path: nothing kept beside the time.
    let body = parse_v2(&v2_body("2020-09-30T18:00:56.820Z"));
    let received = body.events[0].message().unwrap().received.as_ref().unwrap();
    assert_eq!(received.sent_as(), None);
    let body = parse_v2(&v2_body("2020-09-30T18:00:56Z"));
    let received = body.events[0].message().unwrap().received.as_ref().unwrap();
    assert_eq!(received.sent_as(), Some("2020-09-30T18:00:56Z"));
}
