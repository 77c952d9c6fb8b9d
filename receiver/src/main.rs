//! `smooch-receiver`: the command line. `serve` (the default) receives webhooks; the other
//! commands administer the store while receivers run on it. Every option is also an `SMOOCH_*`
//! variable; an unknown option or `SMOOCH_*` variable is refused at start.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use smooch_receiver::config::{check_variables, redact_url};
use smooch_receiver::store::open_admin;
use smooch_receiver::{commands, Forward, LogApplication, Logging, Options, Receiver};

/// Receives Smooch and Sunshine Conversations webhooks on POST /webhook, stores each accepted body
/// (SQLite, or PostgreSQL shared by several receivers) before its 200, and hands it to the
/// application: a log line, or a POST to SMOOCH_FORWARD_URL.
///
/// Sizes: 1048576, 64KiB, 1MiB. Durations: 500ms, 10s, 2m, 1h, 7d.
#[derive(Parser, Debug)]
#[command(name = "smooch-receiver", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    options: Options,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
enum Command {
    /// Receive webhooks (the default).
    Serve,
    /// Deliveries waiting (in how many lanes, the oldest), done and set aside; bodies stored;
    /// dead letters.
    Stats,
    /// The refused bodies kept in `dead_letters`.
    #[command(subcommand)]
    DeadLetters(Letters),
    /// Give the deliveries set aside (state failed) back to the application: all, or one lane's.
    Requeue {
        /// Only the deliveries of this lane (as `X-Smooch-Lane` and the log name it, e.g.
        /// conversation:<app id>:<conversation id>).
        #[arg(long, value_name = "LANE")]
        lane: Option<String>,
    },
    /// Apply the store's migrations, and exit.
    Migrate,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
enum Letters {
    /// The newest dead letters, one a line.
    List,
    /// One dead letter: its body exactly as received on standard output, what is known of it on
    /// standard error.
    Show {
        /// The dead letter's id.
        id: i64,
    },
    /// Parse the body again; if it parses now, store it as a webhook (once) and mark the dead
    /// letter replayed.
    Replay {
        /// The dead letter's id.
        id: i64,
    },
}

fn main() -> ExitCode {
    let command = Cli::command();
    let known: Vec<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_env().map(|env| env.to_string_lossy().into_owned()))
        .collect();
    let cli = match command
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    if let Err(error) = check_variables(names, &known) {
        eprintln!("smooch-receiver: {error}");
        return ExitCode::from(2);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.options),
        other => administer(&cli.options, other),
    }
}

/// `serve`: exits 0 after a signal, 1 when the store broke or cannot be opened, 2 for settings
/// that cannot work.
fn serve(options: &Options) -> ExitCode {
    if let Err(error) = options.check().and_then(|()| options.secrets().map(drop)) {
        eprintln!("smooch-receiver: {error}\n\n`smooch-receiver --help` lists every option");
        return ExitCode::from(2);
    }
    let logging = Logging::init(options.log);
    log_panics();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(error = %error, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        let receiver = match Receiver::open(options).await {
            Ok(receiver) => receiver.with_logging(&logging),
            Err(error) => {
                tracing::error!(error = %error, "cannot start");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(
            address = %receiver.address(),
            admin = %receiver.admin_address().map_or("-".to_owned(), |a| a.to_string()),
            store = %redact_url(&options.store),
            forward = %options.forward_url.as_deref().map_or("-".to_owned(), redact_url),
            "listening: POST /webhook"
        );
        let stopped = match &options.forward_url {
            Some(url) => match Forward::new(url, options.forward_timeout) {
                Ok(forward) => receiver.serve(forward, signal()).await,
                Err(error) => {
                    tracing::error!(error = %error, "cannot start");
                    return ExitCode::FAILURE;
                }
            },
            None => receiver.serve(LogApplication, signal()).await,
        };
        match stopped {
            Ok(()) => ExitCode::SUCCESS,
            Err(broken) => {
                tracing::error!(reason = %broken.0, "exit 1: restart the process once the store is fixed");
                ExitCode::FAILURE
            }
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let dropped = logging.dropped();
    if dropped > 0 {
        tracing::warn!(dropped, "log lines were dropped: standard error did not keep up");
    }
    code
}

/// Resolves on the first SIGTERM or Ctrl-C; a second one exits at once.
async fn signal() {
    shutdown_signal().await;
    tokio::spawn(async {
        shutdown_signal().await;
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
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

/// Panics (of the application, say) go to the log like everything else, instead of straight to
/// standard error: where at `error`, the message (which may quote a body) at `debug` only.
fn log_panics() {
    std::panic::set_hook(Box::new(|panic| {
        let location = panic
            .location()
            .map_or("-".to_owned(), |l| format!("{}:{}", l.file(), l.line()));
        let payload = panic.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        tracing::error!(at = %location, "panic");
        tracing::debug!(message = %message.escape_debug(), "panic message");
    }));
}

/// The administration commands: their output on standard output, errors on standard error;
/// exit 0, or 1 when the command failed.
fn administer(options: &Options, command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("smooch-receiver: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let admin = open_admin(&options.store, command == Command::Migrate)
            .await
            .map_err(|error| error.to_string())?;
        let admin = &*admin;
        match command {
            Command::Serve => unreachable!("serve is not an administration command"),
            Command::Stats => commands::stats(admin).await.map(String::into_bytes),
            Command::DeadLetters(Letters::List) => commands::list(admin).await.map(String::into_bytes),
            Command::DeadLetters(Letters::Show { id }) => {
                let (about, body) = commands::show(admin, id).await?;
                eprint!("{about}");
                Ok(body)
            }
            Command::DeadLetters(Letters::Replay { id }) => {
                commands::replay(admin, id).await.map(String::into_bytes)
            }
            Command::Requeue { lane } => commands::requeue(admin, lane).await.map(String::into_bytes),
            Command::Migrate => commands::migrate(admin).await.map(String::into_bytes),
        }
    });
    match outcome {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(&output).and_then(|()| stdout.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("smooch-receiver: {error}");
            ExitCode::FAILURE
        }
    }
}
