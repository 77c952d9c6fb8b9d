//! Sunshine Conversations v2 webhook bodies: a list of events, each shaped by its `type`.
//!
//! [`Body`] is the body; [`Event`] has one variant per documented event type, listed in a table
//! on its page (the same table that makes the dispatch: no other place lists the types), and
//! [`EventType`] names each type as a value. The objects several events share are named after
//! the spec's schemas ([`Conversation`], [`User`], [`Message`], [`Source`], …). Nothing here
//! imports a v1 type: the two versions share only the machinery below them.
//!
//! A body is read in one pass, whatever the order of its keys and of each event's keys (an
//! event's keys before its `type`, rare, are kept as JSON until the type is known).
//!
//! # Payloads
//!
//! Every event struct holds its `id`, `createdAt` and `payload` as sent, each an `Option` (the
//! spec requires none of them). Its payload is one call away whether or not it was sent:
//! `e.payload()` gives a `&…Payload`, empty when the body had none (which validation reports), so
//! `e.payload().conversation` needs no unwrapping. v1 has the same rule with nothing to call:
//! each [`v1::Event`](crate::v1::Event) variant holds its payload struct itself.
//!
//! # One call per question
//!
//! Whatever its type, an event answers each common question in one call, `None` (or `false`)
//! where its type does not carry the answer:
//!
//! | Question | Accessor of [`Event`] |
//! |---|---|
//! | which event | [`kind`](Event::kind), [`trigger`](Event::trigger), [`id`](Event::id), [`created_at`](Event::created_at) |
//! | was it handled already (a retry) | [`dedupe_key`](Event::dedupe_key) |
//! | where | [`conversation`](Event::conversation), [`conversation_id`](Event::conversation_id), [`source`](Event::source), [`channel`](Event::channel) |
//! | who | [`user`](Event::user), [`user_id`](Event::user_id), [`author`](Event::author), [`is_from_user`](Event::is_from_user), [`is_from_business`](Event::is_from_business) |
//! | what was said | [`message`](Event::message), then [`Message::text`], [`Message::media_url`], [`Message::reply_payload`], [`Message::location`], [`Message::is_from_user`] |
//! | which button | [`postback`](Event::postback) |
//! | who is in control | [`integration_in_control`](Event::integration_in_control), [`integration_offered_control`](Event::integration_offered_control), [`switchboard_reason`](Event::switchboard_reason) |
//! | how the user came | [`referral`](Event::referral), [`creation_reason`](Event::creation_reason) |
//! | which users were merged | [`surviving_user_id`](Event::surviving_user_id), [`discarded_user_id`](Event::discarded_user_id) |
//! | what became of a message sent | [`delivery`](Event::delivery), [`error`](Event::error) |
//!
//! Channels, types and reasons come by value, so that they compare with `==`:
//! `event.channel() == Some(ChannelType::Whatsapp)`, `event.kind() == EventType::ConversationMessage`.
//! The same questions for a body of either version, without a `match` on the version, are
//! [`Webhook::incoming`](crate::Webhook::incoming).

use chrono::{DateTime, Utc};

use crate::de::open_enum::open_enum;
use crate::de::tagged::tagged;

mod accessors;
pub(crate) mod envelope;
pub(crate) mod events;
pub(crate) mod types;
mod validate;

pub use crate::de::tagged::UnknownObject;
pub use accessors::{DeliveryView, ErrorView, PostbackView, SwitchboardView};
pub use envelope::{App, Body, WebhookRef, WebhookVersion};
pub(crate) use envelope::{BodyHead, BodyRead};
pub use events::activity::{ActivityEvent, ActivityPayload};
pub use events::client::{
    ClientAddEvent, ClientAddPayload, ClientAddReason, ClientRemoveEvent, ClientRemovePayload,
    ClientRemoveReason, ClientUpdateEvent, ClientUpdatePayload, ClientUpdateReason,
};
pub use events::conversation::{
    ConversationCreateEvent, ConversationCreatePayload, ConversationReferralEvent,
    ConversationReferralPayload, ConversationRemoveEvent, ConversationRemovePayload, CreationReason,
    ParticipantEvent, ParticipantPayload,
};
pub use events::delivery::{
    ConversationMessageDeliveryFailurePayload, ConversationMessageDeliveryPayload, Destination,
    ExternalMessage, MessageDeliveryEvent, MessageDeliveryFailureEvent, MessageRef,
};
pub use events::message::{ConversationMessageEvent, ConversationMessagePayload};
pub use events::postback::{ConversationPostbackEvent, ConversationPostbackPayload, Postback};
pub use events::switchboard::{
    SwitchboardEvent, SwitchboardFailureEvent, SwitchboardFailurePayload, SwitchboardPayload,
    SwitchboardReason, SwitchboardReasonEvent, SwitchboardReasonPayload,
};
pub use events::user::{
    MergeReason, UserMergeEvent, UserMergePayload, UserRemoveEvent, UserRemovePayload, UserUpdateEvent,
    UserUpdatePayload, UserUpdateReason,
};
pub use types::activity::{Activity, ActivityType};
pub use types::author::{Author, AuthorSubtype, AuthorType};
pub use types::channel::ChannelType;
pub use types::client::{Client, ClientStatus};
pub use types::conversation::{Conversation, ConversationType};
pub use types::device::{Device, DeviceStatus, DeviceType};
pub use types::error::{DeliveryError, UntypedError};
pub use types::merged::{MergedClients, MergedConversations, MergedUsers};
pub use types::message::action::{
    Action, BuyAction, ExtraChannelOptions, LinkAction, LocationRequestAction, MessengerOptions,
    PostbackAction, ReplyAction, WebviewAction, WebviewShareButton, WebviewSize,
};
pub use types::message::content::{
    CarouselMessage, Content, Coordinates, DisplaySettings, FileMessage, FormMessage, FormResponseMessage,
    ImageAspectRatio, ImageMessage, ListMessage, Location, LocationMessage, TemplateMessage, TextMessage,
};
pub use types::message::form_field::{FieldFormat, FieldType, FormField, FormOption};
pub use types::message::item::{Item, ItemSize};
pub use types::message::message::{
    ActivityMessage, EndedByUser, Message, Reference, TicketClosed, TransferToEmail,
};
pub use types::message::quoted::{QuotedExternalMessageId, QuotedMessage, QuotedMessageMessage};
pub use types::referral::{Referral, ReferralDetails, ReferralSource, ReferralType};
pub use types::source::{Campaign, Source};
pub use types::switchboard_integration::SwitchboardIntegration;
pub use types::user::{Identity, Profile, User};

/// Defines [`Event`], [`EventType`] and what goes from a type to a variant and back, from one
/// table of the documented event types (below), and the types the spec names without describing.
macro_rules! events {
    (
        $( $(#[$doc:meta])* $variant:ident($event:ident) = $type:literal, )*
        ;
        $( $(#[$odoc:meta])* $other:ident = $otype:literal, )*
    ) => {
        tagged! {
            /// One event of a v2 body, by its `type`: one variant per documented type.
            ///
            /// A type the crate does not model (`passthrough:messaging`, which the spec names but
            /// does not describe, or anything new), a `type` that is not a string, or none, is
            /// [`Event::Unknown`], with the whole event object as it was sent.
            ///
            /// [`id`](Event::id), [`created_at`](Event::created_at), [`kind`](Event::kind) (the
            /// type as a value), [`trigger`](Event::trigger) (its text) and
            /// [`dedupe_key`](Event::dedupe_key) (with the body's app id) work for every variant, and so do the accessors
            /// (see the [module](crate::v2) page). Serializing an event gives the event object
            /// back, `type` included. Each event struct is boxed, so that an `Event` stays small
            /// whatever its type; its payload is one call away, [`payload()`](ConversationMessageEvent::payload).
            ///
            /// Types that share a payload share an event struct, so that
            /// `Event::ConversationRead(e) | Event::ConversationTyping(e)` is one arm:
            ///
            /// | `type` | Variant | Event struct |
            /// |---|---|---|
            $( #[doc = concat!("| `", $type, "` | [`", stringify!($variant), "`](Event::", stringify!($variant),
                ") | [`", stringify!($event), "`] |")] )*
            /// | anything else | [`Unknown`](Event::Unknown) | [`UnknownObject`] (the whole event) |
            pub enum Event {
                expecting: "a v2 event object",
                tag: "type",
                missing_tag: Advice,
                names: TYPES / trigger,
                head: events::EventHead,
                unknown: /// A type this crate does not model (`passthrough:messaging`, anything new), or
                    /// an event without a string `type`, with the whole event object as it was sent.
                    UnknownObject,
                $( $(#[$doc])* $variant(Box<$event>) = $type, )*
            }
        }

        open_enum! {
            /// The type of an event (`type`) as a value, to filter or count events by type:
            /// every type the spec names (its trigger table: the 25 of [`Event`] and
            /// `passthrough:messaging`, which it does not describe), and [`EventType::Other`]
            /// for any other, kept exactly as sent. [`Event::kind`] gives it.
            ///
            /// ```
            /// use smooch_events::{parse_webhook, v2::EventType, Webhook};
            ///
            /// let body = std::fs::read("fixtures/v2/written/several_events.json")?;
            /// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
            /// let messages = body.events.iter().filter(|e| e.kind() == EventType::ConversationMessage);
            /// assert_eq!(messages.count(), 1);
            /// assert_eq!(EventType::from("conversation:message"), EventType::ConversationMessage);
            /// assert_eq!(EventType::ConversationMessage.as_str(), "conversation:message");
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub enum EventType {
                $( $(#[$doc])* $variant = $type, )*
                $( $(#[$odoc])* $other = $otype, )*
            }
        }

        impl Event {
            /// The event's type as a value: `event.kind() == EventType::ConversationMessage`. A
            /// type the crate does not model is its own variant when the spec names it
            /// ([`EventType::PassthroughMessaging`]), else [`EventType::Other`] with the text as
            /// sent (an empty text for an event without a string `type`). Its text is
            /// [`Event::trigger`].
            pub fn kind(&self) -> EventType {
                match self {
                    $( Event::$variant(_) => EventType::$variant, )*
                    Event::Unknown(unknown) => EventType::from(unknown.type_name()),
                }
            }

            /// The event's id, if it has one (for [`Event::Unknown`], an `id` string in its
            /// body). To drop the duplicates that retries deliver, store
            /// [`Event::dedupe_key`], not the id alone.
            pub fn id(&self) -> Option<&str> {
                match self {
                    $( Event::$variant(e) => e.id.as_deref(), )*
                    Event::Unknown(unknown) => unknown.body.get("id")?.as_str(),
                }
            }

            /// When the event was generated (`createdAt`), if it has a usable one (for
            /// [`Event::Unknown`], an ISO-8601 `createdAt` string in its body).
            pub fn created_at(&self) -> Option<DateTime<Utc>> {
                match self {
                    $( Event::$variant(e) => e.created_at.as_deref().copied(), )*
                    Event::Unknown(unknown) => {
                        crate::de::time::rfc3339::deserialize(unknown.body.get("createdAt")?).ok()
                    }
                }
            }
        }
    };
}

events! {
    /// A channel link was started, or an SDK client created.
    ClientAdd(ClientAddEvent) = "client:add",
    /// A client was removed.
    ClientRemove(ClientRemoveEvent) = "client:remove",
    /// A client was confirmed, matched, blocked or unblocked.
    ClientUpdate(ClientUpdateEvent) = "client:update",
    /// A conversation was created.
    ConversationCreate(ConversationCreateEvent) = "conversation:create",
    /// A participant joined an `sdkGroup` conversation.
    ConversationJoin(ParticipantEvent) = "conversation:join",
    /// A participant left an `sdkGroup` conversation.
    ConversationLeave(ParticipantEvent) = "conversation:leave",
    /// A conversation was deleted.
    ConversationRemove(ConversationRemoveEvent) = "conversation:remove",
    /// A message was delivered to the channel.
    ConversationMessageDeliveryChannel(MessageDeliveryEvent) =
        "conversation:message:delivery:channel",
    /// A message could not be delivered.
    ConversationMessageDeliveryFailure(MessageDeliveryFailureEvent) =
        "conversation:message:delivery:failure",
    /// A message was delivered to the user.
    ConversationMessageDeliveryUser(MessageDeliveryEvent) =
        "conversation:message:delivery:user",
    /// A message was sent in a conversation.
    ConversationMessage(ConversationMessageEvent) = "conversation:message",
    /// A user tapped a postback button.
    ConversationPostback(ConversationPostbackEvent) = "conversation:postback",
    /// The user read the conversation.
    ConversationRead(ActivityEvent) = "conversation:read",
    /// A user was referred to a conversation.
    ConversationReferral(ConversationReferralEvent) = "conversation:referral",
    /// Someone started or stopped typing.
    ConversationTyping(ActivityEvent) = "conversation:typing",
    /// An integration accepted control of a conversation.
    SwitchboardAcceptControl(SwitchboardEvent) = "switchboard:acceptControl",
    /// Accepting control failed.
    SwitchboardAcceptControlFailure(SwitchboardFailureEvent) =
        "switchboard:acceptControl:failure",
    /// Control was offered to an integration.
    SwitchboardOfferControl(SwitchboardEvent) = "switchboard:offerControl",
    /// Offering control failed.
    SwitchboardOfferControlFailure(SwitchboardFailureEvent) = "switchboard:offerControl:failure",
    /// Control was passed to another integration.
    SwitchboardPassControl(SwitchboardReasonEvent) = "switchboard:passControl",
    /// Passing control failed.
    SwitchboardPassControlFailure(SwitchboardFailureEvent) = "switchboard:passControl:failure",
    /// Control was released.
    SwitchboardReleaseControl(SwitchboardReasonEvent) = "switchboard:releaseControl",
    /// Two users were merged.
    UserMerge(UserMergeEvent) = "user:merge",
    /// A user was updated.
    UserUpdate(UserUpdateEvent) = "user:update",
    /// A user was deleted.
    UserRemove(UserRemoveEvent) = "user:remove",
    ;
    // The types the spec names but does not describe: in `EventType`, not in `Event`.
    /// A message carrying information to pass on unchanged (the spec's trigger table names it,
    /// with no schema and no example: its events are [`Event::Unknown`]).
    PassthroughMessaging = "passthrough:messaging",
}

impl Event {
    /// The event's `type`, as text: [`Event::trigger`], under its former name.
    #[deprecated(
        since = "0.2.0",
        note = "use `trigger()` (the same text), or `kind()` for the type as a value"
    )]
    pub fn type_name(&self) -> &str {
        self.trigger()
    }

    /// What a bot stores to drop the duplicates that retries deliver: the id of the app (give
    /// the body's, [`Body::app_id`]), the event's `type` and its `id`, as the JSON text of the
    /// three (`["5ebee0975ac5304b664a12fa","conversation:message","5f74a0d52b5315fc007e798a"]`,
    /// `null` for an app without an id; unambiguous whatever they hold). The spec says an
    /// event's id is unique; the type is in the key because the spec's own examples give one
    /// id to events of 21 types, and the app because one endpoint may take the webhooks of
    /// several apps: a key that mistook one event for a retry of another would drop it.
    /// `None` for an event without an id: nothing tells its retries apart, so handle it
    /// idempotently. `smooch-receiver` keys its events by the same three.
    ///
    /// Retries come for up to 15 minutes: keep the keys at least that long, in a store every
    /// process of the bot shares.
    ///
    /// ```
    /// use smooch_events::{parse_webhook, Webhook};
    ///
    /// let body = std::fs::read("fixtures/v2/conversation_message.json")?;
    /// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
    /// assert_eq!(
    ///     body.events[0].dedupe_key(body.app_id()).as_deref(),
    ///     Some(r#"["5ebee0975ac5304b664a12fa","conversation:message","5f74a0d52b5315fc007e798a"]"#)
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dedupe_key(&self, app_id: Option<&str>) -> Option<String> {
        let id = self.id()?;
        Some(crate::de::json::list_key(&[
            app_id,
            Some(self.trigger()),
            Some(id),
        ]))
    }
}
