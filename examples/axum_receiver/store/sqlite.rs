//! [`SqliteStore`]: the store in one SQLite file (SQLite is built into the binary).
//!
//! One thread owns the connection and does every write, in groups: it takes the first request
//! waiting, then every other one waiting (up to [`MAX_GROUP`]), writes them all in one
//! transaction, commits once, and only then answers each. While one group is being committed, the
//! next one gathers, so the cost of a commit (an `fsync`) is shared by every request that arrived
//! meanwhile: the busier the receiver, the larger the groups. The database is in WAL mode with
//! `synchronous = FULL`: a committed row survives a crash of the process and a power cut.
//!
//! The file holds two tables (and `PRAGMA user_version` = 1):
//!
//! ```sql
//! CREATE TABLE webhooks (
//!     id INTEGER PRIMARY KEY,            -- order of arrival
//!     idempotency_key TEXT NOT NULL UNIQUE, -- SHA-256 of body, hex
//!     received_at TEXT NOT NULL,         -- RFC 3339, UTC, ms
//!     kinds TEXT NOT NULL,               -- trigger, or event types comma-separated
//!     app_id TEXT,
//!     body BLOB NOT NULL,                -- exactly as received
//!     state TEXT NOT NULL DEFAULT 'pending', -- pending, done or failed
//!     attempts INTEGER NOT NULL DEFAULT 0,   -- application failures on it
//!     last_error TEXT,
//!     done_at TEXT
//! );
//! CREATE TABLE dead_letters (
//!     id INTEGER PRIMARY KEY,
//!     received_at TEXT NOT NULL,
//!     status INTEGER NOT NULL,           -- 400 or 413
//!     error TEXT NOT NULL,
//!     size INTEGER NOT NULL,             -- of the whole body
//!     body BLOB NOT NULL                 -- the body, or its first 64 KiB when over the limit
//! );
//! ```

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::{Accepted, DeadLetter, Failed, Incoming, Pending, Store, StoreError, StoreFuture};

/// The most requests written in one transaction.
pub(crate) const MAX_GROUP: usize = 1024;

/// Commits that may fail in a row (a full disk, an I/O error) before the store gives up.
const MAX_FAILED_COMMITS: u32 = 3;

/// How long a write waits for a lock held by another process (an operator's `sqlite3`).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    kinds TEXT NOT NULL,
    app_id TEXT,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS webhooks_pending ON webhooks (id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    error TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL
);
PRAGMA user_version = 1;
";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A request to the writer thread.
enum Op {
    Accept(Incoming, Reply<Accepted>),
    DeadLetter(DeadLetter, Reply<i64>),
    Done(i64),
    Failed(i64, String, u32, Reply<Failed>),
    Pending(i64, usize, usize, Reply<Vec<Pending>>),
    Close(oneshot::Sender<()>),
}

/// The store in one SQLite file. See the [module](self).
pub(crate) struct SqliteStore {
    ops: mpsc::UnboundedSender<Op>,
    new_work: Arc<Notify>,
    broken: watch::Receiver<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and the tables if need be, and starts the
    /// writer thread.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let fail =
            |what: &str, error: rusqlite::Error| StoreError(format!("{}: {what}: {error}", path.display()));
        let connection = Connection::open(path).map_err(|e| fail("cannot open", e))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("busy_timeout", e))?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| fail("journal_mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError(format!(
                "{}: journal_mode is {mode}, not wal",
                path.display()
            )));
        }
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| fail("user_version", e))?;
        if version > 1 {
            return Err(StoreError(format!(
                "{}: schema version {version} is newer than this receiver's (1)",
                path.display()
            )));
        }
        connection
            .execute_batch(&format!("PRAGMA synchronous = FULL; {SCHEMA}"))
            .map_err(|e| fail("cannot create the tables", e))?;

        let (ops, receiver) = mpsc::unbounded_channel();
        let new_work = Arc::new(Notify::new());
        let (broken_sender, broken) = watch::channel(None);
        let notify = Arc::clone(&new_work);
        let thread = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || {
                let mut guard = BrokenOnDrop {
                    sender: broken_sender,
                    reason: Some("the store's writer thread panicked".to_owned()),
                };
                guard.reason = write_loop(connection, receiver, &notify);
            })
            .map_err(|e| StoreError(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            ops,
            new_work,
            broken,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn send<T: Send + 'static>(&self, op: impl FnOnce(Reply<T>) -> Op) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let sent = self.ops.send(op(reply));
        Box::pin(async move {
            sent.map_err(|_| closed())?;
            answer.await.map_err(|_| closed())?
        })
    }
}

fn closed() -> StoreError {
    StoreError("the store is closed".to_owned())
}

/// Marks the store broken when the writer thread ends for any other reason than a close.
struct BrokenOnDrop {
    sender: watch::Sender<Option<String>>,
    reason: Option<String>,
}

impl Drop for BrokenOnDrop {
    fn drop(&mut self) {
        if let Some(reason) = self.reason.take() {
            tracing::error!(reason = %reason, "the store is broken");
            self.sender.send_replace(Some(reason));
        }
    }
}

impl Store for SqliteStore {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        self.send(|reply| Op::Accept(webhook, reply))
    }

    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64> {
        self.send(|reply| Op::DeadLetter(letter, reply))
    }

    fn pending(&self, after: i64, max_rows: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Pending>> {
        self.send(|reply| Op::Pending(after, max_rows, max_bytes, reply))
    }

    fn done(&self, id: i64) -> StoreFuture<'_, ()> {
        let sent = self.ops.send(Op::Done(id)).map_err(|_| closed());
        Box::pin(async move { sent })
    }

    fn failed(&self, id: i64, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        self.send(|reply| Op::Failed(id, error, max_attempts, reply))
    }

    fn new_work(&self) -> Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.new_work.notified())
    }

    fn broken(&self) -> Pin<Box<dyn std::future::Future<Output = String> + Send + '_>> {
        let mut broken = self.broken.clone();
        Box::pin(async move {
            let reason = broken
                .wait_for(Option::is_some)
                .await
                .map(|reason| reason.clone().unwrap_or_default());
            match reason {
                Ok(reason) => reason,
                // The thread ended after a close: not broken, so never resolves.
                Err(_) => std::future::pending().await,
            }
        })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        let (reply, answer) = oneshot::channel();
        let sent = self.ops.send(Op::Close(reply));
        let thread = self.thread.lock().map(|mut thread| thread.take()).unwrap_or(None);
        Box::pin(async move {
            if sent.is_ok() {
                answer.await.map_err(|_| closed())?;
            }
            if let Some(thread) = thread {
                tokio::task::spawn_blocking(move || thread.join())
                    .await
                    .map_err(|_| closed())?
                    .map_err(|_| StoreError("the writer thread panicked".to_owned()))?;
            }
            Ok(())
        })
    }
}

/// The writer thread: groups, commits, answers. Returns why it stopped if the store is broken,
/// `None` after a close or when every sender is gone.
fn write_loop(
    mut connection: Connection,
    mut ops: mpsc::UnboundedReceiver<Op>,
    new_work: &Notify,
) -> Option<String> {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut failed_commits = 0;
    while let Some(first) = ops.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match ops.try_recv() {
                Ok(op) => group.push(op),
                Err(_) => break,
            }
        }
        let (outcome, close) = write_group(&mut connection, &mut group);
        match outcome {
            Ok(inserted) => {
                failed_commits = 0;
                if inserted {
                    new_work.notify_one();
                }
            }
            Err(error) => {
                failed_commits += 1;
                tracing::error!(error = %error, failures = failed_commits, "a commit failed");
                if failed_commits >= MAX_FAILED_COMMITS {
                    return Some(format!(
                        "{failed_commits} commits failed in a row, the last with: {error}"
                    ));
                }
            }
        }
        if let Some(reply) = close {
            // Nothing more is taken; what was sent before the close is written with it.
            ops.close();
            while let Ok(op) = ops.try_recv() {
                group.push(op);
            }
            if !group.is_empty() {
                let (_, _) = write_group(&mut connection, &mut group);
            }
            if let Err(error) = connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                tracing::warn!(error = %error, "the checkpoint at close failed");
            }
            drop(connection);
            let _ = reply.send(());
            return None;
        }
    }
    None
}

/// A write's answer, sent once the group is committed.
enum Answer {
    Accept(Reply<Accepted>, Result<Accepted, StoreError>),
    DeadLetter(Reply<i64>, Result<i64, StoreError>),
    Failed(Reply<Failed>, Result<Failed, StoreError>),
}

impl Answer {
    /// Sends the answer, or `error` instead when the group could not be committed.
    fn send(self, error: Option<&StoreError>) {
        fn or<T>(result: Result<T, StoreError>, error: Option<&StoreError>) -> Result<T, StoreError> {
            match error {
                Some(error) => Err(error.clone()),
                None => result,
            }
        }
        // A requester that gave up (a request cut short) no longer listens: nothing to do.
        match self {
            Answer::Accept(reply, result) => drop(reply.send(or(result, error))),
            Answer::DeadLetter(reply, result) => drop(reply.send(or(result, error))),
            Answer::Failed(reply, result) => drop(reply.send(or(result, error))),
        }
    }
}

/// Writes every write of `group` in one transaction, commits, then answers the writes and the
/// reads; returns whether a webhook was inserted, and the reply of a close if the group held one.
/// The group is left empty.
fn write_group(
    connection: &mut Connection,
    group: &mut Vec<Op>,
) -> (Result<bool, StoreError>, Option<oneshot::Sender<()>>) {
    let mut answers = Vec::with_capacity(group.len());
    let mut reads = Vec::new();
    let mut inserted = false;
    let mut close = None;
    let sql_error = |e: rusqlite::Error| StoreError(e.to_string());
    let transaction = match connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(transaction) => Some(transaction),
        Err(error) => {
            tracing::error!(error = %error, "cannot begin a transaction");
            None
        }
    };
    let now = super::now();
    for op in group.drain(..) {
        let Some(transaction) = &transaction else {
            // No transaction: every write fails, with the reason given below.
            match op {
                Op::Accept(_, reply) => answers.push(Answer::Accept(reply, Err(closed()))),
                Op::DeadLetter(_, reply) => answers.push(Answer::DeadLetter(reply, Err(closed()))),
                Op::Failed(_, _, _, reply) => answers.push(Answer::Failed(reply, Err(closed()))),
                Op::Pending(after, rows, bytes, reply) => reads.push((after, rows, bytes, reply)),
                Op::Done(_) => {}
                Op::Close(reply) => close = Some(reply),
            }
            continue;
        };
        match op {
            Op::Accept(webhook, reply) => {
                let result = insert(transaction, &webhook).map_err(sql_error);
                inserted |= matches!(result, Ok(Accepted::New(_)));
                answers.push(Answer::Accept(reply, result));
            }
            Op::DeadLetter(letter, reply) => {
                let result = transaction
                    .prepare_cached(
                        "INSERT INTO dead_letters (received_at, status, error, size, body) \
                         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                    )
                    .and_then(|mut statement| {
                        statement.query_row(
                            params![
                                letter.received_at,
                                letter.status,
                                letter.error,
                                i64::try_from(letter.size).unwrap_or(i64::MAX),
                                letter.body
                            ],
                            |row| row.get(0),
                        )
                    })
                    .map_err(sql_error);
                answers.push(Answer::DeadLetter(reply, result));
            }
            Op::Done(id) => {
                let result = transaction
                    .prepare_cached(
                        "UPDATE webhooks SET state = 'done', done_at = ?2 WHERE id = ?1 AND state = 'pending'",
                    )
                    .and_then(|mut statement| statement.execute(params![id, now]));
                if let Err(error) = result {
                    tracing::warn!(id, error = %error, "cannot mark a webhook done");
                }
            }
            Op::Failed(id, error, max_attempts, reply) => {
                let result = transaction
                    .prepare_cached(
                        "UPDATE webhooks SET attempts = attempts + 1, last_error = ?2, \
                         state = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE state END \
                         WHERE id = ?1 AND state = 'pending' RETURNING state, attempts",
                    )
                    .and_then(|mut statement| {
                        statement
                            .query_row(params![id, error, max_attempts], |row| {
                                Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
                            })
                            .optional()
                    })
                    .map_err(sql_error)
                    .map(|row| match row {
                        Some((state, attempts)) if state == "failed" => Failed::SetAside { attempts },
                        Some((_, attempts)) => Failed::Retry { attempts },
                        None => Failed::Retry { attempts: 0 },
                    });
                answers.push(Answer::Failed(reply, result));
            }
            Op::Pending(after, rows, bytes, reply) => reads.push((after, rows, bytes, reply)),
            Op::Close(reply) => close = Some(reply),
        }
    }
    let committed = match transaction.map(rusqlite::Transaction::commit) {
        Some(committed) => committed.map_err(sql_error),
        None => Err(StoreError("cannot begin a transaction".to_owned())),
    };
    let error = committed.as_ref().err();
    for answer in answers {
        answer.send(error);
    }
    for (after, rows, bytes, reply) in reads {
        let _ = reply.send(read_pending(connection, after, rows, bytes).map_err(sql_error));
    }
    (committed.map(|()| inserted), close)
}

/// Inserts a webhook, or finds the row that has its key.
fn insert(connection: &Connection, webhook: &Incoming) -> rusqlite::Result<Accepted> {
    let id: Option<i64> = connection
        .prepare_cached(
            "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                webhook.key,
                webhook.received_at,
                webhook.kinds,
                webhook.app_id,
                webhook.body
            ],
            |row| row.get(0),
        )
        .optional()?;
    match id {
        Some(id) => Ok(Accepted::New(id)),
        None => connection
            .prepare_cached("SELECT id FROM webhooks WHERE idempotency_key = ?1")?
            .query_row([&webhook.key], |row| row.get(0))
            .map(Accepted::Duplicate),
    }
}

fn read_pending(
    connection: &Connection,
    after: i64,
    max_rows: usize,
    max_bytes: usize,
) -> rusqlite::Result<Vec<Pending>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, received_at, kinds, attempts, body FROM webhooks \
         WHERE state = 'pending' AND id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut rows = statement.query(params![after, i64::try_from(max_rows).unwrap_or(i64::MAX)])?;
    let mut pending = Vec::new();
    let mut bytes = 0;
    // Rows are read one at a time: past `max_bytes`, the rest are not read at all.
    while bytes < max_bytes {
        let Some(row) = rows.next()? else { break };
        let body: Vec<u8> = row.get(4)?;
        bytes += body.len();
        pending.push(Pending {
            id: row.get(0)?,
            received_at: row.get(1)?,
            kinds: row.get(2)?,
            attempts: row.get(3)?,
            body,
        });
    }
    Ok(pending)
}
