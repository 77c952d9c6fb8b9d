//! The admin listener (`SMOOCH_ADMIN_LISTEN`, never the webhook port):
//!
//! - `GET /livez`: 200 while the process runs (for a supervisor's liveness check);
//! - `GET /readyz`: 200 when it takes webhooks; 503 while it shuts down, or when a write to the
//!   store would not complete within the store timeout (a real write, behind the requests' ones:
//!   an operator's lock, a stuck database, a broken store), with the reason (for a load balancer);
//! - `GET /metrics`: every metric, in the Prometheus text format.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::store::Store;

/// How long `/metrics` waits for the store's counts.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// What the admin endpoints read.
pub(crate) struct Admin {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) draining: watch::Receiver<bool>,
    /// How long a write may take before the receiver is not ready (`SMOOCH_STORE_TIMEOUT`).
    pub(crate) store_timeout: Duration,
    pub(crate) log_dropped: Option<tracing_appender::non_blocking::ErrorCounter>,
}

/// Serves the admin endpoints on `listener` until `stop` turns true.
pub(crate) async fn serve(listener: TcpListener, admin: Arc<Admin>, mut stop: watch::Receiver<bool>) {
    let router = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(admin);
    let stopped = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(error = %error, "the admin listener failed");
    }
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
