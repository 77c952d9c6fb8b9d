//! `conversation:read` and `conversation:typing`: activities in a conversation.

use crate::de::object::object;
use crate::v2::events::event;
use crate::v2::types::activity::Activity;
use crate::v2::types::conversation::Conversation;

event! {
    /// `conversation:read` (the user read the conversation) and `conversation:typing` (someone
    /// started or stopped typing).
    pub struct ActivityEvent { payload: ActivityPayload }
}

object! {
    /// The payload of `conversation:read` and `conversation:typing`.
    pub struct ActivityPayload {
        expecting: "an activity payload",
        optional {
            /// The conversation.
            conversation: Conversation = "conversation",
            /// What was done, by whom, from where.
            activity: Activity = "activity",
        }
    }
}
