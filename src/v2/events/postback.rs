//! `conversation:postback`: a user tapped a postback button.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::v2::events::event;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::source::Source;
use crate::v2::types::user::User;
use compact_str::CompactString;

event! {
    /// `conversation:postback`: a user tapped a postback button.
    pub struct ConversationPostbackEvent { payload: ConversationPostbackPayload }
}

object! {
    /// The payload of `conversation:postback`.
    pub struct ConversationPostbackPayload {
        expecting: "a conversation:postback payload",
        optional {
            /// The button's payload and metadata.
            postback: Postback = "postback",
            /// The conversation.
            conversation: Conversation = "conversation",
            /// The user who tapped.
            user: User = "user",
            /// Where the tap came from, possibly with a `campaign`.
            source: Source = "source",
        }
    }
}

object! {
    /// What a tapped postback button carried (`S.postbackWebhook`; the button itself is a
    /// [`PostbackAction`](crate::v2::PostbackAction)).
    pub struct Postback {
        expecting: "a postback object",
        optional {
            /// The payload of the button.
            payload: CompactString = "payload",
            /// The metadata of the button.
            metadata: JsonMap = "metadata",
        }
    }
}
