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

/// The key of a v1 body that can come before its `trigger` and is read as it comes (the first key
/// of a body whose keys were sorted): `app`, which every trigger has.
mod head {
    #![allow(unreachable_pub, dead_code)]

    use crate::de::object::object;
    use crate::v1::types::app::App;

    object! {
        /// The keys of a v1 body every trigger shares, read before the trigger.
        pub struct V1Head {
            expecting: "a webhook body",
            optional {
                /// The app.
                app: App = "app",
            }
        }
    }
}

pub(crate) use head::V1Head;

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

        impl $crate::de::tagged::TakeHead<$crate::v1::envelope::V1Head> for $name {
            fn take_head(&mut self, head: $crate::v1::envelope::V1Head) -> u64 {
                use $crate::de::object::Fields;
                let mut seen = 0;
                if head.app.is_some() {
                    self.envelope.app = head.app;
                    seen |= Self::bit("app");
                }
                for (key, value) in head.extra {
                    seen |= Self::bit(&key);
                    self.envelope.extra.insert(key, value);
                }
                seen
            }
        }
    };
}

pub(crate) use payload;
