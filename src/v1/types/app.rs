//! The app and conversation an event belongs to.

use crate::de::codec::Id;
use crate::de::object::object;
use compact_str::CompactString;

object! {
    /// The Smooch app the event belongs to: the docs' *truncated app*, `{"_id": …}`.
    pub struct App {
        expecting: "an app object",
        expected {
            /// The app's id, the same id that initialises the SDKs.
            id: CompactString = "_id" as Id,
        }
    }
}

object! {
    /// The conversation of a v1.1 event (`"conversation": {"_id": …}`).
    pub struct ConversationRef {
        expecting: "a conversation object",
        usual {
            /// The conversation's id.
            id: CompactString = "_id" as Id,
        }
    }
}
