//! The store: where an accepted body is kept before its 200, with a delivery for each of its
//! events; where a refused one is kept for an operator; and where the receivers take their
//! deliveries, lane by lane.
//!
//! [`Store`] is the whole contract between the HTTP side, the delivery and the storage; a
//! receiver holds an `Arc<dyn Store>` and knows nothing else of it. [`Admin`] is what the
//! administration commands do to a store, also while a receiver runs. Two implementations, with
//! the same tables, the same keys and the same guarantees:
//!
//! - [`sqlite`]: one file, one receiver process (a second one on the same file is refused); its
//!   lanes are kept in memory;
//! - [`postgres`]: one database shared by any number of receivers, which take lanes with
//!   `FOR UPDATE SKIP LOCKED` and a lease.
//!
//! The tables (SQLite's; PostgreSQL has the same with `timestamptz` and `bytea`, and a table of
//! its lanes):
//!
//! ```sql
//! CREATE TABLE webhooks (                 -- each accepted body, once
//!     id INTEGER PRIMARY KEY,
//!     idempotency_key BLOB NOT NULL UNIQUE,  -- SHA-256 of the body
//!     received_at TEXT NOT NULL,             -- RFC 3339, UTC, milliseconds
//!     kinds TEXT NOT NULL,                   -- the trigger (v1), or the event types (v2)
//!     app_id TEXT,
//!     body BLOB NOT NULL                     -- exactly as received
//! );
//! CREATE TABLE deliveries (               -- each event to deliver, once
//!     id INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of arrival, never reused
//!     webhook_id INTEGER NOT NULL,           -- the body it came in
//!     event_index INTEGER NOT NULL,          -- its place in that body's events
//!     events INTEGER NOT NULL,               -- how many events that body holds
//!     lane TEXT NOT NULL,                    -- conversation:…, user:…, appUser:…, event:…
//!     key BLOB NOT NULL UNIQUE,              -- the event's key: the Idempotency-Key
//!     kind TEXT NOT NULL,                    -- the trigger or the event's type
//!     state TEXT NOT NULL DEFAULT 'pending', -- pending, failed (set aside), requeued
//!     attempts INTEGER NOT NULL DEFAULT 0,   -- failures of the application on it
//!     last_error TEXT
//! );
//! CREATE TABLE delivery_done (            -- done marks, appended
//!     delivery_id INTEGER PRIMARY KEY,
//!     done_at TEXT NOT NULL
//! );
//! CREATE TABLE dead_letters (             -- refused bodies
//!     id INTEGER PRIMARY KEY,
//!     received_at TEXT NOT NULL,
//!     status INTEGER NOT NULL,               -- 400 or 413
//!     error TEXT NOT NULL,
//!     size INTEGER NOT NULL,                 -- of the whole body
//!     body BLOB NOT NULL,                    -- the body, or its first 64 KiB when over the limit
//!     replayed_at TEXT,
//!     webhook_id INTEGER                     -- the webhook it was replayed as
//! );
//! ```
//!
//! [`open`] and [`open_admin`] choose between them by the location: `postgres://…` or
//! `postgresql://…` (the scheme in any case) is PostgreSQL, another `scheme://…` is refused, and
//! anything else is a SQLite file.

pub mod postgres;
pub mod postgres_tls;
pub mod sqlite;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{is_scheme, redact_url};
pub use crate::describe::EventMeta;

/// What a store's methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why a store could not do what it was asked. The message names no body content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What a caller holds for a body while it is in the store's hands (its room in the receiver's
/// memory budget): kept with the write until the store is done with it, written or not, so that
/// a body answered 503 while it waits for a stuck store still counts against the budget.
pub struct Reservation {
    _held: Box<dyn Send + Sync>,
}

impl Reservation {
    /// Holds `held` until the store is done with the write it goes with.
    pub fn new(held: impl Send + Sync + 'static) -> Reservation {
        Reservation {
            _held: Box::new(held),
        }
    }

    /// Nothing held.
    pub fn none() -> Reservation {
        Reservation::new(())
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reservation")
    }
}

/// `text` as a text column holds it: a NUL character (which PostgreSQL's text cannot hold, and
/// which cuts SQLite's text short in most tools) written `\u0000`; any other text as it is.
pub fn text_column(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\\u0000"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// An accepted body, to be stored before its 200.
#[derive(Debug)]
pub struct Incoming {
    /// The idempotency key (the SHA-256 of the body): a second body with the same key is not
    /// stored again.
    pub key: [u8; 32],
    /// When the request arrived, RFC 3339 in UTC with milliseconds.
    pub received_at: String,
    /// The trigger (v1), or the event types comma-separated (v2).
    pub kinds: String,
    /// The app's id, when the body has one.
    pub app_id: Option<String>,
    /// The body, exactly as received.
    pub body: Vec<u8>,
    /// Its events, in order, each delivered on its own (unless its key is stored already).
    pub events: Vec<EventMeta>,
    /// Released when the store is done with this write.
    pub reservation: Reservation,
}

/// What [`Store::accept`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Stored, with this row id.
    New(i64),
    /// A body with the same key was stored before, as this row: nothing was written.
    Duplicate(i64),
}

impl Accepted {
    /// The row id.
    pub fn id(self) -> i64 {
        match self {
            Accepted::New(id) | Accepted::Duplicate(id) => id,
        }
    }
}

/// A refused body, kept for an operator to see and replay.
#[derive(Debug)]
pub struct DeadLetter {
    /// When the request arrived, RFC 3339 in UTC with milliseconds.
    pub received_at: String,
    /// The status answered: 400 (not a webhook body) or 413 (over the limit).
    pub status: u16,
    /// Why it was refused (what the client was answered).
    pub error: String,
    /// The size of the whole body in bytes (for a body over the limit, its `Content-Length`, or
    /// the bytes counted before reading stopped).
    pub size: u64,
    /// The body; for a body over the dead-letter limit, its first [`DEAD_LETTER_PREFIX`] bytes.
    pub body: Vec<u8>,
    /// Released when the store is done with this write.
    pub reservation: Reservation,
}

/// How much of a body over the dead-letter limit a dead letter keeps.
pub const DEAD_LETTER_PREFIX: usize = 64 * 1024;

/// A delivery as the store gives it: one event, with the body it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its row id in `deliveries`: unique in the store, never given to another delivery.
    pub id: i64,
    /// The event's key ([`EventMeta::key`]).
    pub key: [u8; 32],
    /// Its lane.
    pub lane: String,
    /// The trigger or the event's type.
    pub kind: String,
    /// The row of the body it came in.
    pub webhook_id: i64,
    /// When that body was received, RFC 3339 in UTC with milliseconds.
    pub received_at: String,
    /// The app's id, when the body has one.
    pub app_id: Option<String>,
    /// Failures of the application on it so far.
    pub attempts: u32,
    /// Its place among the events of its body (0 for a v1 body).
    pub index: u32,
    /// How many events its body holds (1 for a v1 body).
    pub events: u32,
    /// The body it came in, exactly as received (shared by the body's events).
    pub body: Arc<Vec<u8>>,
}

/// A lane this receiver took: its deliveries after `after` are this receiver's to deliver, one
/// at a time, in order, until it gives the lane back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The lane.
    pub lane: String,
    /// Every delivery of the lane up to this id is done or set aside.
    pub after: i64,
}

/// What [`Store::failed`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    /// The delivery stays pending: it is tried again.
    Retry {
        /// Failures so far.
        attempts: u32,
    },
    /// The delivery failed `max_attempts` times: it is set aside (state `failed`), and its lane
    /// goes on.
    SetAside {
        /// Failures so far.
        attempts: u32,
    },
}

/// What a store holds, for `stats` and the metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bodies stored, until the retention deletes them (counted for `stats` only: 0 for the
    /// metrics, which would read a table as long as the retention at every scrape).
    pub webhooks: u64,
    /// Deliveries waiting (in flight included).
    pub pending: u64,
    /// Lanes with deliveries waiting.
    pub lanes_waiting: u64,
    /// When the body of the oldest waiting delivery was received.
    pub oldest_pending: Option<String>,
    /// Deliveries done, until the retention deletes them (for `stats` only, as `webhooks`).
    pub done: u64,
    /// Deliveries set aside after too many failures of the application.
    pub failed: u64,
    /// Dead letters in all.
    pub dead_letters: u64,
    /// Dead letters not replayed.
    pub dead_letters_waiting: u64,
}

/// What the retention deleted in one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Deliveries done more than the retention ago.
    pub deliveries: u64,
    /// Bodies received more than the retention ago with no delivery left.
    pub webhooks: u64,
}

/// A dead letter, as `dead-letters list` and `show` give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    /// Its id in `dead_letters`.
    pub id: i64,
    /// When the request arrived.
    pub received_at: String,
    /// The status answered.
    pub status: u16,
    /// What the client was answered.
    pub error: String,
    /// The size of the whole body.
    pub size: u64,
    /// The id of the webhook it was replayed as, once replayed.
    pub replayed_as: Option<i64>,
    /// The body as kept (empty in a list).
    pub body: Vec<u8>,
}

impl Letter {
    /// Whether the whole body was kept (a body over the dead-letter limit keeps its start only).
    pub fn is_whole(&self) -> bool {
        self.body.len() as u64 == self.size
    }
}

/// What the store settings are, besides the location.
#[derive(Clone)]
pub struct Settings {
    /// PostgreSQL: how long a receiver's hold on a lane lasts unless renewed.
    pub lease: Duration,
    /// SQLite: the size the WAL file is brought back to.
    pub wal_limit: usize,
    /// PostgreSQL: how long one database call may take (and its `statement_timeout`): a
    /// connection that does not answer within it is dropped, and a new one opened.
    pub timeout: Duration,
    /// Where the store reports its commits (their duration and size).
    pub observer: Arc<dyn Observer>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("lease", &self.lease)
            .field("wal_limit", &self.wal_limit)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What a store tells of its work as it goes (the receiver's metrics).
pub trait Observer: Send + Sync {
    /// A group of writes was committed (and made durable) in `seconds`.
    fn committed(&self, seconds: f64, writes: usize);
}

/// An observer that looks at nothing.
impl Observer for () {
    fn committed(&self, _seconds: f64, _writes: usize) {}
}

/// Where webhooks are kept, and their deliveries. Every method may be called from many tasks at
/// once; the delivery side ([`take`](Self::take) to [`release`](Self::release)) is worked by one
/// scheduler per receiver.
///
/// A delivery is one event. Its lane is delivered in order, by one receiver at a time: a
/// receiver [`take`](Self::take)s lanes with deliveries waiting, reads their deliveries in order
/// ([`next`](Self::next)), marks each [`done`](Self::done) (or records its failure, and sets it
/// aside after too many), renews its hold ([`extend`](Self::extend)), and gives the lane back
/// ([`release`](Self::release)) once it has nothing more, or at shutdown.
pub trait Store: Send + Sync + 'static {
    /// Stores an accepted body and a delivery for each of its events whose key is not stored
    /// yet, or finds the row of the same body. When it returns `Ok`, the body survives a crash
    /// of the process and of the machine.
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted>;

    /// Stores a refused body; `Ok` holds its id. Durable as [`accept`](Self::accept).
    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64>;

    /// Takes up to `max` lanes that have deliveries waiting and that no receiver holds, those
    /// that waited longest first.
    fn take(&self, max: usize) -> StoreFuture<'_, Vec<Taken>>;

    /// The next deliveries of the held lane `lane` after the delivery `after`, in order: up to
    /// `max`, and no more once their bodies reach `max_bytes` (one always, if there is one).
    /// Empty when the lane has nothing more now.
    fn next(&self, lane: &str, after: i64, max: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Stored>>;

    /// Marks deliveries done (`(lane, id)`, in each lane's order). A mark that cannot be written
    /// now is written later; a crash before it gives the delivery again (at least once).
    fn done(&self, marks: Vec<(String, i64)>) -> StoreFuture<'_, ()>;

    /// Records that the application failed on a delivery, and sets it aside after
    /// `max_attempts` (its lane then goes on).
    fn failed(&self, delivery: &Stored, error: String, max_attempts: u32) -> StoreFuture<'_, Failed>;

    /// Renews this receiver's hold on `lanes`; returns those it still holds (a hold that ran
    /// out may have gone to another receiver).
    fn extend(&self, lanes: Vec<String>) -> StoreFuture<'_, Vec<String>>;

    /// Gives back held lanes (once the done marks of their deliveries are written), for any
    /// receiver to take when they have deliveries waiting.
    fn release(&self, lanes: Vec<String>) -> StoreFuture<'_, ()>;

    /// Deletes at most `max_rows` deliveries done more than `age` ago, and at most `max_rows`
    /// bodies received more than `age` ago that have no delivery left.
    fn purge(&self, age: Duration, max_rows: usize) -> StoreFuture<'_, Purged>;

    /// What the store holds (without the counts that read whole tables: see [`Stats`]).
    fn stats(&self) -> StoreFuture<'_, Stats>;

    /// `Ok` when a write would complete now: a real write, through the path the requests'
    /// writes take (behind them), that takes the write locks a request's write takes.
    fn ready(&self) -> StoreFuture<'_, ()>;

    /// Resolves when deliveries may be waiting that were not (new ones stored, lanes given back
    /// by another receiver, deliveries given back by `requeue`) since the last call.
    fn new_work(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Resolves, with the reason, when the store can no longer store anything.
    fn broken(&self) -> Pin<Box<dyn Future<Output = String> + Send + '_>>;

    /// Writes what is queued and closes; later calls fail.
    fn close(&self) -> StoreFuture<'_, ()>;
}

/// What the administration commands do to a store, while receivers run on it.
pub trait Admin: Send + Sync {
    /// What the store holds.
    fn stats(&self) -> StoreFuture<'_, Stats>;

    /// The dead letters, newest first, at most `limit`, without their bodies.
    fn dead_letters(&self, limit: usize) -> StoreFuture<'_, Vec<Letter>>;

    /// One dead letter, with its body as kept.
    fn dead_letter(&self, id: i64) -> StoreFuture<'_, Option<Letter>>;

    /// Stores the dead letter `id` as a webhook (`webhook`, made from its body) and marks it
    /// replayed, in one transaction; a dead letter replayed before is not stored again (`Err`).
    fn replay(&self, id: i64, webhook: Incoming) -> StoreFuture<'_, Accepted>;

    /// Gives the deliveries set aside back to the application (all, or those of one lane): each
    /// goes to the back of its lane again (a new row id, the same key), its attempts back to 0;
    /// returns how many. Running receivers take them within a second.
    fn requeue(&self, lane: Option<String>) -> StoreFuture<'_, u64>;

    /// Applies the migrations not applied yet; returns the schema version.
    fn migrate(&self) -> StoreFuture<'_, i64>;
}

/// Where a store is, as [`locate`] reads `SMOOCH_STORE`.
enum Location {
    /// A PostgreSQL URL, its scheme in lower case (as tokio-postgres takes it).
    Postgres(String),
    /// A SQLite file.
    Sqlite(PathBuf),
}

/// Reads a store's location: `postgres://…` or `postgresql://…`, the scheme in any case, is
/// PostgreSQL; another `scheme://…` is refused (a typo, or a database this receiver does not
/// speak: taken for a file path, it would be created as one and shown whole in the errors);
/// anything else is a SQLite file.
fn locate(location: &str) -> Result<Location, StoreError> {
    match location.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") =>
        {
            Ok(Location::Postgres(format!(
                "{}://{rest}",
                scheme.to_ascii_lowercase()
            )))
        }
        Some((scheme, _)) if is_scheme(scheme) => Err(StoreError(format!(
            "SMOOCH_STORE: {}: neither a SQLite file nor a postgres:// URL",
            redact_url(location)
        ))),
        _ => Ok(Location::Sqlite(PathBuf::from(location))),
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(location: &str) -> bool {
    matches!(locate(location), Ok(Location::Postgres(_)))
}

/// Opens the store at `location` for a receiver (migrating it first).
pub async fn open(location: &str, settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    match locate(location)? {
        Location::Postgres(url) => Ok(Arc::new(postgres::PostgresStore::open(&url, settings).await?)),
        Location::Sqlite(path) => {
            let settings = settings.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path, &settings))
                .await
                .map_err(|error| StoreError(format!("opening the store: {error}")))??;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the store at `location` for the administration commands. Only `migrate` (`create`)
/// makes a SQLite file that does not exist; the other commands refuse a store without this
/// receiver's tables.
pub async fn open_admin(location: &str, create: bool) -> Result<Box<dyn Admin>, StoreError> {
    match locate(location)? {
        Location::Postgres(url) => Ok(Box::new(postgres::PostgresAdmin::connect(&url).await?)),
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteAdmin::open(&path, create)?)),
    }
}

/// Whether something that is retried (a checkpoint) works: a failure is logged when it starts
/// failing and when it works again, not at every attempt (a full disk fails hundreds a second).
#[derive(Default)]
pub(crate) struct Health {
    failures: u64,
}

impl Health {
    /// Records the outcome of one attempt at `what`.
    pub(crate) fn report<T, E: std::fmt::Display>(&mut self, what: &str, outcome: &Result<T, E>) {
        match outcome {
            Err(error) if self.failures == 0 => {
                self.failures = 1;
                tracing::warn!(error = %error, "{what} failed; retrying (logged again once it works)");
            }
            Err(_) => self.failures += 1,
            Ok(_) if self.failures > 0 => {
                tracing::info!(failures = self.failures, "{what} works again");
                self.failures = 0;
            }
            Ok(_) => {}
        }
    }
}

/// Now, as the stores write times: RFC 3339 in UTC with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_logged_when_it_starts_and_when_it_ends_only() {
        let mut health = Health::default();
        let failed: Result<(), &str> = Err("disk full");
        for _ in 0..100 {
            health.report("checkpoint", &failed);
        }
        assert_eq!(health.failures, 100);
        health.report("checkpoint", &Ok::<(), &str>(()));
        assert_eq!(health.failures, 0);
    }

    #[test]
    fn a_nul_character_is_written_as_its_escape_in_a_text_column() {
        assert_eq!(text_column("message:appUser"), "message:appUser");
        assert!(matches!(text_column("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(text_column("a\0b\0"), "a\\u0000b\\u0000");
    }

    #[test]
    fn a_postgres_url_in_any_case_is_postgres_another_url_refused_and_anything_else_a_file() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h/db",
            "Postgres://u@h/db",
            "POSTGRESQL://u@h/db",
        ] {
            assert!(is_postgres(url), "{url}");
        }
        assert!(matches!(
            locate("PostgreSQL://u:pw@h/db"),
            Ok(Location::Postgres(url)) if url == "postgresql://u:pw@h/db"
        ));
        for path in [
            "postgres.sqlite3",
            "/var/lib/smooch/webhooks.sqlite3",
            "./odd://name",
        ] {
            assert!(
                matches!(locate(path), Ok(Location::Sqlite(p)) if p.to_str() == Some(path)),
                "{path}"
            );
        }
        let Err(error) = locate("mysql://u:hunter2@h/db?password=hunter2") else {
            panic!("a MySQL URL taken");
        };
        assert_eq!(
            error.0,
            "SMOOCH_STORE: mysql://u:***@h/db?password=***: neither a SQLite file nor a postgres:// URL"
        );
    }
}
