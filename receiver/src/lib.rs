//! `smooch-receiver`: a Smooch / Sunshine Conversations webhook receiver, `POST /webhook`, that
//! stores every accepted body (in SQLite, or in PostgreSQL shared by several receivers) before
//! its 200, and hands each of its events to an [`Application`] from there: at least once, as
//! fast as the application takes them, in order within each conversation.
//!
//! The binary `smooch-receiver` runs it with [`LogApplication`], or [`Forward`] when
//! `SMOOCH_FORWARD_URL` is set (see the README). A Rust team embeds it with its own application,
//! which gets each event parsed:
//!
//! ```no_run
//! use smooch_receiver::{Application, Delivery, Failure, Options, Receiver};
//! use smooch_events::Webhook;
//!
//! struct Tickets;
//!
//! impl Application for Tickets {
//!     async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
//!         // One event; act on it once (by `delivery.key()`: it may come again after a crash).
//!         match delivery.event().map_err(|error| Failure::new(error.to_string()))? {
//!             Webhook::V2(body) => println!("{} {:?}", delivery.key(), body.events[0].conversation_id()),
//!             Webhook::V1(event) => println!("{} {}", delivery.key(), event.trigger()),
//!             _ => {} // a version this crate does not know yet
//!         }
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), String> {
//!     let options = Options {
//!         webhook_secrets: Some("old-secret-0123456789,new-secret-9876543210".to_owned()),
//!         store: "webhooks.sqlite3".to_owned(),
//!         ..Options::default()
//!     };
//!     let receiver = Receiver::open(&options).await?;
//!     let stop = async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     };
//!     receiver.serve(Tickets, stop).await.map_err(|broken| broken.0)
//! }
//! ```
//!
//! A request goes through these steps, the first that fails giving the answer: the key before any
//! byte of the body (401), the size (413, the body kept as a dead letter), room in memory (503),
//! the body under its timeout (408), the parse (400, a dead letter), the store (200 once durable,
//! 503 if it cannot be). The [`delivery`](crate::Delivery) then hands each event to the
//! application, lane by lane (see [`Application`]). On the shutdown signal the receiver stops
//! accepting, lets in-flight requests and deliveries finish within the shutdown deadline,
//! writes what is queued and returns `Ok`. A store that can no longer write makes it return
//! [`Broken`] after the same shutdown, for the process to exit 1 and a supervisor (systemd,
//! Kubernetes) to restart it.

pub mod commands;
pub mod config;
mod delivery;
mod describe;
pub mod forward;
mod http;
mod log;
pub mod metrics;
mod random;
pub mod store;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use crate::config::{Limits, Options};
pub use crate::delivery::{Application, Delivery, Failure, LogApplication};
pub use crate::forward::{Forward, ForwardSettings};
pub use crate::log::Logging;
use crate::metrics::Metrics;
use crate::store::{Settings, Store};

/// Why a receiver stopped other than when asked: the store broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken(pub String);

/// How often the histograms' samples are folded.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Deliveries (and bodies) deleted in one statement by the retention.
const PURGE_BATCH: usize = 500;

/// A receiver, its listeners bound and its store open: [`serve`](Self::serve) runs it.
pub struct Receiver {
    limits: Limits,
    secrets: describe::Secrets,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    listener: TcpListener,
    admin: Option<TcpListener>,
    log_dropped: Option<tracing_appender::non_blocking::ErrorCounter>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("address", &self.listener.local_addr().ok())
            .field("admin", &self.admin_address())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Checks `options`, opens (and migrates) the store they name, and binds the listeners.
    pub async fn open(options: &Options) -> Result<Receiver, String> {
        options.check()?;
        let metrics = Metrics::new();
        let settings = Settings {
            lease: options.limits.lease,
            wal_limit: options.limits.wal_limit,
            timeout: options.limits.store_timeout,
            observer: Arc::clone(&metrics) as Arc<dyn store::Observer>,
        };
        let store = store::open(&options.store, &settings)
            .await
            .map_err(|error| format!("cannot open the store: {error}"))?;
        Receiver::with_store(options, store, metrics).await
    }

    /// The same with a store of your own (`metrics` are those it reports to, if any).
    pub async fn with_store(
        options: &Options,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> Result<Receiver, String> {
        options.check()?;
        let secrets = describe::Secrets::new(options.secrets()?);
        let listener = http::bind(&options.listen, options.limits.backlog)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", options.listen))?;
        let admin = match &options.admin_listen {
            Some(address) => Some(
                http::bind(address, 128)
                    .await
                    .map_err(|error| format!("cannot listen on {address} (admin): {error}"))?,
            ),
            None => None,
        };
        Ok(Receiver {
            limits: options.limits.clone(),
            secrets,
            store,
            metrics,
            listener,
            admin,
            log_dropped: None,
        })
    }

    /// Counts the log lines `logging` dropped in the metrics.
    pub fn with_logging(mut self, logging: &Logging) -> Receiver {
        self.log_dropped = Some(logging.counter());
        self
    }

    /// The address the webhook listener is bound to.
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address the admin listener is bound to, if there is one.
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|admin| admin.local_addr().ok())
    }

    /// Runs the receiver: the HTTP side, `application` under supervision, the admin listener and
    /// the retention, until `shutdown` resolves (or the store breaks), then the shutdown within
    /// [`Limits::shutdown_timeout`], and the store closed.
    pub async fn serve<A: Application>(
        self,
        application: A,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Broken> {
        let Receiver {
            limits,
            secrets,
            store,
            metrics,
            listener,
            admin,
            log_dropped,
        } = self;
        warn_if_few_descriptors(limits.max_connections);
        let (stop, stopped) = watch::channel(false);
        let deadline = limits.shutdown_timeout;
        let shared =
            http::webhook::Shared::new(secrets, Arc::clone(&store), limits.clone(), Arc::clone(&metrics));
        let mut http = tokio::spawn(http::serve(listener, shared, stopped.clone()));
        // The admin listener stays up through the shutdown (its /readyz says 503 meanwhile).
        let (admin_stop, admin_stopped) = watch::channel(false);
        let admin = admin.map(|listener| {
            let admin = Arc::new(http::admin::Admin {
                store: Arc::clone(&store),
                metrics: Arc::clone(&metrics),
                draining: stopped.clone(),
                store_timeout: limits.store_timeout,
                log_dropped,
            });
            tokio::spawn(http::admin::serve(listener, admin, limits.clone(), admin_stopped))
        });
        let mut app = tokio::spawn(delivery::deliver(
            Arc::clone(&store),
            Arc::new(application),
            delivery::Settings {
                concurrency: limits.concurrency,
                max_attempts: limits.max_attempts,
                lease: limits.lease,
                shutdown: limits.shutdown_timeout,
            },
            Arc::clone(&metrics),
            stopped.clone(),
        ));
        let retention = tokio::spawn(retain(
            Arc::clone(&store),
            limits.retention,
            Arc::clone(&metrics),
            stopped.clone(),
        ));
        let upkeep = tokio::spawn(upkeep(Arc::clone(&metrics), stopped));

        let outcome = tokio::select! {
            () = shutdown => {
                tracing::info!(deadline_ms = deadline.as_millis() as u64, "shutting down");
                Ok(())
            }
            reason = store.broken() => {
                tracing::error!(reason = %reason, "the store is broken: shutting down, exit 1");
                Err(Broken(reason))
            }
            ended = &mut http => {
                tracing::error!(ended = ?ended.err(), "the HTTP server ended: shutting down, exit 1");
                Err(Broken("the HTTP server ended".to_owned()))
            }
        };
        let _ = stop.send(true);
        let deadline = tokio::time::Instant::now() + deadline;
        // Everything finishes within the deadline, whatever the database does: the server drops
        // its last connections at it, the application is cut short at it (its webhook stays
        // pending, to be done after the next start, or after its lease by another receiver), and
        // so is the store's close (a write still queued then was never answered 200).
        // (The server has the same deadline of its own, and logs what it dropped at it.)
        if tokio::time::timeout_at(deadline + Duration::from_secs(1), &mut http)
            .await
            .is_err()
        {
            http.abort();
        }
        match tokio::time::timeout_at(deadline, &mut app).await {
            Ok(failures) => tracing::info!(failures = failures.unwrap_or(0), "the delivery stopped"),
            Err(_) => {
                tracing::warn!("the delivery did not stop by the deadline; what it held comes again");
                app.abort();
            }
        }
        let mut retention = retention;
        if tokio::time::timeout_at(deadline, &mut retention).await.is_err() {
            retention.abort();
        }
        let _ = upkeep.await;
        let _ = admin_stop.send(true);
        if let Some(mut admin) = admin {
            if tokio::time::timeout_at(deadline, &mut admin).await.is_err() {
                admin.abort();
            }
        }
        match tokio::time::timeout_at(deadline, store.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "closing the store"),
            Err(_) => tracing::warn!(
                "the store did not close by the deadline; what it still held was never answered 200"
            ),
        }
        tracing::info!("stopped");
        outcome
    }
}

/// Deletes the deliveries done more than `retention` ago, and the bodies received more than
/// `retention` ago with no delivery left, [`PURGE_BATCH`] at a time, every `retention / 2` (at
/// most a minute), until `stop` turns true.
async fn retain(
    store: Arc<dyn Store>,
    retention: Duration,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let every = (retention / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(every) => {}
        }
        loop {
            match store.purge(retention, PURGE_BATCH).await {
                Ok(deleted) => {
                    metrics.purged.increment(deleted.webhooks);
                    if deleted.webhooks > 0 || deleted.deliveries > 0 {
                        tracing::debug!(
                            webhooks = deleted.webhooks,
                            deliveries = deleted.deliveries,
                            "deleted what is past the retention"
                        );
                    }
                    let full = deleted.webhooks.max(deleted.deliveries) >= PURGE_BATCH as u64;
                    if !full || *stop.borrow() {
                        break;
                    }
                    // Small batches, with room for the requests between them.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot delete what is past the retention");
                    break;
                }
            }
        }
    }
}

/// Folds the histograms' samples every [`UPKEEP_EVERY`], so that they do not pile up between two
/// scrapes (or without any), until `stop` turns true.
async fn upkeep(metrics: Arc<Metrics>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(UPKEEP_EVERY) => metrics.upkeep(),
        }
    }
}

/// Warns when the process may open fewer files than the connections allowed need (Linux).
fn warn_if_few_descriptors(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse::<usize>().ok());
    if let Some(soft) = soft.filter(|&soft| soft < max_connections + 64) {
        tracing::warn!(
            open_files = soft,
            max_connections,
            "the open-file limit is close to SMOOCH_MAX_CONNECTIONS: raise it (LimitNOFILE, ulimit -n) or lower the connections"
        );
    }
}
