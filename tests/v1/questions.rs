//! The next questions a bot asks, on `v1::Event` where v1 has the answer: whether the user or
//! the business wrote it, where the user is, which users a merge joined, which referral brought the
//! user; the names v1 shares with v2 (`user_id`, `created_at`, `DeliveryView::message_id`), with
//! the old names kept as deprecated aliases; and channels that compare by value. Each is checked
//! on every v1 body against its JSON read by hand, and with the values of the fixtures that carry
//! an answer.

use crate::common::{fixture, ms, parse, v1_bodies};
use serde_json::Value;
use smooch_events::v1::Platform;
use smooch_events::Event;

/// Every v1 body, parsed, with its JSON as sent.
fn every_body() -> Vec<(String, Event, Value)> {
    let bodies: Vec<_> = v1_bodies()
        .into_iter()
        .map(|name| {
            let json = serde_json::from_slice(&fixture(&name)).unwrap();
            let event = parse(&name);
            (name, event, json)
        })
        .collect();
    assert!(bodies.len() >= 57, "{}", bodies.len());
    bodies
}

/// The string at `pointer` in `json`, if there is one.
fn text<'a>(json: &'a Value, pointer: &str) -> Option<&'a str> {
    json.pointer(pointer)?.as_str()
}

#[test]
fn who_wrote_or_did_it_on_every_body() {
    let (mut users, mut businesses) = (0, 0);
    for (name, event, json) in every_body() {
        let trigger = json["trigger"].as_str().unwrap();
        let role = text(&json, "/messages/0/role");
        let (user, business) = match trigger {
            "message:appUser" | "message:appMaker" => {
                let role = role.unwrap_or(if trigger == "message:appUser" {
                    "appUser"
                } else {
                    "appMaker"
                });
                (role == "appUser", matches!(role, "appMaker" | "whisper"))
            }
            "postback" | "conversation:read" | "typing:appUser" => (true, false),
            _ => (false, false),
        };
        assert_eq!(event.is_from_user(), user, "{name}");
        assert_eq!(event.is_from_business(), business, "{name}");
        for (i, message) in event.messages().iter().enumerate() {
            let role = text(&json, &format!("/messages/{i}/role")).or_else(|| text(&json, "/message/role"));
            assert_eq!(message.is_from_user(), role == Some("appUser"), "{name}");
            assert_eq!(
                message.is_from_business(),
                matches!(role, Some("appMaker" | "whisper")),
                "{name}"
            );
        }
        users += usize::from(user);
        businesses += usize::from(business);
    }
    assert_eq!((users, businesses), (35, 3));
    // A message without a role is the trigger's.
    let event = smooch_events::parse_event(
        br#"{"trigger": "message:appMaker", "appUser": {"_id": "u"}, "messages": [{"_id": "m", "text": "Hi"}]}"#,
    )
    .unwrap();
    assert!(event.is_from_business() && !event.is_from_user());
    assert!(
        !event.messages()[0].is_from_business(),
        "the message itself says nothing"
    );
}

#[test]
fn where_the_user_is_on_every_message() {
    let mut located = 0;
    for (name, event, json) in every_body() {
        for (i, message) in event.messages().iter().enumerate() {
            let coordinates = &json["messages"][i]["coordinates"];
            match message.location() {
                Some(location) => {
                    located += 1;
                    assert_eq!(Some(location.latitude), coordinates["lat"].as_f64(), "{name}");
                    assert_eq!(Some(location.longitude), coordinates["long"].as_f64(), "{name}");
                    assert_eq!((location.name, location.address), (None, None), "{name}");
                }
                None => assert!(coordinates.is_null(), "{name}"),
            }
        }
    }
    assert_eq!(located, 2);
    let event = parse("message_appUser_location.json");
    let location = event.messages()[0].location().unwrap();
    assert_eq!((location.latitude, location.longitude), (45.5261583, -73.595346));
}

#[test]
fn which_users_a_merge_joined_on_every_body() {
    for (name, event, json) in every_body() {
        let merge = json["trigger"] == "merge:appUser";
        let at = |pointer: &str| if merge { text(&json, pointer) } else { None };
        assert_eq!(event.surviving_user_id(), at("/surviving/_id"), "{name}");
        assert_eq!(event.discarded_user_id(), at("/discarded/0/_id"), "{name}");
    }
    let merge = parse("merge_appUser.json");
    assert_eq!(merge.surviving_user_id(), Some("a79a0ecfba3260bf145be257"));
    assert_eq!(merge.discarded_user_id(), Some("1ac30dad829178f6378f61f4"));
    assert_eq!(merge.user_id(), merge.surviving_user_id());
}

#[test]
fn which_referral_brought_the_user_on_every_body() {
    let mut referred = 0;
    for (name, event, json) in every_body() {
        assert_eq!(
            event.referral().and_then(|referral| referral.code.as_deref()),
            text(&json, "/referral/code"),
            "{name}"
        );
        assert_eq!(event.referral().is_some(), json["referral"].is_object(), "{name}");
        referred += usize::from(event.referral().is_some());
    }
    assert_eq!(referred, 5);
    let start = parse("written/conversation_start_wechat_referral_code_only.json");
    assert_eq!(
        start.referral().unwrap().code.as_deref(),
        Some("qrscene_store-42")
    );
    assert_eq!(start.referral().unwrap().details, None);
}

#[test]
fn user_id_and_created_at_are_the_names_v2_gives_them() {
    for (name, event, json) in every_body() {
        let user = match json["trigger"].as_str().unwrap() {
            "merge:appUser" => text(&json, "/surviving/_id"),
            _ => text(&json, "/appUser/_id"),
        };
        assert_eq!(event.user_id(), user, "{name}");
        #[allow(deprecated)]
        {
            assert_eq!(event.app_user_id(), event.user_id(), "{name}");
            assert_eq!(event.timestamp(), event.created_at(), "{name}");
        }
    }
    let start = parse("conversation_start.json");
    assert_eq!(ms(start.created_at()), 1480349392103);
    // A message event has no `timestamp`: the first message's `received`.
    assert_eq!(ms(parse("message_appUser_text.json").created_at()), 1444348338704);
}

#[test]
fn a_delivery_names_its_message_as_v2_does() {
    let delivery = parse("written/message_delivery_channel.json");
    let view = delivery.delivery().unwrap();
    assert_eq!(view.message_id, Some("5c3cbf1f0db8d0a2b4d4a11d"));
    #[allow(deprecated)]
    {
        assert_eq!(view.message_id(), view.message_id);
    }
    assert_eq!(
        parse("delivery_failure.json").delivery().unwrap().message_id,
        Some("583708af8d449209ba217871")
    );
}

#[test]
fn channels_compare_by_value() {
    let event = parse("message_appUser_text.json");
    assert!(event.channel() == Some(Platform::Messenger));
    assert!(event.messages()[0].channel() == Some(Platform::Messenger));
    let delivery = parse("delivery_failure.json");
    assert!(delivery.delivery().unwrap().channel() == Some(Platform::Line));
    assert!(delivery.channel() == Some(Platform::Line));
}
