//! `Webhook::incoming`, the version-neutral view of a body's messages and postbacks: on every v1
//! and v2 fixture it gives what the version-specific accessors give, one item per message or
//! postback, in the body's order, and nothing for the other triggers and event types.

mod common;

use common::{fixture, v1_bodies, v2_fixtures};
use smooch_events::v2::ChannelType;
use smooch_events::{parse_webhook, v1, v2, Incoming, IncomingKind, Webhook};

/// The items of a fixture, and its parse.
fn items(name: &str) -> (Webhook, Vec<String>) {
    let webhook = parse_webhook(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let shown = webhook.incoming().map(|item| format!("{item:?}")).collect();
    (webhook, shown)
}

/// The JSON text of an app id, a type and an id, as a dedupe key.
fn key(app_id: Option<&str>, kind: &str, id: &str) -> String {
    serde_json::to_string(&(app_id, kind, id)).unwrap()
}

/// Asserts that `item` answers what the v2 accessors answer for `event`, of `body`.
fn assert_v2(name: &str, item: &Incoming<'_>, event: &v2::Event, body: &v2::Body) {
    assert_eq!(item.app_id, body.app_id(), "{name}");
    assert_eq!(item.event_type, event.trigger(), "{name}");
    assert_eq!(item.event_id, event.id(), "{name}");
    assert_eq!(item.user_id, event.user_id(), "{name}");
    assert_eq!(item.conversation_id, event.conversation_id(), "{name}");
    assert_eq!(item.channel, event.channel(), "{name}");
    assert_eq!(
        item.integration_in_control,
        event.integration_in_control(),
        "{name}"
    );
    assert_eq!(item.dedupe_key(), event.dedupe_key(body.app_id()), "{name}");
    match (&item.kind, event.message()) {
        (IncomingKind::Message(incoming), Some(message)) => {
            let received = message.received.as_ref().map(|time| time.to_utc());
            assert_eq!(item.time, received.or(event.created_at()), "{name}");
            assert_eq!(incoming.id, message.id.as_deref(), "{name}");
            let content = message.content.as_ref().map(v2::Content::type_name);
            assert_eq!(incoming.message_type, content, "{name}");
            assert_eq!(incoming.text, message.text(), "{name}");
            assert_eq!(incoming.media_url, message.media_url(), "{name}");
            assert_eq!(incoming.reply_payload, message.reply_payload(), "{name}");
            assert_eq!(incoming.location, message.location(), "{name}");
            assert_eq!(incoming.is_from_user(), message.is_from_user(), "{name}");
            assert_eq!(incoming.is_from_business(), message.is_from_business(), "{name}");
        }
        (IncomingKind::Postback(incoming), None) => {
            assert_eq!(event.kind(), v2::EventType::ConversationPostback, "{name}");
            assert_eq!(item.time, event.created_at(), "{name}");
            let postback = event.postback();
            assert_eq!(incoming.payload, postback.and_then(|p| p.payload), "{name}");
            let metadata = postback.and_then(|p| p.metadata).map(|map| &**map);
            assert_eq!(incoming.metadata, metadata, "{name}");
        }
        other => panic!("{name}: {other:?}"),
    }
}

/// Asserts that `item` answers what the v1 accessors answer for the message or postback at
/// `index` of `event`.
fn assert_v1(name: &str, item: &Incoming<'_>, event: &v1::Event, index: usize) {
    assert_eq!(item.app_id, event.app_id(), "{name}");
    assert_eq!(item.event_type, event.trigger(), "{name}");
    assert_eq!(item.event_id, None, "{name}");
    assert_eq!(item.user_id, event.user_id(), "{name}");
    assert_eq!(item.conversation_id, event.conversation_id(), "{name}");
    assert_eq!(item.integration_in_control, None, "{name}");
    match (&item.kind, event) {
        (IncomingKind::Message(incoming), v1::Event::MessageAppUser(e) | v1::Event::MessageAppMaker(e)) => {
            let message = &e.messages[index];
            let channel = message
                .channel()
                .map(|platform| ChannelType::from(platform.as_str()));
            assert_eq!(item.channel, channel, "{name}");
            assert_eq!(item.time, message.received.or(event.created_at()), "{name}");
            let expected = key(event.app_id(), event.trigger(), &message.id);
            assert_eq!(item.dedupe_key(), Some(expected), "{name}");
            assert_eq!(incoming.id, Some(message.id.as_str()), "{name}");
            let kind = message.kind.as_ref().map(v1::MessageType::as_str);
            assert_eq!(incoming.message_type, kind, "{name}");
            assert_eq!(incoming.text, message.text(), "{name}");
            assert_eq!(incoming.media_url, message.media_url(), "{name}");
            assert_eq!(incoming.reply_payload, message.reply_payload(), "{name}");
            assert_eq!(incoming.location, message.location(), "{name}");
            if message.role.is_some() {
                assert_eq!(incoming.is_from_user(), message.is_from_user(), "{name}");
                assert_eq!(incoming.is_from_business(), message.is_from_business(), "{name}");
            }
            if index == 0 {
                assert_eq!(incoming.is_from_user(), event.is_from_user(), "{name}");
                assert_eq!(
                    item.channel,
                    event.channel().map(|p| ChannelType::from(p.as_str()))
                );
            }
        }
        (IncomingKind::Postback(incoming), v1::Event::Postback(e)) => {
            let action = e.postbacks[index].action.as_ref();
            assert_eq!(
                incoming.payload,
                action.and_then(|a| a.payload.as_deref()),
                "{name}"
            );
            let metadata = action.and_then(|a| a.metadata.as_deref());
            assert_eq!(incoming.metadata, metadata, "{name}");
            if index == 0 {
                let postback = event.postback();
                assert_eq!(incoming.payload, postback.and_then(|p| p.payload), "{name}");
            }
            assert_eq!(item.channel, None, "{name}");
            assert_eq!(item.time, event.created_at(), "{name}");
            assert_eq!(item.dedupe_key(), None, "{name}");
        }
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn every_v2_fixture_gives_what_the_v2_accessors_give() {
    let (mut messages, mut postbacks) = (0, 0);
    for name in v2_fixtures() {
        let webhook = parse_webhook(&fixture(&name)).unwrap();
        let body = webhook.as_v2().unwrap();
        let events = &body.events;
        let expected: Vec<&v2::Event> = events
            .iter()
            .filter(|event| event.message().is_some() || event.kind() == v2::EventType::ConversationPostback)
            .collect();
        let items: Vec<Incoming<'_>> = webhook.incoming().collect();
        assert_eq!(items.len(), expected.len(), "{name}");
        for (item, event) in items.iter().zip(expected) {
            assert_v2(&name, item, event, body);
            match item.kind {
                IncomingKind::Message(_) => messages += 1,
                _ => postbacks += 1,
            }
        }
    }
    assert_eq!((messages, postbacks), (44, 4));
}

#[test]
fn every_v1_body_gives_what_the_v1_accessors_give() {
    let (mut messages, mut postbacks) = (0, 0);
    for name in v1_bodies() {
        let webhook = parse_webhook(&fixture(&name)).unwrap();
        let event = webhook.as_v1().unwrap();
        let expected = match event {
            v1::Event::MessageAppUser(e) | v1::Event::MessageAppMaker(e) => e.messages.len(),
            v1::Event::Postback(e) => e.postbacks.len(),
            _ => 0,
        };
        let items: Vec<Incoming<'_>> = webhook.incoming().collect();
        assert_eq!(items.len(), expected, "{name}");
        for (index, item) in items.iter().enumerate() {
            assert_v1(&name, item, event, index);
            match item.kind {
                IncomingKind::Message(_) => messages += 1,
                _ => postbacks += 1,
            }
        }
    }
    assert_eq!((messages, postbacks), (27, 7));
}

#[test]
fn a_v1_and_a_v2_message_read_alike() {
    let (v1, _) = items("message_appUser_text.json");
    let (v2, _) = items("v2/conversation_message.json");
    let answers: Vec<_> = [&v1, &v2]
        .into_iter()
        .flat_map(Webhook::incoming)
        .map(|item| {
            let IncomingKind::Message(message) = item.kind else {
                panic!("{item:?}")
            };
            (
                item.user_id,
                message.is_from_user(),
                item.channel,
                item.time.unwrap().timestamp_millis(),
                message.text,
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            (
                Some("c7f6e6d6c3a637261bd9656f"),
                true,
                Some(ChannelType::Messenger),
                1444348338704,
                Some("Hi! Do you have time to chat?"),
            ),
            (
                Some("26508c10541a4b0ff472e5e2"),
                true,
                Some(ChannelType::Telegram),
                1601488856820,
                Some("hello"),
            ),
        ]
    );
    let v2_item = v2.incoming().next().unwrap();
    assert_eq!(v2_item.conversation_id, Some("f52b01137aa6c250bc7251fa"));
    assert_eq!(v2_item.integration_in_control.unwrap().name, Some("bot"));
}

#[test]
fn a_location_a_media_url_and_a_quick_reply_read_alike() {
    let location = |name: &str| {
        let (webhook, _) = items(name);
        let item = webhook.incoming().find_map(|item| match item.kind {
            IncomingKind::Message(message) => message.location,
            _ => None,
        });
        item.map(|location| {
            (
                location.latitude,
                location.longitude,
                location.name.map(str::to_owned),
            )
        })
    };
    assert_eq!(
        location("message_appUser_location.json"),
        Some((45.5261583, -73.595346, None))
    );
    assert_eq!(
        location("v2/written/content_types.json"),
        Some((45.5261583, -73.595346, Some("Zendesk".to_owned())))
    );
    let (image, _) = items("message_appUser_image.json");
    let Some(IncomingKind::Message(message)) = image.incoming().next().map(|item| item.kind) else {
        panic!()
    };
    assert_eq!(
        message.media_url,
        Some("http://www.tacobueno.com/media/1338/partytacolarge.png?quality=65")
    );
    assert_eq!(message.message_type, Some("image"));
    let (reply, _) = items("v2/written/action_types.json");
    let replies: Vec<Option<&str>> = reply
        .incoming()
        .map(|item| match item.kind {
            IncomingKind::Message(message) => message.reply_payload,
            _ => None,
        })
        .collect();
    assert_eq!(replies, [None, None, Some("TACOS")]);
}

#[test]
fn postbacks_of_both_versions_give_their_payload() {
    for (name, payload, user) in [
        ("postback.json", "YES", "c7f6e6d6c3a637261bd9656f"),
        (
            "v2/conversation_postback.json",
            "Greet",
            "26508c10541a4b0ff472e5e2",
        ),
    ] {
        let (webhook, _) = items(name);
        let [item] = <[_; 1]>::try_from(webhook.incoming().collect::<Vec<_>>()).unwrap();
        let IncomingKind::Postback(postback) = &item.kind else {
            panic!("{item:?}")
        };
        assert_eq!(postback.payload, Some(payload), "{name}");
        assert_eq!(item.user_id, Some(user), "{name}");
    }
    let (full, _) = items("v2/written/full_user_and_source.json");
    let metadata = full.incoming().find_map(|item| match item.kind {
        IncomingKind::Postback(postback) => postback.metadata,
        _ => None,
    });
    assert_eq!(metadata.unwrap()["orderId"], "A-1001");
}

#[test]
fn the_other_triggers_and_types_give_nothing() {
    for name in [
        "conversation_start.json",
        "delivery_failure.json",
        "v2/user_merge.json",
    ] {
        let (_, shown) = items(name);
        assert_eq!(shown, Vec::<String>::new(), "{name}");
    }
    // A body of several events gives only its message, in order.
    let (several, _) = items("v2/written/several_events.json");
    let types: Vec<&str> = several.incoming().map(|item| item.event_type).collect();
    assert_eq!(types, ["conversation:message"]);
}
