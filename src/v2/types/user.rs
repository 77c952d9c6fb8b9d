//! The user an event is about, with the profile and identities the full user adds.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::time::IsoTime;

object! {
    /// A user: the spec's *userTruncated* and full *user* in one type.
    ///
    /// Client events, `conversation:join`/`leave` and `user:remove` send the truncated user (`id`,
    /// `authenticated`, `externalId`, `zendeskId`, `brandId`). The other events send the full
    /// user, but its added fields (`signedUpAt`, `toBeRetained`, `profile`, `metadata`,
    /// `identities`) arrive only when the webhook was created with `includeFullUser`; without
    /// it they are `None`. Only `id` is reported missing by validation.
    pub struct User {
        expecting: "a user object",
        usual {
            /// The user's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// Whether the user is authenticated (by a JWT or through the Help Center).
            authenticated: bool = "authenticated",
            /// The business's own id for the user. A string in the spec; the
            /// `conversation:referral` example sends the number `912382197`, which does not fit
            /// and is kept in `extra` as sent (validation reports it).
            external_id: CompactString = "externalId",
            /// The id of the Zendesk user this user is linked to (digits, as a string).
            zendesk_id: CompactString = "zendeskId",
            /// The brand of a brand-separated user (digits, as a string).
            brand_id: CompactString = "brandId",
            /// When the user was created (full user).
            signed_up_at: IsoTime = "signedUpAt",
            /// Whether the user is kept after the inactivity expiry (full user).
            to_be_retained: bool = "toBeRetained",
            /// The user's name, email, avatar and locale (full user). Boxed: sent only with
            /// `includeFullUser`.
            profile: Box<Profile> = "profile",
            /// Flat custom properties (full user).
            metadata: JsonMap = "metadata",
            /// The user's identities, such as an email address (full user).
            identities: Vec<Identity> = "identities",
        }
    }
}

object! {
    /// The profile of a full user (`S.profile`). Every field may be absent or `null`.
    pub struct Profile {
        expecting: "a profile object",
        optional {
            /// The user's given name.
            given_name: CompactString = "givenName",
            /// The user's surname.
            surname: CompactString = "surname",
            /// The user's email address.
            email: CompactString = "email",
            /// The URL of the user's avatar.
            avatar_url: CompactString = "avatarUrl",
            /// The user's locale, a BCP 47 tag such as `fr-CA`.
            locale: CompactString = "locale",
        }
    }
}

object! {
    /// One identity of a full user (`S.identity`), such as a verified email address.
    pub struct Identity {
        expecting: "an identity object",
        optional {
            /// The kind of identity: a free string, `email` in the spec's example.
            kind: CompactString = "type",
            /// The identity itself, e.g. the email address.
            value: CompactString = "value",
            /// How it was verified: a free string, `embed` in the spec's example.
            verification: CompactString = "verification",
        }
    }
}
