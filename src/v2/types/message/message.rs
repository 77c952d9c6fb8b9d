//! A message, and what only a quoted message carries: its activity and its references.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::tagged::{tagged, NoHead, UnknownObject};
use crate::de::time::IsoTime;
use crate::location::LocationView;
use crate::v2::types::author::{Author, AuthorType};
use crate::v2::types::channel::ChannelType;
use crate::v2::types::message::content::Content;
use crate::v2::types::message::quoted::QuotedMessage;
use crate::v2::types::source::Source;

object! {
    /// A message: the spec's `S.messageWebhook` (the message of `conversation:message` and its
    /// `recentNotifications`) and `S.message` (a quoted message) in one type.
    ///
    /// Only `id` is reported missing by validation (the spec requires nothing here, but
    /// `author.type`, a message `source.type` and `content.type` inside). `activity` and
    /// `references` belong to quoted messages.
    pub struct Message {
        expecting: "a message object",
        usual {
            /// The message's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// When Sunshine Conversations received the message.
            received: IsoTime = "received",
            /// Who wrote it.
            author: Author = "author",
            /// What it says: text, image, carousel, form, … See [`Message::text`].
            content: Content = "content",
            /// Where it came from.
            source: Source = "source",
            /// The message it answers (WhatsApp, and Web Messenger form responses).
            quoted_message: QuotedMessage = "quotedMessage",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
            /// Whether this is a placeholder for a deleted message.
            deleted: bool = "deleted",
            /// The system activity the message reports, e.g. a ticket closed (quoted messages).
            activity: ActivityMessage = "activity",
            /// Links to the sources of the message, e.g. of a bot's answer (quoted messages).
            references: Vec<Reference> = "references",
        }
    }
}

impl Message {
    /// What a person typed: the `text` of a text message. `None` for the other content types,
    /// whose texts are captions or generated fallbacks: [`Message::text_or_fallback`] gives
    /// those too.
    ///
    /// ```
    /// use smooch_events::{parse_webhook, Webhook};
    ///
    /// let body = std::fs::read("fixtures/v2/written/content_types.json")?;
    /// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
    /// let location = body.events[5].message().unwrap();
    /// assert_eq!(location.text(), None);
    /// assert!(location.text_or_fallback().unwrap().starts_with("Location shared:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(&self) -> Option<&str> {
        self.content.as_ref()?.text()
    }

    /// Any text the message carries, to show or log it whatever its type: the text of a text
    /// message, the text sent with an image, file or form, the generated fallback of a carousel
    /// or location, the `textFallback` of a form response. See [`Content::text_or_fallback`].
    pub fn text_or_fallback(&self) -> Option<&str> {
        self.content.as_ref()?.text_or_fallback()
    }

    /// The URL of the image or file the message holds (`content.mediaUrl`); `None` for the
    /// other content types. It may need an authorization header when the app has private
    /// attachments.
    pub fn media_url(&self) -> Option<&str> {
        self.content.as_ref()?.media_url()
    }

    /// The payload of the quick reply the user tapped to send this text (`content.payload`);
    /// `None` for a text the user typed and for the other content types. A tapped postback
    /// button is an event of its own: see [`Event::postback`](crate::v2::Event::postback).
    pub fn reply_payload(&self) -> Option<&str> {
        self.content.as_ref()?.reply_payload()
    }

    /// Where the user is, for a location message: its coordinates, and the place's name and
    /// address when sent (`content.coordinates`, `content.location`). `None` for the other
    /// content types, and for a location without both `lat` and `long`.
    pub fn location(&self) -> Option<LocationView<'_>> {
        self.content.as_ref()?.location()
    }

    /// The channel the message came from (`source.type`: `whatsapp`, `messenger`, `web`, …), by
    /// value, so that it compares with `==`: `message.channel() == Some(ChannelType::Whatsapp)`.
    pub fn channel(&self) -> Option<ChannelType> {
        self.source.as_ref()?.kind.clone()
    }

    /// Whether a user wrote the message (`author.type` is `user`).
    pub fn is_from_user(&self) -> bool {
        self.author_type() == Some(&AuthorType::User)
    }

    /// Whether the business wrote the message (`author.type` is `business`: an agent, a bot,
    /// an integration or the API).
    pub fn is_from_business(&self) -> bool {
        self.author_type() == Some(&AuthorType::Business)
    }

    /// The author's `type`.
    fn author_type(&self) -> Option<&AuthorType> {
        self.author.as_ref()?.kind.as_ref()
    }
}

tagged! {
    /// A system activity a message reports (`S.activityMessage`).
    pub enum ActivityMessage {
        expecting: "an activity object",
        tag: "type",
        missing_tag: Spec,
        names: TYPES / type_name,
        head: NoHead,
        unknown: /// A `type` this crate does not model (or none), with the whole object as it was sent.
            UnknownObject,
        /// A ticket was closed.
        TicketClosed(TicketClosed) = "ticket:closed",
        /// A ticket was transferred to email.
        TransferToEmail(TransferToEmail) = "ticket:transfer:email",
        /// The user ended the conversation.
        EndedByUser(EndedByUser) = "conversation:endedByUser",
    }
}

object! {
    /// `ticket:closed` (`S.ticketClosed`).
    pub struct TicketClosed {
        expecting: "an activity object",
        optional {
            /// Data of the activity (empty today).
            data: JsonMap = "data",
        }
    }
}

object! {
    /// `ticket:transfer:email` (`S.transferToEmail`).
    pub struct TransferToEmail {
        expecting: "an activity object",
        optional {
            /// Data of the activity (empty today).
            data: JsonMap = "data",
        }
    }
}

object! {
    /// `conversation:endedByUser` (`S.endedByUser`).
    pub struct EndedByUser {
        expecting: "an activity object",
        optional {
            /// Data of the activity (empty today).
            data: JsonMap = "data",
        }
    }
}

object! {
    /// A link to a source of a message (`S.reference`).
    pub struct Reference {
        expecting: "a reference object",
        expected {
            /// The link.
            uri: CompactString = "uri",
        }
        optional {
            /// Its title.
            title: CompactString = "title",
            /// Its description.
            description: CompactString = "description",
        }
    }
}
