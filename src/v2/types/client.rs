//! The clients through which a user talks: one per channel or SDK installation.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::time::IsoTime;
use crate::v2::types::channel::ChannelType;

object! {
    /// A client (`S.client`): one channel or SDK of a user. Sent by client events, in
    /// `user:merge`'s `mergedClients`, and as `source.client` with `includeFullSource`.
    pub struct Client {
        expecting: "a client object",
        usual {
            /// The client's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// The channel (`sdk` for iOS, Android, Unity and web).
            kind: ChannelType = "type",
            /// Whether the client can receive messages.
            status: ClientStatus = "status",
            /// The integration the client belongs to (not for `sdk` clients, which span
            /// several integrations).
            integration_id: CompactString = "integrationId",
            /// The user's id on the channel: a phone number on Twilio, a page-scoped id on
            /// Messenger (not for `sdk` clients).
            external_id: CompactString = "externalId",
            /// When the user last interacted through this client.
            last_seen: IsoTime = "lastSeen",
            /// When the client was attached to the user.
            linked_at: IsoTime = "linkedAt",
            /// The user's name on the channel.
            display_name: CompactString = "displayName",
            /// The user's avatar on the channel.
            avatar_url: CompactString = "avatarUrl",
            /// Curated channel keys (Twilio: `phoneNumber`, `city`, `country`, `state`); none is
            /// guaranteed.
            info: JsonMap = "info",
            /// The channel's raw data about the user (Twilio: `From`, `FromCity`, …).
            raw: JsonMap = "raw",
        }
    }
}

open_enum! {
    /// Whether a client can receive messages (`client.status`).
    pub enum ClientStatus {
        /// It can.
        Active = "active",
        /// The user blocked the business on this channel.
        Blocked = "blocked",
        /// It is no longer in use.
        Inactive = "inactive",
        /// A channel link was started and is not confirmed yet.
        Pending = "pending",
    }
}
