//! Property tests: any event or v2 body the crate can build round-trips through JSON, and random
//! damage to any fixture (v1 or v2) never makes the parser panic.

mod common;

use chrono::{DateTime, Utc};
use common::{all_fixtures, fixture, v2_fixtures};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use smooch_events::time::IsoTime;
use smooch_events::v1::*;
use smooch_events::{parse_event, parse_webhook, v2, CompactString, Event, JsonMap, ParseError, Webhook};

// ---- Strategies for the crate's types ----

/// Text of any kind, escapes and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{0,12}",
        any::<String>(),
        Just("\"quoted\" \\ \n \u{1F600} ключ".to_owned())
    ]
}

/// Text for a string field of the crate.
fn field_text() -> impl Strategy<Value = CompactString> {
    text().prop_map(CompactString::from)
}

fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

/// A JSON value without floats that lose digits (serde_json reads floats to the nearest `f64`).
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A free-form map.
fn map() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text(), json(), 0..3).prop_map(|m| m.into_iter().collect())
}

/// Unknown keys: prefixed so that they never collide with a modelled key.
fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("x-[a-z]{1,6}", json(), 0..2).prop_map(|m| m.into_iter().collect())
}

/// Unix seconds as Smooch sends them: millisecond precision, 2010 to 2040, or a whole second.
fn unix_time() -> impl Strategy<Value = DateTime<Utc>> {
    (1_262_304_000_000i64..2_208_988_800_000, any::<bool>()).prop_map(|(ms, whole)| {
        let ms = if whole { ms / 1000 * 1000 } else { ms };
        DateTime::from_timestamp_millis(ms).unwrap()
    })
}

/// ISO times keep any precision.
/// An ISO time in one of the spellings RFC 3339 allows: Smooch's own (`Z` and milliseconds), no
/// fraction, 2 or 6 fraction digits, an offset, a lowercase `t` and `z`; each comes back as sent.
fn iso_time() -> impl Strategy<Value = IsoTime> {
    let spellings = [
        "%Y-%m-%dT%H:%M:%S%.3fZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S%.6fZ",
        "%Y-%m-%dT%H:%M:%S%.9f+02:00",
        "%Y-%m-%dt%H:%M:%S%.3fz",
    ];
    (
        0i64..4_102_444_800,
        0u32..1_000_000_000,
        0..spellings.len(),
        0..3u8,
    )
        .prop_map(move |(s, ns, spelling, centis)| {
            let time = DateTime::from_timestamp(s, ns).unwrap();
            let mut text = time.format(spellings[spelling]).to_string();
            if centis == 0 && spelling == 0 {
                // Two fraction digits: `.82Z`.
                text.replace_range(text.len() - 2..text.len() - 1, "");
            }
            if spelling == 3 {
                // The offset says the local time two hours ahead.
                let local = time + chrono::Duration::hours(2);
                text = local.format(spellings[spelling]).to_string();
            }
            let parsed: IsoTime = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
            parsed
        })
}

/// An open enum value: a known one, or `Other` with a spelling that is not known.
fn open<T: Clone + std::fmt::Debug + From<String> + 'static>(
    known: &'static [T],
) -> impl Strategy<Value = T> {
    prop_oneof![select(known), "[a-z]{3,8}-new".prop_map(T::from)]
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

/// A random change to a body: flip, insert or delete bytes, or cut it short.
#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let interesting = select(&b"{}[]\":,\\0123456789.eE-+ntfu\xff\x00 "[..]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Damage::Insert(i, b)),
        any::<usize>().prop_map(Damage::Delete),
        any::<usize>().prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let len = bytes.len().max(1);
    match *damage {
        Damage::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b.max(1),
        Damage::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Damage::Delete(i) if !bytes.is_empty() => {
            bytes.remove(i % len);
        }
        Damage::Truncate(i) => bytes.truncate(i % len),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Damaging any fixture, v1 or v2, never panics; what still parses round-trips; and
    /// `parse_webhook` agrees with `parse_event` on every body `parse_event` takes.
    #[test]
    fn damaged_fixtures_never_panic(index in any::<prop::sample::Index>(), damages in vec(damage(), 1..6)) {
        let names: Vec<String> = all_fixtures().into_iter().chain(v2_fixtures()).collect();
        let name = index.get(&names);
        let mut bytes = fixture(name);
        for d in &damages {
            apply(&mut bytes, d);
        }
        let v1 = parse_event(&bytes);
        if let Ok(event) = &v1 {
            let _ = event.validate();
            let again = serde_json::to_vec(event).unwrap();
            prop_assert_eq!(&parse_event(&again).unwrap(), event);
        }
        let any = parse_webhook(&bytes);
        if let Ok(webhook) = &any {
            let _ = webhook.validate();
            let again = serde_json::to_vec(webhook).unwrap();
            prop_assert_eq!(&parse_webhook(&again).unwrap(), webhook);
        }
        match (v1, any) {
            (Ok(event), any) => prop_assert_eq!(any, Ok(Webhook::V1(event))),
            (Err(ParseError::V2Body), _) | (Err(ParseError::MissingTrigger), Err(ParseError::UnknownVersion)) => {}
            (Err(v1), any) => prop_assert_eq!(any, Err(v1)),
        }
    }
}

// ---- Strategies for v2 ----

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
