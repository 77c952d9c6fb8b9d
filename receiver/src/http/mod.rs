//! The HTTP side: the two listeners, their connections, limits and timeouts ([`serve_connections`]),
//! `POST /webhook` ([`webhook`]) and the admin endpoints ([`admin`]).
//!
//! Both listeners serve their connections the same way, each with its own counts (the admin
//! listener's are smaller: [`admin::limits`]). Connections are served by hyper's HTTP/1 server,
//! one task each, at most [`Limits::max_connections`] at once (the others wait in the listen
//! backlog), and at most [`Limits::max_connections_per_address`] from one address (more are closed
//! at once, so that one host holding connections open cannot take the slots of the others: nor,
//! on the admin port, the file descriptors the webhook port needs). Each connection's socket
//! is wrapped in [`connection::TimedIo`], which closes it when the client is too slow: the headers
//! of a request must arrive within [`Limits::header_timeout`] of its first byte (of the accept,
//! for the first request), a kept-alive connection may stay idle [`Limits::idle_timeout`] between
//! requests, and a response write may stall [`Limits::write_timeout`]. The handler bounds the body
//! itself.
//!
//! hyper reads at most [`READ_BUFFER`] bytes of a connection ahead of the handler, so memory is
//! bounded by `max_connections × READ_BUFFER` plus [`Limits::max_buffered_bytes`].
//!
//! Each request is handled in a task of its own: a client that goes away while its body is being
//! stored does not cut the store short, and the request still gets its log line (with the row
//! id). A request that never reaches the handler (headers too large or malformed, answered by
//! hyper; headers that did not arrive in time) gets its line when its connection ends.

pub(crate) mod admin;
pub(crate) mod connection;
pub(crate) mod webhook;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{service_fn, Service as _};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;

use self::connection::{Phase, TimedIo};
use self::webhook::{Line, Peer, Shared};
use crate::config::Limits;
use crate::metrics::Metrics;

/// The most bytes hyper holds for one connection: the request's headers must fit (431 above), and
/// it reads no further ahead into a body than this.
pub(crate) const READ_BUFFER: usize = 16 * 1024;

/// A warning that repeats (a limit reached) comes at most this often.
const WARNING_EVERY: Duration = Duration::from_secs(10);

/// How long the accept loop pauses after an error (such as running out of file descriptors).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Opens a listening socket on `address` (`host:port`), with `backlog`.
pub(crate) async fn bind(address: &str, backlog: u32) -> io::Result<TcpListener> {
    let mut last = None;
    for address in tokio::net::lookup_host(address).await? {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(address).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the address resolves to nothing")))
}

/// Requests being handled, waited for at shutdown.
#[derive(Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One request being handled; done when dropped.
pub(crate) struct Handling(Arc<InFlight>);

impl InFlight {
    pub(crate) fn start(self: &Arc<Self>) -> Handling {
        self.count.fetch_add(1, Relaxed);
        Handling(Arc::clone(self))
    }

    /// Resolves once no request is being handled.
    async fn none(&self) {
        loop {
            let idle = self.idle.notified();
            if self.count.load(Relaxed) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Relaxed) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Open connections by address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// A connection counted in [`PerAddress`]; uncounted when dropped.
struct Counted(Arc<PerAddress>, IpAddr);

impl PerAddress {
    /// Counts a connection from `address`, unless it has `max` open already (0: no cap).
    fn admit(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(address).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(Counted(Arc::clone(self), address))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.0 .0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.1) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Logs `message` unless it was logged less than [`WARNING_EVERY`] ago.
fn warn_at_most_every(last: &mut Option<Instant>, listener: Listener, message: &str, max: usize) {
    if !matches!(last, Some(at) if at.elapsed() < WARNING_EVERY) {
        tracing::warn!(listener = listener.name(), max, "{message}");
        *last = Some(Instant::now());
    }
}

/// Which listener connections come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listener {
    /// `POST /webhook`: its connections are counted in the metrics, and a request cut short before
    /// the handler (headers too large, too slow) gets its log line, as every other request.
    Webhook,
    /// `/livez`, `/readyz` and `/metrics`: requests are not logged, connections not counted but
    /// for those refused.
    Admin,
}

impl Listener {
    /// Its name, in its log lines.
    fn name(self) -> &'static str {
        match self {
            Listener::Webhook => "webhook",
            Listener::Admin => "admin",
        }
    }

    /// The `reason` its connections closed at once (their address at its cap) are counted under.
    fn per_address(self) -> &'static str {
        match self {
            Listener::Webhook => "per_address",
            Listener::Admin => "admin_per_address",
        }
    }
}

/// Serves the webhook listener until `stop` turns true: see [`serve_connections`].
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) -> usize {
    let limits = shared.limits.clone();
    let metrics = Arc::clone(&shared.metrics);
    let router = webhook::router(shared);
    serve_connections(listener, Listener::Webhook, &limits, router, metrics, stop).await
}

/// Serves `listener` with `router` under `limits` until `stop` turns true, then stops accepting,
/// lets the connections finish their requests within [`Limits::shutdown_timeout`], and drops those
/// still open after it. Returns how many connections were dropped that way.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    kind: Listener,
    limits: &Limits,
    router: axum::Router,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let app = TowerToHyperService::new(router);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let in_flight = Arc::new(InFlight::default());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let (mut at_limit, mut at_address_limit) = (None, None);
    loop {
        while connections.try_join_next().is_some() {}
        if slots.available_permits() == 0 {
            warn_at_most_every(
                &mut at_limit,
                kind,
                "at the connection limit: new connections wait in the backlog",
                limits.max_connections,
            );
        }
        let slot = tokio::select! {
            biased;
            _ = stop.wait_for(|stop| *stop) => break,
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(error = %error, "accept failed");
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => break,
                    () = tokio::time::sleep(ACCEPT_PAUSE) => continue,
                }
            }
        };
        let Some(counted) = per_address.admit(peer.ip(), limits.max_connections_per_address) else {
            // Closed before a byte is read: no request, no line, but a warning now and then.
            drop(stream);
            metrics.refused(kind.per_address());
            warn_at_most_every(
                &mut at_address_limit,
                kind,
                "an address is at its connection limit: its new connections are closed",
                limits.max_connections_per_address,
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let phase = Phase::new();
        let io = TimedIo::new(stream, Arc::clone(&phase), limits);
        let app = app.clone();
        let (service_phase, service_flight) = (Arc::clone(&phase), Arc::clone(&in_flight));
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            service_phase.busy();
            request.extensions_mut().insert(Peer(peer));
            // In a task of its own: it ends (and logs) even if the client goes away.
            let handling = service_flight.start();
            let response = tokio::spawn({
                let call = app.call(request);
                async move {
                    let response = call.await;
                    drop(handling);
                    response
                }
            });
            let phase = Arc::clone(&service_phase);
            async move {
                let response = match response.await {
                    Ok(response) => response,
                    Err(error) => {
                        tracing::error!(error = %error, "a request's task failed");
                        let mut response = hyper::Response::new(axum::body::Body::from("internal error"));
                        *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                        Ok(response)
                    }
                };
                phase.idle();
                // hyper reads the socket again only once woken: wake this connection's task, so
                // that its next read (where the idle timeout starts) comes right after the answer.
                std::future::poll_fn(|cx| {
                    cx.waker().wake_by_ref();
                    Poll::Ready(())
                })
                .await;
                response
            }
        });
        let connection = http1::Builder::new()
            .header_read_timeout(None) // TimedIo times the headers and the idle wait instead
            .max_buf_size(READ_BUFFER)
            .serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        let metrics = Arc::clone(&metrics);
        if kind == Listener::Webhook {
            metrics.connections.increment(1.0);
        }
        connections.spawn(async move {
            let started = Instant::now();
            let ended = connection.await;
            if kind == Listener::Webhook && phase.cut_short() {
                refused_line(ended.as_ref().err(), &phase, started, peer, &metrics);
            } else if let Err(error) = ended {
                tracing::debug!(listener = kind.name(), peer = %peer, error = %error, "connection closed");
            }
            if kind == Listener::Webhook {
                metrics.connections.decrement(1.0);
            }
            drop((slot, counted));
        });
    }
    drop(listener);
    let open = graceful.count();
    match kind {
        Listener::Webhook => tracing::info!(open, "stopped accepting; finishing the open connections"),
        Listener::Admin => tracing::debug!(open, "admin listener: stopped accepting"),
    }
    let deadline = tokio::time::Instant::now() + limits.shutdown_timeout;
    let dropped = match tokio::time::timeout_at(deadline, graceful.shutdown()).await {
        Ok(()) => 0,
        Err(_) => {
            while connections.try_join_next().is_some() {}
            let dropped = connections.len();
            match kind {
                Listener::Webhook => tracing::warn!(
                    dropped,
                    "connections still open at the shutdown deadline are dropped (none was answered 200)"
                ),
                Listener::Admin => tracing::debug!(dropped, "admin listener: open connections dropped"),
            }
            connections.abort_all();
            dropped
        }
    };
    while connections.join_next().await.is_some() {}
    // Requests whose client went away finish storing (and logging) within the deadline.
    let _ = timeout(
        deadline.saturating_duration_since(tokio::time::Instant::now()),
        in_flight.none(),
    )
    .await;
    dropped
}

/// The log line of a request that never reached the handler: hyper refused its head (and answered
/// 400 or 431 itself), its headers did not arrive in time, or its client went away mid-head.
fn refused_line(
    error: Option<&hyper::Error>,
    phase: &Phase,
    started: Instant,
    peer: SocketAddr,
    metrics: &Metrics,
) {
    let (status, outcome) = match error {
        Some(error) if error.is_parse_too_large() => (Some(431), "headers too large"),
        Some(error) if error.is_parse() || error.is_parse_status() => (Some(400), "bad request"),
        _ if phase.timed_out() => (None, "header timeout"),
        _ => (None, "client gone"),
    };
    let mut line = Line::new(Some(Peer(peer)));
    line.outcome = outcome;
    line.log(status, started);
    metrics.request(status.unwrap_or(0), outcome);
}
