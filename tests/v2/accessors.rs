//! Each v2 accessor on every fixture where it applies gives the fixture's values, and `None` (or
//! empty) on every other: `Event::conversation_id`, `user_id`, `author`, `source`, `channel`,
//! `postback`, `delivery`, `error`, and `Message::text`, `text_or_fallback`, `media_url`,
//! `reply_payload`, `channel`.

use crate::common::{ms, parse_v2, v2_example};
use serde_json::json;
use smooch_events::v2::{AuthorType, ChannelType, Event};
use smooch_events::{parse_webhook, v2, Webhook};

/// The only event of a documented example, by its type.
fn example(kind: &str) -> Event {
    let body = parse_v2(&v2_example(kind));
    let [event] = <[Event; 1]>::try_from(body.events).unwrap();
    event
}

/// The events of a written fixture.
fn written(name: &str) -> Vec<Event> {
    parse_v2(&format!("v2/written/{name}.json")).events
}

/// The only event of a body.
fn only(body: serde_json::Value) -> Event {
    let Webhook::V2(body) = parse_webhook(body.to_string().as_bytes()).unwrap() else {
        panic!("not a v2 body")
    };
    let [event] = <[Event; 1]>::try_from(body.events).unwrap();
    event
}

const CONVERSATION: &str = "f52b01137aa6c250bc7251fa";
const STEVE: &str = "26508c10541a4b0ff472e5e2";
const CLIENT_USER: &str = "6a2343df57be6fe0f98efc33";

#[test]
fn every_documented_event_names_its_conversation_and_user() {
    let expected: [(&str, Option<&str>, Option<&str>); 25] = [
        ("client:add", Some("c2c8710dedf8f26ee6e9a68f"), Some(CLIENT_USER)),
        ("client:remove", None, Some(CLIENT_USER)),
        (
            "client:update",
            Some("c2c8710dedf8f26ee6e9a68f"),
            Some(CLIENT_USER),
        ),
        ("conversation:create", Some(CONVERSATION), Some(STEVE)),
        ("conversation:join", Some(CONVERSATION), Some(STEVE)),
        ("conversation:leave", Some(CONVERSATION), Some(STEVE)),
        ("conversation:remove", Some(CONVERSATION), None),
        (
            "conversation:message:delivery:channel",
            Some(CONVERSATION),
            Some(STEVE),
        ),
        (
            "conversation:message:delivery:failure",
            Some(CONVERSATION),
            Some(STEVE),
        ),
        (
            "conversation:message:delivery:user",
            Some(CONVERSATION),
            Some(STEVE),
        ),
        ("conversation:message", Some(CONVERSATION), Some(STEVE)),
        ("conversation:postback", Some(CONVERSATION), Some(STEVE)),
        (
            "conversation:read",
            Some(CONVERSATION),
            Some("b5a0f8de1fd4198a96faa0af"),
        ),
        ("conversation:referral", Some(CONVERSATION), Some(STEVE)),
        (
            "conversation:typing",
            Some(CONVERSATION),
            Some("7283cdd6f586679a5fc43cfb"),
        ),
        ("switchboard:acceptControl", Some(CONVERSATION), None),
        ("switchboard:acceptControl:failure", Some(CONVERSATION), None),
        ("switchboard:offerControl", Some(CONVERSATION), None),
        ("switchboard:offerControl:failure", Some(CONVERSATION), None),
        ("switchboard:passControl", Some(CONVERSATION), None),
        ("switchboard:passControl:failure", Some(CONVERSATION), None),
        ("switchboard:releaseControl", Some(CONVERSATION), None),
        // The surviving user; the example merged no conversations.
        ("user:merge", None, Some(STEVE)),
        ("user:update", None, Some(STEVE)),
        ("user:remove", None, Some("6748e3ae32378e732938e031")),
    ];
    assert_eq!(expected.map(|(kind, ..)| kind), Event::TYPES);
    for (kind, conversation, user) in expected {
        let event = example(kind);
        assert_eq!(event.conversation_id(), conversation, "{kind}");
        assert_eq!(event.user_id(), user, "{kind}");
        assert_eq!(event.user().and_then(|user| user.id.as_deref()), user, "{kind}");
    }
}

#[test]
fn every_documented_event_names_where_it_came_from() {
    use ChannelType::{Telegram, Twilio, Web};
    // (type, source.type, channel): the channel is the source's, or a delivery's destination.
    let expected: [(&str, Option<ChannelType>, Option<ChannelType>); 25] = [
        ("client:add", Some(Web), Some(Web)),
        ("client:remove", Some(Web), Some(Web)),
        ("client:update", None, None),
        ("conversation:create", Some(Web), Some(Web)),
        ("conversation:join", None, None),
        ("conversation:leave", None, None),
        ("conversation:remove", None, None),
        ("conversation:message:delivery:channel", None, Some(Telegram)),
        ("conversation:message:delivery:failure", None, Some(Twilio)),
        ("conversation:message:delivery:user", None, Some(Twilio)),
        ("conversation:message", Some(Telegram), Some(Telegram)),
        ("conversation:postback", Some(Telegram), Some(Telegram)),
        ("conversation:read", Some(Web), Some(Web)),
        ("conversation:referral", Some(Web), Some(Web)),
        ("conversation:typing", Some(Web), Some(Web)),
        ("switchboard:acceptControl", None, None),
        ("switchboard:acceptControl:failure", None, None),
        ("switchboard:offerControl", None, None),
        ("switchboard:offerControl:failure", None, None),
        ("switchboard:passControl", None, None),
        ("switchboard:passControl:failure", None, None),
        ("switchboard:releaseControl", None, None),
        ("user:merge", None, None),
        ("user:update", Some(Web), Some(Web)),
        ("user:remove", None, None),
    ];
    assert_eq!(expected.each_ref().map(|(kind, ..)| *kind), Event::TYPES);
    for (kind, source, channel) in expected {
        let event = example(kind);
        assert_eq!(
            event.source().and_then(|source| source.kind.clone()),
            source,
            "{kind}"
        );
        assert_eq!(event.channel(), channel, "{kind}");
    }
    // The source is the whole object: the message's, with its integration and the channel's ids.
    let message = example("conversation:message");
    let source = message.source().unwrap();
    assert_eq!(source.integration_id.as_deref(), Some("5ec69c6e12dda33be985cb1a"));
    assert_eq!(source.original_message_id.as_deref(), Some("374"));
    assert_eq!(ms(source.original_message_timestamp.as_ref()), 1601488856000);
    let read = example("conversation:read");
    assert_eq!(
        read.source().unwrap().integration_id.as_deref(),
        Some("5ecff63ffc3ab25f4561c8a0")
    );
}

#[test]
fn only_messages_and_activities_have_an_author() {
    for kind in Event::TYPES {
        let event = example(kind);
        match *kind {
            "conversation:message" => {
                let author = event.author().unwrap();
                assert_eq!(author.kind, Some(AuthorType::User));
                assert_eq!(author.user_id.as_deref(), Some(STEVE));
                assert_eq!(author.display_name.as_deref(), Some("Steve Rogers"));
            }
            "conversation:read" | "conversation:typing" => {
                let author = event.author().unwrap();
                assert_eq!(author.kind, Some(AuthorType::User));
                assert_eq!(author.user_id.as_deref(), event.user_id(), "{kind}");
            }
            _ => assert_eq!(event.author(), None, "{kind}"),
        }
    }
    // A business author: the activity of `conversation:typing` in `fields_examples_omit`.
    let typing = &written("fields_examples_omit")[7];
    assert_eq!(typing.trigger(), "conversation:typing");
    let author = typing.author().unwrap();
    assert_eq!(author.kind, Some(AuthorType::Business));
    assert_eq!(author.display_name.as_deref(), Some("Acme Support"));
    assert_eq!(typing.user_id(), None);
}

#[test]
fn user_id_falls_back_to_the_author_s_user_id() {
    let typing = only(
        json!({"events": [{"type": "conversation:typing", "payload": {"activity": {
        "type": "typing:start", "author": {"type": "user", "userId": "7283cdd6f586679a5fc43cfb"}}}}]}),
    );
    assert_eq!(typing.user(), None);
    assert_eq!(typing.user_id(), Some("7283cdd6f586679a5fc43cfb"));
    // The user's own id wins over `userId` when both are there and differ.
    let message = only(
        json!({"events": [{"type": "conversation:message", "payload": {"message": {
        "id": "m", "author": {"type": "user", "userId": "a", "user": {"id": "b"}}}}}]}),
    );
    assert_eq!(message.user_id(), Some("b"));
    // An event type the crate does not model: `payload.user.id` in its body.
    let unknown = only(json!({"events": [{"type": "user:somethingNew",
        "payload": {"user": {"id": "26508c10541a4b0ff472e5e2"}}}]}));
    assert!(unknown.is_unknown());
    assert_eq!(unknown.user_id(), Some(STEVE));
}

#[test]
fn only_conversation_postback_has_a_postback() {
    for kind in Event::TYPES {
        let event = example(kind);
        if *kind == "conversation:postback" {
            let postback = event.postback().unwrap();
            assert_eq!(postback.payload, Some("Greet"));
            assert_eq!(postback.metadata, None);
        } else {
            assert_eq!(event.postback(), None, "{kind}");
        }
    }
    let full = &written("full_user_and_source")[2];
    let postback = full.postback().unwrap();
    assert_eq!(postback.payload, Some("TRACK_ORDER"));
    assert_eq!(postback.metadata.unwrap()["orderId"], "A-1001");
    // `"metadata": null` reads as no metadata.
    let null = &written("nullable_null")[8];
    assert_eq!(null.postback().unwrap().payload, Some("GREET"));
    assert_eq!(null.postback().unwrap().metadata, None);
    // A quick reply is a message, not a postback.
    let reply = &written("action_types")[2];
    assert_eq!(reply.postback(), None);
    assert_eq!(reply.message().unwrap().reply_payload(), Some("TACOS"));
}

#[test]
fn the_three_delivery_events_give_one_delivery() {
    // (type, message id, channel, external ids, final)
    let expected = [
        (
            "conversation:message:delivery:channel",
            "5f74a31c2b5315fc007e7997",
            ChannelType::Telegram,
            vec!["371"],
        ),
        (
            "conversation:message:delivery:user",
            "5f74b82c56be263abf0ffd50",
            ChannelType::Twilio,
            vec!["SM900c83b124b6467eb6db835a969d7374"],
        ),
        // The failure example has no `externalMessages`.
        (
            "conversation:message:delivery:failure",
            "5f74be6256be263abf0ffd5f",
            ChannelType::Twilio,
            vec![],
        ),
    ];
    for (kind, message, channel, external) in expected {
        let event = example(kind);
        let delivery = event.delivery().unwrap();
        assert_eq!(delivery.message_id, Some(message), "{kind}");
        assert_eq!(delivery.channel(), Some(channel.clone()), "{kind}");
        let ids: Vec<_> = delivery
            .external_messages
            .iter()
            .map(|m| m.id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, external, "{kind}");
        assert_eq!(delivery.is_final_event, Some(true), "{kind}");
    }
    let telegram = example("conversation:message:delivery:channel");
    let destination = telegram.delivery().unwrap().destination.unwrap();
    assert_eq!(
        destination.integration_id.as_deref(),
        Some("5ec69c6e12dda33be985cb1a")
    );

    let failure = &written("fields_examples_omit")[6];
    let delivery = failure.delivery().unwrap();
    assert_eq!(delivery.message_id, Some("65f2c2bd8a1e7c00aa000007"));
    assert_eq!(delivery.channel(), Some(ChannelType::Messenger));
    assert_eq!(delivery.external_messages.len(), 2);
    assert_eq!(delivery.external_messages[1].id.as_deref(), Some("m_2"));
    assert_eq!(delivery.is_final_event, Some(false));

    for kind in Event::TYPES.iter().filter(|kind| !kind.contains(":delivery:")) {
        assert_eq!(example(kind).delivery(), None, "{kind}");
    }
}

#[test]
fn every_failure_gives_its_error_in_one_shape() {
    let expected = [
        (
            "conversation:message:delivery:failure",
            "uncategorized_error",
            "Unsupported message type `form`",
        ),
        (
            "switchboard:acceptControl:failure",
            "switchboard_invalid_action",
            "There is no pendingSwitchboardIntegration",
        ),
        (
            "switchboard:offerControl:failure",
            "switchboard_invalid_target",
            "Cannot offer control to the active switchboard integration.",
        ),
        (
            "switchboard:passControl:failure",
            "switchboard_invalid_target",
            "Switchboard invalid target",
        ),
    ];
    for (kind, code, message) in expected {
        let event = example(kind);
        let error = event.error().unwrap();
        assert_eq!((error.code, error.message), (Some(code), Some(message)), "{kind}");
        assert_eq!(error.underlying_error, None, "{kind}");
    }
    // Every other example has none, `client:remove` included (its reason is `sdk`).
    for kind in Event::TYPES.iter().filter(|kind| !kind.ends_with(":failure")) {
        assert_eq!(example(kind).error(), None, "{kind}");
    }
    // `client:remove` for a failed link: an untyped error, with a key of its own.
    let removed = &written("fields_examples_omit")[0];
    assert_eq!(removed.trigger(), "client:remove");
    let error = removed.error().unwrap();
    assert_eq!(error.code, Some("link_failed"));
    assert_eq!(error.message, Some("The user did not confirm the link"));
    assert_eq!(error.underlying_error, None);
    // What the channel answered, when an error carries it (as v1 bodies do).
    let failure = only(
        json!({"events": [{"type": "conversation:message:delivery:failure",
        "payload": {"error": {"code": "bad_request", "underlyingError": {"status": 400, "code": 21211}}}}]}),
    );
    let error = failure.error().unwrap();
    assert_eq!(error.code, Some("bad_request"));
    assert_eq!(error.message, None);
    assert_eq!(
        error.underlying_error,
        Some(&json!({"status": 400, "code": 21211}))
    );
}

#[test]
fn a_message_says_what_a_person_typed_and_what_it_holds() {
    let events = written("content_types");
    // (content type, text(), text_or_fallback(), media_url(), channel)
    let api = ChannelType::ApiConversations;
    let expected = [
        (
            "text",
            Some("Your order #1001 has shipped."),
            Some("Your order #1001 has shipped."),
            None,
            api.clone(),
        ),
        (
            "image",
            None,
            Some("Today's special"),
            Some("https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/taco.png"),
            api.clone(),
        ),
        (
            "file",
            None,
            Some("Your invoice"),
            Some("https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/invoice.pdf"),
            api.clone(),
        ),
        ("carousel", None, Some("1. Taco\n2. Burrito"), None, api.clone()),
        ("list", None, None, None, api.clone()),
        (
            "location",
            None,
            Some("Location shared:\nhttps://maps.google.com/maps?q=45.5261583,-73.595346"),
            None,
            ChannelType::Web,
        ),
        ("form", None, Some("Tell us about you"), None, api.clone()),
        (
            "formResponse",
            None,
            Some("Your name: Jane Doe\nYour email: jane@example.com\nSize: Large"),
            None,
            ChannelType::Web,
        ),
        ("template", None, None, None, api),
    ];
    assert_eq!(events.len(), expected.len());
    for (event, (kind, text, fallback, media, channel)) in events.iter().zip(expected) {
        let message = event.message().unwrap();
        assert_eq!(message.content.as_ref().unwrap().type_name(), kind);
        assert_eq!(message.text(), text, "{kind}");
        assert_eq!(message.text_or_fallback(), fallback, "{kind}");
        assert_eq!(message.media_url(), media, "{kind}");
        assert_eq!(message.reply_payload(), None, "{kind}");
        assert_eq!(message.channel(), Some(channel.clone()), "{kind}");
    }

    let hello = example("conversation:message");
    let message = hello.message().unwrap();
    assert_eq!(message.text(), Some("hello"));
    assert_eq!(message.text_or_fallback(), Some("hello"));
    assert_eq!((message.media_url(), message.reply_payload()), (None, None));
    assert_eq!(message.channel(), Some(ChannelType::Telegram));
    assert_eq!(ms(message.received.as_ref()), 1601488856820);
    for kind in Event::TYPES
        .iter()
        .filter(|kind| **kind != "conversation:message")
    {
        assert_eq!(example(kind).message(), None, "{kind}");
    }
}

#[test]
fn an_unknown_event_answers_from_its_body_where_it_can() {
    let events = written("unknown_types");
    let passthrough = &events[0];
    assert!(passthrough.is_unknown());
    assert_eq!(passthrough.conversation_id(), Some(CONVERSATION));
    assert_eq!(passthrough.user_id(), None);
    let empty: [bool; 7] = [
        passthrough.conversation().is_none(),
        passthrough.user().is_none(),
        passthrough.author().is_none(),
        passthrough.source().is_none(),
        passthrough.channel().is_none(),
        passthrough.postback().is_none(),
        passthrough.delivery().is_none() && passthrough.error().is_none(),
    ];
    assert_eq!(empty, [true; 7]);
    assert_eq!(ms(passthrough.created_at()), 1710408413589);
}

#[test]
fn several_events_each_answer_for_themselves() {
    let body: v2::Body = parse_v2("v2/written/several_events.json");
    let kinds: Vec<_> = body
        .events
        .iter()
        .map(|event| (event.trigger(), event.user_id(), event.channel()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("conversation:message", Some(STEVE), Some(ChannelType::Web)),
            ("conversation:read", Some(STEVE), Some(ChannelType::Web)),
            (
                "conversation:message:delivery:channel",
                Some(STEVE),
                Some(ChannelType::Web)
            ),
            (
                "user:update",
                Some("1a64f7f75028fef55f815007"),
                Some(ChannelType::Web)
            ),
            ("switchboard:passControl", None, None),
        ]
    );
}
