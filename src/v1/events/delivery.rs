//! Delivery events: v1 `delivery:success` / `delivery:failure` and v1.1 `message:delivery:*`.

use crate::de::codec::Id;
use crate::de::object::object;
use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::channel_error::ChannelError;
use crate::v1::types::message::Message;
use compact_str::CompactString;

payload! {
    /// v1 `delivery:success` (a message reached the channel) and `delivery:failure` (it did not).
    /// The channel is `envelope.destination`; the time is `envelope.timestamp`.
    ///
    /// Identified by its `messages` (a list of message objects, each with its `_id`) and its
    /// `appUser` with the appUser's `_id`: a body without them is refused.
    pub struct DeliveryEvent {
        required {
            /// The messages delivered or not (appMaker messages).
            messages: Vec<Message> = "messages",
            /// The user (truncated).
            app_user: AppUser = "appUser",
        }
        optional {
            /// Why delivery failed (`delivery:failure`).
            error: ChannelError = "error",
        }
    }
}

payload! {
    /// v1.1 `message:delivery:channel` (delivered to the channel), `message:delivery:user`
    /// (delivered to the user; some channels only) and `message:delivery:failure`.
    ///
    /// Not in the v1 docs: every field is optional, and no body with this trigger is refused for
    /// its fields. The channel is `envelope.destination`.
    pub struct MessageDelivery {
        optional {
            /// The user (truncated).
            app_user: AppUser = "appUser",
            /// The message (often only `_id`).
            message: Message = "message",
            /// Whether no further delivery event will follow for this message.
            is_final_event: bool = "isFinalEvent",
            /// The channel's own ids of the message.
            external_messages: Vec<ExternalMessage> = "externalMessages",
            /// Why delivery failed (`message:delivery:failure`).
            error: ChannelError = "error",
        }
    }
}

object! {
    /// The channel's id of a delivered message.
    pub struct ExternalMessage {
        expecting: "an external message object",
        usual {
            /// The id.
            id: CompactString = "id" as Id,
        }
    }
}
