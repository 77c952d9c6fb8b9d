//! An ISO time comes back exactly as it was sent, whatever its spelling, and reads as the same
//! instant as Smooch's own spelling: `createdAt`, `received`, `lastSeen` and `signedUpAt`.

use crate::common::{ms, parse_v2_json, TIME_SPELLINGS};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use smooch_events::v2;

fn v2_body(time: &str) -> Value {
    json!({"events": [
        {"id": "e1", "createdAt": time, "type": "conversation:message", "payload": {
            "message": {"id": "m", "received": time, "author": {"type": "user",
                "user": {"id": "u", "signedUpAt": time}}}}},
        {"id": "e2", "createdAt": time, "type": "client:add", "payload": {
            "client": {"id": "k", "lastSeen": time}}}
    ]})
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
fn times_come_back_in_every_spelling() {
    for (spelling, _) in TIME_SPELLINGS {
        let body = v2_body(spelling);
        let parsed = parse_v2_json(&body);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), body, "{spelling}");
        let received = parsed.events[0].message().unwrap().received.as_ref().unwrap();
        assert_eq!(received.to_string(), spelling);
    }
}

#[test]
fn times_in_every_spelling_read_as_smooch_s_spelling() {
    for (spelling, canonical) in TIME_SPELLINGS {
        let times = v2_times(&parse_v2_json(&v2_body(spelling)));
        assert_eq!(times, v2_times(&parse_v2_json(&v2_body(canonical))), "{spelling}");
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
    let body = parse_v2_json(&v2_body("2020-09-30T18:00:56.820Z"));
    let received = body.events[0].message().unwrap().received.as_ref().unwrap();
    assert_eq!(received.sent_as(), None);
    let body = parse_v2_json(&v2_body("2020-09-30T18:00:56Z"));
    let received = body.events[0].message().unwrap().received.as_ref().unwrap();
    assert_eq!(received.sent_as(), Some("2020-09-30T18:00:56Z"));
}
