//! `bot`: a Sunshine Conversations v2 bot, reading each event of the bodies it is given the way a
//! real one does, and printing what it would do.
//!
//! ```text
//! cargo run --example bot -- fixtures/v2/*.json fixtures/v2/written/channels/*.json
//! ```
//!
//! For each event: drop it if it was already handled (by event id and type, as retries deliver
//! an event again); answer a user's text, image or file, quick reply or postback in the
//! conversations where the bot's switchboard integration is in control, naming the user, their
//! external id and the channel; log what the switchboard does (accept, offer, pass and release
//! control, and their failures), undelivered messages with their error code, and event types
//! the crate does not model. The handling is in `bot/handler.rs`; `tests/v2/bot.rs` runs it on
//! every v2 fixture.
//!
//! Prints one line per event, `FILE: TYPE ID: ACTION`. A file that cannot be read or parsed, or
//! holds a v1 body, prints `FILE: error: …` on standard error, and the exit code is then 1.

#[path = "bot/handler.rs"]
mod handler;

use std::process::ExitCode;

use smooch_events::{parse_webhook, Webhook};

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("bot: give the files of v2 webhook bodies to handle");
        return ExitCode::from(1);
    }
    let mut bot = handler::Bot::default();
    let mut failed = false;
    for file in &files {
        let body = match std::fs::read(file) {
            Ok(body) => body,
            Err(error) => {
                eprintln!("{file}: error: {error}");
                failed = true;
                continue;
            }
        };
        match parse_webhook(&body) {
            Ok(Webhook::V2(body)) => {
                for event in &body.events {
                    let action = bot.handle(event);
                    println!("{}", handler::line(file, event, &action));
                }
            }
            Ok(_) => {
                eprintln!("{file}: error: not a v2 body (this bot reads v2 webhooks)");
                failed = true;
            }
            Err(error) => {
                eprintln!("{file}: error: {error}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
