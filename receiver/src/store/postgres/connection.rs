//! The connections of the PostgreSQL store: their settings (TLS as libpq reads the URL,
//! timeouts, keepalives), the pool with the bound on every call ([`Database`]), and the connection
//! that listens for the wake-ups.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Row};

use super::tls::Target;
use crate::store::contract::{Health, StoreError};

/// The channel of the wake-ups.
pub(super) const CHANNEL: &str = "smooch_receiver";

/// How long opening a connection may take (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// TCP keepalives on every connection: an idle connection that the network dropped is found out
/// in about `KEEPALIVE_IDLE + KEEPALIVE_INTERVAL × KEEPALIVE_RETRIES` (25 s), and one whose
/// writes go unacknowledged in [`USER_TIMEOUT`].
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
const USER_TIMEOUT: Duration = Duration::from_secs(30);

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

pub(super) use rfc3339;

pub(super) fn pg_error(what: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
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
pub(super) fn config(url: &str, statement_timeout: Option<Duration>) -> Result<Target, StoreError> {
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
pub(super) async fn connect(
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

/// Wakes every receiver's application (`NOTIFY`, sent with the transaction's commit), with
/// [`CHANNEL`] as its one parameter.
pub(super) const WAKE: &str = "SELECT pg_notify($1, '')";

/// A database call's outcome: its own result, or no answer within the timeout.
pub(super) type Outcome<T> = Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>;

/// The pool, and the bound on every call made with its connections.
#[derive(Clone)]
pub(super) struct Database {
    pub(super) pool: Pool,
    pub(super) timeout: Duration,
}

impl Database {
    /// A connection of the pool (waiting for one, or opening one, within the timeout).
    pub(super) async fn get(&self) -> Result<deadpool_postgres::Object, StoreError> {
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

    /// The rows of `sql` (prepared once per connection: [`cached`]) on a connection of the pool,
    /// within the timeout, settled by [`Database::settle`]; `what` names the call in an error.
    pub(super) async fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.get().await?;
        let outcome = self.bounded(cached::query(&client, sql, params)).await;
        self.settle(client, outcome, what)
    }

    /// The row of `sql`, if any, as [`Database::query`] runs it.
    pub(super) async fn query_opt(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let client = self.get().await?;
        let outcome = self.bounded(cached::query_opt(&client, sql, params)).await;
        self.settle(client, outcome, what)
    }

    /// How many rows `sql` changed, as [`Database::query`] runs it.
    pub(super) async fn execute(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.get().await?;
        let outcome = self.bounded(cached::execute(&client, sql, params)).await;
        self.settle(client, outcome, what)
    }

    /// `call` within the timeout.
    pub(super) fn bounded<F: std::future::Future>(&self, call: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(self.timeout, call)
    }

    /// The result of a call made on `client`. A connection that did not answer in time, or that
    /// broke, is dropped instead of going back to the pool; so are the idle ones (whatever cut
    /// one, a network that forgot its connections, may have cut them all): the next calls open
    /// new connections.
    pub(super) fn settle<T>(
        &self,
        client: deadpool_postgres::Object,
        outcome: Outcome<T>,
        what: &str,
    ) -> Result<T, StoreError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if error.is_closed() || error.as_db_error().is_none() || stale_statement(&error) {
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

    /// Drops `client` instead of giving it back, and the idle connections with it.
    fn discard(&self, client: deadpool_postgres::Object) {
        drop(deadpool_postgres::Object::take(client));
        self.pool.retain(|_, _| false);
    }
}

/// Whether `error` comes of a statement the connection prepared before the schema changed under
/// it (a migration by another receiver): "cached plan must not change result type", or a
/// prepared statement the server no longer has. Such a connection fails every call of that
/// statement again; a new one prepares it anew.
fn stale_statement(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.code().is_some_and(|code| {
        *code == SqlState::INVALID_SQL_STATEMENT_NAME
            || (*code == SqlState::FEATURE_NOT_SUPPORTED
                && error
                    .as_db_error()
                    .is_some_and(|db| db.message().starts_with("cached plan must not change")))
    })
}

/// How often the listener checks that its connection still answers.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// The listener: `LISTEN` on a connection of its own, reconnecting when it is lost or stops
/// answering (checked every [`HEARTBEAT`], within `timeout`); each notification (and each new
/// connection, which may have missed some) wakes the application.
pub(super) async fn listen(target: Target, timeout: Duration, new_work: Arc<Notify>) {
    let mut health = Health::default();
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

/// Calls with statements prepared once per connection (the pool's statement cache): the
/// receiver's hot statements are parsed and planned once, not on every call.
pub(super) mod cached {
    use deadpool_postgres::Object;
    use tokio_postgres::types::ToSql;
    use tokio_postgres::{Error, Row};

    /// The rows `sql` returns.
    pub(in crate::store::postgres) async fn query(
        client: &Object,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let statement = client.prepare_cached(sql).await?;
        client.query(&statement, params).await
    }

    /// The row `sql` returns, if any.
    pub(in crate::store::postgres) async fn query_opt(
        client: &Object,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let statement = client.prepare_cached(sql).await?;
        client.query_opt(&statement, params).await
    }

    /// How many rows `sql` changed.
    pub(in crate::store::postgres) async fn execute(
        client: &Object,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let statement = client.prepare_cached(sql).await?;
        client.execute(&statement, params).await
    }
}
