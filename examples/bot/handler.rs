//! What the bot of `examples/bot.rs` does with each v2 event: the handling code a real bot
//! writes, shared with `tests/v2/bot.rs`, which checks what it does on every v2 fixture.

use std::collections::HashSet;
use std::fmt;

use smooch_events::v2::Event;

/// The name of this bot's switchboard integration: it answers only in conversations where it is
/// in control (where no switchboard is set up, it answers everywhere).
pub(crate) const BOT: &str = "bot";

/// A bot that answers users in the conversations it controls, and logs what goes wrong.
#[derive(Debug, Default)]
pub(crate) struct Bot {
    /// The id and type of every event handled. Retries deliver an event again with the same
    /// id; the type is part of the key because the spec's own examples share ids across types.
    /// (A bot that runs in several processes keeps these in a shared store, for the 15 minutes
    /// Smooch retries.)
    seen: HashSet<(String, String)>,
}

/// What the bot does about one event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Nothing: the event was already handled (a retry).
    Duplicate,
    /// Send `text` in a conversation.
    Reply(Reply),
    /// Write a line to the log.
    Log(String),
    /// Nothing to do, for this reason.
    Ignore(String),
}

/// A message the bot sends, and whom it answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// Where to send it.
    pub(crate) conversation_id: String,
    /// The user answered (Sunshine Conversations' id), if known.
    pub(crate) user_id: Option<String>,
    /// The business's own id of that user, if it has one.
    pub(crate) external_id: Option<String>,
    /// The channel the user wrote on.
    pub(crate) channel: Option<String>,
    /// What to say.
    pub(crate) text: String,
}

impl Bot {
    /// Decides what to do about one event.
    pub(crate) fn handle(&mut self, event: &Event) -> Action {
        if let Some(id) = event.id() {
            let key = (id.to_owned(), event.trigger().to_owned());
            if !self.seen.insert(key) {
                return Action::Duplicate;
            }
        }
        let conversation = event.conversation_id().unwrap_or("(none)");
        match event {
            Event::ConversationMessage(_) => answer_message(event),
            Event::ConversationPostback(_) => match event.postback() {
                Some(postback) => reply(
                    event,
                    format!("You chose {}.", postback.payload.unwrap_or("nothing")),
                ),
                None => Action::Ignore("a postback event without its postback".to_owned()),
            },
            Event::SwitchboardAcceptControl(_) => Action::Log(format!(
                "{} accepted control of {conversation}",
                in_control(event).unwrap_or("nobody")
            )),
            Event::SwitchboardOfferControl(_) => Action::Log(format!(
                "{} offered control of {conversation} to {}",
                in_control(event).unwrap_or("nobody"),
                offered_to(event).unwrap_or("nobody")
            )),
            Event::SwitchboardPassControl(_) => Action::Log(format!(
                "control of {conversation} passed to {}",
                in_control(event).unwrap_or("nobody")
            )),
            Event::SwitchboardReleaseControl(_) => Action::Log(format!("control of {conversation} released")),
            Event::SwitchboardAcceptControlFailure(_)
            | Event::SwitchboardOfferControlFailure(_)
            | Event::SwitchboardPassControlFailure(_) => {
                let error = event.error();
                let code = error.and_then(|error| error.code).unwrap_or("no code");
                let message = error.and_then(|error| error.message).unwrap_or("no message");
                Action::Log(format!(
                    "{} in {conversation}: {code} ({message})",
                    event.trigger()
                ))
            }
            Event::ConversationMessageDeliveryFailure(_) => {
                let code = event.error().and_then(|error| error.code).unwrap_or("no code");
                let message = event
                    .delivery()
                    .and_then(|delivery| delivery.message_id)
                    .unwrap_or("?");
                let channel = event
                    .channel()
                    .map_or_else(|| "an unknown channel".to_owned(), |channel| channel.to_string());
                Action::Log(format!("message {message} to {channel} not delivered: {code}"))
            }
            Event::Unknown(_) => Action::Log(format!("unknown event type {:?}", event.trigger())),
            _ => Action::Ignore(event.trigger().to_owned()),
        }
    }
}

/// Answers a `conversation:message`: its text, its image or file, the quick reply tapped.
fn answer_message(event: &Event) -> Action {
    let Some(message) = event.message() else {
        return Action::Ignore("a message event without a message".to_owned());
    };
    if event.is_from_business() {
        return Action::Ignore("a business message".to_owned());
    }
    let text = if let Some(payload) = message.reply_payload() {
        format!("You chose {payload}.")
    } else if let Some(text) = message.text() {
        format!("You said: {text}")
    } else if let Some(url) = message.media_url() {
        format!("Thanks, I got {url}")
    } else {
        let kind = message
            .content
            .as_ref()
            .map_or("empty", |content| content.type_name());
        format!("I cannot read {kind} messages yet.")
    };
    reply(event, text)
}

/// A reply to the user of `event`, in its conversation, unless another switchboard integration
/// (a human agent) is in control there.
fn reply(event: &Event, text: String) -> Action {
    if let Some(other) = in_control(event).filter(|name| *name != BOT) {
        return Action::Ignore(format!("{other} is in control"));
    }
    let external_id = event.user().and_then(|user| user.external_id.as_deref());
    Action::Reply(Reply {
        conversation_id: event.conversation_id().unwrap_or("(none)").to_owned(),
        user_id: event.user_id().map(str::to_owned),
        external_id: external_id.map(str::to_owned),
        channel: event.channel().map(|channel| channel.to_string()),
        text,
    })
}

/// The name of the switchboard integration in control of the event's conversation.
fn in_control(event: &Event) -> Option<&str> {
    event.integration_in_control()?.name
}

/// The name of the switchboard integration offered control of the event's conversation.
fn offered_to(event: &Event) -> Option<&str> {
    event.integration_offered_control()?.name
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Duplicate => f.write_str("drop: already handled"),
            Action::Reply(reply) => {
                write!(f, "reply in {}", reply.conversation_id)?;
                if let Some(user) = &reply.user_id {
                    write!(f, " to {user}")?;
                }
                if let Some(external) = &reply.external_id {
                    write!(f, " ({external})")?;
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

/// One line of the bot's output: the file, the event's type and id, and what the bot does.
pub(crate) fn line(file: &str, event: &Event, action: &Action) -> String {
    let kind = match event.trigger() {
        "" => "(no type)",
        kind => kind,
    };
    format!("{file}: {kind} {}: {action}", event.id().unwrap_or("(no id)"))
}
