//! The body of a v2 webhook: the app, the webhook, and the events.

use crate::de::codec::Id;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::Event;
use compact_str::CompactString;

object! {
    /// A Sunshine Conversations v2 webhook body: `app`, `webhook` and a list of `events`,
    /// possibly several, of different types and about different users and conversations.
    ///
    /// `events` is what makes a body a v2 body: it must be a list of objects (possibly empty),
    /// and a body whose `events` is anything else is refused. Everything else is optional: a
    /// value that does not fit its field is kept in that struct's `extra`, exactly as sent, and
    /// [`Body::validate`] reports it. Serializing a `Body` gives it back.
    ///
    /// Read one with [`parse_webhook`](crate::parse_webhook), which also reads v1 bodies, or
    /// through `Deserialize` (the same result, without the diagnosis of a refused body).
    pub struct Body {
        expecting: "a v2 webhook body",
        required {
            /// The events, in the order sent. Handle each on its own.
            events: Vec<Event> = "events",
        }
        optional {
            /// The app whose activity produced the events.
            app: App = "app",
            /// The webhook that sent the body.
            webhook: WebhookRef = "webhook",
        }
    }
}

impl Body {
    /// The id of the app, if sent.
    pub fn app_id(&self) -> Option<&str> {
        self.app.as_ref()?.id.as_deref()
    }
}

object! {
    /// The app whose activity produced the events (`S.appSubSchema`).
    pub struct App {
        expecting: "an app object",
        usual {
            /// The app's id.
            id: CompactString = "id" as Id,
        }
    }
}

object! {
    /// The webhook that sent a body (`S.webhookSubSchema`).
    pub struct WebhookRef {
        expecting: "a webhook object",
        usual {
            /// The webhook's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// The payload version of the webhook: `v2` for these bodies.
            version: WebhookVersion = "version",
        }
    }
}

open_enum! {
    /// The payload version of a webhook (`S.webhook.version`).
    pub enum WebhookVersion {
        /// Smooch v1 bodies (one `trigger` per body).
        V1 = "v1",
        /// Smooch v1.1 bodies (v1 with `version`, `conversation`, `client`, …).
        V1_1 = "v1.1",
        /// Sunshine Conversations v2 bodies (a list of `events`).
        V2 = "v2",
    }
}
