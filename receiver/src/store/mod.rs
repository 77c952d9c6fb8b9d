//! The store: where an accepted body is kept before its 200, with a delivery for each of its
//! events; where a refused one is kept for an operator; and where the receivers take their
//! deliveries, lane by lane.
//!
//! [`Store`] is the whole contract between the HTTP side, the delivery and the storage; a
//! receiver holds an `Arc<dyn Store>` and knows nothing else of it. [`Admin`] is what the
//! administration commands do to a store, also while a receiver runs. Two implementations, with
//! the same tables, the same keys and the same guarantees:
//!
//! - [`sqlite`]: one file, one receiver process (a second one on the same file is refused); its
//!   lanes are kept in memory;
//! - [`postgres`]: one database shared by any number of receivers, which take lanes with
//!   `FOR UPDATE SKIP LOCKED` and a lease.
//!
//! The tables (SQLite's; PostgreSQL has the same with `timestamptz` and `bytea`, and a table of
//! its lanes):
//!
//! ```sql
//! CREATE TABLE webhooks (                 -- each accepted body, once
//!     id INTEGER PRIMARY KEY,
//!     idempotency_key BLOB NOT NULL UNIQUE,  -- SHA-256 of the body
//!     received_at TEXT NOT NULL,             -- RFC 3339, UTC, milliseconds
//!     kinds TEXT NOT NULL,                   -- the trigger (v1), or the event types (v2)
//!     app_id TEXT,
//!     body BLOB NOT NULL                     -- exactly as received
//! );
//! CREATE TABLE deliveries (               -- each event to deliver, once
//!     id INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of arrival, never reused
//!     webhook_id INTEGER NOT NULL,           -- the body it came in
//!     event_index INTEGER NOT NULL,          -- its place in that body's events
//!     events INTEGER NOT NULL,               -- how many events that body holds
//!     lane TEXT NOT NULL,                    -- conversation:…, user:…, appUser:…, event:…
//!     key BLOB NOT NULL UNIQUE,              -- the event's key: the Idempotency-Key
//!     kind TEXT NOT NULL,                    -- the trigger or the event's type
//!     state TEXT NOT NULL DEFAULT 'pending', -- pending, failed (set aside), requeued
//!     attempts INTEGER NOT NULL DEFAULT 0,   -- failures of the application on it
//!     last_error TEXT
//! );
//! CREATE TABLE delivery_done (            -- done marks, appended
//!     delivery_id INTEGER PRIMARY KEY,
//!     done_at TEXT NOT NULL
//! );
//! CREATE TABLE dead_letters (             -- refused bodies
//!     id INTEGER PRIMARY KEY,
//!     received_at TEXT NOT NULL,
//!     status INTEGER NOT NULL,               -- 400 or 413
//!     error TEXT NOT NULL,
//!     size INTEGER NOT NULL,                 -- of the whole body
//!     body BLOB NOT NULL,                    -- the body, or its first 64 KiB when over the limit
//!     replayed_at TEXT,
//!     webhook_id INTEGER                     -- the webhook it was replayed as
//! );
//! ```
//!
//! [`open`] and [`open_admin`] choose between them by the location: `postgres://…` or
//! `postgresql://…` (the scheme in any case) is PostgreSQL, another `scheme://…` is refused, and
//! anything else is a SQLite file.

mod contract;
pub mod postgres;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

pub use self::contract::*;
use crate::config::{is_scheme, redact_url};

/// Where a store is, as [`locate`] reads `SMOOCH_STORE`.
enum Location {
    /// A PostgreSQL URL, its scheme in lower case (as tokio-postgres takes it).
    Postgres(String),
    /// A SQLite file.
    Sqlite(PathBuf),
}

/// Reads a store's location: `postgres://…` or `postgresql://…`, the scheme in any case, is
/// PostgreSQL; another `scheme://…` is refused (a typo, or a database this receiver does not
/// speak: taken for a file path, it would be created as one and shown whole in the errors);
/// anything else is a SQLite file.
fn locate(location: &str) -> Result<Location, StoreError> {
    match location.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") =>
        {
            Ok(Location::Postgres(format!(
                "{}://{rest}",
                scheme.to_ascii_lowercase()
            )))
        }
        Some((scheme, _)) if is_scheme(scheme) => Err(StoreError(format!(
            "SMOOCH_STORE: {}: neither a SQLite file nor a postgres:// URL",
            redact_url(location)
        ))),
        _ => Ok(Location::Sqlite(PathBuf::from(location))),
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(location: &str) -> bool {
    matches!(locate(location), Ok(Location::Postgres(_)))
}

/// Opens the store at `location` for a receiver (migrating it first).
pub async fn open(location: &str, settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    match locate(location)? {
        Location::Postgres(url) => Ok(Arc::new(postgres::PostgresStore::open(&url, settings).await?)),
        Location::Sqlite(path) => {
            let settings = settings.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path, &settings))
                .await
                .map_err(|error| StoreError(format!("opening the store: {error}")))??;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the store at `location` for the administration commands. Only `migrate` (`create`)
/// makes a SQLite file that does not exist; the other commands refuse a store without this
/// receiver's tables.
pub async fn open_admin(location: &str, create: bool) -> Result<Box<dyn Admin>, StoreError> {
    match locate(location)? {
        Location::Postgres(url) => Ok(Box::new(postgres::PostgresAdmin::connect(&url).await?)),
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteAdmin::open(&path, create)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_in_any_case_is_postgres_another_url_refused_and_anything_else_a_file() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h/db",
            "Postgres://u@h/db",
            "POSTGRESQL://u@h/db",
        ] {
            assert!(is_postgres(url), "{url}");
        }
        assert!(matches!(
            locate("PostgreSQL://u:pw@h/db"),
            Ok(Location::Postgres(url)) if url == "postgresql://u:pw@h/db"
        ));
        for path in [
            "postgres.sqlite3",
            "/var/lib/smooch/webhooks.sqlite3",
            "./odd://name",
        ] {
            assert!(
                matches!(locate(path), Ok(Location::Sqlite(p)) if p.to_str() == Some(path)),
                "{path}"
            );
        }
        let Err(error) = locate("mysql://u:hunter2@h/db?password=hunter2") else {
            panic!("a MySQL URL taken");
        };
        assert_eq!(
            error.0,
            "SMOOCH_STORE: mysql://u:***@h/db?password=***: neither a SQLite file nor a postgres:// URL"
        );
    }
}
