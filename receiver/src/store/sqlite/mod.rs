//! [`SqliteStore`]: the store in one SQLite file (SQLite is built into the binary), for one
//! receiver process (a second one is refused: the file is locked).
//!
//! - [`writer`]: the threads that write (grouped commits, `fdatasync` before the answer, the
//!   checkpoints), so that the thread every request waits for never waits for the disk;
//! - [`lanes`]: the deliveries waiting, lane by lane, kept in memory;
//! - [`schema`]: the tables and their migrations (`PRAGMA user_version` = 3);
//! - [`admin`]: the administration commands, beside a running receiver.
//!
//! A committed row survives a crash of the process and, once answered, a power cut. Once the WAL
//! is copied whole and starts again, it is cut back to [`Settings::wal_limit`]
//! (`journal_size_limit`). (A long read by another connection, such as an operator's `sqlite3`,
//! keeps the WAL from starting again while it lasts: the WAL grows meanwhile, and is brought back
//! to the limit once the checkpointer has caught up.)
//!
//! Besides the tables of [`store`](crate::store), the file holds `receiver_state`, whose
//! `delivery_floor` row says that every delivery up to it is done or set aside: at start, the
//! deliveries after it without a done mark are read into their lanes.

mod admin;
mod lanes;
pub mod schema;
mod writer;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::mpsc as channel;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch, Notify};

pub use self::admin::SqliteAdmin;
use self::lanes::{Lanes, Waiting};
use self::schema::{check_version, migrate};
pub use self::schema::{MIGRATIONS, SCHEMA_VERSION};
pub use self::writer::MAX_GROUP;
use self::writer::{checkpoint_loop, sync_loop, Checkpoints, Op, Writer};
use super::{
    Accepted, DeadLetter, Failed, Incoming, Purged, Settings, Stats, Store, StoreError, StoreFuture, Stored,
    Taken,
};

/// Bytes of bodies kept in memory with the deliveries just stored, so that the delivery need not
/// read them back.
pub const FRESH_BYTES: usize = 4 * 1024 * 1024;

/// The page size SQLite uses for a new file.
const PAGE_SIZE: usize = 4096;

/// Syncer threads: while one syncs, the next groups are synced by another.
const SYNCERS: usize = 2;

/// How long a write waits for a lock held by another process (an operator's `sqlite3`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// How often, at most, the deliveries given back by `requeue` (or a replay) are looked for, and
/// the floor written.
const CHECK_EVERY: Duration = Duration::from_secs(1);

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// The store in one SQLite file. See the [module](self).
pub struct SqliteStore {
    ops: mpsc::UnboundedSender<Op>,
    new_work: Arc<Notify>,
    lanes: Arc<Mutex<Lanes>>,
    broken: watch::Receiver<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
    /// When the deliveries given back were last looked for, and the floor last written.
    checked: Mutex<(Option<Instant>, Option<Instant>)>,
    /// The database file, locked while the store is open: one receiver per file. Also held by the
    /// writer thread, which closes the last connections.
    _lock: Arc<File>,
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
    /// them), reads the deliveries waiting into their lanes, and starts the writer, the syncers
    /// and the checkpointer.
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
        let mut lanes = Lanes::default();
        load(&connection, &mut lanes).map_err(|e| fail(path, "cannot read the deliveries waiting", &e))?;
        let lanes = Arc::new(Mutex::new(lanes));
        let wal = wal_file(path).map_err(|e| fail(path, "cannot open the WAL file", &e))?;
        let checkpointer_connection = connect(path, flags, BUSY_TIMEOUT)?;
        let reader = connect(path, flags, BUSY_TIMEOUT)?;
        let checkpoints = Arc::new(Checkpoints {
            restart_pages: i64::try_from(settings.wal_limit / PAGE_SIZE)
                .unwrap_or(i64::MAX)
                .max(1),
            ..Checkpoints::default()
        });

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
        let writer = Writer {
            connection,
            syncer: Some(to_syncer),
            checkpoints,
            lanes: Arc::clone(&lanes),
            new_work: Arc::clone(&new_work),
            observer: Arc::clone(&settings.observer),
            unmarked: Vec::new(),
            floor: None,
            locked: false,
        };
        let writer_lock = Arc::clone(&lock);
        let thread = spawn("store-writer", move || {
            // Released once the connections below are closed, not before.
            let _lock = writer_lock;
            let _guard = PanicGuard(guard.clone(), "writer");
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
            lanes,
            broken,
            thread: Mutex::new(Some(thread)),
            reader: Arc::new(Mutex::new(reader)),
            checked: Mutex::new((None, None)),
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

    fn lanes(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether it is time to look for deliveries given back (`requeued`), and to write the
    /// floor; each at most every [`CHECK_EVERY`].
    fn due(&self, floor: bool) -> bool {
        let mut checked = self
            .checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = if floor { &mut checked.1 } else { &mut checked.0 };
        if at.is_some_and(|at| at.elapsed() < CHECK_EVERY) {
            return false;
        }
        *at = Some(Instant::now());
        true
    }
}

/// Reads into `lanes` the deliveries waiting: those after the floor without a done mark.
fn load(connection: &Connection, lanes: &mut Lanes) -> rusqlite::Result<()> {
    let floor: i64 = connection.query_row(
        "SELECT value FROM receiver_state WHERE name = 'delivery_floor'",
        [],
        |row| row.get(0),
    )?;
    let newest: i64 = connection.query_row("SELECT coalesce(max(id), 0) FROM deliveries", [], |row| {
        row.get(0)
    })?;
    lanes.seen(newest.max(floor));
    let mut waiting = connection.prepare(
        "SELECT d.id, d.lane FROM deliveries AS d WHERE d.id > ?1 AND d.state = 'pending' \
         AND NOT EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id) ORDER BY d.id",
    )?;
    let mut rows = waiting.query([floor])?;
    while let Some(row) = rows.next()? {
        let lane: String = row.get(1)?;
        lanes.add(
            &lane,
            Waiting {
                id: row.get(0)?,
                fresh: None,
            },
            0,
        );
    }
    Ok(())
}

/// The deliveries `ids` still pending, as stored (a body shared by several of them read once).
fn read_deliveries(connection: &mut Connection, ids: &[i64]) -> rusqlite::Result<HashMap<i64, Stored>> {
    let mut statement = connection.prepare_cached(
        "SELECT d.id, d.key, d.lane, d.kind, d.webhook_id, w.received_at, w.app_id, d.attempts, \
         d.event_index, d.events, w.body FROM deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id \
         WHERE d.id = ?1 AND d.state = 'pending'",
    )?;
    let mut bodies: HashMap<i64, Arc<Vec<u8>>> = HashMap::new();
    let mut read = HashMap::new();
    for id in ids {
        let row = statement
            .query_row([id], |row| {
                let webhook_id: i64 = row.get(4)?;
                let body = match bodies.get(&webhook_id) {
                    Some(body) => Arc::clone(body),
                    None => {
                        let body = Arc::new(row.get::<_, Vec<u8>>(10)?);
                        bodies.insert(webhook_id, Arc::clone(&body));
                        body
                    }
                };
                Ok(Stored {
                    id: row.get(0)?,
                    key: row.get::<_, Vec<u8>>(1)?.try_into().unwrap_or([0; 32]),
                    lane: row.get(2)?,
                    kind: row.get(3)?,
                    webhook_id,
                    received_at: row.get(5)?,
                    app_id: row.get(6)?,
                    attempts: row.get(7)?,
                    index: row.get(8)?,
                    events: row.get(9)?,
                    body,
                })
            })
            .optional()?;
        if let Some(stored) = row {
            read.insert(*id, stored);
        }
    }
    Ok(read)
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

    fn take(&self, max: usize) -> StoreFuture<'_, Vec<Taken>> {
        Box::pin(async move {
            if self.due(false) {
                // Given back by `requeue` or a replay (through another connection): pending
                // again, into their lanes.
                let requeued = self.send(Op::TakeRequeued).await?;
                let mut lanes = self.lanes();
                for (id, lane) in requeued {
                    lanes.add(&lane, Waiting { id, fresh: None }, 0);
                }
            }
            Ok(self.lanes().take(max))
        })
    }

    fn next(&self, lane: &str, after: i64, max: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Stored>> {
        let waiting = self.lanes().after(lane, after, max);
        Box::pin(async move {
            let missing: Vec<i64> = waiting
                .iter()
                .filter(|waiting| waiting.fresh.is_none())
                .map(|waiting| waiting.id)
                .collect();
            let mut read = if missing.is_empty() {
                HashMap::new()
            } else {
                blocking(&self.reader, move |connection| {
                    read_deliveries(connection, &missing)
                })
                .await?
            };
            let mut next = Vec::with_capacity(waiting.len());
            let mut bytes = 0;
            for waiting in waiting {
                if !next.is_empty() && bytes >= max_bytes {
                    break;
                }
                let stored = match waiting.fresh {
                    Some(stored) => Stored::clone(&stored),
                    // Set aside or deleted meanwhile (by an operator): nothing to deliver.
                    None => match read.remove(&waiting.id) {
                        Some(stored) => stored,
                        None => continue,
                    },
                };
                bytes += stored.body.len();
                next.push(stored);
            }
            Ok(next)
        })
    }

    fn done(&self, marks: Vec<(String, i64)>) -> StoreFuture<'_, ()> {
        let floor = {
            let mut lanes = self.lanes();
            for (lane, id) in &marks {
                lanes.finish(lane, *id);
            }
            self.due(true).then(|| lanes.floor())
        };
        let mut sent = self
            .ops
            .send(Op::Done(marks.into_iter().map(|(_, id)| id).collect()))
            .map_err(|_| closed());
        if let (Some(floor), Ok(())) = (floor, &sent) {
            sent = self.ops.send(Op::Floor(floor)).map_err(|_| closed());
        }
        Box::pin(async move { sent })
    }

    fn failed(&self, delivery: &Stored, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        let (lane, id) = (delivery.lane.clone(), delivery.id);
        let failed = self.send(move |reply| Op::Failed(id, error, max_attempts, reply));
        Box::pin(async move {
            let outcome = failed.await?;
            match outcome {
                Failed::SetAside { .. } => self.lanes().finish(&lane, id),
                Failed::Retry { attempts } => self.lanes().failures(&lane, id, attempts),
            }
            Ok(outcome)
        })
    }

    fn extend(&self, lanes: Vec<String>) -> StoreFuture<'_, Vec<String>> {
        // One process: a lane is held until it is given back.
        Box::pin(async move { Ok(lanes) })
    }

    fn release(&self, released: Vec<String>) -> StoreFuture<'_, ()> {
        let mut lanes = self.lanes();
        for lane in &released {
            lanes.release(lane);
        }
        drop(lanes);
        self.new_work.notify_one();
        Box::pin(async { Ok(()) })
    }

    fn purge(&self, age: Duration, max_rows: usize) -> StoreFuture<'_, Purged> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
        let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.send(move |reply| Op::Purge(cutoff, max_rows, reply))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        let ((pending, lanes_waiting), oldest) = {
            let lanes = self.lanes();
            (lanes.counts(), lanes.oldest().cloned())
        };
        blocking(&self.reader, move |connection| {
            let oldest_pending = match oldest {
                None => None,
                Some(Waiting { fresh: Some(stored), .. }) => Some(stored.received_at.clone()),
                Some(Waiting { id, fresh: None }) => connection
                    .query_row(
                        "SELECT w.received_at FROM deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id \
                         WHERE d.id = ?1",
                        [id],
                        |row| row.get(0),
                    )
                    .optional()?,
            };
            let count = |sql: &str| {
                connection
                    .query_row(sql, [], |row| row.get::<_, i64>(0))
                    .map(|n| n as u64)
            };
            Ok(Stats {
                pending: pending as u64,
                lanes_waiting: lanes_waiting as u64,
                oldest_pending,
                failed: count("SELECT count(*) FROM deliveries WHERE state = 'failed'")?,
                dead_letters: count("SELECT count(*) FROM dead_letters")?,
                dead_letters_waiting: count("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")?,
                ..Stats::default()
            })
        })
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
