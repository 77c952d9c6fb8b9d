//! The threads of a SQLite store that write: the writer, the syncers and the checkpointer.
//!
//! - The **writer** owns the connection that writes. It takes the first request waiting, then
//!   every other one waiting (up to [`MAX_GROUP`]), writes them all in one transaction and
//!   commits once: the busier the receiver, the larger the groups. It commits without `fsync`
//!   (`synchronous = NORMAL`), hands the group's answers to a syncer, and gives the deliveries it
//!   just stored to their lanes (with their rows and bodies, so that the delivery need not read
//!   them back).
//! - Two **syncers** call `fdatasync` on the WAL file, each once for every group committed since
//!   it last looked, and only then answer: a 200 goes out once its row is on disk, as with
//!   `synchronous = FULL`, but the writer commits the next groups meanwhile, and a group
//!   committed during one sync is synced by the other syncer at once.
//! - The **checkpointer**, on a connection of its own, copies the WAL into the database file
//!   (`PRAGMA wal_checkpoint(PASSIVE)`, which syncs both files) as the WAL grows. It never stops
//!   the writer; but the WAL can only start again from its beginning once it is copied whole,
//!   which under a steady load never happens by itself. So once the WAL holds
//!   `wal_limit` bytes, the writer, between two passes of the checkpointer, copies the few
//!   pages written since the last one (a stop of a few milliseconds, instead of copying
//!   everything in line).
//!
//! Done marks are rows appended to `delivery_done` (a write at the end of the table, not an
//! update of a page written long before), written with the next group.

use std::fs::File;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::mpsc as channel;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, Notify};

use super::lanes::{Lanes, Waiting};
use super::{closed, sql_error, Broken, Reply, FRESH_BYTES};
use crate::store::{
    text_column, Accepted, DeadLetter, Failed, Health, Incoming, Observer, Purged, StoreError, Stored,
};

/// The most requests written in one transaction.
pub const MAX_GROUP: usize = 1024;

/// How long the checkpointer rests when it has copied the whole WAL: longer, and the pages written
/// at every commit (the table's last pages) are copied fewer times; shorter, and the writer has
/// less to copy in line when it restarts the WAL.
const CHECKPOINT_REST: Duration = Duration::from_millis(25);

/// Commits that may fail in a row (a full disk, an I/O error) before the store gives up.
const MAX_FAILED_COMMITS: u32 = 3;

/// A request to the writer thread.
pub(super) enum Op {
    Accept(Incoming, Reply<Accepted>),
    DeadLetter(DeadLetter, Reply<i64>),
    /// Done marks (delivery ids), answered by nobody: written with the next group.
    Done(Vec<i64>),
    Failed(i64, String, u32, Reply<Failed>),
    Purge(String, usize, Reply<Purged>),
    /// The deliveries `requeue` gave back: pending again, and their ids and lanes.
    TakeRequeued(Reply<Vec<(i64, String)>>),
    /// Where the next start reads the deliveries from ([`Lanes::floor`]).
    Floor(i64),
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

    /// Whether it writes (a read of nothing but a close does not begin a transaction).
    fn writes(&self) -> bool {
        !matches!(self, Op::Close(_))
    }
}

/// A committed group, for the syncer: answered once the WAL is synced.
pub(super) struct Committed {
    answers: Vec<Answer>,
}

/// The writer thread's state.
pub(super) struct Writer {
    pub(super) connection: Connection,
    pub(super) syncer: Option<channel::Sender<Committed>>,
    pub(super) checkpoints: Arc<Checkpoints>,
    pub(super) lanes: Arc<Mutex<Lanes>>,
    pub(super) new_work: Arc<Notify>,
    pub(super) observer: Arc<dyn Observer>,
    /// Done marks of groups that failed, written with the next group.
    pub(super) unmarked: Vec<i64>,
    /// The floor of a group that failed, written with the next group.
    pub(super) floor: Option<i64>,
    /// Whether the last group failed because another connection held the lock.
    pub(super) locked: bool,
}

/// What the writer and the checkpointer share: whose turn it is to checkpoint, how many pages the
/// WAL held at the checkpointer's last pass, and whether checkpoints work.
#[derive(Default)]
pub(super) struct Checkpoints {
    pub(super) turn: Mutex<()>,
    pub(super) wal_pages: AtomicI64,
    pub(super) restart_pages: i64,
    pub(super) health: Mutex<Health>,
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
    pub(super) fn run(
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

    /// Gives the deliveries just committed to their lanes, and tells the delivery. (It may
    /// deliver them before they are synced: if the process dies before the sync, they were never
    /// answered 200 and come again. At least once.)
    fn hand_over(&self, stored: Vec<Stored>) {
        let mut lanes = self.lanes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for stored in stored {
            let lane = stored.lane.clone();
            let waiting = Waiting {
                id: stored.id,
                fresh: Some(Arc::new(stored)),
            };
            lanes.add(&lane, waiting, FRESH_BYTES);
        }
        drop(lanes);
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
    /// syncer (or, when the commit failed, answers the error at once). Returns the commit's
    /// outcome, and the reply of a close if the group held one. The group is left empty.
    fn write_group(&mut self, group: &mut Vec<Op>) -> (Result<(), StoreError>, Option<oneshot::Sender<()>>) {
        self.locked = false;
        let started = Instant::now();
        group.retain(|op| !op.abandoned());
        let mut marks = std::mem::take(&mut self.unmarked);
        let mut floor = self.floor.take();
        for op in group.iter() {
            match op {
                Op::Done(ids) => marks.extend_from_slice(ids),
                Op::Floor(at) => floor = Some(*at),
                _ => {}
            }
        }
        let size = group.len();
        let writes = !marks.is_empty() || floor.is_some() || group.iter().any(Op::writes);
        let mut answers = Vec::with_capacity(group.len());
        let mut stored = Vec::new();
        let mut close = None;
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
        let now = crate::store::now();
        for op in group.drain(..) {
            let Some(transaction) = &transaction else {
                // No transaction: every write fails, with the reason given below.
                match op {
                    Op::Accept(_, reply) => answers.push(Answer::Accept(reply, Err(closed()))),
                    Op::DeadLetter(_, reply) => answers.push(Answer::DeadLetter(reply, Err(closed()))),
                    Op::Failed(_, _, _, reply) => answers.push(Answer::Failed(reply, Err(closed()))),
                    Op::Purge(_, _, reply) => answers.push(Answer::Purge(reply, Err(closed()))),
                    Op::TakeRequeued(reply) => answers.push(Answer::Requeued(reply, Err(closed()))),
                    Op::Probe(reply) => answers.push(Answer::Probe(reply, Err(closed()))),
                    Op::Done(_) | Op::Floor(_) => {}
                    Op::Close(reply) => close = Some(reply),
                }
                continue;
            };
            match op {
                Op::Accept(webhook, reply) => {
                    let result = insert(transaction, &webhook, &mut stored).map_err(sql_error);
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
                Op::TakeRequeued(reply) => {
                    let result = take_requeued(transaction).map_err(sql_error);
                    answers.push(Answer::Requeued(reply, result));
                }
                Op::Probe(reply) => answers.push(Answer::Probe(reply, Ok(()))),
                Op::Done(_) | Op::Floor(_) => {}
                Op::Close(reply) => close = Some(reply),
            }
        }
        let marked = match &transaction {
            Some(transaction) => mark_done(transaction, &marks, &now).and_then(|()| match floor {
                Some(at) => set_floor(transaction, at),
                None => Ok(()),
            }),
            None => Ok(()),
        };
        if let Err(error) = &marked {
            tracing::warn!(error = %error, "cannot mark deliveries done; retrying with the next group");
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
            self.observer.committed(started.elapsed().as_secs_f64(), size);
        }
        if committed.is_err() || marked.is_err() {
            // Kept for the next group: a done mark is never dropped (the delivery would be
            // delivered again after a restart).
            self.unmarked = marks;
            self.floor = floor;
        }
        if committed.is_ok() && !stored.is_empty() {
            self.hand_over(stored);
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
        (committed, close)
    }
}

/// The syncer thread: one `fdatasync` of the WAL for every group committed since the last one,
/// then their answers. A failed sync breaks the store: after it, nothing written can be trusted
/// to be on disk.
pub(super) fn sync_loop(
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
pub(super) fn checkpoint_loop(connection: &Connection, shared: &Checkpoints, stop: &channel::Receiver<()>) {
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
    Purge(Reply<Purged>, Result<Purged, StoreError>),
    Requeued(Reply<Vec<(i64, String)>>, Result<Vec<(i64, String)>, StoreError>),
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
            Answer::Requeued(reply, result) => drop(reply.send(or(result, error))),
            Answer::Probe(reply, result) => drop(reply.send(or(result, error))),
        }
    }
}

/// Whether an error is SQLite's "database is locked" (another connection writes).
fn is_locked(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}

/// Inserts a webhook and a delivery for each of its events whose key is not stored yet (the
/// deliveries stored are pushed on `stored`), or finds the row that has the body's key. (No
/// `RETURNING`: SQLite builds a temporary table for it at each statement; the row count and the
/// last rowid say the same.)
pub(super) fn insert(
    connection: &Connection,
    webhook: &Incoming,
    stored: &mut Vec<Stored>,
) -> rusqlite::Result<Accepted> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (idempotency_key) DO NOTHING",
        )?
        .execute(params![
            &webhook.key[..],
            webhook.received_at,
            text_column(&webhook.kinds),
            webhook.app_id.as_deref().map(text_column),
            webhook.body
        ])?;
    if inserted == 0 {
        return connection
            .prepare_cached("SELECT id FROM webhooks WHERE idempotency_key = ?1")?
            .query_row([&webhook.key[..]], |row| row.get(0))
            .map(Accepted::Duplicate);
    }
    let webhook_id = connection.last_insert_rowid();
    let mut deliver = connection.prepare_cached(
        "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO NOTHING",
    )?;
    let events = u32::try_from(webhook.events.len()).unwrap_or(u32::MAX);
    let mut body = None;
    for (index, event) in webhook.events.iter().enumerate() {
        let kind = text_column(&event.kind);
        if deliver.execute(params![
            webhook_id,
            index as i64,
            events,
            event.lane,
            &event.key[..],
            kind
        ])? == 0
        {
            // The same event came before, in another body: delivered once.
            continue;
        }
        let body = body.get_or_insert_with(|| Arc::new(webhook.body.clone()));
        stored.push(Stored {
            id: connection.last_insert_rowid(),
            key: event.key,
            lane: event.lane.clone(),
            kind: kind.into_owned(),
            webhook_id,
            received_at: webhook.received_at.clone(),
            app_id: webhook.app_id.clone(),
            attempts: 0,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            events,
            body: Arc::clone(body),
        });
    }
    Ok(Accepted::New(webhook_id))
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
                text_column(&letter.error),
                i64::try_from(letter.size).unwrap_or(i64::MAX),
                letter.body
            ],
            |row| row.get(0),
        )
}

/// Appends a done mark for each of `ids`.
fn mark_done(connection: &Connection, ids: &[i64], now: &str) -> rusqlite::Result<()> {
    let mut statement = connection.prepare_cached(
        "INSERT INTO delivery_done (delivery_id, done_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for id in ids {
        statement.execute(params![id, now])?;
    }
    Ok(())
}

fn set_floor(connection: &Connection, at: i64) -> rusqlite::Result<()> {
    connection
        .prepare_cached("UPDATE receiver_state SET value = ?1 WHERE name = 'delivery_floor' AND value <> ?1")?
        .execute([at])
        .map(drop)
}

fn failed(connection: &Connection, id: i64, error: &str, max_attempts: u32) -> rusqlite::Result<Failed> {
    let row = connection
        .prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, \
             state = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE state END \
             WHERE id = ?1 AND state = 'pending' RETURNING state, attempts",
        )?
        .query_row(params![id, text_column(error), max_attempts], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })
        .optional()?;
    Ok(match row {
        Some((state, attempts)) if state == "failed" => Failed::SetAside { attempts },
        Some((_, attempts)) => Failed::Retry { attempts },
        None => Failed::Retry { attempts: 0 },
    })
}

/// The deliveries `requeue` (or a replay) gave back, pending again. (They are new rows: after
/// the floor, where a start reads them back too.)
fn take_requeued(connection: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    connection
        .prepare_cached(
            "UPDATE deliveries SET state = 'pending' WHERE state = 'requeued' RETURNING id, lane",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Deletes at most `max_rows` deliveries done before `cutoff` (the oldest first), then at most
/// `max_rows` webhooks received before it that have no delivery left.
fn purge(connection: &Connection, cutoff: &str, max_rows: usize) -> rusqlite::Result<Purged> {
    let rows = i64::try_from(max_rows).unwrap_or(i64::MAX);
    let done: Vec<i64> = connection
        .prepare_cached("SELECT delivery_id FROM delivery_done WHERE done_at < ?1 ORDER BY done_at LIMIT ?2")?
        .query_map(params![cutoff, rows], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut forget = connection.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?;
    let mut unmark = connection.prepare_cached("DELETE FROM delivery_done WHERE delivery_id = ?1")?;
    for id in &done {
        forget.execute([id])?;
        unmark.execute([id])?;
    }
    let webhooks = connection
        .prepare_cached(
            "DELETE FROM webhooks WHERE id IN (SELECT w.id FROM webhooks AS w WHERE w.received_at < ?1 \
             AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.webhook_id = w.id) \
             ORDER BY w.received_at LIMIT ?2)",
        )?
        .execute(params![cutoff, rows])?;
    Ok(Purged {
        deliveries: done.len() as u64,
        webhooks: webhooks as u64,
    })
}
