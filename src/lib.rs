//! Typed, validated Smooch and Sunshine Conversations webhook bodies: v1 and v1.1 (Smooch, one
//! event per body, named by its `trigger`) and v2 (Sunshine Conversations, a list of `events`,
//! each with its `type`).
//!
//! Two entries read the raw bytes of a request:
//!
//! - [`parse_webhook`] reads a body of any version into a [`Webhook`]: [`Webhook::V1`] with a
//!   [`v1::Event`], or [`Webhook::V2`] with a [`v2::Body`] whose `events` are [`v2::Event`]s.
//!   The version comes from the body (a `trigger` key means v1, else an `events` key v2), in
//!   the same single pass that reads it.
//! - [`parse_event`] reads a v1 or v1.1 body into an [`Event`] (the same as [`v1::Event`]), one
//!   variant per trigger; given a v2 body it answers [`ParseError::V2Body`].
//!
//! ```
//! use smooch_events::{parse_event, Event};
//!
//! let body = br#"{
//!     "trigger": "conversation:start",
//!     "app": {"_id": "57ec2881c47d2d24b0c16427"},
//!     "source": {"type": "messenger"},
//!     "appUser": {"_id": "c7f6e6d6c3a637261bd9656f", "userId": "bob@example.com"},
//!     "timestamp": 1480349392.103
//! }"#;
//!
//! match parse_event(body)? {
//!     Event::ConversationStart(start) => {
//!         assert_eq!(start.app_user.user_id.as_deref(), Some("bob@example.com"));
//!         assert_eq!(start.envelope.timestamp.unwrap().timestamp_millis(), 1480349392103);
//!     }
//!     Event::Unknown(other) => println!("not modelled: {}", other.trigger),
//!     other => println!("{}", other.trigger()),
//! }
//! # Ok::<(), smooch_events::ParseError>(())
//! ```
//!
//! ```
//! use smooch_events::{parse_webhook, v2, Webhook};
//!
//! let body = br#"{
//!     "app": {"id": "5ebee0975ac5304b664a12fa"},
//!     "webhook": {"id": "5f4eaef81e3dcc117c7ba48a", "version": "v2"},
//!     "events": [{
//!         "id": "5f74a0d52b5315fc007e798a",
//!         "createdAt": "2020-09-30T15:14:29.834Z",
//!         "type": "conversation:message",
//!         "payload": {
//!             "conversation": {"id": "f52b01137aa6c250bc7251fa", "type": "personal"},
//!             "message": {"id": "5f74c7d84a146f3abd72af1d", "author": {"type": "user"},
//!                         "content": {"type": "text", "text": "hello"}}
//!         }
//!     }]
//! }"#;
//!
//! let Webhook::V2(webhook) = parse_webhook(body)? else { unreachable!() };
//! let event = &webhook.events[0];
//! assert!(matches!(event, v2::Event::ConversationMessage(_)));
//! assert_eq!(event.created_at().unwrap().timestamp_millis(), 1601478869834);
//! assert_eq!(event.conversation_id(), Some("f52b01137aa6c250bc7251fa"));
//! assert_eq!(event.message().unwrap().text(), Some("hello"));
//! # Ok::<(), smooch_events::ParseError>(())
//! ```
//!
//! - A trigger or event type the crate does not model is not an error: it is
//!   [`Event::Unknown`] or [`v2::Event::Unknown`], with its body. Every value implements
//!   `Deserialize` and `Serialize`; serializing gives the body back, unknown keys included (each
//!   struct keeps them in `extra`).
//! - [`Event::validate`] and [`v2::Body::validate`] (or [`Webhook::validate`]) check what
//!   parsing lets through: empty ids, implausible times, values kept because they did not fit,
//!   and more, each reported with its JSON path.
//! - [`WebhookSecrets`] checks the `X-API-Key` header in constant time against every valid
//!   secret, limits the body size and parses a body of either version, telling which HTTP status
//!   to answer. With the `axum` feature, the extractor `smooch_events::axum::VerifiedWebhook`
//!   does the same inside an axum service of your own.
//! - [`time`] holds the serde modules for the two time formats.
//!
//! A [`ParseError`] says which kind of problem a body has, and names the trigger (`v2` for a v2
//! body) and the JSON path:
//!
//! ```
//! let error = smooch_events::parse_event(br#"{"trigger": "conversation:read", "appUser": {"_id": 7}}"#)
//!     .unwrap_err();
//! assert_eq!(error.to_string(), "conversation:read: appUser._id: expected a string, found the number 7");
//! let error = smooch_events::parse_webhook(br#"{"events": {}}"#).unwrap_err();
//! assert_eq!(error.to_string(), "v2: events: expected a list, found an object");
//! ```
//!
//! # Reading an event: one call per question
//!
//! Whatever its type, an event answers the questions a receiver asks every day in one call,
//! `None` (or empty, or `false`) where its type does not carry the answer, so the common path
//! needs no `match` and no chain of `Option`s: the [`v2`] and [`v1`] module pages list them in a
//! table ([`v2::Event::user_id`], [`v2::Event::channel`], [`v2::Event::postback`],
//! [`v2::Event::integration_in_control`], [`v2::Event::dedupe_key`], …). Where both versions
//! answer the same question, the accessor has the same name in both (v2's). A message's `text()`
//! is what a person typed; the generated text of a location, carousel or form response is
//! `text_or_fallback()`. Channels, event types and reasons come by value, so they compare with
//! `==`:
//!
//! ```
//! use smooch_events::{parse_webhook, v2, Webhook};
//!
//! let Webhook::V2(body) = parse_webhook(&std::fs::read("fixtures/v2/conversation_message.json")?)? else {
//!     unreachable!()
//! };
//! let event = &body.events[0];
//! assert!(event.kind() == v2::EventType::ConversationMessage);
//! assert!(event.channel() == Some(v2::ChannelType::Telegram));
//! assert!(event.is_from_user());
//! // A payload is one call away, sent or not: no `Option` to unwrap first.
//! let v2::Event::ConversationMessage(e) = event else { unreachable!() };
//! let conversation = e.payload().conversation.as_ref().unwrap();
//! assert_eq!(conversation.id.as_deref(), Some("f52b01137aa6c250bc7251fa"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # One handler for v1 and v2
//!
//! [`Webhook::incoming`] gives the messages and postbacks of a body of either version the same
//! way, as [`Incoming`] values (who, where, when, and what was said or tapped), so that one
//! handler answers both during a migration, with no `match` on the version. `examples/bot.rs` is
//! a whole bot written with it.
//!
//! ```
//! use smooch_events::{parse_webhook, IncomingKind};
//!
//! for file in ["fixtures/message_appUser_text.json", "fixtures/v2/conversation_postback.json"] {
//!     for item in parse_webhook(&std::fs::read(file)?)?.incoming() {
//!         match &item.kind {
//!             IncomingKind::Message(message) if message.is_from_user() => {
//!                 assert_eq!(message.text, Some("Hi! Do you have time to chat?"));
//!                 assert_eq!(item.user_id, Some("c7f6e6d6c3a637261bd9656f"));
//!             }
//!             IncomingKind::Postback(postback) => assert_eq!(postback.payload, Some("Greet")),
//!             _ => {}
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rust names and JSON names
//!
//! A field is the JSON key in snake_case (`appUser` is `app_user`, `isFinalEvent` is
//! `is_final_event`), a variant the JSON value in CamelCase (`conversation:message:delivery:channel`
//! is [`v2::Event::ConversationMessageDeliveryChannel`], `sdkGroup` is
//! [`v2::ConversationType::SdkGroup`], `AI` is [`v2::AuthorSubtype::Ai`]), and a type the
//! spec's schema name. These are the exceptions:
//!
//! | Rust | JSON | Why |
//! |---|---|---|
//! | `kind` | `type` (when it is not a tag) | `type` is a keyword: [`v1::Message::kind`], [`v2::Source::kind`], [`v2::Author::kind`], … |
//! | `id` | `_id` (v1) | one name for the id in both versions: [`v1::AppUser::id`], [`v1::Message::id`], … |
//! | [`v1::ReferralDetails::ad_id_camel`], [`ad_id_snake`](v1::ReferralDetails::ad_id_snake) | `adId`, `ad_id` | the docs use both spellings; [`v1::ReferralDetails::ad_id`] reads either |
//! | `extra` | every key a struct does not model | kept, and written back |
//! | [`v1::Envelope`], `envelope` | the top-level keys every v1 trigger may carry (`app`, `timestamp`, …) | flattened into each payload struct |
//! | [`v1::Platform::OtherPlatform`] | `"other"` | [`v1::Platform::Other`] keeps the values the docs do not name |
//! | [`v1::ReferralType::OpenThreadDashed`] | `"OPEN-THREAD"` | [`v1::ReferralType::OpenThread`] is `"OPEN_THREAD"` |
//! | [`v2::ActivityMessage::TransferToEmail`], [`EndedByUser`](v2::ActivityMessage::EndedByUser) | `"ticket:transfer:email"`, `"conversation:endedByUser"` | shorter |
//! | [`v2::WebhookVersion::V1_1`] | `"v1.1"` | |
//! | `Other(…)`, `Unknown(…)` | any value or tag the crate does not model | kept as sent |
//! | [`v2::Body`] | the whole v2 body | [`Webhook`] is a body of either version |
//! | [`v2::App`], [`v2::WebhookRef`] | `app` (`S.appSubSchema`), `webhook` (`S.webhookSubSchema`) | |
//! | [`v2::Message`], [`v2::Author`] | `S.messageWebhook` and `S.message`, `S.authorWebhook` and `S.author` | one type for the webhook's and the quoted message's shape |
//! | [`v2::Source`] | `S.sourceWebhook`, `S.sourceWithCampaignWebhook`, `S.source` | one type for the three |
//! | [`v2::User`], [`v2::Conversation`], [`v2::SwitchboardIntegration`] | `S.userTruncated` and `S.user`, `S.conversationTruncated`, `S.switchboardIntegrationWebhook` | |
//! | [`v2::Postback`] | a `conversation:postback`'s `postback` (`S.postbackWebhook`) | |
//! | [`v2::PostbackAction`], [`v2::BuyAction`], [`v2::LinkAction`], [`v2::LocationRequestAction`], [`v2::ReplyAction`], [`v2::WebviewAction`] | the buttons `S.postback`, `S.buy`, `S.link`, `S.locationRequest`, `S.reply`, `S.webview` | `S.postback` is not the webhook's postback |
//! | [`v2::MessageRef`] | a delivery event's `message` (only `{id}`) | not a whole message |
//! | [`v2::DeliveryError`], [`v2::UntypedError`] | the `error` of a delivery failure; of `client:remove` and the switchboard failures | two shapes in the spec |
//! | [`v2::ChannelType`] | `source.type`, `destination.type`, `client.type`, `integrationType` | one type for the four |
//! | [`v2::FormField`] | `S.formMessageField` and `S.formResponseMessageField` | one type for both |
//! | [`v2::QuotedMessageMessage`], [`v2::QuotedExternalMessageId`] | `S.quotedMessageMessage`, `S.quotedMessageExternalMessageId` | |
//! | [`v1::ConversationRef`], [`v1::MessageItem`], [`v1::ChannelError`], [`v1::LinkCriteria`] | v1.1 `conversation`, `items[]`, `error`, `criteria` | |
//!
//! # Key order of what is written back
//!
//! Serializing a parsed body gives the same JSON value as the body, not the same text: the keys
//! come back in the crate's order. Each object writes its tag first where it has one (`trigger`
//! of a v1 body, `type` of a v2 event, content, action, quoted message), then the fields the
//! crate models in the order of the Rust struct's fields, then the keys it does not model
//! (`extra`) in alphabetical order. Free-form maps (`metadata`, `properties`, `info`, …) and the
//! body of an event or object the crate does not model ([`Event::Unknown`], [`v2::Event::Unknown`],
//! `Content::Unknown`, …) are written in alphabetical order (an unknown v1 body after its
//! `trigger`). Compare bodies as `serde_json::Value`s; keep the bytes where you need them byte for
//! byte (the `X-API-Key` check does not: it is not a signature of the body).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "axum")]
pub mod axum;
mod de;
mod error;
mod incoming;
mod location;
mod parse;
pub mod v1;
pub mod v2;
mod versions;
mod webhook;

pub use compact_str::CompactString;
pub use de::map::JsonMap;
pub use de::open_enum::OtherValue;
pub use de::time;
pub use de::walk::{IssueKind, ValidationErrors, ValidationIssue};
pub use error::ParseError;
pub use incoming::{Incoming, IncomingIter, IncomingKind, IncomingMessage, IncomingPostback};
pub use location::LocationView;
pub use parse::{parse_event, parse_webhook};
pub use v1::Event;
pub use versions::Webhook;
pub use webhook::{AuthError, WebhookError, WebhookSecrets};

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
