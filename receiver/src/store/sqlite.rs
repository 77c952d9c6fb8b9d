//! [`SqliteStore`]: the store in one SQLite file (SQLite is built into the binary).
//!
//! Four threads share the work, so that the one every request waits for never waits for the
//! disk:
//!
//! - The **writer** owns the connection that writes. It takes the first request waiting, then
//!   every other one waiting (up to [`MAX_GROUP`]), writes them all in one transaction and
//!   commits once: the busier the receiver, the larger the groups. It commits without `fsync`
//!   (`synchronous = NORMAL`), hands the group's answers to a syncer, and keeps the webhooks it
//!   just stored for the application (`Fresh`), which so need not read them back.
//! - Two **syncers** call `fdatasync` on the WAL file, each once for every group committed since
//!   it last looked, and only then answer: a 200 goes out once its row is on disk, as with
//!   `synchronous = FULL`, but the writer commits the next groups meanwhile, and a group
//!   committed during one sync is synced by the other syncer at once.
//! - The **checkpointer**, on a connection of its own, copies the WAL into the database file
//!   (`PRAGMA wal_checkpoint(PASSIVE)`, which syncs both files) as the WAL grows. It never stops
//!   the writer; but the WAL can only start again from its beginning once it is copied whole,
//!   which under a steady load never happens by itself. So once the WAL holds
//!   [`Settings::wal_limit`] bytes, the writer, between two passes of the checkpointer, copies the few pages written
//!   since the last one (a stop of a few milliseconds, instead of copying everything in line).
//!
//! A committed row survives a crash of the process and, once answered, a power cut. Once the WAL
//! is copied whole and starts again, it is cut back to [`Settings::wal_limit`]
//! (`journal_size_limit`); the writer restarts it when it holds that much. (A long read by another
//! connection, such as an operator's `sqlite3`, keeps the WAL from starting again while it lasts:
//! the WAL grows meanwhile, and is brought back to the limit once the checkpointer has caught up.)
//!
//! The application's claims are kept in memory (`Claims`): one receiver process works on a
//! file, and a second one is refused, whatever name it reaches the file by: the database file
//! itself is locked (`flock`, which SQLite's own locks ignore), not a file named after it.
//!
//! The file holds two tables (and `PRAGMA user_version` = 2; [`MIGRATIONS`] bring an older file
//! there):
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
//!     body BLOB NOT NULL,                    -- the body, or its first 64 KiB when over the limit
//!     replayed_at TEXT,                      -- when `dead-letters replay` moved it to webhooks
//!     webhook_id INTEGER                     -- as this webhook
//! );
//! ```

use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::mpsc as channel;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::{
    Accepted, Admin, DeadLetter, Failed, Incoming, Letter, Settings, Stats, Store, StoreError, StoreFuture,
    Webhook,
};

/// The most requests written in one transaction.
pub const MAX_GROUP: usize = 1024;

/// Bytes of bodies the writer keeps for the application, which so need not read them back.
pub const FRESH_BYTES: usize = 4 * 1024 * 1024;

/// The page size SQLite uses for a new file.
const PAGE_SIZE: usize = 4096;

/// Syncer threads: while one syncs, the next groups are synced by another.
const SYNCERS: usize = 2;

/// How long the checkpointer rests when it has copied the whole WAL: longer, and the pages written
/// at every commit (the table's last pages) are copied fewer times; shorter, and the writer has
/// less to copy in line when it restarts the WAL.
const CHECKPOINT_REST: Duration = Duration::from_millis(25);

/// Commits that may fail in a row (a full disk, an I/O error) before the store gives up.
const MAX_FAILED_COMMITS: u32 = 3;

/// How long a write waits for a lock held by another process (an operator's `sqlite3`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an administration command waits for the receiver's writes.
const ADMIN_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often, at most, the claims look again at webhooks before their cursor (given back by
/// `requeue`, or released).
const RESCAN_EVERY: Duration = Duration::from_secs(1);

/// The schema version this receiver writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The migrations, each from the version before it: `(version, SQL)`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE webhooks (
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
        CREATE INDEX webhooks_pending ON webhooks (id) WHERE state = 'pending';
        CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            status INTEGER NOT NULL,
            error TEXT NOT NULL,
            size INTEGER NOT NULL,
            body BLOB NOT NULL
        );",
    ),
    (
        2,
        "ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT;
        ALTER TABLE dead_letters ADD COLUMN webhook_id INTEGER;
        CREATE INDEX webhooks_done ON webhooks (done_at) WHERE state = 'done';
        CREATE INDEX webhooks_failed ON webhooks (id) WHERE state = 'failed';",
    ),
];

/// Brings the file to [`SCHEMA_VERSION`] in one transaction; returns the version it was at.
fn migrate(connection: &mut Connection) -> rusqlite::Result<i64> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        transaction.execute_batch(sql)?;
        transaction.execute_batch(&format!("PRAGMA user_version = {to}"))?;
    }
    transaction.commit()?;
    Ok(version)
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Which webhooks a claim reads from the file.
#[derive(Clone, Copy, Debug)]
enum Read {
    /// Pending ones after the cursor.
    After(i64),
    /// Pending ones up to the cursor (given back since).
    UpTo(i64),
}

/// A request to the writer thread.
enum Op {
    Accept(Incoming, Reply<Accepted>),
    DeadLetter(DeadLetter, Reply<i64>),
    Done(Vec<i64>),
    Failed(i64, String, u32, Reply<Failed>),
    Purge(String, usize, Reply<u64>),
    Read(Read, usize, usize, Reply<Vec<Webhook>>),
    /// A write probe: answered once a write transaction could begin and commit.
    Probe(Reply<()>),
    Close(oneshot::Sender<()>),
}

impl Op {
    /// A write whose requester no longer waits (it was answered 503): not written, and its
    /// body (with its room in the memory budget) let go.
    fn abandoned(&self) -> bool {
        match self {
            Op::Accept(_, reply) => reply.is_closed(),
            Op::DeadLetter(_, reply) => reply.is_closed(),
            _ => false,
        }
    }
}

/// The store in one SQLite file. See the [module](self).
pub struct SqliteStore {
    ops: mpsc::UnboundedSender<Op>,
    new_work: Arc<Notify>,
    fresh: Arc<Mutex<Fresh>>,
    claims: Arc<Mutex<Claims>>,
    broken: watch::Receiver<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
    /// The database file, locked while the store is open: one receiver per file. Also held by the
    /// writer thread, which closes the last connections.
    _lock: Arc<File>,
}

/// The application's claims: every pending webhook up to `cursor` was given to it since the
/// start, and those in `held` are being handled (or their done mark is not written yet).
#[derive(Debug, Default)]
struct Claims {
    cursor: i64,
    held: BTreeSet<i64>,
    last_rescan: Option<Instant>,
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

fn fail(path: &Path, what: &str, error: &dyn std::fmt::Display) -> StoreError {
    StoreError(format!("{}: {what}: {error}", path.display()))
}

/// Opens a connection to `path` that waits `busy` for the others' locks.
fn connect(path: &Path, flags: OpenFlags, busy: Duration) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(path, flags).map_err(|e| fail(path, "cannot open", &e))?;
    connection
        .busy_timeout(busy)
        .map_err(|e| fail(path, "busy_timeout", &e))?;
    Ok(connection)
}

/// Refuses a file whose schema is newer than this receiver's.
fn check_version(connection: &Connection, path: &Path) -> Result<i64, StoreError> {
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| fail(path, "user_version", &e))?;
    if version > SCHEMA_VERSION {
        return Err(fail(
            path,
            "schema",
            &format!("version {version} is newer than this receiver's ({SCHEMA_VERSION})"),
        ));
    }
    Ok(version)
}

/// Opens the database file itself (creating it, as SQLite would) and locks it: one receiver per
/// file, by its identity rather than its name. A second receiver is so refused through a hard link
/// or a symbolic link as through the same path: SQLite keeps a write-ahead log per name, and two
/// names written at once corrupt the file. Nothing is created when the file cannot be opened.
///
/// The lock is `flock(2)`, which on a local file system does not conflict with SQLite's own locks
/// (POSIX record locks): an operator's `sqlite3` and the administration commands work beside the
/// receiver. It ends with the process. The descriptor must stay open until every connection to
/// the file is closed: closing a descriptor of a file drops the POSIX locks the process holds on
/// it, SQLite's included.
fn lock(path: &Path) -> Result<Arc<File>, StoreError> {
    let mut options = File::options();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644); // as SQLite creates it
    let file = options.open(path).map_err(|e| fail(path, "cannot open", &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(fail(
                path,
                "in use",
                &"another receiver serves this file, by this name or another (a hard or symbolic link); \
                  one process per SQLite file (use PostgreSQL for more)",
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(fail(path, "cannot lock", &e)),
    }
    let names = links(&file);
    if names > 1 {
        tracing::warn!(
            store = %path.display(),
            names,
            "the database file has other names (hard links): SQLite keeps a write-ahead log per name; \
             use this one only (administration commands through another are refused while this receiver runs)"
        );
    }
    Ok(Arc::new(file))
}

/// How many names (hard links) the file has.
fn links(file: &File) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        file.metadata().map_or(1, |metadata| metadata.nlink())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        1
    }
}

/// Refuses, for an administration command, a file that a receiver serves (it holds [`lock`]) and
/// that has other names (hard links): the command may be going through a name the receiver does
/// not use, with a write-ahead log of its own, and would read stale rows and corrupt the file by
/// writing. Called before any connection to the file is opened (see [`lock`] on closing
/// descriptors).
fn refuse_other_names_beside_a_receiver(path: &Path) -> Result<(), StoreError> {
    let Ok(file) = File::open(path) else {
        return Ok(()); // opening the database says why
    };
    let names = links(&file);
    if names > 1 && matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)) {
        return Err(fail(
            path,
            "served under other names",
            &format!(
                "a receiver serves this file, and the file has {names} names (hard links): SQLite \
                 keeps a write-ahead log per name; remove the other names, or stop the receiver first"
            ),
        ));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and the tables if need be (or migrating
    /// them), and starts the writer, the syncers and the checkpointer.
    pub fn open(path: &Path, settings: &Settings) -> Result<SqliteStore, StoreError> {
        let lock = lock(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let mut connection = connect(path, flags, BUSY_TIMEOUT)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| fail(path, "journal_mode", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(path, "journal_mode", &format!("{mode}, not wal")));
        }
        check_version(&connection, path)?;
        migrate(&mut connection).map_err(|e| fail(path, "cannot create or migrate the tables", &e))?;
        // No fsync at commit and no checkpoint in line: the syncers and the checkpointer do them.
        // The WAL is cut back to the limit whenever it starts again.
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {};",
                settings.wal_limit
            ))
            .map_err(|e| fail(path, "pragmas", &e))?;
        let wal = wal_file(path).map_err(|e| fail(path, "cannot open the WAL file", &e))?;
        let checkpointer_connection = connect(path, flags, BUSY_TIMEOUT)?;
        let reader = connect(path, flags, BUSY_TIMEOUT)?;
        let checkpoints = Arc::new(Checkpoints {
            restart_pages: i64::try_from(settings.wal_limit / PAGE_SIZE)
                .unwrap_or(i64::MAX)
                .max(1),
            ..Checkpoints::default()
        });
        let claims = Arc::new(Mutex::new(Claims::default()));

        let (ops, receiver) = mpsc::unbounded_channel();
        let new_work = Arc::new(Notify::new());
        let (broken_sender, broken) = watch::channel(None);
        let broken_sender = Broken(Arc::new(broken_sender));

        let (to_syncer, jobs) = channel::channel();
        let (jobs, wal) = (Arc::new(Mutex::new(jobs)), Arc::new(wal));
        let failed = Arc::new(OnceLock::new());
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
        let (writer_fresh, writer_notify, writer_claims) =
            (Arc::clone(&fresh), Arc::clone(&new_work), Arc::clone(&claims));
        let writer_metrics = Arc::clone(&settings.metrics);
        let writer_lock = Arc::clone(&lock);
        let thread = spawn("store-writer", move || {
            // Released once the connections below are closed, not before.
            let _lock = writer_lock;
            let _guard = PanicGuard(guard.clone(), "writer");
            let writer = Writer {
                connection,
                syncer: Some(to_syncer),
                checkpoints,
                fresh: writer_fresh,
                claims: writer_claims,
                new_work: writer_notify,
                metrics: writer_metrics,
                unmarked: Vec::new(),
                locked: false,
            };
            let closed = writer.run(receiver, &guard);
            // The syncers answer what they hold; the checkpointer stops.
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
            claims,
            broken,
            thread: Mutex::new(Some(thread)),
            reader: Arc::new(Mutex::new(reader)),
            _lock: lock,
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

    fn claims(&self) -> std::sync::MutexGuard<'_, Claims> {
        self.claims
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes `rows` into the claims, past the cursor or not.
    fn hold(&self, rows: Vec<Webhook>) -> Vec<Webhook> {
        let mut claims = self.claims();
        let rows: Vec<Webhook> = rows
            .into_iter()
            .filter(|row| claims.held.insert(row.id))
            .collect();
        if let Some(last) = rows.iter().map(|row| row.id).max() {
            claims.cursor = claims.cursor.max(last);
        }
        rows
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

fn sql_error(error: rusqlite::Error) -> StoreError {
    StoreError(error.to_string())
}

/// Runs `read` on the reader connection, away from the runtime's threads.
fn blocking<T: Send + 'static>(
    connection: &Arc<Mutex<Connection>>,
    read: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
) -> StoreFuture<'static, T> {
    let connection = Arc::clone(connection);
    Box::pin(async move {
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            read(&mut connection).map_err(sql_error)
        })
        .await
        .map_err(|error| StoreError(format!("a read failed: {error}")))?
    })
}

impl Store for SqliteStore {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        self.send(|reply| Op::Accept(webhook, reply))
    }

    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64> {
        self.send(|reply| Op::DeadLetter(letter, reply))
    }

    fn claim(&self, max_rows: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Webhook>> {
        let (cursor, rescan) = {
            let mut claims = self.claims();
            let due = claims.last_rescan.is_none_or(|at| at.elapsed() >= RESCAN_EVERY);
            if due {
                claims.last_rescan = Some(Instant::now());
            }
            (claims.cursor, due)
        };
        let fresh = self
            .fresh
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(cursor, max_rows, max_bytes);
        if let Some(rows) = fresh {
            let rows = self.hold(rows);
            return Box::pin(async move { Ok(rows) });
        }
        let after = self.send(move |reply| Op::Read(Read::After(cursor), max_rows, max_bytes, reply));
        Box::pin(async move {
            let rows = self.hold(after.await?);
            if !rows.is_empty() || !rescan {
                return Ok(rows);
            }
            // Nothing new: webhooks given back since (by `requeue`), not held.
            let held = self.claims().held.len();
            let read = Read::UpTo(cursor);
            let again = self
                .send(move |reply| Op::Read(read, max_rows + held, max_bytes, reply))
                .await?;
            let mut rows = self.hold(again);
            rows.truncate(max_rows);
            Ok(rows)
        })
    }

    fn extend(&self, ids: Vec<i64>) -> StoreFuture<'_, Vec<i64>> {
        // One process claims: a claim lasts until it is done, failed or released.
        Box::pin(async move { Ok(ids) })
    }

    fn done(&self, ids: Vec<i64>) -> StoreFuture<'_, ()> {
        let sent = self.ops.send(Op::Done(ids)).map_err(|_| closed());
        Box::pin(async move { sent })
    }

    fn failed(&self, id: i64, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        let failed = self.send(move |reply| Op::Failed(id, error, max_attempts, reply));
        Box::pin(async move {
            let outcome = failed.await?;
            if matches!(outcome, Failed::SetAside { .. }) {
                self.claims().held.remove(&id);
            }
            Ok(outcome)
        })
    }

    fn release(&self, ids: Vec<i64>) -> StoreFuture<'_, ()> {
        let mut claims = self.claims();
        for id in ids {
            claims.held.remove(&id);
        }
        claims.last_rescan = None;
        Box::pin(async { Ok(()) })
    }

    fn purge(&self, age: Duration, max_rows: usize) -> StoreFuture<'_, u64> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
        let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.send(move |reply| Op::Purge(cutoff, max_rows, reply))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        blocking(&self.reader, |connection| stats(connection, false))
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        if let Some(reason) = self.broken.borrow().clone() {
            return Box::pin(async move { Err(StoreError(reason)) });
        }
        // A real write: the writer begins a write transaction and commits it, with the writes
        // of the same moment (it waits behind them, as a request would).
        self.send(Op::Probe)
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
    rows: VecDeque<Webhook>,
    bytes: usize,
}

impl Fresh {
    /// Up to `max_rows` webhooks (and `max_bytes` of bodies, but one at least) that follow `after`
    /// without a gap, or `None` when the next one is not here.
    fn take(&mut self, after: i64, max_rows: usize, max_bytes: usize) -> Option<Vec<Webhook>> {
        while self.rows.front().is_some_and(|row| row.id <= after) {
            self.pop();
        }
        if self.rows.front()?.id != after + 1 {
            return None;
        }
        let mut taken: Vec<Webhook> = Vec::new();
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

    fn pop(&mut self) -> Webhook {
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
    claims: Arc<Mutex<Claims>>,
    new_work: Arc<Notify>,
    metrics: Arc<crate::metrics::Metrics>,
    /// Done marks of groups that failed, written with the next group.
    unmarked: Vec<i64>,
    /// Whether the last group failed because another connection held the lock.
    locked: bool,
}

/// What the writer and the checkpointer share: whose turn it is to checkpoint, how many pages the
/// WAL held at the checkpointer's last pass, and whether checkpoints work.
#[derive(Default)]
struct Checkpoints {
    turn: Mutex<()>,
    wal_pages: AtomicI64,
    restart_pages: i64,
    health: Mutex<super::Health>,
}

impl Checkpoints {
    fn report(&self, outcome: &rusqlite::Result<(i64, i64)>) {
        self.health
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .report("checkpoint", outcome);
    }
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
                if !group.is_empty() || !self.unmarked.is_empty() {
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
    fn keep_fresh(&self, rows: Vec<Webhook>) {
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

    /// When the WAL has grown to the limit and the checkpointer is between two passes: copies
    /// what was written since its last pass, so that the next transaction starts the WAL from its
    /// beginning (and cuts it back to the limit).
    fn restart_wal_if_long(&self) {
        if self.checkpoints.wal_pages.load(Relaxed) < self.checkpoints.restart_pages {
            return;
        }
        // Between two passes of the checkpointer only: then little is left to copy. During a
        // pass, the writer goes on and tries again after its next group.
        let Ok(_turn) = self.checkpoints.turn.try_lock() else {
            return;
        };
        let outcome = checkpoint(&self.connection);
        self.checkpoints.report(&outcome);
        // Whole: the WAL starts again with the next transaction. Not whole (a reader holds it):
        // the checkpointer goes on copying, and says again how long the WAL is.
        if let Ok((pages, copied)) = outcome {
            if copied >= pages {
                self.checkpoints.wal_pages.store(0, Relaxed);
            }
        }
    }

    /// Writes every write of `group` in one transaction and commits; hands the answers to the
    /// syncer (or, when the commit failed, answers the error at once), and answers the reads.
    /// Returns the commit's outcome, and the reply of a close if the group held one. The group is
    /// left empty.
    fn write_group(&mut self, group: &mut Vec<Op>) -> (Result<(), StoreError>, Option<oneshot::Sender<()>>) {
        self.locked = false;
        let started = Instant::now();
        let size = group.len();
        let mut answers = Vec::with_capacity(group.len());
        let mut reads = Vec::new();
        let mut fresh = Vec::new();
        let mut close = None;
        let mut marks = std::mem::take(&mut self.unmarked);
        group.retain(|op| !op.abandoned());
        for op in group.iter() {
            if let Op::Done(ids) = op {
                marks.extend_from_slice(ids);
            }
        }
        let writes = !marks.is_empty()
            || group
                .iter()
                .any(|op| !matches!(op, Op::Read(..) | Op::Close(_) | Op::Done(_)));
        let mut begin_error = None;
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
                    Op::Purge(_, _, reply) => answers.push(Answer::Purge(reply, Err(closed()))),
                    Op::Probe(reply) => answers.push(Answer::Probe(reply, Err(closed()))),
                    Op::Read(read, rows, bytes, reply) => reads.push((read, rows, bytes, reply)),
                    Op::Done(_) => {}
                    Op::Close(reply) => close = Some(reply),
                }
                continue;
            };
            match op {
                Op::Accept(webhook, reply) => {
                    let result = insert(transaction, &webhook).map_err(sql_error);
                    if let Ok(Accepted::New(id)) = result {
                        fresh.push(Webhook {
                            id,
                            received_at: webhook.received_at,
                            kinds: webhook.kinds,
                            app_id: webhook.app_id,
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
                Op::Failed(id, error, max_attempts, reply) => {
                    let result = failed(transaction, id, &error, max_attempts).map_err(sql_error);
                    answers.push(Answer::Failed(reply, result));
                }
                Op::Purge(cutoff, rows, reply) => {
                    let result = purge(transaction, &cutoff, rows).map_err(sql_error);
                    answers.push(Answer::Purge(reply, result));
                }
                Op::Probe(reply) => answers.push(Answer::Probe(reply, Ok(()))),
                Op::Read(read, rows, bytes, reply) => reads.push((read, rows, bytes, reply)),
                Op::Done(_) => {}
                Op::Close(reply) => close = Some(reply),
            }
        }
        let marked = match &transaction {
            Some(transaction) => mark_done(transaction, &marks, &now),
            None => Ok(()),
        };
        if let Err(error) = &marked {
            tracing::warn!(error = %error, "cannot mark webhooks done; retrying with the next group");
        }
        let committed = match transaction.map(rusqlite::Transaction::commit) {
            Some(committed) => committed.map_err(|error| {
                self.locked = is_locked(&error);
                sql_error(error)
            }),
            None if writes => Err(begin_error.unwrap_or_else(closed)),
            None => Ok(()),
        };
        if writes && committed.is_ok() {
            self.metrics
                .commit_seconds
                .record(started.elapsed().as_secs_f64());
            self.metrics.group_size.record(size as f64);
        }
        if committed.is_ok() && marked.is_ok() {
            // Written: these webhooks are no longer held by the application.
            let mut claims = self
                .claims
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for id in &marks {
                claims.held.remove(id);
            }
        } else {
            // Kept for the next group: a done mark is never dropped (the webhook would stay
            // pending until a restart, and be handled again).
            self.unmarked = marks;
        }
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
        for (read, rows, bytes, reply) in reads {
            let _ = reply.send(read_pending(&self.connection, read, rows, bytes).map_err(sql_error));
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
    failed: &OnceLock<StoreError>,
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
        shared.report(&pass);
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
            Err(_) => CHECKPOINT_REST,
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
    Purge(Reply<u64>, Result<u64, StoreError>),
    Probe(Reply<()>, Result<(), StoreError>),
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
            Answer::Purge(reply, result) => drop(reply.send(or(result, error))),
            Answer::Probe(reply, result) => drop(reply.send(or(result, error))),
        }
    }
}

/// Whether an error is SQLite's "database is locked" (another connection writes).
fn is_locked(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}

/// Inserts a webhook, or finds the row that has its key. (No `RETURNING`: SQLite builds a
/// temporary table for it at each statement; the row count and the last rowid say the same.)
fn insert(connection: &Connection, webhook: &Incoming) -> rusqlite::Result<Accepted> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (idempotency_key) DO NOTHING",
        )?
        .execute(params![
            &webhook.key[..],
            webhook.received_at,
            super::text_column(&webhook.kinds),
            webhook.app_id.as_deref().map(super::text_column),
            webhook.body
        ])?;
    if inserted == 1 {
        return Ok(Accepted::New(connection.last_insert_rowid()));
    }
    connection
        .prepare_cached("SELECT id FROM webhooks WHERE idempotency_key = ?1")?
        .query_row([&webhook.key[..]], |row| row.get(0))
        .map(Accepted::Duplicate)
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
                super::text_column(&letter.error),
                i64::try_from(letter.size).unwrap_or(i64::MAX),
                letter.body
            ],
            |row| row.get(0),
        )
}

/// Marks done the pending webhooks among `ids`, one statement per run of consecutive ids.
fn mark_done(connection: &Connection, ids: &[i64], now: &str) -> rusqlite::Result<()> {
    let mut statement = connection.prepare_cached(
        "UPDATE webhooks SET state = 'done', done_at = ?3 WHERE id >= ?1 AND id <= ?2 AND state = 'pending'",
    )?;
    for (first, last) in super::runs(ids.to_vec()) {
        statement.execute(params![first, last, now])?;
    }
    Ok(())
}

fn failed(connection: &Connection, id: i64, error: &str, max_attempts: u32) -> rusqlite::Result<Failed> {
    let row = connection
        .prepare_cached(
            "UPDATE webhooks SET attempts = attempts + 1, last_error = ?2, \
             state = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE state END \
             WHERE id = ?1 AND state = 'pending' RETURNING state, attempts",
        )?
        .query_row(params![id, super::text_column(error), max_attempts], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })
        .optional()?;
    Ok(match row {
        Some((state, attempts)) if state == "failed" => Failed::SetAside { attempts },
        Some((_, attempts)) => Failed::Retry { attempts },
        None => Failed::Retry { attempts: 0 },
    })
}

/// Deletes at most `max_rows` webhooks done before `cutoff`, the oldest first.
fn purge(connection: &Connection, cutoff: &str, max_rows: usize) -> rusqlite::Result<u64> {
    let deleted = connection
        .prepare_cached(
            "DELETE FROM webhooks WHERE id IN (SELECT id FROM webhooks \
             WHERE state = 'done' AND done_at < ?1 ORDER BY done_at LIMIT ?2)",
        )?
        .execute(params![cutoff, i64::try_from(max_rows).unwrap_or(i64::MAX)])?;
    Ok(deleted as u64)
}

fn read_pending(
    connection: &Connection,
    read: Read,
    max_rows: usize,
    max_bytes: usize,
) -> rusqlite::Result<Vec<Webhook>> {
    let (sql, cursor) = match read {
        Read::After(cursor) => (
            "SELECT id, received_at, kinds, app_id, attempts, body FROM webhooks \
             WHERE state = 'pending' AND id > ?1 ORDER BY id LIMIT ?2",
            cursor,
        ),
        Read::UpTo(cursor) => (
            "SELECT id, received_at, kinds, app_id, attempts, body FROM webhooks \
             WHERE state = 'pending' AND id <= ?1 ORDER BY id LIMIT ?2",
            cursor,
        ),
    };
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params![cursor, i64::try_from(max_rows).unwrap_or(i64::MAX)])?;
    let mut pending = Vec::new();
    let mut bytes = 0;
    // Rows are read one at a time: past `max_bytes`, the rest are not read at all.
    while bytes < max_bytes {
        let Some(row) = rows.next()? else { break };
        let body: Vec<u8> = row.get(5)?;
        bytes += body.len();
        pending.push(Webhook {
            id: row.get(0)?,
            received_at: row.get(1)?,
            kinds: row.get(2)?,
            app_id: row.get(3)?,
            attempts: row.get(4)?,
            body,
        });
    }
    Ok(pending)
}

/// What the file holds; the count of done webhooks only when `with_done` (it reads an index as
/// long as the retention).
fn stats(connection: &mut Connection, with_done: bool) -> rusqlite::Result<Stats> {
    // One read transaction: the counts agree with each other.
    let transaction = connection.transaction()?;
    let count = |sql: &str| {
        transaction
            .query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    let stats = Stats {
        pending: count("SELECT count(*) FROM webhooks WHERE state = 'pending'")?,
        done: if with_done {
            count("SELECT count(*) FROM webhooks WHERE state = 'done'")?
        } else {
            0
        },
        failed: count("SELECT count(*) FROM webhooks WHERE state = 'failed'")?,
        oldest_pending: transaction
            .query_row(
                "SELECT received_at FROM webhooks WHERE state = 'pending' ORDER BY id LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?,
        dead_letters: count("SELECT count(*) FROM dead_letters")?,
        dead_letters_waiting: count("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")?,
    };
    transaction.finish()?;
    Ok(stats)
}

/// The administration commands on a SQLite file: short transactions on a connection of their own,
/// beside the receiver that serves the file.
pub struct SqliteAdmin {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteAdmin {
    /// Opens the file at `path`; `create` makes it if it does not exist (for `migrate`).
    pub fn open(path: &Path, create: bool) -> Result<SqliteAdmin, StoreError> {
        refuse_other_names_beside_a_receiver(path)?;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.exists() {
            return Err(fail(
                path,
                "no such file",
                &"`smooch-receiver serve` (or `migrate`) creates it",
            ));
        }
        let connection = connect(path, flags, ADMIN_BUSY_TIMEOUT)?;
        let version = check_version(&connection, path)?;
        if !create && version < SCHEMA_VERSION {
            return Err(fail(
                path,
                "schema",
                &format!("version {version}: run `smooch-receiver migrate` first"),
            ));
        }
        Ok(SqliteAdmin {
            connection: Arc::new(Mutex::new(connection)),
        })
    }
}

fn letter(row: &rusqlite::Row<'_>) -> rusqlite::Result<Letter> {
    Ok(Letter {
        id: row.get(0)?,
        received_at: row.get(1)?,
        status: row.get(2)?,
        error: row.get(3)?,
        size: row.get::<_, i64>(4)?.try_into().unwrap_or(0),
        replayed_as: row.get(5)?,
        body: row.get(6)?,
    })
}

impl Admin for SqliteAdmin {
    fn stats(&self) -> StoreFuture<'_, Stats> {
        blocking(&self.connection, |connection| stats(connection, true))
    }

    fn dead_letters(&self, limit: usize) -> StoreFuture<'_, Vec<Letter>> {
        blocking(&self.connection, move |connection| {
            let mut statement = connection.prepare(
                "SELECT id, received_at, status, error, size, webhook_id, x'' FROM dead_letters \
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let letters = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], letter)?;
            letters.collect()
        })
    }

    fn dead_letter(&self, id: i64) -> StoreFuture<'_, Option<Letter>> {
        blocking(&self.connection, move |connection| {
            connection
                .query_row(
                    "SELECT id, received_at, status, error, size, webhook_id, body FROM dead_letters \
                     WHERE id = ?1",
                    [id],
                    letter,
                )
                .optional()
        })
    }

    fn replay(&self, id: i64, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        let connection = Arc::clone(&self.connection);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut connection = connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let transaction = connection
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(sql_error)?;
                let replayed: Option<Option<i64>> = transaction
                    .query_row("SELECT webhook_id FROM dead_letters WHERE id = ?1", [id], |row| {
                        row.get(0)
                    })
                    .optional()
                    .map_err(sql_error)?;
                match replayed {
                    None => return Err(StoreError(format!("no dead letter {id}"))),
                    Some(Some(webhook)) => {
                        return Err(StoreError(format!(
                            "dead letter {id} was replayed before, as webhook {webhook}"
                        )))
                    }
                    Some(None) => {}
                }
                let accepted = insert(&transaction, &webhook).map_err(sql_error)?;
                transaction
                    .execute(
                        "UPDATE dead_letters SET replayed_at = ?2, webhook_id = ?3 WHERE id = ?1",
                        params![id, super::now(), accepted.id()],
                    )
                    .map_err(sql_error)?;
                transaction.commit().map_err(sql_error)?;
                Ok(accepted)
            })
            .await
            .map_err(|error| StoreError(format!("the replay failed: {error}")))?
        })
    }

    fn requeue(&self) -> StoreFuture<'_, u64> {
        blocking(&self.connection, |connection| {
            connection
                .execute(
                    "UPDATE webhooks SET state = 'pending', attempts = 0 WHERE state = 'failed'",
                    [],
                )
                .map(|n| n as u64)
        })
    }

    fn migrate(&self) -> StoreFuture<'_, i64> {
        blocking(&self.connection, |connection| {
            connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0))?;
            migrate(connection)?;
            Ok(SCHEMA_VERSION)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, bytes: usize) -> Webhook {
        Webhook {
            id,
            received_at: String::new(),
            kinds: String::new(),
            app_id: None,
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

    fn ids(rows: Option<Vec<Webhook>>) -> Option<Vec<i64>> {
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

    #[test]
    fn an_old_file_is_migrated_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        let mut connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(&format!("{}; PRAGMA user_version = 1;", MIGRATIONS[0].1))
            .unwrap();
        connection
            .execute(
                "INSERT INTO dead_letters (received_at, status, error, size, body) VALUES ('t', 400, 'e', 1, x'7b')",
                [],
            )
            .unwrap();
        assert_eq!(migrate(&mut connection).unwrap(), 1);
        assert_eq!(migrate(&mut connection).unwrap(), SCHEMA_VERSION, "once");
        let replayed: Option<i64> = connection
            .query_row("SELECT webhook_id FROM dead_letters", [], |row| row.get(0))
            .unwrap();
        assert_eq!(replayed, None);
        connection.execute_batch("PRAGMA user_version = 3").unwrap();
        drop(connection);
        let settings = Settings {
            lease: Duration::from_secs(60),
            wal_limit: 1 << 20,
            timeout: Duration::from_secs(4),
            metrics: crate::metrics::Metrics::new(),
        };
        let error = SqliteStore::open(&path, &settings).err().unwrap();
        assert!(error.0.contains("newer than this receiver's"), "{error}");
    }
}
