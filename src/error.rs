//! The error of [`parse_event`](crate::parse_event) and [`parse_webhook`](crate::parse_webhook).

use crate::de::json::cut;

/// The most bytes of a key from the body that an error holds.
const MAX_KEY: usize = 60;
/// The most bytes of a JSON path that an error holds.
const MAX_PATH: usize = 100;
/// The most bytes of a message that an error holds (a message may quote a value).
const MAX_MESSAGE: usize = 120;

/// Why a body could not be parsed.
///
/// Each kind of failure is its own variant. `Display` is one line that names the trigger and the
/// JSON path where there is one. An error never holds the body: keys, paths and messages taken
/// from it are cut short (with `…`), so that `Display` and `Debug` stay under 300 bytes of text
/// from the body whatever it is, and an error can be logged as it is. It has no `source()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not JSON: it is empty, cut short, has a syntax error, trailing data, invalid
    /// UTF-8, a number out of range, or nests deeper than 128 levels.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1 (0 for an empty body).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A key appears twice in one object. Two readers that keep different copies could disagree
    /// on what the body means, so this is refused rather than resolved.
    #[error("duplicate key `{key}` at {}", display_path(path))]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// The JSON path of the object that holds it (empty for the top level).
        path: String,
    },
    /// The body is JSON but not an object.
    #[error("the body is {found}, not a JSON object")]
    NotAnObject {
        /// What it is instead: `null`, `a boolean`, `a number`, `a string` or `an array`.
        found: &'static str,
    },
    /// The body has no `trigger` key (given to [`parse_event`](crate::parse_event)).
    #[error("the body has no `trigger`")]
    MissingTrigger,
    /// The body is a Sunshine Conversations v2 body (it has `events` and no `trigger`), given to
    /// [`parse_event`](crate::parse_event), which reads v1 bodies.
    #[error("the body is a v2 webhook (it has `events`, not `trigger`): read it with `parse_webhook`")]
    V2Body,
    /// The body has neither `trigger` (v1) nor `events` (v2) (given to
    /// [`parse_webhook`](crate::parse_webhook)).
    #[error("the body is not a webhook: it has neither `trigger` (v1) nor `events` (v2)")]
    UnknownVersion,
    /// The body's `trigger` is not a string.
    #[error("`trigger` is {found}, not a string")]
    TriggerNotString {
        /// What it is instead.
        found: &'static str,
    },
    /// What identifies the event is missing or unusable: a required key is missing, or its value
    /// does not fit (for v2, `events` is not a list of objects: the only thing a v2 body is
    /// refused for, besides invalid JSON and duplicate keys).
    #[error("{trigger}: {}{message}", path_prefix(path))]
    Malformed {
        /// The v1 trigger (e.g. `message:appUser`), or `v2` for a v2 body (whose events each
        /// have their own type, so no single one names the body).
        trigger: String,
        /// The JSON path of the bad value from the body, e.g. `messages[0]._id`, or `events` and
        /// `events[2]` for a v2 body (empty when the problem is with the body itself, such as a
        /// missing key).
        path: String,
        /// What is wrong, e.g. `expected a string, found the number 7`.
        message: String,
    },
}

impl ParseError {
    /// The trigger, when the body got far enough to name a modelled one (`v2` for a v2 body).
    pub fn trigger(&self) -> Option<&str> {
        match self {
            ParseError::Malformed { trigger, .. } => Some(trigger),
            _ => None,
        }
    }

    /// The JSON path of the problem, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ParseError::Malformed { path, .. } | ParseError::DuplicateKey { path, .. } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn invalid_json(error: &serde_json::Error, message: Option<&str>) -> Self {
        ParseError::InvalidJson {
            line: error.line(),
            column: error.column(),
            message: cut(message.unwrap_or(&short_message(error)), MAX_MESSAGE).into_owned(),
        }
    }

    pub(crate) fn duplicate_key(key: &str, path: &str) -> Self {
        ParseError::DuplicateKey {
            key: cut(key, MAX_KEY).into_owned(),
            path: cut(path, MAX_PATH).into_owned(),
        }
    }

    pub(crate) fn malformed(trigger: &str, path: &str, error: &serde_json::Error) -> Self {
        ParseError::Malformed {
            trigger: cut(trigger, MAX_KEY).into_owned(),
            path: cut(path, MAX_PATH).into_owned(),
            message: cut(&short_message(error), MAX_MESSAGE).into_owned(),
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// serde_json's message without its " at line L column C" suffix.
fn short_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(short) => short.to_owned(),
        None => text,
    }
}
