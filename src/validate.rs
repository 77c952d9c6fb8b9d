//! [`Event::validate`]: the strict checks that parsing leaves out.
//!
//! Parsing accepts whatever Smooch might send. Validation says what is suspicious about a parsed
//! event: every problem at once, each with its JSON path and a short reason.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::event::{Envelope, Event};
use crate::types::action::{Action, ActionType};
use crate::types::app_user::{AppUser, Client};
use crate::types::message::{Message, Role};
use crate::types::referral::Referral;
use crate::types::source::{Platform, Source};
use crate::ChannelError;

/// One problem found by [`Event::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationIssue {
    /// The JSON path of the problem, e.g. `messages[0].actions[1].amount` (empty for the body).
    pub path: String,
    /// What is wrong, e.g. `is missing on a buy action`.
    pub message: String,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem [`Event::validate`] found (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    trigger: String,
    issues: Vec<ValidationIssue>,
}

impl ValidationErrors {
    /// The problems: those of the envelope (`app`, `timestamp`, …) first, then the payload's.
    pub fn issues(&self) -> &[ValidationIssue] {
        &self.issues
    }

    /// The trigger of the event that was validated.
    pub fn trigger(&self) -> &str {
        &self.trigger
    }
}

impl fmt::Display for ValidationErrors {
    /// One line: `<trigger>: <n> problem(s): <path>: <reason>; …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "{}: {n} problem{}: ",
            self.trigger,
            if n == 1 { "" } else { "s" }
        )?;
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl IntoIterator for ValidationErrors {
    type Item = ValidationIssue;
    type IntoIter = std::vec::IntoIter<ValidationIssue>;

    fn into_iter(self) -> Self::IntoIter {
        self.issues.into_iter()
    }
}

impl Event {
    /// Checks the event against the rules of the docs, with the current time as the clock.
    /// See [`Event::validate_at`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_at(Utc::now())
    }

    /// Checks the event against the rules of the docs, returning every problem found:
    ///
    /// - ids (`_id` of the app, appUser, messages, actions, …) that are empty;
    /// - times before 2010 (Smooch did not exist; a negative time is also reported as such) or
    ///   more than a day after `now`;
    /// - an empty `messages`, `postbacks`, `payments` or `discarded`;
    /// - on `message:appUser`, a message whose role is not `appUser`; on `message:appMaker`, one
    ///   that is not `appMaker` or `whisper`; on either, a message without a role;
    /// - a `buy` action without `amount` or `currency`;
    /// - `delivery:failure`, `message:delivery:failure` or `link:failure` without `error`;
    ///   a `link:*` event without `channel` or `criteria`;
    /// - a `referral` from a channel that cannot send one (only Messenger and WeChat can).
    ///
    /// A time that is not finite cannot get this far: JSON has no such numbers and parsing refuses
    /// values outside chrono's range. [`Event::Unknown`] is not checked.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    ///
    /// let event = smooch_events::parse_event(br#"{
    ///     "trigger": "conversation:read",
    ///     "appUser": {"_id": ""},
    ///     "timestamp": 1000000000
    /// }"#)?;
    /// let now = Utc.with_ymd_and_hms(2017, 6, 1, 0, 0, 0).unwrap();
    /// let problems = event.validate_at(now).unwrap_err();
    /// assert_eq!(
    ///     problems.to_string(),
    ///     "conversation:read: 2 problems: timestamp: is before 2010 (2001-09-09T01:46:40.000Z); \
    ///      appUser._id: is empty"
    /// );
    /// # Ok::<(), smooch_events::ParseError>(())
    /// ```
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut c = Checker {
            now,
            path: String::new(),
            issues: Vec::new(),
        };
        if let Some(envelope) = self.envelope() {
            c.envelope(envelope);
        }
        match self {
            Event::ConversationRead(e) => c.at("appUser", |c| c.app_user(&e.app_user)),
            Event::ConversationStart(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.referral(e.referral.as_ref(), e.source.as_ref());
            }
            Event::ConversationReferral(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.referral(Some(&e.referral), e.source.as_ref());
            }
            Event::MessageAppUser(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.messages(&e.messages, &[Role::AppUser]);
            }
            Event::MessageAppMaker(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.messages(&e.messages, &[Role::AppMaker, Role::Whisper]);
            }
            Event::Postback(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.non_empty("postbacks", &e.postbacks, |c, postback| {
                    c.at("action", |c| c.action(&postback.action));
                    c.at_opt("message", postback.message.as_ref(), Checker::message);
                });
            }
            Event::MergeAppUser(e) => {
                c.at("surviving", |c| c.app_user(&e.surviving));
                c.non_empty("discarded", &e.discarded, Checker::app_user);
            }
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.non_empty("messages", &e.messages, Checker::message);
                c.error(e.error.as_ref(), matches!(self, Event::DeliveryFailure(_)));
            }
            Event::PaymentSuccess(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                c.non_empty("payments", &e.payments, |c, payment| {
                    c.at("action", |c| c.action(&payment.action));
                    c.at("charge", |c| c.at("id", |c| c.id(&payment.charge.id)));
                    c.at_opt("message", payment.message.as_ref(), Checker::message);
                });
            }
            Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => {
                c.at("appUser", |c| c.app_user(&e.app_user));
                if e.channel.is_none() {
                    c.at("channel", |c| c.issue("is missing"));
                }
                if e.criteria.is_none() {
                    c.at("criteria", |c| c.issue("is missing"));
                }
                c.error(e.error.as_ref(), matches!(self, Event::LinkFailure(_)));
            }
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => {
                c.at_opt("appUser", e.app_user.as_ref(), Checker::app_user);
                c.at_opt("message", e.message.as_ref(), Checker::message);
                c.error(e.error.as_ref(), matches!(self, Event::MessageDeliveryFailure(_)));
            }
            Event::TypingAppUser(e) => c.at_opt("appUser", e.app_user.as_ref(), Checker::app_user),
            Event::Unknown(_) => {}
        }
        if c.issues.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                trigger: self.trigger().to_owned(),
                issues: c.issues,
            })
        }
    }
}

/// Walks an event, keeping the JSON path of where it is.
struct Checker {
    now: DateTime<Utc>,
    path: String,
    issues: Vec<ValidationIssue>,
}

impl Checker {
    fn issue(&mut self, message: impl Into<String>) {
        self.issues.push(ValidationIssue {
            path: self.path.clone(),
            message: message.into(),
        });
    }

    /// Runs `check` with `key` appended to the path.
    fn at(&mut self, key: &str, check: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(key);
        check(self);
        self.path.truncate(len);
    }

    fn at_opt<T>(&mut self, key: &str, value: Option<&T>, check: impl FnOnce(&mut Self, &T)) {
        if let Some(value) = value {
            self.at(key, |c| check(c, value));
        }
    }

    /// Runs `check` on each item of a list under `key`.
    fn each<T>(&mut self, key: &str, items: &[T], mut check: impl FnMut(&mut Self, &T)) {
        self.at(key, |c| {
            for (i, item) in items.iter().enumerate() {
                let len = c.path.len();
                c.path.push_str(&format!("[{i}]"));
                check(c, item);
                c.path.truncate(len);
            }
        });
    }

    /// Like [`Checker::each`], and reports an empty list.
    fn non_empty<T>(&mut self, key: &str, items: &[T], check: impl FnMut(&mut Self, &T)) {
        if items.is_empty() {
            self.at(key, |c| c.issue("is empty"));
        }
        self.each(key, items, check);
    }

    fn id(&mut self, id: &str) {
        if id.trim().is_empty() {
            self.issue("is empty");
        }
    }

    fn time(&mut self, key: &str, time: Option<&DateTime<Utc>>) {
        let Some(time) = time else { return };
        // Smooch started in 2015; anything before 2010 is a unit or clock error.
        let earliest = Utc.with_ymd_and_hms(2010, 1, 1, 0, 0, 0).unwrap();
        let shown = crate::time::display_rfc3339(time);
        self.at(key, |c| {
            if time.timestamp() < 0 {
                c.issue(format!("is negative ({shown})"));
            } else if *time < earliest {
                c.issue(format!("is before 2010 ({shown})"));
            } else if *time > c.now + Duration::days(1) {
                c.issue(format!("is more than a day in the future ({shown})"));
            }
        });
    }

    fn envelope(&mut self, envelope: &Envelope) {
        self.time("timestamp", envelope.timestamp.as_ref());
        self.at_opt("app", envelope.app.as_ref(), |c, app| {
            c.at("_id", |c| c.id(&app.id))
        });
        self.at_opt(
            "conversation",
            envelope.conversation.as_ref(),
            |c, conversation| {
                c.at("_id", |c| c.id(&conversation.id));
            },
        );
        self.at_opt("client", envelope.client.as_deref(), Checker::client);
    }

    fn app_user(&mut self, user: &AppUser) {
        self.at("_id", |c| c.id(&user.id));
        self.time("signedUpAt", user.signed_up_at.as_ref());
        for (key, clients) in [
            ("clients", &user.clients),
            ("pendingClients", &user.pending_clients),
            ("devices", &user.devices),
        ] {
            if let Some(clients) = clients {
                self.each(key, clients, Checker::client);
            }
        }
    }

    fn client(&mut self, client: &Client) {
        if let Some(id) = &client.id {
            self.at("id", |c| c.id(id));
        }
        self.time("lastSeen", client.last_seen.as_ref());
        self.time("linkedAt", client.linked_at.as_ref());
    }

    fn messages(&mut self, messages: &[Message], roles: &[Role]) {
        self.non_empty("messages", messages, |c, message| {
            c.message(message);
            c.at("role", |c| match &message.role {
                None => c.issue("is missing"),
                Some(role) if !roles.contains(role) => {
                    let expected: Vec<&str> = roles.iter().map(Role::as_str).collect();
                    c.issue(format!(
                        "is `{role}` on this trigger, expected `{}`",
                        expected.join("` or `")
                    ));
                }
                Some(_) => {}
            });
        });
    }

    fn message(&mut self, message: &Message) {
        self.at("_id", |c| c.id(&message.id));
        self.time("received", message.received.as_ref());
        self.each("actions", message.actions(), Checker::action);
        self.each("items", message.items(), |c, item| {
            c.each("actions", item.actions(), Checker::action)
        });
    }

    fn action(&mut self, action: &Action) {
        if let Some(id) = &action.id {
            self.at("_id", |c| c.id(id));
        }
        if action.kind == ActionType::Buy {
            if action.amount.is_none() {
                self.at("amount", |c| c.issue("is missing on a buy action"));
            }
            if action.currency.is_none() {
                self.at("currency", |c| c.issue("is missing on a buy action"));
            }
        }
    }

    fn error(&mut self, error: Option<&ChannelError>, required: bool) {
        match error {
            None if required => self.at("error", |c| c.issue("is missing on a failure event")),
            Some(error) => self.at("error", |c| c.at("code", |c| c.id(&error.code))),
            None => {}
        }
    }

    /// Only Messenger (ref links, codes, ads) and WeChat (parametric QR codes) send referrals.
    fn referral(&mut self, referral: Option<&Referral>, source: Option<&Source>) {
        let (Some(referral), Some(source)) = (referral, source) else {
            return;
        };
        self.at("referral", |c| {
            c.at("code", |c| c.id(&referral.code));
            if !matches!(source.kind, Platform::Messenger | Platform::Wechat) {
                c.issue(format!(
                    "sent by `{}`, but only `messenger` and `wechat` send referrals",
                    source.kind
                ));
            }
        });
    }
}
