//! The switchboard integration in control of a conversation, or offered control.

use crate::de::object::object;
use crate::de::open_enum::open_enum;
use compact_str::CompactString;

object! {
    /// A switchboard integration as webhooks show it (`S.switchboardIntegrationWebhook`): the
    /// `activeSwitchboardIntegration` and `pendingSwitchboardIntegration` of a conversation.
    pub struct SwitchboardIntegration {
        expecting: "a switchboard integration object",
        expected {
            /// The switchboard integration's id.
            id: CompactString = "id",
        }
        optional {
            /// Its name, unique in the switchboard: letters, digits, `-` and `_` (the examples
            /// use `bot` and `human`).
            name: CompactString = "name",
            /// The integration that receives the events the switchboard routes to it.
            integration_id: CompactString = "integrationId",
            /// The type of that integration: `custom` in the examples, `zd:agentWorkspace`, or an
            /// OAuth integration's client id (kept in [`IntegrationType::Other`]).
            integration_type: IntegrationType = "integrationType",
        }
    }
}

open_enum! {
    /// The type of the integration behind a switchboard integration (`integrationType`).
    ///
    /// A free string in the spec: the integration types of `S.integration`, Zendesk's agent
    /// workspace, or the client id of an OAuth integration.
    pub enum IntegrationType {
        /// A custom integration (a webhook of the app's own).
        Custom = "custom",
        /// Zendesk's Agent Workspace.
        ZdAgentWorkspace = "zd:agentWorkspace",
        /// Android SDK.
        Android = "android",
        /// Apple Messages for Business.
        Apple = "apple",
        /// Instagram Direct.
        Instagram = "instagram",
        /// iOS SDK.
        Ios = "ios",
        /// LINE.
        Line = "line",
        /// Mailgun email.
        Mailgun = "mailgun",
        /// MessageBird SMS.
        Messagebird = "messagebird",
        /// Facebook Messenger.
        Messenger = "messenger",
        /// Telegram.
        Telegram = "telegram",
        /// Twilio SMS.
        Twilio = "twilio",
        /// Twitter DM.
        Twitter = "twitter",
        /// Unity SDK.
        Unity = "unity",
        /// Viber.
        Viber = "viber",
        /// Web Messenger.
        Web = "web",
        /// WhatsApp.
        Whatsapp = "whatsapp",
    }
}
