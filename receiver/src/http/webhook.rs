//! `POST /webhook`: the steps of a request, the room for bodies in memory, and the one log line
//! each request leaves.
//!
//! 1. the `X-API-Key` header, checked before any byte of the body is read: 401 and the connection
//!    closed;
//! 2. the `Content-Length`: over the limit, the body goes to `dead_letters` (whole up to the
//!    dead-letter limit, else its first 64 KiB), then 413;
//! 3. room for the body in memory ([`Budget`]): the announced size before the first byte, or, for a
//!    chunked body, room for each chunk as it comes; else 503;
//! 4. the body, within the body timeout: else 408;
//! 5. its parse: a body that is not a webhook body goes to `dead_letters`, then 400 (Smooch never
//!    sends it again, so it is kept for an operator to replay);
//! 6. the store: written, committed (grouped with the requests of the same moment) and durable,
//!    then 200. A body stored before (a retry: same bytes) is answered 200 and not stored again.
//!    A store that fails or is too slow gives 503, which Smooch retries.

use std::net::SocketAddr;
use std::sync::Arc;
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
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::config::Limits;
use crate::describe::{self, Secrets};
use crate::log::{Opt, Shown};
use crate::metrics::Metrics;
use crate::store::{self, Accepted, DeadLetter, Incoming as Webhook, Reservation, Store, DEAD_LETTER_PREFIX};

/// What every request handler shares.
pub(crate) struct Shared {
    /// The valid secrets.
    pub(crate) secrets: Secrets,
    /// Where accepted and refused bodies go.
    pub(crate) store: Arc<dyn Store>,
    /// The limits.
    pub(crate) limits: Limits,
    /// Room for bodies in memory.
    pub(crate) budget: Budget,
    /// The metrics.
    pub(crate) metrics: Arc<Metrics>,
}

impl Shared {
    pub(crate) fn new(
        secrets: Secrets,
        store: Arc<dyn Store>,
        limits: Limits,
        metrics: Arc<Metrics>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            secrets,
            store,
            budget: Budget::new(limits.max_buffered_bytes, Arc::clone(&metrics)),
            limits,
            metrics,
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

/// The peer of a request's connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// Room for bodies in memory: [`Limits::max_buffered_bytes`] in all, taken before a body is read
/// (or as a chunked body arrives) and given back once the body is let go: when its request is
/// answered, or, for a body handed to the store, once the store is done with it (so a body still
/// queued for a stuck store counts, though its request was answered 503).
#[derive(Clone)]
pub(crate) struct Budget(Arc<BudgetInner>);

struct BudgetInner {
    bytes: Semaphore,
    total: usize,
    metrics: Arc<Metrics>,
}

impl Budget {
    /// Room for `bytes` bytes in all.
    pub(crate) fn new(bytes: usize, metrics: Arc<Metrics>) -> Budget {
        let total = bytes.min(Semaphore::MAX_PERMITS);
        Budget(Arc::new(BudgetInner {
            bytes: Semaphore::new(total),
            total,
            metrics,
        }))
    }

    /// No room yet.
    pub(crate) fn empty(&self) -> Room {
        Room {
            budget: self.clone(),
            held: 0,
        }
    }

    fn report(&self) {
        self.0
            .metrics
            .buffered
            .set((self.0.total - self.0.bytes.available_permits()) as f64);
    }
}

/// Room taken in a [`Budget`]; given back when dropped.
pub(crate) struct Room {
    budget: Budget,
    held: usize,
}

impl Room {
    /// Grows the room to `bytes`, waiting up to `wait` for it; `false` when there was none.
    pub(crate) async fn grow_to(&mut self, bytes: usize, wait: Duration) -> bool {
        if bytes <= self.held {
            return true;
        }
        let Ok(more) = u32::try_from(bytes - self.held) else {
            return false;
        };
        match timeout(wait, self.budget.0.bytes.acquire_many(more)).await {
            Ok(Ok(permit)) => {
                permit.forget();
                self.held = bytes;
                self.budget.report();
                true
            }
            _ => false,
        }
    }

    /// Gives back what is held above `bytes`.
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.held {
            self.budget.0.bytes.add_permits(self.held - bytes);
            self.held = bytes;
            self.budget.report();
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.shrink_to(0);
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
pub(crate) struct Line {
    pub(crate) outcome: &'static str,
    kinds: Option<String>,
    app: Option<String>,
    bytes: Option<u64>,
    webhook_id: Option<i64>,
    dead_letter_id: Option<i64>,
    problem: Option<String>,
    peer: Option<Peer>,
}

impl Line {
    pub(crate) fn new(peer: Option<Peer>) -> Line {
        Line {
            outcome: "",
            kinds: None,
            app: None,
            bytes: None,
            webhook_id: None,
            dead_letter_id: None,
            problem: None,
            peer,
        }
    }

    /// The one line of a request, at info: its status (`-` when none was sent), its outcome,
    /// nothing of the body but its trigger or event types, app id and the JSON path of a problem
    /// (each escaped and cut short), and the id of the row it left, in `webhook_id` or in
    /// `dead_letter_id`.
    pub(crate) fn log(&self, status: Option<u16>, started: Instant) {
        tracing::info!(
            status = %Opt(status),
            outcome = %self.outcome,
            kinds = %Shown(self.kinds.as_deref().unwrap_or("")),
            app = %Shown(self.app.as_deref().unwrap_or("")),
            bytes = %Opt(self.bytes),
            ms = %Millis(started.elapsed()),
            webhook_id = %Opt(self.webhook_id),
            dead_letter_id = %Opt(self.dead_letter_id),
            problem = %Shown(self.problem.as_deref().unwrap_or("")),
            peer = %Opt(self.peer.map(|peer| peer.0)),
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

/// Logs and counts a request's end.
fn finish(shared: &Shared, line: &Line, reply: &Reply, started: Instant) {
    let status = reply.status.as_u16();
    line.log(Some(status), started);
    shared.metrics.request(status, line.outcome);
    shared
        .metrics
        .request_seconds
        .record(started.elapsed().as_secs_f64());
}

async fn receive(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let received_at = store::now();
    let peer = request.extensions().get::<Peer>().copied();
    let (parts, body) = request.into_parts();
    let mut line = Line::new(peer);
    let reply = handle(&shared, &parts.headers, body, received_at, &mut line).await;
    finish(&shared, &line, &reply, started);
    reply.into_response()
}

/// Why a body could not be read whole.
enum ReadError {
    /// The client's stream failed (the connection was cut, the chunked encoding is wrong).
    Broken,
    /// It is larger than the limit: `out` holds its first bytes, `seen` were read in all.
    OverLimit { seen: u64 },
    /// No room in memory for the next chunk.
    NoRoom,
}

/// Reads `body` into `out`, up to `limit` bytes in all, growing `room` for each chunk (waiting up
/// to `wait`). Over the limit, `out` keeps what it holds and reading stops.
async fn read_body(
    body: &mut Body,
    out: &mut Vec<u8>,
    limit: usize,
    room: &mut Room,
    wait: Duration,
) -> Result<(), ReadError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                let seen = (out.len() + data.len()) as u64;
                let fits = limit - out.len();
                if !room.grow_to(limit, wait).await {
                    return Err(ReadError::NoRoom);
                }
                out.extend_from_slice(&data[..fits]);
                return Err(ReadError::OverLimit { seen });
            }
            if !room.grow_to(out.len() + data.len(), wait).await {
                return Err(ReadError::NoRoom);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(())
}

fn no_room(line: &mut Line) -> Reply {
    line.outcome = "no room";
    Reply::closing(StatusCode::SERVICE_UNAVAILABLE, "busy, retry later")
}

fn body_timeout(line: &mut Line, limits: &Limits, read: usize) -> Reply {
    line.outcome = "body timeout";
    line.bytes = Some(read as u64);
    let text = format!(
        "the body did not arrive within {} ms",
        limits.body_timeout.as_millis()
    );
    Reply::closing(StatusCode::REQUEST_TIMEOUT, text)
}

/// `POST /webhook`: the key, the size, room in memory, the body, its parse, the store; the first
/// that fails gives the answer.
async fn handle(
    shared: &Shared,
    headers: &HeaderMap,
    mut body: Body,
    received_at: String,
    line: &mut Line,
) -> Reply {
    let limits = &shared.limits;

    // The key, on the headers alone: not a byte of the body has been read yet.
    let key = headers.get("x-api-key").map(HeaderValue::as_bytes);
    if let Err(error) = shared.secrets.verify(key) {
        line.outcome = "unauthorized";
        return Reply::closing(StatusCode::UNAUTHORIZED, error);
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

    // Room in memory: for the whole announced body before its first byte; for a chunked one, as
    // its chunks come.
    let mut room = shared.budget.empty();
    if let Some(size) = declared {
        if !room.grow_to(size as usize, limits.memory_wait).await {
            return no_room(line);
        }
    }

    // The body, within the body timeout and the limit (for a chunked body, the dead-letter
    // limit: one over the body limit is kept whole up to it).
    let mut bytes = Vec::with_capacity(declared.map_or(0, |size| size as usize));
    let read_limit = match declared {
        Some(_) => limit,
        None => limit.max(limits.max_dead_letter),
    };
    let read = timeout(
        limits.body_timeout,
        read_body(&mut body, &mut bytes, read_limit, &mut room, limits.memory_wait),
    )
    .await;
    match read {
        Ok(Ok(())) => {}
        Ok(Err(ReadError::Broken)) => {
            line.outcome = "body broken";
            return Reply::closing(StatusCode::BAD_REQUEST, "the body could not be read");
        }
        Ok(Err(ReadError::NoRoom)) => return no_room(line),
        Ok(Err(ReadError::OverLimit { seen })) => {
            // Chunked, over the dead-letter limit too: its start is kept.
            line.outcome = "too large";
            line.bytes = Some(seen);
            bytes.truncate(DEAD_LETTER_PREFIX);
            room.shrink_to(bytes.len());
            let error = format!(
                "the body is over the limit of {limit} bytes ({seen} bytes read when reading stopped)"
            );
            return keep_dead_letter(shared, refused(bytes, seen, 413, error, received_at, room), line).await;
        }
        Err(_) => return body_timeout(line, limits, bytes.len()),
    }
    room.shrink_to(bytes.len());
    line.bytes = Some(bytes.len() as u64);
    if bytes.len() > limit {
        // Chunked, over the body limit but within the dead-letter limit: kept whole.
        line.outcome = "too large";
        let size = bytes.len() as u64;
        let error = format!("the body is {size} bytes, over the limit of {limit}");
        return keep_dead_letter(shared, refused(bytes, size, 413, error, received_at, room), line).await;
    }

    // Its parse: a body that is not a webhook body is kept as a dead letter, then answered 400.
    let description = match describe::describe(&bytes) {
        Ok(description) => description,
        Err(refusal) => {
            line.outcome = "invalid";
            line.kinds = refusal.trigger;
            line.problem = refusal.path;
            // The message may quote a value of the body: only at debug.
            tracing::debug!(error = %Shown::up_to(&refusal.error, 512), "invalid body");
            let size = bytes.len() as u64;
            let letter = refused(bytes, size, 400, refusal.error, received_at, room);
            return keep_dead_letter(shared, letter, line).await;
        }
    };
    line.kinds = Some(description.kinds.clone());
    line.app = description.app_id.clone();

    // The store, before the 200.
    let webhook = Webhook {
        key: description.key,
        received_at,
        kinds: description.kinds,
        app_id: description.app_id,
        body: bytes,
        events: description.events,
        // The body's room goes with it: given back once the store is done with it.
        reservation: Reservation::new(room),
    };
    match timeout(limits.store_timeout, shared.store.accept(webhook)).await {
        Ok(Ok(accepted)) => {
            line.outcome = match accepted {
                Accepted::New(_) => "stored",
                Accepted::Duplicate(_) => "duplicate",
            };
            line.webhook_id = Some(accepted.id());
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

/// A body whose `Content-Length` is over the limit: kept whole as a dead letter when it is within
/// [`Limits::max_dead_letter`], else its first [`DEAD_LETTER_PREFIX`] bytes (what arrives of them
/// within the body timeout), then 413. A body cut short is never read to its end: the connection
/// is closed.
async fn keep_over_limit(
    shared: &Shared,
    mut body: Body,
    size: u64,
    error: String,
    received_at: String,
    line: &mut Line,
) -> Reply {
    let limits = &shared.limits;
    let whole = size <= limits.max_dead_letter as u64;
    let keep = if whole { size as usize } else { DEAD_LETTER_PREFIX };
    let mut room = shared.budget.empty();
    if !room.grow_to(keep, limits.memory_wait).await {
        return no_room(line);
    }
    let mut kept = Vec::with_capacity(keep);
    let read = timeout(
        limits.body_timeout,
        read_body(&mut body, &mut kept, keep, &mut room, limits.memory_wait),
    )
    .await;
    if whole && !matches!(read, Ok(Ok(()))) {
        // Announced within the dead-letter limit, but not sent whole in time.
        return match read {
            Err(_) => body_timeout(line, limits, kept.len()),
            _ => {
                line.outcome = "body broken";
                Reply::closing(StatusCode::BAD_REQUEST, "the body could not be read")
            }
        };
    }
    // Over the dead-letter limit, reading stops at the prefix: that is the point. A timeout keeps
    // what arrived.
    keep_dead_letter(shared, refused(kept, size, 413, error, received_at, room), line).await
}

/// A refused body, as a dead letter (its room in memory with it).
fn refused(
    body: Vec<u8>,
    size: u64,
    status: u16,
    error: String,
    received_at: String,
    room: Room,
) -> DeadLetter {
    DeadLetter {
        received_at,
        status,
        error,
        size,
        body,
        reservation: Reservation::new(room),
    }
}

/// Stores a refused body in `dead_letters`, then answers its status with its error; 503 if it
/// cannot be stored (so that Smooch sends it again).
async fn keep_dead_letter(shared: &Shared, letter: DeadLetter, line: &mut Line) -> Reply {
    let (status, error) = (letter.status, letter.error.clone());
    match timeout(shared.limits.store_timeout, shared.store.dead_letter(letter)).await {
        Ok(Ok(id)) => {
            line.dead_letter_id = Some(id);
            shared.metrics.dead_letter(status);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            Reply {
                status,
                text: error,
                // A 413 may leave the body unread: the connection cannot carry another request.
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
async fn wrong_method(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let mut line = Line::new(request.extensions().get::<Peer>().copied());
    line.outcome = "wrong method";
    line.problem = Some(request.method().as_str().to_owned());
    let reply = Reply::closing(StatusCode::METHOD_NOT_ALLOWED, "only POST");
    finish(&shared, &line, &reply, started);
    let mut response = reply.into_response();
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Any other path: 404.
async fn not_found(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    request: Request,
) -> Response {
    let started = Instant::now();
    let mut line = Line::new(request.extensions().get::<Peer>().copied());
    line.outcome = "not found";
    line.problem = Some(format!("{method} {}", uri.path()));
    let reply = Reply::closing(StatusCode::NOT_FOUND, "not found");
    finish(&shared, &line, &reply, started);
    reply.into_response()
}
