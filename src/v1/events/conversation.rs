//! `conversation:read`, `conversation:start` and `conversation:referral`.

use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::referral::Referral;
use crate::v1::types::source::Source;

payload! {
    /// `conversation:read`: the user read the conversation.
    ///
    /// Identified by its `appUser` and the appUser's `_id`: a body without them is refused.
    pub struct ConversationRead {
        required {
            /// The user (truncated: usually only `_id`).
            app_user: AppUser = "appUser",
        }
        optional {
            /// The channel the user read on. Payloads before December 2016 sent a `channel` string
            /// instead, which is kept in `envelope.extra`.
            source: Source = "source",
        }
    }
}

payload! {
    /// `conversation:start`: the user opted in to receive messages (only some channels send it,
    /// and not when a second channel is linked through the Web Messenger).
    ///
    /// Identified by its `appUser` and the appUser's `_id`: a body without them is refused.
    pub struct ConversationStart {
        required {
            /// The user (full).
            app_user: AppUser = "appUser",
        }
        optional {
            /// The channel the conversation started on.
            source: Source = "source",
            /// How the user got here: a Messenger `ref` link or a WeChat parametric QR code.
            referral: Referral = "referral",
        }
    }
}

payload! {
    /// `conversation:referral`: a user already in a conversation was referred again (a Messenger
    /// code scan, a conversion-ad click, a WeChat QR scan by a follower).
    ///
    /// Identified by its `appUser` and the appUser's `_id`: a body without them is refused.
    pub struct ConversationReferral {
        required {
            /// The user (truncated).
            app_user: AppUser = "appUser",
        }
        expected {
            /// The referral.
            referral: Referral = "referral",
        }
        optional {
            /// The channel of the referral.
            source: Source = "source",
        }
    }
}
