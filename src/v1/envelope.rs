//! What every v1 trigger shares: the [`Envelope`], and [`payload!`], which defines the payload
//! struct of a trigger family with the envelope flattened into it.

use chrono::{DateTime, Utc};
use compact_str::CompactString;

use crate::de::object::object;
use crate::de::time::UnixSeconds;
use crate::v1::types::app::{App, ConversationRef};
use crate::v1::types::app_user::Client;
use crate::v1::types::source::Source;

object! {
    /// The keys any trigger may carry, and the top-level keys this crate does not model.
    ///
    /// `app` is in every v1 payload since July 2016; `timestamp` in those of `conversation:*`,
    /// delivery and payment events. v1.1 webhooks may add `version`, `conversation`, `client`
    /// (with `includeClient`), `destination` and `timestamp` to any trigger. All are optional.
    pub struct Envelope {
        expecting: "a webhook body",
        optional {
            /// The app the event belongs to.
            app: App = "app",
            /// When Smooch received or emitted the event.
            timestamp: DateTime<Utc> = "timestamp" as UnixSeconds,
            /// Where a message was delivered (delivery events).
            destination: Source = "destination",
            /// The payload version of the webhook (`"v1.1"`).
            version: CompactString = "version",
            /// The conversation (v1.1).
            conversation: ConversationRef = "conversation",
            /// The client the event came through (v1.1, webhooks created with `includeClient`).
            /// Boxed: it is large and rarely sent.
            client: Box<Client> = "client",
        }
    }
}

/// Defines the payload struct of one or more triggers: an [`object!`] whose keys it does not
/// model go to its `envelope`.
///
/// Its `required` fields are what identifies the event: a body whose required field is missing
/// or does not fit is refused (everything else that does not fit is kept and reported by
/// validation).
macro_rules! payload {
    ( $(#[$meta:meta])* pub struct $name:ident { $($body:tt)* } ) => {
        $crate::de::object::object! {
            $(#[$meta])*
            pub struct $name {
                expecting: "a webhook body",
                $($body)*
                flatten {
                    /// The keys every trigger may carry (`app`, `timestamp`, …), and the top-level
                    /// keys this crate does not model.
                    envelope: $crate::v1::envelope::Envelope
                }
            }
        }
    };
}

pub(crate) use payload;
