//! `bot`: a Smooch / Sunshine Conversations bot for v1 and v2 webhooks alike, reading the bodies
//! it is given the way a real one does, and printing what it would do.
//!
//! ```text
//! cargo run --example bot -- fixtures/message_appUser_text.json       # a v1 body
//! cargo run --example bot -- fixtures/v2/*.json fixtures/v2/written/channels/*.json
//! ```
//!
//! For each message and postback of a body, of either version (`Webhook::incoming`): drop it if it
//! was already handled (by its dedupe key, as retries deliver it again); answer a user's text,
//! quick reply, image or file, location or postback, naming the conversation, the user and the
//! channel, in the conversations where the bot's switchboard integration is in control (v1 has no
//! switchboard: everywhere); ignore the business's own messages. For the other events: log what
//! the switchboard does (v2: accept, offer, pass and release control, and their failures), the
//! messages that were not delivered (v1 and v2) with their error code, and the event types the
//! crate does not model. The handling is in `bot/handler.rs`; `tests/bot.rs` runs it on every
//! fixture, v1 and v2.
//!
//! Prints one line per message, postback or other event: `FILE: TYPE ID: ACTION`. A file that
//! cannot be read or parsed prints `FILE: error: …` on standard error, and the exit code is then 1.

#[path = "bot/handler.rs"]
mod handler;

use std::process::ExitCode;

use smooch_events::parse_webhook;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("bot: give the files of webhook bodies (v1 or v2) to handle");
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
            Ok(webhook) => {
                for step in bot.handle(&webhook) {
                    println!("{}", handler::line(file, &step));
                }
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
