//! [`SqliteStore`]: the store in one SQLite file (SQLite is built into the binary).
//!
//! Two threads share the work, so that the one every request waits for does not wait for the disk
//! at every commit:
//!
//! - The **writer** owns the connection. It takes the first request waiting, then every other
//!   one waiting (up to [`MAX_GROUP`]), writes them all in one transaction and commits once: the
//!   busier the receiver, the larger the groups. It commits without `fsync`
//!   (`synchronous = NORMAL`) and hands the group's answers to the syncer. Every
//!   [`CHECKPOINT_PAGES`] pages of WAL it copies the WAL into the database file (a checkpoint,
//!   which syncs both files) and starts the WAL again from its beginning.
//! - The **syncer** calls `fdatasync` on the WAL file, once for every group committed since its
//!   last one, and only then answers: a 200 goes out once its row is on disk, as with
//!   `synchronous = FULL`, but the writer commits the next groups meanwhile.
//!
//! A committed row survives a crash of the process and, once answered, a power cut.
//!
//! The file holds two tables (and `PRAGMA user_version` = 1):
//!
//! ```sql
//! CREATE TABLE webhooks (
//!     id INTEGER PRIMARY KEY,                -- order of arrival
//!     idempotency_key BLOB NOT NULL UNIQUE,  -- SHA-256 of body (32 bytes; hex() shows it)
//!     received_at TEXT NOT NULL,             -- RFC 3339, UTC, ms
//!     kinds TEXT NOT NULL,                   -- trigger, or event types comma-separated
//!     app_id TEXT,
//!     body BLOB NOT NULL,                    -- exactly as received
//!     state TEXT NOT NULL DEFAULT 'pending', -- pending, done or failed
//!     attempts INTEGER NOT NULL DEFAULT 0,   -- application failures on it
//!     last_error TEXT,
//!     done_at TEXT
//! );
//! CREATE TABLE dead_letters (
//!     id INTEGER PRIMARY KEY,
//!     received_at TEXT NOT NULL,
//!     status INTEGER NOT NULL,               -- 400 or 413
//!     error TEXT NOT NULL,
//!     size INTEGER NOT NULL,                 -- of the whole body
//!     body BLOB NOT NULL                     -- the body, or its first 64 KiB when over the limit
//! );
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::mpsc as channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::{Accepted, DeadLetter, Failed, Incoming, Pending, Store, StoreError, StoreFuture};

/// The most requests written in one transaction.
pub(crate) const MAX_GROUP: usize = 1024;

/// WAL pages (4 KiB each) after which the writer checkpoints (SQLite's default).
pub(crate) const CHECKPOINT_PAGES: u32 = 1000;

/// Commits that may fail in a row (a full disk, an I/O error) before the store gives up.
const MAX_FAILED_COMMITS: u32 = 3;

/// How long a write waits for a lock held by another process (an operator's `sqlite3`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    idempotency_key BLOB NOT NULL UNIQUE,
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
    Done(i64, i64),
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

/// Where the threads report that the store is broken (the first reason stays).
#[derive(Clone)]
struct Broken(Arc<watch::Sender<Option<String>>>);

impl Broken {
    fn mark(&self, reason: String) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            tracing::error!(reason = %reason, "the store is broken");
            *current = Some(reason);
            true
        });
    }
}

/// Marks the store broken when a thread ends by a panic.
struct PanicGuard(Broken, &'static str);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.mark(format!("the store's {} thread panicked", self.1));
        }
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and the tables if need be, and starts the
    /// writer and the syncer.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let fail = |what: &str, error: &dyn std::fmt::Display| {
            StoreError(format!("{}: {what}: {error}", path.display()))
        };
        let connection = Connection::open(path).map_err(|e| fail("cannot open", &e))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("busy_timeout", &e))?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| fail("journal_mode", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail("journal_mode", &format!("{mode}, not wal")));
        }
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| fail("user_version", &e))?;
        if version > 1 {
            return Err(fail(
                "schema",
                &format!("version {version} is newer than this receiver's (1)"),
            ));
        }
        // No fsync at commit: the syncer does it (see the module).
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}; {SCHEMA}"
            ))
            .map_err(|e| fail("cannot create the tables", &e))?;
        let wal = wal_file(path).map_err(|e| fail("cannot open the WAL file", &e))?;

        let (ops, receiver) = mpsc::unbounded_channel();
        let new_work = Arc::new(Notify::new());
        let (broken_sender, broken) = watch::channel(None);
        let broken_sender = Broken(Arc::new(broken_sender));

        let (to_syncer, jobs) = channel::channel();
        let (guard, notify) = (broken_sender.clone(), Arc::clone(&new_work));
        let syncer = spawn("store-sync", move || {
            let _guard = PanicGuard(guard.clone(), "syncer");
            sync_loop(&wal, &jobs, &notify, &guard);
        })?;
        let guard = broken_sender.clone();
        let thread = spawn("store-writer", move || {
            let _guard = PanicGuard(guard.clone(), "writer");
            let writer = Writer {
                connection,
                syncer: Some(to_syncer),
            };
            let closed = writer.run(receiver, &guard);
            // The syncer answers what it holds.
            let _ = syncer.join();
            if let Some((connection, reply)) = closed {
                if let Err(error) = connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                    tracing::warn!(error = %error, "the checkpoint at close failed");
                }
                drop(connection);
                let _ = reply.send(());
            }
        })?;
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

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(run)
        .map_err(|e| StoreError(format!("cannot start the {name} thread: {e}")))
}

/// The WAL file of the database at `path`, to sync, after its directory entry is synced.
fn wal_file(path: &Path) -> std::io::Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    let wal = File::open(PathBuf::from(name))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()?;
    wal.sync_data()?;
    Ok(wal)
}

fn closed() -> StoreError {
    StoreError("the store is closed".to_owned())
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

    fn done(&self, after: i64, last: i64) -> StoreFuture<'_, ()> {
        let sent = self.ops.send(Op::Done(after, last)).map_err(|_| closed());
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
                // Every thread ended after a close: not broken, so never resolves.
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

/// A committed group, for the syncer: answered once the WAL is synced.
struct Committed {
    answers: Vec<Answer>,
    inserted: bool,
}

/// The writer thread's state.
struct Writer {
    connection: Connection,
    syncer: Option<channel::Sender<Committed>>,
}

impl Writer {
    /// Groups, commits, hands over, until a close (then returns the connection and the close's
    /// reply), the end of every sender, or a broken store.
    fn run(
        mut self,
        mut ops: mpsc::UnboundedReceiver<Op>,
        broken: &Broken,
    ) -> Option<(Connection, oneshot::Sender<()>)> {
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
            let (committed, close) = self.write_group(&mut group);
            match committed {
                Ok(()) => failed_commits = 0,
                Err(error) => {
                    failed_commits += 1;
                    tracing::error!(error = %error, failures = failed_commits, "a commit failed");
                    if failed_commits >= MAX_FAILED_COMMITS {
                        broken.mark(format!(
                            "{failed_commits} commits failed in a row, the last with: {error}"
                        ));
                        return None;
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
                    let _ = self.write_group(&mut group);
                }
                self.syncer = None;
                return Some((self.connection, reply));
            }
        }
        None
    }

    /// Writes every write of `group` in one transaction and commits; hands the answers to the
    /// syncer (or, when the commit failed, answers the error at once), and answers the reads.
    /// Returns the commit's outcome, and the reply of a close if the group held one. The group is
    /// left empty.
    fn write_group(&mut self, group: &mut Vec<Op>) -> (Result<(), StoreError>, Option<oneshot::Sender<()>>) {
        let mut answers = Vec::with_capacity(group.len());
        let mut reads = Vec::new();
        let mut inserted = false;
        let mut close = None;
        let sql_error = |e: rusqlite::Error| StoreError(e.to_string());
        let transaction = match self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        {
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
                    Op::Done(..) => {}
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
                    let result = dead_letter(transaction, &letter).map_err(sql_error);
                    answers.push(Answer::DeadLetter(reply, result));
                }
                Op::Done(after, last) => {
                    let result = transaction
                        .prepare_cached(
                            "UPDATE webhooks SET state = 'done', done_at = ?3 \
                             WHERE id > ?1 AND id <= ?2 AND state = 'pending'",
                        )
                        .and_then(|mut statement| statement.execute(params![after, last, now]));
                    if let Err(error) = result {
                        tracing::warn!(after, last, error = %error, "cannot mark webhooks done");
                    }
                }
                Op::Failed(id, error, max_attempts, reply) => {
                    let result = failed(transaction, id, &error, max_attempts).map_err(sql_error);
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
        match &committed {
            Ok(()) => {
                let job = Committed { answers, inserted };
                let refused = match &self.syncer {
                    Some(syncer) => syncer.send(job).err().map(|channel::SendError(job)| job),
                    None => Some(job),
                };
                // The syncer is gone (it panicked): nothing can be made durable.
                if let Some(job) = refused {
                    job.answers
                        .into_iter()
                        .for_each(|answer| answer.send(Some(&closed())));
                }
            }
            Err(error) => answers.into_iter().for_each(|answer| answer.send(Some(error))),
        }
        for (after, rows, bytes, reply) in reads {
            let _ = reply.send(read_pending(&self.connection, after, rows, bytes).map_err(sql_error));
        }
        (committed, close)
    }
}

/// The syncer thread: one `fdatasync` of the WAL for every group committed since the last one,
/// then their answers. A failed sync breaks the store: after it, nothing written can be trusted
/// to be on disk.
fn sync_loop(wal: &File, jobs: &channel::Receiver<Committed>, new_work: &Notify, broken: &Broken) {
    let mut failed: Option<StoreError> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while let Ok(job) = jobs.try_recv() {
            batch.push(job);
        }
        if failed.is_none() {
            if let Err(error) = wal.sync_data() {
                let error = StoreError(format!("cannot sync the WAL: {error}"));
                broken.mark(error.to_string());
                failed = Some(error);
            }
        }
        let mut inserted = false;
        for job in batch {
            inserted |= job.inserted;
            for answer in job.answers {
                answer.send(failed.as_ref());
            }
        }
        if inserted && failed.is_none() {
            new_work.notify_one();
        }
    }
}

/// A write's answer, sent once its group is durable.
enum Answer {
    Accept(Reply<Accepted>, Result<Accepted, StoreError>),
    DeadLetter(Reply<i64>, Result<i64, StoreError>),
    Failed(Reply<Failed>, Result<Failed, StoreError>),
}

impl Answer {
    /// Sends the answer, or `error` instead when the group could not be made durable.
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

/// Inserts a webhook, or finds the row that has its key.
fn insert(connection: &Connection, webhook: &Incoming) -> rusqlite::Result<Accepted> {
    let id: Option<i64> = connection
        .prepare_cached(
            "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                &webhook.key[..],
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
            .query_row([&webhook.key[..]], |row| row.get(0))
            .map(Accepted::Duplicate),
    }
}

fn dead_letter(connection: &Connection, letter: &DeadLetter) -> rusqlite::Result<i64> {
    connection
        .prepare_cached(
            "INSERT INTO dead_letters (received_at, status, error, size, body) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![
                letter.received_at,
                letter.status,
                letter.error,
                i64::try_from(letter.size).unwrap_or(i64::MAX),
                letter.body
            ],
            |row| row.get(0),
        )
}

fn failed(connection: &Connection, id: i64, error: &str, max_attempts: u32) -> rusqlite::Result<Failed> {
    let row = connection
        .prepare_cached(
            "UPDATE webhooks SET attempts = attempts + 1, last_error = ?2, \
             state = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE state END \
             WHERE id = ?1 AND state = 'pending' RETURNING state, attempts",
        )?
        .query_row(params![id, error, max_attempts], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })
        .optional()?;
    Ok(match row {
        Some((state, attempts)) if state == "failed" => Failed::SetAside { attempts },
        Some((_, attempts)) => Failed::Retry { attempts },
        None => Failed::Retry { attempts: 0 },
    })
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
