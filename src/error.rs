//! The error of [`parse_event`](crate::parse_event).

/// Why a body could not be parsed.
///
/// Each kind of failure is its own variant. `Display` is one line that names the trigger and the
/// JSON path where there is one, and it never holds the body: a long value quoted by a message is
/// cut short. The underlying `serde_json` error is kept as [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
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
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A key appears twice in one object. Two readers that keep different copies could disagree
    /// on what the body means, so this is refused rather than resolved.
    #[error("duplicate key `{key}` at {}", display_path(path))]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// The JSON path of the object that holds it (empty for the top level).
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The body is JSON but not an object.
    #[error("the body is {found}, not a JSON object")]
    NotAnObject {
        /// What it is instead: `null`, `a boolean`, `a number`, `a string` or `an array`.
        found: &'static str,
    },
    /// The body has no `trigger` key.
    #[error("the body has no `trigger`")]
    MissingTrigger,
    /// The body's `trigger` is not a string.
    #[error("`trigger` is {found}, not a string")]
    TriggerNotString {
        /// What it is instead.
        found: &'static str,
    },
    /// The body names a modelled trigger but its payload does not fit the schema: a required key
    /// is missing or a value has the wrong type.
    #[error("{trigger}: {}{message}", path_prefix(path))]
    Malformed {
        /// The trigger, e.g. `message:appUser`.
        trigger: String,
        /// The JSON path of the bad value, e.g. `messages[0].actions[1].amount` (empty when the
        /// problem is with the body itself, such as a missing key).
        path: String,
        /// What is wrong, e.g. `invalid type: string "10", expected u64`.
        message: String,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl ParseError {
    /// The trigger, when the body got far enough to name a modelled one.
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

/// The longest message kept, in characters: a message may quote a value, and a value may be huge.
const MAX_MESSAGE: usize = 200;

/// serde_json's message without its " at line L column C" suffix, cut to [`MAX_MESSAGE`].
pub(crate) fn short_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let text = text.strip_suffix(&suffix).unwrap_or(&text);
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
