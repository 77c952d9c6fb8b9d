//! The walk behind every `validate()`: a [`Checker`] goes through a parsed value keeping the JSON
//! path of where it is, and collects [`ValidationIssue`]s.
//!
//! The generic part (kept values, missing fields the docs say are always sent, empty ids,
//! implausible times) is done by each struct's `walk`, which `object!` writes; each version adds
//! the rules that depend on the event.

use std::borrow::Cow;
use std::fmt::{self, Write};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use crate::de::codec::{Codec, Ctx};
use crate::de::json::cut;

/// One problem found by `validate()`.
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

    /// Reports a problem at the current path.
    pub(crate) fn issue(&mut self, message: impl Into<Cow<'static, str>>) {
        self.issues.push(ValidationIssue {
            path: self.path.clone(),
            message: message.into().into_owned(),
        });
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

    /// Reports `key` as missing.
    pub(crate) fn missing(&mut self, key: &str) {
        self.at(key, |c| c.issue("is missing"));
    }

    /// Reports the string under `key` as empty, if it is blank.
    pub(crate) fn blank(&mut self, key: &str, value: Option<&str>) {
        if value.is_some_and(|value| value.trim().is_empty()) {
            self.at(key, |c| c.issue("is empty"));
        }
    }

    /// Reports an empty string, when the current path names an id (`_id` or `id`).
    pub(crate) fn id(&mut self, value: &str) {
        let key = self.path.rsplit(['.', ']']).next().unwrap_or_default();
        if (key == "_id" || key == "id") && value.trim().is_empty() {
            self.issue("is empty");
        }
    }

    /// Reports a time before 2010 (Smooch started in 2015: a unit or clock error), negative, or
    /// more than a day after `now`.
    pub(crate) fn time(&mut self, time: &DateTime<Utc>) {
        let earliest = Utc.with_ymd_and_hms(2010, 1, 1, 0, 0, 0).unwrap();
        let shown = || crate::de::time::display_rfc3339(time);
        if time.timestamp() < 0 {
            self.issue(format!("is negative ({})", shown()));
        } else if *time < earliest {
            self.issue(format!("is before 2010 ({})", shown()));
        } else if *time > self.now + Duration::days(1) {
            self.issue(format!("is more than a day in the future ({})", shown()));
        }
    }

    /// Reports a value kept under `key` because it did not fit its field's codec `C`.
    pub(crate) fn kept<C: Codec>(&mut self, key: &str, value: &Value) {
        if value.is_null() {
            return;
        }
        let mut slot = None;
        let problem = match C::read(value, &mut slot, Ctx::TOLERANT) {
            Ok(None) => return,
            Ok(Some(misfit)) => {
                let problem = misfit.problem().into_owned();
                (misfit.path, problem)
            }
            Err(error) => (String::new(), error.to_string()),
        };
        self.at(key, |c| {
            let len = c.path.len();
            c.path.push_str(&problem.0);
            c.issue(problem.1);
            c.path.truncate(len);
        });
    }

    /// Reports every string (and key) that holds U+FFFD, the replacement character: a lone
    /// surrogate escape (half of an emoji cut in two) was replaced, or the text was damaged
    /// before it was sent.
    pub(crate) fn replacement_characters(&mut self, value: &Value) {
        const PROBLEM: &str =
            "holds U+FFFD, the replacement character (a lone surrogate escape, such as half an emoji, was replaced)";
        match value {
            Value::String(text) if text.contains('\u{FFFD}') => self.issue(PROBLEM),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.index(i, |c| c.replacement_characters(item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.at(&cut(key, 64), |c| {
                        if key.contains('\u{FFFD}') {
                            c.issue(format!("the key {PROBLEM}"));
                        }
                        c.replacement_characters(item);
                    });
                }
            }
            _ => {}
        }
    }
}
