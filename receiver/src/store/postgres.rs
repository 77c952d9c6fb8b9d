//! [`PostgresStore`]: the store in a PostgreSQL database that any number of receivers share.
//!
//! The same two tables as the SQLite store (with `timestamptz` times and `bytea` bodies), and two
//! columns more for the claims:
//!
//! ```sql
//! CREATE TABLE webhooks (
//!     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//!     idempotency_key bytea NOT NULL UNIQUE,   -- SHA-256 of the body
//!     received_at timestamptz NOT NULL,
//!     kinds text NOT NULL,
//!     app_id text,
//!     body bytea NOT NULL,                     -- exactly as received
//!     state text NOT NULL DEFAULT 'pending',   -- pending, done or failed
//!     attempts integer NOT NULL DEFAULT 0,
//!     last_error text,
//!     done_at timestamptz,
//!     claimed_by text,                         -- the receiver handling it
//!     claimed_until timestamptz                -- until then; after it, any receiver may take it
//! );
//! CREATE TABLE dead_letters (
//!     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//!     received_at timestamptz NOT NULL, status integer NOT NULL, error text NOT NULL,
//!     size bigint NOT NULL, body bytea NOT NULL, replayed_at timestamptz, webhook_id bigint
//! );
//! ```
//!
//! - **Writes** are grouped as in SQLite: [`WRITERS`] tasks, each with its own connection, take
//!   every request waiting (up to [`MAX_GROUP`]) and store them with one multi-row
//!   `INSERT … SELECT … FROM unnest(…) ON CONFLICT (idempotency_key) DO NOTHING` in one
//!   transaction; the commit returns once PostgreSQL has flushed its WAL
//!   (`synchronous_commit`, which the store refuses to start without, as it refuses `fsync = off`),
//!   and only then is the request answered. A key that conflicts is looked up: a retry is
//!   answered 200 with the row that was stored first, by whichever receiver.
//! - **Claims**: each receiver's application claims pending webhooks with
//!   `FOR UPDATE SKIP LOCKED`, setting `claimed_by` and `claimed_until` (now + the lease), and
//!   renews the lease while it works. Those of a receiver that died come back when their lease
//!   runs out; those of one that stops are given back at once.
//! - **Wake-ups**: a group that stored webhooks sends `NOTIFY smooch_receiver` with its commit;
//!   every receiver `LISTEN`s on a connection of its own, and looks again every second anyway
//!   (leases that ran out, a lost connection).
//! - **Migrations** are numbered ([`MIGRATIONS`]); the applied ones are rows of
//!   `smooch_receiver_schema`. They run in one transaction under an advisory lock, so two
//!   receivers starting together migrate once; `serve` applies the missing ones at start, and
//!   `smooch-receiver migrate` alone, for teams that migrate separately.
//! - **TLS**: the URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` as libpq reads them
//!   (`prefer` by default; `verify-full` checks the certificate's chain and host name), over
//!   rustls: see [`postgres_tls`](super::postgres_tls). A server that cannot be reached as the URL
//!   says stops the receiver, and each administration command, at start with the reason.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, GenericClient};

use super::postgres_tls::Target;
use super::{
    Accepted, Admin, DeadLetter, EventMeta, Failed, Incoming, Letter, Purged, Settings, Stats, Store,
    StoreError, StoreFuture, Stored, Taken,
};

/// The most requests written in one transaction.
pub const MAX_GROUP: usize = 512;

/// Tasks writing groups at once, each on its own connection: while one waits for its commit,
/// the next group is written.
pub const WRITERS: usize = 4;

/// The channel of the wake-ups.
const CHANNEL: &str = "smooch_receiver";

/// The advisory lock taken while migrating.
const MIGRATION_LOCK: i64 = 0x736d_6f6f_6368_5f72;

/// How long opening a connection may take (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// TCP keepalives on every connection: an idle connection that the network dropped is found out
/// in about `KEEPALIVE_IDLE + KEEPALIVE_INTERVAL × KEEPALIVE_RETRIES` (25 s), and one whose
/// writes go unacknowledged in [`USER_TIMEOUT`].
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
const USER_TIMEOUT: Duration = Duration::from_secs(30);

/// The migrations, each from the version before it: `(version, SQL)`. Version 2 (the event as
/// the unit of delivery, with its lane) has a step in Rust besides ([`carry_webhooks`]), then
/// [`DROP_WEBHOOK_STATE`].
pub const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE webhooks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        idempotency_key bytea NOT NULL UNIQUE,
        received_at timestamptz NOT NULL,
        kinds text NOT NULL,
        app_id text,
        body bytea NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        done_at timestamptz,
        claimed_by text,
        claimed_until timestamptz
    );
    CREATE INDEX webhooks_pending ON webhooks (id) WHERE state = 'pending';
    CREATE INDEX webhooks_done ON webhooks (done_at) WHERE state = 'done';
    CREATE INDEX webhooks_failed ON webhooks (id) WHERE state = 'failed';
    CREATE TABLE dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at timestamptz NOT NULL,
        status integer NOT NULL,
        error text NOT NULL,
        size bigint NOT NULL,
        body bytea NOT NULL,
        replayed_at timestamptz,
        webhook_id bigint
    );",
    ),
    (
        2,
        "CREATE TABLE deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id bigint NOT NULL,
            event_index integer NOT NULL,
            events integer NOT NULL,
            lane text NOT NULL,
            key bytea NOT NULL UNIQUE,
            kind text NOT NULL,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text
        );
        CREATE INDEX deliveries_lane ON deliveries (lane, id);
        CREATE INDEX deliveries_webhook ON deliveries (webhook_id);
        CREATE INDEX deliveries_set_aside ON deliveries (id) WHERE state = 'failed';
        CREATE TABLE delivery_done (
            delivery_id bigint PRIMARY KEY,
            done_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX delivery_done_at ON delivery_done (done_at);
        CREATE TABLE lanes (
            lane text PRIMARY KEY,
            last_id bigint NOT NULL DEFAULT 0,
            done_through bigint NOT NULL DEFAULT 0,
            pending integer NOT NULL DEFAULT 0,
            claimed_by text,
            claimed_until timestamptz
        );
        CREATE INDEX lanes_waiting ON lanes (done_through) WHERE last_id > done_through;
        CREATE INDEX webhooks_received ON webhooks (received_at);",
    ),
];

/// The last part of version 2, once the webhooks' deliveries are made: their state goes (and
/// the indexes on it with it).
pub const DROP_WEBHOOK_STATE: &str = "ALTER TABLE webhooks DROP COLUMN state, DROP COLUMN attempts, \
    DROP COLUMN last_error, DROP COLUMN done_at, DROP COLUMN claimed_by, DROP COLUMN claimed_until";

/// A `timestamptz` column as the stores give times: RFC 3339 in UTC with milliseconds.
macro_rules! rfc3339 {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

fn pg_error(what: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |error| {
        // The server's message, not only "db error".
        let detail = error.as_db_error().map_or_else(
            || error.to_string(),
            |db| format!("{}: {}", db.severity(), db.message()),
        );
        StoreError(format!("{what}: {detail}"))
    }
}

/// The connection settings of `url` (its TLS read as libpq reads it), with a connect timeout if it
/// has none, TCP keepalives, and, when given, a `statement_timeout` (PostgreSQL cancels a
/// statement that waits or runs longer: a lock held by an operator makes a write fail in time, not
/// hang).
fn config(url: &str, statement_timeout: Option<Duration>) -> Result<Target, StoreError> {
    let mut target = Target::parse(url)?;
    let config = &mut target.config;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config
        .application_name("smooch-receiver")
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .tcp_user_timeout(USER_TIMEOUT);
    if let Some(timeout) = statement_timeout {
        let options = format!(
            "{} -c statement_timeout={}",
            config.get_options().unwrap_or(""),
            timeout.as_millis().max(1)
        );
        config.options(options.trim_start());
    }
    Ok(target)
}

/// One connection, its messages driven by a task (notifications go to `notify`, when given).
async fn connect(
    target: &Target,
    notify: Option<Arc<Notify>>,
) -> Result<(tokio_postgres::Client, JoinHandle<()>), StoreError> {
    let (client, mut connection) = target.connect().await?;
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if let Some(notify) = &notify {
                        notify.notify_one();
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "the PostgreSQL connection ended");
                    break;
                }
            }
        }
    });
    Ok((client, driver))
}

/// Wakes every receiver's application (`NOTIFY`, sent with the transaction's commit).
async fn wake(client: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
    client
        .execute("SELECT pg_notify($1, '')", &[&CHANNEL])
        .await
        .map(drop)
}

/// Refuses a server that may lose a commit it acknowledged.
async fn check_durability(client: &impl GenericClient) -> Result<(), StoreError> {
    for setting in ["fsync", "synchronous_commit"] {
        let value: String = client
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .map_err(pg_error("reading the settings"))?
            .get(0);
        if value == "off" {
            return Err(StoreError(format!(
                "PostgreSQL has {setting} = off: a commit it acknowledges can be lost, and a 200 must \
                 never be; turn it on (for this database or role too) and start again"
            )));
        }
    }
    Ok(())
}

/// Applies the missing migrations under the advisory lock; returns the schema version.
async fn migrate(client: &mut tokio_postgres::Client) -> Result<i64, StoreError> {
    let error = pg_error("migrating");
    let transaction = client.transaction().await.map_err(&error)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(&error)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS smooch_receiver_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(&error)?;
    let version: i32 = transaction
        .query_one(
            "SELECT coalesce(max(version), 0) FROM smooch_receiver_schema",
            &[],
        )
        .await
        .map_err(&error)?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    if version > newest {
        return Err(StoreError(format!(
            "the database's schema is version {version}, newer than this receiver's ({newest})"
        )));
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        transaction.batch_execute(sql).await.map_err(&error)?;
        if *to == 2 {
            let carried = carry_webhooks(&transaction).await.map_err(&error)?;
            transaction
                .batch_execute(DROP_WEBHOOK_STATE)
                .await
                .map_err(&error)?;
            if carried > 0 {
                tracing::info!(
                    deliveries = carried,
                    "gave the webhooks not done their deliveries"
                );
            }
        }
        transaction
            .execute("INSERT INTO smooch_receiver_schema (version) VALUES ($1)", &[to])
            .await
            .map_err(&error)?;
        tracing::info!(version = to, "migrated the PostgreSQL store");
    }
    transaction.commit().await.map_err(&error)?;
    Ok(i64::from(newest))
}

/// Version 2: a delivery for each event of each webhook still pending (to be delivered) or set
/// aside (set aside still, with its failures), and their lanes; returns how many. Done webhooks
/// get none: they were delivered, and the retention deletes them.
async fn carry_webhooks(transaction: &tokio_postgres::Transaction<'_>) -> Result<u64, tokio_postgres::Error> {
    let rows = transaction
        .query(
            "SELECT id, idempotency_key, kinds, state, attempts, last_error, body FROM webhooks \
             WHERE state IN ('pending', 'failed') ORDER BY id",
            &[],
        )
        .await?;
    let insert = transaction
        .prepare(
            "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind, state, attempts, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING",
        )
        .await?;
    let mut carried = 0;
    for row in &rows {
        let id: i64 = row.get(0);
        let key: [u8; 32] = row.get::<_, Vec<u8>>(1).try_into().unwrap_or([0; 32]);
        let kinds: String = row.get(2);
        let state: String = row.get(3);
        let attempts: i32 = row.get(4);
        let last_error: Option<String> = row.get(5);
        let body: Vec<u8> = row.get(6);
        let events = crate::describe::stored_events(&body, &key, &kinds);
        let count = i32::try_from(events.len()).unwrap_or(i32::MAX);
        for (index, event) in events.into_iter().enumerate() {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            carried += transaction
                .execute(
                    &insert,
                    &[
                        &id,
                        &index,
                        &count,
                        &event.lane,
                        &&event.key[..],
                        &super::text_column(&event.kind),
                        &state,
                        &attempts,
                        &last_error,
                    ],
                )
                .await?;
        }
    }
    // Each lane: its newest delivery, and everything before its first pending one finished.
    transaction
        .execute(
            "INSERT INTO lanes (lane, last_id, done_through, pending) \
             SELECT lane, max(id), coalesce(min(id) FILTER (WHERE state = 'pending'), max(id) + 1) - 1, \
                    count(*) FILTER (WHERE state = 'pending') \
             FROM deliveries GROUP BY lane",
            &[],
        )
        .await?;
    Ok(carried)
}

/// Refuses a database whose schema is not this receiver's.
async fn check_schema(client: &impl GenericClient) -> Result<(), StoreError> {
    let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    let exists: bool = client
        .query_one("SELECT to_regclass('smooch_receiver_schema') IS NOT NULL", &[])
        .await
        .map_err(pg_error("reading the schema"))?
        .get(0);
    let version: Option<i32> = if exists {
        client
            .query_one("SELECT max(version) FROM smooch_receiver_schema", &[])
            .await
            .map_err(pg_error("reading the schema"))?
            .get(0)
    } else {
        None
    };
    match version {
        Some(version) if version == newest => Ok(()),
        Some(version) if version > newest => Err(StoreError(format!(
            "the database's schema is version {version}, newer than this receiver's ({newest})"
        ))),
        _ => Err(StoreError(
            "the database has no receiver tables or older ones: run `smooch-receiver migrate`".to_owned(),
        )),
    }
}

async fn stats(client: &impl GenericClient, whole: bool) -> Result<Stats, tokio_postgres::Error> {
    // The lanes waiting (an index of them), the next delivery of each, and the counts that read
    // whole tables only for `stats`.
    let whole_counts = if whole {
        "(SELECT count(*) FROM webhooks), (SELECT count(*) FROM delivery_done)"
    } else {
        "0::bigint, 0::bigint"
    };
    let row = client
        .query_one(
            &format!(
                "SELECT (SELECT coalesce(sum(pending), 0)::bigint FROM lanes WHERE last_id > done_through), \
                 (SELECT count(*) FROM lanes WHERE last_id > done_through), \
                 (SELECT {} FROM lanes AS l CROSS JOIN LATERAL ( \
                     SELECT d.webhook_id FROM deliveries AS d WHERE d.lane = l.lane AND d.id > l.done_through \
                     AND d.state = 'pending' \
                     AND NOT EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id) \
                     ORDER BY d.id LIMIT 1) AS next JOIN webhooks AS w ON w.id = next.webhook_id \
                  WHERE l.last_id > l.done_through), \
                 (SELECT count(*) FROM deliveries WHERE state = 'failed'), \
                 (SELECT count(*) FROM dead_letters), \
                 (SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL), {whole_counts}",
                rfc3339!("min(w.received_at)")
            ),
            &[],
        )
        .await?;
    let count = |i: usize| row.get::<_, i64>(i) as u64;
    Ok(Stats {
        pending: count(0),
        lanes_waiting: count(1),
        oldest_pending: row.get(2),
        failed: count(3),
        dead_letters: count(4),
        dead_letters_waiting: count(5),
        webhooks: count(6),
        done: count(7),
    })
}

/// A delivery to insert: the row of its body, its place among the body's events, and the event.
struct NewDelivery<'a> {
    webhook_id: i64,
    index: i32,
    events: i32,
    event: &'a EventMeta,
}

/// Inserts deliveries, each at the back of its lane: their lanes are locked first, in the order
/// of their names (created when new), so that two transactions adding to one lane commit in the
/// order of the ids they give, and two transactions never wait for each other in a circle; a
/// delivery whose key is stored already is not inserted; the lanes' newest id and count waiting
/// are brought up. Returns how many were inserted.
async fn insert_deliveries(
    transaction: &impl GenericClient,
    new: &[NewDelivery<'_>],
) -> Result<u64, tokio_postgres::Error> {
    if new.is_empty() {
        return Ok(0);
    }
    let mut lanes: Vec<&str> = new.iter().map(|new| new.event.lane.as_str()).collect();
    lanes.sort_unstable();
    lanes.dedup();
    transaction
        .execute(
            "INSERT INTO lanes (lane) SELECT l FROM unnest($1::text[]) AS u(l) ORDER BY l \
             ON CONFLICT (lane) DO UPDATE SET claimed_by = lanes.claimed_by",
            &[&lanes],
        )
        .await?;
    let webhooks: Vec<i64> = new.iter().map(|new| new.webhook_id).collect();
    let indexes: Vec<i32> = new.iter().map(|new| new.index).collect();
    let counts: Vec<i32> = new.iter().map(|new| new.events).collect();
    let names: Vec<&str> = new.iter().map(|new| new.event.lane.as_str()).collect();
    let keys: Vec<&[u8]> = new.iter().map(|new| &new.event.key[..]).collect();
    let kinds: Vec<_> = new
        .iter()
        .map(|new| super::text_column(&new.event.kind))
        .collect();
    let inserted = transaction
        .query(
            "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind) \
             SELECT w, i, n, l, k, t FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], \
             $5::bytea[], $6::text[]) WITH ORDINALITY AS u(w, i, n, l, k, t, o) ORDER BY o \
             ON CONFLICT (key) DO NOTHING RETURNING id, lane",
            &[&webhooks, &indexes, &counts, &names, &keys, &kinds],
        )
        .await?;
    let ids: Vec<i64> = inserted.iter().map(|row| row.get(0)).collect();
    let lanes: Vec<&str> = inserted.iter().map(|row| row.get(1)).collect();
    transaction
        .execute(
            "UPDATE lanes SET last_id = greatest(lanes.last_id, v.last), pending = lanes.pending + v.n \
             FROM (SELECT l, max(id) AS last, count(*)::int AS n FROM unnest($1::text[], $2::bigint[]) \
                   AS u(l, id) GROUP BY l) AS v \
             WHERE lanes.lane = v.l",
            &[&lanes, &ids],
        )
        .await?;
    Ok(ids.len() as u64)
}

/// A request to the writers.
enum Write {
    Accept(Incoming, oneshot::Sender<Result<Accepted, StoreError>>),
    DeadLetter(DeadLetter, oneshot::Sender<Result<i64, StoreError>>),
    /// A write probe (`/readyz`): answered once a write transaction took the tables' write
    /// locks and committed.
    Probe(oneshot::Sender<Result<(), StoreError>>),
}

impl Write {
    /// A write whose requester no longer waits (it was answered 503): not written, and its body
    /// (with its room in the memory budget) let go.
    fn abandoned(&self) -> bool {
        match self {
            Write::Accept(_, reply) => reply.is_closed(),
            Write::DeadLetter(_, reply) => reply.is_closed(),
            Write::Probe(reply) => reply.is_closed(),
        }
    }

    /// Answers the write with `written` (its own outcome) or `error`.
    fn answer(self, outcome: Result<Written, StoreError>) {
        // A requester that gave up no longer listens: nothing to do.
        match (self, outcome) {
            (Write::Accept(_, reply), Ok(Written::Webhook(accepted))) => drop(reply.send(Ok(accepted))),
            (Write::DeadLetter(_, reply), Ok(Written::Letter(id))) => drop(reply.send(Ok(id))),
            (Write::Probe(reply), Ok(Written::Probe)) => drop(reply.send(Ok(()))),
            (Write::Accept(_, reply), Err(error)) => drop(reply.send(Err(error))),
            (Write::DeadLetter(_, reply), Err(error)) => drop(reply.send(Err(error))),
            (Write::Probe(reply), Err(error)) => drop(reply.send(Err(error))),
            (write, Ok(_)) => write.answer(Err(StoreError("a write got another's answer".to_owned()))),
        }
    }
}

/// What one write of a group did.
#[derive(Clone, Copy, Debug)]
enum Written {
    Webhook(Accepted),
    Letter(i64),
    Probe,
}

/// A database call's outcome: its own result, or no answer within the timeout.
type Outcome<T> = Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>;

/// The pool, and the bound on every call made with its connections.
#[derive(Clone)]
struct Database {
    pool: Pool,
    timeout: Duration,
}

impl Database {
    /// A connection of the pool (waiting for one, or opening one, within the timeout).
    async fn get(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            // (The cause too: a certificate refused after a rotation says why.)
            .map_err(|error| {
                StoreError(format!(
                    "cannot reach PostgreSQL: {}",
                    crate::tls::explain(&error)
                ))
            })
    }

    /// `call` within the timeout.
    fn bounded<F: std::future::Future>(&self, call: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(self.timeout, call)
    }

    /// The result of a call made on `client`. A connection that did not answer in time, or that
    /// broke, is dropped instead of going back to the pool; so are the idle ones (whatever cut
    /// one, a network that forgot its connections, may have cut them all): the next calls open
    /// new connections.
    fn settle<T>(
        &self,
        client: deadpool_postgres::Object,
        outcome: Outcome<T>,
        what: &str,
    ) -> Result<T, StoreError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if error.is_closed() || error.as_db_error().is_none() {
                    self.discard(client);
                }
                Err(pg_error(what)(error))
            }
            Err(_) => {
                self.discard(client);
                Err(StoreError(format!(
                    "{what}: PostgreSQL did not answer within {} ms",
                    self.timeout.as_millis()
                )))
            }
        }
    }

    fn discard(&self, client: deadpool_postgres::Object) {
        drop(deadpool_postgres::Object::take(client));
        self.pool.retain(|_, _| false);
    }
}

/// The store in a PostgreSQL database. See the [module](self).
pub struct PostgresStore {
    db: Database,
    writes: Mutex<Option<mpsc::UnboundedSender<Write>>>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    listener: JoinHandle<()>,
    new_work: Arc<Notify>,
    /// This receiver, in `claimed_by`.
    owner: String,
    lease: Duration,
    /// Done marks not written yet (the database could not be reached): written with the next.
    unmarked: Mutex<Vec<(String, i64)>>,
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
        let (writes, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let writers = (0..WRITERS)
            .map(|_| {
                tokio::spawn(write_loop(
                    db.clone(),
                    Arc::clone(&queue),
                    Arc::clone(&new_work),
                    Arc::clone(&settings.observer),
                ))
            })
            .collect();
        let listener = tokio::spawn(listen(target, settings.timeout, Arc::clone(&new_work)));
        let owner = format!("{}:{}:{:08x}", hostname(), std::process::id(), rand_u32());
        Ok(PostgresStore {
            db,
            writes: Mutex::new(Some(writes)),
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
        let sent = match &*self
            .writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            Some(writes) => writes.send(write(reply)).map_err(|_| closed()),
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

/// A number that differs between two processes started at the same moment.
fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() as u32
}

/// A writer: takes every request waiting, writes them in one transaction, answers after the
/// commit; until the queue is closed and empty. When a group fails on something else than the
/// connection (a row the database refuses), each of its writes is tried again alone, so that one
/// write that cannot be stored never fails the others.
async fn write_loop(
    db: Database,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Write>>>,
    new_work: Arc<Notify>,
    observer: Arc<dyn super::Observer>,
) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(write) => group.push(write),
                    Err(_) => break,
                }
            }
            group
        };
        let group: Vec<Write> = group.into_iter().filter(|write| !write.abandoned()).collect();
        if group.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        match write(&db, &group).await {
            Ok(written) => {
                observer.committed(started.elapsed().as_secs_f64(), group.len());
                if written
                    .iter()
                    .any(|written| matches!(written, Ok(Written::Webhook(Accepted::New(_)))))
                {
                    new_work.notify_one();
                }
                for (write, written) in group.into_iter().zip(written) {
                    write.answer(written);
                }
            }
            Err((error, refused)) if refused && group.len() > 1 => {
                tracing::warn!(error = %error, writes = group.len(), "a group was refused; writing each of its writes alone");
                for write in group {
                    let outcome = write_alone(&db, &write).await;
                    match &outcome {
                        Ok(Written::Webhook(Accepted::New(_))) => new_work.notify_one(),
                        Ok(_) => {}
                        Err(error) => tracing::error!(error = %error, "a write was refused"),
                    }
                    write.answer(outcome);
                }
            }
            Err((error, _)) => {
                tracing::error!(error = %error, "a commit failed");
                for write in group {
                    write.answer(Err(error.clone()));
                }
            }
        }
    }
}

/// One write in a transaction of its own.
async fn write_alone(db: &Database, one: &Write) -> Result<Written, StoreError> {
    let written = write(db, std::slice::from_ref(one))
        .await
        .map_err(|(error, _)| error)?;
    written
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(StoreError("a write left no answer".to_owned())))
}

/// Writes `group` in one transaction, within the timeout; each write's answer, in order, or why
/// not and whether the database refused the group (rather than the connection failing).
async fn write(
    db: &Database,
    group: &[Write],
) -> Result<Vec<Result<Written, StoreError>>, (StoreError, bool)> {
    let mut client = db.get().await.map_err(|error| (error, false))?;
    let outcome = db.bounded(write_group(&mut client, group)).await;
    let refused = matches!(&outcome, Ok(Err(error)) if error.as_db_error().is_some());
    db.settle(client, outcome, "storing")
        .map_err(|error| (error, refused))
}

/// Writes one group in one transaction: the webhooks with one multi-row insert, the dead letters,
/// the probes' locks, the wake-up; returns each write's answer, in order.
async fn write_group(
    client: &mut deadpool_postgres::Object,
    group: &[Write],
) -> Result<Vec<Result<Written, StoreError>>, tokio_postgres::Error> {
    let accepts: Vec<&Incoming> = group
        .iter()
        .filter_map(|write| match write {
            Write::Accept(webhook, _) => Some(webhook),
            _ => None,
        })
        .collect();
    let transaction = client.transaction().await?;

    // Each key once (a retry can arrive with the first copy in the same group).
    let mut first: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    let mut unique = Vec::new();
    for (i, webhook) in accepts.iter().enumerate() {
        first.entry(&webhook.key[..]).or_insert_with(|| {
            unique.push(i);
            i
        });
    }
    let mut rows: std::collections::HashMap<Vec<u8>, Accepted> = std::collections::HashMap::new();
    if !unique.is_empty() {
        let insert = transaction
            .prepare_cached(
                "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
                 SELECT k, r::timestamptz, t, a, b \
                 FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS u(k, r, t, a, b) \
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key",
            )
            .await?;
        let keys: Vec<&[u8]> = unique.iter().map(|&i| &accepts[i].key[..]).collect();
        let times: Vec<&str> = unique.iter().map(|&i| accepts[i].received_at.as_str()).collect();
        let kinds: Vec<_> = unique
            .iter()
            .map(|&i| super::text_column(&accepts[i].kinds))
            .collect();
        let apps: Vec<_> = unique
            .iter()
            .map(|&i| accepts[i].app_id.as_deref().map(super::text_column))
            .collect();
        let bodies: Vec<&[u8]> = unique.iter().map(|&i| accepts[i].body.as_slice()).collect();
        for row in transaction
            .query(&insert, &[&keys, &times, &kinds, &apps, &bodies])
            .await?
        {
            rows.insert(row.get(1), Accepted::New(row.get(0)));
        }
        let missing: Vec<&[u8]> = keys
            .iter()
            .copied()
            .filter(|key| !rows.contains_key(*key))
            .collect();
        if !missing.is_empty() {
            let find = transaction
                .prepare_cached("SELECT id, idempotency_key FROM webhooks WHERE idempotency_key = ANY($1)")
                .await?;
            for row in transaction.query(&find, &[&missing]).await? {
                rows.insert(row.get(1), Accepted::Duplicate(row.get(0)));
            }
        }
        // The deliveries of the bodies stored now (a copy of a body in the same group is a
        // retry of it: not twice).
        let new: Vec<NewDelivery<'_>> = unique
            .iter()
            .filter_map(|&i| match rows.get(&accepts[i].key[..]) {
                Some(&Accepted::New(webhook_id)) => Some((webhook_id, accepts[i])),
                _ => None,
            })
            .flat_map(|(webhook_id, webhook)| {
                let events = i32::try_from(webhook.events.len()).unwrap_or(i32::MAX);
                webhook
                    .events
                    .iter()
                    .enumerate()
                    .map(move |(index, event)| NewDelivery {
                        webhook_id,
                        index: i32::try_from(index).unwrap_or(i32::MAX),
                        events,
                        event,
                    })
            })
            .collect();
        if insert_deliveries(&*transaction, &new).await? > 0 {
            wake(&*transaction).await?;
        }
    }
    let mut written = Vec::with_capacity(group.len());
    let mut accepted = 0;
    for write in group {
        written.push(match write {
            Write::Accept(webhook, _) => {
                let i = accepted;
                accepted += 1;
                match rows.get(&webhook.key[..]) {
                    // A copy of a key first seen in this group is a retry of it.
                    Some(&Accepted::New(id)) if first.get(&webhook.key[..]) != Some(&i) => {
                        Ok(Written::Webhook(Accepted::Duplicate(id)))
                    }
                    Some(&stored) => Ok(Written::Webhook(stored)),
                    // It conflicted, then was gone when looked up (the retention deleted the
                    // first copy meanwhile): not stored; the request gets an error, and comes
                    // again.
                    None => Err(StoreError(
                        "stored before and deleted meanwhile; retry".to_owned(),
                    )),
                }
            }
            Write::DeadLetter(dead, _) => {
                let letter = transaction
                    .prepare_cached(
                        "INSERT INTO dead_letters (received_at, status, error, size, body) \
                         VALUES ($1::text::timestamptz, $2, $3, $4, $5) RETURNING id",
                    )
                    .await?;
                let size = i64::try_from(dead.size).unwrap_or(i64::MAX);
                let status = i32::from(dead.status);
                let row = transaction
                    .query_one(
                        &letter,
                        &[
                            &dead.received_at,
                            &status,
                            &super::text_column(&dead.error),
                            &size,
                            &dead.body,
                        ],
                    )
                    .await?;
                Ok(Written::Letter(row.get(0)))
            }
            Write::Probe(_) => {
                // The locks an insert takes: refused while an operator holds the tables.
                transaction
                    .batch_execute("LOCK TABLE webhooks, dead_letters IN ROW EXCLUSIVE MODE")
                    .await?;
                Ok(Written::Probe)
            }
        });
    }
    transaction.commit().await?;
    Ok(written)
}

/// How often the listener checks that its connection still answers.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// The listener: `LISTEN` on a connection of its own, reconnecting when it is lost or stops
/// answering (checked every [`HEARTBEAT`], within `timeout`); each notification (and each new
/// connection, which may have missed some) wakes the application.
async fn listen(target: Target, timeout: Duration, new_work: Arc<Notify>) {
    let mut health = super::Health::default();
    loop {
        let listening = async {
            let (client, driver) = connect(&target, Some(Arc::clone(&new_work))).await?;
            tokio::time::timeout(timeout, client.batch_execute(&format!("LISTEN {CHANNEL}")))
                .await
                .map_err(|_| StoreError("LISTEN: no answer".to_owned()))?
                .map_err(pg_error("LISTEN"))?;
            Ok::<_, StoreError>((client, driver))
        }
        .await;
        health.report("listening for PostgreSQL notifications", &listening);
        if let Ok((client, mut driver)) = listening {
            new_work.notify_one();
            loop {
                tokio::select! {
                    _ = &mut driver => break,
                    () = tokio::time::sleep(HEARTBEAT) => {
                        let alive = tokio::time::timeout(timeout, client.simple_query("SELECT 1")).await;
                        if !matches!(alive, Ok(Ok(_))) {
                            tracing::warn!("the PostgreSQL connection for notifications does not answer; opening another");
                            driver.abort();
                            break;
                        }
                    }
                }
            }
            drop(client);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
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
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(client.query(
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
                ))
                .await;
            let rows = self.db.settle(client, outcome, "taking lanes")?;
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
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(client.query(
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
                ))
                .await;
            let rows = self.db.settle(client, outcome, "reading a lane")?;
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
            let mut marks_now = std::mem::take(&mut *self.unmarked.lock().unwrap_or_else(|p| p.into_inner()));
            marks_now.extend(marks);
            let ids: Vec<i64> = marks_now.iter().map(|(_, id)| *id).collect();
            let mut lanes: Vec<&str> = marks_now.iter().map(|(lane, _)| lane.as_str()).collect();
            lanes.sort_unstable();
            lanes.dedup();
            let mut client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(async {
                    let transaction = client.transaction().await?;
                    // The lanes in the order of their names, as every writer locks them.
                    transaction
                        .execute(
                            "SELECT 1 FROM lanes WHERE lane = ANY($1) ORDER BY lane FOR UPDATE",
                            &[&lanes],
                        )
                        .await?;
                    transaction
                        .execute(
                            "WITH marked AS ( \
                               INSERT INTO delivery_done (delivery_id) SELECT unnest($1::bigint[]) \
                               ON CONFLICT DO NOTHING RETURNING delivery_id), \
                             counted AS ( \
                               SELECT d.lane, count(*)::int AS n, max(d.id) AS last \
                               FROM deliveries AS d JOIN marked AS m ON m.delivery_id = d.id GROUP BY d.lane) \
                             UPDATE lanes SET pending = greatest(lanes.pending - counted.n, 0), \
                               done_through = greatest(lanes.done_through, counted.last) \
                             FROM counted WHERE lanes.lane = counted.lane",
                            &[&ids],
                        )
                        .await?;
                    transaction.commit().await
                })
                .await;
            let written = self.db.settle(client, outcome, "marking done");
            if let Err(error) = written {
                // Kept for the next mark.
                self.unmarked
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .extend(marks_now);
                return Err(error);
            }
            Ok(())
        })
    }

    fn failed(&self, delivery: &Stored, error: String, max_attempts: u32) -> StoreFuture<'_, Failed> {
        let (id, lane) = (delivery.id, delivery.lane.clone());
        Box::pin(async move {
            let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
            let error = super::text_column(&error).into_owned();
            let mut client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(async {
                    let transaction = client.transaction().await?;
                    let row = transaction
                        .query_opt(
                            "UPDATE deliveries SET attempts = attempts + 1, last_error = $2, \
                             state = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE state END \
                             WHERE id = $1 AND state = 'pending' RETURNING state, attempts",
                            &[&id, &error, &max],
                        )
                        .await?;
                    if row.as_ref().is_some_and(|row| row.get::<_, &str>(0) == "failed") {
                        // Set aside: its lane goes on past it.
                        transaction
                            .execute(
                                "UPDATE lanes SET done_through = greatest(done_through, $2), \
                                 pending = greatest(pending - 1, 0) WHERE lane = $1",
                                &[&lane, &id],
                            )
                            .await?;
                    }
                    transaction.commit().await?;
                    Ok(row.map(|row| (row.get::<_, String>(0), row.get::<_, i32>(1))))
                })
                .await;
            let row = self.db.settle(client, outcome, "recording a failure")?;
            Ok(match row {
                Some((state, attempts)) => {
                    let attempts = u32::try_from(attempts).unwrap_or(0);
                    if state == "failed" {
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
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(client.query(
                    "UPDATE lanes SET claimed_until = now() + make_interval(secs => $2) \
                     FROM (SELECT lane FROM lanes WHERE lane = ANY($1) AND claimed_by = $3 \
                           ORDER BY lane FOR UPDATE) AS held \
                     WHERE lanes.lane = held.lane AND lanes.claimed_by = $3 RETURNING lanes.lane",
                    &[&lanes, &self.lease_seconds(), &self.owner],
                ))
                .await;
            let rows = self.db.settle(client, outcome, "renewing the holds")?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn release(&self, lanes: Vec<String>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.db.get().await?;
            let outcome = self
                .db
                .bounded(async {
                    client
                        .execute(
                            "UPDATE lanes SET claimed_by = NULL, claimed_until = NULL \
                             FROM (SELECT lane FROM lanes WHERE lane = ANY($1) AND claimed_by = $2 \
                                   ORDER BY lane FOR UPDATE) AS held \
                             WHERE lanes.lane = held.lane",
                            &[&lanes, &self.owner],
                        )
                        .await?;
                    wake(&**client).await
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
                self.done(unmarked).await?;
            }
            self.listener.abort();
            self.db.pool.close();
            Ok(())
        })
    }
}

/// The administration commands on a PostgreSQL database, on a connection of their own.
pub struct PostgresAdmin {
    client: tokio::sync::Mutex<tokio_postgres::Client>,
    _driver: JoinHandle<()>,
    migrated: bool,
}

impl PostgresAdmin {
    /// Connects to the database at `url`.
    pub async fn connect(url: &str) -> Result<PostgresAdmin, StoreError> {
        let (client, driver) = connect(&config(url, None)?, None).await?;
        let migrated = check_schema(&client).await.is_ok();
        Ok(PostgresAdmin {
            client: tokio::sync::Mutex::new(client),
            _driver: driver,
            migrated,
        })
    }

    async fn schema(&self) -> Result<tokio::sync::MutexGuard<'_, tokio_postgres::Client>, StoreError> {
        let client = self.client.lock().await;
        if !self.migrated {
            check_schema(&*client).await?;
        }
        Ok(client)
    }
}

fn letter(row: &tokio_postgres::Row) -> Letter {
    Letter {
        id: row.get(0),
        received_at: row.get(1),
        status: u16::try_from(row.get::<_, i32>(2)).unwrap_or(0),
        error: row.get(3),
        size: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
        replayed_as: row.get(5),
        body: row.get(6),
    }
}

impl Admin for PostgresAdmin {
    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(async move {
            stats(&*self.schema().await?, true)
                .await
                .map_err(pg_error("counting"))
        })
    }

    fn dead_letters(&self, limit: usize) -> StoreFuture<'_, Vec<Letter>> {
        Box::pin(async move {
            let client = self.schema().await?;
            let rows = client
                .query(
                    concat!(
                        "SELECT id, ",
                        rfc3339!("received_at"),
                        ", status, error, size, webhook_id, ''::bytea FROM dead_letters \
                         ORDER BY id DESC LIMIT $1"
                    ),
                    &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .await
                .map_err(pg_error("listing dead letters"))?;
            Ok(rows.iter().map(letter).collect())
        })
    }

    fn dead_letter(&self, id: i64) -> StoreFuture<'_, Option<Letter>> {
        Box::pin(async move {
            let client = self.schema().await?;
            let row = client
                .query_opt(
                    concat!(
                        "SELECT id, ",
                        rfc3339!("received_at"),
                        ", status, error, size, webhook_id, body FROM dead_letters WHERE id = $1"
                    ),
                    &[&id],
                )
                .await
                .map_err(pg_error("reading a dead letter"))?;
            Ok(row.as_ref().map(letter))
        })
    }

    fn replay(&self, id: i64, webhook: Incoming) -> StoreFuture<'_, Accepted> {
        Box::pin(async move {
            let mut client = self.schema().await?;
            let error = pg_error("replaying");
            let transaction = client.transaction().await.map_err(&error)?;
            let replayed = transaction
                .query_opt(
                    "SELECT webhook_id FROM dead_letters WHERE id = $1 FOR UPDATE",
                    &[&id],
                )
                .await
                .map_err(&error)?;
            match replayed.map(|row| row.get::<_, Option<i64>>(0)) {
                None => return Err(StoreError(format!("no dead letter {id}"))),
                Some(Some(webhook)) => {
                    return Err(StoreError(format!(
                        "dead letter {id} was replayed before, as webhook {webhook}"
                    )))
                }
                Some(None) => {}
            }
            let inserted = transaction
                .query_opt(
                    "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body) \
                     VALUES ($1, $2::text::timestamptz, $3, $4, $5) \
                     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                    &[
                        &&webhook.key[..],
                        &webhook.received_at,
                        &super::text_column(&webhook.kinds),
                        &webhook.app_id.as_deref().map(super::text_column),
                        &webhook.body,
                    ],
                )
                .await
                .map_err(&error)?;
            let accepted = match inserted {
                Some(row) => {
                    let webhook_id = row.get(0);
                    let events = i32::try_from(webhook.events.len()).unwrap_or(i32::MAX);
                    let new: Vec<NewDelivery<'_>> = webhook
                        .events
                        .iter()
                        .enumerate()
                        .map(|(index, event)| NewDelivery {
                            webhook_id,
                            index: i32::try_from(index).unwrap_or(i32::MAX),
                            events,
                            event,
                        })
                        .collect();
                    insert_deliveries(&transaction, &new).await.map_err(&error)?;
                    Accepted::New(webhook_id)
                }
                None => Accepted::Duplicate(
                    transaction
                        .query_one(
                            "SELECT id FROM webhooks WHERE idempotency_key = $1",
                            &[&&webhook.key[..]],
                        )
                        .await
                        .map_err(&error)?
                        .get(0),
                ),
            };
            transaction
                .execute(
                    "UPDATE dead_letters SET replayed_at = now(), webhook_id = $2 WHERE id = $1",
                    &[&id, &accepted.id()],
                )
                .await
                .map_err(&error)?;
            wake(&transaction).await.map_err(&error)?;
            transaction.commit().await.map_err(&error)?;
            Ok(accepted)
        })
    }

    fn requeue(&self, lane: Option<String>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut client = self.schema().await?;
            let error = pg_error("requeueing");
            let transaction = client.transaction().await.map_err(&error)?;
            // Each to the back of its lane: a new row (a new id, after every other), the same key.
            let set_aside = transaction
                .query(
                    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE state = 'failed' \
                     AND ($1::text IS NULL OR lane = $1) ORDER BY id FOR UPDATE) \
                     RETURNING id, webhook_id, event_index, events, lane, key, kind",
                    &[&lane],
                )
                .await
                .map_err(&error)?;
            let mut set_aside: Vec<(i64, i64, i32, i32, EventMeta)> = set_aside
                .iter()
                .map(|row| {
                    let event = EventMeta {
                        lane: row.get(4),
                        key: row.get::<_, Vec<u8>>(5).try_into().unwrap_or([0; 32]),
                        kind: row.get(6),
                    };
                    (row.get(0), row.get(1), row.get(2), row.get(3), event)
                })
                .collect();
            set_aside.sort_by_key(|(id, ..)| *id);
            let new: Vec<NewDelivery<'_>> = set_aside
                .iter()
                .map(|(_, webhook_id, index, events, event)| NewDelivery {
                    webhook_id: *webhook_id,
                    index: *index,
                    events: *events,
                    event,
                })
                .collect();
            let count = insert_deliveries(&transaction, &new).await.map_err(&error)?;
            wake(&transaction).await.map_err(&error)?;
            transaction.commit().await.map_err(&error)?;
            Ok(count)
        })
    }

    fn migrate(&self) -> StoreFuture<'_, i64> {
        Box::pin(async move {
            let mut client = self.client.lock().await;
            check_durability(&*client).await?;
            migrate(&mut client).await
        })
    }
}
