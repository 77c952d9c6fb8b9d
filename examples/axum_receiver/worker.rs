//! The application side: an [`Application`] gets each stored webhook, in order, at least once; a
//! supervisor restarts it when it fails.
//!
//! Supervision: when the application returns an error or panics, the supervisor records the
//! failure on the webhook it was handling (`attempts`, `last_error`), waits (a backoff from
//! [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`]) and starts it again from that webhook. After
//! [`Limits::max_attempts`](super::config::Limits::max_attempts) failures on one webhook, that
//! webhook is set aside (state `failed`, for an operator) and the application goes on with the next.
//! The task is restarted rather than the process exited because the HTTP side does not depend on
//! it: every 200 is already stored, so receiving goes on while the application is down, and one
//! bad webhook cannot stop the process (a supervisor restarting the process would refuse requests
//! during each restart and, on a webhook that always fails, restart it forever). A store that can
//! no longer store is the opposite case: the process exits non-zero (see `main`).

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::body;
use super::log::Shown;
use super::store::{Failed, Pending, Store, StoreError};

/// The first wait before a restart.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before a restart.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Webhooks read from the store at a time, at most.
const BATCH_ROWS: usize = 64;

/// Bytes of bodies read from the store at a time, at most (but one body always).
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// What handles the stored webhooks: replace [`LogApplication`] with yours.
pub(crate) trait Application: Send + Sync + 'static {
    /// Handles one webhook. `Ok` marks it done (with the others of its batch, in one write); an
    /// error (or a panic) fails the application on it:
    /// it will get the same webhook again after a restart, until it succeeds or the webhook is set
    /// aside. A webhook can come again after a crash even when it was handled (the mark was not
    /// written yet): make the handling idempotent, by row id or by the ids in the body.
    fn handle(&self, webhook: &Pending) -> impl Future<Output = Result<(), String>> + Send;
}

/// The example's application: it logs what it gets. Message text is logged at debug only.
pub(crate) struct LogApplication;

impl Application for LogApplication {
    async fn handle(&self, webhook: &Pending) -> Result<(), String> {
        let parsed = body::parse(&webhook.body).map_err(|error| error.to_string())?;
        let description = body::describe(&parsed);
        tracing::debug!(
            row = webhook.id,
            kinds = %Shown(&description.kinds),
            app = %Shown(description.app_id.as_deref().unwrap_or("")),
            "handled"
        );
        match &parsed {
            smooch_events::Webhook::V1(event @ smooch_events::Event::MessageAppUser(_)) => {
                let user = event.app_user_id().unwrap_or_default();
                for text in event.messages().iter().filter_map(|m| m.text()) {
                    tracing::debug!(user = %Shown(user), text = %Shown(text), "message");
                }
            }
            smooch_events::Webhook::V2(webhook) => {
                for message in webhook
                    .events
                    .iter()
                    .filter_map(smooch_events::v2::Event::message)
                {
                    if let Some(text) = message.text() {
                        tracing::debug!(text = %Shown(text), "message");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Why one run of the application ended.
enum Stopped {
    /// `stop` turned true.
    Asked,
    /// The application failed on a webhook.
    Failed(String),
    /// The store failed.
    Store(StoreError),
}

/// Where the application is: it handled every webhook up to `handled` (in id order), and the
/// store was told so up to `marked`.
#[derive(Default)]
struct Progress {
    handled: AtomicI64,
    marked: AtomicI64,
    /// The webhook being handled (0 between webhooks).
    current: AtomicI64,
}

impl Progress {
    /// Marks done, in one write, what was handled since the last mark.
    async fn mark(&self, store: &dyn Store) -> Result<(), StoreError> {
        let (marked, handled) = (self.marked.load(Relaxed), self.handled.load(Relaxed));
        if handled > marked {
            store.done(marked, handled).await?;
            self.marked.store(handled, Relaxed);
        }
        Ok(())
    }
}

/// Runs `application` on every webhook not done, as they are stored, until `stop` turns true;
/// restarts it when it fails (see the [module](self)). Returns the number of restarts.
pub(crate) async fn supervise<A: Application>(
    store: Arc<dyn Store>,
    application: Arc<A>,
    max_attempts: u32,
    mut stop: watch::Receiver<bool>,
) -> u32 {
    let mut restarts = 0;
    let mut backoff = FIRST_BACKOFF;
    let progress = Arc::new(Progress::default());
    loop {
        let run = AbortOnDrop(tokio::spawn(work(
            Arc::clone(&store),
            Arc::clone(&application),
            Arc::clone(&progress),
            stop.clone(),
        )));
        let before = progress.handled.load(Relaxed);
        let stopped = match run.join().await {
            Ok(stopped) => stopped,
            Err(error) if error.is_panic() => Stopped::Failed(panic_message(error.into_panic())),
            Err(error) => Stopped::Failed(error.to_string()),
        };
        // What was handled before the failure is done, whatever happens next.
        if let Err(error) = progress.mark(&*store).await {
            tracing::error!(error = %error, "cannot mark webhooks done");
        }
        match stopped {
            Stopped::Asked => return restarts,
            Stopped::Store(error) => {
                tracing::error!(error = %error, "the application cannot read the store; restarting it");
            }
            Stopped::Failed(error) => {
                let id = progress.current.swap(0, Relaxed);
                // Not at the default level in full: a panic message may quote the body.
                tracing::debug!(row = id, error = %Shown::up_to(&error, 512), "the application failed");
                match store.failed(id, error, max_attempts).await {
                    Ok(Failed::Retry { attempts }) => {
                        tracing::warn!(
                            row = id,
                            attempts,
                            "the application failed (see webhooks.last_error); restarting it"
                        );
                    }
                    Ok(Failed::SetAside { attempts }) => {
                        tracing::error!(
                            row = id,
                            attempts,
                            "the application failed on this webhook too often: set aside (state failed)"
                        );
                        // Set aside, so not pending: the next run goes past it.
                        progress.handled.fetch_max(id, Relaxed);
                        progress.marked.fetch_max(id, Relaxed);
                    }
                    Err(error) => {
                        tracing::error!(row = id, error = %error, "cannot record the failure");
                    }
                }
            }
        }
        restarts += 1;
        // Progress since the last restart: the failure is new, start the backoff again.
        if progress.handled.load(Relaxed) > before {
            backoff = FIRST_BACKOFF;
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return restarts,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One run of the application: webhooks above `progress.handled`, in order, until `stop` or a
/// failure. Each batch read is marked done in one write once handled.
async fn work<A: Application>(
    store: Arc<dyn Store>,
    application: Arc<A>,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
) -> Stopped {
    loop {
        if let Err(error) = progress.mark(&*store).await {
            return Stopped::Store(error);
        }
        if *stop.borrow() {
            return Stopped::Asked;
        }
        let batch = match store
            .pending(progress.handled.load(Relaxed), BATCH_ROWS, BATCH_BYTES)
            .await
        {
            Ok(batch) => batch,
            Err(error) => return Stopped::Store(error),
        };
        if batch.is_empty() {
            tokio::select! {
                () = store.new_work() => continue,
                _ = stop.wait_for(|stop| *stop) => return Stopped::Asked,
            }
        }
        for webhook in batch {
            // Between webhooks only: the one being handled is finished first.
            if *stop.borrow() {
                return Stopped::Asked;
            }
            progress.current.store(webhook.id, Relaxed);
            if let Err(error) = application.handle(&webhook).await {
                return Stopped::Failed(error);
            }
            progress.current.store(0, Relaxed);
            progress.handled.store(webhook.id, Relaxed);
        }
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
