//! The store: where an accepted body is kept before its 200, where a refused one is kept for an
//! operator, and where the application reads its work.
//!
//! [`Store`] is the whole contract between the HTTP side, the application and the storage; the
//! receiver holds an `Arc<dyn Store>` and knows nothing else of it. [`sqlite::SqliteStore`] is the
//! implementation for one process on one machine. Receivers on several machines need one shared
//! store instead (PostgreSQL, or a broker in front of one), which implements the same trait with
//! the same table and the same idempotency key (a unique index, `INSERT … ON CONFLICT DO NOTHING`).

pub(crate) mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// What a store's methods return.
pub(crate) type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why a store could not do what it was asked. The message names no body content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoreError(pub(crate) String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// An accepted body, to be stored before its 200.
#[derive(Clone, Debug)]
pub(crate) struct Incoming {
    /// The idempotency key ([`super::body::idempotency_key`]): a second body with the same key is
    /// not stored again.
    pub(crate) key: [u8; 32],
    /// When the request arrived, RFC 3339 in UTC with milliseconds.
    pub(crate) received_at: String,
    /// The trigger, or the event types ([`super::body::Description::kinds`]).
    pub(crate) kinds: String,
    /// The app's id, when the body has one.
    pub(crate) app_id: Option<String>,
    /// The body, exactly as received.
    pub(crate) body: Vec<u8>,
}

/// What [`Store::accept`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accepted {
    /// Stored, with this row id.
    New(i64),
    /// A body with the same key was stored before, as this row: nothing was written.
    Duplicate(i64),
}

/// A refused body, kept for an operator to see and replay.
#[derive(Clone, Debug)]
pub(crate) struct DeadLetter {
    /// When the request arrived, RFC 3339 in UTC with milliseconds.
    pub(crate) received_at: String,
    /// The status answered: 400 (not a webhook body) or 413 (over the limit).
    pub(crate) status: u16,
    /// Why it was refused.
    pub(crate) error: String,
    /// The size of the whole body in bytes (for a body over the limit, its `Content-Length`, or
    /// the bytes counted before reading stopped).
    pub(crate) size: u64,
    /// The body, or for a body over the limit its first [`DEAD_LETTER_PREFIX`] bytes.
    pub(crate) body: Vec<u8>,
}

/// How much of a body over the limit a dead letter keeps.
pub(crate) const DEAD_LETTER_PREFIX: usize = 64 * 1024;

/// A stored webhook that the application has not done yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// The row id; rows are read in this order.
    pub(crate) id: i64,
    /// When it was received.
    pub(crate) received_at: String,
    /// The trigger or the event types.
    pub(crate) kinds: String,
    /// How many times the application failed on it before.
    pub(crate) attempts: u32,
    /// The body, exactly as received.
    pub(crate) body: Vec<u8>,
}

/// What [`Store::failed`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failed {
    /// The webhook stays pending: the application will get it again.
    Retry {
        /// Failures so far.
        attempts: u32,
    },
    /// The webhook failed `max_attempts` times: it is set aside (state `failed`).
    SetAside {
        /// Failures so far.
        attempts: u32,
    },
}

/// Where webhooks are kept. Every method may be called from many tasks at once.
pub(crate) trait Store: Send + Sync + 'static {
    /// Stores an accepted body, or finds the row of the same key. When it returns `Ok`, the body
    /// survives a crash of the process (and, for a store that says so, of the machine).
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted>;

    /// Stores a refused body; `Ok` holds the row id. Durable as [`accept`](Self::accept).
    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64>;

    /// Webhooks not done yet, with an id above `after`, in id order: up to `max_rows`, and no more
    /// after their bodies reach `max_bytes` in all (but always one, if there is one).
    fn pending(&self, after: i64, max_rows: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Pending>>;

    /// Marks done every webhook still pending with an id in `after + 1 ..= last` (the application
    /// handles them in id order, so these are the ones it just handled). The mark may be written
    /// with a later group: until then, a crash gives them to the application again (at least
    /// once).
    fn done(&self, after: i64, last: i64) -> StoreFuture<'_, ()>;

    /// Records that the application failed on a webhook, and sets it aside after `max_attempts`.
    fn failed(&self, id: i64, error: String, max_attempts: u32) -> StoreFuture<'_, Failed>;

    /// Resolves when webhooks may have been stored since the last call (at once, if so).
    fn new_work(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Resolves, with the reason, when the store can no longer store anything.
    fn broken(&self) -> Pin<Box<dyn Future<Output = String> + Send + '_>>;

    /// Writes what is queued and closes; later calls fail.
    fn close(&self) -> StoreFuture<'_, ()>;
}

/// Now, as the store writes times: RFC 3339 in UTC with milliseconds.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
