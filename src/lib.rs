//! Typed, validated Smooch (Sunshine Conversations v1) webhook bodies.
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
//! - [`parse_event`] reads the raw bytes of a webhook request into an [`Event`], one variant per
//!   trigger; a trigger the crate does not model is [`Event::Unknown`], with its body. `Event`
//!   also implements `Deserialize` and `Serialize`; serializing gives the body back, unknown keys
//!   included (each struct keeps them in `extra`).
//! - [`Event::validate`] checks what parsing lets through: empty ids, implausible times, roles that
//!   do not fit the trigger, and more, each reported with its JSON path.
//! - [`WebhookSecrets`] checks the `X-API-Key` header in constant time against every valid
//!   secret, limits the body size and parses, telling which HTTP status to answer.
//! - [`time`] holds the serde modules for Smooch's two time formats.
//!
//! A [`ParseError`] says which kind of problem a body has, and names the trigger and the JSON path:
//!
//! ```
//! let error = smooch_events::parse_event(br#"{"trigger": "conversation:read", "appUser": {"_id": 7}}"#)
//!     .unwrap_err();
//! assert_eq!(error.to_string(), "conversation:read: appUser._id: expected a string, found the number 7");
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

pub use de::map::JsonMap;
pub use de::open_enum::OtherValue;
pub use de::time;
pub use de::walk::{ValidationErrors, ValidationIssue};
pub use error::ParseError;
pub use parse::{parse_event, parse_webhook};
pub use v1::*;
pub use versions::Webhook;
pub use webhook::{AuthError, WebhookError, WebhookSecrets};

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
