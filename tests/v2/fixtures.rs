//! Every v2 fixture parses to the variants its types name and round-trips exactly; each documented
//! example gives its concrete values.

use crate::common::{assert_v2_round_trip, fixture, ms, now, parse_v2, v2_example, v2_fixtures};
use chrono::{DateTime, Utc};
use serde_json::Value;
use smooch_events::v2::{
    ActivityType, AuthorType, ChannelType, ClientAddReason, ClientRemoveReason, ClientStatus,
    ClientUpdateReason, Content, ConversationType, CreationReason, Event, MergeReason,
    SwitchboardIntegration, UserUpdateReason, WebhookVersion,
};
use smooch_events::{parse_event, v2, ParseError, Webhook};

/// The problems validation reports, as `path: message` lines.
fn problems(webhook: &v2::Body) -> Vec<String> {
    crate::common::problems(webhook.validate_at(now()))
}

/// What the documented examples get wrong, and so what validation reports for them.
fn documented_problems(name: &str) -> Vec<&'static str> {
    match name {
        "v2/conversation_referral.json" => vec![
            "events[0].createdAt: is missing",
            "events[0].payload.user.externalId: expected a string, found the number 912382197",
        ],
        _ => Vec::new(),
    }
}

#[test]
fn every_v2_fixture_parses_to_its_types_and_round_trips_exactly() {
    let names = v2_fixtures();
    // 25 documented examples and the written ones.
    assert!(names.len() >= 37, "only {} v2 fixtures", names.len());
    let mut events = 0;
    for name in &names {
        let bytes = fixture(name);
        let webhook = parse_v2(name);
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let sent = original["events"].as_array().unwrap();
        assert_eq!(webhook.events.len(), sent.len(), "{name}");
        for (event, sent) in webhook.events.iter().zip(sent) {
            let kind = sent["type"].as_str().unwrap_or_default();
            assert_eq!(event.trigger(), kind, "{name}");
            assert_eq!(
                event.is_unknown(),
                !Event::TYPES.contains(&kind),
                "{name}: variant for {kind}"
            );
            assert_eq!(event.id(), sent["id"].as_str(), "{name}");
            assert_eq!(
                event.created_at().map(|t| t.timestamp_millis()),
                sent.get("createdAt")
                    .map(|t| ms(serde_json::from_value::<DateTime<Utc>>(t.clone()).ok())),
                "{name}"
            );
            events += 1;
        }
        assert_v2_round_trip(name, &webhook);
        // Every other way in gives the same value.
        let any: Webhook = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(any, Webhook::from(webhook.clone()), "{name}: from_value");
        let direct: v2::Body = serde_json::from_value(original).unwrap();
        assert_eq!(direct, webhook, "{name}: v2::Body from_value");
        assert_eq!(
            serde_json::from_slice::<Webhook>(&bytes).unwrap(),
            any,
            "{name}: from_slice"
        );
        // The v1 entry names the v2 one.
        assert_eq!(parse_event(&bytes), Err(ParseError::V2Body), "{name}");
        assert_eq!(problems(&webhook), documented_problems(name), "{name}");
    }
    assert!(events >= 70, "{events} events");
}

#[test]
fn every_documented_type_has_its_example() {
    for kind in Event::TYPES {
        let name = v2_example(kind);
        let webhook = parse_v2(&name);
        let [event] = &webhook.events[..] else {
            panic!("{name}")
        };
        assert_eq!(event.trigger(), *kind);
        assert!(!event.is_unknown(), "{name}");
        assert_eq!(
            webhook.app_id(),
            Some(if kind.starts_with("client:") {
                "60bf823452c2a718162f986a"
            } else {
                "5ebee0975ac5304b664a12fa"
            })
        );
        let hook = webhook.webhook.as_ref().unwrap();
        assert_eq!(hook.version, Some(WebhookVersion::V2), "{name}");
    }
    assert_eq!(Event::TYPES.len(), 25);
}

/// The only event of a documented example.
fn only(name: &str) -> (v2::Body, Event) {
    let webhook = parse_v2(name);
    let [event] = &webhook.events[..] else {
        panic!("{name}: not one event")
    };
    let event = event.clone();
    (webhook, event)
}

/// The conversation most examples share: `personal`, with the `bot` in control.
fn assert_shared_conversation(event: &Event, kind: ConversationType) {
    let conversation = event.conversation().expect("a conversation");
    assert_eq!(conversation.id.as_deref(), Some("f52b01137aa6c250bc7251fa"));
    assert_eq!(conversation.kind, Some(kind));
    assert_bot(conversation.active_switchboard_integration.as_ref());
    assert_eq!(conversation.pending_switchboard_integration, None);
}

fn assert_bot(integration: Option<&SwitchboardIntegration>) {
    let bot = integration.expect("a switchboard integration");
    assert_eq!(bot.id.as_deref(), Some("5eecde2dcdbffb08f5c3ed37"));
    assert_eq!(bot.name.as_deref(), Some("bot"));
    assert_eq!(bot.integration_id.as_deref(), Some("5f11a650e4e987667c2051d1"));
    assert_eq!(bot.integration_type, Some(ChannelType::Custom));
}

/// The event id and time 20 of the examples share.
fn assert_shared_id_and_time(event: &Event) {
    assert_eq!(event.id(), Some("5f74a0d52b5315fc007e798a"));
    assert_eq!(ms(event.created_at()), 1601478869834);
}

/// The user most examples share (truncated: `id`, `externalId`, `authenticated`).
fn assert_steve(user: Option<&v2::User>, authenticated: bool) {
    let user = user.expect("a user");
    assert_eq!(user.id.as_deref(), Some("26508c10541a4b0ff472e5e2"));
    assert_eq!(user.external_id.as_deref(), Some("912382197"));
    assert_eq!(user.authenticated, Some(authenticated));
    assert_eq!(
        (&user.profile, &user.signed_up_at, &user.identities),
        (&None, &None, &None)
    );
}

#[test]
fn conversation_message() {
    let name = "v2/conversation_message.json";
    let (webhook, event) = only(name);
    let Event::ConversationMessage(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    assert_eq!(
        webhook.webhook.as_ref().unwrap().id.as_deref(),
        Some("5f4eaef81e3dcc117c7ba48a")
    );
    assert_shared_conversation(&event, ConversationType::Personal);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.recent_notifications, None);
    let message = payload.message.as_ref().unwrap();
    assert_eq!(message.id.as_deref(), Some("5f74c7d84a146f3abd72af1d"));
    assert_eq!(ms(message.received.as_ref()), 1601488856820);
    let author = message.author.as_ref().unwrap();
    assert_eq!(author.kind, Some(AuthorType::User));
    assert_eq!(author.user_id.as_deref(), Some("26508c10541a4b0ff472e5e2"));
    // Not in `S.authorWebhook`, but in the example: modelled, so typed.
    assert_eq!(author.display_name.as_deref(), Some("Steve Rogers"));
    assert_eq!(
        author.avatar_url.as_deref(),
        Some("https://s3.amazonaws.com/avatar.jpg")
    );
    assert_steve(author.user.as_ref(), true);
    let Some(Content::Text(text)) = &message.content else {
        panic!("{message:?}")
    };
    assert_eq!(text.text.as_deref(), Some("hello"));
    assert_eq!(message.text(), Some("hello"));
    assert_eq!(
        event.message().unwrap().content.as_ref().unwrap().type_name(),
        "text"
    );
    let source = message.source.as_ref().unwrap();
    assert_eq!(source.kind, Some(ChannelType::Telegram));
    assert_eq!(source.integration_id.as_deref(), Some("5ec69c6e12dda33be985cb1a"));
    assert_eq!(source.original_message_id.as_deref(), Some("374"));
    assert_eq!(ms(source.original_message_timestamp.as_ref()), 1601488856000);
    assert_eq!(
        event.user().unwrap().id.as_deref(),
        Some("26508c10541a4b0ff472e5e2")
    );
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn delivery_events() {
    for (name, variant, destination, integration, external) in [
        (
            "v2/conversation_message_delivery_channel.json",
            "channel",
            ChannelType::Telegram,
            "5ec69c6e12dda33be985cb1a",
            Some("371"),
        ),
        (
            "v2/conversation_message_delivery_user.json",
            "user",
            ChannelType::Twilio,
            "5ecc061987d4d413774a8131",
            Some("SM900c83b124b6467eb6db835a969d7374"),
        ),
    ] {
        let (webhook, event) = only(name);
        let e = match (&event, variant) {
            (Event::ConversationMessageDeliveryChannel(e), "channel") => e,
            (Event::ConversationMessageDeliveryUser(e), "user") => e,
            other => panic!("{other:?}"),
        };
        assert_shared_id_and_time(&event);
        assert_shared_conversation(&event, ConversationType::Personal);
        let payload = e.payload.as_ref().unwrap();
        assert_steve(payload.user.as_ref(), true);
        let destination_object = payload.destination.as_ref().unwrap();
        assert_eq!(destination_object.kind.as_ref(), Some(&destination), "{name}");
        assert_eq!(destination_object.integration_id.as_deref(), Some(integration));
        let ids: Vec<_> = payload
            .external_messages
            .iter()
            .flatten()
            .map(|m| m.id.as_deref())
            .collect();
        assert_eq!(ids, [external]);
        assert_eq!(payload.is_final_event, Some(true));
        assert!(payload
            .message
            .as_ref()
            .unwrap()
            .id
            .as_deref()
            .unwrap()
            .starts_with("5f74"));
        assert_v2_round_trip(name, &webhook);
    }
    let name = "v2/conversation_message_delivery_failure.json";
    let (webhook, event) = only(name);
    let Event::ConversationMessageDeliveryFailure(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    let payload = e.payload.as_ref().unwrap();
    assert_steve(payload.user.as_ref(), false);
    assert_eq!(
        payload.message.as_ref().unwrap().id.as_deref(),
        Some("5f74be6256be263abf0ffd5f")
    );
    assert_eq!(
        payload.destination.as_ref().unwrap().kind,
        Some(ChannelType::Twilio)
    );
    // Absent, not null, in this example.
    assert_eq!(payload.external_messages, None);
    assert!(!payload.extra.contains_key("externalMessages"));
    let error = payload.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("uncategorized_error"));
    assert_eq!(error.message.as_deref(), Some("Unsupported message type `form`"));
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn client_events() {
    let name = "v2/client_add.json";
    let (webhook, event) = only(name);
    let Event::ClientAdd(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.id(), Some("61290a62c64b3af1ff868714"));
    assert_eq!(ms(event.created_at()), 1630079586744);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(ClientAddReason::ChannelLinking));
    assert_eq!(event.conversation_id(), Some("c2c8710dedf8f26ee6e9a68f"));
    let user = payload.user.as_ref().unwrap();
    assert_eq!(
        (user.id.as_deref(), user.authenticated),
        (Some("6a2343df57be6fe0f98efc33"), Some(false))
    );
    let client = payload.client.as_ref().unwrap();
    assert_eq!(client.id.as_deref(), Some("61290a4f7821c3f206d690a3"));
    assert_eq!(
        (client.kind.as_ref(), client.status.as_ref()),
        (Some(&ChannelType::Twilio), Some(&ClientStatus::Pending))
    );
    assert_eq!(client.integration_id.as_deref(), Some("60bfc8fa67951336472cc57a"));
    let source = payload.source.as_ref().unwrap();
    assert_eq!(source.kind, Some(ChannelType::Web));
    assert_eq!(source.integration_id.as_deref(), Some("60bf824952c2a718162f989c"));
    assert_v2_round_trip(name, &webhook);

    let name = "v2/client_remove.json";
    let (webhook, event) = only(name);
    let Event::ClientRemove(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.id(), Some("61290a6cc64b3af1ff868715"));
    assert_eq!(ms(event.created_at()), 1630079596591);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(ClientRemoveReason::Sdk));
    assert_eq!(
        (payload.conversation.as_ref(), payload.error.as_ref()),
        (None, None)
    );
    let client = payload.client.as_ref().unwrap();
    assert_eq!(client.status, Some(ClientStatus::Active));
    assert_eq!(client.external_id.as_deref(), Some("+15140000000"));
    assert_eq!(client.display_name.as_deref(), Some("+1 514-000-0000"));
    assert_eq!(ms(client.last_seen.as_ref()), 1630079586721);
    assert_eq!(ms(client.linked_at.as_ref()), 1630079567998);
    assert_eq!(client.info.as_ref().unwrap()["city"], "MONTREAL");
    assert_eq!(client.raw.as_ref().unwrap()["FromZip"], "");
    assert_eq!(client.raw.as_ref().unwrap().len(), 5);
    assert_v2_round_trip(name, &webhook);

    let name = "v2/client_update.json";
    let (webhook, event) = only(name);
    let Event::ClientUpdate(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(ms(event.created_at()), 1630079586744);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(ClientUpdateReason::Confirmed));
    assert_eq!(
        payload.client.as_ref().unwrap().info.as_ref().unwrap()["phoneNumber"],
        "+15140000000"
    );
    assert_eq!(
        event.conversation().unwrap().kind,
        Some(ConversationType::Personal)
    );
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn conversation_events() {
    let name = "v2/conversation_create.json";
    let (webhook, event) = only(name);
    let Event::ConversationCreate(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    assert_shared_conversation(&event, ConversationType::Personal);
    assert_eq!(
        event.conversation().unwrap().metadata.as_ref().unwrap()["lang"],
        "en-ca"
    );
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.creation_reason, Some(CreationReason::PrechatCapture));
    assert_steve(payload.user.as_ref(), true);
    assert_eq!(
        payload.source.as_ref().unwrap().integration_id.as_deref(),
        Some("5ecff63ffc3ab25f4561c8a0")
    );
    assert_eq!(payload.referral, None);
    assert_v2_round_trip(name, &webhook);

    for name in ["v2/conversation_join.json", "v2/conversation_leave.json"] {
        let (webhook, event) = only(name);
        let (Event::ConversationJoin(e) | Event::ConversationLeave(e)) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(
            event.trigger(),
            if name.contains("join") {
                "conversation:join"
            } else {
                "conversation:leave"
            }
        );
        assert_shared_id_and_time(&event);
        assert_shared_conversation(&event, ConversationType::SdkGroup);
        assert_steve(e.payload.as_ref().unwrap().user.as_ref(), true);
        assert_v2_round_trip(name, &webhook);
    }

    let name = "v2/conversation_remove.json";
    let (webhook, event) = only(name);
    assert!(matches!(event, Event::ConversationRemove(_)));
    assert_shared_id_and_time(&event);
    assert_shared_conversation(&event, ConversationType::SdkGroup);
    assert_eq!(event.user(), None);
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn conversation_referral_keeps_the_integer_external_id() {
    let name = "v2/conversation_referral.json";
    let (webhook, event) = only(name);
    let Event::ConversationReferral(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.id(), Some("5f74a0d52b5315fc007e798a"));
    // No `createdAt` in this example.
    assert_eq!(event.created_at(), None);
    assert_shared_conversation(&event, ConversationType::Personal);
    let payload = e.payload.as_ref().unwrap();
    let user = payload.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("26508c10541a4b0ff472e5e2"));
    assert_eq!(user.authenticated, Some(true));
    // A number where the schema says string: read as absent, kept as sent.
    assert_eq!(user.external_id, None);
    assert_eq!(user.extra["externalId"], 912382197);
    // `{}`: a referral with nothing in it.
    assert_eq!(payload.referral, Some(v2::Referral::new()));
    assert_eq!(payload.source.as_ref().unwrap().kind, Some(ChannelType::Web));
    assert_v2_round_trip(name, &webhook);
    assert_eq!(problems(&webhook), documented_problems(name));
}

#[test]
fn postback_read_and_typing() {
    let name = "v2/conversation_postback.json";
    let (webhook, event) = only(name);
    let Event::ConversationPostback(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    assert_shared_conversation(&event, ConversationType::Personal);
    let payload = e.payload.as_ref().unwrap();
    let postback = payload.postback.as_ref().unwrap();
    assert_eq!(
        (postback.payload.as_deref(), postback.metadata.as_ref()),
        (Some("Greet"), None)
    );
    assert_steve(payload.user.as_ref(), true);
    assert_eq!(payload.source.as_ref().unwrap().kind, Some(ChannelType::Telegram));
    assert_v2_round_trip(name, &webhook);

    for (name, kind, user) in [
        (
            "v2/conversation_read.json",
            ActivityType::ConversationRead,
            "b5a0f8de1fd4198a96faa0af",
        ),
        (
            "v2/conversation_typing.json",
            ActivityType::TypingStart,
            "7283cdd6f586679a5fc43cfb",
        ),
    ] {
        let (webhook, event) = only(name);
        let (Event::ConversationRead(e) | Event::ConversationTyping(e)) = &event else {
            panic!("{event:?}")
        };
        assert_shared_id_and_time(&event);
        assert_shared_conversation(&event, ConversationType::Personal);
        let activity = e.payload.as_ref().unwrap().activity.as_ref().unwrap();
        assert_eq!(activity.kind.as_ref(), Some(&kind));
        let author = activity.author.as_ref().unwrap();
        assert_eq!(author.kind, Some(AuthorType::User));
        assert_eq!(author.user_id.as_deref(), Some(user));
        assert_eq!(author.user.as_ref().unwrap().authenticated, Some(false));
        assert_eq!(event.user().unwrap().id.as_deref(), Some(user));
        let source = activity.source.as_ref().unwrap();
        assert_eq!(source.kind, Some(ChannelType::Web));
        assert_eq!(source.integration_id.as_deref(), Some("5ecff63ffc3ab25f4561c8a0"));
        assert_v2_round_trip(name, &webhook);
    }
}

#[test]
fn switchboard_events() {
    for (name, error) in [
        ("v2/switchboard_acceptControl.json", None),
        ("v2/switchboard_passControl.json", None),
        (
            "v2/switchboard_acceptControl_failure.json",
            Some((
                "switchboard_invalid_action",
                "There is no pendingSwitchboardIntegration",
            )),
        ),
        (
            "v2/switchboard_offerControl_failure.json",
            Some((
                "switchboard_invalid_target",
                "Cannot offer control to the active switchboard integration.",
            )),
        ),
        (
            "v2/switchboard_passControl_failure.json",
            Some(("switchboard_invalid_target", "Switchboard invalid target")),
        ),
    ] {
        let (webhook, event) = only(name);
        assert_shared_id_and_time(&event);
        assert_shared_conversation(&event, ConversationType::Personal);
        assert_eq!(event.user(), None, "no user in switchboard events");
        let found = match &event {
            Event::SwitchboardAcceptControl(e) => {
                assert_eq!(e.payload.as_ref().unwrap().metadata, None);
                None
            }
            Event::SwitchboardPassControl(e) => {
                assert_eq!(e.payload.as_ref().unwrap().reason, None);
                None
            }
            Event::SwitchboardAcceptControlFailure(e)
            | Event::SwitchboardOfferControlFailure(e)
            | Event::SwitchboardPassControlFailure(e) => {
                let error = e.payload.as_ref().unwrap().error.as_ref().unwrap();
                Some((error.code.as_deref().unwrap(), error.message.as_deref().unwrap()))
            }
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(found, error, "{name}");
        assert_v2_round_trip(name, &webhook);
    }

    let name = "v2/switchboard_offerControl.json";
    let (webhook, event) = only(name);
    let Event::SwitchboardOfferControl(_) = &event else {
        panic!("{event:?}")
    };
    let conversation = event.conversation().unwrap();
    assert_bot(conversation.active_switchboard_integration.as_ref());
    let human = conversation.pending_switchboard_integration.as_ref().unwrap();
    assert_eq!(human.id.as_deref(), Some("5eece1cacdbffb08f5c3ed43"));
    assert_eq!(human.name.as_deref(), Some("human"));
    assert_eq!(human.integration_id.as_deref(), Some("5f11a65ae4e987667c2051d2"));
    assert_eq!(human.integration_type, Some(ChannelType::Custom));
    assert_v2_round_trip(name, &webhook);

    let name = "v2/switchboard_releaseControl.json";
    let (webhook, event) = only(name);
    let Event::SwitchboardReleaseControl(_) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    let conversation = event.conversation().unwrap();
    // Nobody is in control.
    assert_eq!(conversation.active_switchboard_integration, None);
    assert_eq!(conversation.pending_switchboard_integration, None);
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn user_events() {
    let name = "v2/user_merge.json";
    let (webhook, event) = only(name);
    let Event::UserMerge(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(MergeReason::Api));
    let users = payload.merged_users.as_ref().unwrap();
    assert_steve(users.surviving.as_ref(), true);
    let discarded = users.discarded.as_ref().unwrap();
    assert_eq!(discarded.id.as_deref(), Some("1a64f7f75028fef55f815007"));
    assert_eq!(discarded.external_id.as_deref(), Some("912382198"));
    assert_eq!(
        (&payload.merged_conversations, &payload.merged_clients),
        (&None, &None)
    );
    assert_eq!(
        event.user().unwrap().id.as_deref(),
        Some("26508c10541a4b0ff472e5e2")
    );
    assert_eq!(event.conversation(), None);
    assert_v2_round_trip(name, &webhook);

    let name = "v2/user_update.json";
    let (webhook, event) = only(name);
    let Event::UserUpdate(e) = &event else {
        panic!("{event:?}")
    };
    assert_shared_id_and_time(&event);
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(UserUpdateReason::Authentication));
    assert_eq!(
        payload.user.as_ref().unwrap().external_id.as_deref(),
        Some("9128asd219s7")
    );
    assert_eq!(payload.source.as_ref().unwrap().kind, Some(ChannelType::Web));
    assert_v2_round_trip(name, &webhook);

    let name = "v2/user_remove.json";
    let (webhook, event) = only(name);
    let Event::UserRemove(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.id(), Some("6748e3b2e176d554adbc1a4f"));
    assert_eq!(ms(event.created_at()), 1732830130691);
    let user = e.payload.as_ref().unwrap().user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("6748e3ae32378e732938e031"));
    assert_eq!(user.external_id.as_deref(), Some("abc123"));
    assert_v2_round_trip(name, &webhook);
}
