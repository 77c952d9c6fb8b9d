//! The conversation an event happened in.

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::types::switchboard_integration::SwitchboardIntegration;
use compact_str::CompactString;

object! {
    /// A conversation as webhooks show it (`S.conversationTruncated`, the only conversation shape
    /// a webhook carries).
    ///
    /// Nothing in it is required by the spec; only `id` is reported missing by validation.
    pub struct Conversation {
        expecting: "a conversation object",
        usual {
            /// The conversation's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// `personal` or `sdkGroup`.
            kind: ConversationType = "type",
            /// Flat custom properties (string, number or boolean values).
            metadata: JsonMap = "metadata",
            /// The switchboard integration in control. Absent (or `null`) when none is, as in
            /// `switchboard:releaseControl`.
            active_switchboard_integration: SwitchboardIntegration = "activeSwitchboardIntegration",
            /// The switchboard integration that was offered control and has not accepted it yet.
            /// Absent when control was never offered.
            pending_switchboard_integration: SwitchboardIntegration = "pendingSwitchboardIntegration",
        }
    }
}

open_enum! {
    /// The kind of a conversation (`S.conversationType`).
    pub enum ConversationType {
        /// A conversation between one user and the business.
        Personal = "personal",
        /// A conversation with several SDK users (`conversation:join` and `conversation:leave`
        /// concern only these).
        SdkGroup = "sdkGroup",
    }
}
