//! The SQLite file's tables, and the migrations that bring an older file to them
//! (`PRAGMA user_version` holds the version).
//!
//! Version 3 made the event the unit of delivery: `deliveries` (one row per event, with its lane
//! and key) and `delivery_done` (the done marks, appended), instead of a state on each webhook.
//! Its migration gives each webhook still pending or set aside its deliveries, read from its
//! body, then drops the webhooks' state columns (SQLite rewrites the table once for that).

use std::path::Path;

use rusqlite::{params, Connection};

use super::fail;
use crate::describe;
use crate::store::{text_column, StoreError};

/// The schema version this receiver writes.
pub const SCHEMA_VERSION: i64 = 3;

/// The migrations written in SQL, each from the version before it: `(version, SQL)`. Version 3
/// has a step in Rust besides ([`carry_webhooks`]), then [`DROP_WEBHOOK_STATE`].
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
    (
        3,
        "CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id INTEGER NOT NULL,
            event_index INTEGER NOT NULL,
            events INTEGER NOT NULL,
            lane TEXT NOT NULL,
            key BLOB NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed', 'requeued')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX deliveries_webhook ON deliveries (webhook_id);
        CREATE INDEX deliveries_set_aside ON deliveries (id) WHERE state <> 'pending';
        CREATE TABLE delivery_done (
            delivery_id INTEGER PRIMARY KEY,
            done_at TEXT NOT NULL
        );
        CREATE INDEX delivery_done_at ON delivery_done (done_at);
        CREATE TABLE receiver_state (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        INSERT INTO receiver_state (name, value) VALUES ('delivery_floor', 0);
        CREATE INDEX webhooks_received ON webhooks (received_at);",
    ),
];

/// The last part of version 3, once the webhooks' deliveries are made: their state goes.
pub const DROP_WEBHOOK_STATE: &str = "DROP INDEX webhooks_pending;
    DROP INDEX webhooks_done;
    DROP INDEX webhooks_failed;
    ALTER TABLE webhooks DROP COLUMN state;
    ALTER TABLE webhooks DROP COLUMN attempts;
    ALTER TABLE webhooks DROP COLUMN last_error;
    ALTER TABLE webhooks DROP COLUMN done_at;";

/// Brings the file to [`SCHEMA_VERSION`] in one transaction; returns the version it was at.
pub(super) fn migrate(connection: &mut Connection) -> rusqlite::Result<i64> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        transaction.execute_batch(sql)?;
        if *to == 3 {
            let carried = carry_webhooks(&transaction)?;
            transaction.execute_batch(DROP_WEBHOOK_STATE)?;
            if carried > 0 {
                tracing::info!(
                    deliveries = carried,
                    "gave the webhooks not done their deliveries"
                );
            }
        }
        transaction.execute_batch(&format!("PRAGMA user_version = {to}"))?;
    }
    transaction.commit()?;
    Ok(version)
}

/// Version 3: a delivery for each event of each webhook still pending (to be delivered) or set
/// aside (set aside still, with its failures); returns how many. Done webhooks get none: they were
/// delivered, and the retention deletes them.
fn carry_webhooks(connection: &Connection) -> rusqlite::Result<usize> {
    let mut webhooks = connection.prepare(
        "SELECT id, idempotency_key, kinds, state, attempts, last_error, body FROM webhooks \
         WHERE state IN ('pending', 'failed') ORDER BY id",
    )?;
    let mut insert = connection.prepare(
        "INSERT INTO deliveries (webhook_id, event_index, events, lane, key, kind, state, attempts, last_error) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (key) DO NOTHING",
    )?;
    let mut rows = webhooks.query([])?;
    let mut carried = 0;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let key: [u8; 32] = row.get::<_, Vec<u8>>(1)?.try_into().unwrap_or([0; 32]);
        let kinds: String = row.get(2)?;
        let state: String = row.get(3)?;
        let attempts: i64 = row.get(4)?;
        let last_error: Option<String> = row.get(5)?;
        let body: Vec<u8> = row.get(6)?;
        let events = describe::stored_events(&body, &key, &kinds);
        let count = events.len();
        for (index, event) in events.into_iter().enumerate() {
            carried += insert.execute(params![
                id,
                index as i64,
                count as i64,
                event.lane,
                &event.key[..],
                text_column(&event.kind),
                state,
                attempts,
                last_error
            ])?;
        }
    }
    Ok(carried)
}

/// Refuses a file whose schema is newer than this receiver's; returns its version.
pub(super) fn check_version(connection: &Connection, path: &Path) -> Result<i64, StoreError> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::Settings;

    #[test]
    fn an_old_file_is_migrated_once_and_a_newer_one_refused() {
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
        let columns: Vec<String> = connection
            .prepare("SELECT name FROM pragma_table_info('webhooks')")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            columns,
            ["id", "idempotency_key", "received_at", "kinds", "app_id", "body"]
        );
        connection
            .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        drop(connection);
        let settings = Settings {
            lease: Duration::from_secs(60),
            wal_limit: 1 << 20,
            timeout: Duration::from_secs(4),
            observer: std::sync::Arc::new(()),
        };
        let error = SqliteStore::open(&path, &settings).err().unwrap();
        assert!(error.0.contains("newer than this receiver's"), "{error}");
    }
}
