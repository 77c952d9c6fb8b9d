//! The walk behind every `validate()`: a [`Checker`] goes through a parsed value keeping the JSON
//! path of where it is, and collects [`ValidationIssue`]s.
//!
//! The generic part (kept values, missing fields, empty ids, implausible times) is done by each
//! struct's `walk`, which `object!` writes; each version adds the rules that depend on the event.
//! Every problem carries its [`IssueKind`]: a value kept, a requirement of the spec, or advice.
//!
//! # The order of the problems
//!
//! Problems come in the order of the body as the crate writes it back (see the crate docs, *Key
//! order of what is written back*): a v2 body's `app` and `webhook` before `events[0]`, each
//! object's fields in their order, its kept values after them. The generic walk goes in that
//! order and numbers every path it enters ([`Checker::stop_numbering`] ends that); the rules and
//! the U+FFFD pass run after it, and [`Checker::finish`] puts each problem where its path was
//! entered, or, for a path the walk did not enter (a field reported missing by a rule, a key
//! inside a free-form map), right after the nearest object around it that the walk entered. A v1
//! body's `app`, written back after the trigger's own keys but sent first, leads
//! ([`Checker::lead`]).

use std::borrow::Cow;
use std::collections::HashMap;
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
    /// `KIND: PATH: PROBLEM` (`spec: events[0].payload.message.content.mediaUrl: is missing`), or
    /// `KIND: PROBLEM` for a problem of the whole body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.kind, self.message)
        } else {
            write!(f, "{}: {}: {}", self.kind, self.path, self.message)
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
    /// The problems, in the order of the body: the order the crate writes a body back in (the
    /// crate docs, *Key order of what is written back*), so a v2 body's `app` and `webhook` come
    /// before `events[0]`, and `events[0]` before `events[1]`; each object's fields in that
    /// order, the values it kept after them. A v1 body's `app`, which Smooch sends right after
    /// `trigger`, comes first.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    ///
    /// let body = br#"{"app": {"id": ""}, "events": [{"id": "", "type": "user:remove",
    ///     "createdAt": "2024-06-01T12:00:00.000Z"}]}"#;
    /// let problems = smooch_events::parse_webhook(body)?
    ///     .validate_at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap())
    ///     .unwrap_err();
    /// let paths: Vec<&str> = problems.issues().iter().map(|issue| issue.path.as_str()).collect();
    /// assert_eq!(paths, ["app.id", "events[0].id", "events[0].payload"]);
    /// # Ok::<(), smooch_events::ParseError>(())
    /// ```
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
    /// One line: `<subject>: <n> problem(s): <kind>: <path>: <reason>; …`, each problem as its
    /// [`ValidationIssue`] shows it, in the order of the body.
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
    /// Where each path entered while numbering stands in the order of the body.
    places: HashMap<String, Place>,
    /// How many paths were entered while numbering.
    entered: usize,
    /// Whether entering a path numbers it (during the generic walk, which goes in body order).
    numbering: bool,
    /// A top-level key whose problems come before all others (see [`Checker::lead`]).
    lead: Option<&'static str>,
}

/// Where a path stands in the order of the body: the number it was entered with, and the last
/// number entered inside it.
#[derive(Clone, Copy)]
struct Place {
    first: usize,
    last: usize,
}

impl Checker {
    /// A checker whose clock says `now`, numbering the paths it enters.
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Checker {
            now,
            path: String::new(),
            issues: Vec::new(),
            places: HashMap::new(),
            entered: 0,
            numbering: true,
            lead: None,
        }
    }

    /// Puts the problems at the top-level `key` and inside it before all others: for a key the
    /// walk reaches late but bodies send first (a v1 body's `app`, in the envelope that is written
    /// after the trigger's own keys, is sent right after `trigger`).
    pub(crate) fn lead(&mut self, key: &'static str) {
        self.lead = Some(key);
    }

    /// Ends the numbering of paths: call it after the generic walk, before the rules that look
    /// at the body again, so that their problems are placed among the walk's.
    pub(crate) fn stop_numbering(&mut self) {
        self.numbering = false;
    }

    /// The problems found, in the order of the body, as the result of `validate()`.
    pub(crate) fn finish(mut self, subject: &str) -> Result<(), ValidationErrors> {
        if self.issues.is_empty() {
            return Ok(());
        }
        let (places, lead) = (&self.places, self.lead);
        let leads = |path: &str| {
            lead.is_some_and(|key| {
                path.strip_prefix(key)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
        };
        // A stable sort: problems at one place keep the order they were found in.
        self.issues
            .sort_by_cached_key(|issue| (!leads(&issue.path), rank(places, &issue.path)));
        Err(ValidationErrors {
            subject: subject.to_owned(),
            issues: self.issues,
        })
    }

    /// Marks the current path as entered (while numbering); returns whether this numbered it.
    fn enter(&mut self) -> bool {
        if !self.numbering || self.places.contains_key(&self.path) {
            return false;
        }
        let first = self.entered;
        self.entered += 1;
        self.places
            .insert(self.path.clone(), Place { first, last: first });
        true
    }

    /// Marks the current path, numbered by [`Checker::enter`], as left: what was entered inside it
    /// is within it.
    fn leave(&mut self, numbered: bool) {
        if numbered {
            let last = self.entered - 1;
            if let Some(place) = self.places.get_mut(&self.path) {
                place.last = last;
            }
        }
    }

    /// Runs `check` with the path extended by `extend`, numbering that path while numbering.
    fn inside(&mut self, extend: impl FnOnce(&mut String), check: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        extend(&mut self.path);
        let numbered = self.enter();
        check(self);
        self.leave(numbered);
        self.path.truncate(len);
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
        self.inside(
            |path| {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            },
            check,
        );
    }

    /// Runs `check` with `[i]` appended to the path.
    pub(crate) fn index(&mut self, i: usize, check: impl FnOnce(&mut Self)) {
        self.inside(
            |path| {
                let _ = write!(path, "[{i}]");
            },
            check,
        );
    }

    /// Runs `check` with `suffix` (a path already written: `._id`, `[2].type`) appended.
    pub(crate) fn within(&mut self, suffix: &str, check: impl FnOnce(&mut Self)) {
        self.inside(|path| path.push_str(suffix), check);
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

/// Where a problem at `path` goes in the order of the body: where the path was entered, or, for a
/// path the numbered walk did not enter, right after everything inside the nearest enclosing path
/// it did (the body itself when none).
fn rank(places: &HashMap<String, Place>, path: &str) -> usize {
    if path.is_empty() {
        return 0;
    }
    if let Some(place) = places.get(path) {
        return 2 * place.first;
    }
    let mut prefix = path;
    while let Some(end) = prefix.rfind(['.', '[']) {
        prefix = &prefix[..end];
        if let Some(place) = places.get(prefix) {
            return 2 * place.last + 1;
        }
    }
    // Inside no path the walk entered: after everything.
    usize::MAX
}
