//! [`Body::validate`]: the checks that parsing leaves out.
//!
//! The generic part (values kept because they did not fit, fields reported missing, empty ids,
//! implausible times, objects of a tagged union without their `type`) is each struct's own walk;
//! the rules below depend on the event type or on where an object stands.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::de::codec::{report_kept, Codec, Id};
use crate::de::object::Fields;
use crate::de::time::IsoTime;
use crate::de::walk::{Checker, IssueKind, ValidationErrors};
use crate::v2::types::message::action::Action;
use crate::v2::types::message::content::Content;
use crate::v2::types::message::message::Message;
use crate::v2::types::message::quoted::QuotedMessage;
use crate::v2::{App, Body, Event, WebhookRef};

impl Body {
    /// Checks the body against the rules of the spec, with the current time as the clock. See
    /// [`Body::validate_at`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_at(Utc::now())
    }

    /// Checks the body against the rules of the spec, returning every problem found, each with
    /// its JSON path from the body (`events[2].payload.message.content.mediaUrl`) and its
    /// [`IssueKind`]:
    ///
    /// - **kept**: a value that did not fit its field (`expected an ISO-8601 time, found the
    ///   number 1601478869834`), kept as sent;
    /// - **spec**, what the spec requires: an author's `type`, a message source's `type`, each
    ///   content type's own fields (`mediaUrl`, `items`, `fields`, `coordinates` with `lat` and
    ///   `long`, `template`), an item's `title` and `actions`, each action type's `text`, `uri`,
    ///   `payload`, `amount` or `fallback`, a form field's `type`, `name` and `label`, a
    ///   reference's `uri`, the `type` of a content, action, quoted message or activity; a
    ///   `reply` or `locationRequest` action in an item or a list, which take only buy, link,
    ///   postback and webview;
    /// - **advice**, what the spec allows but a receiver should hear of: an event without `id`,
    ///   `createdAt`, `payload` or a string `type`, an object without the `id` Smooch always
    ///   sends (app, webhook, conversation, user, client, message, …), a failure event
    ///   (`conversation:message:delivery:failure`, `switchboard:*:failure`) without `error`,
    ///   an empty id, `error.code` or `referral.code`, a time before 2010 or more than a day
    ///   after `now`, and text holding U+FFFD, the replacement character (a lone surrogate escape
    ///   read as U+FFFD, or text damaged before it was sent), anywhere in the body.
    ///
    /// Every example of the spec passes with no `spec` problem.
    ///
    /// An event of a type the crate does not model is checked for its `id` and `createdAt`
    /// only. `"events": []` is no problem: the spec sets no minimum.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use smooch_events::IssueKind;
    ///
    /// let body = br#"{"events": [{"type": "conversation:message", "id": "",
    ///     "payload": {"message": {"id": "m", "received": 1601478869834,
    ///         "author": {"type": "user"}, "content": {"type": "image"}}}}]}"#;
    /// let webhook = smooch_events::parse_webhook(body)?;
    /// let now = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
    /// let problems = webhook.validate_at(now).unwrap_err();
    /// let spec: Vec<String> = problems.of_kind(IssueKind::Spec).map(ToString::to_string).collect();
    /// assert_eq!(spec, ["spec: events[0].payload.message.content.mediaUrl: is missing"]);
    /// assert_eq!(
    ///     problems.to_string(),
    ///     "webhook: 4 problems: advice: events[0].id: is empty; \
    ///      advice: events[0].createdAt: is missing; \
    ///      spec: events[0].payload.message.content.mediaUrl: is missing; \
    ///      kept: events[0].payload.message.received: expected an ISO-8601 time, found the number 1601478869834"
    /// );
    /// # Ok::<(), smooch_events::ParseError>(())
    /// ```
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(now);
        // The generic walk, in the order the body is written back (`app`, `webhook`, `events`);
        // then the rules of each event.
        c.at_opt("app", self.app.as_ref(), |c, app| app.walk(c));
        c.at_opt("webhook", self.webhook.as_ref(), |c, webhook| webhook.walk(c));
        c.at("events", |c| Vec::<Event>::walk(&self.events, c));
        for (key, value) in &self.extra {
            match key.as_str() {
                "app" => report_kept::<App>(&mut c, key, value),
                "webhook" => report_kept::<WebhookRef>(&mut c, key, value),
                _ => {}
            }
        }
        c.stop_numbering();
        c.each("events", &self.events, event);
        if let Ok(body) = serde_json::to_value(self) {
            c.replacement_characters(&body);
        }
        c.finish("webhook")
    }
}

/// The rules of one event.
fn event(c: &mut Checker, event: &Event) {
    match event {
        Event::ConversationMessage(e) => {
            let Some(payload) = &e.payload else { return };
            c.at("payload", |c| {
                c.at_opt("message", payload.message.as_ref(), message);
                c.each(
                    "recentNotifications",
                    payload.recent_notifications.as_deref().unwrap_or_default(),
                    message,
                );
            });
        }
        Event::ConversationMessageDeliveryFailure(e) => {
            let Some(payload) = &e.payload else { return };
            c.at("payload", |c| {
                let code = payload.error.as_ref().map(|error| error.code.as_deref());
                failure(c, code, payload.extra.get("error"));
            });
        }
        Event::SwitchboardAcceptControlFailure(e)
        | Event::SwitchboardOfferControlFailure(e)
        | Event::SwitchboardPassControlFailure(e) => {
            let Some(payload) = &e.payload else { return };
            c.at("payload", |c| {
                let code = payload.error.as_ref().map(|error| error.code.as_deref());
                failure(c, code, payload.extra.get("error"));
            });
        }
        Event::ConversationCreate(e) => {
            let referral = e.payload.as_ref().and_then(|p| p.referral.as_ref());
            referral_code(c, referral.and_then(|r| r.code.as_deref()));
        }
        Event::ConversationReferral(e) => {
            let referral = e.payload.as_ref().and_then(|p| p.referral.as_ref());
            referral_code(c, referral.and_then(|r| r.code.as_deref()));
        }
        Event::Unknown(unknown) => {
            // The keys every event has (`S.eventSubSchema`).
            match unknown.body.get("id") {
                None => c.missing("id", IssueKind::Advice),
                Some(id) => {
                    report_kept::<Id>(c, "id", id);
                    if let Some(id) = id.as_str() {
                        c.at("id", |c| Id::walk(&id.into(), c));
                    }
                }
            }
            match unknown.body.get("createdAt") {
                None => c.missing("createdAt", IssueKind::Advice),
                Some(time) => {
                    report_kept::<IsoTime>(c, "createdAt", time);
                    if let Ok(time) = <IsoTime as serde::Deserialize>::deserialize(time) {
                        c.at("createdAt", |c| IsoTime::walk(&time, c));
                    }
                }
            }
        }
        _ => {}
    }
}

/// A failure event's `error`: present (`null` is missing; a value of another type, `kept`, is
/// reported as such), with a non-empty `code` if any. The spec requires neither (advice).
fn failure(c: &mut Checker, code: Option<Option<&str>>, kept: Option<&Value>) {
    match code {
        None if kept.map_or(true, Value::is_null) => {
            c.at("error", |c| c.advice("is missing on a failure event"))
        }
        Some(code) => c.at("error", |c| c.blank("code", code)),
        None => {}
    }
}

/// A blank `payload.referral.code`.
fn referral_code(c: &mut Checker, code: Option<&str>) {
    c.at("payload", |c| c.at("referral", |c| c.blank("code", code)));
}

/// The rules of a message: its source's `type` (required in a message source), and the actions
/// of its items and lists; then the same for the message it quotes.
fn message(c: &mut Checker, m: &Message) {
    if let Some(source) = &m.source {
        if source.kind.is_none() && !source.extra.contains_key("type") {
            c.at("source", |c| c.missing("type", IssueKind::Spec));
        }
    }
    if let Some(content) = &m.content {
        c.at("content", |c| {
            c.each("items", content.items(), |c, item| {
                c.each("actions", item.actions.as_deref().unwrap_or_default(), subset);
            });
            if let Content::List(list) = content {
                c.each("actions", list.actions.as_deref().unwrap_or_default(), subset);
            }
        });
    }
    if let Some(QuotedMessage::Message(quoted)) = &m.quoted_message {
        c.at("quotedMessage", |c| {
            c.at_opt("message", quoted.message.as_ref(), message)
        });
    }
}

/// Items and lists take only buy, link, postback and webview actions (`S.actionSubset`).
fn subset(c: &mut Checker, action: &Action) {
    if let Action::Reply(_) | Action::LocationRequest(_) = action {
        let kind = action.type_name();
        c.at("type", |c| {
            c.spec(format!(
                "`{kind}` is not allowed here (items and lists take buy, link, postback and webview)"
            ))
        });
    }
}
