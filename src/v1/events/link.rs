//! `link:success`, `link:match` and `link:failure`: linking a channel to an existing user.

use crate::de::map::JsonMap;
use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::channel_error::ChannelError;
use crate::v1::types::source::Platform;

/// What was sent to the link API, echoed back (an open map): `phoneNumber` for Twilio and
/// Messenger (with optional `givenName`, `surname`), `address` (and `subject`) for Mailgun.
pub type LinkCriteria = JsonMap;

payload! {
    /// `link:success` (the channel was linked), `link:match` (a matching channel user was found)
    /// and `link:failure` (linking failed; see `error`).
    ///
    /// Identified by its `appUser` and the appUser's `_id`: a body without them is refused.
    pub struct LinkEvent {
        required {
            /// The user (truncated).
            app_user: AppUser = "appUser",
        }
        optional {
            /// The channel being linked: `twilio`, `messenger` or `mailgun`.
            channel: Platform = "channel",
            /// What the channel user was looked up by.
            criteria: LinkCriteria = "criteria",
            /// Why linking failed (`link:failure`).
            error: ChannelError = "error",
        }
    }
}
