//! The channel a client, a source, a destination or an integration belongs to.

use crate::de::open_enum::open_enum;

open_enum! {
    /// A channel, as every place of a v2 body names one: `source.type`, a delivery's
    /// `destination.type`, `client.type` and a switchboard integration's `integrationType`.
    ///
    /// One type for the four, holding every value the spec names in any of them: the client
    /// types (`S.clientType`, 17 values), the integration types (`S.integration`, which add
    /// `custom` and `unity`, and `zd:agentWorkspace`), the source and destination types of the
    /// prose and examples (`api`, `notification`, `web`, `ios`, `android`, and the namespaced
    /// `api:conversations`). The places differ in what they use: `client.type` says `sdk` for
    /// every SDK, while sources and destinations say `web`, `ios` or `android`. Any other value
    /// (a new channel, an OAuth integration's client id as `integrationType`) is kept in
    /// [`ChannelType::Other`].
    pub enum ChannelType {
        /// Android SDK.
        Android = "android",
        /// The Sunshine Conversations API.
        Api = "api",
        /// The Conversations API, as REST message sources name it.
        ApiConversations = "api:conversations",
        /// Apple Messages for Business.
        Apple = "apple",
        /// A custom integration (a webhook of the app's own).
        Custom = "custom",
        /// Google's Business Messages.
        Gbm = "gbm",
        /// Google RCS.
        Googlercs = "googlercs",
        /// Instagram Direct.
        Instagram = "instagram",
        /// iOS SDK.
        Ios = "ios",
        /// KakaoTalk.
        Kakao = "kakao",
        /// LINE.
        Line = "line",
        /// Mailgun email.
        Mailgun = "mailgun",
        /// MessageBird SMS.
        Messagebird = "messagebird",
        /// Facebook Messenger.
        Messenger = "messenger",
        /// The Notification API.
        Notification = "notification",
        /// An SDK (iOS, Android, Unity or web), as `client.type` and `source.type` name them.
        Sdk = "sdk",
        /// Slack Connect.
        Slackconnect = "slackconnect",
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
        /// WeChat.
        Wechat = "wechat",
        /// WhatsApp.
        Whatsapp = "whatsapp",
        /// Zendesk's Agent Workspace (as `integrationType`).
        ZdAgentWorkspace = "zd:agentWorkspace",
    }
}
