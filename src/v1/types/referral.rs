//! Referral information: how a user came to a conversation.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use compact_str::CompactString;

object! {
    /// Referral information of `conversation:referral` and of some `conversation:start` events.
    ///
    /// WeChat sends only `code` (the parametric QR code's scene); Messenger adds `details`.
    pub struct Referral {
        expecting: "a referral object",
        expected {
            /// The referral identifier (an `m.me` ref, a Messenger code's ref, a WeChat scene).
            code: CompactString = "code",
        }
        optional {
            /// What the referral was (Messenger only).
            details: ReferralDetails = "details",
        }
    }
}

object! {
    /// The details of a Messenger referral.
    pub struct ReferralDetails {
        expecting: "a referral details object",
        expected {
            /// What the user acted on.
            source: ReferralSource = "source",
            /// The kind of referral, typically `OPEN_THREAD`.
            kind: ReferralType = "type",
        }
        optional {
            /// The ad's id for a conversion-ad referral, as the v1 schema spells it (`adId`).
            /// Prefer [`ReferralDetails::ad_id`], which also reads the later spelling.
            ad_id_camel: CompactString = "adId",
            /// The ad's id as the later docs spell it (`ad_id`).
            ad_id_snake: CompactString = "ad_id",
        }
    }
}

impl ReferralDetails {
    /// The ad's id, under either spelling (`adId` in the v1 schema, `ad_id` in later docs).
    pub fn ad_id(&self) -> Option<&str> {
        self.ad_id_camel.as_deref().or(self.ad_id_snake.as_deref())
    }
}

open_enum! {
    /// What a Messenger user acted on to be referred (`referral.details.source`).
    pub enum ReferralSource {
        /// A scanned Messenger code.
        MessengerCode = "MESSENGER_CODE",
        /// A click on a conversion ad.
        Ads = "ADS",
        /// An `m.me` short link.
        Shortlink = "SHORTLINK",
    }
}

open_enum! {
    /// The kind of a Messenger referral (`referral.details.type`).
    ///
    /// Every example and real payload spells it `OPEN_THREAD`; the docs' schema table spells it
    /// `OPEN-THREAD`. Both parse, each keeps its spelling so the body round-trips, and
    /// [`ReferralType::is_open_thread`] is true for either.
    pub enum ReferralType {
        /// The user opened a thread with the business.
        OpenThread = "OPEN_THREAD",
        /// `OPEN_THREAD` as the docs' schema table spells it.
        OpenThreadDashed = "OPEN-THREAD",
    }
}

impl ReferralType {
    /// Whether this is an open-thread referral, under either spelling.
    pub fn is_open_thread(&self) -> bool {
        matches!(self, ReferralType::OpenThread | ReferralType::OpenThreadDashed)
    }
}
