//! `merge:appUser`: two users were merged into one.

use crate::event::payload;
use crate::types::app_user::AppUser;

payload! {
    /// `merge:appUser`: users were merged (for example when a user logs in on a second device).
    pub struct MergeAppUser {
        required {
            /// The user that remains (truncated).
            surviving: AppUser = "surviving",
            /// The users merged into it and removed (truncated).
            discarded: Vec<AppUser> = "discarded",
        }
        optional {}
    }
}
