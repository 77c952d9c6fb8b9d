//! [`Event::validate`]: the checks that parsing leaves out.
//!
//! Parsing accepts whatever Smooch might send. Validation says what is suspicious about a parsed
//! event: every problem at once, each with its JSON path and a short reason. The generic part
//! (values kept because they did not fit, fields the docs say are always sent, empty ids,
//! implausible times) is each struct's own walk; the rules below depend on the trigger.

use chrono::{DateTime, Utc};

use crate::de::codec::Codec;
use crate::de::walk::{Checker, IssueKind, ValidationErrors};
use crate::v1::types::action::{Action, ActionType};
use crate::v1::types::channel_error::ChannelError;
use crate::v1::types::message::{Message, Role};
use crate::v1::types::referral::Referral;
use crate::v1::types::source::{Platform, Source};
use crate::v1::Event;

impl Event {
    /// Checks the event against the rules of the docs, with the current time as the clock.
    /// See [`Event::validate_at`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_at(Utc::now())
    }

    /// Checks the event against the rules of the docs, returning every problem found, each with
    /// its JSON path and its [`IssueKind`]:
    ///
    /// - **kept**: a value kept because it did not fit its field (`expected an ISO-8601 time,
    ///   found the number 1457550541431`), at its path;
    /// - **spec**, what the v1 docs require: a field their tables mark required that is missing
    ///   (`source.type`, `client.platform`, `error.code`, `action.type`, `coordinates.lat`,
    ///   `referral.code`, a payment's `action`, `charge` and `source`, …); a `link:*` event
    ///   without `channel` or `criteria`, `link:failure` without `error`; on `message:appUser`, a
    ///   message whose role is not `appUser`, on `message:appMaker` one that is not `appMaker` or
    ///   `whisper`, on either a message without a role;
    /// - **advice**, what the docs allow but a receiver should hear of: ids (`_id` or `id` of
    ///   the app, appUser, messages, items, actions, …) that are empty; times before 2010
    ///   (Smooch did not exist; a negative time is also reported as such) or more than a day
    ///   after `now`; an empty `messages`, `postbacks`, `payments` or `discarded`; a `buy` action
    ///   without `amount` or `currency`; `delivery:failure` or `message:delivery:failure` without
    ///   `error`, an empty `error.code`; an empty `referral.code`, and a `referral` from a channel
    ///   that cannot send one (only Messenger and WeChat can); the v1.1 fields Smooch always
    ///   sends (`conversation._id`, a typing `activity.type`, an external message's `id`);
    ///   text holding U+FFFD, the replacement character (a lone surrogate escape read as U+FFFD,
    ///   or text damaged before it was sent), anywhere in the body.
    ///
    /// Every documented example passes with no `spec` problem.
    ///
    /// [`Event::Unknown`] is only checked for the last.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    ///
    /// let event = smooch_events::parse_event(br#"{
    ///     "trigger": "conversation:read",
    ///     "appUser": {"_id": "", "signedUpAt": 1457550541431},
    ///     "timestamp": 1000000000
    /// }"#)?;
    /// let now = Utc.with_ymd_and_hms(2017, 6, 1, 0, 0, 0).unwrap();
    /// let problems = event.validate_at(now).unwrap_err();
    /// assert_eq!(
    ///     problems.to_string(),
    ///     "conversation:read: 3 problems: advice: appUser._id: is empty; \
    ///      kept: appUser.signedUpAt: expected an ISO-8601 time, found the number 1457550541431; \
    ///      advice: timestamp: is before 2010 (2001-09-09T01:46:40.000Z)"
    /// );
    /// # Ok::<(), smooch_events::ParseError>(())
    /// ```
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(now);
        // The generic walk, in the order of the body; then the rules of the trigger.
        <Event as Codec>::walk(self, &mut c);
        c.stop_numbering();
        // Smooch sends `app` right after `trigger`, before the trigger's own keys.
        c.lead("app");
        match self {
            Event::ConversationStart(e) => {
                referral(&mut c, e.referral.as_ref(), e.source.as_ref());
            }
            Event::ConversationReferral(e) => {
                referral(&mut c, e.referral.as_ref(), e.source.as_ref());
            }
            Event::MessageAppUser(e) => {
                messages(&mut c, &e.messages, &[Role::AppUser]);
            }
            Event::MessageAppMaker(e) => {
                messages(&mut c, &e.messages, &[Role::AppMaker, Role::Whisper]);
            }
            Event::Postback(e) => {
                non_empty(&mut c, "postbacks", e.postbacks.len());
                c.each("postbacks", &e.postbacks, |c, postback| {
                    c.at_opt("action", postback.action.as_ref(), action);
                    c.at_opt("message", postback.message.as_ref(), message);
                });
            }
            Event::MergeAppUser(e) => {
                non_empty(&mut c, "discarded", e.discarded.len());
            }
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => {
                non_empty(&mut c, "messages", e.messages.len());
                c.each("messages", &e.messages, message);
                // The docs mark `error` optional, yet a failure without one says nothing.
                let required = matches!(self, Event::DeliveryFailure(_)).then_some(IssueKind::Advice);
                error(&mut c, e.error.as_ref(), required);
            }
            Event::PaymentSuccess(e) => {
                non_empty(&mut c, "payments", e.payments.len());
                c.each("payments", &e.payments, |c, payment| {
                    c.at_opt("action", payment.action.as_ref(), action);
                    c.at_opt("message", payment.message.as_ref(), message);
                });
            }
            Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => {
                for (key, present) in [
                    ("channel", e.channel.is_some()),
                    ("criteria", e.criteria.is_some()),
                ] {
                    if !present && !e.envelope.extra.contains_key(key) {
                        c.missing(key, IssueKind::Spec);
                    }
                }
                // The docs require `error` on `link:failure`.
                let required = matches!(self, Event::LinkFailure(_)).then_some(IssueKind::Spec);
                error(&mut c, e.error.as_ref(), required);
            }
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => {
                c.at_opt("message", e.message.as_ref(), message);
                let required = matches!(self, Event::MessageDeliveryFailure(_)).then_some(IssueKind::Advice);
                error(&mut c, e.error.as_ref(), required);
            }
            Event::ConversationRead(_) | Event::TypingAppUser(_) | Event::Unknown(_) => {}
        }
        if let Ok(body) = serde_json::to_value(self) {
            c.replacement_characters(&body);
        }
        c.finish(self.trigger())
    }
}

/// Advice on an empty list of what the event is about (the docs set no minimum, but an event
/// about nothing is suspicious).
fn non_empty(c: &mut Checker, key: &str, len: usize) {
    if len == 0 {
        c.at(key, |c| c.advice("is empty"));
    }
}

fn messages(c: &mut Checker, messages: &[Message], roles: &[Role]) {
    non_empty(c, "messages", messages.len());
    c.each("messages", messages, |c, m| {
        message(c, m);
        c.at("role", |c| match &m.role {
            None if !m.extra.contains_key("role") => c.spec("is missing"),
            Some(role) if !roles.contains(role) => {
                let expected: Vec<&str> = roles.iter().map(Role::as_str).collect();
                c.spec(format!(
                    "is `{role}` on this trigger, expected `{}`",
                    expected.join("` or `")
                ));
            }
            _ => {}
        });
    });
}

/// The rules of a message's buttons.
fn message(c: &mut Checker, message: &Message) {
    c.each("actions", message.actions(), action);
    c.each("items", message.items(), |c, item| {
        c.each("actions", item.actions(), action)
    });
}

fn action(c: &mut Checker, action: &Action) {
    if action.kind == Some(ActionType::Buy) {
        for (key, present) in [
            ("amount", action.amount.is_some()),
            ("currency", action.currency.is_some()),
        ] {
            // Optional in the docs' table, but a price needs both.
            if !present && !action.extra.contains_key(key) {
                c.at(key, |c| c.advice("is missing on a buy action"));
            }
        }
    }
}

/// A failure's `error`: reported as `required` when it is missing, with a non-empty `code`.
fn error(c: &mut Checker, error: Option<&ChannelError>, required: Option<IssueKind>) {
    match (error, required) {
        (None, Some(kind)) => c.at("error", |c| c.report(kind, "is missing on a failure event")),
        (Some(error), _) => c.at("error", |c| c.blank("code", error.code.as_deref())),
        (None, None) => {}
    }
}

/// Only Messenger (ref links, codes, ads) and WeChat (parametric QR codes) send referrals.
fn referral(c: &mut Checker, referral: Option<&Referral>, source: Option<&Source>) {
    let Some(referral) = referral else { return };
    c.at("referral", |c| {
        c.blank("code", referral.code.as_deref());
        if let Some(kind) = source.and_then(|source| source.kind.as_ref()) {
            if !matches!(kind, Platform::Messenger | Platform::Wechat) {
                c.advice(format!(
                    "sent by `{kind}`, but only `messenger` and `wechat` send referrals"
                ));
            }
        }
    });
}
