//! `parse`: what a Smooch webhook body is, and what is wrong with it.
//!
//! ```text
//! cargo run --example parse -- [--json | --pretty] [--validate] FILE...
//! ```
//!
//! Run with `--help` for the options and exit codes.

use std::io::{Read, Write};
use std::process::ExitCode;

use smooch_events::{parse_event, ChannelError, Event, Message, Source};

const HELP: &str = "\
Parses Smooch webhook bodies and prints what each one is.

Usage: parse [OPTIONS] FILE...

  FILE         a file holding one webhook body; `-` reads standard input

Options:
  --json       print each event serialized back to JSON, one compact line per file
  --pretty     the same, pretty-printed
  --validate   also check each event (Event::validate) and print every problem
               with its JSON path, as `FILE: PATH: PROBLEM`
  -h, --help   print this help

Output: one line per file, `FILE: TRIGGER SUMMARY` (or the JSON with --json or
--pretty). A file that cannot be read or parsed prints `FILE: error: ERROR` on
standard error.

Exit codes:
  0  every file parsed (and, with --validate, had no problem)
  1  a file could not be read or parsed, or the command line is wrong
  2  with --validate: every file parsed, and at least one has a problem
";

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Summary,
    Json,
    Pretty,
}

fn main() -> ExitCode {
    let mut output = Output::Summary;
    let mut validate = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--json" => output = Output::Json,
            "--pretty" => output = Output::Pretty,
            "--validate" => validate = true,
            flag if flag.starts_with("--") => {
                eprintln!("parse: unknown option `{flag}` (see --help)");
                return ExitCode::from(1);
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("parse: no FILE given (see --help)");
        return ExitCode::from(1);
    }

    let (mut failed, mut invalid) = (false, false);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &files {
        let event = match read(file).and_then(|bytes| parse_event(&bytes).map_err(|e| e.to_string())) {
            Ok(event) => event,
            Err(error) => {
                eprintln!("{file}: error: {error}");
                failed = true;
                continue;
            }
        };
        let printed = match output {
            Output::Summary => writeln!(out, "{file}: {} {}", event.trigger(), summary(&event)),
            Output::Json => writeln!(
                out,
                "{}",
                serde_json::to_string(&event).expect("an event serializes")
            ),
            Output::Pretty => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&event).expect("an event serializes")
            ),
        };
        if printed.is_err() {
            // Standard output was closed (e.g. piped into `head`): nothing more to say.
            return ExitCode::from(1);
        }
        if validate {
            if let Err(problems) = event.validate() {
                invalid = true;
                for issue in problems.issues() {
                    let _ = writeln!(out, "{file}: {issue}");
                }
            }
        }
    }
    match (failed, invalid) {
        (true, _) => ExitCode::from(1),
        (false, true) => ExitCode::from(2),
        (false, false) => ExitCode::SUCCESS,
    }
}

fn read(file: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let result = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map(drop)
    };
    result.map(|()| bytes).map_err(|e| e.to_string())
}

/// A few words on what the event says.
fn summary(event: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(user) = event.app_user_id() {
        parts.push(format!("appUser {user}"));
    }
    let source = |source: Option<&Source>| {
        source
            .and_then(|s| s.kind.as_ref())
            .map(|kind| format!("on {kind}"))
    };
    let error =
        |error: Option<&ChannelError>| error.map(|e| format!("error {}", e.code.as_deref().unwrap_or("?")));
    match event {
        Event::Unknown(_) => return "unknown trigger".to_owned(),
        Event::ConversationStart(e) => {
            parts.extend(source(e.source.as_ref()));
            parts.extend(
                e.referral
                    .as_ref()
                    .map(|r| format!("referral {:?}", r.code.as_deref().unwrap_or(""))),
            );
        }
        Event::ConversationRead(e) => parts.extend(source(e.source.as_ref())),
        Event::ConversationReferral(e) => {
            parts.extend(source(e.source.as_ref()));
            parts.extend(
                e.referral
                    .as_ref()
                    .map(|r| format!("referral {:?}", r.code.as_deref().unwrap_or(""))),
            );
        }
        Event::MessageAppUser(_) | Event::MessageAppMaker(_) => parts.push(messages(event.messages())),
        Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => {
            parts.push(messages(&e.messages));
            parts.extend(error(e.error.as_ref()));
        }
        Event::MessageDeliveryChannel(e)
        | Event::MessageDeliveryUser(e)
        | Event::MessageDeliveryFailure(e) => {
            parts.extend(e.message.as_ref().map(|m| format!("message {}", m.id)));
            parts.extend(error(e.error.as_ref()));
        }
        Event::Postback(e) => {
            let payloads: Vec<_> = e
                .postbacks
                .iter()
                .filter_map(|p| p.action.as_ref()?.payload.as_deref())
                .collect();
            parts.push(format!("payload {payloads:?}"));
        }
        Event::PaymentSuccess(e) => {
            let charges: Vec<_> = e
                .payments
                .iter()
                .filter_map(|p| p.charge.as_ref()?.id.as_deref())
                .collect();
            parts.push(format!("charge {charges:?}"));
        }
        Event::MergeAppUser(e) => parts.push(format!("{} discarded", e.discarded.len())),
        Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => {
            parts.extend(e.channel.as_ref().map(|c| format!("channel {c}")));
            parts.extend(error(e.error.as_ref()));
        }
        Event::TypingAppUser(e) => parts.extend(
            e.activity
                .as_ref()
                .and_then(|a| a.kind.as_ref())
                .map(|k| k.to_string()),
        ),
        other => parts.push(format!("({})", other.trigger())),
    }
    if let Some(time) = event.timestamp() {
        parts.push(format!(
            "at {}",
            time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ));
    }
    parts.join(", ")
}

fn messages(messages: &[Message]) -> String {
    let kinds: Vec<_> = messages
        .iter()
        .map(|m| m.kind.as_ref().map_or("untyped", |k| k.as_str()))
        .collect();
    format!(
        "{} message{} [{}]",
        messages.len(),
        if messages.len() == 1 { "" } else { "s" },
        kinds.join(", ")
    )
}
