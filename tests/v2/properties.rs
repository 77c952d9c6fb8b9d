//! Property tests: any v2 body the crate can build round-trips through JSON.

use crate::common::strategies::{extra, field_text, iso_time, map, open, opt};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use smooch_events::{parse_webhook, v2, JsonMap, Webhook};

fn v2_integration() -> BoxedStrategy<v2::SwitchboardIntegration> {
    (
        opt(field_text()),
        opt(field_text()),
        opt(open(v2::ChannelType::KNOWN)),
        extra(),
    )
        .prop_map(|(id, name, kind, extra)| {
            let mut integration = v2::SwitchboardIntegration::new();
            (integration.id, integration.name, integration.integration_type) = (id, name, kind);
            integration.extra = extra.into();
            integration
        })
        .boxed()
}

fn v2_conversation() -> BoxedStrategy<v2::Conversation> {
    (
        opt(field_text()),
        opt(open(v2::ConversationType::KNOWN)),
        opt(map()),
        opt(v2_integration()),
        opt(v2_integration()),
        extra(),
    )
        .prop_map(|(id, kind, metadata, active, pending, extra)| {
            let mut conversation = v2::Conversation::new();
            (conversation.id, conversation.kind) = (id, kind);
            conversation.metadata = metadata.map(JsonMap::from);
            conversation.active_switchboard_integration = active;
            conversation.pending_switchboard_integration = pending;
            conversation.extra = extra.into();
            conversation
        })
        .boxed()
}

fn v2_user() -> BoxedStrategy<v2::User> {
    (
        opt(field_text()),
        opt(any::<bool>()),
        opt(field_text()),
        opt(iso_time()),
        opt((opt(field_text()), opt(field_text()))),
        opt(map()),
        extra(),
    )
        .prop_map(
            |(id, authenticated, external_id, signed_up_at, profile, metadata, extra)| {
                let mut user = v2::User::new();
                (user.id, user.authenticated, user.external_id) = (id, authenticated, external_id);
                user.signed_up_at = signed_up_at;
                user.profile = profile.map(|(given_name, email)| {
                    let mut profile = v2::Profile::new();
                    (profile.given_name, profile.email) = (given_name, email);
                    Box::new(profile)
                });
                user.metadata = metadata.map(JsonMap::from);
                user.extra = extra.into();
                user
            },
        )
        .boxed()
}

fn v2_client() -> BoxedStrategy<v2::Client> {
    (
        opt(field_text()),
        opt(open(v2::ChannelType::KNOWN)),
        opt(open(v2::ClientStatus::KNOWN)),
        opt(iso_time()),
        opt(map()),
        extra(),
    )
        .prop_map(|(id, kind, status, last_seen, info, extra)| {
            let mut client = v2::Client::new();
            (client.id, client.kind, client.status, client.last_seen) = (id, kind, status, last_seen);
            client.info = info.map(JsonMap::from);
            client.extra = extra.into();
            client
        })
        .boxed()
}

fn v2_source() -> BoxedStrategy<v2::Source> {
    (
        opt(open(v2::ChannelType::KNOWN)),
        opt(field_text()),
        opt(iso_time()),
        opt(v2_client()),
        extra(),
    )
        .prop_map(|(kind, integration_id, timestamp, client, extra)| {
            let mut source = v2::Source::new();
            (source.kind, source.integration_id) = (kind, integration_id);
            source.original_message_timestamp = timestamp;
            source.client = client.map(Box::new);
            source.extra = extra.into();
            source
        })
        .boxed()
}

/// A JSON number as a `number` field holds it: whole or not, positive or negative.
fn js_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u64..1 << 40).prop_map(|n| n as f64),
        -1e9..1e9f64,
        (-90.0..90.0f64),
    ]
}

/// An object the crate does not model, with its tag: a new type, kept whole.
fn unknown_object<T: serde::de::DeserializeOwned + std::fmt::Debug>() -> impl Strategy<Value = T> {
    ("[a-z]{3,8}-new", extra()).prop_map(|(kind, mut body)| {
        body.insert("type".into(), Value::from(kind));
        serde_json::from_value(Value::Object(body)).unwrap()
    })
}

fn v2_action() -> BoxedStrategy<v2::Action> {
    prop_oneof![
        (opt(field_text()), opt(any::<i64>()), opt(field_text())).prop_map(|(text, amount, currency)| {
            let mut buy = v2::BuyAction::new();
            (buy.text, buy.amount, buy.currency) = (text, amount, currency);
            v2::Action::Buy(buy)
        }),
        (opt(field_text()), opt(field_text()), opt(any::<bool>())).prop_map(|(text, uri, default)| {
            let mut link = v2::LinkAction::new();
            (link.text, link.uri, link.default) = (text, uri, default);
            v2::Action::Link(Box::new(link))
        }),
        (opt(field_text()), opt(field_text()), opt(map())).prop_map(|(text, payload, metadata)| {
            let mut reply = v2::ReplyAction::new();
            (reply.text, reply.payload) = (text, payload);
            reply.metadata = metadata.map(JsonMap::from);
            v2::Action::Reply(reply)
        }),
        unknown_object::<v2::Action>(),
    ]
    .boxed()
}

fn v2_content() -> BoxedStrategy<v2::Content> {
    prop_oneof![
        (opt(field_text()), opt(vec(v2_action(), 0..3)), extra()).prop_map(|(text, actions, extra)| {
            let mut content = v2::TextMessage::new();
            (content.text, content.actions, content.extra) = (text, actions, extra.into());
            v2::Content::Text(content)
        }),
        (opt(field_text()), opt(js_number()), opt(field_text())).prop_map(|(url, size, media_type)| {
            let mut content = v2::ImageMessage::new();
            (content.media_url, content.media_size, content.media_type) = (url, size, media_type);
            v2::Content::Image(Box::new(content))
        }),
        opt((js_number(), js_number())).prop_map(|coordinates| {
            let mut content = v2::LocationMessage::new();
            content.coordinates = coordinates.map(|(lat, long)| {
                let mut coordinates = v2::Coordinates::new();
                (coordinates.lat, coordinates.long) = (Some(lat), Some(long));
                coordinates
            });
            v2::Content::Location(Box::new(content))
        }),
        opt(vec((opt(field_text()), opt(vec(v2_action(), 0..2))), 0..3)).prop_map(|items| {
            let mut content = v2::CarouselMessage::new();
            content.items = items.map(|items| {
                items
                    .into_iter()
                    .map(|(title, actions)| {
                        let mut item = v2::Item::new();
                        (item.title, item.actions) = (title, actions);
                        item
                    })
                    .collect()
            });
            v2::Content::Carousel(Box::new(content))
        }),
        unknown_object::<v2::Content>(),
    ]
    .boxed()
}

fn v2_message() -> BoxedStrategy<v2::Message> {
    (
        (
            opt(field_text()),
            opt(iso_time()),
            opt((open(v2::AuthorType::KNOWN), opt(field_text()), opt(v2_user()))),
        ),
        (
            opt(v2_content()),
            opt(v2_source()),
            opt(map()),
            opt(any::<bool>()),
            extra(),
        ),
    )
        .prop_map(
            |((id, received, author), (content, source, metadata, deleted, extra))| {
                let mut message = v2::Message::new();
                (message.id, message.received) = (id, received);
                message.author = author.map(|(kind, user_id, user)| {
                    let mut author = v2::Author::new();
                    (author.kind, author.user_id, author.user) = (Some(kind), user_id, user);
                    author
                });
                (message.content, message.source, message.deleted) = (content, source, deleted);
                message.metadata = metadata.map(JsonMap::from);
                message.extra = extra.into();
                message
            },
        )
        .boxed()
}

/// Any v2 event, of several types, the unknown ones included.
fn v2_event() -> BoxedStrategy<v2::Event> {
    let head = || (opt(field_text()), opt(iso_time()), extra());
    let message = (
        head(),
        opt(v2_conversation()),
        opt(v2_message()),
        opt(vec(v2_message(), 0..2)),
    )
        .prop_map(|((id, created_at, extra), conversation, message, recent)| {
            let mut payload = v2::ConversationMessagePayload::new();
            (
                payload.conversation,
                payload.message,
                payload.recent_notifications,
            ) = (conversation, message, recent);
            let mut event = v2::ConversationMessageEvent::new();
            (event.id, event.created_at, event.payload, event.extra) =
                (id, created_at, Some(payload), extra.into());
            v2::Event::ConversationMessage(Box::new(event))
        });
    let delivery = (
        head(),
        opt(v2_user()),
        opt(field_text()),
        opt(vec(field_text(), 0..3)),
        opt(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(
            |((id, created_at, extra), user, message, external, last, channel)| {
                let mut payload = v2::ConversationMessageDeliveryPayload::new();
                payload.user = user;
                payload.message = message.map(|id| {
                    let mut message = v2::MessageRef::new();
                    message.id = Some(id);
                    message
                });
                payload.external_messages = external.map(|ids| {
                    ids.into_iter()
                        .map(|id| {
                            let mut external = v2::ExternalMessage::new();
                            external.id = Some(id);
                            external
                        })
                        .collect()
                });
                payload.is_final_event = last;
                let mut event = v2::MessageDeliveryEvent::new();
                (event.id, event.created_at, event.payload, event.extra) =
                    (id, created_at, Some(payload), extra.into());
                if channel {
                    v2::Event::ConversationMessageDeliveryChannel(Box::new(event))
                } else {
                    v2::Event::ConversationMessageDeliveryUser(Box::new(event))
                }
            },
        );
    let client = (
        head(),
        opt(v2_conversation()),
        opt(v2_user()),
        opt(v2_client()),
        opt(open(v2::ClientAddReason::KNOWN)),
    )
        .prop_map(|((id, created_at, extra), conversation, user, client, reason)| {
            let mut payload = v2::ClientAddPayload::new();
            (payload.conversation, payload.user, payload.client, payload.reason) =
                (conversation, user, client, reason);
            let mut event = v2::ClientAddEvent::new();
            (event.id, event.created_at, event.payload, event.extra) =
                (id, created_at, Some(payload), extra.into());
            v2::Event::ClientAdd(Box::new(event))
        });
    let merge = (
        head(),
        opt((opt(v2_user()), opt(v2_user()))),
        opt(map()),
        opt(open(v2::MergeReason::KNOWN)),
    )
        .prop_map(|((id, created_at, extra), users, discarded_metadata, reason)| {
            let mut payload = v2::UserMergePayload::new();
            payload.merged_users = users.map(|(surviving, discarded)| {
                let mut users = v2::MergedUsers::new();
                (users.surviving, users.discarded) = (surviving, discarded);
                users
            });
            payload.discarded_metadata = discarded_metadata.map(JsonMap::from);
            payload.reason = reason;
            let mut event = v2::UserMergeEvent::new();
            (event.id, event.created_at, event.payload, event.extra) =
                (id, created_at, Some(payload), extra.into());
            v2::Event::UserMerge(Box::new(event))
        });
    let switchboard = (
        head(),
        opt(v2_conversation()),
        opt(map()),
        opt(field_text()),
        any::<bool>(),
    )
        .prop_map(
            |((id, created_at, extra), conversation, metadata, code, accept)| {
                let mut payload = v2::SwitchboardFailurePayload::new();
                (payload.conversation, payload.metadata) = (conversation, metadata.map(JsonMap::from));
                payload.error = code.map(|code| {
                    let mut error = v2::UntypedError::new();
                    error.code = Some(code);
                    error
                });
                let mut event = v2::SwitchboardFailureEvent::new();
                (event.id, event.created_at, event.payload, event.extra) =
                    (id, created_at, Some(payload), extra.into());
                if accept {
                    v2::Event::SwitchboardAcceptControlFailure(Box::new(event))
                } else {
                    v2::Event::SwitchboardPassControlFailure(Box::new(event))
                }
            },
        );
    prop_oneof![
        message.boxed(),
        delivery.boxed(),
        client.boxed(),
        merge.boxed(),
        switchboard.boxed(),
        unknown_object::<v2::Event>().boxed()
    ]
    .boxed()
}

fn v2_webhook() -> BoxedStrategy<v2::Body> {
    (
        vec(v2_event(), 0..4),
        opt(field_text()),
        opt((field_text(), opt(open(v2::WebhookVersion::KNOWN)))),
        extra(),
    )
        .prop_map(|(events, app, hook, extra)| {
            let mut webhook = v2::Body::new(events);
            webhook.app = app.map(|id| {
                let mut app = v2::App::new();
                app.id = Some(id);
                app
            });
            webhook.webhook = hook.map(|(id, version)| {
                let mut hook = v2::WebhookRef::new();
                (hook.id, hook.version) = (Some(id), version);
                hook
            });
            webhook.extra = extra.into();
            webhook
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Serializing any v2 body and parsing the JSON back gives the same body, through
    /// `parse_webhook` and through `Deserialize`.
    #[test]
    fn any_v2_body_round_trips(webhook in v2_webhook()) {
        let bytes = serde_json::to_vec(&webhook).unwrap();
        let back = parse_webhook(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        prop_assert_eq!(&back, &Webhook::from(webhook.clone()));
        prop_assert_eq!(&serde_json::from_slice::<v2::Body>(&bytes).unwrap(), &webhook);
        let _ = back.validate();
    }
}
