//! [`SqliteStore`]: the store in one SQLite file (SQLite is built into the binary).
//!
//! Four threads share the work, so that the one every request waits for never waits for the
//! disk:
//!
//! - The **writer** owns the connection that writes. It takes the first request waiting, then
//!   every other one waiting (up to [`MAX_GROUP`]), writes them all in one transaction and
//!   commits once: the busier the receiver, the larger the groups. It commits without `fsync`
//!   (`synchronous = NORMAL`), hands the group's answers to a syncer, and keeps the webhooks it
//!   just stored for the application ([`Fresh`]), which so need not read them back.
//! - Two **syncers** call `fdatasync` on the WAL file, each once for every group committed since
//!   it last looked, and only then answer: a 200 goes out once its row is on disk, as with
//!   `synchronous = FULL`, but the writer commits the next groups meanwhile, and a group
//!   committed during one sync is synced by the other syncer at once.
//! - The **checkpointer**, on a connection of its own, copies the WAL into the database file
//!   (`PRAGMA wal_checkpoint(PASSIVE)`, which syncs both files) as the WAL grows. It never stops
//!   the writer; but the WAL can only start again from its beginning once it is copied whole,
//!   which under a steady load never happens by itself. So once the WAL holds [`RESTART_PAGES`]
//!   pages, the writer, between two passes of the checkpointer, copies the few pages written
//!   since the last one (a stop of a few milliseconds, instead of copying everything in line).
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
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::mpsc as channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::{Accepted, DeadLetter, Failed, Incoming, Pending, Store, StoreError, StoreFuture};

/// The most requests written in one transaction.
pub(crate) const MAX_GROUP: usize = 1024;

/// WAL pages (4 KiB each) after which the writer makes the WAL start again from its beginning.
pub(crate) const RESTART_PAGES: i64 = 16384;

/// Bytes of bodies the writer keeps for the application (see [`Fresh`]).
pub(crate) const FRESH_BYTES: usize = 4 * 1024 * 1024;

/// Syncer threads: while one syncs, the next groups are synced by another.
const SYNCERS: usize = 2;

/// How long the checkpointer rests when it has copied the whole WAL.
const CHECKPOINT_REST: Duration = Duration::from_millis(5);

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
    fresh: Arc<Mutex<Fresh>>,
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
    /// writer, the syncer and the checkpointer.
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
        // No fsync at commit and no checkpoint in line: the syncer and the checkpointer do them.
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; {SCHEMA}"
            ))
            .map_err(|e| fail("cannot create the tables", &e))?;
        let wal = wal_file(path).map_err(|e| fail("cannot open the WAL file", &e))?;
        let checkpointer_connection = Connection::open(path).map_err(|e| fail("cannot open", &e))?;
        let checkpoints = Arc::new(Checkpoints::default());

        let (ops, receiver) = mpsc::unbounded_channel();
        let new_work = Arc::new(Notify::new());
        let (broken_sender, broken) = watch::channel(None);
        let broken_sender = Broken(Arc::new(broken_sender));

        let (to_syncer, jobs) = channel::channel();
        let (jobs, wal) = (Arc::new(Mutex::new(jobs)), Arc::new(wal));
        let failed = Arc::new(std::sync::OnceLock::new());
        let mut syncers = Vec::new();
        for _ in 0..SYNCERS {
            let guard = broken_sender.clone();
            let (jobs, wal, failed) = (Arc::clone(&jobs), Arc::clone(&wal), Arc::clone(&failed));
            syncers.push(spawn("store-sync", move || {
                let _guard = PanicGuard(guard.clone(), "syncer");
                sync_loop(&wal, &jobs, &failed, &guard);
            })?);
        }
        let (stop_checkpoints, stopped) = channel::channel::<()>();
        let (guard, shared) = (broken_sender.clone(), Arc::clone(&checkpoints));
        let checkpointer = spawn("store-checkpoint", move || {
            let _guard = PanicGuard(guard, "checkpointer");
            checkpoint_loop(&checkpointer_connection, &shared, &stopped);
        })?;
        let guard = broken_sender.clone();
        let fresh = Arc::new(Mutex::new(Fresh::default()));
        let (writer_fresh, writer_notify) = (Arc::clone(&fresh), Arc::clone(&new_work));
        let thread = spawn("store-writer", move || {
            let _guard = PanicGuard(guard.clone(), "writer");
            let writer = Writer {
                connection,
                syncer: Some(to_syncer),
                checkpoints,
                fresh: writer_fresh,
                new_work: writer_notify,
                locked: false,
            };
            let closed = writer.run(receiver, &guard);
            // The syncer answers what it holds; the checkpointer stops.
            for syncer in syncers {
                let _ = syncer.join();
            }
            drop(stop_checkpoints);
            let _ = checkpointer.join();
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
            fresh,
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
        let fresh = self
            .fresh
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(after, max_rows, max_bytes);
        match fresh {
            Some(rows) => Box::pin(async move { Ok(rows) }),
            None => self.send(|reply| Op::Pending(after, max_rows, max_bytes, reply)),
        }
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
}

/// The webhooks the writer committed last, kept for the application so that it need not read
/// them back: at most [`FRESH_BYTES`] of bodies, in id order. The application takes them from here
/// when the first one is the next it needs, and reads the store otherwise (after a restart, or
/// when it fell behind and the writer stopped keeping them).
#[derive(Default)]
struct Fresh {
    rows: std::collections::VecDeque<Pending>,
    bytes: usize,
}

impl Fresh {
    /// Up to `max_rows` webhooks (and `max_bytes` of bodies, but one at least) that follow `after`
    /// without a gap, or `None` when the next one is not here.
    fn take(&mut self, after: i64, max_rows: usize, max_bytes: usize) -> Option<Vec<Pending>> {
        while self.rows.front().is_some_and(|row| row.id <= after) {
            self.pop();
        }
        if self.rows.front()?.id != after + 1 {
            return None;
        }
        let mut taken: Vec<Pending> = Vec::new();
        let mut bytes = 0;
        while taken.len() < max_rows && bytes < max_bytes {
            let next = taken.last().map_or(after, |row| row.id) + 1;
            if self.rows.front().map(|row| row.id) != Some(next) {
                break;
            }
            let row = self.pop();
            bytes += row.body.len();
            taken.push(row);
        }
        Some(taken)
    }

    fn pop(&mut self) -> Pending {
        let row = self.rows.pop_front().expect("a row");
        self.bytes -= row.body.len();
        row
    }
}

/// The writer thread's state.
struct Writer {
    connection: Connection,
    syncer: Option<channel::Sender<Committed>>,
    checkpoints: Arc<Checkpoints>,
    fresh: Arc<Mutex<Fresh>>,
    new_work: Arc<Notify>,
    /// Whether the last group failed because another connection held the lock.
    locked: bool,
}

/// What the writer and the checkpointer share: whose turn it is to checkpoint, and how many pages
/// the WAL held at the checkpointer's last pass.
#[derive(Default)]
struct Checkpoints {
    turn: Mutex<()>,
    wal_pages: AtomicI64,
}

/// One `PRAGMA wal_checkpoint(PASSIVE)`: the pages in the WAL, and how many are copied.
fn checkpoint(connection: &Connection) -> rusqlite::Result<(i64, i64)> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
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
            self.restart_wal_if_long();
            match committed {
                Ok(()) => failed_commits = 0,
                // Another connection holds the lock (an operator's `sqlite3` in a transaction):
                // the requests got 503 and come again; the disk is fine.
                Err(error) if self.locked => {
                    tracing::warn!(error = %error, "the database is locked by another connection");
                }
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

    /// Keeps the webhooks just committed for the application, as far as [`FRESH_BYTES`] allows,
    /// and tells it. (It may handle them before they are synced: if the process dies before the
    /// sync, they were never answered 200 and come again. At least once.)
    fn keep_fresh(&self, rows: Vec<Pending>) {
        let mut fresh = self.fresh.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for row in rows {
            if fresh.bytes + row.body.len() > FRESH_BYTES {
                // The application is behind: it reads the rest from the store.
                break;
            }
            fresh.bytes += row.body.len();
            fresh.rows.push_back(row);
        }
        drop(fresh);
        self.new_work.notify_one();
    }

    /// When the WAL has grown past [`RESTART_PAGES`] and the checkpointer is between two passes:
    /// copies what was written since its last pass, so that the next transaction starts the WAL
    /// from its beginning.
    fn restart_wal_if_long(&self) {
        if self.checkpoints.wal_pages.load(Relaxed) < RESTART_PAGES {
            return;
        }
        // Between two passes of the checkpointer only: then little is left to copy. During a
        // pass, the writer goes on and tries again after its next group.
        let Ok(_turn) = self.checkpoints.turn.try_lock() else {
            return;
        };
        match checkpoint(&self.connection) {
            Ok(_) => self.checkpoints.wal_pages.store(0, Relaxed),
            Err(error) => tracing::warn!(error = %error, "a checkpoint failed"),
        }
    }

    /// Writes every write of `group` in one transaction and commits; hands the answers to the
    /// syncer (or, when the commit failed, answers the error at once), and answers the reads.
    /// Returns the commit's outcome, and the reply of a close if the group held one. The group is
    /// left empty.
    fn write_group(&mut self, group: &mut Vec<Op>) -> (Result<(), StoreError>, Option<oneshot::Sender<()>>) {
        self.locked = false;
        let mut answers = Vec::with_capacity(group.len());
        let mut reads = Vec::new();
        let mut fresh = Vec::new();
        let mut close = None;
        let sql_error = |e: rusqlite::Error| StoreError(e.to_string());
        let mut begin_error = None;
        let writes = group
            .iter()
            .any(|op| !matches!(op, Op::Pending(..) | Op::Close(_)));
        let transaction = if writes {
            match self
                .connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            {
                Ok(transaction) => Some(transaction),
                Err(error) => {
                    self.locked = is_locked(&error);
                    begin_error = Some(StoreError(format!("cannot begin a transaction: {error}")));
                    None
                }
            }
        } else {
            // Only reads: nothing to write.
            None
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
                    if let Ok(Accepted::New(id)) = result {
                        fresh.push(Pending {
                            id,
                            received_at: webhook.received_at,
                            kinds: webhook.kinds,
                            attempts: 0,
                            body: webhook.body,
                        });
                    }
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
            Some(committed) => committed.map_err(|error| {
                self.locked = is_locked(&error);
                sql_error(error)
            }),
            None if writes => Err(begin_error.unwrap_or_else(closed)),
            None => Ok(()),
        };
        if committed.is_ok() && !fresh.is_empty() {
            self.keep_fresh(fresh);
        }
        match &committed {
            // Nobody waits for these writes (done marks): a later sync or checkpoint makes them
            // durable.
            Ok(()) if answers.is_empty() => {}
            Ok(()) => {
                let job = Committed { answers };
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
fn sync_loop(
    wal: &File,
    jobs: &Mutex<channel::Receiver<Committed>>,
    failed: &std::sync::OnceLock<StoreError>,
    broken: &Broken,
) {
    loop {
        // Take every group waiting, then let the other syncer wait for the next ones: a group
        // committed while this one syncs is synced at once by the other, not after this sync.
        let batch = {
            let jobs = jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Ok(first) = jobs.recv() else { return };
            let mut batch = vec![first];
            while let Ok(job) = jobs.try_recv() {
                batch.push(job);
            }
            batch
        };
        if failed.get().is_none() {
            if let Err(error) = wal.sync_data() {
                let error = StoreError(format!("cannot sync the WAL: {error}"));
                broken.mark(error.to_string());
                let _ = failed.set(error);
            }
        }
        for job in batch {
            for answer in job.answers {
                answer.send(failed.get());
            }
        }
    }
}

/// The checkpointer thread: passes back to back while the WAL holds pages not yet copied, a rest
/// of [`CHECKPOINT_REST`] once it is all copied, until `stop` is dropped.
fn checkpoint_loop(connection: &Connection, shared: &Checkpoints, stop: &channel::Receiver<()>) {
    loop {
        let pass = {
            let _turn = shared
                .turn
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            checkpoint(connection)
        };
        let rest = match pass {
            Ok((pages, copied)) => {
                shared.wal_pages.store(pages, Relaxed);
                // A short pause all the same, for the writer to take its turn.
                if copied < pages {
                    Duration::from_millis(1)
                } else {
                    CHECKPOINT_REST
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "a checkpoint failed");
                CHECKPOINT_REST
            }
        };
        if !matches!(stop.recv_timeout(rest), Err(channel::RecvTimeoutError::Timeout)) {
            return;
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

/// Whether an error is SQLite's "database is locked" (another connection writes).
fn is_locked(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, bytes: usize) -> Pending {
        Pending {
            id,
            received_at: String::new(),
            kinds: String::new(),
            attempts: 0,
            body: vec![b'x'; bytes],
        }
    }

    fn fresh(ids: &[i64]) -> Fresh {
        let mut fresh = Fresh::default();
        for &id in ids {
            fresh.bytes += 10;
            fresh.rows.push_back(row(id, 10));
        }
        fresh
    }

    fn ids(rows: Option<Vec<Pending>>) -> Option<Vec<i64>> {
        rows.map(|rows| rows.iter().map(|row| row.id).collect())
    }

    #[test]
    fn fresh_webhooks_are_given_only_when_they_follow_without_a_gap() {
        assert_eq!(ids(Fresh::default().take(0, 64, 1 << 20)), None);

        let mut kept = fresh(&[5, 6, 7, 9]);
        // Row 4 is not here: the store must be read.
        assert_eq!(ids(kept.take(3, 64, 1 << 20)), None);
        // After 4: 5, 6, 7, and not 9 (8 is missing).
        assert_eq!(ids(kept.take(4, 64, 1 << 20)), Some(vec![5, 6, 7]));
        assert_eq!(kept.bytes, 10);
        assert_eq!(ids(kept.take(7, 64, 1 << 20)), None);
        // Read from the store up to 8: 9 follows.
        assert_eq!(ids(kept.take(8, 64, 1 << 20)), Some(vec![9]));
        assert_eq!((kept.rows.len(), kept.bytes), (0, 0));

        // Rows the application already read from the store are dropped.
        let mut kept = fresh(&[3, 4, 5, 6]);
        assert_eq!(ids(kept.take(4, 64, 1 << 20)), Some(vec![5, 6]));

        // At most `max_rows`, and no more once `max_bytes` is reached (one at least).
        let mut kept = fresh(&[1, 2, 3, 4, 5]);
        assert_eq!(ids(kept.take(0, 2, 1 << 20)), Some(vec![1, 2]));
        assert_eq!(ids(kept.take(2, 64, 15)), Some(vec![3, 4]));
        assert_eq!(ids(kept.take(4, 64, 1)), Some(vec![5]));
        assert_eq!(kept.bytes, 0);
    }
}
