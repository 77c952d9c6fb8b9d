//! [`Webhook::incoming`]: the messages and postbacks of a body of either version, in one view.
//!
//! A bot answers messages and postbacks; v1 and v2 carry the same facts about them under
//! different shapes (one body per trigger with a list of `messages`, against a list of events
//! with one `message` each). This view gives those facts the same way for both, so that one
//! handler serves a team that migrates. It reads what the version-specific accessors read, and
//! gives the same answers. It is above both versions: it imports them, they do not import it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::de::json::list_key;
use crate::location::LocationView;
use crate::v2::{ChannelType, SwitchboardView};
use crate::versions::Webhook;
use crate::{v1, v2};

impl Webhook {
    /// The messages and postbacks of the body, in its order, the same way whatever its version:
    /// each message of a v1 `message:appUser` or `message:appMaker` and each postback of a v1
    /// `postback`; each v2 `conversation:message` (with a message) and `conversation:postback`.
    /// Every other trigger or event type gives nothing here.
    ///
    /// ```
    /// use smooch_events::{parse_webhook, v2::ChannelType, IncomingKind};
    ///
    /// for file in ["fixtures/message_appUser_text.json", "fixtures/v2/conversation_message.json"] {
    ///     let webhook = parse_webhook(&std::fs::read(file)?)?;
    ///     for item in webhook.incoming() {
    ///         let IncomingKind::Message(message) = &item.kind else { continue };
    ///         assert!(message.is_from_user());
    ///         assert!(item.user_id.is_some());
    ///         assert!(matches!(item.channel, Some(ChannelType::Messenger | ChannelType::Telegram)));
    ///         println!("{file}: {:?} wrote {:?}", item.user_id, message.text);
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn incoming(&self) -> IncomingIter<'_> {
        let state = match self {
            Webhook::V1(event) => State::V1 { event, next: 0 },
            Webhook::V2(body) => State::V2 {
                app_id: body.app_id(),
                events: body.events.iter(),
            },
        };
        IncomingIter { state }
    }
}

/// A message or postback of a body of either version, as [`Webhook::incoming`] gives it: where
/// and when it happened and who it concerns (the fields), and what it is ([`Incoming::kind`]).
///
/// Each field is what the version-specific accessor of the same name answers: v2's
/// [`Event::user_id`](v2::Event::user_id), [`conversation_id`](v2::Event::conversation_id),
/// [`channel`](v2::Event::channel), …, v1's [`Event::user_id`](v1::Event::user_id), …
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Incoming<'a> {
    /// The id of the app (v1 `app._id`, v2 `app.id`).
    pub app_id: Option<&'a str>,
    /// The trigger of the v1 body, or the `type` of the v2 event: `message:appUser`,
    /// `conversation:message`, `postback`, `conversation:postback`.
    pub event_type: &'a str,
    /// The v2 event's `id`; `None` in v1, whose events have none.
    pub event_id: Option<&'a str>,
    /// The id of the user (v2 `user.id`, v1 `appUser._id`): the author's for a user's message
    /// or a postback; for a business message, in v1 the user of the conversation, in v2 `None`
    /// (a business author has no user).
    pub user_id: Option<&'a str>,
    /// The conversation's id (v2; v1.1 bodies that name their conversation); where to answer.
    pub conversation_id: Option<&'a str>,
    /// The channel it came from, as a v2 [`ChannelType`]: a v1 platform is the channel type
    /// of the same name (`messenger` is [`ChannelType::Messenger`]), and one that v2 does not
    /// name (`frontendEmail`, `slack`) is [`ChannelType::Other`] with its name. A v1 postback
    /// names none.
    pub channel: Option<ChannelType>,
    /// When it happened: a message's `received`, else the event's time (v2 `createdAt`, v1
    /// `timestamp`).
    pub time: Option<DateTime<Utc>>,
    /// The switchboard integration in control of the conversation (v2
    /// [`Event::integration_in_control`](v2::Event::integration_in_control)); `None` when none
    /// is, and always in v1, which has no switchboard.
    pub integration_in_control: Option<SwitchboardView<'a>>,
    /// What it is: a message, or a tapped postback button.
    pub kind: IncomingKind<'a>,
    /// The id that makes the dedupe key with the app's id and the type, when there is one.
    key: Option<&'a str>,
}

impl Incoming<'_> {
    /// What a bot stores to drop the duplicates that retries deliver: the app's id, the type and
    /// the id of the event, as v2's [`Event::dedupe_key`](v2::Event::dedupe_key) gives them. A v1
    /// body has no event id, so a v1 message's key has its trigger and the message's `_id` (a
    /// retry sends the same message again); a v1 postback has none (`None`: handle it
    /// idempotently).
    pub fn dedupe_key(&self) -> Option<String> {
        Some(list_key(&[self.app_id, Some(self.event_type), Some(self.key?)]))
    }
}

/// What an [`Incoming`] is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IncomingKind<'a> {
    /// A message, written by the user or the business.
    Message(IncomingMessage<'a>),
    /// A postback button the user tapped.
    Postback(IncomingPostback<'a>),
}

/// A message, as [`Incoming`] gives it: what the version's `Message` accessors answer
/// ([`v2::Message::text`], [`v1::Message::text`], …).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IncomingMessage<'a> {
    /// The message's id (v2 `id`, v1 `_id`).
    pub id: Option<&'a str>,
    /// The kind of message, as sent: `text`, `image`, `location`, `carousel`, … (v2
    /// `content.type`, v1 `type`; v1 messages of early payloads have none).
    pub message_type: Option<&'a str>,
    /// What a person typed: the text of a text message (not a caption or a generated fallback).
    pub text: Option<&'a str>,
    /// The URL of an image or file.
    pub media_url: Option<&'a str>,
    /// The payload of the quick reply the user tapped to send this text.
    pub reply_payload: Option<&'a str>,
    /// Where the user is, for a location message.
    pub location: Option<LocationView<'a>>,
    /// Who wrote it.
    author: Author,
}

impl IncomingMessage<'_> {
    /// Whether a user wrote it (v2 `author.type` `user`; v1 `role` `appUser`, or, for a message
    /// without a `role`, the trigger `message:appUser`).
    pub fn is_from_user(&self) -> bool {
        self.author == Author::User
    }

    /// Whether the business wrote it (v2 `author.type` `business`; v1 `role` `appMaker` or
    /// `whisper`, or, for a message without a `role`, the trigger `message:appMaker`).
    pub fn is_from_business(&self) -> bool {
        self.author == Author::Business
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Author {
    User,
    Business,
    /// A v2 author without a known `type`.
    Unknown,
}

/// A tapped postback button, as [`Incoming`] gives it: what the version's `Event::postback()`
/// answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IncomingPostback<'a> {
    /// The button's `payload`: what the business set to tell its buttons apart.
    pub payload: Option<&'a str>,
    /// The button's `metadata`, if it had any.
    pub metadata: Option<&'a Map<String, Value>>,
}

/// The iterator of [`Webhook::incoming`].
#[derive(Debug, Clone)]
pub struct IncomingIter<'a> {
    state: State<'a>,
}

#[derive(Debug, Clone)]
enum State<'a> {
    /// A v1 body, and the index of its next message or postback.
    V1 { event: &'a v1::Event, next: usize },
    /// The app of a v2 body, and its events not yet looked at.
    V2 {
        app_id: Option<&'a str>,
        events: std::slice::Iter<'a, v2::Event>,
    },
}

impl<'a> Iterator for IncomingIter<'a> {
    type Item = Incoming<'a>;

    fn next(&mut self) -> Option<Incoming<'a>> {
        match &mut self.state {
            State::V1 { event, next } => {
                let index = *next;
                *next += 1;
                from_v1(event, index)
            }
            State::V2 { app_id, events } => {
                let app_id = *app_id;
                events.find_map(|event| from_v2(app_id, event))
            }
        }
    }
}

/// The message or postback at `index` of a v1 body.
fn from_v1(event: &v1::Event, index: usize) -> Option<Incoming<'_>> {
    let (message, postback) = match event {
        v1::Event::MessageAppUser(e) | v1::Event::MessageAppMaker(e) => (Some(e.messages.get(index)?), None),
        v1::Event::Postback(e) => (None, Some(e.postbacks.get(index)?)),
        _ => return None,
    };
    let mut incoming = Incoming {
        app_id: event.app_id(),
        event_type: event.trigger(),
        event_id: None,
        user_id: event.user_id(),
        conversation_id: event.conversation_id(),
        channel: None,
        time: event.created_at(),
        integration_in_control: None,
        kind: IncomingKind::Postback(IncomingPostback {
            payload: None,
            metadata: None,
        }),
        key: None,
    };
    if let Some(message) = message {
        let author = match event.role_of(Some(message)) {
            Some(v1::Role::AppUser) => Author::User,
            Some(v1::Role::AppMaker | v1::Role::Whisper) => Author::Business,
            _ => Author::Unknown,
        };
        incoming.channel = message
            .channel()
            .map(|platform| ChannelType::from(platform.as_str()));
        incoming.time = message.received.or(incoming.time);
        incoming.key = Some(&message.id);
        incoming.kind = IncomingKind::Message(IncomingMessage {
            id: Some(&message.id),
            message_type: message.kind.as_ref().map(v1::MessageType::as_str),
            text: message.text(),
            media_url: message.media_url(),
            reply_payload: message.reply_payload(),
            location: message.location(),
            author,
        });
    }
    if let Some(action) = postback.and_then(|postback| postback.action.as_ref()) {
        incoming.kind = IncomingKind::Postback(IncomingPostback {
            payload: action.payload.as_deref(),
            metadata: action.metadata.as_deref(),
        });
    }
    Some(incoming)
}

/// The message or postback of a v2 event of the app `app_id`, if it is one.
fn from_v2<'a>(app_id: Option<&'a str>, event: &'a v2::Event) -> Option<Incoming<'a>> {
    let kind = match event {
        v2::Event::ConversationMessage(_) => {
            let message = event.message()?;
            let author = if message.is_from_user() {
                Author::User
            } else if message.is_from_business() {
                Author::Business
            } else {
                Author::Unknown
            };
            IncomingKind::Message(IncomingMessage {
                id: message.id.as_deref(),
                message_type: message.content.as_ref().map(v2::Content::type_name),
                text: message.text(),
                media_url: message.media_url(),
                reply_payload: message.reply_payload(),
                location: message.location(),
                author,
            })
        }
        v2::Event::ConversationPostback(_) => {
            let postback = event.postback();
            IncomingKind::Postback(IncomingPostback {
                payload: postback.and_then(|postback| postback.payload),
                metadata: postback.and_then(|postback| postback.metadata).map(|map| &**map),
            })
        }
        _ => return None,
    };
    let received = event.message().and_then(|message| message.received.as_ref());
    Some(Incoming {
        app_id,
        event_type: event.trigger(),
        event_id: event.id(),
        user_id: event.user_id(),
        conversation_id: event.conversation_id(),
        channel: event.channel(),
        time: received.map(|time| time.to_utc()).or_else(|| event.created_at()),
        integration_in_control: event.integration_in_control(),
        kind,
        key: event.id(),
    })
}
