//! `conversation:message`: a new message.

use crate::de::object::object;
use crate::v2::events::event;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::message::message::Message;

event! {
    /// `conversation:message`: a message was sent in a conversation, by the user or the business.
    pub struct ConversationMessageEvent { payload: ConversationMessagePayload }
}

object! {
    /// The payload of `conversation:message`.
    pub struct ConversationMessagePayload {
        expecting: "a conversation:message payload",
        optional {
            /// The conversation.
            conversation: Conversation = "conversation",
            /// The new message.
            message: Message = "message",
            /// The messages sent through the Notification API since the user's last message.
            recent_notifications: Vec<Message> = "recentNotifications",
        }
    }
}
