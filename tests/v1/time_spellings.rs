//! An ISO time comes back exactly as it was sent, whatever its spelling, and reads as the same
//! instant as Smooch's own spelling: v1 `signedUpAt` and `lastSeen`.

use crate::common::{ms, parse_v1_json, TIME_SPELLINGS};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use smooch_events::Event;

fn v1_body(time: &str) -> Value {
    json!({
        "trigger": "conversation:start",
        "appUser": {"_id": "c7f6e6d6c3a637261bd9656f", "signedUpAt": time,
                    "clients": [{"platform": "web", "lastSeen": time}]}
    })
}

/// The v1 times of a body: `signedUpAt`, `lastSeen`.
fn v1_times(event: &Event) -> [DateTime<Utc>; 2] {
    let user = event.app_user().unwrap();
    [
        **user.signed_up_at.as_ref().unwrap(),
        **user.clients()[0].last_seen.as_ref().unwrap(),
    ]
}

#[test]
fn times_come_back_in_every_spelling() {
    for (spelling, _) in TIME_SPELLINGS {
        let body = v1_body(spelling);
        let event = parse_v1_json(&body);
        assert_eq!(serde_json::to_value(&event).unwrap(), body, "{spelling}");
        let user = event.app_user().unwrap();
        assert_eq!(user.signed_up_at.as_ref().unwrap().to_string(), spelling);
    }
}

#[test]
fn times_in_every_spelling_read_as_smooch_s_spelling() {
    for (spelling, canonical) in TIME_SPELLINGS {
        let times = v1_times(&parse_v1_json(&v1_body(spelling)));
        assert_eq!(times, v1_times(&parse_v1_json(&v1_body(canonical))), "{spelling}");
        let expected = if canonical.ends_with("56.000Z") {
            1601488856000
        } else {
            1601488856820
        };
        assert_eq!(times.map(|time| ms(Some(time))), [expected; 2], "{spelling}");
    }
}
