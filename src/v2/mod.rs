//! Sunshine Conversations v2 webhook bodies: a list of events, each shaped by its `type`.
//!
//! [`Body`] is the body; [`Event`] has one variant per documented event type (the table below
//! is the only place that knows every type); [`events`](self) has one module per family of
//! types, and the objects several events share are in `types`, named after the spec's schemas.
//! Nothing here imports a v1 module: the two versions share only the machinery below them.
//!
//! A body is read in one pass, whatever the order of its keys and of each event's keys (an
//! event's keys before its `type`, rare, are kept as JSON until the type is known).
//!
//! Whatever its type, an event answers each common question in one call, `None` where its type
//! does not carry the answer: [`Event::id`] (to drop retried duplicates), [`Event::type_name`],
//! [`Event::created_at`], [`Event::conversation_id`], [`Event::user_id`], [`Event::author`],
//! [`Event::source`] and [`Event::channel`], [`Event::message`] (then [`Message::text`],
//! [`Message::media_url`], [`Message::reply_payload`]), [`Event::postback`],
//! [`Event::delivery`] and [`Event::error`].

use chrono::{DateTime, Utc};

use crate::de::tagged::tagged;

mod accessors;
pub(crate) mod envelope;
pub(crate) mod events;
pub(crate) mod types;
mod validate;

pub use crate::de::tagged::UnknownObject;
pub use accessors::{DeliveryView, ErrorView, PostbackView};
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

/// Defines [`Event`] and its accessors from one table of the documented event types.
macro_rules! events {
    ( $( $(#[$doc:meta])* $variant:ident($event:ident) = $type:literal, )* ) => {
        tagged! {
            /// One event of a v2 body, by its `type`: one variant per documented type.
            ///
            /// A type the crate does not model (`passthrough:messaging`, which the spec names but
            /// does not describe, or anything new), a `type` that is not a string, or none, is
            /// [`Event::Unknown`], with the whole event object as it was sent.
            ///
            /// [`id`](Event::id), [`created_at`](Event::created_at) and
            /// [`type_name`](Event::type_name) work for every variant. Serializing an event gives
            /// the event object back, `type` included. Each event struct is boxed, so that an
            /// `Event` stays small whatever its type.
            pub enum Event {
                expecting: "a v2 event object",
                tag: "type",
                missing_tag: Advice,
                names: TYPES / type_name,
                head: events::EventHead,
                unknown: /// A type this crate does not model (`passthrough:messaging`, anything new), or
                    /// an event without a string `type`, with the whole event object as it was sent.
                    UnknownObject,
                $( $(#[$doc])* $variant(Box<$event>) = $type, )*
            }
        }

        impl Event {
            /// The event's `id`, if it has one (for [`Event::Unknown`], an `id` string in its
            /// body). Use it to drop the duplicates that retries deliver.
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
}
