//! `user:merge`, `user:update` and `user:remove`.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::events::event;
use crate::v2::types::merged::{MergedClients, MergedConversations, MergedUsers};
use crate::v2::types::source::Source;
use crate::v2::types::user::User;

event! {
    /// `user:merge`: two users were merged into one.
    pub struct UserMergeEvent { payload: UserMergePayload }
}

object! {
    /// The payload of `user:merge`.
    pub struct UserMergePayload {
        expecting: "a user:merge payload",
        optional {
            /// The user that remains and the user absorbed into it.
            merged_users: MergedUsers = "mergedUsers",
            /// The conversations merged; absent when none were.
            merged_conversations: MergedConversations = "mergedConversations",
            /// The clients merged; absent when none were.
            merged_clients: MergedClients = "mergedClients",
            /// Metadata dropped because the merged metadata went over 4 KB.
            discarded_metadata: JsonMap = "discardedMetadata",
            /// Why the users were merged.
            reason: MergeReason = "reason",
        }
    }
}

open_enum! {
    /// Why users were merged (`user:merge` `reason`).
    pub enum MergeReason {
        /// Through the API.
        Api = "api",
        /// A channel link.
        ChannelLinking = "channelLinking",
        /// The user logged in on an SDK.
        SdkLogin = "sdkLogin",
    }
}

event! {
    /// `user:update`: a user was updated.
    pub struct UserUpdateEvent { payload: UserUpdatePayload }
}

object! {
    /// The payload of `user:update`.
    pub struct UserUpdatePayload {
        expecting: "a user:update payload",
        optional {
            /// The user after the update.
            user: User = "user",
            /// What changed.
            reason: UserUpdateReason = "reason",
            /// Where the update came from.
            source: Source = "source",
        }
    }
}

open_enum! {
    /// Why a user was updated (`user:update` `reason`).
    pub enum UserUpdateReason {
        /// An anonymous user became authenticated.
        Authentication = "authentication",
        /// The user's locale was detected from their messages.
        LocaleDetection = "localeDetection",
    }
}

event! {
    /// `user:remove`: a user was deleted.
    pub struct UserRemoveEvent { payload: UserRemovePayload }
}

object! {
    /// The payload of `user:remove`.
    pub struct UserRemovePayload {
        expecting: "a user:remove payload",
        optional {
            /// The deleted user (truncated).
            user: User = "user",
        }
    }
}
