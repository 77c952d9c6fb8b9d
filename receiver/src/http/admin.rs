//! The admin listener (`SMOOCH_ADMIN_LISTEN`, never the webhook port):
//!
//! - `GET /livez`: 200 while the process runs (for a supervisor's liveness check);
//! - `GET /readyz`: 200 when it takes webhooks; 503 while it shuts down, or when a write to the
//!   store would not complete within the store timeout (a real write, behind the requests' ones:
//!   an operator's lock, a stuck database, a broken store), with the reason (for a load balancer);
//! - `GET /metrics`: every metric, in the Prometheus text format.
//!
//! Its connections are served as the webhook listener's, under the same timeouts
//! (`SMOOCH_HEADER_TIMEOUT`, `SMOOCH_IDLE_TIMEOUT`, `SMOOCH_WRITE_TIMEOUT`) and with counts of its
//! own ([`limits`]): a few probes and scrapers use it, and a host that opens connections to it
//! and never finishes their headers takes at most [`MAX_CONNECTIONS_PER_ADDRESS`] of them, for
//! the header timeout, instead of the file descriptors the webhook listener needs.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Listener;
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::store::Store;

/// How long `/metrics` waits for the store's counts.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// Open admin connections at most; more wait in the listen backlog.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// Open admin connections from one address at most; more are closed at once.
pub(crate) const MAX_CONNECTIONS_PER_ADDRESS: usize = 16;

/// How long, once everything else has stopped, the admin requests still running may take before
/// their connections are dropped (a probe or a scrape, which its client repeats).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// The admin listener's limits: the webhook listener's timeouts, its own counts and shutdown.
pub(crate) fn limits(webhook: &Limits) -> Limits {
    Limits {
        max_connections: MAX_CONNECTIONS,
        max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
        shutdown_timeout: SHUTDOWN_GRACE.min(webhook.shutdown_timeout),
        ..webhook.clone()
    }
}

/// What the admin endpoints read.
pub(crate) struct Admin {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) draining: watch::Receiver<bool>,
    /// How long a write may take before the receiver is not ready (`SMOOCH_STORE_TIMEOUT`).
    pub(crate) store_timeout: Duration,
    pub(crate) log_dropped: Option<tracing_appender::non_blocking::ErrorCounter>,
}

/// Serves the admin endpoints on `listener`, under [`limits`] of the webhook listener's `webhook`,
/// until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    admin: Arc<Admin>,
    webhook: Limits,
    stop: watch::Receiver<bool>,
) {
    // Where its refused connections are counted.
    let counts = Arc::clone(&admin.metrics);
    let router = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(admin);
    super::serve_connections(listener, Listener::Admin, &limits(&webhook), router, counts, stop).await;
}

async fn ready(State(admin): State<Arc<Admin>>) -> Response {
    if *admin.draining.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match tokio::time::timeout(admin.store_timeout, admin.store.ready()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(error)) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {error}")).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "store: a write did not complete within {} ms",
                admin.store_timeout.as_millis()
            ),
        )
            .into_response(),
    }
}

async fn metrics(State(admin): State<Arc<Admin>>) -> Response {
    let stats = match tokio::time::timeout(STORE_WAIT, admin.store.stats()).await {
        Ok(Ok(stats)) => Some(stats),
        _ => None,
    };
    let dropped = admin
        .log_dropped
        .as_ref()
        .map_or(0, |counter| counter.dropped_lines() as u64);
    let text = admin.metrics.render(stats.as_ref(), dropped);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}
