//! `conversation:create`, `:join`, `:leave`, `:remove` and `:referral`.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::events::event;
use crate::v2::types::conversation::Conversation;
use crate::v2::types::referral::Referral;
use crate::v2::types::source::Source;
use crate::v2::types::user::User;

event! {
    /// `conversation:create`: a conversation was created.
    pub struct ConversationCreateEvent { payload: ConversationCreatePayload }
}

object! {
    /// The payload of `conversation:create`.
    pub struct ConversationCreatePayload {
        expecting: "a conversation:create payload",
        optional {
            /// The new conversation.
            conversation: Conversation = "conversation",
            /// Why it was created.
            creation_reason: CreationReason = "creationReason",
            /// Where the creation came from, possibly with a `campaign`.
            source: Source = "source",
            /// The user: only for `personal` conversations (fetch the participants of an
            /// `sdkGroup` with the API).
            user: User = "user",
            /// The referral the conversation came from, if any.
            referral: Referral = "referral",
        }
    }
}

open_enum! {
    /// Why a conversation was created (`creationReason`).
    pub enum CreationReason {
        /// To make a link request that moves the user to another channel.
        LinkRequest = "linkRequest",
        /// A message was sent.
        Message = "message",
        /// No particular purpose (mostly the Create Conversation API).
        None = "none",
        /// A Notification API call.
        Notification = "notification",
        /// The user completed the Web Messenger prechat form.
        PrechatCapture = "prechatCapture",
        /// An SDK `startConversation` call, or a channel's start-conversation event.
        StartConversation = "startConversation",
        /// The user interacted with a campaign.
        ProactiveMessaging = "proactiveMessaging",
    }
}

event! {
    /// `conversation:join` (a participant joined an `sdkGroup` conversation) and
    /// `conversation:leave` (a participant left one).
    pub struct ParticipantEvent { payload: ParticipantPayload }
}

object! {
    /// The payload of `conversation:join` and `conversation:leave`.
    pub struct ParticipantPayload {
        expecting: "a participant payload",
        optional {
            /// The conversation joined or left.
            conversation: Conversation = "conversation",
            /// The participant (truncated).
            user: User = "user",
        }
    }
}

event! {
    /// `conversation:remove`: a conversation was deleted.
    pub struct ConversationRemoveEvent { payload: ConversationRemovePayload }
}

object! {
    /// The payload of `conversation:remove`.
    pub struct ConversationRemovePayload {
        expecting: "a conversation:remove payload",
        optional {
            /// The deleted conversation.
            conversation: Conversation = "conversation",
        }
    }
}

event! {
    /// `conversation:referral`: a user was referred to a conversation.
    pub struct ConversationReferralEvent { payload: ConversationReferralPayload }
}

object! {
    /// The payload of `conversation:referral`.
    pub struct ConversationReferralPayload {
        expecting: "a conversation:referral payload",
        optional {
            /// The conversation the user lands in.
            conversation: Conversation = "conversation",
            /// The user.
            user: User = "user",
            /// Where the referral came from, possibly with a `campaign`.
            source: Source = "source",
            /// The referral (`{}` in the spec's example).
            referral: Referral = "referral",
        }
    }
}
