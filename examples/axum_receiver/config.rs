//! The receiver's settings, read from the environment: every limit has a default and a variable.
//!
//! [`VARIABLES`] is the one list of them; `--help` prints it and the README copies it.

use std::path::PathBuf;
use std::time::Duration;

use smooch_events::WebhookSecrets;

/// Every bound the receiver puts on what a client can make it hold, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest body accepted, in bytes; a larger one is answered 413.
    pub(crate) max_body: usize,
    /// From the accept (or the first byte of a later request on a kept-alive connection) to the
    /// end of the request's headers.
    pub(crate) header_timeout: Duration,
    /// From the end of the headers to the end of the body.
    pub(crate) body_timeout: Duration,
    /// How long a kept-alive connection may wait, idle, for its next request.
    pub(crate) idle_timeout: Duration,
    /// How long a write to a client that does not read may stall.
    pub(crate) write_timeout: Duration,
    /// Open connections at most; further ones wait in the listen backlog.
    pub(crate) max_connections: usize,
    /// The listen backlog: connections the kernel holds for the receiver during a burst.
    pub(crate) backlog: u32,
    /// Bytes of bodies held in memory at once, read or being read and waiting for the store.
    pub(crate) max_buffered_bytes: usize,
    /// How long a request waits for room in [`max_buffered_bytes`](Self::max_buffered_bytes)
    /// before it is answered 503.
    pub(crate) memory_wait: Duration,
    /// How long a request waits for the store before it is answered 503.
    pub(crate) store_timeout: Duration,
    /// From SIGTERM or Ctrl-C to the exit: in-flight requests and the application's current row
    /// finish within it, or are dropped (nothing answered 200 is ever dropped: it is stored).
    pub(crate) shutdown_timeout: Duration,
    /// How many times the application may fail on one stored webhook before it is set aside
    /// (state `failed`).
    pub(crate) max_attempts: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: WebhookSecrets::DEFAULT_MAX_BODY,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: 512,
            backlog: 1024,
            max_buffered_bytes: 64 * 1024 * 1024,
            memory_wait: Duration::from_secs(1),
            store_timeout: Duration::from_secs(4),
            shutdown_timeout: Duration::from_secs(10),
            max_attempts: 5,
        }
    }
}

/// The environment variables, each with its default and what it sets.
pub(crate) const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "SMOOCH_WEBHOOK_SECRETS",
        "(required)",
        "valid X-API-Key secrets, comma-separated",
    ),
    ("SMOOCH_LISTEN", "127.0.0.1:3000", "address to listen on"),
    (
        "SMOOCH_STORE",
        "smooch-webhooks.sqlite3",
        "SQLite database file, created on first start",
    ),
    ("SMOOCH_MAX_BODY", "1MiB", "body size limit (413 above it)"),
    ("SMOOCH_HEADER_TIMEOUT", "5s", "header-read timeout"),
    ("SMOOCH_BODY_TIMEOUT", "10s", "body-read timeout (408)"),
    ("SMOOCH_IDLE_TIMEOUT", "30s", "keep-alive idle timeout"),
    (
        "SMOOCH_WRITE_TIMEOUT",
        "10s",
        "how long a response write may stall",
    ),
    ("SMOOCH_MAX_CONNECTIONS", "512", "open connections at most"),
    ("SMOOCH_BACKLOG", "1024", "listen backlog"),
    (
        "SMOOCH_MAX_BUFFERED",
        "64MiB",
        "body bytes in memory at most, in flight and waiting",
    ),
    ("SMOOCH_MEMORY_WAIT", "1s", "wait for room in memory before 503"),
    ("SMOOCH_STORE_TIMEOUT", "4s", "wait for the store before 503"),
    (
        "SMOOCH_SHUTDOWN_TIMEOUT",
        "10s",
        "deadline from SIGTERM/Ctrl-C to exit",
    ),
    (
        "SMOOCH_MAX_ATTEMPTS",
        "5",
        "application failures on one webhook before it is set aside",
    ),
    (
        "SMOOCH_LOG",
        "info",
        "log level: error, warn, info, debug or trace",
    ),
];

/// Everything the receiver is started with.
#[derive(Debug)]
pub(crate) struct Config {
    /// The valid secrets, with [`Limits::max_body`] as their body limit.
    pub(crate) secrets: WebhookSecrets,
    /// The address to listen on.
    pub(crate) listen: String,
    /// The SQLite database file.
    pub(crate) store: PathBuf,
    /// The limits.
    pub(crate) limits: Limits,
    /// The log level.
    pub(crate) log_level: tracing::Level,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub(crate) fn from_env() -> Result<Config, String> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, which gives a variable's value (for tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let defaults = Limits::default();
        let list = get("SMOOCH_WEBHOOK_SECRETS")
            .ok_or("set SMOOCH_WEBHOOK_SECRETS to the webhook secrets, comma-separated")?;
        let limits = Limits {
            max_body: bytes(&get, "SMOOCH_MAX_BODY", defaults.max_body)?,
            header_timeout: duration(&get, "SMOOCH_HEADER_TIMEOUT", defaults.header_timeout)?,
            body_timeout: duration(&get, "SMOOCH_BODY_TIMEOUT", defaults.body_timeout)?,
            idle_timeout: duration(&get, "SMOOCH_IDLE_TIMEOUT", defaults.idle_timeout)?,
            write_timeout: duration(&get, "SMOOCH_WRITE_TIMEOUT", defaults.write_timeout)?,
            max_connections: number(&get, "SMOOCH_MAX_CONNECTIONS", defaults.max_connections)?,
            backlog: number(&get, "SMOOCH_BACKLOG", defaults.backlog)?,
            max_buffered_bytes: bytes(&get, "SMOOCH_MAX_BUFFERED", defaults.max_buffered_bytes)?,
            memory_wait: duration(&get, "SMOOCH_MEMORY_WAIT", defaults.memory_wait)?,
            store_timeout: duration(&get, "SMOOCH_STORE_TIMEOUT", defaults.store_timeout)?,
            shutdown_timeout: duration(&get, "SMOOCH_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout)?,
            max_attempts: number(&get, "SMOOCH_MAX_ATTEMPTS", defaults.max_attempts)?,
        };
        limits.check()?;
        let secrets = WebhookSecrets::new(list.split(',').map(str::trim)).with_max_body(limits.max_body);
        if secrets.is_empty() {
            return Err("SMOOCH_WEBHOOK_SECRETS holds no secret".to_owned());
        }
        let log_level = match get("SMOOCH_LOG") {
            None => tracing::Level::INFO,
            Some(level) => level
                .trim()
                .parse()
                .map_err(|_| format!("SMOOCH_LOG: {level:?} is not error, warn, info, debug or trace"))?,
        };
        Ok(Config {
            secrets,
            listen: get("SMOOCH_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".to_owned()),
            store: get("SMOOCH_STORE")
                .unwrap_or_else(|| "smooch-webhooks.sqlite3".to_owned())
                .into(),
            limits,
            log_level,
        })
    }
}

impl Limits {
    /// Refuses limits that cannot work together.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_body > self.max_buffered_bytes {
            return Err(format!(
                "SMOOCH_MAX_BODY ({}) is over SMOOCH_MAX_BUFFERED ({}): such a body could never be read",
                self.max_body, self.max_buffered_bytes
            ));
        }
        if u32::try_from(self.max_body).is_err() {
            return Err("SMOOCH_MAX_BODY is over 4 GiB".to_owned());
        }
        if self.max_connections == 0 || self.backlog == 0 || self.max_attempts == 0 {
            return Err(
                "SMOOCH_MAX_CONNECTIONS, SMOOCH_BACKLOG and SMOOCH_MAX_ATTEMPTS must be at least 1"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, String> {
    match get(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name}: {value:?} is not a whole number")),
    }
}

/// A size: a whole number of bytes, or one followed by `KiB`, `MiB` or `GiB`.
fn bytes(get: &impl Fn(&str) -> Option<String>, name: &str, default: usize) -> Result<usize, String> {
    let Some(value) = get(name) else {
        return Ok(default);
    };
    parse_bytes(&value)
        .ok_or_else(|| format!("{name}: {value:?} is not a size such as 1048576, 64KiB or 1MiB"))
}

/// `1048576`, `64KiB`, `1MiB`, `1GiB`.
pub(crate) fn parse_bytes(value: &str) -> Option<usize> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    digits.parse::<usize>().ok()?.checked_mul(scale)
}

/// A duration: a whole number followed by `ms`, `s` or `m`.
fn duration(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: Duration,
) -> Result<Duration, String> {
    let Some(value) = get(name) else {
        return Ok(default);
    };
    parse_duration(&value)
        .ok_or_else(|| format!("{name}: {value:?} is not a duration such as 500ms, 10s or 2m"))
}

/// `500ms`, `10s`, `2m`.
pub(crate) fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse_with_their_units() {
        assert_eq!(parse_bytes("1048576"), Some(1 << 20));
        assert_eq!(parse_bytes("64KiB"), Some(64 << 10));
        assert_eq!(parse_bytes(" 1MiB "), Some(1 << 20));
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        for bad in ["", "MiB", "1 MB", "-1", "1.5MiB", "1kib"] {
            assert_eq!(parse_bytes(bad), None, "{bad:?}");
        }
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        for bad in ["", "10", "s", "1.5s", "10 s", "1h"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn defaults_apply_and_every_variable_is_read() {
        let config =
            Config::from_lookup(|name| (name == "SMOOCH_WEBHOOK_SECRETS").then(|| " a , b ".to_owned()))
                .unwrap();
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.secrets.len(), 2);
        assert_eq!(config.listen, "127.0.0.1:3000");
        assert_eq!(config.store, PathBuf::from("smooch-webhooks.sqlite3"));

        let set = |name: &str| -> Option<String> {
            Some(
                match name {
                    "SMOOCH_WEBHOOK_SECRETS" => "s",
                    "SMOOCH_LISTEN" => "127.0.0.1:0",
                    "SMOOCH_STORE" => "/tmp/x.sqlite3",
                    "SMOOCH_MAX_BODY" => "64KiB",
                    "SMOOCH_MAX_CONNECTIONS" => "7",
                    "SMOOCH_BACKLOG" => "8",
                    "SMOOCH_MAX_BUFFERED" => "1MiB",
                    "SMOOCH_MAX_ATTEMPTS" => "2",
                    "SMOOCH_LOG" => "debug",
                    other if other.ends_with("_TIMEOUT") || other.ends_with("_WAIT") => "3s",
                    _ => return None,
                }
                .to_owned(),
            )
        };
        let config = Config::from_lookup(set).unwrap();
        let three = Duration::from_secs(3);
        assert_eq!(
            config.limits,
            Limits {
                max_body: 64 << 10,
                header_timeout: three,
                body_timeout: three,
                idle_timeout: three,
                write_timeout: three,
                max_connections: 7,
                backlog: 8,
                max_buffered_bytes: 1 << 20,
                memory_wait: three,
                store_timeout: three,
                shutdown_timeout: three,
                max_attempts: 2,
            }
        );
        assert_eq!(config.secrets.max_body(), 64 << 10);
        assert_eq!(config.log_level, tracing::Level::DEBUG);
        assert_eq!(config.store, PathBuf::from("/tmp/x.sqlite3"));
        // Every variable of the list is one that `from_lookup` asks for.
        for (name, _, _) in VARIABLES {
            assert!(set(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_listed_defaults_are_the_defaults() {
        let listed = |name: &str| VARIABLES.iter().find(|(n, _, _)| *n == name).unwrap().1;
        let limits = Limits::default();
        let size = |name| parse_bytes(listed(name)).unwrap();
        let time = |name| parse_duration(listed(name)).unwrap();
        let count = |name| listed(name).parse::<usize>().unwrap();
        assert_eq!(size("SMOOCH_MAX_BODY"), limits.max_body);
        assert_eq!(size("SMOOCH_MAX_BUFFERED"), limits.max_buffered_bytes);
        assert_eq!(time("SMOOCH_HEADER_TIMEOUT"), limits.header_timeout);
        assert_eq!(time("SMOOCH_BODY_TIMEOUT"), limits.body_timeout);
        assert_eq!(time("SMOOCH_IDLE_TIMEOUT"), limits.idle_timeout);
        assert_eq!(time("SMOOCH_WRITE_TIMEOUT"), limits.write_timeout);
        assert_eq!(time("SMOOCH_MEMORY_WAIT"), limits.memory_wait);
        assert_eq!(time("SMOOCH_STORE_TIMEOUT"), limits.store_timeout);
        assert_eq!(time("SMOOCH_SHUTDOWN_TIMEOUT"), limits.shutdown_timeout);
        assert_eq!(count("SMOOCH_MAX_CONNECTIONS"), limits.max_connections);
        assert_eq!(count("SMOOCH_BACKLOG"), limits.backlog as usize);
        assert_eq!(count("SMOOCH_MAX_ATTEMPTS"), limits.max_attempts as usize);
        let config =
            Config::from_lookup(|name| (name == "SMOOCH_WEBHOOK_SECRETS").then(|| "s".to_owned())).unwrap();
        assert_eq!(listed("SMOOCH_LISTEN"), config.listen);
        assert_eq!(PathBuf::from(listed("SMOOCH_STORE")), config.store);
        assert_eq!(listed("SMOOCH_LOG"), config.log_level.as_str().to_lowercase());
    }

    #[test]
    fn bad_settings_are_refused_with_the_variable_named() {
        let with = |name: &'static str, value: &'static str| {
            Config::from_lookup(move |n| match n {
                n if n == name => Some(value.to_owned()),
                "SMOOCH_WEBHOOK_SECRETS" => Some("s".to_owned()),
                _ => None,
            })
            .unwrap_err()
        };
        assert!(with("SMOOCH_BODY_TIMEOUT", "10").contains("SMOOCH_BODY_TIMEOUT"));
        assert!(with("SMOOCH_MAX_CONNECTIONS", "0").contains("at least 1"));
        assert!(with("SMOOCH_MAX_BODY", "2GiB").contains("SMOOCH_MAX_BUFFERED"));
        assert!(with("SMOOCH_LOG", "loud").contains("SMOOCH_LOG"));
        assert!(with("SMOOCH_WEBHOOK_SECRETS", " , ").contains("no secret"));
        assert!(Config::from_lookup(|_| None)
            .unwrap_err()
            .contains("SMOOCH_WEBHOOK_SECRETS"));
    }
}
