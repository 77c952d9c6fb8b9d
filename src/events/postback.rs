//! `postback`: a user tapped a postback button.

use crate::event::payload;
use crate::object::object;
use crate::types::action::Action;
use crate::types::app_user::AppUser;
use crate::types::message::Message;

payload! {
    /// `postback`: a user tapped a button of type `postback`.
    pub struct PostbackEvent {
        required {
            /// The postbacks (one in every example).
            postbacks: Vec<Postback> = "postbacks",
            /// The user (full).
            app_user: AppUser = "appUser",
        }
        optional {}
    }
}

object! {
    /// One tapped postback button.
    pub struct Postback {
        expecting: "a postback object",
        required {
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
