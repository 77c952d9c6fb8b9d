//! The user of an event and the clients (devices and channels) the user talks through.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::time::IsoTime;
use crate::v1::types::source::Platform;

object! {
    /// The user an event is about: the docs' *appUser*.
    ///
    /// Message, postback and `conversation:start` events send the full appUser; the other
    /// triggers (and v1.1 message events unless `includeFullAppUser` is set) send a *truncated*
    /// one, often only `_id`. Every field but `_id` is therefore optional; an appUser without a
    /// usable `_id` is kept as JSON where it is optional, and refused where it identifies the
    /// event.
    pub struct AppUser {
        expecting: "an appUser object",
        required {
            /// The smoochId.
            id: CompactString = "_id" as Id,
        }
        optional {
            /// The app's own id for the user.
            user_id: CompactString = "userId",
            /// Custom properties set by the app (a flat object of any JSON values).
            properties: JsonMap = "properties",
            /// When the user was created.
            signed_up_at: IsoTime = "signedUpAt",
            /// The user's clients. See [`AppUser::clients`].
            clients: Vec<Client> = "clients",
            /// Clients linked but not yet confirmed (e.g. Twilio before the user answers).
            pending_clients: Vec<Client> = "pendingClients",
            /// The deprecated name of `clients`; older payloads send it instead of, or beside,
            /// `clients`.
            devices: Vec<Client> = "devices",
            /// Whether the user has sent a message or started a conversation.
            conversation_started: bool = "conversationStarted",
            /// Whether the user is secured by a JWT.
            credential_required: bool = "credentialRequired",
            /// The user's email address.
            email: CompactString = "email",
            /// The user's given name.
            given_name: CompactString = "givenName",
            /// The user's surname.
            surname: CompactString = "surname",
        }
    }
}

impl AppUser {
    /// The user's clients: `clients`, or the deprecated `devices` when only that was sent.
    /// Empty for a truncated appUser.
    pub fn clients(&self) -> &[Client] {
        self.clients
            .as_deref()
            .or(self.devices.as_deref())
            .unwrap_or_default()
    }
}

object! {
    /// A device or channel through which a user talks: the docs' *client*.
    pub struct Client {
        expecting: "a client object",
        expected {
            /// The platform: `ios`, `messenger`, `web`, …
            platform: Platform = "platform",
        }
        optional {
            /// The device id (web, iOS, Android) or the channel's client id.
            id: CompactString = "id" as Id,
            /// `false` when the user logged out of the SDK (no push notifications).
            active: bool = "active",
            /// When the client was last seen.
            last_seen: IsoTime = "lastSeen",
            /// Whether this is the user's primary (preferred delivery) channel.
            primary: bool = "primary",
            /// The user's name on the channel.
            display_name: CompactString = "displayName",
            /// The user's picture on the channel.
            avatar_url: CompactString = "avatarUrl",
            /// Properties of the device or channel; keys vary by platform, values are strings or
            /// numbers (WeChat's `sex`, `subscribe_time`).
            info: JsonMap = "info",
            /// The channel's raw profile of the user (nested, per channel).
            raw: JsonMap = "raw",
            /// The version of the app that embeds the SDK.
            app_version: CompactString = "appVersion",
            /// When the channel was linked to an existing user.
            linked_at: IsoTime = "linkedAt",
            /// The APN or FCM token (iOS and Android).
            push_notification_token: CompactString = "pushNotificationToken",
            /// The integration the client belongs to (v1.1).
            integration_id: CompactString = "integrationId",
            /// The channel's own id of the user (v1.1).
            external_id: CompactString = "externalId",
            /// The client's status (v1.1).
            status: ClientStatus = "status",
        }
    }
}

open_enum! {
    /// The status of a client (v1.1, from the API specification).
    pub enum ClientStatus {
        /// The client can receive messages.
        Active = "active",
        /// The user blocked the business on this channel.
        Blocked = "blocked",
        /// The client is no longer in use.
        Inactive = "inactive",
        /// The client is linked but not yet confirmed.
        Pending = "pending",
    }
}
