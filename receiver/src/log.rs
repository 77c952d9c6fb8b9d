//! Logging: `tracing` to standard error through a non-blocking writer ([`Logging`]), and
//! [`Shown`], the form in which any value that comes from a request enters a log line.

use std::fmt::{self, Write as _};

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};

/// Lines waiting for the writer thread at most; past that, lines are dropped, never waited for.
const BUFFERED_LINES: usize = 65_536;

/// The logging of a process: `tracing` events to standard error, one line each. Keep it until
/// the end of `main`: dropping it writes out the queued lines.
pub struct Logging {
    _guard: WorkerGuard,
    counter: ErrorCounter,
}

impl Logging {
    /// Sends `tracing` events at `level` and above to standard error, one line each.
    ///
    /// A dedicated thread writes the lines. When standard error stalls (a full pipe, a stuck
    /// terminal), lines are dropped after 65,536 waiting instead of blocking the request
    /// handlers; [`dropped`](Self::dropped) says how many were lost.
    pub fn init(level: tracing::Level) -> Logging {
        let (writer, guard) = NonBlockingBuilder::default()
            .lossy(true)
            .buffered_lines_limit(BUFFERED_LINES)
            .thread_name("log-writer")
            .finish(std::io::stderr());
        let counter = writer.error_counter();
        tracing_subscriber::fmt()
            .with_writer(writer)
            .with_max_level(level)
            .with_target(false)
            .init();
        Logging {
            _guard: guard,
            counter,
        }
    }

    /// How many lines were dropped because standard error did not keep up.
    pub fn dropped(&self) -> usize {
        self.counter.dropped_lines()
    }

    /// The counter of dropped lines, for the metrics.
    pub(crate) fn counter(&self) -> ErrorCounter {
        self.counter.clone()
    }
}

/// The most characters of a request's value that a log line shows.
pub(crate) const SHOWN_CHARS: usize = 64;

/// A value from a request (a trigger, an id, a JSON path), as a log line shows it: control and
/// invisible formatting characters escaped as `\u{…}` (so that a value cannot start a forged line,
/// or hide text), `\` doubled, and cut after [`SHOWN_CHARS`] characters with `…`. An empty value
/// shows as `-`.
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl<'a> Shown<'a> {
    /// The same, cut after `max` characters.
    pub(crate) fn up_to(text: &'a str, max: usize) -> ShownUpTo<'a> {
        ShownUpTo(text, max)
    }
}

/// [`Shown`] with its own length.
pub(crate) struct ShownUpTo<'a>(&'a str, usize);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, self.0, SHOWN_CHARS)
    }
}

impl fmt::Display for ShownUpTo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, self.0, self.1)
    }
}

fn show(f: &mut fmt::Formatter<'_>, text: &str, max: usize) -> fmt::Result {
    if text.is_empty() {
        return f.write_char('-');
    }
    for (i, c) in text.chars().enumerate() {
        if i == max {
            return f.write_char('…');
        }
        if c == '\\' {
            f.write_str("\\\\")?;
        } else if c.is_control() || is_invisible(c) || c == ' ' || c == '=' || c == '"' {
            // Space, `=` and `"` too: the line is `key=value` pairs, and a value must stay one.
            write!(f, "\\u{{{:x}}}", u32::from(c))?;
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

/// Characters that change how text displays without showing: bidirectional controls, zero-width
/// characters, line and paragraph separators, the byte-order mark, the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// An optional value as a log line shows it: the value, or `-`.
pub(crate) struct Opt<T>(pub(crate) Option<T>);

impl<T: fmt::Display> fmt::Display for Opt<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(value) => value.fmt(f),
            None => f.write_char('-'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_values_cannot_forge_or_hide_anything() {
        let shown = |s: &str| Shown(s).to_string();
        assert_eq!(shown("message:appUser"), "message:appUser");
        assert_eq!(shown("57ec2881c47d2d24b0c16427"), "57ec2881c47d2d24b0c16427");
        assert_eq!(shown(""), "-");
        assert_eq!(
            shown("x\n2026-01-01T00:00:00Z  INFO forged"),
            "x\\u{a}2026-01-01T00:00:00Z\\u{20}\\u{20}INFO\\u{20}forged"
        );
        assert_eq!(shown("a\rb\u{1b}[31mc\u{7f}"), "a\\u{d}b\\u{1b}[31mc\\u{7f}");
        assert_eq!(shown("status=200"), "status\\u{3d}200");
        assert_eq!(shown("\"q\" \\"), "\\u{22}q\\u{22}\\u{20}\\\\");
        assert_eq!(shown("abc\u{202e}cba\u{200b}"), "abc\\u{202e}cba\\u{200b}");
        assert_eq!(
            shown("naïve ünïcödé"),
            "naïve\\u{20}ünïcödé",
            "printable text stays"
        );
        let long = "é".repeat(100);
        assert_eq!(shown(&long), format!("{}…", "é".repeat(SHOWN_CHARS)));
        assert_eq!(
            shown(&"a".repeat(SHOWN_CHARS)),
            "a".repeat(SHOWN_CHARS),
            "no … at the limit"
        );
        assert_eq!(Shown::up_to("abcdef", 3).to_string(), "abc…");
        for text in [shown("a\nb"), shown(&"\n".repeat(1000))] {
            assert!(!text.chars().any(char::is_control), "{text}");
        }
    }

    #[test]
    fn an_absent_value_is_a_dash() {
        assert_eq!(Opt(Some(3)).to_string(), "3");
        assert_eq!(Opt(None::<i64>).to_string(), "-");
    }
}
