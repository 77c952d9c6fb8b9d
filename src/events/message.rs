//! `message:appUser` and `message:appMaker`.

use crate::event::payload;
use crate::types::app_user::AppUser;
use crate::types::message::Message;

payload! {
    /// `message:appUser` (a user wrote) and `message:appMaker` (the business wrote; the role may
    /// also be `whisper`, a note agents see but the user does not).
    pub struct MessageEvent {
        required {
            /// The messages (one in every example; the docs allow more).
            messages: Vec<Message> = "messages",
            /// The user: full in v1, truncated in v1.1 unless the webhook has
            /// `includeFullAppUser`.
            app_user: AppUser = "appUser",
        }
        optional {}
    }
}
