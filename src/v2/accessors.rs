//! What a receiver asks of every event, one call per question: [`Event`]'s accessors and the small
//! views they return.
//!
//! Each accessor answers for every event type that carries the answer and gives `None` (or
//! `false`) for the others, so the common path needs neither a `match` on the type nor a chain of
//! `Option`s. The spec requires almost nothing, so every answer stays an `Option`: a body may
//! lack it. Open-enum answers (a channel, a reason) come by value, so that they compare with `==`
//! directly (`event.channel() == Some(ChannelType::Whatsapp)`); the clone allocates only for a
//! value the crate does not know, kept in `Other`.

use serde_json::Value;

use crate::de::map::JsonMap;
use crate::v2::{
    Author, AuthorType, ChannelType, Conversation, CreationReason, DeliveryError, Destination, Event,
    ExternalMessage, Message, Referral, Source, SwitchboardIntegration, SwitchboardReason, UntypedError,
    User,
};

/// What a tapped postback button carried: its `payload` and `metadata`, as
/// [`Event::postback`] reads them from a `conversation:postback` event.
///
/// ```
/// use smooch_events::{parse_webhook, Webhook};
///
/// let body = std::fs::read("fixtures/v2/conversation_postback.json")?;
/// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
/// let postback = body.events[0].postback().unwrap();
/// assert_eq!(postback.payload, Some("Greet"));
/// assert_eq!(postback.metadata, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PostbackView<'a> {
    /// The button's `payload`: what the business set to tell its buttons apart.
    pub payload: Option<&'a str>,
    /// The button's `metadata`, if it had any.
    pub metadata: Option<&'a JsonMap>,
}

/// What became of a message the business sent, as the three delivery events
/// (`conversation:message:delivery:channel`, `:user` and `:failure`) tell it; see
/// [`Event::delivery`]. Why a delivery failed is [`Event::error`].
///
/// ```
/// use smooch_events::{parse_webhook, v2::ChannelType, Webhook};
///
/// let body = std::fs::read("fixtures/v2/conversation_message_delivery_channel.json")?;
/// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
/// let delivery = body.events[0].delivery().unwrap();
/// assert_eq!(delivery.message_id, Some("5f74a31c2b5315fc007e7997"));
/// assert_eq!(delivery.channel(), Some(ChannelType::Telegram));
/// assert_eq!(delivery.external_messages[0].id.as_deref(), Some("371"));
/// assert_eq!(delivery.is_final_event, Some(true));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DeliveryView<'a> {
    /// The id of the message (`message.id`).
    pub message_id: Option<&'a str>,
    /// Where the message went: the channel and the integration.
    pub destination: Option<&'a Destination>,
    /// The channel's own ids of the message; empty on channels that have none.
    pub external_messages: &'a [ExternalMessage],
    /// Whether no further delivery event will come for this message and destination type
    /// (`isFinalEvent`).
    pub is_final_event: Option<bool>,
}

impl<'a> DeliveryView<'a> {
    /// The channel the message went to (`destination.type`), by value.
    pub fn channel(&self) -> Option<ChannelType> {
        self.destination?.kind.clone()
    }
}

/// Why something failed, in one shape for every event that can carry an `error`: a delivery
/// failure ([`DeliveryError`]), the switchboard failures and `client:remove` ([`UntypedError`]);
/// see [`Event::error`].
///
/// ```
/// use smooch_events::{parse_webhook, Webhook};
///
/// let body = std::fs::read("fixtures/v2/switchboard_passControl_failure.json")?;
/// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
/// let error = body.events[0].error().unwrap();
/// assert_eq!(error.code, Some("switchboard_invalid_target"));
/// assert_eq!(error.message, Some("Switchboard invalid target"));
/// assert_eq!(error.underlying_error, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ErrorView<'a> {
    /// A short code, such as `uncategorized_error` or `switchboard_invalid_target` (the spec
    /// enumerates none).
    pub code: Option<&'a str>,
    /// A readable description.
    pub message: Option<&'a str>,
    /// What the channel answered, when the error has an `underlyingError` (the spec does not
    /// declare it, v1 bodies send it, and it is kept in the error's `extra`).
    pub underlying_error: Option<&'a Value>,
}

impl<'a> ErrorView<'a> {
    fn of(code: Option<&'a str>, message: Option<&'a str>, extra: &'a JsonMap) -> Self {
        ErrorView {
            code,
            message,
            underlying_error: extra.get("underlyingError"),
        }
    }
}

impl<'a> From<&'a DeliveryError> for ErrorView<'a> {
    fn from(error: &'a DeliveryError) -> Self {
        ErrorView::of(error.code.as_deref(), error.message.as_deref(), &error.extra)
    }
}

impl<'a> From<&'a UntypedError> for ErrorView<'a> {
    fn from(error: &'a UntypedError) -> Self {
        ErrorView::of(error.code.as_deref(), error.message.as_deref(), &error.extra)
    }
}

/// A switchboard integration as [`Event::integration_in_control`] and
/// [`Event::integration_offered_control`] give it: its id and name (what a bot compares with its
/// own), and the integration behind it.
///
/// ```
/// use smooch_events::{parse_webhook, v2::ChannelType, Webhook};
///
/// let body = std::fs::read("fixtures/v2/switchboard_offerControl.json")?;
/// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
/// let event = &body.events[0];
/// assert_eq!(event.integration_in_control().unwrap().name, Some("bot"));
/// let offered = event.integration_offered_control().unwrap();
/// assert_eq!(offered.name, Some("human"));
/// assert_eq!(offered.integration_type, Some(ChannelType::Custom));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SwitchboardView<'a> {
    /// The switchboard integration's id.
    pub id: Option<&'a str>,
    /// Its name, unique in the switchboard (the spec's examples use `bot` and `human`).
    pub name: Option<&'a str>,
    /// The integration that receives the events routed to it.
    pub integration_id: Option<&'a str>,
    /// The type of that integration (`custom`, `zd:agentWorkspace`, …), by value.
    pub integration_type: Option<ChannelType>,
}

impl<'a> From<&'a SwitchboardIntegration> for SwitchboardView<'a> {
    fn from(integration: &'a SwitchboardIntegration) -> Self {
        SwitchboardView {
            id: integration.id.as_deref(),
            name: integration.name.as_deref(),
            integration_id: integration.integration_id.as_deref(),
            integration_type: integration.integration_type.clone(),
        }
    }
}

impl Event {
    /// Whether this is a type the crate does not model.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Event::Unknown(_))
    }

    /// The conversation the event happened in, for the types that carry one (for `user:merge`,
    /// the surviving conversation when conversations were merged).
    pub fn conversation(&self) -> Option<&Conversation> {
        match self {
            Event::ClientAdd(e) => e.payload().conversation.as_ref(),
            Event::ClientRemove(e) => e.payload().conversation.as_ref(),
            Event::ClientUpdate(e) => e.payload().conversation.as_ref(),
            Event::ConversationCreate(e) => e.payload().conversation.as_ref(),
            Event::ConversationJoin(e) | Event::ConversationLeave(e) => e.payload().conversation.as_ref(),
            Event::ConversationRemove(e) => e.payload().conversation.as_ref(),
            Event::ConversationMessageDeliveryChannel(e) | Event::ConversationMessageDeliveryUser(e) => {
                e.payload().conversation.as_ref()
            }
            Event::ConversationMessageDeliveryFailure(e) => e.payload().conversation.as_ref(),
            Event::ConversationMessage(e) => e.payload().conversation.as_ref(),
            Event::ConversationPostback(e) => e.payload().conversation.as_ref(),
            Event::ConversationRead(e) | Event::ConversationTyping(e) => e.payload().conversation.as_ref(),
            Event::ConversationReferral(e) => e.payload().conversation.as_ref(),
            Event::SwitchboardAcceptControl(e) | Event::SwitchboardOfferControl(e) => {
                e.payload().conversation.as_ref()
            }
            Event::SwitchboardPassControl(e) | Event::SwitchboardReleaseControl(e) => {
                e.payload().conversation.as_ref()
            }
            Event::SwitchboardAcceptControlFailure(e)
            | Event::SwitchboardOfferControlFailure(e)
            | Event::SwitchboardPassControlFailure(e) => e.payload().conversation.as_ref(),
            Event::UserMerge(e) => e.payload().merged_conversations.as_ref()?.surviving.as_ref(),
            Event::UserUpdate(_) | Event::UserRemove(_) | Event::Unknown(_) => None,
        }
    }

    /// The id of the conversation the event happened in (see [`Event::conversation`]; for
    /// [`Event::Unknown`], `payload.conversation.id` in its body).
    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            Event::Unknown(unknown) => unknown
                .body
                .get("payload")?
                .get("conversation")?
                .get("id")?
                .as_str(),
            _ => self.conversation()?.id.as_deref(),
        }
    }

    /// The switchboard integration in control of the event's conversation
    /// (`conversation.activeSwitchboardIntegration`): after `switchboard:acceptControl` the one
    /// that accepted, after `switchboard:passControl` the one control went to, for
    /// `switchboard:offerControl` the one offering. `None` when no integration is in control
    /// (after `switchboard:releaseControl`), when the app has no switchboard, and for the types
    /// without a conversation.
    pub fn integration_in_control(&self) -> Option<SwitchboardView<'_>> {
        let integration = self.conversation()?.active_switchboard_integration.as_ref()?;
        Some(SwitchboardView::from(integration))
    }

    /// The switchboard integration offered control of the event's conversation and not yet in
    /// control (`conversation.pendingSwitchboardIntegration`, as `switchboard:offerControl`
    /// sends it). `None` when control was not offered.
    pub fn integration_offered_control(&self) -> Option<SwitchboardView<'_>> {
        let integration = self.conversation()?.pending_switchboard_integration.as_ref()?;
        Some(SwitchboardView::from(integration))
    }

    /// The user the event is about: the payload's `user`; for `user:merge` the surviving user;
    /// for `conversation:message` the author's user; for `conversation:read` and `:typing` the
    /// activity author's user. `None` for the switchboard events, which concern no user.
    pub fn user(&self) -> Option<&User> {
        match self {
            Event::ClientAdd(e) => e.payload().user.as_ref(),
            Event::ClientRemove(e) => e.payload().user.as_ref(),
            Event::ClientUpdate(e) => e.payload().user.as_ref(),
            Event::ConversationCreate(e) => e.payload().user.as_ref(),
            Event::ConversationJoin(e) | Event::ConversationLeave(e) => e.payload().user.as_ref(),
            Event::ConversationMessageDeliveryChannel(e) | Event::ConversationMessageDeliveryUser(e) => {
                e.payload().user.as_ref()
            }
            Event::ConversationMessageDeliveryFailure(e) => e.payload().user.as_ref(),
            Event::ConversationPostback(e) => e.payload().user.as_ref(),
            Event::ConversationReferral(e) => e.payload().user.as_ref(),
            Event::UserUpdate(e) => e.payload().user.as_ref(),
            Event::UserRemove(e) => e.payload().user.as_ref(),
            Event::UserMerge(e) => e.payload().merged_users.as_ref()?.surviving.as_ref(),
            Event::ConversationMessage(_) | Event::ConversationRead(_) | Event::ConversationTyping(_) => {
                self.author()?.user.as_ref()
            }
            _ => None,
        }
    }

    /// The id of the user the event is about: the `id` of [`Event::user`], else the author's
    /// `userId` (a message or activity whose author has no `user` object); for
    /// [`Event::Unknown`], `payload.user.id` in its body. `None` for a business author, which
    /// has neither.
    ///
    /// ```
    /// use smooch_events::{parse_webhook, Webhook};
    ///
    /// let body = br#"{"events": [{"type": "conversation:typing", "payload": {"activity":
    ///     {"type": "typing:start", "author": {"type": "user", "userId": "26508c10541a4b0ff472e5e2"}}}}]}"#;
    /// let Webhook::V2(body) = parse_webhook(body)? else { unreachable!() };
    /// assert!(body.events[0].user().is_none());
    /// assert_eq!(body.events[0].user_id(), Some("26508c10541a4b0ff472e5e2"));
    /// # Ok::<(), smooch_events::ParseError>(())
    /// ```
    pub fn user_id(&self) -> Option<&str> {
        if let Event::Unknown(unknown) = self {
            return unknown.body.get("payload")?.get("user")?.get("id")?.as_str();
        }
        match self.user() {
            Some(User { id: Some(id), .. }) => Some(id),
            _ => self.author()?.user_id.as_deref(),
        }
    }

    /// The id of the user that remains after a `user:merge` (`mergedUsers.surviving.id`, the
    /// same as [`Event::user_id`] there). `None` for the other types.
    pub fn surviving_user_id(&self) -> Option<&str> {
        match self {
            Event::UserMerge(e) => e
                .payload()
                .merged_users
                .as_ref()?
                .surviving
                .as_ref()?
                .id
                .as_deref(),
            _ => None,
        }
    }

    /// The id of the user a `user:merge` absorbed into the surviving one and deleted
    /// (`mergedUsers.discarded.id`): the id to forget or to map to the surviving one. `None` for
    /// the other types.
    ///
    /// ```
    /// use smooch_events::{parse_webhook, Webhook};
    ///
    /// let body = std::fs::read("fixtures/v2/user_merge.json")?;
    /// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
    /// assert_eq!(body.events[0].surviving_user_id(), Some("26508c10541a4b0ff472e5e2"));
    /// assert_eq!(body.events[0].discarded_user_id(), Some("1a64f7f75028fef55f815007"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn discarded_user_id(&self) -> Option<&str> {
        match self {
            Event::UserMerge(e) => e
                .payload()
                .merged_users
                .as_ref()?
                .discarded
                .as_ref()?
                .id
                .as_deref(),
            _ => None,
        }
    }

    /// Who wrote the message of a `conversation:message`, or did the activity of a
    /// `conversation:read` or `:typing`. `None` for the other types.
    pub fn author(&self) -> Option<&Author> {
        match self {
            Event::ConversationMessage(e) => e.payload().message.as_ref()?.author.as_ref(),
            Event::ConversationRead(e) | Event::ConversationTyping(e) => {
                e.payload().activity.as_ref()?.author.as_ref()
            }
            _ => None,
        }
    }

    /// Whether a user wrote the message or did the activity (the [`author`](Event::author) of a
    /// `conversation:message`, `:read` or `:typing` is a `user`), or tapped the button of a
    /// `conversation:postback` (only users tap buttons). `false` for the other types, and for
    /// an author without a `type`.
    pub fn is_from_user(&self) -> bool {
        match self {
            Event::ConversationPostback(_) => true,
            _ => self.author_type() == Some(&AuthorType::User),
        }
    }

    /// Whether the business (an agent, a bot, the API) wrote the message or did the activity:
    /// the [`author`](Event::author) of a `conversation:message`, `:read` or `:typing` is
    /// `business`. `false` for the other types, and for an author without a `type`.
    pub fn is_from_business(&self) -> bool {
        self.author_type() == Some(&AuthorType::Business)
    }

    /// The author's `type`.
    fn author_type(&self) -> Option<&AuthorType> {
        self.author()?.kind.as_ref()
    }

    /// Where the event came from: the payload's `source` (`client:add`, `client:remove`,
    /// `conversation:create`, `:postback`, `:referral`, `user:update`), the message's source for
    /// `conversation:message`, the activity's for `conversation:read` and `:typing`. `None` for
    /// the other types (a delivery event has a [`destination`](Event::delivery) instead).
    pub fn source(&self) -> Option<&Source> {
        match self {
            Event::ClientAdd(e) => e.payload().source.as_ref(),
            Event::ClientRemove(e) => e.payload().source.as_ref(),
            Event::ConversationCreate(e) => e.payload().source.as_ref(),
            Event::ConversationPostback(e) => e.payload().source.as_ref(),
            Event::ConversationReferral(e) => e.payload().source.as_ref(),
            Event::UserUpdate(e) => e.payload().source.as_ref(),
            Event::ConversationMessage(e) => e.payload().message.as_ref()?.source.as_ref(),
            Event::ConversationRead(e) | Event::ConversationTyping(e) => {
                e.payload().activity.as_ref()?.source.as_ref()
            }
            _ => None,
        }
    }

    /// The channel of the event, by value: the `type` of its [`source`](Event::source) (where
    /// it came from), or for a delivery event of its destination (where the message went).
    ///
    /// ```
    /// use smooch_events::{parse_webhook, v2::ChannelType, Webhook};
    ///
    /// let body = std::fs::read("fixtures/v2/conversation_message.json")?;
    /// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
    /// assert_eq!(body.events[0].channel(), Some(ChannelType::Telegram));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn channel(&self) -> Option<ChannelType> {
        match self.source() {
            Some(source) => source.kind.clone(),
            None => self.delivery()?.channel(),
        }
    }

    /// The new message of a `conversation:message` event.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Event::ConversationMessage(e) => e.payload().message.as_ref(),
            _ => None,
        }
    }

    /// The postback button a user tapped (`conversation:postback`): its payload and metadata.
    /// `None` for the other types; a quick reply is a text message instead, whose payload is
    /// [`Message::reply_payload`].
    pub fn postback(&self) -> Option<PostbackView<'_>> {
        match self {
            Event::ConversationPostback(e) => {
                let postback = e.payload().postback.as_ref()?;
                Some(PostbackView {
                    payload: postback.payload.as_deref(),
                    metadata: postback.metadata.as_ref(),
                })
            }
            _ => None,
        }
    }

    /// The referral the user came through: of a `conversation:referral`, or of a
    /// `conversation:create` whose conversation came from one. `None` for the other types.
    pub fn referral(&self) -> Option<&Referral> {
        match self {
            Event::ConversationReferral(e) => e.payload().referral.as_ref(),
            Event::ConversationCreate(e) => e.payload().referral.as_ref(),
            _ => None,
        }
    }

    /// Why a `conversation:create` created the conversation (`creationReason`: a message, a
    /// link request, a prechat form, …), by value. `None` for the other types.
    pub fn creation_reason(&self) -> Option<CreationReason> {
        match self {
            Event::ConversationCreate(e) => e.payload().creation_reason.clone(),
            _ => None,
        }
    }

    /// Why a `switchboard:passControl` or `switchboard:releaseControl` moved control (`reason`:
    /// a ticket closed, a transfer to email), by value. `None` for the other types, and when the
    /// move had none of the documented reasons.
    pub fn switchboard_reason(&self) -> Option<SwitchboardReason> {
        match self {
            Event::SwitchboardPassControl(e) | Event::SwitchboardReleaseControl(e) => {
                e.payload().reason.clone()
            }
            _ => None,
        }
    }

    /// What became of a message the business sent, for the three delivery events
    /// (`conversation:message:delivery:channel`, `:user` and `:failure`) alike. `None` for the
    /// other types.
    pub fn delivery(&self) -> Option<DeliveryView<'_>> {
        macro_rules! view {
            ($payload:expr) => {{
                let payload = $payload;
                Some(DeliveryView {
                    message_id: payload.message.as_ref().and_then(|m| m.id.as_deref()),
                    destination: payload.destination.as_ref(),
                    external_messages: payload.external_messages.as_deref().unwrap_or_default(),
                    is_final_event: payload.is_final_event,
                })
            }};
        }
        match self {
            Event::ConversationMessageDeliveryChannel(e) | Event::ConversationMessageDeliveryUser(e) => {
                view!(e.payload())
            }
            Event::ConversationMessageDeliveryFailure(e) => view!(e.payload()),
            _ => None,
        }
    }

    /// Why something failed: the `error` of `conversation:message:delivery:failure`, of the
    /// three switchboard failures and of `client:remove` (for `linkCancelled` and `linkFailed`),
    /// in one shape. `None` for the other types, and when the event has no `error`.
    pub fn error(&self) -> Option<ErrorView<'_>> {
        match self {
            Event::ConversationMessageDeliveryFailure(e) => e.payload().error.as_ref().map(ErrorView::from),
            Event::SwitchboardAcceptControlFailure(e)
            | Event::SwitchboardOfferControlFailure(e)
            | Event::SwitchboardPassControlFailure(e) => e.payload().error.as_ref().map(ErrorView::from),
            Event::ClientRemove(e) => e.payload().error.as_ref().map(ErrorView::from),
            _ => None,
        }
    }
}
