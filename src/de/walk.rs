//! The walk behind every `validate()`: a [`Checker`] goes through a parsed value keeping the JSON
//! path of where it is, and collects [`ValidationIssue`]s.
//!
//! The generic part (kept values, missing fields, empty ids, implausible times) is done by each
//! struct's `walk`, which `object!` writes; each version adds the rules that depend on the event.
//! Every problem carries its [`IssueKind`]: a value kept, a requirement of the spec, or advice.

use std::borrow::Cow;
use std::fmt::{self, Write};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::de::json::cut;

/// What kind of problem a [`ValidationIssue`] is.
///
/// Only [`IssueKind::Spec`] says that the body breaks a rule of the spec (for v1, of the v1
/// docs); every example the docs give has none. The other two say what a receiver may want to
/// know: a value that parsing kept aside, or something that is allowed but suspicious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssueKind {
    /// A value that did not fit its field: it reads as absent and is kept, exactly as sent, in
    /// the `extra` map of the struct that holds it (`expected an ISO-8601 time, found the number
    /// 1457550541431`).
    Kept,
    /// A requirement of the spec that the body does not meet: a field the spec requires is
    /// missing (an image's `mediaUrl`, an author's `type`), or a value is not allowed where it
    /// stands (a `reply` action in a carousel item, an `appMaker` message on `message:appUser`).
    Spec,
    /// Allowed by the spec, but suspicious: a field Smooch always sends is missing (an event's
    /// `id`), an id or code is empty, a time is implausible, text holds U+FFFD.
    Advice,
}

impl IssueKind {
    /// `kept`, `spec` or `advice`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::Kept => "kept",
            IssueKind::Spec => "spec",
            IssueKind::Advice => "advice",
        }
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by `validate()`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationIssue {
    /// The JSON path of the problem, e.g. `messages[0].actions[1].amount` (empty for the body).
    pub path: String,
    /// What is wrong, e.g. `is missing on a buy action`.
    pub message: String,
    /// Whether it is a value kept, a requirement of the spec, or advice.
    pub kind: IssueKind,
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

/// Every problem `validate()` found (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    subject: String,
    issues: Vec<ValidationIssue>,
}

impl ValidationErrors {
    /// The problems, in the order of the body.
    pub fn issues(&self) -> &[ValidationIssue] {
        &self.issues
    }

    /// The problems of one kind, in the order of the body: `of_kind(IssueKind::Spec)` lists the
    /// rules of the spec that the body breaks.
    pub fn of_kind(&self, kind: IssueKind) -> impl Iterator<Item = &ValidationIssue> {
        self.issues.iter().filter(move |issue| issue.kind == kind)
    }

    /// What was validated: the trigger of a v1 event, or `webhook` for a v2 body.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for ValidationErrors {
    /// One line: `<subject>: <n> problem(s): <path>: <reason>; …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "{}: {n} problem{}: ",
            self.subject,
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

/// Walks a parsed value, keeping the JSON path of where it is.
pub(crate) struct Checker {
    now: DateTime<Utc>,
    path: String,
    issues: Vec<ValidationIssue>,
}

impl Checker {
    /// A checker whose clock says `now`.
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Checker {
            now,
            path: String::new(),
            issues: Vec::new(),
        }
    }

    /// The problems found, as the result of `validate()`.
    pub(crate) fn finish(self, subject: &str) -> Result<(), ValidationErrors> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                subject: subject.to_owned(),
                issues: self.issues,
            })
        }
    }

    /// Reports a problem of `kind` at the current path.
    pub(crate) fn report(&mut self, kind: IssueKind, message: impl Into<Cow<'static, str>>) {
        self.issues.push(ValidationIssue {
            path: self.path.clone(),
            message: message.into().into_owned(),
            kind,
        });
    }

    /// Reports a requirement of the spec that is not met, at the current path.
    pub(crate) fn spec(&mut self, message: impl Into<Cow<'static, str>>) {
        self.report(IssueKind::Spec, message);
    }

    /// Reports something allowed but suspicious, at the current path.
    pub(crate) fn advice(&mut self, message: impl Into<Cow<'static, str>>) {
        self.report(IssueKind::Advice, message);
    }

    /// Runs `check` with `key` appended to the path.
    pub(crate) fn at(&mut self, key: &str, check: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(key);
        check(self);
        self.path.truncate(len);
    }

    /// Runs `check` with `[i]` appended to the path.
    pub(crate) fn index(&mut self, i: usize, check: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        let _ = write!(self.path, "[{i}]");
        check(self);
        self.path.truncate(len);
    }

    /// Runs `check` with `suffix` (a path already written: `._id`, `[2].type`) appended.
    pub(crate) fn within(&mut self, suffix: &str, check: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        self.path.push_str(suffix);
        check(self);
        self.path.truncate(len);
    }

    /// Runs `check` on the value under `key`, if there is one.
    pub(crate) fn at_opt<T>(&mut self, key: &str, value: Option<&T>, check: impl FnOnce(&mut Self, &T)) {
        if let Some(value) = value {
            self.at(key, |c| check(c, value));
        }
    }

    /// Runs `check` on each item of a list under `key`.
    pub(crate) fn each<T>(&mut self, key: &str, items: &[T], mut check: impl FnMut(&mut Self, &T)) {
        self.at(key, |c| {
            for (i, item) in items.iter().enumerate() {
                c.index(i, |c| check(c, item));
            }
        });
    }

    /// Reports `key` as missing: a requirement of the spec ([`IssueKind::Spec`]), or a field
    /// Smooch always sends ([`IssueKind::Advice`]).
    pub(crate) fn missing(&mut self, key: &str, kind: IssueKind) {
        self.at(key, |c| c.report(kind, "is missing"));
    }

    /// Reports the string under `key` as empty, if it is blank (see [`Checker::not_blank`]).
    pub(crate) fn blank(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.at(key, |c| c.not_blank(value));
        }
    }

    /// Advice on a blank string here (an id, a code): the spec sets no length, but an empty id
    /// identifies nothing.
    pub(crate) fn not_blank(&mut self, value: &str) {
        if value.trim().is_empty() {
            self.advice("is empty");
        }
    }

    /// Advice on a time here before 2010 (Smooch started in 2015: a unit or clock error),
    /// negative, or more than a day after the clock.
    pub(crate) fn time(&mut self, time: &DateTime<Utc>) {
        // 2010-01-01T00:00:00Z.
        const EARLIEST: i64 = 1_262_304_000;
        let shown = || time.format("%Y-%m-%dT%H:%M:%S%.3fZ");
        if time.timestamp() < 0 {
            self.advice(format!("is negative ({})", shown()));
        } else if time.timestamp() < EARLIEST {
            self.advice(format!("is before 2010 ({})", shown()));
        } else if *time > self.now + chrono::Duration::days(1) {
            self.advice(format!("is more than a day in the future ({})", shown()));
        }
    }

    /// Reports every string (and key) that holds U+FFFD, the replacement character: a lone
    /// surrogate escape (half of an emoji cut in two) was replaced, or the text was damaged
    /// before it was sent.
    pub(crate) fn replacement_characters(&mut self, value: &Value) {
        const PROBLEM: &str =
            "holds U+FFFD, the replacement character (a lone surrogate escape, such as half an emoji, was replaced)";
        match value {
            Value::String(text) if text.contains('\u{FFFD}') => self.advice(PROBLEM),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.index(i, |c| c.replacement_characters(item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.at(&cut(key, 64), |c| {
                        if key.contains('\u{FFFD}') {
                            c.advice(format!("the key {PROBLEM}"));
                        }
                        c.replacement_characters(item);
                    });
                }
            }
            _ => {}
        }
    }
}
