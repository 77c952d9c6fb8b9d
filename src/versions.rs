//! [`Webhook`]: a body of any version, and the version switch, which only routes.
//!
//! A `trigger` key makes a v1 (or v1.1) body, wherever it stands; otherwise an `events` key makes
//! a v2 body. The switch is a tagged shape like the others (see [`tagged`](crate::de::tagged)),
//! with two deciding keys: the body is read in one pass, each key once, by the reader of its
//! version ([`v1::Event`]'s dispatch, or [`v2::Body`]'s reader). A v2 body whose `trigger` comes
//! after its `events` (no real body has both) is handed back as JSON and read as v1, so the key
//! order never changes the answer.

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::de::codec::Ctx;
use crate::de::tagged::{Before, Found, Tagged, TaggedSeed};
use crate::de::walk::ValidationErrors;
use crate::v1::V1Head;
use crate::v2::{BodyHead, BodyRead};
use crate::{v1, v2};

/// A webhook body of any version: what [`parse_webhook`](crate::parse_webhook) and
/// [`WebhookSecrets::verify_and_parse`](crate::WebhookSecrets::verify_and_parse) return.
///
/// A Smooch v1 or v1.1 body holds one event, named by its `trigger`; a Sunshine Conversations v2
/// body holds a list of `events`, each with its `type`. A team that migrates receives both, often
/// on the same endpoint.
///
/// ```
/// use smooch_events::{v2, Webhook};
///
/// let body = br#"{"app": {"id": "5ebee0975ac5304b664a12fa"}, "events": [
///     {"id": "5f74a0d52b5315fc007e798a", "type": "conversation:message",
///      "createdAt": "2020-09-30T15:14:29.834Z",
///      "payload": {"message": {"id": "m1", "content": {"type": "text", "text": "hello"},
///                              "author": {"type": "user"}}}}]}"#;
/// match smooch_events::parse_webhook(body)? {
///     Webhook::V1(event) => println!("v1 {}", event.trigger()),
///     Webhook::V2(webhook) => {
///         for event in &webhook.events {
///             if let Some(message) = event.message() {
///                 assert_eq!(message.text(), Some("hello"));
///             }
///         }
///     }
///     _ => {}
/// }
/// # Ok::<(), smooch_events::ParseError>(())
/// ```
///
/// `Deserialize` reads either version in one pass, like `parse_webhook` (without its diagnosis of
/// a refused body); `Serialize` gives the body back.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Webhook {
    /// A Smooch v1 or v1.1 body (it has a `trigger`).
    V1(v1::Event),
    /// A Sunshine Conversations v2 body (it has `events` and no `trigger`); boxed, so that a
    /// `Webhook` is as small as a v1 event.
    V2(Box<v2::Body>),
}

impl Webhook {
    /// The v1 event, if this is a v1 body.
    pub fn as_v1(&self) -> Option<&v1::Event> {
        match self {
            Webhook::V1(event) => Some(event),
            Webhook::V2(_) => None,
        }
    }

    /// The v2 body, if this is one.
    pub fn as_v2(&self) -> Option<&v2::Body> {
        match self {
            Webhook::V2(webhook) => Some(webhook),
            Webhook::V1(_) => None,
        }
    }

    /// The v1 event, if this is a v1 body.
    pub fn into_v1(self) -> Option<v1::Event> {
        match self {
            Webhook::V1(event) => Some(event),
            Webhook::V2(_) => None,
        }
    }

    /// The v2 body, if this is one.
    pub fn into_v2(self) -> Option<v2::Body> {
        match self {
            Webhook::V2(webhook) => Some(*webhook),
            Webhook::V1(_) => None,
        }
    }

    /// Whether this is a v2 body.
    pub fn is_v2(&self) -> bool {
        matches!(self, Webhook::V2(_))
    }

    /// The id of the app the body belongs to, if sent (`app._id` in v1, `app.id` in v2).
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Webhook::V1(event) => event.app_id(),
            Webhook::V2(webhook) => webhook.app_id(),
        }
    }

    /// What the body holds, for logs: the `trigger` of a v1 body, the `type` of each event of a
    /// v2 body (`""` for an event without a string `type`), in order.
    pub fn event_types(&self) -> Vec<&str> {
        match self {
            Webhook::V1(event) => vec![event.trigger()],
            Webhook::V2(webhook) => webhook.events.iter().map(v2::Event::trigger).collect(),
        }
    }

    /// Checks the body: [`v1::Event::validate`] or [`v2::Body::validate`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_at(Utc::now())
    }

    /// Checks the body with `now` as the clock: [`v1::Event::validate_at`] or
    /// [`v2::Body::validate_at`].
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        match self {
            Webhook::V1(event) => event.validate_at(now),
            Webhook::V2(webhook) => webhook.validate_at(now),
        }
    }
}

impl From<v1::Event> for Webhook {
    fn from(event: v1::Event) -> Self {
        Webhook::V1(event)
    }
}

impl From<v2::Body> for Webhook {
    fn from(webhook: v2::Body) -> Self {
        Webhook::V2(Box::new(webhook))
    }
}

impl Serialize for Webhook {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Webhook::V1(event) => event.serialize(s),
            Webhook::V2(webhook) => webhook.serialize(s),
        }
    }
}

/// Reads a body of either version in one pass, from any serde data format.
///
/// Prefer [`parse_webhook`](crate::parse_webhook) on the raw bytes of a request: it tells which
/// kind of problem a refused body has, with its JSON path, and reads a lone surrogate escape
/// (half an emoji) as U+FFFD instead of refusing it. Behind `axum::Json<Webhook>`, a body that
/// does not parse is answered 422, which Smooch retries five times; take the bytes and use
/// [`WebhookSecrets::verify_and_parse`](crate::WebhookSecrets::verify_and_parse), whose error says
/// to answer 400.
impl<'de> Deserialize<'de> for Webhook {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TaggedSeed::new(Ctx::body(None)).deserialize(d)
    }
}

/// The version switch: `trigger` routes to v1's dispatch, `events` to v2's body reader.
impl Tagged for Webhook {
    const EXPECTING: &'static str = "a webhook body (a JSON object with `trigger` or `events`)";
    /// `app` and `webhook` before the deciding key: a v2 body sends them before `events`, and
    /// a v1 body whose keys were sorted has its `app` before `trigger`.
    type Head = SwitchHead;

    fn deciding(key: &str) -> Option<&'static str> {
        match key {
            "trigger" => Some("trigger"),
            "events" => Some("events"),
            _ => None,
        }
    }

    fn read_decided<'de, A: MapAccess<'de>>(
        key: &'static str,
        found: Found<'de>,
        before: Before<SwitchHead>,
        map: A,
        ctx: Ctx<'de>,
    ) -> Result<Self, A::Error> {
        if key == "trigger" {
            let before = before.map_head(SwitchHead::into_v1);
            return v1::Event::read_decided(key, found, before, map, ctx).map(Webhook::V1);
        }
        match v2::Body::read_after_events(found, before.map_head(SwitchHead::into_v2), map, ctx)? {
            BodyRead::Body(body) => Ok(Webhook::V2(body)),
            BodyRead::Trigger { read, map } => {
                let read = Before::from_map(read);
                v1::Event::read_decided("trigger", Found::Here, read, map, ctx).map(Webhook::V1)
            }
        }
    }

    fn undecided<E: de::Error>(_: Map<String, Value>) -> Result<Self, E> {
        Err(de::Error::custom(
            "the body is not a webhook: it has neither `trigger` (v1) nor `events` (v2)",
        ))
    }
}

/// The keys the version switch reads before it knows the version, in a shape each version's head
/// takes without reading them again: `app` with either version's id (`_id` in v1, `id` in v2),
/// and v2's `webhook`.
mod head {
    #![allow(unreachable_pub, dead_code)]

    use compact_str::CompactString;

    use crate::de::codec::Id;
    use crate::de::object::object;
    use crate::v2::WebhookRef;

    object! {
        /// `app` and `webhook`, read before `trigger` or `events`.
        pub struct SwitchHead {
            expecting: "a webhook body",
            optional {
                /// The app, with either version's id.
                app: AnyApp = "app",
                /// The v2 webhook.
                webhook: WebhookRef = "webhook",
            }
        }
    }

    object! {
        /// An app of either version.
        pub struct AnyApp {
            expecting: "an app object",
            optional {
                /// v1's id.
                v1_id: CompactString = "_id" as Id,
                /// v2's id.
                v2_id: CompactString = "id" as Id,
            }
        }
    }
}

use head::{AnyApp, SwitchHead};

impl SwitchHead {
    /// The head of a v1 body: its `app`; a `webhook` is a key v1 does not model, kept as sent.
    fn into_v1(self) -> V1Head {
        let mut head = V1Head {
            app: self.app.map(AnyApp::into_v1),
            extra: self.extra,
        };
        if let Some(webhook) = self.webhook {
            if let Ok(webhook) = serde_json::to_value(webhook) {
                head.extra.insert("webhook".to_owned(), webhook);
            }
        }
        head
    }

    /// The head of a v2 body.
    fn into_v2(self) -> BodyHead {
        BodyHead {
            app: self.app.map(AnyApp::into_v2),
            webhook: self.webhook,
            extra: self.extra,
        }
    }
}

impl AnyApp {
    /// A v1 app: `_id` is its id, and an `id` a key it does not model.
    fn into_v1(self) -> v1::App {
        let mut extra = self.extra;
        if let Some(id) = self.v2_id {
            extra.insert("id".to_owned(), Value::String(id.into()));
        }
        v1::App {
            id: self.v1_id,
            extra,
        }
    }

    /// A v2 app: `id` is its id, and an `_id` a key it does not model.
    fn into_v2(self) -> v2::App {
        let mut extra = self.extra;
        if let Some(id) = self.v1_id {
            extra.insert("_id".to_owned(), Value::String(id.into()));
        }
        v2::App {
            id: self.v2_id,
            extra,
        }
    }
}
