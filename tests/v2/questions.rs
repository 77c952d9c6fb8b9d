//! The next questions a bot asks, each one call on `v2::Event`: which switchboard integration is
//! in control and which is offered it, whether a user or the business wrote it, where the user is,
//! which users a merge joined, why a conversation was created or control moved, which referral
//! brought the user, the type as a value, and what to store to drop retries. Each is checked on
//! every v2 fixture against the body's JSON read by hand, and with the values of the fixtures that
//! carry an answer.

use crate::common::{fixture, parse_v2, v2_example, v2_fixtures};
use serde_json::Value;
use smooch_events::v2::{ChannelType, CreationReason, Event, EventType, SwitchboardReason};

/// Every event of every v2 fixture, with its JSON as sent.
fn every_event() -> Vec<(String, Event, Value)> {
    let mut out = Vec::new();
    for name in v2_fixtures() {
        let json: Value = serde_json::from_slice(&fixture(&name)).unwrap();
        for (i, event) in parse_v2(&name).events.into_iter().enumerate() {
            out.push((format!("{name} events[{i}]"), event, json["events"][i].clone()));
        }
    }
    assert!(out.len() >= 100, "{}", out.len());
    out
}

/// The only event of a documented example, by its type.
fn example(kind: &str) -> Event {
    let body = parse_v2(&v2_example(kind));
    let [event] = <[Event; 1]>::try_from(body.events).unwrap();
    event
}

/// An event of a written fixture.
fn written(name: &str, index: usize) -> Event {
    parse_v2(&format!("v2/written/{name}.json"))
        .events
        .swap_remove(index)
}

/// The string at `pointer` in `json`, if there is one.
fn text<'a>(json: &'a Value, pointer: &str) -> Option<&'a str> {
    json.pointer(pointer)?.as_str()
}

/// Where the JSON of an event's conversation is, for the types that have one.
fn conversation_pointer(event: &Event) -> Option<&'static str> {
    match event {
        Event::UserMerge(_) => Some("/payload/mergedConversations/surviving"),
        Event::UserUpdate(_) | Event::UserRemove(_) | Event::Unknown(_) => None,
        _ => Some("/payload/conversation"),
    }
}

#[test]
fn kind_is_the_type_of_every_v2_event_as_a_value() {
    let mut named = 0;
    for (name, event, json) in every_event() {
        let sent = json["type"].as_str().unwrap_or_default();
        assert_eq!(event.kind(), EventType::from(sent), "{name}");
        assert_eq!(event.kind().as_str(), sent, "{name}");
        assert_eq!(event.trigger(), sent, "{name}");
        // A type the spec names has its variant; only the others are `Other`.
        let spec_names = EventType::KNOWN.iter().any(|kind| kind.as_str() == sent);
        assert_eq!(!matches!(event.kind(), EventType::Other(_)), spec_names, "{name}");
        named += usize::from(spec_names);
    }
    // Every event of the fixtures but the one of a type the spec does not name.
    assert_eq!(named, 99);
    // The 25 documented types and `passthrough:messaging`, which the spec names without a schema.
    assert_eq!(EventType::KNOWN.len(), 26);
    for (kind, text) in EventType::KNOWN.iter().zip(Event::TYPES) {
        assert_eq!(kind.as_str(), *text);
        assert!(example(text).kind() == *kind);
    }
    assert_eq!(EventType::KNOWN[25], EventType::PassthroughMessaging);
    let unknown = written("unknown_types", 0);
    assert!(unknown.is_unknown());
    assert_eq!(unknown.kind(), EventType::PassthroughMessaging);
    let new = written("unknown_types", 1);
    assert!(matches!(new.kind(), EventType::Other(text) if text == "conversation:somethingNew"));
}

#[test]
fn a_kind_compares_with_a_variant_and_counts_events() {
    let body = parse_v2("v2/written/several_events.json");
    let event = &body.events[0];
    assert!(event.kind() == EventType::ConversationMessage);
    assert!(event.kind() != EventType::ConversationRead);
    let mut counts = std::collections::BTreeMap::new();
    for event in &body.events {
        *counts.entry(event.kind().to_string()).or_insert(0) += 1;
    }
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("conversation:message".to_owned(), 1),
            ("conversation:message:delivery:channel".to_owned(), 1),
            ("conversation:read".to_owned(), 1),
            ("switchboard:passControl".to_owned(), 1),
            ("user:update".to_owned(), 1),
        ]
    );
}

#[test]
fn the_dedupe_key_is_the_app_the_type_and_the_id() {
    for name in v2_fixtures() {
        let json: Value = serde_json::from_slice(&fixture(&name)).unwrap();
        let body = parse_v2(&name);
        for (i, event) in body.events.iter().enumerate() {
            let sent = &json["events"][i];
            let expected = sent["id"].as_str().map(|id| {
                let kind = sent["type"].as_str().unwrap_or_default();
                serde_json::to_string(&(json["app"]["id"].as_str(), kind, id)).unwrap()
            });
            assert_eq!(event.dedupe_key(body.app_id()), expected, "{name} events[{i}]");
        }
    }
    assert_eq!(
        example("conversation:message")
            .dedupe_key(Some("5ebee0975ac5304b664a12fa"))
            .as_deref(),
        Some(r#"["5ebee0975ac5304b664a12fa","conversation:message","5f74a0d52b5315fc007e798a"]"#)
    );
    // The spec's examples give one id to 21 types: the keys still tell them apart.
    let keys: std::collections::HashSet<String> = Event::TYPES
        .iter()
        .filter_map(|kind| example(kind).dedupe_key(Some("a")))
        .collect();
    assert_eq!(keys.len(), 25);
    // One event of two apps is two events; an app without an id is `null`, not `""`.
    let event = example("user:remove");
    assert_ne!(event.dedupe_key(Some("a")), event.dedupe_key(Some("b")));
    assert_ne!(event.dedupe_key(None), event.dedupe_key(Some("")));
    // Nothing a type or an id holds makes two events one key.
    let a = crate::common::parse_v2_json(&serde_json::json!({"events": [
        {"type": "a\",\"b", "id": "c"}, {"type": "a", "id": "b\",\"c"}]}));
    assert_ne!(a.events[0].dedupe_key(None), a.events[1].dedupe_key(None));
    // No id, no key.
    let no_id = crate::common::parse_v2_json(&serde_json::json!({"events": [{"type": "user:remove"}]}));
    assert_eq!(no_id.events[0].dedupe_key(Some("a")), None);
}

#[test]
fn the_integration_in_control_and_the_one_offered_it_on_every_event() {
    let (mut active, mut pending) = (0, 0);
    for (name, event, json) in every_event() {
        let conversation = conversation_pointer(&event).and_then(|pointer| json.pointer(pointer));
        let integration = |key: &str| conversation.and_then(|c| c.get(key)).filter(|i| i.is_object());
        match (
            event.integration_in_control(),
            integration("activeSwitchboardIntegration"),
        ) {
            (Some(view), Some(json)) => {
                active += 1;
                assert_eq!(view.id, text(json, "/id"), "{name}");
                assert_eq!(view.name, text(json, "/name"), "{name}");
                assert_eq!(view.integration_id, text(json, "/integrationId"), "{name}");
                let kind = text(json, "/integrationType").map(ChannelType::from);
                assert_eq!(view.integration_type, kind, "{name}");
            }
            (None, None) => {}
            other => panic!("{name}: {other:?}"),
        }
        match (
            event.integration_offered_control(),
            integration("pendingSwitchboardIntegration"),
        ) {
            (Some(view), Some(json)) => {
                pending += 1;
                assert_eq!(view.name, text(json, "/name"), "{name}");
            }
            (None, None) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(active, 75);
    assert_eq!(pending, 2);
}

#[test]
fn an_offer_of_control_names_both_integrations() {
    let offer = example("switchboard:offerControl");
    let active = offer.integration_in_control().unwrap();
    assert_eq!(active.id, Some("5eecde2dcdbffb08f5c3ed37"));
    assert_eq!(active.name, Some("bot"));
    assert_eq!(active.integration_id, Some("5f11a650e4e987667c2051d1"));
    assert_eq!(active.integration_type, Some(ChannelType::Custom));
    let offered = offer.integration_offered_control().unwrap();
    assert_eq!(offered.id, Some("5eece1cacdbffb08f5c3ed43"));
    assert_eq!(offered.name, Some("human"));
    // Released: nobody is in control.
    let released = example("switchboard:releaseControl");
    assert_eq!(released.integration_in_control(), None);
    assert_eq!(released.integration_offered_control(), None);
    // Passed to a human, in `several_events.json`.
    let passed = written("several_events", 4);
    assert_eq!(passed.integration_in_control().unwrap().name, Some("human"));
    // A type without a conversation, and an unknown type, answer nothing.
    assert_eq!(example("user:update").integration_in_control(), None);
    assert_eq!(written("unknown_types", 1).integration_in_control(), None);
}

#[test]
fn who_wrote_or_did_it_on_every_event() {
    let (mut users, mut businesses) = (0, 0);
    for (name, event, json) in every_event() {
        let author = match event.kind() {
            EventType::ConversationMessage => text(&json, "/payload/message/author/type"),
            EventType::ConversationRead | EventType::ConversationTyping => {
                text(&json, "/payload/activity/author/type")
            }
            _ => None,
        };
        let postback = event.kind() == EventType::ConversationPostback;
        assert_eq!(event.is_from_user(), author == Some("user") || postback, "{name}");
        assert_eq!(event.is_from_business(), author == Some("business"), "{name}");
        if let Some(message) = event.message() {
            assert_eq!(message.is_from_user(), author == Some("user"), "{name}");
            assert_eq!(message.is_from_business(), author == Some("business"), "{name}");
        }
        users += usize::from(event.is_from_user());
        businesses += usize::from(event.is_from_business());
    }
    assert_eq!((users, businesses), (40, 12));
    // The business typing in `fields_examples_omit.json`; a message whose author has no type.
    assert!(written("fields_examples_omit", 7).is_from_business());
    let untyped =
        crate::common::parse_v2_json(&serde_json::json!({"events": [{"type": "conversation:message",
        "payload": {"message": {"id": "m", "author": {"userId": "u"}}}}]}));
    let event = &untyped.events[0];
    assert!(!event.is_from_user() && !event.is_from_business());
    assert!(!event.message().unwrap().is_from_user());
}

#[test]
fn where_the_user_is_on_every_message() {
    let mut located = 0;
    for (name, event, json) in every_event() {
        let Some(message) = event.message() else {
            continue;
        };
        let content = &json["payload"]["message"]["content"];
        match message.location() {
            Some(location) => {
                located += 1;
                assert_eq!(content["type"], "location", "{name}");
                assert_eq!(Some(location.latitude), content["coordinates"]["lat"].as_f64());
                assert_eq!(Some(location.longitude), content["coordinates"]["long"].as_f64());
                assert_eq!(location.name, text(content, "/location/name"), "{name}");
                assert_eq!(location.address, text(content, "/location/address"), "{name}");
            }
            None => assert_ne!(content["type"], "location", "{name}"),
        }
    }
    assert_eq!(located, 2);
    let line = parse_v2("v2/written/channels/line.json").events.swap_remove(0);
    let location = line.message().unwrap().location().unwrap();
    assert_eq!((location.latitude, location.longitude), (35.6812, 139.7671));
    assert_eq!(location.name, Some("Tokyo Station"));
    // A location without both coordinates is none.
    let half = crate::common::parse_v2_json(&serde_json::json!({"events": [{"type": "conversation:message",
        "payload": {"message": {"id": "m", "content": {"type": "location", "coordinates": {"lat": 1}}}}}]}));
    assert_eq!(half.events[0].message().unwrap().location(), None);
}

#[test]
fn which_users_a_merge_joined_on_every_event() {
    let mut merges = 0;
    for (name, event, json) in every_event() {
        let merge = event.kind() == EventType::UserMerge;
        let at = |pointer: &str| if merge { text(&json, pointer) } else { None };
        assert_eq!(
            event.surviving_user_id(),
            at("/payload/mergedUsers/surviving/id"),
            "{name}"
        );
        assert_eq!(
            event.discarded_user_id(),
            at("/payload/mergedUsers/discarded/id"),
            "{name}"
        );
        merges += usize::from(event.discarded_user_id().is_some());
    }
    assert_eq!(merges, 4);
    let merge = example("user:merge");
    assert_eq!(merge.surviving_user_id(), Some("26508c10541a4b0ff472e5e2"));
    assert_eq!(merge.discarded_user_id(), Some("1a64f7f75028fef55f815007"));
    assert_eq!(merge.user_id(), merge.surviving_user_id());
}

#[test]
fn why_a_conversation_was_created_or_control_moved_on_every_event() {
    let (mut created, mut moved) = (0, 0);
    for (name, event, json) in every_event() {
        let reason = text(&json, "/payload/reason");
        let creation = match event.kind() {
            EventType::ConversationCreate => text(&json, "/payload/creationReason"),
            _ => None,
        };
        assert_eq!(
            event.creation_reason(),
            creation.map(CreationReason::from),
            "{name}"
        );
        let switchboard = match event.kind() {
            EventType::SwitchboardPassControl | EventType::SwitchboardReleaseControl => reason,
            _ => None,
        };
        assert_eq!(
            event.switchboard_reason(),
            switchboard.map(SwitchboardReason::from),
            "{name}"
        );
        created += usize::from(creation.is_some());
        moved += usize::from(switchboard.is_some());
    }
    assert_eq!((created, moved), (4, 1));
    assert_eq!(
        example("conversation:create").creation_reason(),
        Some(CreationReason::PrechatCapture)
    );
    assert_eq!(
        written("fields_examples_omit", 3).switchboard_reason(),
        Some(SwitchboardReason::TicketClosed)
    );
    // The spec's switchboard examples have no reason; nor do other types with a `reason`.
    assert_eq!(example("switchboard:passControl").switchboard_reason(), None);
    assert_eq!(example("user:merge").creation_reason(), None);
}

#[test]
fn which_referral_brought_the_user_on_every_event() {
    let mut referred = 0;
    for (name, event, json) in every_event() {
        let sent = match event.kind() {
            EventType::ConversationReferral | EventType::ConversationCreate => {
                json.pointer("/payload/referral").filter(|r| r.is_object())
            }
            _ => None,
        };
        assert_eq!(event.referral().is_some(), sent.is_some(), "{name}");
        if let (Some(referral), Some(sent)) = (event.referral(), sent) {
            referred += 1;
            assert_eq!(referral.code.as_deref(), text(sent, "/code"), "{name}");
        }
    }
    assert_eq!(referred, 4);
    let create = written("fields_examples_omit", 1);
    let referral = create.referral().unwrap();
    assert_eq!(referral.code.as_deref(), Some("spring-sale"));
    assert_eq!(
        referral.details.as_ref().unwrap().ad_id.as_deref(),
        Some("4216212847577")
    );
    // The spec's own referral example sends `{}`.
    assert_eq!(example("conversation:referral").referral().unwrap().code, None);
}

#[test]
fn a_payload_is_one_call_away_sent_or_not() {
    let Event::ConversationMessage(message) = example("conversation:message") else {
        panic!()
    };
    let payload = message.payload();
    assert_eq!(
        payload.conversation.as_ref().unwrap().id.as_deref(),
        Some("f52b01137aa6c250bc7251fa")
    );
    assert!(std::ptr::eq(payload, message.payload.as_ref().unwrap()));
    // No payload, or one that is not an object: an empty one, and the field says what was sent.
    let body = crate::common::parse_v2_json(&serde_json::json!({"events": [
        {"type": "user:merge", "id": "a"}, {"type": "user:merge", "id": "b", "payload": 7}]}));
    for event in &body.events {
        let Event::UserMerge(merge) = event else { panic!() };
        assert_eq!(merge.payload, None);
        assert_eq!(merge.payload().merged_users, None);
        assert_eq!(event.discarded_user_id(), None);
    }
    let Event::UserMerge(kept) = &body.events[1] else {
        panic!()
    };
    assert_eq!(kept.extra["payload"], 7);
}
