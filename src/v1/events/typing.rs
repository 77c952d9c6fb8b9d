//! `typing:appUser`: a user started or stopped typing (v1.1).

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;

payload! {
    /// `typing:appUser`. Not in the v1 docs (its shape comes from integrations that receive it),
    /// so every field is optional, and no body with this trigger is refused for its fields.
    pub struct TypingAppUser {
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
        usual {
            /// The activity.
            kind: ActivityType = "type",
        }
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
