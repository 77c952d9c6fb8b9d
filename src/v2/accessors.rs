//! What a receiver asks of every event, one call per question: [`Event`]'s accessors.
//!
//! Each accessor answers for every event type that carries the answer and gives `None` for the
//! others, so the common path needs neither a `match` on the type nor a chain of `Option`s.

use crate::v2::{Conversation, Event, Message, User};

impl Event {
    /// Whether this is a type the crate does not model.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Event::Unknown(_))
    }

    /// The conversation the event happened in, for the types that carry one (for `user:merge`,
    /// the surviving conversation when conversations were merged).
    pub fn conversation(&self) -> Option<&Conversation> {
        macro_rules! of {
            ($e:expr) => {
                $e.payload.as_ref()?.conversation.as_ref()
            };
        }
        match self {
            Event::ClientAdd(e) => of!(e),
            Event::ClientRemove(e) => of!(e),
            Event::ClientUpdate(e) => of!(e),
            Event::ConversationCreate(e) => of!(e),
            Event::ConversationJoin(e) | Event::ConversationLeave(e) => of!(e),
            Event::ConversationRemove(e) => of!(e),
            Event::ConversationMessageDeliveryChannel(e) | Event::ConversationMessageDeliveryUser(e) => {
                of!(e)
            }
            Event::ConversationMessageDeliveryFailure(e) => of!(e),
            Event::ConversationMessage(e) => of!(e),
            Event::ConversationPostback(e) => of!(e),
            Event::ConversationRead(e) | Event::ConversationTyping(e) => of!(e),
            Event::ConversationReferral(e) => of!(e),
            Event::SwitchboardAcceptControl(e) | Event::SwitchboardOfferControl(e) => of!(e),
            Event::SwitchboardPassControl(e) | Event::SwitchboardReleaseControl(e) => of!(e),
            Event::SwitchboardAcceptControlFailure(e)
            | Event::SwitchboardOfferControlFailure(e)
            | Event::SwitchboardPassControlFailure(e) => of!(e),
            Event::UserMerge(e) => e
                .payload
                .as_ref()?
                .merged_conversations
                .as_ref()?
                .surviving
                .as_ref(),
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

    /// The user the event is about: the payload's `user`; for `user:merge` the surviving user;
    /// for `conversation:message` the author's user; for `conversation:read` and `:typing` the
    /// activity author's user. `None` for the switchboard events, which concern no user.
    pub fn user(&self) -> Option<&User> {
        macro_rules! of {
            ($e:expr) => {
                $e.payload.as_ref()?.user.as_ref()
            };
        }
        match self {
            Event::ClientAdd(e) => of!(e),
            Event::ClientRemove(e) => of!(e),
            Event::ClientUpdate(e) => of!(e),
            Event::ConversationCreate(e) => of!(e),
            Event::ConversationJoin(e) | Event::ConversationLeave(e) => of!(e),
            Event::ConversationMessageDeliveryChannel(e) | Event::ConversationMessageDeliveryUser(e) => {
                of!(e)
            }
            Event::ConversationMessageDeliveryFailure(e) => of!(e),
            Event::ConversationPostback(e) => of!(e),
            Event::ConversationReferral(e) => of!(e),
            Event::UserUpdate(e) => of!(e),
            Event::UserRemove(e) => of!(e),
            Event::UserMerge(e) => e.payload.as_ref()?.merged_users.as_ref()?.surviving.as_ref(),
            Event::ConversationMessage(e) => e
                .payload
                .as_ref()?
                .message
                .as_ref()?
                .author
                .as_ref()?
                .user
                .as_ref(),
            Event::ConversationRead(e) | Event::ConversationTyping(e) => e
                .payload
                .as_ref()?
                .activity
                .as_ref()?
                .author
                .as_ref()?
                .user
                .as_ref(),
            _ => None,
        }
    }

    /// The new message of a `conversation:message` event.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Event::ConversationMessage(e) => e.payload.as_ref()?.message.as_ref(),
            _ => None,
        }
    }
}
