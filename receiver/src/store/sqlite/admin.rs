//! [`SqliteAdmin`]: the administration commands on a SQLite file, in short transactions on a
//! connection of their own, beside the receiver that serves the file (which takes what they
//! give back within a second: deliveries requeued or replayed are written `requeued`, and the
//! receiver picks them up).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::schema::{check_version, migrate, SCHEMA_VERSION};
use super::{blocking, connect, fail, refuse_other_names_beside_a_receiver, sql_error};
use crate::store::{text_column, Accepted, Admin, Incoming, Letter, Stats, StoreError, StoreFuture};

/// How long an administration command waits for the receiver's writes.
const ADMIN_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The administration commands on a SQLite file. See the [module](self).
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

/// What the file holds, counted from the tables (in one read transaction: the counts agree).
fn stats(connection: &mut Connection) -> rusqlite::Result<Stats> {
    let transaction = connection.transaction()?;
    let count = |sql: &str| {
        transaction
            .query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    // Waiting: after the floor, pending, without a done mark.
    // (Given back by `requeue` and not taken yet: waiting too, wherever they are.)
    const WAITING: &str = "(d.id > (SELECT value FROM receiver_state WHERE name = 'delivery_floor') \
                           AND d.state = 'pending' \
                           AND NOT EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id) \
                           OR d.state = 'requeued')";
    let stats = Stats {
        webhooks: count("SELECT count(*) FROM webhooks")?,
        pending: count(&format!("SELECT count(*) FROM deliveries AS d WHERE {WAITING}"))?,
        lanes_waiting: count(&format!(
            "SELECT count(DISTINCT d.lane) FROM deliveries AS d WHERE {WAITING}"
        ))?,
        oldest_pending: transaction
            .query_row(
                &format!(
                    "SELECT w.received_at FROM deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id \
                     WHERE {WAITING} ORDER BY d.id LIMIT 1"
                ),
                [],
                |row| row.get(0),
            )
            .optional()?,
        done: count("SELECT count(*) FROM delivery_done")?,
        failed: count("SELECT count(*) FROM deliveries WHERE state = 'failed'")?,
        dead_letters: count("SELECT count(*) FROM dead_letters")?,
        dead_letters_waiting: count("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")?,
    };
    transaction.finish()?;
    Ok(stats)
}

impl Admin for SqliteAdmin {
    fn stats(&self) -> StoreFuture<'_, Stats> {
        blocking(&self.connection, stats)
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
                let mut stored = Vec::new();
                let accepted =
                    super::writer::insert(&transaction, &webhook, &mut stored).map_err(sql_error)?;
                // Written `requeued`: a running receiver takes them within a second (the next
                // to start, at its start).
                for delivery in &stored {
                    transaction
                        .execute(
                            "UPDATE deliveries SET state = 'requeued' WHERE id = ?1",
                            [delivery.id],
                        )
                        .map_err(sql_error)?;
                }
                transaction
                    .execute(
                        "UPDATE dead_letters SET replayed_at = ?2, webhook_id = ?3 WHERE id = ?1",
                        params![id, crate::store::now(), accepted.id()],
                    )
                    .map_err(sql_error)?;
                transaction.commit().map_err(sql_error)?;
                Ok(accepted)
            })
            .await
            .map_err(|error| StoreError(format!("the replay failed: {error}")))?
        })
    }

    fn requeue(&self, lane: Option<String>) -> StoreFuture<'_, u64> {
        blocking(&self.connection, move |connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let lane = lane.as_deref().map(text_column);
            // Each to the back of its lane: a new row (a new id, after every other), the same
            // key; written `requeued`, for the running receiver to take.
            let set_aside: Vec<(i64, i64, i64, String, Vec<u8>, String)> = transaction
                .prepare(
                    "SELECT webhook_id, event_index, events, lane, key, kind FROM deliveries \
                     WHERE state = 'failed' AND (?1 IS NULL OR lane = ?1) ORDER BY id",
                )?
                .query_map([&lane], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            transaction.execute(
                "DELETE FROM deliveries WHERE state = 'failed' AND (?1 IS NULL OR lane = ?1)",
                [&lane],
            )?;
            let mut again = transaction.prepare(
                "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind, state) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'requeued')",
            )?;
            for (webhook_id, index, events, lane, key, kind) in &set_aside {
                again.execute(params![webhook_id, index, events, lane, key, kind])?;
            }
            drop(again);
            transaction.commit()?;
            Ok(set_aside.len() as u64)
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
