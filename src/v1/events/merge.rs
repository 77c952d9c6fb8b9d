//! `merge:appUser`: two users were merged into one.

use crate::v1::envelope::payload;
use crate::v1::types::app_user::AppUser;

payload! {
    /// `merge:appUser`: users were merged (for example when a user logs in on a second device).
    ///
    /// Identified by `surviving` and `discarded` (a list), each user with its `_id`: a body
    /// without them is refused.
    pub struct MergeAppUser {
        required {
            /// The user that remains (truncated).
            surviving: AppUser = "surviving",
            /// The users merged into it and removed (truncated).
            discarded: Vec<AppUser> = "discarded",
        }
    }
}
