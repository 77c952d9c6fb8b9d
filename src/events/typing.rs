//! `typing:appUser`: a user started or stopped typing (v1.1).

use crate::event::payload;
use crate::object::object;
use crate::open_enum::open_enum;
use crate::types::app_user::AppUser;

payload! {
    /// `typing:appUser`. Not in the v1 docs (its shape comes from integrations that receive it),
    /// so every field is optional.
    pub struct TypingAppUser {
        required {}
        optional {
            /// The user (truncated).
            app_user: AppUser = "appUser",
            /// What the user did.
            activity: Activity = "activity",
        }
    }
}

object! {
    /// A user activity.
    pub struct Activity {
        expecting: "an activity object",
        required {
            /// The activity.
            kind: ActivityType = "type",
        }
        optional {}
    }
}

open_enum! {
    /// The kind of a user activity.
    pub enum ActivityType {
        /// The user started typing.
        TypingStart = "typing:start",
        /// The user stopped typing.
        TypingStop = "typing:stop",
        /// The user read the conversation.
        ConversationRead = "conversation:read",
    }
}
