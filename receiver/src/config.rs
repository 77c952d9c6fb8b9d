//! Every option of the receiver: a flag, the same as an `SMOOCH_*` variable, and a default.
//!
//! [`Options`] is the whole of them (clap reads it from the command line and the environment);
//! [`Limits`] the bounds among them. A variable that starts with `SMOOCH_` and is not one of
//! [`Options`]'s is refused at start, naming the nearest known one ([`check_variables`]).
//!
//! The values of the options listed in [`SECRET_VARIABLES`] are never shown: `--help` hides them,
//! `Debug` hides them, and a URL among them is shown through [`redact_url`] wherever it appears
//! (the start log line, an error).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::Uri;
use clap::Args;

/// The default body limit: 1 MiB, as `smooch_events::WebhookSecrets`.
const DEFAULT_MAX_BODY: usize = 1 << 20;

/// The variables (and their flags) whose value is a secret or may hold one: the webhook secrets;
/// the store, whose PostgreSQL URL may hold the database's password; the forward URL, which may
/// hold credentials in its user info or its query. Each has `hide_env_values` (`--help` shows the
/// variable, never its value), and its value is shown nowhere else but through [`redact_url`]
/// (or as `***`). A new secret-bearing option goes here too: the tests go through this list.
pub const SECRET_VARIABLES: &[&str] = &["SMOOCH_WEBHOOK_SECRETS", "SMOOCH_STORE", "SMOOCH_FORWARD_URL"];

/// The fewest characters a webhook secret may have: a shorter one can be found by trying keys
/// (a secret of one character was found in 66 requests).
pub const MIN_SECRET_CHARS: usize = 16;

/// Everything a receiver is started with. Its `Debug` hides the values of the
/// [`SECRET_VARIABLES`].
#[derive(Args, Clone, PartialEq, Eq)]
pub struct Options {
    /// Valid X-API-Key secrets, comma-separated (two during a rotation), each of 16 characters at
    /// least. Prefer the file or the variable to the flag: a flag shows in `ps`.
    #[arg(
        long,
        env = "SMOOCH_WEBHOOK_SECRETS",
        hide_env_values = true,
        value_name = "LIST",
        global = true
    )]
    pub webhook_secrets: Option<String>,

    /// A file holding the secrets, one a line (or comma-separated); instead of SMOOCH_WEBHOOK_SECRETS.
    #[arg(long, env = "SMOOCH_WEBHOOK_SECRETS_FILE", value_name = "PATH", global = true)]
    pub webhook_secrets_file: Option<PathBuf>,

    /// Address the webhook listener listens on (POST /webhook).
    #[arg(
        long,
        env = "SMOOCH_LISTEN",
        default_value = "127.0.0.1:3000",
        value_name = "HOST:PORT",
        global = true
    )]
    pub listen: String,

    /// Address of the admin listener (GET /livez, /readyz, /metrics); off unless set.
    #[arg(long, env = "SMOOCH_ADMIN_LISTEN", value_name = "HOST:PORT", global = true)]
    pub admin_listen: Option<String>,

    /// Where webhooks are stored: a SQLite file (created on first start), or postgres://… for a
    /// PostgreSQL database shared by several receivers (TLS as libpq reads the URL:
    /// ?sslmode=verify-full&sslrootcert=/path/ca.pem).
    #[arg(
        long,
        env = "SMOOCH_STORE",
        hide_env_values = true,
        default_value = "smooch-webhooks.sqlite3",
        value_name = "PATH|URL",
        global = true
    )]
    pub store: String,

    /// POST each stored webhook, byte for byte, to this http:// URL (done on a 2xx); without it,
    /// the application logs them.
    #[arg(
        long,
        env = "SMOOCH_FORWARD_URL",
        hide_env_values = true,
        value_name = "URL",
        global = true
    )]
    pub forward_url: Option<String>,

    /// How long one forwarding POST may take before it counts as failed.
    #[arg(long, env = "SMOOCH_FORWARD_TIMEOUT", default_value = "10s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub forward_timeout: Duration,

    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "SMOOCH_LOG", default_value = "info", value_parser = parse_level, value_name = "LEVEL", global = true)]
    pub log: tracing::Level,

    /// The limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// Every bound the receiver puts on what a client can make it hold, and for how long, and on what
/// it keeps.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest body accepted (413 above it).
    #[arg(long, env = "SMOOCH_MAX_BODY", default_value = "1MiB", value_parser = parse_bytes_arg, value_name = "SIZE", global = true)]
    pub max_body: usize,

    /// A body over the limit is kept whole as a dead letter up to this size; a larger one, its
    /// first 64 KiB.
    #[arg(long, env = "SMOOCH_MAX_DEAD_LETTER", default_value = "4MiB", value_parser = parse_bytes_arg, value_name = "SIZE", global = true)]
    pub max_dead_letter: usize,

    /// From the accept (or the first byte of a later request on a kept-alive connection) to the
    /// end of the request's headers.
    #[arg(long, env = "SMOOCH_HEADER_TIMEOUT", default_value = "5s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub header_timeout: Duration,

    /// From the end of the headers to the end of the body (408).
    #[arg(long, env = "SMOOCH_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub body_timeout: Duration,

    /// How long a kept-alive connection may wait, idle, for its next request.
    #[arg(long, env = "SMOOCH_IDLE_TIMEOUT", default_value = "30s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub idle_timeout: Duration,

    /// How long writing a response to a client that does not read may stall.
    #[arg(long, env = "SMOOCH_WRITE_TIMEOUT", default_value = "10s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub write_timeout: Duration,

    /// Open connections at most; more wait in the listen backlog (keep it under `ulimit -n`).
    #[arg(
        long,
        env = "SMOOCH_MAX_CONNECTIONS",
        default_value = "4096",
        value_name = "COUNT",
        global = true
    )]
    pub max_connections: usize,

    /// Open connections from one address at most; more are closed at once (0: no cap; raise it
    /// behind a proxy, whose connections all come from its address).
    #[arg(
        long,
        env = "SMOOCH_MAX_CONNECTIONS_PER_ADDRESS",
        default_value = "256",
        value_name = "COUNT",
        global = true
    )]
    pub max_connections_per_address: usize,

    /// The listen backlog: connections the kernel holds during a burst.
    #[arg(
        long,
        env = "SMOOCH_BACKLOG",
        default_value = "1024",
        value_name = "COUNT",
        global = true
    )]
    pub backlog: u32,

    /// Bytes of bodies held in memory at once, being read or waiting for the store.
    #[arg(long = "max-buffered", env = "SMOOCH_MAX_BUFFERED", default_value = "64MiB", value_parser = parse_bytes_arg, value_name = "SIZE", global = true)]
    pub max_buffered_bytes: usize,

    /// How long a request waits for room in that budget before 503.
    #[arg(long, env = "SMOOCH_MEMORY_WAIT", default_value = "1s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub memory_wait: Duration,

    /// How long a request waits for the store before 503 (under Smooch's 5 s).
    #[arg(long, env = "SMOOCH_STORE_TIMEOUT", default_value = "4s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub store_timeout: Duration,

    /// From SIGTERM or Ctrl-C to the exit: in-flight requests and the application's current
    /// webhook finish within it, or are dropped (nothing answered 200 is: it is stored).
    #[arg(long, env = "SMOOCH_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub shutdown_timeout: Duration,

    /// Application failures on one webhook before it is set aside (state `failed`).
    #[arg(
        long,
        env = "SMOOCH_MAX_ATTEMPTS",
        default_value = "5",
        value_name = "COUNT",
        global = true
    )]
    pub max_attempts: u32,

    /// Deliveries at once (1 to 1024), across conversations: within one conversation (a lane),
    /// one at a time, in order.
    #[arg(long, env = "SMOOCH_CONCURRENCY", default_value = "16", value_parser = parse_concurrency, value_name = "COUNT", global = true)]
    pub concurrency: usize,

    /// PostgreSQL: how long a receiver holds the webhooks it claimed; those of a receiver that
    /// died come back after it.
    #[arg(long, env = "SMOOCH_LEASE", default_value = "60s", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub lease: Duration,

    /// How long done webhooks are kept before they are deleted (in small batches).
    #[arg(long, env = "SMOOCH_RETENTION", default_value = "7d", value_parser = parse_duration_arg, value_name = "DURATION", global = true)]
    pub retention: Duration,

    /// SQLite: the size the write-ahead log is brought back to once it is copied into the
    /// database (it grows past it only while a long read holds it).
    #[arg(long, env = "SMOOCH_WAL_LIMIT", default_value = "64MiB", value_parser = parse_bytes_arg, value_name = "SIZE", global = true)]
    pub wal_limit: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: DEFAULT_MAX_BODY,
            max_dead_letter: 4 << 20,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_address: 256,
            backlog: 1024,
            max_buffered_bytes: 64 << 20,
            memory_wait: Duration::from_secs(1),
            store_timeout: Duration::from_secs(4),
            shutdown_timeout: Duration::from_secs(10),
            max_attempts: 5,
            concurrency: 16,
            lease: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 24 * 3600),
            wal_limit: 64 << 20,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            webhook_secrets: None,
            webhook_secrets_file: None,
            listen: "127.0.0.1:3000".to_owned(),
            admin_listen: None,
            store: "smooch-webhooks.sqlite3".to_owned(),
            forward_url: None,
            forward_timeout: Duration::from_secs(10),
            log: tracing::Level::INFO,
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |value: &Option<String>| value.as_ref().map(|_| "***");
        f.debug_struct("Options")
            .field("webhook_secrets", &hidden(&self.webhook_secrets))
            .field("webhook_secrets_file", &self.webhook_secrets_file)
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("store", &redact_url(&self.store))
            .field("forward_url", &self.forward_url.as_deref().map(redact_url))
            .field("forward_timeout", &self.forward_timeout)
            .field("log", &self.log)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Options {
    /// The secrets, from SMOOCH_WEBHOOK_SECRETS or the file SMOOCH_WEBHOOK_SECRETS_FILE (one of
    /// them, not both), without blanks; each of [`MIN_SECRET_CHARS`] characters at least.
    pub fn secrets(&self) -> Result<Vec<String>, String> {
        let (text, source) = match (&self.webhook_secrets, &self.webhook_secrets_file) {
            (Some(_), Some(_)) => {
                return Err("set SMOOCH_WEBHOOK_SECRETS or SMOOCH_WEBHOOK_SECRETS_FILE, not both".to_owned())
            }
            (Some(list), None) => (list.clone(), "SMOOCH_WEBHOOK_SECRETS".to_owned()),
            (None, Some(path)) => (
                std::fs::read_to_string(path).map_err(|error| {
                    format!(
                        "SMOOCH_WEBHOOK_SECRETS_FILE: cannot read {}: {error}",
                        path.display()
                    )
                })?,
                format!("SMOOCH_WEBHOOK_SECRETS_FILE ({})", path.display()),
            ),
            (None, None) => {
                return Err(
                    "set SMOOCH_WEBHOOK_SECRETS (comma-separated) or SMOOCH_WEBHOOK_SECRETS_FILE \
                            (one a line) to the webhook secrets"
                        .to_owned(),
                )
            }
        };
        let secrets: Vec<String> = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .map(str::to_owned)
            .collect();
        if secrets.is_empty() {
            return Err("the webhook secrets hold no secret".to_owned());
        }
        let short = secrets
            .iter()
            .enumerate()
            .find(|(_, secret)| secret.chars().count() < MIN_SECRET_CHARS);
        if let Some((index, secret)) = short {
            return Err(format!(
                "{source}: secret {} of {} has {} characters: each needs at least {MIN_SECRET_CHARS} \
                 characters, or it can be found by trying keys (make one with `openssl rand -hex 32`)",
                index + 1,
                secrets.len(),
                secret.chars().count(),
            ));
        }
        Ok(secrets)
    }

    /// Refuses options that cannot work together.
    pub fn check(&self) -> Result<(), String> {
        self.limits.check()?;
        if let Some(url) = &self.forward_url {
            check_url(url)?;
        }
        // (Port 0 is a port chosen at bind: two of them never clash.)
        if self.admin_listen.as_deref() == Some(self.listen.as_str()) && !self.listen.ends_with(":0") {
            return Err("SMOOCH_ADMIN_LISTEN must not be the webhook address SMOOCH_LISTEN".to_owned());
        }
        Ok(())
    }
}

impl Limits {
    /// Refuses limits that cannot work together.
    pub fn check(&self) -> Result<(), String> {
        if self.max_body > self.max_buffered_bytes {
            return Err(format!(
                "SMOOCH_MAX_BODY ({}) is over SMOOCH_MAX_BUFFERED ({}): such a body could never be read",
                self.max_body, self.max_buffered_bytes
            ));
        }
        if self.max_dead_letter > self.max_buffered_bytes {
            return Err(format!(
                "SMOOCH_MAX_DEAD_LETTER ({}) is over SMOOCH_MAX_BUFFERED ({})",
                self.max_dead_letter, self.max_buffered_bytes
            ));
        }
        if u32::try_from(self.max_body.max(self.max_dead_letter)).is_err() {
            return Err("SMOOCH_MAX_BODY and SMOOCH_MAX_DEAD_LETTER must be under 4 GiB".to_owned());
        }
        if self.max_connections == 0 || self.backlog == 0 || self.max_attempts == 0 {
            return Err(
                "SMOOCH_MAX_CONNECTIONS, SMOOCH_BACKLOG and SMOOCH_MAX_ATTEMPTS must be at least 1"
                    .to_owned(),
            );
        }
        if self.lease < Duration::from_secs(1) {
            return Err("SMOOCH_LEASE must be at least 1s".to_owned());
        }
        Ok(())
    }
}

/// Refuses a forward URL (`SMOOCH_FORWARD_URL`) the forwarder cannot POST to; the error shows it
/// redacted.
pub(crate) fn check_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("SMOOCH_FORWARD_URL: {} is not a URL: {error}", redact_url(url)))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(format!(
            "SMOOCH_FORWARD_URL: {}: only http:// URLs with a host (put a TLS proxy in front of an https one)",
            redact_url(url)
        ));
    }
    Ok(uri)
}

/// `url` as it may be shown, in a log line or an error: the password of its user info, every
/// value of its query and its fragment replaced by `***`
/// (`postgres://smooch:***@db:5432/smooch?sslmode=***`). When the user info cannot be told from
/// the rest (an `@` after a `/`, `?` or `#`: a password not percent-encoded, or an `@` in the path)
/// all before the last `@` is hidden. What is not a URL (a file path) is shown as it is.
///
/// The one redaction of URLs: every URL the receiver shows goes through it.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://").filter(|(scheme, _)| is_scheme(scheme)) else {
        return url.to_owned();
    };
    let mut shown = format!("{scheme}://");
    let rest = match rest.rfind('@') {
        Some(at) => {
            let user_info = &rest[..at];
            if user_info.contains(['/', '?', '#']) {
                shown.push_str("***");
            } else if let Some((user, _password)) = user_info.split_once(':') {
                shown.push_str(user);
                shown.push_str(":***");
            } else {
                shown.push_str(user_info);
            }
            shown.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, _)) => (rest, true),
        None => (rest, false),
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            shown.push_str(path);
            shown.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) => format!("{name}=***"),
                    None => "***".to_owned(),
                })
                .collect();
            shown.push_str(&pairs.join("&"));
        }
        None => shown.push_str(rest),
    }
    if fragment {
        shown.push_str("#***");
    }
    shown
}

/// Whether `text` is a URL scheme: a letter, then letters, digits, `+`, `-` or `.`.
pub(crate) fn is_scheme(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Refuses any variable of `variables` that starts with `SMOOCH_` and is not one of `known`,
/// naming the nearest known one.
pub fn check_variables(variables: impl IntoIterator<Item = String>, known: &[&str]) -> Result<(), String> {
    for name in variables {
        if !name.starts_with("SMOOCH_") || known.contains(&name.as_str()) {
            continue;
        }
        let nearest = known
            .iter()
            .min_by_key(|candidate| edit_distance(&name, candidate))
            .copied()
            .unwrap_or("");
        return Err(format!(
            "unknown variable {name}: did you mean {nearest}? (`--help` lists every variable)"
        ));
    }
    Ok(())
}

/// The Levenshtein distance between two names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn parse_bytes_arg(value: &str) -> Result<usize, String> {
    parse_bytes(value).ok_or_else(|| format!("{value:?} is not a size such as 1048576, 64KiB or 1MiB"))
}

fn parse_duration_arg(value: &str) -> Result<Duration, String> {
    parse_duration(value)
        .ok_or_else(|| format!("{value:?} is not a duration such as 500ms, 10s, 2m, 1h or 7d"))
}

fn parse_concurrency(value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|count| (1..=1024).contains(count))
        .ok_or_else(|| format!("{value:?} is not a count from 1 to 1024"))
}

fn parse_level(value: &str) -> Result<tracing::Level, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not error, warn, info, debug or trace"))
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

/// `500ms`, `10s`, `2m`, `1h`, `7d`.
pub(crate) fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let seconds = |scale: u64| Some(Duration::from_secs(n.checked_mul(scale)?));
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        options: Options,
    }

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
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        for bad in ["", "10", "s", "1.5s", "10 s", "1w"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    /// The options clap reads from `args` alone (no variable).
    fn parse(args: &[&str]) -> Result<Options, String> {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("smooch-receiver").chain(args.iter().copied()))
            .map_err(|error| error.to_string())?;
        Cli::from_arg_matches(&matches)
            .map(|cli| cli.options)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_defaults_are_the_listed_ones_and_every_flag_is_read() {
        // (No SMOOCH_ variable is set while the unit tests run.)
        assert_eq!(parse(&[]).unwrap(), Options::default());
        let options = parse(&[
            "--webhook-secrets=first-secret-0123,second-secret-456",
            "--listen=127.0.0.1:0",
            "--admin-listen=127.0.0.1:9",
            "--store=/tmp/x.sqlite3",
            "--forward-url=http://127.0.0.1:8080/in",
            "--forward-timeout=3s",
            "--log=debug",
            "--max-body=64KiB",
            "--max-dead-letter=128KiB",
            "--header-timeout=3s",
            "--body-timeout=3s",
            "--idle-timeout=3s",
            "--write-timeout=3s",
            "--max-connections=7",
            "--max-connections-per-address=2",
            "--backlog=8",
            "--max-buffered=1MiB",
            "--memory-wait=3s",
            "--store-timeout=3s",
            "--shutdown-timeout=3s",
            "--max-attempts=2",
            "--concurrency=32",
            "--lease=3s",
            "--retention=1h",
            "--wal-limit=1MiB",
        ])
        .unwrap();
        let three = Duration::from_secs(3);
        assert_eq!(
            options,
            Options {
                webhook_secrets: Some("first-secret-0123,second-secret-456".to_owned()),
                webhook_secrets_file: None,
                listen: "127.0.0.1:0".to_owned(),
                admin_listen: Some("127.0.0.1:9".to_owned()),
                store: "/tmp/x.sqlite3".to_owned(),
                forward_url: Some("http://127.0.0.1:8080/in".to_owned()),
                forward_timeout: three,
                log: tracing::Level::DEBUG,
                limits: Limits {
                    max_body: 64 << 10,
                    max_dead_letter: 128 << 10,
                    header_timeout: three,
                    body_timeout: three,
                    idle_timeout: three,
                    write_timeout: three,
                    max_connections: 7,
                    max_connections_per_address: 2,
                    backlog: 8,
                    max_buffered_bytes: 1 << 20,
                    memory_wait: three,
                    store_timeout: three,
                    shutdown_timeout: three,
                    max_attempts: 2,
                    concurrency: 32,
                    lease: three,
                    retention: Duration::from_secs(3600),
                    wal_limit: 1 << 20,
                },
            }
        );
        options.check().unwrap();
        assert_eq!(
            options.secrets().unwrap(),
            ["first-secret-0123", "second-secret-456"]
        );
        // Every option has a variable.
        for arg in Cli::command().get_arguments() {
            let env = arg.get_env().map(|env| env.to_string_lossy().into_owned());
            assert!(
                env.is_some_and(|env| env.starts_with("SMOOCH_")),
                "{}",
                arg.get_id()
            );
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_option_named() {
        assert!(parse(&["--body-timeout=10"])
            .unwrap_err()
            .contains("--body-timeout"));
        assert!(parse(&["--log=loud"]).unwrap_err().contains("--log"));
        for count in ["0", "1025", "many"] {
            let error = parse(&[&format!("--concurrency={count}")]).unwrap_err();
            assert!(
                error.contains("--concurrency") && error.contains("from 1 to 1024"),
                "{error}"
            );
        }
        assert_eq!(parse(&["--concurrency=1024"]).unwrap().limits.concurrency, 1024);
        let error = parse(&["--header-timout=1s"]).unwrap_err();
        assert!(error.contains("--header-timeout"), "{error}");
        let with = |options: Options| options.check().unwrap_err();
        let limits = |limits: Limits| Options {
            limits,
            ..Options::default()
        };
        assert!(with(limits(Limits {
            max_connections: 0,
            ..Limits::default()
        }))
        .contains("at least 1"));
        assert!(with(limits(Limits {
            max_body: 2 << 30,
            ..Limits::default()
        }))
        .contains("SMOOCH_MAX_BUFFERED"));
        assert!(with(Options {
            forward_url: Some("https://example.com/".to_owned()),
            ..Options::default()
        })
        .contains("http://"));
        assert!(with(Options {
            admin_listen: Some("127.0.0.1:3000".to_owned()),
            ..Options::default()
        })
        .contains("SMOOCH_ADMIN_LISTEN"));
    }

    #[test]
    fn secrets_come_from_the_variable_or_the_file_not_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets");
        std::fs::write(
            &file,
            "# not a comment: every line is a secret\n\n  new-one-0123456789 \nold-one-0123456789\n",
        )
        .unwrap();
        let from_file = Options {
            webhook_secrets_file: Some(file.clone()),
            ..Options::default()
        };
        assert_eq!(
            from_file.secrets().unwrap(),
            [
                "# not a comment: every line is a secret",
                "new-one-0123456789",
                "old-one-0123456789"
            ]
        );
        let both = Options {
            webhook_secrets: Some("a-secret-0123456789".to_owned()),
            ..from_file
        };
        assert!(both.secrets().unwrap_err().contains("not both"));
        assert!(Options::default()
            .secrets()
            .unwrap_err()
            .contains("SMOOCH_WEBHOOK_SECRETS"));
        let blank = Options {
            webhook_secrets: Some(" , ".to_owned()),
            ..Options::default()
        };
        assert!(blank.secrets().unwrap_err().contains("no secret"));
        let missing = Options {
            webhook_secrets_file: Some(dir.path().join("nothing-here")),
            ..Options::default()
        };
        assert!(missing.secrets().unwrap_err().contains("cannot read"));
    }

    #[test]
    fn a_webhook_secret_needs_16_characters() {
        let with = |secrets: &str| Options {
            webhook_secrets: Some(secrets.to_owned()),
            ..Options::default()
        };
        assert_eq!(with("0123456789abcdef").secrets().unwrap(), ["0123456789abcdef"]);
        // Characters, not bytes: 16 characters of 2 bytes each, and 15 of them.
        assert!(with(&"é".repeat(16)).secrets().is_ok());
        let error = with(&format!("0123456789abcdef,{}", "é".repeat(15)))
            .secrets()
            .unwrap_err();
        assert_eq!(
            error,
            "SMOOCH_WEBHOOK_SECRETS: secret 2 of 2 has 15 characters: each needs at least 16 \
             characters, or it can be found by trying keys (make one with `openssl rand -hex 32`)"
        );
        let error = with(" x ").secrets().unwrap_err();
        assert!(
            error.starts_with("SMOOCH_WEBHOOK_SECRETS: secret 1 of 1 has 1 characters"),
            "{error}"
        );
    }

    #[test]
    fn every_secret_bearing_option_is_hidden_from_help_and_debug() {
        let command = Cli::command();
        let env = |arg: &clap::Arg| arg.get_env().map(|env| env.to_string_lossy().into_owned());
        let hidden: Vec<String> = command
            .get_arguments()
            .filter(|arg| arg.is_hide_env_values_set())
            .filter_map(env)
            .collect();
        assert_eq!(
            hidden, SECRET_VARIABLES,
            "the list and the options' attributes differ"
        );
        let value = "http://operator:hunter2@127.0.0.1:9/in?password=hunter2&token=hunter2";
        for name in SECRET_VARIABLES {
            let arg = command
                .get_arguments()
                .find(|arg| env(arg).as_deref() == Some(name))
                .unwrap_or_else(|| panic!("{name} is no option's variable"));
            let flag = format!("--{}={value}", arg.get_long().unwrap());
            let options = parse(&[&flag]).unwrap();
            let shown = format!("{options:?}");
            assert!(!shown.contains("hunter2"), "{name}: {shown}");
            assert!(
                shown.contains("operator:***@") || shown.contains("Some(\"***\")"),
                "{name}: {shown}"
            );
        }
    }

    #[test]
    fn a_url_is_shown_without_its_password_query_values_or_fragment() {
        for (url, shown) in [
            (
                "postgres://smooch:pw@127.0.0.1:5432/db?options=-csearch_path%3Dx&password=pw2",
                "postgres://smooch:***@127.0.0.1:5432/db?options=***&password=***",
            ),
            (
                "http://user:p%40ss:w@h:1/in?token=t&flag#frag",
                "http://user:***@h:1/in?token=***&***#***",
            ),
            ("Postgres://u:pw@h/db", "Postgres://u:***@h/db"),
            ("http://127.0.0.1:8080/in", "http://127.0.0.1:8080/in"),
            (
                "postgres://smooch@%2Fvar%2Frun%2Fpostgresql/smooch",
                "postgres://smooch@%2Fvar%2Frun%2Fpostgresql/smooch",
            ),
            // A password holding a `/`, `?` or `#`: all before the last `@` is hidden.
            ("postgres://u:pa/ss@h/db", "postgres://***@h/db"),
            ("postgres://u:pa?ss@h/db", "postgres://***@h/db"),
            ("postgres://u:pa#ss@h/db", "postgres://***@h/db"),
            // Not URLs: file paths, as they are.
            (
                "/var/lib/smooch/webhooks.sqlite3",
                "/var/lib/smooch/webhooks.sqlite3",
            ),
            ("./odd://name@x", "./odd://name@x"),
            ("webhooks.sqlite3", "webhooks.sqlite3"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn only_http_forward_urls_with_a_host_are_taken_and_shown_redacted() {
        assert!(check_url("http://127.0.0.1:8080/in").is_ok());
        let error = check_url("https://user:hunter2@example.com/?token=hunter2").unwrap_err();
        assert_eq!(
            error,
            "SMOOCH_FORWARD_URL: https://user:***@example.com/?token=***: only http:// URLs with a host \
             (put a TLS proxy in front of an https one)"
        );
        assert!(check_url("/relative").unwrap_err().contains("only http://"));
        let error = check_url("http://user:hunter2@exa mple/").unwrap_err();
        assert!(
            error.contains("not a URL") && !error.contains("hunter2"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_variable_is_refused_naming_the_nearest_known_one() {
        let names: Vec<String> = Cli::command()
            .get_arguments()
            .filter_map(|arg| arg.get_env().map(|env| env.to_string_lossy().into_owned()))
            .collect();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let error = check_variables(["SMOOCH_HEADER_TIMOUT".to_owned()], &known).unwrap_err();
        assert_eq!(
            error,
            "unknown variable SMOOCH_HEADER_TIMOUT: did you mean SMOOCH_HEADER_TIMEOUT? (`--help` lists every variable)"
        );
        let error = check_variables(["SMOOCH_MAX_BODDY".to_owned()], &known).unwrap_err();
        assert!(error.contains("did you mean SMOOCH_MAX_BODY?"), "{error}");
        check_variables(
            ["SMOOCH_STORE".to_owned(), "PATH".to_owned(), "SMOOCHY".to_owned()],
            &known,
        )
        .unwrap();
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
