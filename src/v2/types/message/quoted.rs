//! The message a message answers (`quotedMessage`).

use crate::de::object::object;
use crate::de::tagged::{tagged, NoHead, UnknownObject};
use crate::v2::types::message::message::Message;
use compact_str::CompactString;

tagged! {
    /// The message a message answers (`S.quotedMessage`): a message Sunshine Conversations
    /// stored, or only the channel's id of one it did not.
    pub enum QuotedMessage {
        expecting: "a quoted message object",
        tag: "type",
        missing_tag: Spec,
        names: TYPES / type_name,
        head: NoHead,
        unknown: /// A `type` this crate does not model (or none), with the whole object as it was sent.
            UnknownObject,
        /// A stored message, whole. Boxed: a message may quote a message that quotes another.
        Message(Box<QuotedMessageMessage>) = "message",
        /// The channel's id of a message that matched none stored.
        ExternalMessageId(QuotedExternalMessageId) = "externalMessageId",
    }
}

object! {
    /// A quoted message that Sunshine Conversations stored (`S.quotedMessageMessage`).
    pub struct QuotedMessageMessage {
        expecting: "a quoted message object",
        optional {
            /// The quoted message (`S.message`: it may have `activity` and `references`, and
            /// quote another message in turn).
            message: Message = "message",
        }
    }
}

object! {
    /// A quoted message known only by the channel's id (`S.quotedMessageExternalMessageId`).
    pub struct QuotedExternalMessageId {
        expecting: "a quoted message object",
        optional {
            /// The channel's id of the quoted message.
            external_message_id: CompactString = "externalMessageId",
        }
    }
}
