//! The other triggers: concrete values of each documented example, the v1.1 fixtures, historical
//! shapes and real captures.

use crate::common::{assert_round_trip, fixture, ms, parse};
use smooch_events::v1::{
    ActionState, ActionType, ActivityType, ClientStatus, ItemSize, MessageType, Platform, Role,
};
use smooch_events::Event;

#[test]
fn message_app_user_text() {
    let name = "message_appUser_text.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("5698edbf2a43bd081be982f1"));
    let [message] = &e.messages[..] else { panic!() };
    assert_eq!(message.id, "55c8c1498590aa1900b9b9b1");
    assert_eq!(message.kind, Some(MessageType::Text));
    assert_eq!(message.text.as_deref(), Some("Hi! Do you have time to chat?"));
    assert_eq!(message.role, Some(Role::AppUser));
    assert_eq!(message.author_id.as_deref(), Some("c7f6e6d6c3a637261bd9656f"));
    assert_eq!(message.name.as_deref(), Some("Steve"));
    assert_eq!(ms(message.received), 1444348338704);
    assert_eq!(message.source.as_ref().unwrap().kind, Some(Platform::Messenger));
    assert_eq!(e.app_user.id, "c7f6e6d6c3a637261bd9656f");
    assert_eq!(e.app_user.clients()[0].platform, Some(Platform::Messenger));
    // No envelope `timestamp`: the time of the event is the message's.
    assert_eq!(e.envelope.timestamp, None);
    assert_eq!(ms(event.created_at()), 1444348338704);
    assert_eq!(event.user_id(), Some("c7f6e6d6c3a637261bd9656f"));
    assert_eq!(
        event.messages()[0].text.as_deref(),
        Some("Hi! Do you have time to chat?")
    );
    assert_round_trip(name, &event);
}

#[test]
fn message_app_user_image() {
    let name = "message_appUser_image.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    let message = &e.messages[0];
    assert_eq!(message.kind, Some(MessageType::Image));
    assert_eq!(message.text, None);
    assert_eq!(
        message.media_url.as_deref(),
        Some("http://www.tacobueno.com/media/1338/partytacolarge.png?quality=65")
    );
    assert_eq!(ms(message.received), 1444348338704);
    assert_round_trip(name, &event);
}

#[test]
fn message_app_user_location() {
    let name = "message_appUser_location.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("55fafea8bf8fd41a00357805"));
    let message = &e.messages[0];
    assert_eq!(message.id, "5887c22356c66904009ad602");
    assert_eq!(message.kind, Some(MessageType::Location));
    let coordinates = message.coordinates.as_ref().unwrap();
    assert_eq!(
        (coordinates.lat, coordinates.long),
        (Some(45.5261583), Some(-73.595346))
    );
    assert_eq!(coordinates.id, None);
    assert_eq!(ms(message.received), 1485292067601);
    assert!(message.text.as_deref().unwrap().starts_with("Location shared:\n"));
    assert_round_trip(name, &event);
}

#[test]
fn whole_number_coordinates_come_back_whole() {
    // JavaScript writes `45` for 45.0; it must not come back as `45.0`, another JSON value.
    let mut document: serde_json::Value =
        serde_json::from_slice(&fixture("message_appUser_location.json")).unwrap();
    let coordinates = &mut document["messages"][0]["coordinates"];
    coordinates["lat"] = serde_json::json!(45);
    coordinates["long"] = serde_json::json!(-73);
    let body = serde_json::to_vec(&document).unwrap();
    let event = smooch_events::parse_event(&body).unwrap();
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    let read = e.messages[0].coordinates.as_ref().unwrap();
    assert_eq!((read.lat, read.long), (Some(45.0), Some(-73.0)));
    let written = serde_json::to_value(&event).unwrap();
    assert_eq!(written["messages"][0]["coordinates"]["lat"].as_u64(), Some(45));
    assert_eq!(written["messages"][0]["coordinates"]["long"].as_i64(), Some(-73));
    assert_eq!(written, document);
}

#[test]
fn message_app_user_from_the_guide_has_no_type() {
    let name = "message_appUser_text_guide.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    let message = &e.messages[0];
    assert_eq!(message.kind, None);
    assert_eq!(message.metadata.as_ref().map(|m| m.len()), Some(0));
    assert_eq!(message.actions.as_deref(), Some(&[][..]));
    let client = &e.app_user.clients()[0];
    assert_eq!(client.platform, Some(Platform::Ios));
    assert_eq!(client.app_version.as_deref(), Some("1.0"));
    assert_eq!(client.push_notification_token.as_deref(), Some("<...>"));
    assert_eq!(client.info.as_ref().unwrap()["osVersion"], "9.2");
    assert_round_trip(name, &event);
}

#[test]
fn message_app_maker_carousel() {
    let name = "message_appMaker_carousel.json";
    let event = parse(name);
    let Event::MessageAppMaker(e) = &event else {
        panic!("{event:?}")
    };
    let message = &e.messages[0];
    assert_eq!(message.kind, Some(MessageType::Carousel));
    assert_eq!(message.role, Some(Role::AppMaker));
    assert_eq!(message.source.as_ref().unwrap().kind, Some(Platform::Api));
    assert_eq!(ms(message.received), 1485293841303);
    let [item] = message.items() else { panic!() };
    assert_eq!(item.id.as_deref(), Some("5887c9117e4de029005f1fc7"));
    assert_eq!(item.title.as_deref(), Some("Tacos"));
    assert_eq!(item.size, Some(ItemSize::Large));
    assert_eq!(item.media_type.as_deref(), Some("image/png"));
    let [action] = item.actions() else { panic!() };
    assert_eq!(action.kind, Some(ActionType::Postback));
    assert_eq!(action.payload.as_deref(), Some("TACOS"));
    assert_eq!(action.id.as_deref(), Some("5887c9117e4de029005f1fc8"));
    assert_round_trip(name, &event);
}

#[test]
fn message_app_maker_list_has_message_level_actions() {
    let name = "message_appMaker_list.json";
    let event = parse(name);
    let Event::MessageAppMaker(e) = &event else {
        panic!("{event:?}")
    };
    let message = &e.messages[0];
    assert_eq!(message.kind, Some(MessageType::List));
    assert_eq!(message.items().len(), 1);
    let [more] = message.actions() else { panic!() };
    assert_eq!(more.text.as_deref(), Some("More Choices!"));
    assert_eq!(more.payload.as_deref(), Some("MORE"));
    assert_round_trip(name, &event);
}

#[test]
fn message_app_maker_metadata() {
    let name = "message_appMaker_text_metadata.json";
    let event = parse(name);
    let Event::MessageAppMaker(e) = &event else {
        panic!("{event:?}")
    };
    let message = &e.messages[0];
    assert_eq!(message.id, "596fba0c38ef4f2d00f6ccc2");
    let metadata = message.metadata.as_ref().unwrap();
    assert_eq!(metadata["items"], 3);
    assert_eq!(metadata["lang"], "en-ca");
    let action = &message.actions()[0];
    assert_eq!(action.kind, Some(ActionType::Link));
    assert_eq!(action.uri.as_deref(), Some("http://example.com"));
    assert_eq!(action.metadata.as_ref().unwrap()["buttonIntent"], "vinegar");
    assert_eq!(ms(message.received), 1500494348872);
    assert_round_trip(name, &event);
}

#[test]
fn postback() {
    let name = "postback.json";
    let event = parse(name);
    let Event::Postback(e) = &event else {
        panic!("{event:?}")
    };
    let [postback] = &e.postbacks[..] else { panic!() };
    assert_eq!(
        postback.action.as_ref().unwrap().id.as_deref(),
        Some("571530ee4fae94c32b78b170")
    );
    assert_eq!(postback.action.as_ref().unwrap().kind, Some(ActionType::Postback));
    assert_eq!(
        postback.action.as_ref().unwrap().text.as_deref(),
        Some("Read more")
    );
    assert_eq!(postback.action.as_ref().unwrap().payload.as_deref(), Some("YES"));
    let message = postback.message.as_ref().unwrap();
    assert_eq!(message.name.as_deref(), Some("LunchBot"));
    assert_eq!(message.source.as_ref().unwrap().kind, Some(Platform::Slack));
    // The docs' own example: same action id, different text.
    assert_eq!(message.actions()[0].text.as_deref(), Some("Yes"));
    assert_eq!(e.app_user.user_id.as_deref(), Some("bob@example.com"));
    assert_round_trip(name, &event);
}

#[test]
fn persistent_menu_postback_has_no_message() {
    let name = "historical/postback_pre-seed-2016-08-18-b93092bc.json";
    let event = parse(name);
    let Event::Postback(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.postbacks[0].message, None);
    assert_eq!(
        e.postbacks[0].action.as_ref().unwrap().payload.as_deref(),
        Some("YES")
    );
    assert_eq!(e.app_user.clients()[0].platform, Some(Platform::Telegram));
    assert_round_trip(name, &event);
}

#[test]
fn merge_app_user() {
    let name = "merge_appUser.json";
    let event = parse(name);
    let Event::MergeAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("5698edbf2a43bd081be982f1"));
    assert_eq!(e.surviving.id, "a79a0ecfba3260bf145be257");
    assert_eq!(e.surviving.user_id.as_deref(), Some("123"));
    assert_eq!(e.surviving.conversation_started, Some(true));
    let [discarded] = &e.discarded[..] else { panic!() };
    assert_eq!(discarded.id, "1ac30dad829178f6378f61f4");
    assert_eq!(discarded.user_id, None);
    assert_eq!(discarded.conversation_started, Some(false));
    assert_eq!(
        event.app_user().map(|u| u.id.as_str()),
        Some("a79a0ecfba3260bf145be257")
    );
    assert_round_trip(name, &event);
}

#[test]
fn delivery_success() {
    let name = "delivery_success.json";
    let event = parse(name);
    let Event::DeliverySuccess(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("575040549a38df8fb4eb1e51"));
    assert_eq!(e.app_user.id, "de13bee15b51033b34162411");
    assert_eq!(e.app_user.user_id.as_deref(), Some("123"));
    assert_eq!(
        e.envelope.destination.as_ref().unwrap().kind,
        Some(Platform::Line)
    );
    assert_eq!(ms(e.envelope.timestamp), 1480001440731);
    assert_eq!(e.messages[0].id, "5837079fd84370ef2c0dcabb");
    assert_eq!(ms(e.messages[0].received), 1480001439637);
    assert_eq!(e.error, None);
    assert_round_trip(name, &event);
}

#[test]
fn delivery_failure() {
    let name = "delivery_failure.json";
    let event = parse(name);
    let Event::DeliveryFailure(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(ms(e.envelope.timestamp), 1480001711941);
    let error = e.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("unauthorized"));
    assert_eq!(error.message, None);
    assert!(error.underlying_error.as_ref().unwrap()["message"]
        .as_str()
        .unwrap()
        .starts_with("Authentication failed"));
    assert_eq!(e.messages[0].id, "583708af8d449209ba217871");
    assert_round_trip(name, &event);
}

#[test]
fn payment_success() {
    let name = "payment_success.json";
    let event = parse(name);
    let Event::PaymentSuccess(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("571e3496cb98b3962ce740d7"));
    assert_eq!(e.app_user.id, "2b15a54fde9dc2f33f88bc25");
    assert_eq!(ms(e.envelope.timestamp), 1484258666455);
    let [payment] = &e.payments[..] else { panic!() };
    assert_eq!(payment.source.as_ref().unwrap().kind, Some(Platform::Messenger));
    assert_eq!(
        payment.charge.as_ref().unwrap().id.as_deref(),
        Some("ch_19dPrCHQ7f2U7NYSZ45OspXT")
    );
    assert_eq!(payment.action.as_ref().unwrap().kind, Some(ActionType::Buy));
    assert_eq!(payment.action.as_ref().unwrap().amount, Some(1000));
    assert_eq!(payment.action.as_ref().unwrap().currency.as_deref(), Some("usd"));
    assert_eq!(payment.action.as_ref().unwrap().state, Some(ActionState::Paid));
    let message = payment.message.as_ref().unwrap();
    assert_eq!(message.id, "5877fd5624fe8fd934d7c2f2");
    assert_eq!(ms(message.received), 1484258646823);
    assert_round_trip(name, &event);
}

#[test]
fn link_events() {
    for (name, trigger) in [
        ("link_success.json", "link:success"),
        ("link_match.json", "link:match"),
        ("link_failure.json", "link:failure"),
    ] {
        let event = parse(name);
        assert_eq!(event.trigger(), trigger);
        let (Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e)) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(event.app_id(), Some("58b487c74ebf3ce5d4b38e5f"));
        assert_eq!(e.app_user.id, "8215a086b271592e01b74e28");
        assert_eq!(e.channel, Some(Platform::Messenger));
        let criteria = e.criteria.as_ref().unwrap();
        assert_eq!(criteria["phoneNumber"], "+15141234567");
        assert_eq!(criteria["givenName"], "bleep");
        assert_eq!(criteria["surname"], "bloop");
        match &e.error {
            Some(error) => {
                assert_eq!(trigger, "link:failure");
                assert_eq!(error.code.as_deref(), Some("bad_request"));
                assert_eq!(error.message.as_deref(), Some("(#100) No matching user found"));
            }
            None => assert_ne!(trigger, "link:failure"),
        }
        assert_round_trip(name, &event);
    }
}

#[test]
fn message_delivery_channel_v1_1() {
    let name = "written/message_delivery_channel.json";
    let event = parse(name);
    let Event::MessageDeliveryChannel(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.envelope.version.as_deref(), Some("v1.1"));
    assert_eq!(
        e.envelope.conversation.as_ref().unwrap().id.as_deref(),
        Some("d4a5c3a2b7e5bd5e2e5a8c1f")
    );
    let destination = e.envelope.destination.as_ref().unwrap();
    assert_eq!(destination.kind, Some(Platform::Messenger));
    assert_eq!(
        destination.integration_id.as_deref(),
        Some("5a3c0dd6f69f6f2b0d4d4a6e")
    );
    assert_eq!(e.is_final_event, Some(false));
    assert_eq!(
        e.external_messages.as_ref().unwrap()[0].id.as_deref(),
        Some("mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO")
    );
    let message = e.message.as_ref().unwrap();
    assert_eq!(message.id, "5c3cbf1f0db8d0a2b4d4a11d");
    assert_eq!(message.role, None);
    assert_eq!(ms(e.envelope.timestamp), 1547484960123);
    assert_round_trip(name, &event);
}

#[test]
fn message_delivery_user_v1_1() {
    let name = "written/message_delivery_user.json";
    let event = parse(name);
    let Event::MessageDeliveryUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        e.envelope.destination.as_ref().unwrap().kind,
        Some(Platform::Whatsapp)
    );
    assert_eq!(e.is_final_event, Some(true));
    assert_eq!(ms(e.envelope.timestamp), 1547484961000);
    assert_round_trip(name, &event);
}

#[test]
fn message_delivery_failure_v1_1_keeps_any_underlying_error() {
    let name = "written/message_delivery_failure.json";
    let event = parse(name);
    let Event::MessageDeliveryFailure(e) = &event else {
        panic!("{event:?}")
    };
    let error = e.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("uncategorized_error"));
    let underlying = error.underlying_error.as_ref().unwrap();
    assert_eq!(underlying["code"], 21211);
    assert_eq!(underlying["more_info"][1]["retry"], false);
    let message = e.message.as_ref().unwrap();
    assert_eq!(message.role, Some(Role::AppMaker));
    assert_eq!(ms(message.received), 1547484962500);
    assert_round_trip(name, &event);
}

#[test]
fn typing_app_user_v1_1() {
    for (name, activity, millis) in [
        (
            "written/typing_appUser_start.json",
            ActivityType::TypingStart,
            1547484958720,
        ),
        (
            "written/typing_appUser_stop.json",
            ActivityType::TypingStop,
            1547484959010,
        ),
    ] {
        let event = parse(name);
        let Event::TypingAppUser(e) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(e.activity.as_ref().unwrap().kind, Some(activity));
        assert_eq!(e.app_user.as_ref().unwrap().id, "c7f6e6d6c3a637261bd9656f");
        assert_eq!(ms(e.envelope.timestamp), millis);
        assert_round_trip(name, &event);
    }
}

#[test]
fn v1_1_envelope_with_trigger_last() {
    let name = "written/message_appUser_v1.1_trigger_last.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.envelope.version.as_deref(), Some("v1.1"));
    assert_eq!(ms(e.envelope.timestamp), 1547484959485);
    let client = e.envelope.client.as_ref().unwrap();
    assert_eq!(client.platform, Some(Platform::Messenger));
    assert_eq!(client.status, Some(ClientStatus::Active));
    assert_eq!(client.primary, Some(true));
    assert_eq!(client.external_id.as_deref(), Some("1596340283784383"));
    assert_eq!(ms(client.linked_at.as_ref()), 1547484958000);
    assert_eq!(client.raw.as_ref().unwrap()["first_name"], "Steve");
    // The truncated appUser of v1.1.
    assert_eq!(e.app_user.id, "c7f6e6d6c3a637261bd9656f");
    assert_eq!(e.app_user.conversation_started, Some(true));
    assert_eq!(e.app_user.signed_up_at, None);
    let message = &e.messages[0];
    assert_eq!(message.media_size, Some(84211));
    let source = message.source.as_ref().unwrap();
    assert_eq!(source.integration_id.as_deref(), Some("5a3c0dd6f69f6f2b0d4d4a6e"));
    assert_eq!(
        source.original_message_id.as_deref(),
        Some("mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO")
    );
    assert_eq!(
        source.original_message_timestamp.as_ref().unwrap(),
        1547484959208u64
    );
    assert_round_trip(name, &event);
}

#[test]
fn unknown_keys_survive_at_every_level() {
    let name = "written/message_appUser_unknown_keys_everywhere.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.envelope.extra["futureTopLevel"]["nested"][1], 2.5);
    assert_eq!(e.envelope.app.as_ref().unwrap().extra["name"], "Taco Shop");
    assert_eq!(e.app_user.extra["futureUserKey"], 42);
    let client = &e.app_user.clients()[0];
    assert_eq!(client.extra["futureClientKey"], serde_json::json!([]));
    assert_eq!(client.info.as_ref().unwrap()["futureInfoKey"], 1.25);
    let message = &e.messages[0];
    assert_eq!(message.extra["language"], "en");
    assert_eq!(message.source.as_ref().unwrap().extra["futureSourceKey"], "kept");
    let action = &message.actions()[0];
    assert_eq!(action.kind, Some(ActionType::Reply));
    assert_eq!(
        action.extra["futureActionKey"]["deep"]["deeper"],
        serde_json::json!([])
    );
    assert_round_trip(name, &event);
}

#[test]
fn unknown_triggers_keep_their_body() {
    let name = "written/client_add_unknown_trigger.json";
    let event = parse(name);
    let Event::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.trigger, "client:add");
    assert_eq!(event.app_id(), Some("5698edbf2a43bd081be982f1"));
    assert_eq!(unknown.body["client"]["platform"], "line");
    assert_eq!(event.envelope(), None);
    assert_round_trip(name, &event);
}

#[test]
fn historical_shapes() {
    // 2015: no app, no clients, `metadata: []`, which reads as empty metadata and comes back as `[]`.
    let name = "historical/message_appUser_pre-seed-2015-11-06-2628c303.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), None);
    let metadata = e.messages[0].metadata.as_ref().unwrap();
    assert!(metadata.is_empty());
    assert_eq!(serde_json::to_value(metadata).unwrap(), serde_json::json!([]));
    assert_eq!(e.messages[0].source, None);
    assert_round_trip(name, &event);

    // 2016: `devices` instead of `clients`.
    let name = "historical/message_appUser_pre-seed-2016-03-15-f97266a2.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.app_user.clients, None);
    assert_eq!(e.app_user.clients()[0].platform, Some(Platform::Ios));
    assert_round_trip(name, &event);

    // 2017-01: coordinates with `_id`.
    let name = "historical/message_appUser_pre-seed-2017-01-27-cd336a83.json";
    let event = parse(name);
    let Event::MessageAppUser(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        e.messages[0].coordinates.as_ref().unwrap().id.as_deref(),
        Some("5887c22356c66904009ad603")
    );
    assert_round_trip(name, &event);
}

#[test]
fn real_captures_per_channel() {
    for (name, platform, received, source_id) in [
        (
            "web",
            Platform::Web,
            1483463666711,
            Some("e88d779010644c5da8b06e82e6f56265"),
        ),
        (
            "wechat",
            Platform::Wechat,
            1483463951897,
            Some("6371429146171906769"),
        ),
        (
            "ios",
            Platform::Ios,
            1483463757301,
            Some("03DDDDD6-CB08-48FC-8459-13B75A95FABD"),
        ),
        ("api", Platform::Api, 1483464788239, None),
    ] {
        let name = format!("branch-f-enum-payloads/message_appUser_text_{name}.json");
        let event = parse(&name);
        let Event::MessageAppUser(e) = &event else {
            panic!("{event:?}")
        };
        let message = &e.messages[0];
        let source = message.source.as_ref().unwrap();
        assert_eq!(source.kind, Some(platform), "{name}");
        assert_eq!(source.id.as_deref(), source_id, "{name}");
        assert_eq!(ms(message.received), received, "{name}");
        assert_eq!(e.app_user.conversation_started, Some(true), "{name}");
        assert_eq!(e.app_user.credential_required, Some(false), "{name}");
        assert_eq!(e.app_user.pending_clients.as_deref(), Some(&[][..]), "{name}");
        assert_eq!(e.app_user.devices, e.app_user.clients, "{name}");
        assert_round_trip(&name, &event);
    }
    // Two fractional digits.
    let event = parse("branch-f-enum-payloads/message_appUser_text_telegram_2.json");
    let Event::MessageAppUser(e) = &event else {
        panic!()
    };
    assert_eq!(ms(e.messages[0].received), 1483463860710);
}
