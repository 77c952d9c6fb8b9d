//! `parse`: what a Smooch or Sunshine Conversations webhook body is (v1, v1.1 or v2), and what
//! is wrong with it.
//!
//! ```text
//! cargo run --example parse -- [--json | --pretty] [--validate] FILE...
//! ```
//!
//! Run with `--help` for the options and exit codes.

use std::io::{Read, Write};
use std::process::ExitCode;

use smooch_events::v1::{ChannelError, Message, Source};
use smooch_events::{parse_webhook, v2, Event, Webhook};

const HELP: &str = "\
Parses Smooch and Sunshine Conversations webhook bodies (v1, v1.1 and v2) and
prints what each one is.

Usage: parse [OPTIONS] FILE...

  FILE         a file holding one webhook body; `-` reads standard input

Options:
  --json       print each body serialized back to JSON, one compact line per file
  --pretty     the same, pretty-printed
  --validate   also check each body (Webhook::validate) and print every problem
               with its kind and JSON path, as `FILE: KIND: PATH: PROBLEM`; KIND
               is `kept` (a value that did not fit its field, kept as sent),
               `spec` (a requirement of the spec not met) or `advice` (allowed,
               but suspicious: an empty id, an implausible time, …)
  -h, --help   print this help

Output: for a v1 body, one line `FILE: TRIGGER SUMMARY`; for a v2 body, one line
per event, `FILE: TYPE SUMMARY` (`unknown type` for a type the crate does not
model; `FILE: v2, no events` for an empty list); or the JSON with --json or
--pretty. A file that cannot be read or parsed prints `FILE: error: ERROR` on
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
        let webhook = match read(file).and_then(|bytes| parse_webhook(&bytes).map_err(|e| e.to_string())) {
            Ok(webhook) => webhook,
            Err(error) => {
                eprintln!("{file}: error: {error}");
                failed = true;
                continue;
            }
        };
        let printed = match output {
            Output::Summary => print_summary(&mut out, file, &webhook),
            Output::Json => writeln!(
                out,
                "{}",
                serde_json::to_string(&webhook).expect("a body serializes")
            ),
            Output::Pretty => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&webhook).expect("a body serializes")
            ),
        };
        if printed.is_err() {
            // Standard output was closed (e.g. piped into `head`): nothing more to say.
            return ExitCode::from(1);
        }
        if validate {
            if let Err(problems) = webhook.validate() {
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

/// One line per event: the v1 trigger, or each v2 event's type, with a few words on it.
fn print_summary(out: &mut impl Write, file: &str, webhook: &Webhook) -> std::io::Result<()> {
    match webhook {
        Webhook::V1(event) => writeln!(out, "{file}: {} {}", event.trigger(), summary(event)),
        Webhook::V2(body) if body.events.is_empty() => writeln!(out, "{file}: v2, no events"),
        Webhook::V2(body) => {
            for event in &body.events {
                let name = match event.trigger() {
                    "" => "(no type)",
                    name => name,
                };
                writeln!(out, "{file}: {name} {}", v2_summary(event))?;
            }
            Ok(())
        }
        _ => writeln!(out, "{file}: unknown version"),
    }
}

/// A few words on what a v2 event says.
fn v2_summary(event: &v2::Event) -> String {
    use v2::Event as E;
    if event.is_unknown() {
        return "unknown type".to_owned();
    }
    let mut parts = Vec::new();
    if let Some(id) = event.conversation_id() {
        parts.push(format!("conversation {id}"));
    }
    match event {
        E::ConversationMessage(_) => {
            if let Some(message) = event.message() {
                let kind = message.content.as_ref().map_or("no content", |c| c.type_name());
                let kind = if kind.is_empty() { "untyped" } else { kind };
                let mut said = format!("{kind} message");
                if let Some(text) = message.text_or_fallback() {
                    said.push_str(&format!(" {:?}", cut(text)));
                }
                if let Some(author) = &message.author {
                    said.push_str(&format!(
                        " by {}",
                        author.kind.as_ref().map_or("?", |k| k.as_str())
                    ));
                }
                parts.push(said);
            }
        }
        E::ConversationMessageDeliveryChannel(e) | E::ConversationMessageDeliveryUser(e) => {
            if let Some(p) = &e.payload {
                parts.extend(delivery(p.message.as_ref(), p.destination.as_ref()));
            }
        }
        E::ConversationMessageDeliveryFailure(e) => {
            if let Some(p) = &e.payload {
                parts.extend(delivery(p.message.as_ref(), p.destination.as_ref()));
                let code = p.error.as_ref().and_then(|e| e.code.as_deref());
                parts.push(format!("error {}", code.unwrap_or("?")));
            }
        }
        E::ConversationPostback(e) => {
            let payload = e
                .payload
                .as_ref()
                .and_then(|p| p.postback.as_ref()?.payload.as_deref());
            parts.push(format!("payload {:?}", payload.unwrap_or("")));
        }
        E::ConversationRead(e) | E::ConversationTyping(e) => {
            let activity = e.payload.as_ref().and_then(|p| p.activity.as_ref());
            if let Some(kind) = activity.and_then(|a| a.kind.as_ref()) {
                parts.push(kind.to_string());
            }
        }
        E::ConversationCreate(e) => {
            if let Some(reason) = e.payload.as_ref().and_then(|p| p.creation_reason.as_ref()) {
                parts.push(format!("reason {reason}"));
            }
        }
        E::ClientAdd(e) => parts.extend(client(
            e.payload.as_ref().and_then(|p| p.client.as_ref()),
            e.payload
                .as_ref()
                .and_then(|p| p.reason.as_ref())
                .map(|r| r.as_str()),
        )),
        E::ClientRemove(e) => parts.extend(client(
            e.payload.as_ref().and_then(|p| p.client.as_ref()),
            e.payload
                .as_ref()
                .and_then(|p| p.reason.as_ref())
                .map(|r| r.as_str()),
        )),
        E::ClientUpdate(e) => parts.extend(client(
            e.payload.as_ref().and_then(|p| p.client.as_ref()),
            e.payload
                .as_ref()
                .and_then(|p| p.reason.as_ref())
                .map(|r| r.as_str()),
        )),
        E::SwitchboardAcceptControlFailure(e)
        | E::SwitchboardOfferControlFailure(e)
        | E::SwitchboardPassControlFailure(e) => {
            let code = e.payload.as_ref().and_then(|p| p.error.as_ref()?.code.as_deref());
            parts.push(format!("error {}", code.unwrap_or("?")));
        }
        E::UserMerge(e) => {
            let users = e.payload.as_ref().and_then(|p| p.merged_users.as_ref());
            let id = |user: Option<&v2::User>| user.and_then(|u| u.id.clone()).unwrap_or_else(|| "?".into());
            if let Some(users) = users {
                parts.push(format!(
                    "user {} absorbed {}",
                    id(users.surviving.as_ref()),
                    id(users.discarded.as_ref())
                ));
            }
        }
        _ => {}
    }
    if let Some(conversation) = event.conversation() {
        let name = |s: Option<&v2::SwitchboardIntegration>| s.and_then(|s| s.name.clone());
        if let Some(active) = name(conversation.active_switchboard_integration.as_ref()) {
            parts.push(format!("active {active}"));
        }
        if let Some(pending) = name(conversation.pending_switchboard_integration.as_ref()) {
            parts.push(format!("pending {pending}"));
        }
    }
    if !matches!(event, E::UserMerge(_)) {
        if let Some(id) = event.user().and_then(|u| u.id.as_deref()) {
            parts.push(format!("user {id}"));
        }
    }
    if let Some(time) = event.created_at() {
        parts.push(format!(
            "at {}",
            time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ));
    }
    parts.join(", ")
}

fn delivery(message: Option<&v2::MessageRef>, destination: Option<&v2::Destination>) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(id) = message.and_then(|m| m.id.as_deref()) {
        parts.push(format!("message {id}"));
    }
    if let Some(kind) = destination.and_then(|d| d.kind.as_ref()) {
        parts.push(format!("to {kind}"));
    }
    parts
}

fn client(client: Option<&v2::Client>, reason: Option<&str>) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(client) = client {
        let kind = client.kind.as_ref().map_or("?", |k| k.as_str());
        let status = client.status.as_ref().map_or("?", |s| s.as_str());
        parts.push(format!("client {kind} {status}"));
    }
    parts.extend(reason.map(|r| format!("reason {r}")));
    parts
}

/// A text shortened for one line.
fn cut(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// A few words on what a v1 event says.
fn summary(event: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(user) = event.user_id() {
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
    if let Some(time) = event.created_at() {
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
