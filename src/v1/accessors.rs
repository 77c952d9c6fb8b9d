//! What a receiver asks of every event, one call per question: [`Event`]'s accessors and the small
//! views they return.
//!
//! Each accessor answers for every trigger that carries the answer and gives `None` (or an empty
//! slice, or `false`) for the others, so the common path needs neither a `match` on the trigger
//! nor a chain of `Option`s. A channel comes by value, so that it compares with `==`
//! (`event.channel() == Some(Platform::Messenger)`). Where v2 asks the same question, the
//! accessor has v2's name (`user_id`, `created_at`), so that one bot reads both versions alike.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::v1::{
    AppUser, ChannelError, Event, ExternalMessage, Message, Metadata, Platform, Referral, Role, Source,
};

/// The postback button a user tapped, as [`Event::postback`] reads it from a `postback` body:
/// the tapped `action`'s payload, metadata and label.
///
/// ```
/// let body = std::fs::read("fixtures/postback.json")?;
/// let event = smooch_events::parse_event(&body)?;
/// let postback = event.postback().unwrap();
/// assert_eq!(postback.payload, Some("YES"));
/// assert_eq!(postback.text, Some("Read more"));
/// assert_eq!(postback.metadata, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PostbackView<'a> {
    /// The button's `payload`: what the business set to tell its buttons apart.
    pub payload: Option<&'a str>,
    /// The button's `metadata`, if it had any.
    pub metadata: Option<&'a Metadata>,
    /// The button's label (`text`).
    pub text: Option<&'a str>,
}

/// What became of the messages the business sent, as the delivery triggers tell it (v1
/// `delivery:success` and `delivery:failure`, v1.1 `message:delivery:channel`, `:user` and
/// `:failure`); see [`Event::delivery`]. Why a delivery failed is [`Event::error`].
///
/// ```
/// use smooch_events::v1::Platform;
///
/// let body = std::fs::read("fixtures/written/message_delivery_channel.json")?;
/// let event = smooch_events::parse_event(&body)?;
/// let delivery = event.delivery().unwrap();
/// assert_eq!(delivery.message_id, Some("5c3cbf1f0db8d0a2b4d4a11d"));
/// assert_eq!(delivery.channel(), Some(Platform::Messenger));
/// assert_eq!(delivery.is_final_event, Some(false));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DeliveryView<'a> {
    /// The id of the (first) message, as v2's `DeliveryView::message_id`.
    pub message_id: Option<&'a str>,
    /// The messages: `messages` of a v1 delivery body, the single `message` of a v1.1 one.
    pub messages: &'a [Message],
    /// Where they went (the body's `destination`).
    pub destination: Option<&'a Source>,
    /// The channel's own ids of the message (v1.1); empty when there are none.
    pub external_messages: &'a [ExternalMessage],
    /// Whether no further delivery event will come for this message (v1.1 `isFinalEvent`).
    pub is_final_event: Option<bool>,
}

impl<'a> DeliveryView<'a> {
    /// The id of the (first) message.
    #[deprecated(
        since = "0.2.0",
        note = "use the field `message_id`, as in v2's `DeliveryView`"
    )]
    pub fn message_id(&self) -> Option<&'a str> {
        self.message_id
    }

    /// The channel the messages went to (`destination.type`), by value.
    pub fn channel(&self) -> Option<Platform> {
        self.destination?.kind.clone()
    }
}

/// Why something failed, in one shape for every trigger that can carry an `error`
/// (`delivery:failure`, `message:delivery:failure`, `link:failure`); see [`Event::error`].
///
/// ```
/// let body = std::fs::read("fixtures/delivery_failure.json")?;
/// let event = smooch_events::parse_event(&body)?;
/// let error = event.error().unwrap();
/// assert_eq!(error.code, Some("unauthorized"));
/// assert_eq!(error.message, None);
/// assert!(error.underlying_error.unwrap()["message"].as_str().unwrap().starts_with("Authentication failed"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ErrorView<'a> {
    /// A short code, such as `unauthorized` or `bad_request` (the docs enumerate none).
    pub code: Option<&'a str>,
    /// A readable description.
    pub message: Option<&'a str>,
    /// What the channel answered (`underlyingError`), as JSON.
    pub underlying_error: Option<&'a Value>,
}

impl<'a> From<&'a ChannelError> for ErrorView<'a> {
    fn from(error: &'a ChannelError) -> Self {
        ErrorView {
            code: error.code.as_deref(),
            message: error.message.as_deref(),
            underlying_error: error.underlying_error.as_ref(),
        }
    }
}

impl Event {
    /// When the event happened: the envelope's `timestamp`, else the `received` time of the first
    /// message (message events carry their time there), else `None`. For an [`Event::Unknown`],
    /// a `timestamp` number in its body. v2's [`Event::created_at`](crate::v2::Event::created_at)
    /// answers the same question.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        if let Event::Unknown(unknown) = self {
            let seconds = unknown.body.get("timestamp")?;
            return crate::de::time::unix_seconds::deserialize(seconds).ok();
        }
        self.envelope()?
            .timestamp
            .or_else(|| self.messages().first()?.received)
    }

    /// The time of the event; see [`Event::created_at`].
    #[deprecated(
        since = "0.2.0",
        note = "use `created_at()`, the name v2 gives the same answer"
    )]
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.created_at()
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

    /// The id of the user the event is about (`appUser._id`, the smoochId; for `merge:appUser`
    /// the surviving user's), for every trigger that carries one (an [`Event::Unknown`]
    /// included, when its body has an `appUser` with an `_id`). It is the id v2 calls `user.id`,
    /// and [`v2::Event::user_id`](crate::v2::Event::user_id) gives it there; it is not
    /// `appUser.userId`, the app's own id for the user (v2's `externalId`), which is
    /// `event.app_user()`'s `user_id` field.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown.body.get("appUser")?.get("_id")?.as_str(),
            _ => Some(&self.app_user()?.id),
        }
    }

    /// The id of the user the event is about; see [`Event::user_id`].
    #[deprecated(
        since = "0.2.0",
        note = "use `user_id()`, the name v2 gives the same answer (`appUser._id`)"
    )]
    pub fn app_user_id(&self) -> Option<&str> {
        self.user_id()
    }

    /// The id of the user that remains after a `merge:appUser` (`surviving._id`). `None` for
    /// the other triggers.
    pub fn surviving_user_id(&self) -> Option<&str> {
        match self {
            Event::MergeAppUser(e) => Some(&e.surviving.id),
            _ => None,
        }
    }

    /// The id of the user a `merge:appUser` merged into the surviving one and removed: the first
    /// of `discarded` (the docs allow several; every documented body has one, and the field
    /// `discarded` has them all). `None` for the other triggers.
    ///
    /// ```
    /// let body = std::fs::read("fixtures/merge_appUser.json")?;
    /// let event = smooch_events::parse_event(&body)?;
    /// assert_eq!(event.surviving_user_id(), Some("a79a0ecfba3260bf145be257"));
    /// assert_eq!(event.discarded_user_id(), Some("1ac30dad829178f6378f61f4"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn discarded_user_id(&self) -> Option<&str> {
        match self {
            Event::MergeAppUser(e) => Some(&e.discarded.first()?.id),
            _ => None,
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

    /// Whether the user wrote the messages or did the thing: `message:appUser` and
    /// `message:appMaker` by the `role` of their first message (`appUser`; by the trigger when
    /// the message has no `role`), and `postback`, `conversation:read` and `typing:appUser`,
    /// which only the user does. `false` for the other triggers.
    pub fn is_from_user(&self) -> bool {
        match self {
            Event::Postback(_) | Event::ConversationRead(_) | Event::TypingAppUser(_) => true,
            _ => self.role_of(self.messages().first()) == Some(Role::AppUser),
        }
    }

    /// Whether the business wrote the messages: `message:appUser` and `message:appMaker` by the
    /// `role` of their first message (`appMaker` or `whisper`; by the trigger when the message
    /// has no `role`). `false` for the other triggers.
    pub fn is_from_business(&self) -> bool {
        matches!(
            self.role_of(self.messages().first()),
            Some(Role::AppMaker | Role::Whisper)
        )
    }

    /// Who wrote `message` of this message trigger: its `role`, else the one the trigger names
    /// (`message:appUser`, `message:appMaker`); `None` for the other triggers.
    pub(crate) fn role_of(&self, message: Option<&Message>) -> Option<Role> {
        let trigger = match self {
            Event::MessageAppUser(_) => Role::AppUser,
            Event::MessageAppMaker(_) => Role::AppMaker,
            _ => return None,
        };
        match message.and_then(|message| message.role.as_ref()) {
            Some(role) => Some(role.clone()),
            None => Some(trigger),
        }
    }

    /// The referral the user came through: of `conversation:referral`, and of a
    /// `conversation:start` that came from one (a Messenger `ref` link, a WeChat QR code).
    /// `None` for the other triggers.
    pub fn referral(&self) -> Option<&Referral> {
        match self {
            Event::ConversationStart(e) => e.referral.as_ref(),
            Event::ConversationReferral(e) => e.referral.as_ref(),
            _ => None,
        }
    }

    /// Where the event came from: the `source` of `conversation:read`, `:start` and
    /// `:referral`, the first message's for `message:appUser` and `message:appMaker`, the first
    /// payment's for `payment:success`. `None` for the other triggers (a delivery has a
    /// [`destination`](Event::delivery) instead; a postback says nothing of the user's channel).
    pub fn source(&self) -> Option<&Source> {
        match self {
            Event::ConversationRead(e) => e.source.as_ref(),
            Event::ConversationStart(e) => e.source.as_ref(),
            Event::ConversationReferral(e) => e.source.as_ref(),
            Event::MessageAppUser(e) | Event::MessageAppMaker(e) => e.messages.first()?.source.as_ref(),
            Event::PaymentSuccess(e) => e.payments.first()?.source.as_ref(),
            _ => None,
        }
    }

    /// The channel of the event, by value: the `type` of its [`source`](Event::source) (where
    /// it came from), or for a delivery trigger of its destination (where the messages went).
    ///
    /// ```
    /// use smooch_events::v1::Platform;
    ///
    /// let body = std::fs::read("fixtures/message_appUser_text.json")?;
    /// let event = smooch_events::parse_event(&body)?;
    /// assert_eq!(event.channel(), Some(Platform::Messenger));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn channel(&self) -> Option<Platform> {
        match self.source() {
            Some(source) => source.kind.clone(),
            None => self.delivery()?.channel(),
        }
    }

    /// The postback button the user tapped (`postback`): the tapped `action`'s payload,
    /// metadata and label. The docs allow several `postbacks` in one body (every documented
    /// body has one); this is the first, and `postbacks` has them all. `None` for the other
    /// triggers; a quick reply is a message instead, whose payload is
    /// [`Message::reply_payload`].
    pub fn postback(&self) -> Option<PostbackView<'_>> {
        match self {
            Event::Postback(e) => {
                let action = e.postbacks.first()?.action.as_ref()?;
                Some(PostbackView {
                    payload: action.payload.as_deref(),
                    metadata: action.metadata.as_ref(),
                    text: action.text.as_deref(),
                })
            }
            _ => None,
        }
    }

    /// What became of the messages the business sent, for every delivery trigger alike (v1
    /// `delivery:success` and `:failure`, v1.1 `message:delivery:channel`, `:user` and
    /// `:failure`). `None` for the other triggers.
    pub fn delivery(&self) -> Option<DeliveryView<'_>> {
        let (external_messages, is_final_event) = match self {
            Event::DeliverySuccess(_) | Event::DeliveryFailure(_) => (&[][..], None),
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => (
                e.external_messages.as_deref().unwrap_or_default(),
                e.is_final_event,
            ),
            _ => return None,
        };
        let messages = self.messages();
        Some(DeliveryView {
            message_id: messages.first().map(|message| message.id.as_str()),
            messages,
            destination: self.envelope()?.destination.as_ref(),
            external_messages,
            is_final_event,
        })
    }

    /// Why something failed: the `error` of `delivery:failure`, `message:delivery:failure` and
    /// `link:failure`, in one shape. `None` for the other triggers, and when the body has no
    /// `error`.
    pub fn error(&self) -> Option<ErrorView<'_>> {
        let error = match self {
            Event::DeliverySuccess(e) | Event::DeliveryFailure(e) => e.error.as_ref(),
            Event::MessageDeliveryChannel(e)
            | Event::MessageDeliveryUser(e)
            | Event::MessageDeliveryFailure(e) => e.error.as_ref(),
            Event::LinkSuccess(e) | Event::LinkMatch(e) | Event::LinkFailure(e) => e.error.as_ref(),
            _ => None,
        };
        error.map(ErrorView::from)
    }
}
