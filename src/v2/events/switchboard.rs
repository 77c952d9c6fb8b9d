//! `switchboard:*`: control of a conversation passing between integrations.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::events::event;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::error::UntypedError;

event! {
    /// `switchboard:acceptControl` (an integration accepted control: it is the conversation's
    /// `activeSwitchboardIntegration`) and `switchboard:offerControl` (control was offered: the
    /// offering integration is the `activeSwitchboardIntegration`, the one offered control the
    /// `pendingSwitchboardIntegration`).
    pub struct SwitchboardEvent { payload: SwitchboardPayload }
}

object! {
    /// The payload of `switchboard:acceptControl` and `switchboard:offerControl`.
    pub struct SwitchboardPayload {
        expecting: "a switchboard payload",
        optional {
            /// The conversation.
            conversation: Conversation = "conversation",
            /// The metadata given to the control request.
            metadata: JsonMap = "metadata",
        }
    }
}

event! {
    /// `switchboard:passControl` (control passed to another integration, the conversation's
    /// `activeSwitchboardIntegration`) and `switchboard:releaseControl` (control was released:
    /// no integration is in control).
    pub struct SwitchboardReasonEvent { payload: SwitchboardReasonPayload }
}

object! {
    /// The payload of `switchboard:passControl` and `switchboard:releaseControl`.
    pub struct SwitchboardReasonPayload {
        expecting: "a switchboard payload",
        optional {
            /// The conversation.
            conversation: Conversation = "conversation",
            /// The metadata given to the control request.
            metadata: JsonMap = "metadata",
            /// Why, when one of the documented reasons applies.
            reason: SwitchboardReason = "reason",
        }
    }
}

open_enum! {
    /// Why control was passed or released (`reason`).
    pub enum SwitchboardReason {
        /// The ticket was closed.
        TicketClosed = "ticketClosed",
        /// The conversation was transferred to email.
        TransferToEmail = "transferToEmail",
    }
}

event! {
    /// `switchboard:acceptControl:failure`, `switchboard:offerControl:failure` and
    /// `switchboard:passControl:failure`: accepting, offering or passing control failed.
    pub struct SwitchboardFailureEvent { payload: SwitchboardFailurePayload }
}

object! {
    /// The payload of the three switchboard failures.
    pub struct SwitchboardFailurePayload {
        expecting: "a switchboard failure payload",
        optional {
            /// What went wrong (validation reports it missing).
            error: UntypedError = "error",
            /// The conversation (what it shows after a failure is not guaranteed).
            conversation: Conversation = "conversation",
            /// The metadata given to the control request.
            metadata: JsonMap = "metadata",
        }
    }
}
