//! The PostgreSQL store's tables and their migrations: numbered, each applied once (rows of
//! `smooch_receiver_schema`), in one transaction under an advisory lock, so that two receivers
//! starting together migrate once.
//!
//! Version 2 made the event the unit of delivery: `deliveries` (one row per event, with its lane
//! and key), `delivery_done` (the done marks, appended) and `lanes`. Its migration gives each
//! webhook still pending or set aside its deliveries, read from its body, then drops the
//! webhooks' state and claim columns.

use tokio_postgres::GenericClient;

use super::connection::pg_error;
use crate::describe;
use crate::store::contract::{text_column, StoreError};

/// The advisory lock taken while migrating.
const MIGRATION_LOCK: i64 = 0x736d_6f6f_6368_5f72;

/// The migrations, each from the version before it: `(version, SQL)`. Version 2 (the event as
/// the unit of delivery, with its lane) has a step in Rust besides (each webhook not done gets its deliveries from its body), then
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

/// Refuses a server that may lose a commit it acknowledged.
pub(super) async fn check_durability(client: &impl GenericClient) -> Result<(), StoreError> {
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
pub(super) async fn migrate(client: &mut tokio_postgres::Client) -> Result<i64, StoreError> {
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
        let events = describe::stored_events(&body, &key, &kinds);
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
                        &text_column(&event.kind),
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
            "INSERT INTO lanes (lane, last_id, done_through) \
             SELECT lane, max(id), coalesce(min(id) FILTER (WHERE state = 'pending'), max(id) + 1) - 1 \
             FROM deliveries GROUP BY lane",
            &[],
        )
        .await?;
    Ok(carried)
}

/// Refuses a database whose schema is not this receiver's.
pub(super) async fn check_schema(client: &impl GenericClient) -> Result<(), StoreError> {
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
