//! What a user or the business did in a conversation: read it, or start or stop typing.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::types::author::Author;
use crate::v2::types::source::Source;

object! {
    /// The activity of `conversation:read` and `conversation:typing` (`S.activity`).
    pub struct Activity {
        expecting: "an activity object",
        optional {
            /// `conversation:read`, `typing:start` or `typing:stop`.
            kind: ActivityType = "type",
            /// Where the activity came from.
            source: Source = "source",
            /// Who did it. The spec says a `user` author only reads, yet its typing example
            /// has a user typing.
            author: Author = "author",
        }
    }
}

open_enum! {
    /// The kind of an activity (`S.activityTypes`).
    pub enum ActivityType {
        /// The author read the conversation.
        ConversationRead = "conversation:read",
        /// The author started typing.
        TypingStart = "typing:start",
        /// The author stopped typing.
        TypingStop = "typing:stop",
    }
}
