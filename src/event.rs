//! The envelope and the dispatch: [`Event`], one variant per trigger.
//!
//! A body is read in one pass, whatever the position of `trigger` among its keys: every top-level
//! key goes into a typed slot of [`Body`] (the union of the keys of all triggers), and once the map
//! ends the trigger picks the payload struct, which takes its fields from the slots. Whatever the
//! payload does not take stays in [`Envelope::extra`], so nothing is lost. When `trigger` comes
//! first and names a trigger this crate does not model, the rest of the body is read as plain JSON
//! into [`Event::Unknown`].

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::events::conversation::{ConversationRead, ConversationReferral, ConversationStart};
use crate::events::delivery::{DeliveryEvent, ExternalMessage, MessageDelivery};
use crate::events::link::{LinkCriteria, LinkEvent};
use crate::events::merge::MergeAppUser;
use crate::events::message::MessageEvent;
use crate::events::payment::{Payment, PaymentSuccess};
use crate::events::postback::{Postback, PostbackEvent};
use crate::events::typing::{Activity, TypingAppUser};
use crate::object::{object, read_strict_map, KeySeed};
use crate::types::app::{App, ConversationRef};
use crate::types::app_user::{AppUser, Client};
use crate::types::channel_error::ChannelError;
use crate::types::message::Message;
use crate::types::referral::Referral;
use crate::types::source::{Platform, Source};

object! {
    /// The keys any trigger may carry, and the top-level keys this crate does not model.
    ///
    /// `app` is in every v1 payload since July 2016; `timestamp` in those of `conversation:*`,
    /// delivery and payment events. v1.1 webhooks may add `version`, `conversation`, `client`
    /// (with `includeClient`), `destination` and `timestamp` to any trigger. All are optional.
    pub struct Envelope {
        expecting: "a webhook body",
        required {}
        optional {
            /// The app the event belongs to.
            app: App = "app",
            /// When Smooch received or emitted the event.
            timestamp: DateTime<Utc> = "timestamp" with crate::time::unix_seconds::option,
            /// Where a message was delivered (delivery events).
            destination: Source = "destination",
            /// The payload version of the webhook (`"v1.1"`).
            version: String = "version",
            /// The conversation (v1.1).
            conversation: ConversationRef = "conversation",
            /// The client the event came through (v1.1, webhooks created with `includeClient`).
            /// Boxed: it is large and rarely sent.
            client: Box<Client> = "client",
        }
    }
}

impl Envelope {
    /// Takes the envelope's keys from `body`; every other key left in it goes to `extra`.
    pub(crate) fn from_body<E: de::Error>(body: &mut Body) -> Result<Self, E> {
        let mut envelope = Envelope {
            app: body.app.take().flatten(),
            timestamp: body.timestamp.take().flatten(),
            destination: body.destination.take().flatten(),
            version: body.version.take().flatten(),
            conversation: body.conversation.take().flatten(),
            client: body.client.take().flatten(),
            extra: std::mem::take(&mut body.extra),
        };
        // A modelled key that this trigger does not use (a `messages` on `conversation:read`, say)
        // is written back to JSON.
        if body.has_values() {
            if let Value::Object(rest) = serde_json::to_value(&*body).map_err(E::custom)? {
                envelope.extra.extend(rest);
            }
        }
        Ok(envelope)
    }
}

/// Defines [`Body`] from the list of every top-level key.
macro_rules! body {
    ( $( $field:ident : $ty:ty = $key:literal $(with $($with:ident)::+)? ),* $(,)? ) => {
        /// Every top-level key of every modelled trigger, each in its typed slot: `None` while the
        /// key has not been seen, `Some(None)` after a `null` (so that a repeated key is caught).
        ///
        /// The event visitor fills it in place and the payload structs take their fields from it,
        /// so the body as a whole is never copied.
        #[derive(Default)]
        pub(crate) struct Body {
            $( pub(crate) $field: Option<Option<$ty>>, )*
            pub(crate) extra: Map<String, Value>,
        }

        impl Body {
            /// Reads the value of `key` into its slot, or into `extra`.
            fn visit<'de, A: MapAccess<'de>>(&mut self, key: Cow<'de, str>, map: &mut A) -> Result<(), A::Error> {
                match &*key {
                    $( $key => {
                        if self.$field.is_some() {
                            return Err(de::Error::duplicate_field($key));
                        }
                        self.$field = Some(crate::object::read_value!(map, Option<$ty> $(, $($with)::+)?));
                    } )*
                    _ => crate::object::put_extra(&mut self.extra, key, map)?,
                }
                Ok(())
            }

            /// Whether a slot still holds a value.
            fn has_values(&self) -> bool {
                false $(|| matches!(self.$field, Some(Some(_))))*
            }
        }

        /// Writes the slots that hold a value, and `extra`.
        impl Serialize for Body {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                $( if let Some(value @ Some(_)) = &self.$field {
                    crate::object::write_value!(map, $key, value, Option<$ty> $(, $($with)::+)?);
                } )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    };
}

body! {
    app: App = "app",
    timestamp: DateTime<Utc> = "timestamp" with crate::time::unix_seconds::option,
    destination: Source = "destination",
    version: String = "version",
    conversation: ConversationRef = "conversation",
    client: Box<Client> = "client",
    app_user: AppUser = "appUser",
    source: Source = "source",
    referral: Referral = "referral",
    messages: Vec<Message> = "messages" with crate::object::null_as_empty,
    message: Message = "message",
    postbacks: Vec<Postback> = "postbacks" with crate::object::null_as_empty,
    surviving: AppUser = "surviving",
    discarded: Vec<AppUser> = "discarded" with crate::object::null_as_empty,
    payments: Vec<Payment> = "payments" with crate::object::null_as_empty,
    channel: Platform = "channel",
    criteria: LinkCriteria = "criteria" with crate::object::open_map,
    error: ChannelError = "error",
    is_final_event: bool = "isFinalEvent",
    external_messages: Vec<ExternalMessage> = "externalMessages",
    activity: Activity = "activity",
}

/// Defines the payload struct of one or more triggers.
///
/// Like [`object!`](crate::object::object), but the struct is built from the slots of a [`Body`]
/// rather than read on its own, and its `envelope` holds the keys every trigger shares. Each field
/// must have the name and type of the [`Body`] slot for its key.
macro_rules! payload {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            required {
                $( $(#[$rdoc:meta])* $rfield:ident : $rty:ty = $rkey:literal ),* $(,)?
            }
            optional {
                $( $(#[$odoc:meta])* $ofield:ident : $oty:ty = $okey:literal ),* $(,)?
            }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$rdoc])* pub $rfield: $rty, )*
            $( $(#[$odoc])* pub $ofield: Option<$oty>, )*
            /// The keys every trigger may carry (`app`, `timestamp`, …) and the top-level keys this
            /// crate does not model.
            pub envelope: $crate::event::Envelope,
        }

        impl $name {
            /// Creates a payload with the given required fields, every optional field absent and
            /// an empty envelope.
            #[allow(clippy::new_without_default)]
            pub fn new($($rfield: $rty),*) -> Self {
                Self { $($rfield,)* $($ofield: None,)* envelope: $crate::event::Envelope::new() }
            }

            pub(crate) fn from_body<E: ::serde::de::Error>(body: &mut $crate::event::Body) -> Result<Self, E> {
                Ok(Self {
                    $( $rfield: body.$rfield.take().flatten().ok_or_else(|| E::missing_field($rkey))?, )*
                    $( $ofield: body.$ofield.take().flatten(), )*
                    envelope: $crate::event::Envelope::from_body(body)?,
                })
            }

            pub(crate) fn serialize_fields<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $( map.serialize_entry($rkey, &self.$rfield)?; )*
                $( if let Some(value) = &self.$ofield {
                    map.serialize_entry($okey, value)?;
                } )*
                $crate::object::Fields::serialize_fields(&self.envelope, map)
            }
        }
    };
}

pub(crate) use payload;

/// Defines [`Event`] and everything that goes from a trigger name to a variant and back, from one
/// table.
macro_rules! events {
    ( $( $(#[$doc:meta])* $variant:ident($payload:ty) = $trigger:literal, )* ) => {
        /// A Smooch webhook body, by its `trigger`.
        ///
        /// Several triggers share a payload struct (`message:appUser` and `message:appMaker` both
        /// hold a [`MessageEvent`]); the variant says which trigger it was. Triggers this crate
        /// does not model arrive as [`Event::Unknown`] with their body kept. Serializing an event
        /// gives the body back (see [`Event::trigger`] for the name).
        ///
        /// Payloads are boxed so that an `Event` is two words, whatever the trigger.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* #[doc = concat!("\n\n`trigger`: `\"", $trigger, "\"`.")] $variant(Box<$payload>), )*
            /// A trigger this crate does not model (`client:add`, `appUser:delete`,
            /// `notification:*`, anything new), with its whole body.
            Unknown(Box<UnknownEvent>),
        }

        impl Event {
            /// The triggers this crate models, each with its own variant.
            pub const TRIGGERS: &'static [&'static str] = &[$($trigger),*];

            /// The trigger's wire name, e.g. `"conversation:start"`.
            pub fn trigger(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $trigger, )*
                    Event::Unknown(unknown) => &unknown.trigger,
                }
            }

            /// The envelope (`app`, `timestamp`, …); `None` for [`Event::Unknown`].
            pub fn envelope(&self) -> Option<&Envelope> {
                match self {
                    $( Event::$variant(payload) => Some(&payload.envelope), )*
                    Event::Unknown(_) => None,
                }
            }

            fn from_body<E: de::Error>(trigger: &str, body: &mut Body) -> Result<Self, E> {
                Ok(match trigger {
                    $( $trigger => Event::$variant(Box::new(<$payload>::from_body(body)?)), )*
                    _ => Event::Unknown(Box::new(UnknownEvent::from_body(trigger, body)?)),
                })
            }
        }

        impl Serialize for Event {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("trigger", self.trigger())?;
                match self {
                    $( Event::$variant(payload) => payload.serialize_fields(&mut map)?, )*
                    Event::Unknown(unknown) => {
                        for (key, value) in &unknown.body {
                            if key != "trigger" {
                                map.serialize_entry(key, value)?;
                            }
                        }
                    }
                }
                map.end()
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

/// The body of a trigger this crate does not model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The trigger, e.g. `"client:add"`.
    pub trigger: String,
    /// The whole body, `trigger` included.
    pub body: Map<String, Value>,
}

impl UnknownEvent {
    /// An unknown event from its whole body; `body["trigger"]` is set to `trigger`.
    pub fn new(trigger: impl Into<String>, mut body: Map<String, Value>) -> Self {
        let trigger = trigger.into();
        body.insert("trigger".to_owned(), Value::String(trigger.clone()));
        UnknownEvent { trigger, body }
    }

    /// For a trigger that came after typed keys: they are written back to JSON.
    fn from_body<E: de::Error>(trigger: &str, body: &Body) -> Result<Self, E> {
        match serde_json::to_value(body).map_err(E::custom)? {
            Value::Object(map) => Ok(UnknownEvent::new(trigger, map)),
            _ => unreachable!("a body serializes to a map"),
        }
    }
}

impl Event {
    /// The envelope's time of the event, if it has one. Message events carry theirs in
    /// `messages[].received` instead.
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.envelope()?.timestamp
    }

    /// The id of the app the event belongs to, if sent (every v1 payload since July 2016 has it).
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown.body.get("app")?.get("_id")?.as_str(),
            _ => Some(&self.envelope()?.app.as_ref()?.id),
        }
    }

    /// The user the event is about, for the triggers that send an `appUser` (for
    /// `merge:appUser`, the surviving user).
    pub fn app_user(&self) -> Option<&AppUser> {
        match self {
            Event::ConversationRead(e) => Some(&e.app_user),
            Event::ConversationStart(e) => Some(&e.app_user),
            Event::ConversationReferral(e) => Some(&e.app_user),
            Event::MessageAppUser(e) | Event::MessageAppMaker(e) => Some(&e.app_user),
            Event::Postback(e) => Some(&e.app_user),
            Event::MergeAppUser(e) => Some(&e.surviving),
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => Some(&e.app_user),
            Event::PaymentSuccess(e) => Some(&e.app_user),
            Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => Some(&e.app_user),
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => e.app_user.as_ref(),
            Event::TypingAppUser(e) => e.app_user.as_ref(),
            Event::Unknown(_) => None,
        }
    }

    /// Whether this is a trigger the crate does not model.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Event::Unknown(_))
    }
}

/// Reads a body in one pass, from any serde data format.
///
/// One case needs [`parse_event`](crate::parse_event) instead: a body whose `trigger` is not
/// modelled, comes after other keys, and one of those keys is a modelled one whose value has
/// another shape (`"messages": "…"`). A one-pass reader has typed that key before it learns the
/// trigger; `parse_event` reads such a body again and returns [`Event::Unknown`].
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Smooch webhook body (a JSON object with a `trigger` string)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut body = Body::default();
        let mut trigger: Option<Cow<'de, str>> = None;
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "trigger" {
                if trigger.is_some() {
                    return Err(de::Error::duplicate_field("trigger"));
                }
                let name = map.next_value_seed(KeySeed)?;
                if first && !Event::TRIGGERS.contains(&&*name) {
                    return read_unknown(name.into_owned(), map)
                        .map(|unknown| Event::Unknown(Box::new(unknown)));
                }
                trigger = Some(name);
            } else {
                body.visit(key, &mut map)?;
            }
            first = false;
        }
        let trigger = trigger.ok_or_else(|| de::Error::missing_field("trigger"))?;
        Event::from_body(&trigger, &mut body)
    }
}

/// Reads the rest of a body whose first key named a trigger this crate does not model.
fn read_unknown<'de, A: MapAccess<'de>>(trigger: String, mut map: A) -> Result<UnknownEvent, A::Error> {
    let rest = read_strict_map(&mut map)?;
    if rest.contains_key("trigger") {
        return Err(de::Error::duplicate_field("trigger"));
    }
    Ok(UnknownEvent::new(trigger, rest))
}
