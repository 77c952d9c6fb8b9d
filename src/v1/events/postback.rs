//! `postback`: a user tapped a postback button.

use crate::de::object::object;
use crate::v1::envelope::payload;
use crate::v1::types::action::Action;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::message::Message;

payload! {
    /// `postback`: a user tapped a button of type `postback`.
    ///
    /// Identified by its `postbacks` (a list of objects) and its `appUser` with the appUser's
    /// `_id`: a body without them is refused.
    pub struct PostbackEvent {
        required {
            /// The postbacks (one in every example).
            postbacks: Vec<Postback> = "postbacks",
            /// The user (full).
            app_user: AppUser = "appUser",
        }
    }
}

object! {
    /// One tapped postback button.
    pub struct Postback {
        expecting: "a postback object",
        expected {
            /// The action that was tapped.
            action: Action = "action",
        }
        optional {
            /// The message that carried the button; absent for a persistent-menu postback. Do not
            /// assume `action` is one of its `actions` (the docs' own example differs in `text`).
            message: Message = "message",
        }
    }
}
