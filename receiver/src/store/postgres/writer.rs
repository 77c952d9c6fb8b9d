//! The PostgreSQL store's writers: [`WRITERS`] tasks, each on its own connection, take every
//! request waiting (up to [`MAX_GROUP`]) and write them in one transaction: the bodies with one
//! multi-row `INSERT … SELECT … FROM unnest(…) ON CONFLICT (idempotency_key) DO NOTHING`, their
//! deliveries at the back of their lanes, the dead letters, the wake-up; the commit returns once
//! PostgreSQL has flushed its WAL, and only then is each request answered. A key that conflicts is
//! looked up: a retry is answered 200 with the row stored first, by whichever receiver.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Statement};

use super::connection::{Database, CHANNEL, WAKE};
use crate::store::contract::{text_column, Accepted, DeadLetter, EventMeta, Incoming, Observer, StoreError};

/// The most requests written in one transaction.
pub const MAX_GROUP: usize = 512;

/// Tasks writing groups at once, each on its own connection: while one waits for its commit,
/// the next group is written.
pub const WRITERS: usize = 4;

/// A delivery to insert: the row of its body, its place among the body's events, and the event.
pub(super) struct NewDelivery<'a> {
    pub(super) webhook_id: i64,
    pub(super) index: i32,
    pub(super) events: i32,
    pub(super) event: &'a EventMeta,
}

/// The statements of [`insert_deliveries`], prepared on the connection that runs them.
pub(super) struct DeliveryStatements {
    lock: Statement,
    insert: Statement,
    update: Statement,
    /// `WAKE`: wakes every receiver at the commit.
    notify: Statement,
}

/// Locks the lanes of a group (in the order of their names; created when new).
const LOCK_LANES: &str = "INSERT INTO lanes (lane) SELECT l FROM unnest($1::text[]) AS u(l) ORDER BY l \
    ON CONFLICT (lane) DO UPDATE SET claimed_by = lanes.claimed_by";

/// Inserts deliveries in their order, those of a key stored before left out.
const INSERT_DELIVERIES: &str = "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind) \
    SELECT w, i, n, l, k, t FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::bytea[], \
    $6::text[]) WITH ORDINALITY AS u(w, i, n, l, k, t, o) ORDER BY o \
    ON CONFLICT (key) DO NOTHING RETURNING id, lane";

/// Brings up the lanes' newest id.
const UPDATE_LANES: &str = "UPDATE lanes SET last_id = greatest(lanes.last_id, v.last) \
    FROM (SELECT l, max(id) AS last FROM unnest($1::text[], $2::bigint[]) AS u(l, id) GROUP BY l) AS v \
    WHERE lanes.lane = v.l";

impl DeliveryStatements {
    /// Prepared once on a connection of the pool (its statement cache), for the writers.
    pub(super) async fn cached(
        client: &deadpool_postgres::Transaction<'_>,
    ) -> Result<Self, tokio_postgres::Error> {
        Ok(DeliveryStatements {
            lock: client.prepare_cached(LOCK_LANES).await?,
            insert: client.prepare_cached(INSERT_DELIVERIES).await?,
            update: client.prepare_cached(UPDATE_LANES).await?,
            notify: client.prepare_cached(WAKE).await?,
        })
    }

    /// Prepared now, for a connection of its own (the administration commands).
    pub(super) async fn prepare(client: &impl GenericClient) -> Result<Self, tokio_postgres::Error> {
        Ok(DeliveryStatements {
            lock: client.prepare(LOCK_LANES).await?,
            insert: client.prepare(INSERT_DELIVERIES).await?,
            update: client.prepare(UPDATE_LANES).await?,
            notify: client.prepare(WAKE).await?,
        })
    }
}

/// The lanes of `events`, each once, in the order [`lock_lanes`] locks them.
pub(super) fn lanes_of<'a>(events: impl Iterator<Item = &'a EventMeta>) -> Vec<&'a str> {
    let mut lanes: Vec<&str> = events.map(|event| event.lane.as_str()).collect();
    lanes.sort_unstable();
    lanes.dedup();
    lanes
}

/// Locks `lanes` (from [`lanes_of`]: in the order of their names, created when new) before
/// [`insert_deliveries`] adds to them in the same transaction: two transactions adding to one lane
/// then commit in the order of the ids they give, and two transactions never wait for each other
/// in a circle.
pub(super) async fn lock_lanes(
    transaction: &impl GenericClient,
    statements: &DeliveryStatements,
    lanes: &[&str],
) -> Result<(), tokio_postgres::Error> {
    if !lanes.is_empty() {
        transaction.execute(&statements.lock, &[&lanes]).await?;
    }
    Ok(())
}

/// Inserts deliveries, each at the back of its lane (locked before by [`lock_lanes`]): a delivery
/// whose key is stored already is not inserted; the lanes' newest id is brought up and, when any
/// was inserted, every receiver woken (the two sent at once). Returns how many were inserted.
pub(super) async fn insert_deliveries(
    transaction: &impl GenericClient,
    statements: &DeliveryStatements,
    new: &[NewDelivery<'_>],
) -> Result<u64, tokio_postgres::Error> {
    if new.is_empty() {
        return Ok(0);
    }
    let webhooks: Vec<i64> = new.iter().map(|new| new.webhook_id).collect();
    let indexes: Vec<i32> = new.iter().map(|new| new.index).collect();
    let counts: Vec<i32> = new.iter().map(|new| new.events).collect();
    let names: Vec<&str> = new.iter().map(|new| new.event.lane.as_str()).collect();
    let keys: Vec<&[u8]> = new.iter().map(|new| &new.event.key[..]).collect();
    let kinds: Vec<_> = new.iter().map(|new| text_column(&new.event.kind)).collect();
    let inserted = transaction
        .query(
            &statements.insert,
            &[&webhooks, &indexes, &counts, &names, &keys, &kinds],
        )
        .await?;
    let ids: Vec<i64> = inserted.iter().map(|row| row.get(0)).collect();
    let lanes: Vec<&str> = inserted.iter().map(|row| row.get(1)).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let params: [&(dyn ToSql + Sync); 2] = [&lanes, &ids];
    let wake: [&(dyn ToSql + Sync); 1] = [&CHANNEL];
    // (`biased`: sent in this order, and an error of the first is the one returned.)
    tokio::try_join!(
        biased;
        transaction.execute(&statements.update, &params),
        transaction.execute(&statements.notify, &wake)
    )?;
    Ok(ids.len() as u64)
}

/// A request to the writers.
pub(super) enum Write {
    Accept(Incoming, oneshot::Sender<Result<Accepted, StoreError>>),
    DeadLetter(DeadLetter, oneshot::Sender<Result<i64, StoreError>>),
    /// A write probe (`/readyz`): answered once a write transaction took the tables' write
    /// locks and committed.
    Probe(oneshot::Sender<Result<(), StoreError>>),
}

impl Write {
    /// The lane of the write's first delivery, if it has one.
    pub(super) fn lane(&self) -> Option<&str> {
        match self {
            Write::Accept(webhook, _) => webhook.events.first().map(|event| event.lane.as_str()),
            _ => None,
        }
    }

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

/// A writer: takes every request waiting in its queue, writes them in one transaction, answers after the
/// commit; until the queue is closed and empty. When a group fails on something else than the
/// connection (a row the database refuses), each of its writes is tried again alone, so that one
/// write that cannot be stored never fails the others.
pub(super) async fn write_loop(
    db: Database,
    mut queue: mpsc::UnboundedReceiver<Write>,
    new_work: Arc<Notify>,
    observer: Arc<dyn Observer>,
) {
    loop {
        let group = {
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
        let kinds: Vec<_> = unique.iter().map(|&i| text_column(&accepts[i].kinds)).collect();
        let apps: Vec<_> = unique
            .iter()
            .map(|&i| accepts[i].app_id.as_deref().map(text_column))
            .collect();
        let bodies: Vec<&[u8]> = unique.iter().map(|&i| accepts[i].body.as_slice()).collect();
        // The lanes of every body are locked first (those of a copy stored before too: harmless),
        // sent with the insert of the bodies, in that order.
        let statements = DeliveryStatements::cached(&transaction).await?;
        let lanes = lanes_of(unique.iter().flat_map(|&i| accepts[i].events.iter()));
        let params: [&(dyn ToSql + Sync); 5] = [&keys, &times, &kinds, &apps, &bodies];
        let ((), inserted) = tokio::try_join!(
            biased;
            lock_lanes(&*transaction, &statements, &lanes),
            transaction.query(&insert, &params)
        )?;
        for row in inserted {
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
        insert_deliveries(&*transaction, &statements, &new).await?;
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
                            &text_column(&dead.error),
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
