//! Property tests: any v1 event the crate can build round-trips through JSON. (Damaged fixtures
//! of both versions: `tests/webhook_versions.rs`.)

use crate::common::strategies::{extra, field_text, iso_time, json, map, open, opt};
use chrono::{DateTime, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use smooch_events::v1::*;
use smooch_events::{parse_event, Event, JsonMap};

// ---- Strategies for the crate's types ----

/// Unix seconds as Smooch sends them: millisecond precision, 2010 to 2040, or a whole second.
fn unix_time() -> impl Strategy<Value = DateTime<Utc>> {
    (1_262_304_000_000i64..2_208_988_800_000, any::<bool>()).prop_map(|(ms, whole)| {
        let ms = if whole { ms / 1000 * 1000 } else { ms };
        DateTime::from_timestamp_millis(ms).unwrap()
    })
}

fn app() -> BoxedStrategy<App> {
    (field_text(), extra())
        .prop_map(|(id, extra)| {
            let mut app = App::new();
            app.id = Some(id);
            app.extra = extra.into();
            app
        })
        .boxed()
}

fn source() -> BoxedStrategy<Source> {
    (
        open(Platform::KNOWN),
        opt(field_text()),
        opt(field_text()),
        opt(json()),
        extra(),
    )
        .prop_map(|(kind, id, integration_id, original_timestamp, extra)| {
            let mut source = Source::new();
            source.kind = Some(kind);
            source.id = id;
            source.integration_id = integration_id;
            // `null` means absent, so it cannot come back as a value.
            source.original_message_timestamp = original_timestamp.filter(|v| !v.is_null());
            source.extra = extra.into();
            source
        })
        .boxed()
}

fn client() -> BoxedStrategy<Client> {
    (
        open(Platform::KNOWN),
        opt(field_text()),
        opt(any::<bool>()),
        opt(iso_time()),
        opt(iso_time()),
        opt(map()),
        opt(open(ClientStatus::KNOWN)),
        extra(),
    )
        .prop_map(
            |(platform, id, active, last_seen, linked_at, info, status, extra)| {
                let mut client = Client::new();
                client.platform = Some(platform);
                client.id = id;
                client.active = active;
                client.last_seen = last_seen;
                client.linked_at = linked_at;
                client.info = info.map(JsonMap::from);
                client.status = status;
                client.extra = extra.into();
                client
            },
        )
        .boxed()
}

fn app_user() -> BoxedStrategy<AppUser> {
    (
        field_text(),
        opt(field_text()),
        opt(map()),
        opt(iso_time()),
        opt(vec(client(), 0..3)),
        opt(any::<bool>()),
        extra(),
    )
        .prop_map(
            |(id, user_id, properties, signed_up_at, clients, started, extra)| {
                let mut user = AppUser::new(id);
                user.user_id = user_id;
                user.properties = properties.map(JsonMap::from);
                user.signed_up_at = signed_up_at;
                user.clients = clients;
                user.conversation_started = started;
                user.extra = extra.into();
                user
            },
        )
        .boxed()
}

fn action() -> BoxedStrategy<Action> {
    (
        open(ActionType::KNOWN),
        opt(field_text()),
        opt(field_text()),
        opt(any::<u64>()),
        opt(open(ActionState::KNOWN)),
        opt(map()),
        extra(),
    )
        .prop_map(|(kind, id, payload, amount, state, metadata, extra)| {
            let mut action = Action::new();
            action.kind = Some(kind);
            action.id = id;
            action.payload = payload;
            action.amount = amount;
            action.state = state;
            action.metadata = metadata.map(Metadata::from);
            action.extra = extra.into();
            action
        })
        .boxed()
}

fn message() -> BoxedStrategy<Message> {
    (
        (
            field_text(),
            opt(open(MessageType::KNOWN)),
            opt(field_text()),
            opt(open(Role::KNOWN)),
        ),
        (opt(unix_time()), opt(source()), opt(vec(action(), 0..3))),
        (
            opt((-90.0..90.0f64, -180.0..180.0f64)),
            opt(vec((field_text(), opt(vec(action(), 0..2))), 0..2)),
        ),
        (opt(map()), opt(any::<u64>()), extra()),
    )
        .prop_map(
            |(
                (id, kind, text, role),
                (received, source, actions),
                (coordinates, items),
                (metadata, size, extra),
            )| {
                let mut message = Message::new(id);
                message.kind = kind;
                message.text = text;
                message.role = role;
                message.received = received;
                message.source = source;
                message.actions = actions;
                message.coordinates = coordinates.map(|(lat, long)| {
                    let mut coordinates = Coordinates::new();
                    (coordinates.lat, coordinates.long) = (Some(lat), Some(long));
                    coordinates
                });
                message.items = items.map(|items| {
                    items
                        .into_iter()
                        .map(|(title, actions)| {
                            let mut item = MessageItem::new();
                            item.title = Some(title);
                            item.actions = actions;
                            item
                        })
                        .collect()
                });
                message.metadata = metadata.map(Metadata::from);
                message.media_size = size;
                message.extra = extra.into();
                message
            },
        )
        .boxed()
}

fn referral() -> BoxedStrategy<Referral> {
    (
        field_text(),
        opt((
            open(ReferralSource::KNOWN),
            open(ReferralType::KNOWN),
            opt(field_text()),
            opt(field_text()),
        )),
    )
        .prop_map(|(code, details)| {
            let mut referral = Referral::new();
            referral.code = Some(code);
            referral.details = details.map(|(source, kind, camel, snake)| {
                let mut details = ReferralDetails::new();
                (details.source, details.kind) = (Some(source), Some(kind));
                details.ad_id_camel = camel;
                details.ad_id_snake = snake;
                details
            });
            referral
        })
        .boxed()
}

fn channel_error() -> BoxedStrategy<ChannelError> {
    (field_text(), opt(field_text()), opt(json()))
        .prop_map(|(code, message, underlying)| {
            let mut error = ChannelError::new();
            error.code = Some(code);
            error.message = message;
            error.underlying_error = underlying.filter(|v| !v.is_null());
            error
        })
        .boxed()
}

fn envelope() -> BoxedStrategy<Envelope> {
    (
        opt(app()),
        opt(unix_time()),
        opt(source()),
        opt(field_text()),
        opt(field_text()),
        opt(client()),
        extra(),
    )
        .prop_map(
            |(app, timestamp, destination, version, conversation, client, extra)| {
                let mut envelope = Envelope::new();
                envelope.app = app;
                envelope.timestamp = timestamp;
                envelope.destination = destination;
                envelope.version = version;
                envelope.conversation = conversation.map(|id| {
                    let mut conversation = ConversationRef::new();
                    conversation.id = Some(id);
                    conversation
                });
                envelope.client = client.map(Box::new);
                envelope.extra = extra.into();
                envelope
            },
        )
        .boxed()
}

/// Any event, of any trigger.
fn event() -> BoxedStrategy<Event> {
    let conversation = (app_user(), opt(source()), opt(referral()), envelope(), 0..3u8).prop_map(
        |(user, source, referral, envelope, which)| match which {
            0 => {
                let mut e = ConversationRead::new(user);
                (e.source, e.envelope) = (source, envelope);
                Event::ConversationRead(Box::new(e))
            }
            1 => {
                let mut e = ConversationStart::new(user);
                (e.source, e.referral, e.envelope) = (source, referral, envelope);
                Event::ConversationStart(Box::new(e))
            }
            _ => {
                let mut e = ConversationReferral::new(user);
                (e.source, e.referral, e.envelope) = (source, referral, envelope);
                Event::ConversationReferral(Box::new(e))
            }
        },
    );
    let messages = (vec(message(), 0..3), app_user(), envelope(), any::<bool>()).prop_map(
        |(m, user, envelope, maker)| {
            let mut e = MessageEvent::new(m, user);
            e.envelope = envelope;
            if maker {
                Event::MessageAppMaker(Box::new(e))
            } else {
                Event::MessageAppUser(Box::new(e))
            }
        },
    );
    let postback =
        (vec((action(), opt(message())), 0..3), app_user(), envelope()).prop_map(|(p, user, envelope)| {
            let postbacks: Vec<Postback> = p
                .into_iter()
                .map(|(action, message)| {
                    let mut postback = Postback::new();
                    (postback.action, postback.message) = (Some(action), message);
                    postback
                })
                .collect();
            let mut e = PostbackEvent::new(postbacks, user);
            e.envelope = envelope;
            Event::Postback(Box::new(e))
        });
    let merge =
        (app_user(), vec(app_user(), 0..3), envelope()).prop_map(|(surviving, discarded, envelope)| {
            let mut e = MergeAppUser::new(surviving, discarded);
            e.envelope = envelope;
            Event::MergeAppUser(Box::new(e))
        });
    let delivery = (
        vec(message(), 0..2),
        app_user(),
        opt(channel_error()),
        envelope(),
        any::<bool>(),
    )
        .prop_map(|(m, user, error, envelope, failed)| {
            let mut e = DeliveryEvent::new(m, user);
            (e.error, e.envelope) = (error, envelope);
            if failed {
                Event::DeliveryFailure(Box::new(e))
            } else {
                Event::DeliverySuccess(Box::new(e))
            }
        });
    let payment = (
        vec((action(), field_text(), opt(source()), opt(message())), 0..2),
        app_user(),
        envelope(),
    )
        .prop_map(|(p, user, envelope)| {
            let payments: Vec<Payment> = p
                .into_iter()
                .map(|(action, charge, source, message)| {
                    let mut payment = Payment::new();
                    let mut charge_object = Charge::new();
                    charge_object.id = Some(charge);
                    (payment.action, payment.charge) = (Some(action), Some(charge_object));
                    (payment.source, payment.message) = (source, message);
                    payment
                })
                .collect();
            let mut e = PaymentSuccess::new(payments, user);
            e.envelope = envelope;
            Event::PaymentSuccess(Box::new(e))
        });
    let link = (
        app_user(),
        opt(open(Platform::KNOWN)),
        opt(map()),
        opt(channel_error()),
        envelope(),
        0..3u8,
    )
        .prop_map(|(user, channel, criteria, error, envelope, which)| {
            let mut e = LinkEvent::new(user);
            (e.channel, e.error, e.envelope) = (channel, error, envelope);
            e.criteria = criteria.map(JsonMap::from);
            match which {
                0 => Event::LinkSuccess(Box::new(e)),
                1 => Event::LinkMatch(Box::new(e)),
                _ => Event::LinkFailure(Box::new(e)),
            }
        });
    let v1_1 = (
        opt(app_user()),
        opt(message()),
        opt(any::<bool>()),
        opt(vec(field_text(), 0..2)),
        opt(channel_error()),
        envelope(),
        0..4u8,
        open(ActivityType::KNOWN),
    )
        .prop_map(
            |(user, message, last, external, error, envelope, which, activity)| {
                if which == 3 {
                    let mut e = TypingAppUser::new();
                    let mut act = Activity::new();
                    act.kind = Some(activity);
                    (e.app_user, e.activity, e.envelope) = (user, Some(act), envelope);
                    return Event::TypingAppUser(Box::new(e));
                }
                let mut e = MessageDelivery::new();
                (e.app_user, e.message, e.is_final_event, e.error, e.envelope) =
                    (user, message, last, error, envelope);
                e.external_messages = external.map(|ids| {
                    ids.into_iter()
                        .map(|id| {
                            let mut external = ExternalMessage::new();
                            external.id = Some(id);
                            external
                        })
                        .collect()
                });
                match which {
                    0 => Event::MessageDeliveryChannel(Box::new(e)),
                    1 => Event::MessageDeliveryUser(Box::new(e)),
                    _ => Event::MessageDeliveryFailure(Box::new(e)),
                }
            },
        );
    let unknown = ("[a-z]{3,8}:[a-z]{3,8}", extra())
        .prop_map(|(trigger, body)| Event::Unknown(Box::new(UnknownEvent::new(trigger, body))));
    prop_oneof![
        conversation.boxed(),
        messages.boxed(),
        postback.boxed(),
        merge.boxed(),
        delivery.boxed(),
        payment.boxed(),
        link.boxed(),
        v1_1.boxed(),
        unknown.boxed()
    ]
    .boxed()
}

// ---- The properties ----

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Serializing any event and parsing the JSON back gives the same event.
    #[test]
    fn any_event_round_trips(event in event()) {
        let bytes = serde_json::to_vec(&event).unwrap();
        let back = parse_event(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        prop_assert_eq!(&back, &event);
        // And validating it never panics.
        let _ = back.validate();
    }
}
