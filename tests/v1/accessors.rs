//! Each v1 accessor on every fixture where it applies gives the fixture's values, and `None` (or
//! empty) on every other: `Event::source`, `channel`, `postback`, `delivery`, `error`, and
//! `Message::text`, `text_or_fallback`, `media_url`, `reply_payload`, `channel`.

use crate::common::{ms, parse};
use serde_json::json;
use smooch_events::v1::Platform;
use smooch_events::{parse_event, Event};

/// The 18 documented examples, by file name.
const EXAMPLES: [&str; 18] = [
    "conversation_read.json",
    "conversation_referral.json",
    "conversation_start.json",
    "delivery_failure.json",
    "delivery_success.json",
    "link_failure.json",
    "link_match.json",
    "link_success.json",
    "merge_appUser.json",
    "message_appMaker_carousel.json",
    "message_appMaker_list.json",
    "message_appMaker_text_metadata.json",
    "message_appUser_image.json",
    "message_appUser_location.json",
    "message_appUser_text.json",
    "message_appUser_text_guide.json",
    "payment_success.json",
    "postback.json",
];

#[test]
fn every_documented_event_names_where_it_came_from() {
    use Platform::{Api, Line, Messenger};
    // (file, source.type, channel): the channel is the source's, or a delivery's destination.
    let expected: [(&str, Option<Platform>, Option<Platform>); 18] = [
        ("conversation_read.json", Some(Messenger), Some(Messenger)),
        ("conversation_referral.json", Some(Messenger), Some(Messenger)),
        ("conversation_start.json", Some(Messenger), Some(Messenger)),
        ("delivery_failure.json", None, Some(Line)),
        ("delivery_success.json", None, Some(Line)),
        ("link_failure.json", None, None),
        ("link_match.json", None, None),
        ("link_success.json", None, None),
        ("merge_appUser.json", None, None),
        ("message_appMaker_carousel.json", Some(Api), Some(Api)),
        ("message_appMaker_list.json", Some(Api), Some(Api)),
        ("message_appMaker_text_metadata.json", Some(Api), Some(Api)),
        ("message_appUser_image.json", Some(Messenger), Some(Messenger)),
        ("message_appUser_location.json", Some(Messenger), Some(Messenger)),
        ("message_appUser_text.json", Some(Messenger), Some(Messenger)),
        (
            "message_appUser_text_guide.json",
            Some(Messenger),
            Some(Messenger),
        ),
        ("payment_success.json", Some(Messenger), Some(Messenger)),
        // The message that carried the button was the business's: its source says nothing of
        // the user's channel.
        ("postback.json", None, None),
    ];
    assert_eq!(expected.each_ref().map(|(name, ..)| *name), EXAMPLES);
    for (name, source, channel) in expected {
        let event = parse(name);
        assert_eq!(
            event.source().and_then(|source| source.kind.clone()),
            source,
            "{name}"
        );
        assert_eq!(event.channel(), channel, "{name}");
    }
    let wechat = parse("written/conversation_start_wechat_referral_code_only.json");
    assert_eq!(wechat.channel(), Some(Platform::Wechat));
}

#[test]
fn only_a_postback_body_has_a_postback() {
    for name in EXAMPLES {
        let event = parse(name);
        if name == "postback.json" {
            let postback = event.postback().unwrap();
            assert_eq!(postback.payload, Some("YES"));
            // The tapped action's label, not the one the message showed ("Yes").
            assert_eq!(postback.text, Some("Read more"));
            assert_eq!(postback.metadata, None);
        } else {
            assert_eq!(event.postback(), None, "{name}");
        }
    }
    let with_metadata = parse_event(
        json!({"trigger": "postback", "appUser": {"_id": "a"}, "postbacks": [{"action":
            {"type": "postback", "text": "Buy", "payload": "BUY", "metadata": {"sku": "T-1"}}}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let postback = with_metadata.postback().unwrap();
    assert_eq!(postback.payload, Some("BUY"));
    assert_eq!(postback.metadata.unwrap()["sku"], "T-1");
}

#[test]
fn every_delivery_trigger_gives_one_delivery() {
    // (file, message id, channel, external ids, final)
    let expected = [
        (
            "delivery_success.json",
            "5837079fd84370ef2c0dcabb",
            Platform::Line,
            vec![],
            None,
        ),
        (
            "delivery_failure.json",
            "583708af8d449209ba217871",
            Platform::Line,
            vec![],
            None,
        ),
        (
            "written/message_delivery_channel.json",
            "5c3cbf1f0db8d0a2b4d4a11d",
            Platform::Messenger,
            vec!["mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO"],
            Some(false),
        ),
        (
            "written/message_delivery_user.json",
            "5c3cbf1f0db8d0a2b4d4a11e",
            Platform::Whatsapp,
            vec!["gBEGkYiEB1VXAglK1ZEqA1YKPrU"],
            Some(true),
        ),
        (
            "written/message_delivery_failure.json",
            "5c3cbf1f0db8d0a2b4d4a11f",
            Platform::Twilio,
            vec![],
            Some(true),
        ),
    ];
    for (name, message, channel, external, is_final) in expected {
        let event = parse(name);
        let delivery = event.delivery().unwrap();
        assert_eq!(delivery.message_id, Some(message), "{name}");
        assert_eq!(delivery.messages.len(), 1, "{name}");
        assert_eq!(delivery.channel(), Some(channel.clone()), "{name}");
        let ids: Vec<_> = delivery
            .external_messages
            .iter()
            .map(|m| m.id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, external, "{name}");
        assert_eq!(delivery.is_final_event, is_final, "{name}");
    }
    let twilio = parse("written/message_delivery_failure.json");
    let destination = twilio.delivery().unwrap().destination.unwrap();
    assert_eq!(
        destination.integration_id.as_deref(),
        Some("5b1e9c1e8a4a3f0022c5f6a2")
    );
    for name in EXAMPLES.iter().filter(|name| !name.starts_with("delivery_")) {
        assert_eq!(parse(name).delivery(), None, "{name}");
    }
}

#[test]
fn every_failure_gives_its_error_in_one_shape() {
    let event = parse("delivery_failure.json");
    let error = event.error().unwrap();
    assert_eq!((error.code, error.message), (Some("unauthorized"), None));
    assert_eq!(
        error.underlying_error.unwrap()["message"],
        "Authentication failed due to the following reason: invalid token. Confirm that the \
         access token in the authorization header is valid."
    );

    let event = parse("link_failure.json");
    let error = event.error().unwrap();
    assert_eq!(
        (error.code, error.message, error.underlying_error),
        (Some("bad_request"), Some("(#100) No matching user found"), None)
    );

    let event = parse("written/message_delivery_failure.json");
    let error = event.error().unwrap();
    assert_eq!(error.code, Some("uncategorized_error"));
    let underlying = error.underlying_error.unwrap();
    assert_eq!(
        (underlying["status"].as_u64(), underlying["code"].as_u64()),
        (Some(400), Some(21211))
    );

    for name in EXAMPLES
        .iter()
        .filter(|name| !matches!(**name, "delivery_failure.json" | "link_failure.json"))
    {
        assert_eq!(parse(name).error(), None, "{name}");
    }
}

#[test]
fn a_message_says_what_a_person_typed_and_what_it_holds() {
    // (file, text(), text_or_fallback(), media_url(), channel)
    let expected = [
        ("message_appMaker_carousel.json", None, None, None, Platform::Api),
        ("message_appMaker_list.json", None, None, None, Platform::Api),
        (
            "message_appMaker_text_metadata.json",
            Some("Just put some vinegar on it"),
            Some("Just put some vinegar on it"),
            None,
            Platform::Api,
        ),
        (
            "message_appUser_image.json",
            None,
            None,
            Some("http://www.tacobueno.com/media/1338/partytacolarge.png?quality=65"),
            Platform::Messenger,
        ),
        (
            "message_appUser_location.json",
            None,
            Some("Location shared:\nhttps://maps.google.com/maps?q=45.5261583,-73.595346"),
            None,
            Platform::Messenger,
        ),
        (
            "message_appUser_text.json",
            Some("Hi! Do you have time to chat?"),
            Some("Hi! Do you have time to chat?"),
            None,
            Platform::Messenger,
        ),
        // No `type`, no media: a text, as bodies before types were sent.
        (
            "message_appUser_text_guide.json",
            Some("Hi! Do you have time to chat?"),
            Some("Hi! Do you have time to chat?"),
            None,
            Platform::Messenger,
        ),
    ];
    for (name, text, fallback, media, channel) in expected {
        let event = parse(name);
        let [message] = event.messages() else {
            panic!("{name}")
        };
        assert_eq!(message.text(), text, "{name}");
        assert_eq!(message.text_or_fallback(), fallback, "{name}");
        assert_eq!(message.media_url(), media, "{name}");
        assert_eq!(message.reply_payload(), None, "{name}");
        assert_eq!(message.channel(), Some(channel.clone()), "{name}");
    }
    let image = parse("message_appUser_image.json");
    assert_eq!(ms(image.messages()[0].received), 1444348338704);
}

#[test]
fn a_quick_reply_gives_its_payload() {
    let event = parse_event(
        json!({"trigger": "message:appUser", "appUser": {"_id": "a"}, "messages": [{"_id": "m",
            "type": "text", "text": "Tacos", "payload": "TACOS", "role": "appUser",
            "source": {"type": "telegram"}}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let message = &event.messages()[0];
    assert_eq!(message.reply_payload(), Some("TACOS"));
    assert_eq!(message.text(), Some("Tacos"));
    assert_eq!(message.channel(), Some(Platform::Telegram));
    assert_eq!(event.postback(), None);
}

#[test]
fn an_untyped_message_with_media_is_not_text() {
    // Early image messages had no `type`; their `text` was not typed by anyone.
    let event = parse_event(
        json!({"trigger": "message:appUser", "appUser": {"_id": "a"}, "messages": [{"_id": "m",
            "text": "https://media.smooch.io/a.png", "mediaUrl": "https://media.smooch.io/a.png"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let message = &event.messages()[0];
    assert_eq!(message.text(), None);
    assert_eq!(message.text_or_fallback(), Some("https://media.smooch.io/a.png"));
    assert_eq!(message.media_url(), Some("https://media.smooch.io/a.png"));
    assert!(matches!(event, Event::MessageAppUser(_)));
}
