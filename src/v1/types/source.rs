//! Where a message or event came from, or where it went.

use compact_str::CompactString;
use serde_json::Value;

use crate::de::codec::Id;
use crate::de::object::object;
use crate::de::open_enum::open_enum;

open_enum! {
    /// A channel or platform: `source.type`, `destination.type`, `client.platform` and the linked
    /// `channel`.
    ///
    /// Every value the v1 docs name: the client platforms (with the docs' own catch-all
    /// `"other"`, [`Platform::OtherPlatform`]), those of the raw-info sections and of the SDK's
    /// integration types, `api`, and the business systems the examples show (`slack`). A value
    /// the docs do not name is kept in [`Platform::Other`].
    pub enum Platform {
        /// Web Messenger.
        Web = "web",
        /// iOS SDK.
        Ios = "ios",
        /// Android SDK.
        Android = "android",
        /// Facebook Messenger.
        Messenger = "messenger",
        /// Viber.
        Viber = "viber",
        /// Telegram.
        Telegram = "telegram",
        /// WeChat.
        Wechat = "wechat",
        /// LINE.
        Line = "line",
        /// Twilio SMS.
        Twilio = "twilio",
        /// Front-end email.
        FrontendEmail = "frontendEmail",
        /// Twitter DM.
        Twitter = "twitter",
        /// MessageBird SMS.
        Messagebird = "messagebird",
        /// Mailgun email.
        Mailgun = "mailgun",
        /// WhatsApp.
        Whatsapp = "whatsapp",
        /// Apple push notifications.
        Apn = "apn",
        /// Firebase Cloud Messaging.
        Fcm = "fcm",
        /// The Smooch REST API.
        Api = "api",
        /// Slack, a business system.
        Slack = "slack",
        /// Help Scout, a business system.
        Helpscout = "helpscout",
        /// Zendesk, a business system.
        Zendesk = "zendesk",
        /// The docs' own catch-all platform, `"other"` (not to be confused with
        /// [`Platform::Other`], which keeps a value the docs do not name).
        OtherPlatform = "other",
    }
}

object! {
    /// The docs' *source/destination* schema: `messages[].source`, the top-level `source` of
    /// `conversation:*`, the `destination` of delivery events, and `payments[].source`.
    pub struct Source {
        expecting: "a source object",
        expected {
            /// The channel, e.g. `messenger` or `api`.
            kind: Platform = "type",
        }
        optional {
            /// Smooch's internal id of the source; sent by some channels (web, iOS, Viber, WeChat,
            /// LINE).
            id: CompactString = "id" as Id,
            /// The integration the event went through (v1.1).
            integration_id: CompactString = "integrationId",
            /// The integration type a message was sent to (a v1.1 `destination`).
            integration_type: Platform = "integrationType",
            /// The channel's own id of the message (v1.1).
            original_message_id: CompactString = "originalMessageId",
            /// The channel's own time of the message (v1.1; its format is not documented, so it is
            /// kept as JSON).
            original_message_timestamp: Value = "originalMessageTimestamp",
        }
    }
}
