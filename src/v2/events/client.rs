//! `client:add`, `client:remove` and `client:update`: a user's channels and SDK clients.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::events::event;
use crate::v2::types::client::Client;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::error::UntypedError;
use crate::v2::types::source::Source;
use crate::v2::types::user::User;

event! {
    /// `client:add`: a channel link was started, or an SDK client was created.
    pub struct ClientAddEvent { payload: ClientAddPayload }
}

object! {
    /// The payload of `client:add`.
    pub struct ClientAddPayload {
        expecting: "a client:add payload",
        optional {
            /// The conversation the client is attached to: only for `channelLinking` to a
            /// particular conversation.
            conversation: Conversation = "conversation",
            /// The owner of the client (truncated).
            user: User = "user",
            /// The client just created.
            client: Client = "client",
            /// Why it was added.
            reason: ClientAddReason = "reason",
            /// Where the event came from (the API or an SDK device).
            source: Source = "source",
        }
    }
}

open_enum! {
    /// Why a client was added (`client:add` `reason`).
    pub enum ClientAddReason {
        /// A channel link was started.
        ChannelLinking = "channelLinking",
        /// The user logged in on an SDK device.
        SdkLogin = "sdkLogin",
        /// An SDK client was initialised with an `authCode`.
        AuthCode = "authCode",
    }
}

event! {
    /// `client:remove`: a client was removed (through the API or an SDK, moved by a channel link,
    /// or a link failed or was cancelled).
    pub struct ClientRemoveEvent { payload: ClientRemovePayload }
}

object! {
    /// The payload of `client:remove`.
    pub struct ClientRemovePayload {
        expecting: "a client:remove payload",
        optional {
            /// The conversation: only for `theft`, `linkCancelled` and `linkFailed` (and for
            /// `theft` not when the conversation was deleted).
            conversation: Conversation = "conversation",
            /// The owner of the client (truncated).
            user: User = "user",
            /// The removed client.
            client: Client = "client",
            /// Why it was removed.
            reason: ClientRemoveReason = "reason",
            /// What went wrong: only for `linkCancelled` and `linkFailed`.
            error: UntypedError = "error",
            /// Where the event came from (the API or an SDK device).
            source: Source = "source",
        }
    }
}

open_enum! {
    /// Why a client was removed (`client:remove` `reason`).
    pub enum ClientRemoveReason {
        /// Through the API.
        Api = "api",
        /// The user cancelled a channel link.
        LinkCancelled = "linkCancelled",
        /// A channel link failed.
        LinkFailed = "linkFailed",
        /// Through an SDK.
        Sdk = "sdk",
        /// A channel link moved the client to another user.
        Theft = "theft",
    }
}

event! {
    /// `client:update`: a client was confirmed, matched, blocked or unblocked.
    pub struct ClientUpdateEvent { payload: ClientUpdatePayload }
}

object! {
    /// The payload of `client:update` (it has no `source`, unlike `client:add` and
    /// `client:remove`).
    pub struct ClientUpdatePayload {
        expecting: "a client:update payload",
        optional {
            /// The conversation that caused the change.
            conversation: Conversation = "conversation",
            /// The owner of the client (truncated).
            user: User = "user",
            /// The client after the update.
            client: Client = "client",
            /// What changed.
            reason: ClientUpdateReason = "reason",
        }
    }
}

open_enum! {
    /// Why a client changed (`client:update` `reason`).
    pub enum ClientUpdateReason {
        /// The client is now active.
        Confirmed = "confirmed",
        /// The user unsubscribed.
        Blocked = "blocked",
        /// The user subscribed again.
        Unblocked = "unblocked",
        /// The channel found a user matching the data supplied.
        Matched = "matched",
    }
}
