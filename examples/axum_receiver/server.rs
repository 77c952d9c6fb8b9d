//! The HTTP side: the listener, the connections and their timeouts, and `POST /webhook`.
//!
//! Connections are served by hyper's HTTP/1 server, one task each, at most
//! [`Limits::max_connections`] at once (the others wait in the listen backlog). Each connection's
//! socket is wrapped in [`TimedIo`], which closes it when the client is too slow: the headers of a
//! request must arrive within [`Limits::header_timeout`] of its first byte (of the accept, for the
//! first request), a kept-alive connection may stay idle [`Limits::idle_timeout`] between requests,
//! and a response write may stall [`Limits::write_timeout`]. The handler bounds the body itself:
//! [`Limits::body_timeout`], [`Limits::max_body`], and room in [`Budget`] before the first byte.
//!
//! hyper reads at most [`READ_BUFFER`] bytes of a connection ahead of the handler, so memory is
//! bounded by `max_connections × READ_BUFFER` plus [`Limits::max_buffered_bytes`].

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONNECTION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{service_fn, Service as _};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use smooch_events::{WebhookError, WebhookSecrets};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{timeout, Sleep};

use super::body;
use super::config::Limits;
use super::log::{Opt, Shown};
use super::store::{self, Accepted, DeadLetter, Incoming as Webhook, Store, DEAD_LETTER_PREFIX};

/// The most bytes hyper holds for one connection: the request's headers must fit, and it reads no
/// further ahead into a body than this.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// The warning that the connections are at their limit comes at most this often.
const LIMIT_WARNING_EVERY: Duration = Duration::from_secs(10);

/// How long the accept loop pauses after an error (such as running out of file descriptors).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Opens the listening socket on `address` (`host:port`), with `backlog`.
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

/// What every request handler shares.
pub(crate) struct Shared {
    /// The valid secrets and the body limit.
    pub(crate) secrets: WebhookSecrets,
    /// Where accepted and refused bodies go.
    pub(crate) store: Arc<dyn Store>,
    /// The limits.
    pub(crate) limits: Limits,
    /// Room for bodies in memory.
    pub(crate) budget: Budget,
}

impl Shared {
    /// The state of a receiver: `secrets` (whose body limit is replaced by `limits.max_body`).
    pub(crate) fn new(secrets: WebhookSecrets, store: Arc<dyn Store>, limits: Limits) -> Arc<Shared> {
        Arc::new(Shared {
            secrets: secrets.with_max_body(limits.max_body),
            store,
            budget: Budget::new(limits.max_buffered_bytes),
            limits,
        })
    }
}

/// The routes: `POST /webhook`; any other method or path is refused (405, 404).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/webhook", post(receive).fallback(wrong_method))
        .fallback(not_found)
        .with_state(shared)
}

/// Serves `listener` until `stop` turns true, then stops accepting, lets the connections finish
/// their requests within [`Limits::shutdown_timeout`], and drops those still open after it.
/// Returns how many connections were dropped that way.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let limits = shared.limits.clone();
    let app = TowerToHyperService::new(router(Arc::clone(&shared)));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut warned: Option<Instant> = None;
    loop {
        while connections.try_join_next().is_some() {}
        if slots.available_permits() == 0 && !matches!(warned, Some(at) if at.elapsed() < LIMIT_WARNING_EVERY)
        {
            tracing::warn!(
                max = limits.max_connections,
                "at the connection limit: new connections wait in the backlog"
            );
            warned = Some(Instant::now());
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
        let _ = stream.set_nodelay(true);
        let phase = Arc::new(AtomicU8::new(HEAD));
        let io = TimedIo::new(stream, Arc::clone(&phase), &limits);
        let app = app.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            phase.store(BUSY, Relaxed);
            request.extensions_mut().insert(Peer(peer));
            let response = app.call(request);
            let phase = Arc::clone(&phase);
            async move {
                let response = response.await;
                phase.store(IDLE, Relaxed);
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
        connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(peer = %peer, error = %error, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(open, "stopped accepting; finishing the open connections");
    let dropped = match timeout(limits.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => 0,
        Err(_) => {
            while connections.try_join_next().is_some() {}
            let dropped = connections.len();
            tracing::warn!(
                dropped,
                "connections still open at the shutdown deadline are dropped (none was answered 200)"
            );
            connections.abort_all();
            dropped
        }
    };
    while connections.join_next().await.is_some() {}
    dropped
}

/// The peer of a request's connection.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

// What a connection is doing, as far as its timeouts go.
/// Waiting for the next request: [`Limits::idle_timeout`].
const IDLE: u8 = 0;
/// Reading a request's headers: [`Limits::header_timeout`].
const HEAD: u8 = 1;
/// Handling a request: the handler bounds the body.
const BUSY: u8 = 2;

/// A connection's socket that fails a read or a write that waits longer than its phase allows.
///
/// The phase is shared with the connection's service: the service sets [`BUSY`] when it gets a
/// request (its headers are all read) and [`IDLE`] when it has the response; the first byte read
/// while idle moves to [`HEAD`]. A read that fails with `TimedOut` makes hyper close the
/// connection.
struct TimedIo {
    stream: TcpStream,
    phase: Arc<AtomicU8>,
    seen: u8,
    header_timeout: Duration,
    idle_timeout: Duration,
    write_timeout: Duration,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl TimedIo {
    fn new(stream: TcpStream, phase: Arc<AtomicU8>, limits: &Limits) -> TimedIo {
        TimedIo {
            stream,
            seen: phase.load(Relaxed),
            phase,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            write_timeout: limits.write_timeout,
            read_timer: Box::pin(tokio::time::sleep(limits.header_timeout)),
            write_timer: Box::pin(tokio::time::sleep(limits.write_timeout)),
            write_armed: false,
        }
    }

    fn enter(&mut self, phase: u8) {
        self.seen = phase;
        let limit = match phase {
            IDLE => self.idle_timeout,
            HEAD => self.header_timeout,
            _ => return,
        };
        self.read_timer.as_mut().reset((Instant::now() + limit).into());
    }

    fn write_stalled(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.write_armed {
            self.write_armed = true;
            let deadline = Instant::now() + self.write_timeout;
            self.write_timer.as_mut().reset(deadline.into());
        }
        self.write_timer.as_mut().poll(cx).is_ready()
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timeout"))
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let phase = this.phase.load(Relaxed);
        if phase != this.seen {
            this.enter(phase);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.seen == IDLE && buf.filled().len() > before {
                    this.phase.store(HEAD, Relaxed);
                    this.enter(HEAD);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.seen {
                IDLE | HEAD if this.read_timer.as_mut().poll(cx).is_ready() => {
                    Poll::Ready(Err(timed_out(if this.seen == IDLE { "idle" } else { "header" })))
                }
                _ => Poll::Pending,
            },
            error => error,
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Pending if this.write_stalled(cx) => Poll::Ready(Err(timed_out("write"))),
            Poll::Pending => Poll::Pending,
            done => {
                this.write_armed = false;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending if this.write_stalled(cx) => Poll::Ready(Err(timed_out("write"))),
            Poll::Pending => Poll::Pending,
            done => {
                this.write_armed = false;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Room for bodies in memory: [`Limits::max_buffered_bytes`] in all, taken before a body is read
/// and given back when its request is answered (so a body waiting for the store still counts).
pub(crate) struct Budget {
    bytes: Arc<Semaphore>,
}

impl Budget {
    /// Room for `bytes` bytes in all.
    pub(crate) fn new(bytes: usize) -> Budget {
        Budget {
            bytes: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Takes room for `bytes`, waiting up to `wait` for it; `None` when there was none.
    pub(crate) async fn reserve(&self, bytes: usize, wait: Duration) -> Option<Room> {
        let count = u32::try_from(bytes).ok()?;
        let permit = timeout(wait, self.bytes.acquire_many(count)).await.ok()?.ok()?;
        permit.forget();
        Some(Room {
            bytes: Arc::clone(&self.bytes),
            held: bytes,
        })
    }
}

/// Room taken in a [`Budget`]; given back when dropped.
pub(crate) struct Room {
    bytes: Arc<Semaphore>,
    held: usize,
}

impl Room {
    /// Gives back what is held above `bytes`.
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.held {
            self.bytes.add_permits(self.held - bytes);
            self.held = bytes;
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.bytes.add_permits(self.held);
    }
}

/// The answer to a request.
struct Reply {
    status: StatusCode,
    text: String,
    /// Close the connection after it: the body was not read to its end, or the client is slow.
    close: bool,
}

impl Reply {
    fn new(status: StatusCode, text: impl Into<String>) -> Reply {
        Reply {
            status,
            text: text.into(),
            close: false,
        }
    }

    fn closing(status: StatusCode, text: impl Into<String>) -> Reply {
        Reply {
            close: true,
            ..Reply::new(status, text)
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.text).into_response();
        if self.close {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// What the log line of a request shows, filled in as the request goes.
#[derive(Default)]
struct Line {
    outcome: &'static str,
    kinds: Option<String>,
    app: Option<String>,
    bytes: Option<u64>,
    row: Option<i64>,
    problem: Option<String>,
}

impl Line {
    /// One line per request, at info: nothing of the body but its trigger or event types, app id
    /// and JSON path of a problem, each escaped and cut short.
    fn log(&self, reply: &Reply, started: Instant, peer: Option<Peer>) {
        tracing::info!(
            status = reply.status.as_u16(),
            outcome = %self.outcome,
            kinds = %Shown(self.kinds.as_deref().unwrap_or("")),
            app = %Shown(self.app.as_deref().unwrap_or("")),
            bytes = %Opt(self.bytes),
            ms = %Millis(started.elapsed()),
            row = %Opt(self.row),
            problem = %Shown(self.problem.as_deref().unwrap_or("")),
            peer = %Opt(peer.map(|peer| peer.0)),
            "webhook"
        );
    }
}

/// A duration in milliseconds, with one decimal.
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.0.as_secs_f64() * 1000.0)
    }
}

async fn receive(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let received_at = store::now();
    let peer = request.extensions().get::<Peer>().copied();
    let (parts, body) = request.into_parts();
    let mut line = Line::default();
    let reply = handle(&shared, &parts.headers, body, received_at, &mut line).await;
    line.log(&reply, started, peer);
    reply.into_response()
}

/// `POST /webhook`: the key, the size, room in memory, the body, its parse, the store; the first
/// that fails gives the answer.
async fn handle(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    received_at: String,
    line: &mut Line,
) -> Reply {
    let limits = &shared.limits;

    // The key, on the headers alone: not a byte of the body has been read yet.
    let key = headers.get("x-api-key").map(HeaderValue::as_bytes);
    if let Err(error) = shared.secrets.verify(key) {
        line.outcome = "unauthorized";
        return Reply::closing(StatusCode::UNAUTHORIZED, WebhookError::from(error).to_string());
    }

    // The size, when the headers give it.
    let declared = body.size_hint().exact();
    line.bytes = declared;
    let limit = limits.max_body;
    if let Some(size) = declared.filter(|&size| size > limit as u64) {
        line.outcome = "too large";
        let error = format!("the body is {size} bytes, over the limit of {limit}");
        return keep_over_limit(shared, body, size, error, received_at, line).await;
    }

    // Room in memory for the whole body before its first byte.
    let wanted = declared.map_or(limit, |size| size as usize);
    let Some(mut room) = shared.budget.reserve(wanted, limits.memory_wait).await else {
        line.outcome = "no room";
        return Reply::closing(StatusCode::SERVICE_UNAVAILABLE, "busy, retry later");
    };

    // The body, within the body timeout and the limit.
    let mut bytes = Vec::with_capacity(wanted);
    match timeout(limits.body_timeout, read_body(body, &mut bytes, limit)).await {
        Ok(Ok(())) => {}
        Ok(Err(ReadError::Broken)) => {
            line.outcome = "body broken";
            return Reply::closing(StatusCode::BAD_REQUEST, "the body could not be read");
        }
        Ok(Err(ReadError::OverLimit { seen })) => {
            line.outcome = "too large";
            line.bytes = Some(seen);
            bytes.truncate(DEAD_LETTER_PREFIX);
            let error = format!(
                "the body is over the limit of {limit} bytes ({seen} bytes read when reading stopped)"
            );
            return keep_dead_letter(shared, bytes, seen, 413, error, received_at, line).await;
        }
        Err(_) => {
            line.outcome = "body timeout";
            line.bytes = Some(bytes.len() as u64);
            let text = format!(
                "the body did not arrive within {} ms",
                limits.body_timeout.as_millis()
            );
            return Reply::closing(StatusCode::REQUEST_TIMEOUT, text);
        }
    }
    room.shrink_to(bytes.len());
    line.bytes = Some(bytes.len() as u64);

    // Its parse: a body that is not a webhook body is kept as a dead letter, then answered 400.
    let description = match body::parse(&bytes) {
        Ok(parsed) => body::describe(&parsed),
        Err(error) => {
            line.outcome = "invalid";
            line.kinds = error.trigger().map(str::to_owned);
            line.problem = error.path().map(str::to_owned);
            // The message may quote a value of the body: only at debug.
            let error = WebhookError::from(error).to_string();
            tracing::debug!(error = %Shown::up_to(&error, 512), "invalid body");
            let size = bytes.len() as u64;
            return keep_dead_letter(shared, bytes, size, 400, error, received_at, line).await;
        }
    };
    line.kinds = Some(description.kinds.clone());
    line.app = description.app_id.clone();

    // The store, before the 200.
    let webhook = Webhook {
        key: body::idempotency_key(&bytes),
        received_at,
        kinds: description.kinds,
        app_id: description.app_id,
        body: bytes,
    };
    match timeout(limits.store_timeout, shared.store.accept(webhook)).await {
        Ok(Ok(Accepted::New(id))) => {
            line.outcome = "stored";
            line.row = Some(id);
            Reply::new(StatusCode::OK, "ok")
        }
        Ok(Ok(Accepted::Duplicate(id))) => {
            line.outcome = "duplicate";
            line.row = Some(id);
            Reply::new(StatusCode::OK, "ok")
        }
        Ok(Err(error)) => {
            line.outcome = "store failed";
            tracing::error!(error = %error, "cannot store a webhook");
            Reply::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot store the body now, retry later",
            )
        }
        Err(_) => {
            line.outcome = "store timeout";
            Reply::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot store the body now, retry later",
            )
        }
    }
}

/// Why a body could not be read whole.
enum ReadError {
    /// The client's stream failed (the connection was cut, the chunked encoding is wrong).
    Broken,
    /// It is larger than the limit: `out` holds its first bytes, `seen` were read in all.
    OverLimit { seen: u64 },
}

/// Reads `body` into `out`, up to `limit` bytes. Over the limit, `out` keeps what it holds and
/// reading stops.
async fn read_body(mut body: Body, out: &mut Vec<u8>, limit: usize) -> Result<(), ReadError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                let seen = (out.len() + data.len()) as u64;
                let room = limit - out.len();
                out.extend_from_slice(&data[..room]);
                return Err(ReadError::OverLimit { seen });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(())
}

/// A body whose `Content-Length` is over the limit: its first [`DEAD_LETTER_PREFIX`] bytes (what
/// arrives of them within the body timeout) are kept as a dead letter, then 413. The rest is never
/// read: the connection is closed.
async fn keep_over_limit(
    shared: &Shared,
    body: Body,
    size: u64,
    error: String,
    received_at: String,
    line: &mut Line,
) -> Reply {
    let keep = DEAD_LETTER_PREFIX;
    let Some(_room) = shared.budget.reserve(keep, shared.limits.memory_wait).await else {
        line.outcome = "no room";
        return Reply::closing(StatusCode::SERVICE_UNAVAILABLE, "busy, retry later");
    };
    let mut prefix = Vec::with_capacity(keep);
    // Over `keep`, reading stops: that is the point. A timeout keeps what arrived.
    let _ = timeout(shared.limits.body_timeout, read_body(body, &mut prefix, keep)).await;
    keep_dead_letter(shared, prefix, size, 413, error, received_at, line).await
}

/// Stores a refused body in `dead_letters`, then answers `status` with `error`; 503 if it cannot
/// be stored (so that Smooch sends it again).
async fn keep_dead_letter(
    shared: &Shared,
    body: Vec<u8>,
    size: u64,
    status: u16,
    error: String,
    received_at: String,
    line: &mut Line,
) -> Reply {
    let letter = DeadLetter {
        received_at,
        status,
        error: error.clone(),
        size,
        body,
    };
    match timeout(shared.limits.store_timeout, shared.store.dead_letter(letter)).await {
        Ok(Ok(id)) => {
            line.row = Some(id);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            Reply {
                status,
                text: error,
                // A 413 leaves the body unread: the connection cannot carry another request.
                close: status == StatusCode::PAYLOAD_TOO_LARGE,
            }
        }
        failed => {
            if let Ok(Err(error)) = failed {
                tracing::error!(error = %error, "cannot keep a refused body");
            }
            line.outcome = "dead letter failed";
            Reply::closing(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot keep the body now, retry later",
            )
        }
    }
}

/// Any other method on `/webhook`: 405.
async fn wrong_method(method: Method) -> Response {
    tracing::info!(status = 405, method = %Shown(method.as_str()), "webhook");
    let mut response = Reply::closing(StatusCode::METHOD_NOT_ALLOWED, "only POST").into_response();
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Any other path: 404.
async fn not_found(uri: Uri) -> Response {
    tracing::info!(status = 404, path = %Shown(uri.path()), "not found");
    Reply::closing(StatusCode::NOT_FOUND, "not found").into_response()
}
