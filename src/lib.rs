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
//!   to answer.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod de;
mod error;
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
pub use parse::{parse_event, parse_webhook};
pub use v1::Event;
pub use versions::Webhook;
pub use webhook::{AuthError, WebhookError, WebhookSecrets};

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
