//! `message:appUser` and `message:appMaker`.

use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::message::Message;

payload! {
    /// `message:appUser` (a user wrote) and `message:appMaker` (the business wrote; the role may
    /// also be `whisper`, a note agents see but the user does not).
    ///
    /// Identified by its `messages` (a list of message objects, each with its `_id`) and its
    /// `appUser` with the appUser's `_id`: a body without them is refused.
    pub struct MessageEvent {
        required {
            /// The messages (one in every example; the docs allow more).
            messages: Vec<Message> = "messages",
            /// The user: full in v1, truncated in v1.1 unless the webhook has
            /// `includeFullAppUser`.
            app_user: AppUser = "appUser",
        }
    }
}
