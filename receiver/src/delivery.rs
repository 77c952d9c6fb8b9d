//! The delivery: each stored event handed to the [`Application`] at least once, as fast as it
//! takes them, in order within each lane.
//!
//! **Lanes.** Every event belongs to a lane: its conversation, else its user, else a lane of its
//! own (see [`describe`](crate::describe) for the table). A lane is delivered one event at a time,
//! in the order the events arrived; lanes are delivered side by side, up to
//! [`Limits::concurrency`](crate::Limits::concurrency) deliveries at once. The scheduler (one task
//! per receiver) takes lanes that have events waiting from the store (on PostgreSQL, a lane is held
//! by one receiver at a time, under a lease it renews in the background), and serves the lanes it
//! holds in turn: after each delivery a lane goes to the back of the line, so that a lane with
//! 10,000 events waiting never holds back one with a single event.
//!
//! **Failures hold their lane only.** A delivery that fails (an error, a panic, a forward that is
//! not 2xx) is tried again after a backoff, from [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`]
//! with jitter (a `Retry-After` the application reports is honoured within those bounds); its lane
//! waits meanwhile, without taking a slot, and the other lanes go on. After
//! [`Limits::max_attempts`](crate::Limits::max_attempts) failures the delivery is set aside (state
//! `failed`, for an operator: `smooch-receiver requeue`), and its lane goes on with the next event.
//! The lane does not stay blocked: a conversation whose one event the application keeps refusing
//! would otherwise never be delivered again, and the event set aside is kept, with its error, for
//! an operator to give back once the cause is fixed.
//!
//! **At least once.** A delivery is marked done (a row appended to `delivery_done`) once the
//! application returned `Ok`; the marks are written in groups, and a lane is given back only once
//! its marks are written. A crash before the mark gives the delivery again (to this receiver
//! after its restart, or to another one after the lease): after a crash, the lane starts again
//! at its first delivery not marked done, in order. A delivery is never handed out twice
//! otherwise (the same event in two bodies is one delivery; see [`Delivery::key`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hyper::body::Bytes;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::describe;
use crate::log::Shown;
use crate::metrics::Metrics;
use crate::store::{Failed, Store, StoreError, Stored, Taken};

/// The first wait before a delivery is tried again.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before a delivery is tried again.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How often the scheduler looks for lanes without a wake-up (lanes given back by a receiver
/// that died, deliveries given back by `requeue`).
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// How long the scheduler waits before asking the store again after it failed.
const STORE_PAUSE: Duration = Duration::from_secs(1);

/// Deliveries of a lane read from the store at a time, at most.
const PREFETCH: usize = 8;

/// Bytes of bodies read for a lane at a time, at most (but one body always).
const PREFETCH_BYTES: usize = 1 << 20;

/// What handles the stored events: [`LogApplication`], [`Forward`](crate::Forward), or yours.
pub trait Application: Send + Sync + 'static {
    /// Handles one delivery (one event). `Ok` marks it done; an error (or a panic) is a failure:
    /// the same delivery comes again after a backoff, until it succeeds or is set aside. A
    /// delivery can come again after a crash even when it was handled (its mark was not written
    /// yet): make the handling idempotent, by [`Delivery::key`].
    fn handle(&self, delivery: &Delivery) -> impl Future<Output = Result<(), Failure>> + Send;
}

impl<A: Application> Application for Arc<A> {
    fn handle(&self, delivery: &Delivery) -> impl Future<Output = Result<(), Failure>> + Send {
        (**self).handle(delivery)
    }
}

/// Why the application did not handle a delivery: a reason (kept in the store's `last_error`),
/// and, when the application knows it (a `Retry-After`), how long to wait before the next try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    reason: String,
    retry_after: Option<Duration>,
}

impl Failure {
    /// A failure for `reason`.
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// The same, tried again no sooner than `wait` from now (within the backoff's bounds).
    pub fn retry_after(mut self, wait: Duration) -> Failure {
        self.retry_after = Some(wait);
        self
    }

    /// Why it failed.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// How long the application asked to wait, if it did.
    pub fn wait(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure::new(reason)
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Failure {
        Failure::new(reason)
    }
}

/// One delivery: one event, as the application gets it: its bytes, its parsed value, and where
/// it stands.
#[derive(Debug)]
pub struct Delivery {
    stored: Stored,
    key: String,
    bytes: Bytes,
    event: OnceLock<Result<smooch_events::Webhook, smooch_events::ParseError>>,
}

/// A body shared by the deliveries of its events, as [`Bytes`].
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Delivery {
    /// The delivery of a stored event: its body as received for a body of one event (every v1
    /// body); for an event of a v2 body of several, the body's `app` and `webhook` with that one
    /// event, byte for byte.
    pub fn new(stored: Stored) -> Delivery {
        let bytes = if stored.events > 1 {
            match describe::event_body(&stored.body, stored.index as usize) {
                Some(body) => Bytes::from(body),
                // Not a v2 body after all (it was one when stored): the body as it is.
                None => Bytes::from_owner(Shared(Arc::clone(&stored.body))),
            }
        } else {
            Bytes::from_owner(Shared(Arc::clone(&stored.body)))
        };
        Delivery {
            key: describe::hex(&stored.key),
            stored,
            bytes,
            event: OnceLock::new(),
        }
    }

    /// The event's key, in hexadecimal: the same for every delivery of the same event (its
    /// tries, and the same event sent again in another body), and never another event's. For a
    /// v2 event, the SHA-256 of `smooch_events::v2::Event::dedupe_key` (its app id, type and id);
    /// for a v1 body, the SHA-256 of its bytes.
    /// What a service stores to act once (the forward's `Idempotency-Key`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The delivery's row id in `deliveries` (unique in the store, never reused).
    pub fn id(&self) -> i64 {
        self.stored.id
    }

    /// Its lane: `conversation:<app>:<id>`, `user:<app>:<id>` (v2) or `appUser:<app>:<id>` (v1);
    /// `None` for an event of no conversation nor user, delivered on its own. Within a lane,
    /// events are delivered one at a time, in the order they arrived:
    ///
    /// | version | events | lane |
    /// |---|---|---|
    /// | v2 | `conversation:*`, `switchboard:*`; `client:*` with a conversation; `user:merge` of conversations | `conversation:<app id>:<payload.conversation.id>` (for `user:merge`, the surviving conversation) |
    /// | v2 | `user:update`, `user:remove`; `user:merge` of users only; `client:*` without a conversation | `user:<app id>:<user id>` (for `user:merge`, the surviving user) |
    /// | v2 | an unknown type: by `payload.conversation.id`, else `payload.user.id` | as above |
    /// | v2 | an event with neither | none |
    /// | v1 | every trigger with an `appUser` (the app user's conversation; `merge:appUser`: the surviving one) | `appUser:<app._id>:<appUser._id>` |
    /// | v1 | a body without `appUser._id` | none |
    ///
    /// (`-` stands for a missing app id; a lane longer than 160 bytes is named
    /// `<kind>:sha256:<hex>` of its ids.)
    pub fn lane(&self) -> Option<&str> {
        Some(self.stored.lane.as_str()).filter(|lane| !describe::is_event_lane(lane))
    }

    /// The trigger (v1) or the event's type (v2).
    pub fn kind(&self) -> &str {
        &self.stored.kind
    }

    /// The app's id, when the body has one.
    pub fn app_id(&self) -> Option<&str> {
        self.stored.app_id.as_deref()
    }

    /// When its body was received, RFC 3339 in UTC with milliseconds.
    pub fn received_at(&self) -> &str {
        &self.stored.received_at
    }

    /// This try: 1 for the first, then one more after each failure.
    pub fn attempt(&self) -> u32 {
        self.stored.attempts + 1
    }

    /// The row of the body it came in, in `webhooks`.
    pub fn webhook_id(&self) -> i64 {
        self.stored.webhook_id
    }

    /// The event's bytes: a body as Smooch sends one (see [`Delivery::new`]).
    pub fn body(&self) -> &[u8] {
        &self.bytes
    }

    /// The same, shared (for an HTTP body).
    pub fn bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// The event, parsed by `smooch_events` (once, on the first call): a [`smooch_events::Webhook`]
    /// whose v2 body holds this one event. It parsed when it was received; an error here means
    /// the crate no longer reads a body an older receiver stored.
    pub fn event(&self) -> Result<&smooch_events::Webhook, &smooch_events::ParseError> {
        self.event
            .get_or_init(|| smooch_events::parse_webhook(&self.bytes))
            .as_ref()
    }
}

/// The application of the binary without `SMOOCH_FORWARD_URL`: it logs each delivery at `debug`
/// (the texts of its messages too), and marks it done.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogApplication;

impl Application for LogApplication {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                delivery_id = delivery.id(),
                kind = %Shown(delivery.kind()),
                lane = %Shown(delivery.lane().unwrap_or("-")),
                "delivered"
            );
            for text in describe::message_texts(delivery.event().ok()) {
                tracing::debug!(delivery_id = delivery.id(), text = %Shown(text), "message");
            }
        }
        Ok(())
    }
}

/// What the scheduler is given.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Deliveries at once, across lanes.
    pub(crate) concurrency: usize,
    /// Failures before a delivery is set aside.
    pub(crate) max_attempts: u32,
    /// How long a hold on a lane lasts unless renewed (PostgreSQL).
    pub(crate) lease: Duration,
    /// From the stop to the exit: deliveries in flight get three quarters of it.
    pub(crate) shutdown: Duration,
}

/// Marks and lanes given back being written: on a failure, why, and the lanes not given back.
type Flush = JoinHandle<Result<(), (StoreError, Vec<Taken>)>>;

/// A renewal of the holds in flight, and when it started: the lanes it renewed.
type Renewal = (Instant, JoinHandle<Result<Vec<String>, StoreError>>);

/// A turn that ended: its lane, how, and the deliveries it read ahead.
type Ended = (String, Turn, Vec<Stored>);

/// A lane this receiver holds.
#[derive(Debug)]
struct Held {
    /// Every delivery up to this id is done or set aside.
    after: i64,
    /// Its next deliveries, read ahead (the first is the next to deliver).
    queue: VecDeque<Stored>,
    /// Whether one of its deliveries is in flight, or it waits for a retry.
    busy: bool,
}

/// How one turn of a lane ended (with the deliveries it read ahead, when it read the lane).
enum Turn {
    /// The application handled the delivery.
    Delivered(Stored),
    /// It failed on it; the store recorded it.
    Failed(Stored, Failure, Result<Failed, StoreError>),
    /// The lane has nothing more now.
    Drained,
    /// The store could not be read.
    Store(StoreError),
}

/// The scheduler's state.
struct Scheduler<A> {
    store: Arc<dyn Store>,
    application: Arc<A>,
    settings: Settings,
    metrics: Arc<Metrics>,
    held: HashMap<String, Held>,
    /// Held lanes that can go now, in turn.
    ready: VecDeque<String>,
    /// Held lanes waiting to be tried again, by the time they may.
    sleeping: BinaryHeap<Reverse<(Instant, String)>>,
    running: JoinSet<Ended>,
    /// The lanes of the tasks running, for a task that ended by a panic.
    running_lanes: HashMap<tokio::task::Id, String>,
    /// Done marks not written yet.
    marks: Vec<(String, i64)>,
    /// Lanes drained, to give back once their marks are written.
    drained: Vec<Taken>,
    /// Marks and lanes given back being written (on a failure, the lanes not given back).
    flushing: Option<Flush>,
    /// The holds' renewal in flight, and when it started.
    renewing: Option<Renewal>,
    /// Until when the holds are known to last (the last renewal's start, or the take, and the lease).
    held_until: Instant,
    /// Whether to ask the store for lanes (new work was signalled, or the last poll is old).
    want_lanes: bool,
    /// No store call before this (after a failure).
    pause_until: Instant,
}

/// Delivers every event stored, as they are stored, until `stop` turns true (see the
/// [module](self)); returns how many deliveries failed.
pub(crate) async fn deliver<A: Application>(
    store: Arc<dyn Store>,
    application: Arc<A>,
    settings: Settings,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> u64 {
    let now = Instant::now();
    let mut scheduler = Scheduler {
        store,
        application,
        held: HashMap::new(),
        ready: VecDeque::new(),
        sleeping: BinaryHeap::new(),
        running: JoinSet::new(),
        running_lanes: HashMap::new(),
        marks: Vec::new(),
        drained: Vec::new(),
        flushing: None,
        renewing: None,
        held_until: now + settings.lease,
        want_lanes: true,
        pause_until: now,
        settings,
        metrics,
    };
    let mut failures = 0;
    let mut polled = now;
    loop {
        scheduler.start_deliveries();
        scheduler.take_lanes().await;
        scheduler.flush();
        scheduler.renew();
        let wake = scheduler
            .sleeping
            .peek()
            .map_or(polled + POLL, |Reverse((at, _))| *at)
            .min(polled + POLL)
            .min(scheduler.renewal_due());
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            Some(joined) = scheduler.running.join_next_with_id(), if !scheduler.running.is_empty() => {
                failures += scheduler.finished(joined);
            }
            () = scheduler.store.new_work() => scheduler.want_lanes = true,
            flushed = join(&mut scheduler.flushing) => {
                scheduler.flushing = None;
                let failed = match flushed {
                    Ok(Ok(())) => None,
                    Ok(Err(failed)) => Some(failed),
                    Err(error) => Some((StoreError(error.to_string()), Vec::new())),
                };
                if let Some((error, drained)) = failed {
                    tracing::error!(error = %error, "cannot mark deliveries done; trying again");
                    scheduler.drained.extend(drained);
                    scheduler.pause_until = Instant::now() + STORE_PAUSE;
                }
            }
            renewed = join_renewal(&mut scheduler.renewing) => scheduler.renewed(renewed),
            () = tokio::time::sleep_until(wake) => {
                if Instant::now() >= polled + POLL {
                    polled = Instant::now();
                    scheduler.want_lanes = true;
                }
                scheduler.wake_sleeping();
            }
        }
    }
    scheduler.finish().await;
    failures
}

/// The task in `handle` once it ends (never, without one).
async fn join<T>(handle: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match handle {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

/// The renewal in `renewing` once it ends, and when it started (never, without one).
async fn join_renewal(renewing: &mut Option<Renewal>) -> (Instant, Result<Vec<String>, StoreError>) {
    match renewing {
        Some((started, handle)) => {
            let renewed = handle
                .await
                .unwrap_or_else(|error| Err(StoreError(error.to_string())));
            (*started, renewed)
        }
        None => std::future::pending().await,
    }
}

impl<A: Application> Scheduler<A> {
    /// Starts a turn for each lane that can go, while there are slots, and while the holds are
    /// known to last (a third of a lease at least: a renewal that failed since may mean that
    /// another receiver takes them).
    fn start_deliveries(&mut self) {
        let margin = self.settings.lease / 3;
        while self.running.len() < self.settings.concurrency && Instant::now() + margin < self.held_until {
            let Some(lane) = self.ready.pop_front() else { break };
            let Some(held) = self.held.get_mut(&lane) else {
                continue;
            };
            if held.busy {
                continue;
            }
            held.busy = true;
            let next = held.queue.pop_front();
            let after = held.after;
            let (store, application) = (Arc::clone(&self.store), Arc::clone(&self.application));
            let name = lane.clone();
            let max_attempts = self.settings.max_attempts;
            let task = self.running.spawn(async move {
                let (turn, ahead) = turn(store, application, &name, after, next, max_attempts).await;
                (name, turn, ahead)
            });
            self.running_lanes.insert(task.id(), lane);
        }
        self.metrics.in_flight.set(self.running.len() as f64);
    }

    /// Takes lanes from the store while fewer are ready than there are slots (and this receiver
    /// holds fewer than four times its slots, so that it leaves some to the others).
    async fn take_lanes(&mut self) {
        let most = (self.settings.concurrency * 4).max(64);
        if !self.want_lanes
            || self.ready.len() >= self.settings.concurrency
            || self.held.len() >= most
            || Instant::now() < self.pause_until
        {
            return;
        }
        let wanted = (self.settings.concurrency * 2).min(most - self.held.len());
        let asked = Instant::now();
        match self.store.take(wanted).await {
            Ok(taken) => {
                if taken.len() < wanted {
                    // None left now: until the next wake-up or poll.
                    self.want_lanes = false;
                }
                if !taken.is_empty() && self.held.is_empty() {
                    // The first holds: they last a lease from now.
                    self.held_until = asked + self.settings.lease;
                }
                for Taken { lane, after } in taken {
                    self.held.insert(
                        lane.clone(),
                        Held {
                            after,
                            queue: VecDeque::new(),
                            busy: false,
                        },
                    );
                    self.ready.push_back(lane);
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot take lanes from the store; trying again");
                self.pause_until = Instant::now() + STORE_PAUSE;
            }
        }
    }

    /// Writes the done marks waiting, then gives back the lanes drained meanwhile, unless a
    /// write is in flight (the next one takes what came meanwhile). Marks that cannot be written
    /// are kept by the store for its next write; the lanes drained are then given back later.
    fn flush(&mut self) {
        if self.flushing.is_some()
            || (self.marks.is_empty() && self.drained.is_empty())
            || Instant::now() < self.pause_until
        {
            return;
        }
        let marks = std::mem::take(&mut self.marks);
        let drained = std::mem::take(&mut self.drained);
        let store = Arc::clone(&self.store);
        self.flushing = Some(tokio::spawn(async move {
            if !marks.is_empty() {
                if let Err(error) = store.done(marks).await {
                    return Err((error, drained));
                }
            }
            if !drained.is_empty() {
                // Not given back: they come back to any receiver after the lease.
                if let Err(error) = store.release(drained).await {
                    return Err((error, Vec::new()));
                }
            }
            Ok(())
        }));
    }

    /// When the holds are next renewed: every third of a lease.
    fn renewal_due(&self) -> Instant {
        self.held_until - self.settings.lease * 2 / 3
    }

    /// Renews the holds in the background when due (and none is in flight).
    fn renew(&mut self) {
        if self.renewing.is_some() || self.held.is_empty() || Instant::now() < self.renewal_due() {
            return;
        }
        let lanes: Vec<String> = self.held.keys().cloned().collect();
        let store = Arc::clone(&self.store);
        self.renewing = Some((
            Instant::now(),
            tokio::spawn(async move { store.extend(lanes).await }),
        ));
    }

    /// A renewal ended: the holds last a lease from its start, but for the lanes it did not
    /// renew (their hold ran out, and another receiver may have them): those are dropped, and
    /// what is in flight on them finishes.
    fn renewed(&mut self, (started, renewed): (Instant, Result<Vec<String>, StoreError>)) {
        self.renewing = None;
        match renewed {
            Ok(kept) => {
                self.held_until = started + self.settings.lease;
                if kept.len() < self.held.len() {
                    let kept: std::collections::HashSet<String> = kept.into_iter().collect();
                    let lost: Vec<String> = self
                        .held
                        .keys()
                        .filter(|lane| !kept.contains(*lane))
                        .cloned()
                        .collect();
                    tracing::warn!(
                        lanes = lost.len(),
                        "holds on lanes ran out before they were renewed; another receiver may deliver them"
                    );
                    for lane in lost {
                        self.held.remove(&lane);
                    }
                }
            }
            Err(error) => {
                // Tried again at once (the loop sees it due); deliveries stop being started once
                // the holds may have run out.
                tracing::warn!(error = %error, "cannot renew the holds on lanes");
                self.pause_until = Instant::now() + STORE_PAUSE;
            }
        }
    }

    /// The lanes whose retry time has come can go again.
    fn wake_sleeping(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, _))) = self.sleeping.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, lane))) = self.sleeping.pop() else {
                break;
            };
            if let Some(held) = self.held.get_mut(&lane) {
                held.busy = false;
                self.ready.push_back(lane);
            }
        }
    }

    /// A lane's turn ended; returns 1 if its delivery failed.
    fn finished(&mut self, joined: Result<(tokio::task::Id, Ended), tokio::task::JoinError>) -> u64 {
        let (lane, turn, ahead) = match joined {
            Ok((id, (lane, turn, ahead))) => {
                self.running_lanes.remove(&id);
                (lane, turn, ahead)
            }
            Err(error) => {
                // The turn itself panicked (not the application, whose panics are failures):
                // the lane starts again from its last delivery done, after a pause.
                let lane = self.running_lanes.remove(&error.id()).unwrap_or_default();
                let turn = Turn::Store(StoreError(format!("a delivery task ended: {error}")));
                (lane, turn, Vec::new())
            }
        };
        self.metrics.in_flight.set(self.running.len() as f64);
        let now = Instant::now();
        let Some(held) = self.held.get_mut(&lane) else {
            // A hold lost meanwhile: what was delivered is marked, the rest is another's.
            if let Turn::Delivered(stored) = turn {
                self.marks.push((lane, stored.id));
            }
            return 0;
        };
        // Read ahead: after what the turn handled (the lane's queue was empty when it read).
        held.queue.extend(ahead);
        match turn {
            Turn::Delivered(stored) => {
                self.metrics.delivered(&stored.received_at);
                held.after = stored.id;
                held.busy = false;
                self.marks.push((lane.clone(), stored.id));
                // To the back of the line: the other lanes go first.
                self.ready.push_back(lane);
                0
            }
            Turn::Failed(stored, failure, recorded) => {
                self.metrics.app_failures.increment(1);
                let attempts = match recorded {
                    Ok(Failed::SetAside { attempts }) => {
                        self.metrics.app_set_aside.increment(1);
                        tracing::error!(
                            delivery_id = stored.id,
                            lane = %Shown(&lane),
                            attempts,
                            "the application failed on this delivery too often: set aside (state failed); its lane goes on"
                        );
                        held.after = stored.id;
                        held.busy = false;
                        self.ready.push_back(lane);
                        return 1;
                    }
                    Ok(Failed::Retry { attempts }) => attempts,
                    Err(error) => {
                        tracing::error!(delivery_id = stored.id, error = %error, "cannot record a failure");
                        stored.attempts + 1
                    }
                };
                let wait = backoff(attempts, failure.wait());
                tracing::warn!(
                    delivery_id = stored.id,
                    lane = %Shown(&lane),
                    attempts,
                    retry_ms = wait.as_millis() as u64,
                    "the application failed (see deliveries.last_error); trying again after a pause"
                );
                // Not at the default level in full: a panic message may quote the body.
                tracing::debug!(delivery_id = stored.id, error = %Shown::up_to(failure.reason(), 512), "the failure");
                held.queue.push_front(Stored { attempts, ..stored });
                self.sleeping.push(Reverse((now + wait, lane)));
                1
            }
            Turn::Drained => {
                let after = held.after;
                self.held.remove(&lane);
                self.drained.push(Taken { lane, after });
                0
            }
            Turn::Store(error) => {
                tracing::warn!(lane = %Shown(&lane), error = %error, "cannot read a lane's deliveries; trying again");
                held.queue.clear();
                self.sleeping.push(Reverse((now + STORE_PAUSE, lane)));
                0
            }
        }
    }

    /// At the stop: the deliveries in flight finish (for three quarters of the shutdown time at
    /// most: one cut short is not marked, and comes again), their marks are written, and every
    /// lane held is given back.
    async fn finish(mut self) {
        let finish_by = Instant::now() + self.settings.shutdown * 3 / 4;
        while !self.running.is_empty() {
            match tokio::time::timeout_at(finish_by, self.running.join_next_with_id()).await {
                Ok(Some(joined)) => {
                    self.finished(joined);
                }
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        deliveries = self.running.len(),
                        "deliveries still in flight at the shutdown deadline are cut short; they come again"
                    );
                    self.running.abort_all();
                    break;
                }
            }
        }
        if let Some(flushing) = self.flushing.take() {
            let _ = flushing.await;
        }
        let marks = std::mem::take(&mut self.marks);
        if !marks.is_empty() {
            if let Err(error) = self.store.done(marks).await {
                tracing::error!(error = %error, "cannot mark deliveries done; they come again");
                return;
            }
        }
        let mut lanes = std::mem::take(&mut self.drained);
        lanes.extend(self.held.drain().map(|(lane, held)| Taken {
            lane,
            after: held.after,
        }));
        if !lanes.is_empty() {
            if let Err(error) = self.store.release(lanes).await {
                tracing::warn!(error = %error, "cannot give back the lanes held; they come back after the lease");
            }
        }
    }
}

/// One turn of a lane: its next delivery (read from the store, with a few after it, when none
/// was read ahead) handed to the application, in a task of its own (a panic is a failure like an
/// error); a failure recorded. Returns the deliveries read ahead too.
async fn turn<A: Application>(
    store: Arc<dyn Store>,
    application: Arc<A>,
    lane: &str,
    after: i64,
    next: Option<Stored>,
    max_attempts: u32,
) -> (Turn, Vec<Stored>) {
    let (stored, ahead) = match next {
        Some(stored) => (stored, Vec::new()),
        None => match store.next(lane, after, PREFETCH, PREFETCH_BYTES).await {
            Ok(mut next) if !next.is_empty() => {
                let first = next.remove(0);
                (first, next)
            }
            Ok(_) => return (Turn::Drained, Vec::new()),
            Err(error) => return (Turn::Store(error), Vec::new()),
        },
    };
    let delivery = Arc::new(Delivery::new(stored.clone()));
    let handled = tokio::spawn({
        let delivery = Arc::clone(&delivery);
        async move { application.handle(&delivery).await }
    })
    .await;
    let failure = match handled {
        Ok(Ok(())) => return (Turn::Delivered(stored), ahead),
        Ok(Err(failure)) => failure,
        Err(error) if error.is_panic() => Failure::new(panic_message(error.into_panic())),
        Err(error) => Failure::new(error.to_string()),
    };
    let recorded = store
        .failed(&stored, failure.reason().to_owned(), max_attempts)
        .await;
    (Turn::Failed(stored, failure, recorded), ahead)
}

/// How long to wait before the try after `attempts` failures: from [`FIRST_BACKOFF`], doubling,
/// at most [`MAX_BACKOFF`], between half of it and all of it (jitter: lanes that failed together
/// do not come back together); no sooner than what the application asked, within those bounds.
pub(crate) fn backoff(attempts: u32, asked: Option<Duration>) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(1 << attempts.saturating_sub(1).min(16));
    let ceiling = doubled.min(MAX_BACKOFF);
    let jittered = ceiling / 2 + ceiling.mul_f64(crate::random::random_fraction() / 2.0);
    jittered.max(asked.unwrap_or_default().min(MAX_BACKOFF))
}

/// The message of a panic, when it is a string.
fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => format!("panicked: {message}"),
        Err(panic) => match panic.downcast::<&'static str>() {
            Ok(message) => format!("panicked: {message}"),
            Err(_) => "panicked".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_with_jitter_up_to_its_ceiling_and_honours_a_retry_after() {
        for _ in 0..100 {
            let first = backoff(1, None);
            assert!(first >= FIRST_BACKOFF / 2 && first <= FIRST_BACKOFF, "{first:?}");
            let fourth = backoff(4, None);
            assert!(
                fourth >= FIRST_BACKOFF * 4 && fourth <= FIRST_BACKOFF * 8,
                "{fourth:?}"
            );
            let late = backoff(40, None);
            assert!(late >= MAX_BACKOFF / 2 && late <= MAX_BACKOFF, "{late:?}");
            assert_eq!(backoff(1, Some(Duration::from_secs(5))), Duration::from_secs(5));
            assert_eq!(
                backoff(1, Some(Duration::from_secs(3600))),
                MAX_BACKOFF,
                "within the bounds"
            );
        }
    }
}
