//! Smooch v1 and v1.1 webhook bodies: one JSON object per event, shaped by its `trigger`.
//!
//! [`Event`] has one variant per trigger, listed in a table on its page (the same table that makes
//! the dispatch: no other place lists the triggers); the objects several triggers share are
//! [`AppUser`], [`Message`], [`Source`], …. A body is read in one pass, whatever the position of
//! `trigger` among its keys. Nothing here imports a v2 type.
//!
//! `Event` implements `Deserialize`, from any serde data format, with the same result as
//! [`parse_event`](crate::parse_event). Prefer `parse_event` on the raw bytes of a request: it
//! tells which kind of problem a refused body has, with its JSON path, and reads a lone surrogate
//! escape (half an emoji) as U+FFFD instead of refusing it. Behind `axum::Json<Event>` (or any
//! extractor that deserializes the body for you), a body that does not parse is answered **422**,
//! which Smooch retries five times before it drops the event, while the body will never parse:
//! take the body as bytes and use
//! [`WebhookSecrets::verify_and_parse`](crate::WebhookSecrets::verify_and_parse), whose error
//! tells the status to answer (400, which Smooch does not retry).
//!
//! # One call per question
//!
//! Whatever its trigger, an event answers each common question in one call, `None` (or empty, or
//! `false`) where its trigger does not carry the answer. Where v2 asks the same question the name
//! is v2's, so that one bot reads both versions alike:
//!
//! | Question | Accessor of [`Event`] |
//! |---|---|
//! | which event | [`trigger`](Event::trigger), [`created_at`](Event::created_at), [`app_id`](Event::app_id) |
//! | where | [`conversation_id`](Event::conversation_id) (v1.1), [`source`](Event::source), [`channel`](Event::channel) |
//! | who | [`app_user`](Event::app_user), [`user_id`](Event::user_id), [`is_from_user`](Event::is_from_user), [`is_from_business`](Event::is_from_business) |
//! | what was said | [`messages`](Event::messages), then [`Message::text`], [`Message::media_url`], [`Message::reply_payload`], [`Message::location`], [`Message::is_from_user`] |
//! | which button | [`postback`](Event::postback) |
//! | how the user came | [`referral`](Event::referral) |
//! | which users were merged | [`surviving_user_id`](Event::surviving_user_id), [`discarded_user_id`](Event::discarded_user_id) |
//! | what became of a message sent | [`delivery`](Event::delivery), [`error`](Event::error) |
//!
//! The same questions for a body of either version, without a `match` on the version, are
//! [`Webhook::incoming`](crate::Webhook::incoming).

use serde::de;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::de::tagged::{tagged, Unknown};
use crate::de::walk::{Checker, IssueKind};

mod accessors;
pub(crate) mod envelope;
pub(crate) mod events;
pub(crate) mod types;
mod validate;

pub use accessors::{DeliveryView, ErrorView, PostbackView};
pub use envelope::Envelope;
pub(crate) use envelope::V1Head;
pub use events::conversation::{ConversationRead, ConversationReferral, ConversationStart};
pub use events::delivery::{DeliveryEvent, ExternalMessage, MessageDelivery};
pub use events::link::{LinkCriteria, LinkEvent};
pub use events::merge::MergeAppUser;
pub use events::message::MessageEvent;
pub use events::payment::{Charge, Payment, PaymentSuccess};
pub use events::postback::{Postback, PostbackEvent};
pub use events::typing::{Activity, ActivityType, TypingAppUser};
pub use types::action::{Action, ActionState, ActionType};
pub use types::app::{App, ConversationRef};
pub use types::app_user::{AppUser, Client, ClientStatus};
pub use types::channel_error::ChannelError;
pub use types::message::{
    Coordinates, DisplaySettings, FormField, ItemSize, Message, MessageItem, MessageType, Metadata, Role,
};
pub use types::referral::{Referral, ReferralDetails, ReferralSource, ReferralType};
pub use types::source::{Platform, Source};

/// Defines [`Event`] and everything that goes from a trigger name to a variant and back, from one
/// table: the one dispatcher of [`tagged!`] with `trigger` as the tag.
macro_rules! events {
    ( $( $(#[$doc:meta])* $variant:ident($payload:ty) = $trigger:literal, )* ) => {
        tagged! {
            /// A Smooch v1 or v1.1 webhook body, by its `trigger`.
            ///
            /// Several triggers share a payload struct (`message:appUser` and `message:appMaker`
            /// both hold a [`MessageEvent`]); the variant says which trigger it was. Triggers this
            /// crate does not model arrive as [`Event::Unknown`] with their body kept. Serializing
            /// an event gives the body back (see [`Event::trigger`] for the name).
            ///
            /// Each variant holds its payload struct itself, whose fields are the body's keys
            /// (`start.app_user`, `message.messages`), with the keys every trigger may carry in
            /// its `envelope`: there is no `Option` between an event and its payload. Payloads
            /// are boxed so that an `Event` is two words, whatever the trigger.
            ///
            /// | `trigger` | Variant | Payload |
            /// |---|---|---|
            $( #[doc = concat!("| `", $trigger, "` | [`", stringify!($variant), "`](Event::", stringify!($variant),
                ") | [`", stringify!($payload), "`] |")] )*
            /// | anything else | [`Unknown`](Event::Unknown) | [`UnknownEvent`] (the trigger and the whole body) |
            pub enum Event {
                expecting: "a Smooch webhook body (a JSON object with a `trigger` string)",
                tag: "trigger",
                missing_tag: Spec,
                names: TRIGGERS / trigger,
                head: envelope::V1Head,
                unknown: /// A trigger this crate does not model (`client:add`, `appUser:delete`,
                    /// `notification:*`, anything new), with its whole body.
                    Box<UnknownEvent>,
                $( $(#[$doc])* $variant(Box<$payload>) = $trigger, )*
            }
        }

        impl Event {
            /// The envelope (`app`, `timestamp`, …); `None` for [`Event::Unknown`].
            pub fn envelope(&self) -> Option<&Envelope> {
                match self {
                    $( Event::$variant(payload) => Some(&payload.envelope), )*
                    Event::Unknown(_) => None,
                }
            }
        }
    };
}

events! {
    /// The user read the conversation.
    ConversationRead(ConversationRead) = "conversation:read",
    /// The user opted in to receive messages.
    ConversationStart(ConversationStart) = "conversation:start",
    /// A user in a conversation was referred again.
    ConversationReferral(ConversationReferral) = "conversation:referral",
    /// A user sent messages.
    MessageAppUser(MessageEvent) = "message:appUser",
    /// The business sent messages (roles `appMaker` and `whisper`).
    MessageAppMaker(MessageEvent) = "message:appMaker",
    /// A user tapped postback buttons.
    Postback(PostbackEvent) = "postback",
    /// Users were merged.
    MergeAppUser(MergeAppUser) = "merge:appUser",
    /// Messages reached the channel (v1).
    DeliverySuccess(DeliveryEvent) = "delivery:success",
    /// Messages could not be delivered (v1).
    DeliveryFailure(DeliveryEvent) = "delivery:failure",
    /// A payment succeeded.
    PaymentSuccess(PaymentSuccess) = "payment:success",
    /// A channel was linked to the user.
    LinkSuccess(LinkEvent) = "link:success",
    /// A channel user matching the link criteria was found.
    LinkMatch(LinkEvent) = "link:match",
    /// Linking a channel failed.
    LinkFailure(LinkEvent) = "link:failure",
    /// A message was delivered to the channel (v1.1).
    MessageDeliveryChannel(MessageDelivery) = "message:delivery:channel",
    /// A message was delivered to the user (v1.1).
    MessageDeliveryUser(MessageDelivery) = "message:delivery:user",
    /// A message could not be delivered (v1.1).
    MessageDeliveryFailure(MessageDelivery) = "message:delivery:failure",
    /// A user started or stopped typing (v1.1).
    TypingAppUser(TypingAppUser) = "typing:appUser",
}

/// The body of a trigger this crate does not model, exactly as it was sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The trigger, e.g. `"client:add"`.
    pub trigger: String,
    /// The whole body, `trigger` included: every key and value as sent (`null` members, numbers
    /// and time strings unchanged), wherever `trigger` stood among the keys.
    pub body: Map<String, Value>,
}

impl UnknownEvent {
    /// An unknown event from its whole body; `body["trigger"]` is set to `trigger`.
    pub fn new(trigger: impl Into<String>, mut body: Map<String, Value>) -> Self {
        let trigger = trigger.into();
        body.insert("trigger".to_owned(), Value::String(trigger.clone()));
        UnknownEvent { trigger, body }
    }
}

/// A v1 body must have a string `trigger`: a body without one is refused, whatever else it holds.
impl Unknown for UnknownEvent {
    fn from_body<E: de::Error>(tag: &'static str, body: Map<String, Value>) -> Result<Self, E> {
        match body.get(tag) {
            Some(Value::String(trigger)) => Ok(UnknownEvent {
                trigger: trigger.clone(),
                body,
            }),
            Some(other) => Err(de::Error::invalid_type(unexpected(other), &"a string")),
            None => Err(de::Error::missing_field(tag)),
        }
    }

    fn type_name(&self) -> &str {
        &self.trigger
    }

    /// `trigger` first, as Smooch writes it, then the rest.
    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("trigger", &self.trigger)?;
        for (key, value) in &self.body {
            if key != "trigger" {
                map.serialize_entry(key, value)?;
            }
        }
        Ok(())
    }

    /// An unknown trigger is only checked for U+FFFD, with the whole body.
    fn walk(&self, _: &mut Checker, _: IssueKind) {}
}

/// `value` as serde names what it found instead of what it expected.
fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}
