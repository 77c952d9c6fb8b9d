//! The application side: an [`Application`] gets each stored webhook at least once; a supervisor
//! restarts it when it fails.
//!
//! The worker claims webhooks from the store in batches ([`Store::claim`]), hands them to the
//! application one at a time in id order, and marks each batch done in one write. While it works
//! on a batch it renews the claim (PostgreSQL leases) every half lease. When idle it waits for
//! the store's wake-up, and looks again every [`POLL`] anyway (webhooks given back by `requeue`,
//! leases of a receiver that died).
//!
//! Supervision: when the application returns an error or panics, the supervisor records the
//! failure on the webhook it was handling (`attempts`, `last_error`), waits (a backoff from
//! [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`]) and starts it again from that webhook. After
//! `max_attempts` failures on one webhook, that webhook is set aside (state `failed`, for an
//! operator) and the application goes on with the next. The task is restarted rather than the
//! process exited because the HTTP side does not depend on it: every 200 is already stored, so
//! receiving goes on while the application is down, and one bad webhook cannot stop the process.
//! A store that can no longer store is the opposite case: the process exits non-zero.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::describe;
use crate::log::Shown;
use crate::metrics::Metrics;
use crate::store::{Failed, Store, StoreError, Webhook};

/// The first wait before a restart.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before a restart.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How often an idle worker looks at the store without a wake-up.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// Webhooks claimed at a time, at most.
const BATCH_ROWS: usize = 64;

/// Bytes of bodies claimed at a time, at most (but one body always).
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// What handles the stored webhooks: [`LogApplication`], [`Forward`](crate::Forward), or yours.
pub trait Application: Send + Sync + 'static {
    /// Handles one webhook. `Ok` marks it done (with the others of its batch, in one write); an
    /// error (or a panic) fails the application on it: it gets the same webhook again after a
    /// restart, until it succeeds or the webhook is set aside. A webhook can come again after a
    /// crash even when it was handled (the mark was not written yet): make the handling
    /// idempotent, by [`Webhook::id`] or by the ids in the body.
    fn handle(&self, webhook: &Webhook) -> impl Future<Output = Result<(), String>> + Send;
}

impl<A: Application> Application for Arc<A> {
    fn handle(&self, webhook: &Webhook) -> impl Future<Output = Result<(), String>> + Send {
        (**self).handle(webhook)
    }
}

/// The application of the binary without `SMOOCH_FORWARD_URL`: it logs each webhook at `debug`
/// (its message texts too), and marks it done.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogApplication;

impl Application for LogApplication {
    async fn handle(&self, webhook: &Webhook) -> Result<(), String> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                webhook_id = webhook.id,
                kinds = %Shown(&webhook.kinds),
                app = %Shown(webhook.app_id.as_deref().unwrap_or("")),
                "handled"
            );
            for text in describe::message_texts(&webhook.body) {
                tracing::debug!(webhook_id = webhook.id, text = %Shown(&text), "message");
            }
        }
        Ok(())
    }
}

/// Why one run of the application ended.
enum Stopped {
    /// `stop` turned true.
    Asked,
    /// The application failed on the first webhook of the claims.
    Failed(String),
    /// The store failed.
    Store(StoreError),
}

/// What the worker holds: webhooks claimed and not handled yet (the first is the one being
/// handled), those handled and not marked done yet, and when the claim was last renewed.
struct Claimed {
    /// Shared with the run handling the first one (no copy of the body).
    rows: VecDeque<Arc<Webhook>>,
    handled: Vec<i64>,
    renewed: Instant,
}

/// The claims, shared by the supervisor and its runs.
struct Work {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    lease: Duration,
    claimed: Mutex<Claimed>,
}

impl Work {
    fn claimed(&self) -> std::sync::MutexGuard<'_, Claimed> {
        self.claimed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks done, in one write, what was handled since the last mark.
    async fn mark(&self) -> Result<(), StoreError> {
        let handled = std::mem::take(&mut self.claimed().handled);
        if handled.is_empty() {
            return Ok(());
        }
        self.metrics.handled.increment(handled.len() as u64);
        self.store.done(handled).await
    }

    /// The next webhook to handle: the first held, or the first of a new claim; `None` when there
    /// is none now.
    async fn next(&self) -> Result<Option<Arc<Webhook>>, StoreError> {
        let (first, renew) = {
            let claimed = self.claimed();
            let renew = claimed.renewed.elapsed() >= self.lease / 2;
            (
                claimed.rows.front().cloned(),
                renew.then(|| claimed.rows.iter().map(|r| r.id).collect()),
            )
        };
        if let Some(first) = first {
            if let Some(ids) = renew {
                let kept: Vec<i64> = self.store.extend(ids).await?;
                let mut claimed = self.claimed();
                claimed.rows.retain(|row| kept.contains(&row.id));
                claimed.renewed = Instant::now();
                return Ok(claimed.rows.front().cloned());
            }
            return Ok(Some(first));
        }
        self.mark().await?;
        let rows = self.store.claim(BATCH_ROWS, BATCH_BYTES).await?;
        let mut claimed = self.claimed();
        claimed.rows.extend(rows.into_iter().map(Arc::new));
        claimed.renewed = Instant::now();
        Ok(claimed.rows.front().cloned())
    }

    /// The webhook handled: done, with the batch.
    fn handled(&self, id: i64) {
        let mut claimed = self.claimed();
        if claimed.rows.front().map(|row| row.id) == Some(id) {
            claimed.rows.pop_front();
        }
        claimed.handled.push(id);
    }

    /// Gives back what is claimed and not handled, and marks the rest done (at shutdown).
    async fn finish(&self) {
        if let Err(error) = self.mark().await {
            tracing::error!(error = %error, "cannot mark webhooks done; they come again");
        }
        let ids: Vec<i64> = self.claimed().rows.drain(..).map(|row| row.id).collect();
        if !ids.is_empty() {
            if let Err(error) = self.store.release(ids).await {
                tracing::warn!(error = %error, "cannot give back the claimed webhooks; they come back after the lease");
            }
        }
    }
}

/// Runs `application` on every webhook not done, as they are stored, until `stop` turns true;
/// restarts it when it fails (see the [module](self)). Returns the number of restarts.
pub(crate) async fn supervise<A: Application>(
    store: Arc<dyn Store>,
    application: Arc<A>,
    max_attempts: u32,
    lease: Duration,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> u32 {
    let mut restarts = 0;
    let mut backoff = FIRST_BACKOFF;
    let work = Arc::new(Work {
        store: Arc::clone(&store),
        metrics: Arc::clone(&metrics),
        lease,
        claimed: Mutex::new(Claimed {
            rows: VecDeque::new(),
            handled: Vec::new(),
            renewed: Instant::now(),
        }),
    });
    loop {
        let run = AbortOnDrop(tokio::spawn(run(
            Arc::clone(&work),
            Arc::clone(&application),
            stop.clone(),
        )));
        let stopped = match run.join().await {
            Ok(stopped) => stopped,
            Err(error) if error.is_panic() => Stopped::Failed(panic_message(error.into_panic())),
            Err(error) => Stopped::Failed(error.to_string()),
        };
        // What was handled before the failure is done, whatever happens next.
        if let Err(error) = work.mark().await {
            tracing::error!(error = %error, "cannot mark webhooks done; retrying with the next mark");
        }
        let mut progressed = false;
        match stopped {
            Stopped::Asked => {
                work.finish().await;
                return restarts;
            }
            Stopped::Store(error) => {
                tracing::error!(error = %error, "the application cannot reach the store; restarting it");
            }
            Stopped::Failed(error) => {
                metrics.app_failures.increment(1);
                let id = work.claimed().rows.front().map_or(0, |row| row.id);
                // Not at the default level in full: a panic message may quote the body.
                tracing::debug!(webhook_id = id, error = %Shown::up_to(&error, 512), "the application failed");
                match store.failed(id, error, max_attempts).await {
                    Ok(Failed::Retry { attempts }) => {
                        tracing::warn!(
                            webhook_id = id,
                            attempts,
                            "the application failed (see webhooks.last_error); restarting it"
                        );
                        if let Some(row) = work.claimed().rows.front_mut() {
                            Arc::make_mut(row).attempts = attempts;
                        }
                    }
                    Ok(Failed::SetAside { attempts }) => {
                        metrics.app_set_aside.increment(1);
                        tracing::error!(
                            webhook_id = id,
                            attempts,
                            "the application failed on this webhook too often: set aside (state failed)"
                        );
                        // Set aside, so not pending: the next run goes past it.
                        let mut claimed = work.claimed();
                        if claimed.rows.front().map(|row| row.id) == Some(id) {
                            claimed.rows.pop_front();
                        }
                        progressed = true;
                    }
                    Err(error) => {
                        tracing::error!(webhook_id = id, error = %error, "cannot record the failure");
                    }
                }
            }
        }
        restarts += 1;
        if progressed {
            backoff = FIRST_BACKOFF;
        }
        let stopping = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => true,
            () = tokio::time::sleep(backoff) => false,
        };
        if stopping {
            work.finish().await;
            return restarts;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One run of the application: the claimed webhooks, in order, until `stop` or a failure.
async fn run<A: Application>(
    work: Arc<Work>,
    application: Arc<A>,
    mut stop: watch::Receiver<bool>,
) -> Stopped {
    loop {
        if *stop.borrow() {
            return Stopped::Asked;
        }
        let webhook = match work.next().await {
            Ok(Some(webhook)) => webhook,
            Ok(None) => {
                tokio::select! {
                    () = work.store.new_work() => continue,
                    () = tokio::time::sleep(POLL) => continue,
                    _ = stop.wait_for(|stop| *stop) => return Stopped::Asked,
                }
            }
            Err(error) => return Stopped::Store(error),
        };
        if let Err(error) = application.handle(&webhook).await {
            return Stopped::Failed(error);
        }
        work.handled(webhook.id);
    }
}

/// A task handle that aborts the task when dropped, so that a supervisor cut short at the
/// shutdown deadline takes its run with it.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
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
