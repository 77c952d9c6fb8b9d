//! What the bot of `examples/bot.rs` does with each webhook body, v1 or v2: the handling code a
//! real bot writes, shared with `tests/bot.rs`, which checks what it does on every fixture.
//!
//! The answers go through [`Webhook::incoming`], which gives the messages and postbacks of a body
//! of either version the same way: one handler, no `match` on the version. What only one version
//! tells (v2's switchboard, event types the crate does not model) and the delivery failures of
//! both are read from the version's own events.

use std::collections::HashSet;
use std::fmt;

use smooch_events::v2::{EventType, SwitchboardView};
use smooch_events::{v1, v2, Incoming, IncomingKind, IncomingMessage, Webhook};

/// The name of this bot's switchboard integration: it answers only in conversations where it is
/// in control (where no switchboard is set up, as in every v1 body, it answers everywhere).
pub(crate) const BOT: &str = "bot";

/// A bot that answers users in the conversations it controls, and logs what goes wrong.
#[derive(Debug, Default)]
pub(crate) struct Bot {
    /// The dedupe key of every message, postback and event handled: retries deliver them again.
    /// (A bot that runs in several processes keeps these in a shared store, for the 15 minutes
    /// Smooch retries.)
    seen: HashSet<String>,
}

/// One thing the bot does: what it is about, and the action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    /// The trigger or event type, and the event's id (for a v1 message, which has no event id,
    /// the message's).
    pub(crate) about: String,
    /// What the bot does.
    pub(crate) action: Action,
}

/// What the bot does about one message, postback or event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Nothing: it was already handled (a retry).
    Duplicate,
    /// Send a message.
    Reply(Reply),
    /// Write a line to the log.
    Log(String),
    /// Nothing to do, for this reason.
    Ignore(String),
}

/// A message the bot sends, and whom it answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// The conversation to send it in (v2, and v1.1 bodies that name it).
    pub(crate) conversation_id: Option<String>,
    /// The user answered (v1 sends a reply to the user).
    pub(crate) user_id: Option<String>,
    /// The channel the user wrote on.
    pub(crate) channel: Option<String>,
    /// What to say.
    pub(crate) text: String,
}

impl Bot {
    /// Decides what to do about a body: each message and postback, then each other event.
    pub(crate) fn handle(&mut self, webhook: &Webhook) -> Vec<Step> {
        let mut steps = Vec::new();
        for item in webhook.incoming() {
            let action = match self.first_time(item.dedupe_key()) {
                true => answer(&item),
                false => Action::Duplicate,
            };
            steps.push(Step {
                about: about(item.event_type, item_id(&item)),
                action,
            });
        }
        match webhook {
            Webhook::V2(body) => {
                for event in body.events.iter().filter(|event| !is_incoming(event)) {
                    let action = match self.first_time(event.dedupe_key(body.app_id())) {
                        true => v2_other(event),
                        false => Action::Duplicate,
                    };
                    steps.push(Step {
                        about: about(event.trigger(), event.id()),
                        action,
                    });
                }
            }
            Webhook::V1(event) if steps.is_empty() => steps.push(Step {
                about: about(event.trigger(), None),
                action: v1_other(event),
            }),
            _ => {}
        }
        steps
    }

    /// Whether what has this dedupe key was not handled yet (without a key, nothing tells).
    fn first_time(&mut self, key: Option<String>) -> bool {
        key.map_or(true, |key| self.seen.insert(key))
    }
}

/// The id shown for a message or postback: the event's, else (v1) the message's.
fn item_id<'a>(item: &Incoming<'a>) -> Option<&'a str> {
    match &item.kind {
        IncomingKind::Message(message) => item.event_id.or(message.id),
        _ => item.event_id,
    }
}

/// Answers a message or a postback, unless another switchboard integration (a human agent) is in
/// control of the conversation.
fn answer(item: &Incoming<'_>) -> Action {
    if let Some(SwitchboardView {
        name: Some(other), ..
    }) = &item.integration_in_control
    {
        if *other != BOT {
            return Action::Ignore(format!("{other} is in control"));
        }
    }
    let text = match &item.kind {
        IncomingKind::Message(message) if !message.is_from_user() => {
            return Action::Ignore("a business message".to_owned())
        }
        IncomingKind::Message(message) => say(message),
        IncomingKind::Postback(postback) => format!("You chose {}.", postback.payload.unwrap_or("nothing")),
        _ => return Action::Ignore("not a message or a postback".to_owned()),
    };
    Action::Reply(Reply {
        conversation_id: item.conversation_id.map(str::to_owned),
        user_id: item.user_id.map(str::to_owned),
        channel: item.channel.as_ref().map(ToString::to_string),
        text,
    })
}

/// What to say to a user's message: its quick reply, its text, its image or file, its location.
fn say(message: &IncomingMessage<'_>) -> String {
    if let Some(payload) = message.reply_payload {
        format!("You chose {payload}.")
    } else if let Some(text) = message.text {
        format!("You said: {text}")
    } else if let Some(url) = message.media_url {
        format!("Thanks, I got {url}")
    } else if let Some(location) = message.location {
        let place = location.name.map_or(String::new(), |name| format!(" ({name})"));
        format!("You are at {}, {}{place}.", location.latitude, location.longitude)
    } else {
        format!(
            "I cannot read {} messages yet.",
            message.message_type.unwrap_or("untyped")
        )
    }
}

/// Whether [`Webhook::incoming`] gave this v2 event: a message event with its message, a postback.
fn is_incoming(event: &v2::Event) -> bool {
    match event.kind() {
        EventType::ConversationMessage => event.message().is_some(),
        EventType::ConversationPostback => true,
        _ => false,
    }
}

/// What the bot does about a v2 event that is not a message or postback: it logs what the
/// switchboard does, the messages that were not delivered, and the types it does not know.
fn v2_other(event: &v2::Event) -> Action {
    let conversation = event.conversation_id().unwrap_or("(none)");
    let name = |integration: Option<SwitchboardView<'_>>| match integration {
        Some(SwitchboardView { name: Some(name), .. }) => name.to_owned(),
        _ => "nobody".to_owned(),
    };
    match event.kind() {
        EventType::SwitchboardAcceptControl => Action::Log(format!(
            "{} accepted control of {conversation}",
            name(event.integration_in_control())
        )),
        EventType::SwitchboardOfferControl => Action::Log(format!(
            "{} offered control of {conversation} to {}",
            name(event.integration_in_control()),
            name(event.integration_offered_control())
        )),
        EventType::SwitchboardPassControl => Action::Log(format!(
            "control of {conversation} passed to {}",
            name(event.integration_in_control())
        )),
        EventType::SwitchboardReleaseControl => Action::Log(format!("control of {conversation} released")),
        EventType::SwitchboardAcceptControlFailure
        | EventType::SwitchboardOfferControlFailure
        | EventType::SwitchboardPassControlFailure => {
            let (code, message) = match event.error() {
                Some(error) => (error.code, error.message),
                None => (None, None),
            };
            Action::Log(format!(
                "{} in {conversation}: {} ({})",
                event.trigger(),
                code.unwrap_or("no code"),
                message.unwrap_or("no message")
            ))
        }
        EventType::ConversationMessageDeliveryFailure => {
            let message = event.delivery().and_then(|delivery| delivery.message_id);
            let code = event.error().and_then(|error| error.code);
            undelivered(message, event.channel().map(|channel| channel.to_string()), code)
        }
        kind if event.is_unknown() => Action::Log(format!("unknown event type {:?}", kind.as_str())),
        kind => Action::Ignore(kind.to_string()),
    }
}

/// What the bot does about a v1 body without a message or postback: it logs the messages that
/// were not delivered (v1 `delivery:failure` and v1.1 `message:delivery:failure`, through the
/// accessors of the names v2 gives them).
fn v1_other(event: &v1::Event) -> Action {
    match event {
        v1::Event::DeliveryFailure(_) | v1::Event::MessageDeliveryFailure(_) => {
            let message = event.delivery().and_then(|delivery| delivery.message_id);
            let code = event.error().and_then(|error| error.code);
            undelivered(message, event.channel().map(|channel| channel.to_string()), code)
        }
        _ => Action::Ignore(event.trigger().to_owned()),
    }
}

/// The log line of a message that was not delivered.
fn undelivered(message: Option<&str>, channel: Option<String>, code: Option<&str>) -> Action {
    Action::Log(format!(
        "message {} to {} not delivered: {}",
        message.unwrap_or("?"),
        channel.as_deref().unwrap_or("an unknown channel"),
        code.unwrap_or("no code")
    ))
}

/// `TYPE ID`, for a line.
fn about(kind: &str, id: Option<&str>) -> String {
    let kind = if kind.is_empty() { "(no type)" } else { kind };
    format!("{kind} {}", id.unwrap_or("(no id)"))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Duplicate => f.write_str("drop: already handled"),
            Action::Reply(reply) => {
                f.write_str("reply")?;
                if let Some(conversation) = &reply.conversation_id {
                    write!(f, " in {conversation}")?;
                }
                if let Some(user) = &reply.user_id {
                    write!(f, " to {user}")?;
                }
                if let Some(channel) = &reply.channel {
                    write!(f, " on {channel}")?;
                }
                write!(f, ": {:?}", reply.text)
            }
            Action::Log(line) => write!(f, "log: {line}"),
            Action::Ignore(why) => write!(f, "ignore: {why}"),
        }
    }
}

/// One line of the bot's output: the file, what the step is about, and what the bot does.
pub(crate) fn line(file: &str, step: &Step) -> String {
    format!("{file}: {}: {}", step.about, step.action)
}
