//! The body of a v2 webhook: the app, the webhook, and the events; and how a body whose
//! `events` said it is v2 is read ([`Body::read_after_events`]).

use std::borrow::Cow;

use compact_str::CompactString;
use serde::de::{self, MapAccess};
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::de::codec::{Ctx, Id, Misfit, Write};
use crate::de::json::KeySeed;
use crate::de::object::{object, FieldSeed, Fields};
use crate::de::open_enum::open_enum;
use crate::de::tagged::{Before, Found, TakeHead};
use crate::v2::Event;

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
        serialize: by_hand,
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

/// Writes `app`, `webhook`, then `events`, in the spec's order, then the keys in `extra`.
impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(app) = &self.app {
            map.serialize_entry("app", app)?;
        }
        if let Some(webhook) = &self.webhook {
            map.serialize_entry("webhook", webhook)?;
        }
        map.serialize_entry("events", &Write::<Vec<Event>>(&self.events))?;
        for (key, value) in &self.extra {
            let written = match key.as_str() {
                "events" => true,
                "app" => self.app.is_some(),
                "webhook" => self.webhook.is_some(),
                _ => false,
            };
            if !written {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// A v2 body's `app` and `webhook` when they come before `events` (as Sunshine Conversations
/// sends them), read as they come, before the version is known: v2's body takes them as they
/// are (see [`TakeHead`]); a v1 body (a `trigger` further on) gets them back as JSON, exactly as
/// they were sent.
mod head {
    #![allow(unreachable_pub, dead_code)]

    use super::{App, WebhookRef};
    use crate::de::object::object;

    object! {
        /// The keys of a v2 body before `events`.
        pub struct BodyHead {
            expecting: "a webhook body",
            optional {
                /// The app.
                app: App = "app",
                /// The webhook.
                webhook: WebhookRef = "webhook",
            }
        }
    }
}

pub(crate) use head::BodyHead;

impl TakeHead<BodyHead> for Body {
    fn take_head(&mut self, head: BodyHead) -> u64 {
        let mut seen = 0;
        if head.app.is_some() {
            self.app = head.app;
            seen |= Body::bit("app");
        }
        if head.webhook.is_some() {
            self.webhook = head.webhook;
            seen |= Body::bit("webhook");
        }
        for (key, value) in head.extra {
            seen |= Body::bit(&key);
            self.extra.insert(key, value);
        }
        seen
    }
}

/// What reading a body whose `events` made it v2 gives.
pub(crate) enum BodyRead<A> {
    /// A v2 body (boxed where it is filled: `Webhook::V2` keeps it there).
    Body(Box<Body>),
    /// A `trigger` came after `events` (no real body has both): a v1 body after all. What was
    /// read, back as JSON as it was sent, and the rest of the map, whose next value is the
    /// trigger's.
    Trigger {
        /// The keys read so far, with their values.
        read: Map<String, Value>,
        /// The rest of the body.
        map: A,
    },
}

impl Body {
    /// Reads a body whose `events` key was found (`Found::Here`: its value comes next; or ahead,
    /// with the first key's value next), the keys read `before` it first, then the rest, every key
    /// once. `events` is read tolerantly, so that a `trigger` after it still makes a v1 body
    /// whatever `events` holds; once the body is known to be v2, an `events` that is not a list
    /// of objects is an error.
    pub(crate) fn read_after_events<'de, A: MapAccess<'de>>(
        found: Found<'de>,
        before: Before<BodyHead>,
        mut map: A,
        ctx: Ctx<'de>,
    ) -> Result<BodyRead<A>, A::Error> {
        let mut body = Box::<Body>::default();
        let mut seen = before.read_into(&mut *body, ctx)?;
        let mut next = Some(match found {
            Found::Here => Cow::Borrowed("events"),
            Found::Ahead { next, .. } => next,
        });
        let mut events: Option<(&str, Box<Misfit>)> = None;
        loop {
            let key = match next.take() {
                Some(key) => key,
                None => match map.next_key_seed(KeySeed)? {
                    Some(key) => key,
                    None => break,
                },
            };
            if key == "trigger" {
                // A v1 body after all: what was read goes back to JSON, as it was sent.
                let mut read = match serde_json::to_value(&body).map_err(de::Error::custom)? {
                    Value::Object(read) => read,
                    _ => Map::new(),
                };
                match events {
                    Some((key, misfit)) => {
                        read.insert(key.to_owned(), misfit.value);
                    }
                    None if Body::REQUIRED.iter().any(|(_, bit)| seen & bit == 0) => {
                        read.remove("events");
                    }
                    None => {}
                }
                return Ok(BodyRead::Trigger { read, map });
            }
            let ctx = if key == "events" { ctx.tolerant() } else { ctx };
            let misfit = map.next_value_seed(FieldSeed {
                target: &mut *body,
                seen: &mut seen,
                key,
                ctx,
            })?;
            // Only `events`, the one required field, read tolerantly, gives a misfit.
            events = events.or(misfit);
        }
        match events {
            Some((key, misfit)) => Err(de::Error::custom(format_args!(
                "{key}{}: {}",
                misfit.path,
                misfit.problem()
            ))),
            None if Body::REQUIRED.iter().any(|(_, bit)| seen & bit == 0) => {
                Err(de::Error::missing_field("events"))
            }
            None => Ok(BodyRead::Body(body)),
        }
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
