//! How a user came to a conversation.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use compact_str::CompactString;

object! {
    /// A referral (`S.referral`): of `conversation:referral`, and of `conversation:create` when
    /// the conversation came from one. The `conversation:referral` example sends `{}`.
    pub struct Referral {
        expecting: "a referral object",
        optional {
            /// The referral's identifier.
            code: CompactString = "code",
            /// What the referral was.
            details: ReferralDetails = "details",
        }
    }
}

object! {
    /// The details of a referral.
    pub struct ReferralDetails {
        expecting: "a referral details object",
        optional {
            /// What the user acted on: `MESSENGER_CODE`, `ADS`, …
            source: ReferralSource = "source",
            /// The kind of referral, usually `OPEN-THREAD`.
            kind: ReferralType = "type",
            /// The ad's id, when the referral came from an ad (digits, as a string).
            ad_id: CompactString = "adId",
        }
    }
}

open_enum! {
    /// What a user acted on to be referred (`referral.details.source`, a free string).
    pub enum ReferralSource {
        /// A scanned Messenger code.
        MessengerCode = "MESSENGER_CODE",
        /// A click on an ad.
        Ads = "ADS",
    }
}

open_enum! {
    /// The kind of a referral (`referral.details.type`, a free string).
    pub enum ReferralType {
        /// The user opened a thread with the business.
        OpenThread = "OPEN-THREAD",
    }
}
