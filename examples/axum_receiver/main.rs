//! `axum_receiver`: a Smooch webhook receiver, `POST /webhook`, that stores every accepted body in
//! SQLite before its 200 and hands it to the application from there.
//!
//! ```text
//! SMOOCH_WEBHOOK_SECRETS=secret1,secret2 cargo run --release --example axum_receiver
//! ```
//!
//! `--help` lists the environment variables (every limit has a default). A request goes through:
//!
//! 1. the `X-API-Key` header, checked before any byte of the body is read: 401 and the connection
//!    closed;
//! 2. the `Content-Length`: over the limit, the body's first 64 KiB go to `dead_letters`, then 413;
//! 3. room for the body in memory (all bodies held at once are bounded in bytes): else 503;
//! 4. the body, within the body timeout: else 408;
//! 5. its parse ([`body`]): a body that is not a webhook body goes to `dead_letters`, then 400
//!    (Smooch never sends it again, so it is kept for an operator to replay);
//! 6. the store ([`store`]): written, committed (grouped with the requests of the same moment) and
//!    synced to disk, then 200. A body stored before (a retry: same bytes) is answered 200 and not
//!    stored again. A store that fails or is too slow gives 503, which Smooch retries.
//!
//! The application ([`worker`]) reads the stored webhooks in order and marks each done, so a crash
//! loses nothing answered 200, and what was not done is done after the next start.
//!
//! On SIGTERM or Ctrl-C the receiver stops accepting, lets in-flight requests finish within the
//! shutdown deadline, lets the application finish the webhook it holds, writes what is queued and
//! exits 0; a second signal exits at once. A store that can no longer write makes it exit 1 after
//! the same shutdown, for a supervisor (systemd, Kubernetes) to restart it.

pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod log;
pub(crate) mod server;
pub(crate) mod store;
pub(crate) mod worker;

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use smooch_events::WebhookSecrets;
use tokio::net::TcpListener;
use tokio::sync::watch;

use self::config::{Config, Limits, VARIABLES};
use self::log::Shown;
use self::store::sqlite::SqliteStore;
use self::store::Store;
use self::worker::{Application, LogApplication};

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|arg| arg == "--help" || arg == "-h") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("axum_receiver: {error}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let (log_guard, log_errors) = log::init(config.log_level);
    log_panics();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(error = %error, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(config));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let dropped = log::dropped_lines(&log_errors);
    if dropped > 0 {
        tracing::warn!(dropped, "log lines were dropped: standard error did not keep up");
    }
    drop(log_guard);
    code
}

/// Panics (of the application, say) go to the log like everything else, instead of straight to
/// standard error: where at `error`, the message (which may quote a body) at `debug` only.
fn log_panics() {
    std::panic::set_hook(Box::new(|panic| {
        let location = panic.location().map(|l| format!("{}:{}", l.file(), l.line()));
        let payload = panic.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        tracing::error!(at = %log::Opt(location), "panic");
        tracing::debug!(message = %Shown::up_to(message, 512), "panic message");
    }));
}

/// The variables, their defaults, and what they set.
fn usage() -> String {
    let mut text = String::from(
        "axum_receiver: receives Smooch webhooks on POST /webhook, stored in SQLite before the 200\n\n\
         Environment variables (sizes: 1048576, 64KiB, 1MiB; durations: 500ms, 10s, 2m):\n",
    );
    for (name, default, what) in VARIABLES {
        text.push_str(&format!("  {name:<24} {default:<24} {what}\n"));
    }
    text
}

/// The process: the store from the configuration, the listener, the example's application, and
/// SIGTERM or Ctrl-C to stop. Exits 0 after a signal, 1 when the store broke or cannot be opened.
async fn run(config: Config) -> ExitCode {
    let store = match SqliteStore::open(&config.store) {
        Ok(store) => Arc::new(store),
        Err(error) => {
            tracing::error!(error = %error, "cannot open the store");
            return ExitCode::FAILURE;
        }
    };
    let listener = match server::bind(&config.listen, config.limits.backlog).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(address = %Shown(&config.listen), error = %error, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    warn_if_few_descriptors(config.limits.max_connections);
    tracing::info!(
        address = %log::Opt(listener.local_addr().ok()),
        store = %config.store.display(),
        secrets = config.secrets.len(),
        "listening: POST /webhook"
    );
    let signal = async {
        shutdown_signal().await;
        tokio::spawn(async {
            shutdown_signal().await;
            tracing::warn!("second signal: exiting now");
            std::process::exit(130);
        });
    };
    match serve(
        listener,
        config.secrets,
        config.limits,
        store,
        LogApplication,
        signal,
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(Broken(reason)) => {
            tracing::error!(reason = %reason, "exit 1: restart the process once the store is fixed");
            ExitCode::FAILURE
        }
    }
}

/// Why a receiver stopped other than when asked: the store broke.
#[derive(Debug)]
pub(crate) struct Broken(pub(crate) String);

/// A whole receiver on `listener`: the HTTP side, `application` under supervision, until
/// `shutdown` resolves (or the store breaks), then the shutdown within
/// [`Limits::shutdown_timeout`], and the store closed.
pub(crate) async fn serve<A: Application>(
    listener: TcpListener,
    secrets: WebhookSecrets,
    limits: Limits,
    store: Arc<dyn Store>,
    application: A,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Broken> {
    let (stop, stopped) = watch::channel(false);
    let deadline = limits.shutdown_timeout;
    let shared = server::Shared::new(secrets, Arc::clone(&store), limits.clone());
    let mut http = tokio::spawn(server::serve(listener, shared, stopped.clone()));
    let mut app = tokio::spawn(worker::supervise(
        Arc::clone(&store),
        Arc::new(application),
        limits.max_attempts,
        stopped,
    ));

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
    let started = tokio::time::Instant::now();
    // Both finish within the deadline: the server drops its last connections at it, the
    // application is cut short at it (its webhook stays pending, to be done after the next start).
    if !http.is_finished() {
        let _ = (&mut http).await;
    }
    match tokio::time::timeout_at(started + deadline, &mut app).await {
        Ok(restarts) => tracing::info!(restarts = restarts.unwrap_or(0), "the application stopped"),
        Err(_) => {
            tracing::warn!("the application did not stop by the deadline; its webhook stays pending");
            app.abort();
        }
    }
    if let Err(error) = store.close().await {
        tracing::error!(error = %error, "closing the store");
    }
    tracing::info!("stopped");
    outcome
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
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
            "the open-file limit is close to SMOOCH_MAX_CONNECTIONS: raise it (ulimit -n) or lower the connections"
        );
    }
}
