//! What `user:merge` merged: users, and the conversations and clients that went with them.

use crate::de::object::object;
use crate::v2::types::client::Client;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::user::User;

object! {
    /// The two users of a merge (`mergedUsers`).
    pub struct MergedUsers {
        expecting: "a merged users object",
        optional {
            /// The user that remains.
            surviving: User = "surviving",
            /// The user absorbed into it.
            discarded: User = "discarded",
        }
    }
}

object! {
    /// The two conversations of a merge (`mergedConversations`); absent when none were merged.
    pub struct MergedConversations {
        expecting: "a merged conversations object",
        optional {
            /// The conversation that remains.
            surviving: Conversation = "surviving",
            /// The conversation absorbed into it.
            discarded: Conversation = "discarded",
        }
    }
}

object! {
    /// The two clients of a merge (`mergedClients`); absent when none were merged.
    pub struct MergedClients {
        expecting: "a merged clients object",
        optional {
            /// The client that existed before the merge.
            surviving: Client = "surviving",
            /// The pending client the merge dropped.
            discarded: Client = "discarded",
        }
    }
}
