//! [`PostgresStore`]: the store in a PostgreSQL database that any number of receivers share.
//!
//! The tables of the SQLite store (with `timestamptz` times and `bytea` bodies; see
//! [`store`](crate::store)), and the lanes:
//!
//! ```sql
//! CREATE TABLE lanes (
//!     lane text PRIMARY KEY,
//!     last_id bigint NOT NULL DEFAULT 0,       -- its newest delivery
//!     done_through bigint NOT NULL DEFAULT 0,  -- every delivery up to it is done or set aside
//!     claimed_by text,                         -- the receiver holding it
//!     claimed_until timestamptz                -- until then; after it, any receiver may take it
//! );
//! ```
//!
//! - `writer.rs`: writes are grouped as in SQLite, by [`WRITERS`] tasks on connections of their
//!   own; a body's lanes are locked, in the order of their names, before its deliveries get their
//!   ids, so that within a lane the ids follow the commits.
//! - **Lanes**: a receiver takes lanes with deliveries waiting (`last_id > done_through`) that no
//!   one holds, with `FOR UPDATE SKIP LOCKED`, setting `claimed_by` and `claimed_until` (now + the
//!   lease), renews the lease in the background while it holds them, marks each delivery done
//!   (a row appended to `delivery_done`, nothing else) and writes the lane's progress
//!   (`done_through`) when it gives the lane back. The lanes of a receiver that died come back
//!   when their lease runs out, and start again at their first delivery without a done mark.
//! - **Wake-ups**: a group that stored deliveries, and a lane given back, send
//!   `NOTIFY smooch_receiver` with their commit; every receiver `LISTEN`s on a connection of its
//!   own, and looks again every second anyway (leases that ran out, a lost connection).
//! - `schema.rs`: numbered migrations, under an advisory lock.
//! - `connection.rs`: every call within `SMOOCH_STORE_TIMEOUT`, TCP keepalives; a connection that
//!   does not answer is dropped with the idle ones.
//! - [`tls`]: the URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` as libpq reads them
//!   (`prefer` by default; `verify-full` checks the certificate's chain and host name), over
//!   rustls. A server that cannot be reached as the URL says stops the receiver, and each
//!   administration command, at start with the reason.
//! - `admin.rs`: the administration commands.

mod admin;
mod connection;
mod schema;
pub mod tls;
mod writer;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use self::admin::stats;
pub use self::admin::PostgresAdmin;
use self::connection::{cached, config, connect, listen, rfc3339, Database, CHANNEL, WAKE};
use self::schema::{check_durability, migrate};
pub use self::schema::{DROP_WEBHOOK_STATE, MIGRATIONS};
use self::writer::{write_loop, Write};
pub use self::writer::{MAX_GROUP, WRITERS};
use crate::store::contract::{
    Accepted, DeadLetter, Failed, Incoming, Purged, Settings, Stats, Store, StoreError, StoreFuture, Stored,
    Taken,
};

/// The store in a PostgreSQL database. See the [module](self).
pub struct PostgresStore {
    db: Database,
    /// The writers' queues (`None` once closed).
    writes: Mutex<Option<Vec<mpsc::UnboundedSender<Write>>>>,
    /// The writer of the next write that belongs to no lane.
    turn: std::sync::atomic::AtomicUsize,
    writers: Mutex<Vec<JoinHandle<()>>>,
    listener: JoinHandle<()>,
    new_work: Arc<Notify>,
    /// This receiver, in `claimed_by`.
    owner: String,
    lease: Duration,
    /// Done marks not written yet (the database could not be reached): written with the next.
    unmarked: Mutex<Vec<i64>>,
}

impl PostgresStore {
    /// Connects to the database at `url`, refuses it if it may lose a commit, migrates it, and
    /// starts the writers and the listener.
    pub async fn open(url: &str, settings: &Settings) -> Result<PostgresStore, StoreError> {
        let target = config(url, Some(settings.timeout))?;
        let (mut client, driver) = connect(&target, None).await?;
        check_durability(&client).await?;
        migrate(&mut client).await?;
        drop(client);
        driver.abort();

        let manager = Manager::from_config(
            target.config.clone(),
            target.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(WRITERS + 4)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.timeout))
            .create_timeout(Some(settings.timeout))
            .recycle_timeout(Some(settings.timeout))
            .build()
            .map_err(|error| StoreError(format!("the connection pool: {error}")))?;
        let db = Database {
            pool,
            timeout: settings.timeout,
        };
        let new_work = Arc::new(Notify::new());
        let (writes, writers): (Vec<_>, Vec<_>) = (0..WRITERS)
            .map(|_| {
                let (write, queue) = mpsc::unbounded_channel();
                let writer = tokio::spawn(write_loop(
                    db.clone(),
                    queue,
                    Arc::clone(&new_work),
                    Arc::clone(&settings.observer),
                ));
                (write, writer)
            })
            .unzip();
        let listener = tokio::spawn(listen(target, settings.timeout, Arc::clone(&new_work)));
        let owner = format!(
            "{}:{}:{:08x}",
            hostname(),
            std::process::id(),
            crate::random::random_u64() as u32
        );
        Ok(PostgresStore {
            db,
            writes: Mutex::new(Some(writes)),
            turn: std::sync::atomic::AtomicUsize::new(0),
            writers: Mutex::new(writers),
            listener,
            new_work,
            owner,
            lease: settings.lease,
            unmarked: Mutex::new(Vec::new()),
        })
    }

    fn send<T: Send + 'static>(
        &self,
        write: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let write = write(reply);
        // A body's writes go to the writer of its (first) lane: the writes of one lane are never
        // in two transactions at once in this receiver, which would wait for each other's lock
        // on the lane. Others go round.
        let writer = match write.lane() {
            Some(lane) => {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::hash::DefaultHasher::new();
                lane.hash(&mut hasher);
                hasher.finish() as usize
            }
            None => self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        } % WRITERS;
        let sent = match &*self
            .writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            Some(writes) => writes[writer].send(write).map_err(|_| closed()),
            None => Err(closed()),
        };
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| closed())?
        })
    }

    fn lease_seconds(&self) -> f64 {
        self.lease.as_secs_f64()
    }
}

fn closed() -> StoreError {
    StoreError("the store is closed".to_owned())
}

/// The machine's name, for `claimed_by`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "receiver".to_owned())
}

impl Store for PostgresStore {
    fn accept(&self, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        self.send(|reply| Write::Accept(webhook, reply))
    }

    fn dead_letter(&self, letter: DeadLetter) -> StoreFuture<'_, i64> {
        self.send(|reply| Write::DeadLetter(letter, reply))
    }

    fn take(&self, max: usize) -> StoreFuture<'_, Vec<Taken>> {
        Box::pin(async move {
            let rows = self
                .db
                .query(
                    "taking lanes",
                    "WITH free AS ( \
                       SELECT lane FROM lanes \
                       WHERE last_id > done_through AND (claimed_until IS NULL OR claimed_until < now()) \
                       ORDER BY done_through LIMIT $1 FOR UPDATE SKIP LOCKED) \
                     UPDATE lanes AS l SET claimed_by = $2, claimed_until = now() + make_interval(secs => $3) \
                     FROM free WHERE l.lane = free.lane RETURNING l.lane, l.done_through",
                    &[
                        &i64::try_from(max).unwrap_or(i64::MAX),
                        &self.owner,
                        &self.lease_seconds(),
                    ],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|row| Taken {
                    lane: row.get(0),
                    after: row.get(1),
                })
                .collect())
        })
    }

    fn next(&self, lane: &str, after: i64, max: usize, max_bytes: usize) -> StoreFuture<'_, Vec<Stored>> {
        let lane = lane.to_owned();
        Box::pin(async move {
            let rows = self
                .db
                .query(
                    "reading a lane",
                    concat!(
                        "SELECT d.id, d.key, d.kind, d.webhook_id, ",
                        rfc3339!("w.received_at"),
                        ", w.app_id, d.attempts, d.event_index, d.events, w.body \
                         FROM deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id \
                         WHERE d.lane = $1 AND d.id > $2 AND d.state = 'pending' \
                         AND NOT EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id) \
                         ORDER BY d.id LIMIT $3"
                    ),
                    &[&lane, &after, &i64::try_from(max).unwrap_or(i64::MAX)],
                )
                .await?;
            let mut bodies: std::collections::HashMap<i64, Arc<Vec<u8>>> = std::collections::HashMap::new();
            let mut next = Vec::with_capacity(rows.len());
            let mut bytes = 0;
            for row in &rows {
                if !next.is_empty() && bytes >= max_bytes {
                    break;
                }
                let webhook_id: i64 = row.get(3);
                let body = Arc::clone(
                    bodies
                        .entry(webhook_id)
                        .or_insert_with(|| Arc::new(row.get::<_, Vec<u8>>(9))),
                );
                bytes += body.len();
                next.push(Stored {
                    id: row.get(0),
                    key: row.get::<_, Vec<u8>>(1).try_into().unwrap_or([0; 32]),
                    lane: lane.clone(),
                    kind: row.get(2),
                    webhook_id,
                    received_at: row.get(4),
                    app_id: row.get(5),
                    attempts: u32::try_from(row.get::<_, i32>(6)).unwrap_or(0),
                    index: u32::try_from(row.get::<_, i32>(7)).unwrap_or(0),
                    events: u32::try_from(row.get::<_, i32>(8)).unwrap_or(1),
                    body,
                });
            }
            Ok(next)
        })
    }

    fn done(&self, marks: Vec<(String, i64)>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut ids = std::mem::take(&mut *self.unmarked.lock().unwrap_or_else(|p| p.into_inner()));
            ids.extend(marks.into_iter().map(|(_, id)| id));
            // Rows appended, nothing else: the lane's progress is written when it is given back.
            let marked = self
                .db
                .execute(
                    "marking done",
                    "INSERT INTO delivery_done (delivery_id) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING",
                    &[&ids],
                )
                .await;
            if let Err(error) = marked {
                // Kept for the next mark.
                self.unmarked
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .extend(ids);
                return Err(error);
            }
            Ok(())
        })
    }

    fn failed(&self, delivery: &Stored, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        let id = delivery.id;
        Box::pin(async move {
            let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
            let error = crate::store::contract::text_column(&error).into_owned();
            // Set aside, its lane goes on past it (the lane's progress is written when it is
            // given back).
            let row = self
                .db
                .query_opt(
                    "recording a failure",
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = $2, \
                     state = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE state END \
                     WHERE id = $1 AND state = 'pending' RETURNING state, attempts",
                    &[&id, &error, &max],
                )
                .await?;
            Ok(match row {
                Some(row) => {
                    let attempts = u32::try_from(row.get::<_, i32>(1)).unwrap_or(0);
                    if row.get::<_, &str>(0) == "failed" {
                        Failed::SetAside { attempts }
                    } else {
                        Failed::Retry { attempts }
                    }
                }
                None => Failed::Retry { attempts: 0 },
            })
        })
    }

    fn extend(&self, lanes: Vec<String>) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let rows = self
                .db
                .query(
                    "renewing the holds",
                    "UPDATE lanes SET claimed_until = now() + make_interval(secs => $2) \
                     FROM (SELECT lane FROM lanes WHERE lane = ANY($1) AND claimed_by = $3 \
                           ORDER BY lane FOR UPDATE) AS held \
                     WHERE lanes.lane = held.lane AND lanes.claimed_by = $3 RETURNING lanes.lane",
                    &[&lanes, &self.lease_seconds(), &self.owner],
                )
                .await?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn release(&self, lanes: Vec<Taken>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let names: Vec<&str> = lanes.iter().map(|taken| taken.lane.as_str()).collect();
            let afters: Vec<i64> = lanes.iter().map(|taken| taken.after).collect();
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(async {
                    // With its progress: every delivery up to `after` is done or set aside.
                    let released = cached::query(
                        &client,
                        "UPDATE lanes SET claimed_by = NULL, claimed_until = NULL, \
                             done_through = greatest(lanes.done_through, u.after) \
                             FROM (SELECT lane FROM lanes WHERE lane = ANY($1) AND claimed_by = $3 \
                                   ORDER BY lane FOR UPDATE) AS held, \
                                  unnest($1::text[], $2::bigint[]) AS u(lane, after) \
                             WHERE lanes.lane = held.lane AND u.lane = lanes.lane \
                             RETURNING lanes.last_id > lanes.done_through",
                        &[&names, &afters, &self.owner],
                    )
                    .await?;
                    // The others are woken only for a lane given back with deliveries waiting
                    // (stored while it was held): one given back empty has nothing for them.
                    if released.iter().any(|row| row.get::<_, bool>(0)) {
                        cached::execute(&client, WAKE, &[&CHANNEL]).await?;
                    }
                    Ok(())
                })
                .await;
            self.db.settle(client, outcome, "giving lanes back")
        })
    }

    fn purge(&self, age: Duration, max_rows: usize) -> StoreFuture<'_, Purged> {
        Box::pin(async move {
            let rows = i64::try_from(max_rows).unwrap_or(i64::MAX);
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(async {
                    let deliveries = client
                        .execute(
                            "WITH old AS ( \
                               DELETE FROM delivery_done WHERE delivery_id IN ( \
                                 SELECT delivery_id FROM delivery_done \
                                 WHERE done_at < now() - make_interval(secs => $1) \
                                 ORDER BY done_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
                               RETURNING delivery_id) \
                             DELETE FROM deliveries USING old WHERE deliveries.id = old.delivery_id",
                            &[&age.as_secs_f64(), &rows],
                        )
                        .await?;
                    let webhooks = client
                        .execute(
                            "DELETE FROM webhooks WHERE id IN (SELECT w.id FROM webhooks AS w \
                             WHERE w.received_at < now() - make_interval(secs => $1) \
                             AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.webhook_id = w.id) \
                             ORDER BY w.received_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                            &[&age.as_secs_f64(), &rows],
                        )
                        .await?;
                    // Lanes with nothing left (a lane waiting or held is never one).
                    client
                        .execute(
                            "DELETE FROM lanes WHERE lane IN (SELECT l.lane FROM lanes AS l \
                             WHERE l.last_id <= l.done_through AND l.claimed_by IS NULL \
                             AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.lane = l.lane) \
                             LIMIT $1 FOR UPDATE SKIP LOCKED)",
                            &[&rows],
                        )
                        .await?;
                    Ok(Purged { deliveries, webhooks })
                })
                .await;
            self.db
                .settle(client, outcome, "deleting what is past the retention")
        })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(async move {
            let client = self.db.get().await?;
            let outcome = self.db.bounded(stats(&**client, false)).await;
            self.db.settle(client, outcome, "counting")
        })
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        // A real write: a transaction that takes the locks an insert takes, through the writers
        // (behind the writes of the same moment, as a request would be).
        self.send(Write::Probe)
    }

    fn new_work(&self) -> Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.new_work.notified())
    }

    fn broken(&self) -> Pin<Box<dyn std::future::Future<Output = String> + Send + '_>> {
        // A database that cannot be reached is answered 503 (Smooch retries) and reported by
        // /readyz until it comes back; nothing local breaks.
        Box::pin(std::future::pending())
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        // No more writes; the writers finish what is queued, then end.
        drop(
            self.writes
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        let writers = std::mem::take(&mut *self.writers.lock().unwrap_or_else(|p| p.into_inner()));
        Box::pin(async move {
            for writer in writers {
                let _ = writer.await;
            }
            let unmarked = std::mem::take(&mut *self.unmarked.lock().unwrap_or_else(|p| p.into_inner()));
            if !unmarked.is_empty() {
                // (Their lanes are no matter here: only the marks are written.)
                self.done(unmarked.into_iter().map(|id| (String::new(), id)).collect())
                    .await?;
            }
            self.listener.abort();
            self.db.pool.close();
            Ok(())
        })
    }
}
