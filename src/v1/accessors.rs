//! What a receiver asks of every event, one call per question: [`Event`]'s accessors.
//!
//! Each accessor answers for every trigger that carries the answer and gives `None` (or an empty
//! slice) for the others, so the common path needs neither a `match` on the trigger nor a chain
//! of `Option`s.

use chrono::{DateTime, Utc};

use crate::v1::{AppUser, Event, Message};

impl Event {
    /// The time of the event: the envelope's `timestamp`, else the `received` time of the first
    /// message (message events carry their time there), else `None`. For an [`Event::Unknown`],
    /// a `timestamp` number in its body.
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        if let Event::Unknown(unknown) = self {
            let seconds = unknown.body.get("timestamp")?;
            return crate::de::time::unix_seconds::deserialize(seconds).ok();
        }
        self.envelope()?
            .timestamp
            .or_else(|| self.messages().first()?.received)
    }

    /// The id of the app the event belongs to, if sent (every v1 payload since July 2016 has it).
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown.body.get("app")?.get("_id")?.as_str(),
            _ => self.envelope()?.app.as_ref()?.id.as_deref(),
        }
    }

    /// The user the event is about, for the triggers that send an `appUser` (for
    /// `merge:appUser`, the surviving user).
    pub fn app_user(&self) -> Option<&AppUser> {
        match self {
            Event::ConversationRead(e) => Some(&e.app_user),
            Event::ConversationStart(e) => Some(&e.app_user),
            Event::ConversationReferral(e) => Some(&e.app_user),
            Event::MessageAppUser(e) | Event::MessageAppMaker(e) => Some(&e.app_user),
            Event::Postback(e) => Some(&e.app_user),
            Event::MergeAppUser(e) => Some(&e.surviving),
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => Some(&e.app_user),
            Event::PaymentSuccess(e) => Some(&e.app_user),
            Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => Some(&e.app_user),
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => e.app_user.as_ref(),
            Event::TypingAppUser(e) => e.app_user.as_ref(),
            Event::Unknown(_) => None,
        }
    }

    /// The id of the user the event is about, for every trigger that carries one (an
    /// [`Event::Unknown`] included, when its body has an `appUser` with an `_id`).
    pub fn app_user_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown.body.get("appUser")?.get("_id")?.as_str(),
            _ => Some(&self.app_user()?.id),
        }
    }

    /// The messages of the event: `messages` of message and delivery events, the single
    /// `message` of a v1.1 delivery event; empty for the others.
    pub fn messages(&self) -> &[Message] {
        match self {
            Event::MessageAppUser(e) | Event::MessageAppMaker(e) => &e.messages,
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => &e.messages,
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => e.message.as_slice(),
            _ => &[],
        }
    }

    /// The v1.1 conversation id (`conversation._id`), when the body has one.
    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown.body.get("conversation")?.get("_id")?.as_str(),
            _ => self.envelope()?.conversation.as_ref()?.id.as_deref(),
        }
    }

    /// Whether this is a trigger the crate does not model.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Event::Unknown(_))
    }
}
