//! [`PostgresAdmin`]: the administration commands on a PostgreSQL database, on a connection of
//! their own, beside the receivers that share it (which take what they give back at once: a
//! `NOTIFY` wakes them).

use tokio::task::JoinHandle;
use tokio_postgres::GenericClient;

use super::connection::{config, connect, pg_error, rfc3339};
use super::schema::{check_durability, check_schema, migrate};
use super::writer::{insert_deliveries, lanes_of, lock_lanes, DeliveryStatements, NewDelivery};
use crate::store::contract::{
    text_column, Accepted, Admin, EventMeta, Incoming, Letter, Stats, StoreError, StoreFuture,
};

pub(super) async fn stats(client: &impl GenericClient, whole: bool) -> Result<Stats, tokio_postgres::Error> {
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
                "SELECT (SELECT count(*) FROM lanes AS l JOIN deliveries AS d \
                   ON d.lane = l.lane AND d.id > l.done_through \
                   WHERE l.last_id > l.done_through AND d.state = 'pending' \
                   AND NOT EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id)), \
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
                        &text_column(&webhook.kinds),
                        &webhook.app_id.as_deref().map(text_column),
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
                    let statements = DeliveryStatements::prepare(&transaction).await.map_err(&error)?;
                    let lanes = lanes_of(webhook.events.iter());
                    lock_lanes(&transaction, &statements, &lanes)
                        .await
                        .map_err(&error)?;
                    insert_deliveries(&transaction, &statements, &new)
                        .await
                        .map_err(&error)?;
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
            let statements = DeliveryStatements::prepare(&transaction).await.map_err(&error)?;
            let lanes = lanes_of(new.iter().map(|new| new.event));
            lock_lanes(&transaction, &statements, &lanes)
                .await
                .map_err(&error)?;
            let count = insert_deliveries(&transaction, &statements, &new)
                .await
                .map_err(&error)?;
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
