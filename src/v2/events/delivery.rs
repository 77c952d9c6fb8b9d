//! `conversation:message:delivery:channel`, `:user` and `:failure`: what became of a message
//! the business sent.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::object::object;
use crate::v2::events::event;
use crate::v2::types::channel::ChannelType;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::error::DeliveryError;
use crate::v2::types::user::User;

event! {
    /// `conversation:message:delivery:channel` (the message reached the channel) and
    /// `conversation:message:delivery:user` (it reached the user, on channels that tell).
    pub struct MessageDeliveryEvent { payload: ConversationMessageDeliveryPayload }
}

object! {
    /// The payload of `conversation:message:delivery:channel` and `:user`
    /// (`S.conversationMessageDeliveryPayload`).
    pub struct ConversationMessageDeliveryPayload {
        expecting: "a delivery payload",
        optional {
            /// The user the message was sent to.
            user: User = "user",
            /// The conversation it was sent in.
            conversation: Conversation = "conversation",
            /// The message (only its `id`).
            message: MessageRef = "message",
            /// Where it went.
            destination: Destination = "destination",
            /// The channel's own ids of the message; absent on channels that have none.
            external_messages: Vec<ExternalMessage> = "externalMessages",
            /// Whether this is the last delivery event for this message and destination type.
            is_final_event: bool = "isFinalEvent",
        }
    }
}

event! {
    /// `conversation:message:delivery:failure`: the message could not be delivered.
    pub struct MessageDeliveryFailureEvent { payload: ConversationMessageDeliveryFailurePayload }
}

object! {
    /// The payload of `conversation:message:delivery:failure`: the delivery payload and `error`.
    pub struct ConversationMessageDeliveryFailurePayload {
        expecting: "a delivery failure payload",
        optional {
            /// The user the message was sent to.
            user: User = "user",
            /// The conversation it was sent in.
            conversation: Conversation = "conversation",
            /// The message (only its `id`).
            message: MessageRef = "message",
            /// Where it was to go.
            destination: Destination = "destination",
            /// The channel's own ids of the message; absent on channels that have none.
            external_messages: Vec<ExternalMessage> = "externalMessages",
            /// Whether this is the last delivery event for this message and destination type.
            is_final_event: bool = "isFinalEvent",
            /// Why delivery failed (validation reports it missing).
            error: DeliveryError = "error",
        }
    }
}

object! {
    /// The message of a delivery event: only its id.
    pub struct MessageRef {
        expecting: "a message object",
        usual {
            /// The message's id.
            id: CompactString = "id" as Id,
        }
    }
}

object! {
    /// Where a message was delivered.
    pub struct Destination {
        expecting: "a destination object",
        optional {
            /// The channel: `web`, `ios`, `android`, `messenger`, `twilio`, … (a free string).
            kind: ChannelType = "type",
            /// The integration the message went to.
            integration_id: CompactString = "integrationId",
        }
    }
}

object! {
    /// The channel's id of a delivered message.
    pub struct ExternalMessage {
        expecting: "an external message object",
        usual {
            /// The id (`"371"` on Telegram, a message SID on Twilio).
            id: CompactString = "id" as Id,
        }
    }
}
