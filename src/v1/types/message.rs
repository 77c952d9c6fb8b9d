//! Messages and their parts.

use compact_str::CompactString;
use std::ops::{Deref, DerefMut};

use chrono::{DateTime, Utc};
use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::de::codec::Id;
use crate::de::codec::{Codec, Ctx, Kept};
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::time::UnixSeconds;
use crate::location::LocationView;
use crate::v1::types::action::Action;
use crate::v1::types::source::{Platform, Source};

object! {
    /// A message: the docs' *message* schema, with the fields later API versions added.
    ///
    /// Only `_id` is always sent. `type` is missing in the guide's example and in early delivery
    /// payloads; `text` is missing on images, carousels and lists; v1.1 delivery events often
    /// send a message with nothing but `_id`. A message without a usable `_id` is kept as JSON
    /// where it is optional, and refused in a trigger's `messages`.
    pub struct Message {
        expecting: "a message object",
        required {
            /// The message id.
            id: CompactString = "_id" as Id,
        }
        optional {
            /// The kind of message.
            kind: MessageType = "type",
            /// The text (a location message has a generated one).
            text: CompactString = "text",
            /// Who wrote it: `appUser`, `appMaker` or `whisper`.
            role: Role = "role",
            /// The appUser's `_id` when the role is `appUser`, otherwise a hash of the
            /// appMaker's email.
            author_id: CompactString = "authorId",
            /// The author's display name.
            name: CompactString = "name",
            /// When Smooch received the message.
            received: DateTime<Utc> = "received" as UnixSeconds,
            /// Where the message came from (absent before December 2016).
            source: Source = "source",
            /// The appMaker's picture.
            avatar_url: CompactString = "avatarUrl",
            /// Buttons of the message. See [`Message::actions`].
            actions: Vec<Action> = "actions",
            /// The URL of an image or file.
            media_url: CompactString = "mediaUrl",
            /// The MIME type of the media.
            media_type: CompactString = "mediaType",
            /// The size of the media in bytes (v1.1).
            media_size: u64 = "mediaSize",
            /// The location of a `location` message.
            coordinates: Coordinates = "coordinates",
            /// The items of a `carousel` or `list` message. See [`Message::items`].
            items: Vec<MessageItem> = "items",
            /// Flat key/value data the app attached to the message.
            metadata: Metadata = "metadata",
            /// The payload of the `reply` action a user tapped.
            payload: CompactString = "payload",
            /// Display options of a carousel.
            display_settings: DisplaySettings = "displaySettings",
            /// Where an appMaker asked the message to go (`{integrationId | integrationType}`).
            destination: Value = "destination",
            /// The message this one replies to (v1.1; kept as JSON).
            quoted_message: Value = "quotedMessage",
            /// The fields of a `form` or `formResponse` message (v1.1).
            fields: Vec<FormField> = "fields",
        }
    }
}

impl Message {
    /// What a person typed: the `text` of a `text` message, or of a message without `type`
    /// (early payloads and the guide's example) that holds no media, location or items. `None`
    /// for the other types, whose `text` is a caption or a generated fallback (a location's
    /// `Location shared:` and a maps link): [`Message::text_or_fallback`] gives those too.
    ///
    /// ```
    /// let body = std::fs::read("fixtures/message_appUser_location.json")?;
    /// let event = smooch_events::parse_event(&body)?;
    /// let location = &event.messages()[0];
    /// assert_eq!(location.text(), None);
    /// assert!(location.text_or_fallback().unwrap().starts_with("Location shared:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            Some(MessageType::Text) => self.text.as_deref(),
            None if self.media_url.is_none() && self.coordinates.is_none() && self.items.is_none() => {
                self.text.as_deref()
            }
            _ => None,
        }
    }

    /// The message's `text` whatever its type: what a person typed, a caption, or a generated
    /// fallback (a location's, a carousel's). A `text` that was not a string is kept in `extra`
    /// instead.
    pub fn text_or_fallback(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The URL of the image or file the message holds (`mediaUrl`; v1.1 also audio and video).
    /// A carousel's or list's images are in its [`items`](Message::items).
    pub fn media_url(&self) -> Option<&str> {
        self.media_url.as_deref()
    }

    /// The payload of the quick reply (`reply` action) the user tapped to send this message
    /// (`payload`). A tapped postback button is a `postback` body instead: see
    /// [`Event::postback`](crate::v1::Event::postback).
    pub fn reply_payload(&self) -> Option<&str> {
        self.payload.as_deref()
    }

    /// The channel the message came from (`source.type`: `messenger`, `web`, `twilio`, …), by
    /// value, so that it compares with `==`: `message.channel() == Some(Platform::Messenger)`.
    pub fn channel(&self) -> Option<Platform> {
        self.source.as_ref()?.kind.clone()
    }

    /// Where the user is, for a message with `coordinates` (a `location` message, or one without
    /// `type` from early payloads): its latitude and longitude. v1 sends no place name or
    /// address, so those are `None`. `None` for a message without both `lat` and `long`.
    ///
    /// ```
    /// let body = std::fs::read("fixtures/message_appUser_location.json")?;
    /// let event = smooch_events::parse_event(&body)?;
    /// let location = event.messages()[0].location().unwrap();
    /// assert_eq!((location.latitude, location.longitude), (45.5261583, -73.595346));
    /// assert_eq!(location.name, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location(&self) -> Option<LocationView<'_>> {
        let coordinates = self.coordinates.as_ref()?;
        LocationView::of(coordinates.lat, coordinates.long, None, None)
    }

    /// Whether a user wrote the message (`role` is `appUser`).
    pub fn is_from_user(&self) -> bool {
        self.role == Some(Role::AppUser)
    }

    /// Whether the business wrote the message (`role` is `appMaker`, or `whisper`: a note
    /// between agents).
    pub fn is_from_business(&self) -> bool {
        matches!(self.role, Some(Role::AppMaker | Role::Whisper))
    }

    /// The message's actions; empty when there are none.
    pub fn actions(&self) -> &[Action] {
        self.actions.as_deref().unwrap_or_default()
    }

    /// The message's items; empty when there are none.
    pub fn items(&self) -> &[MessageItem] {
        self.items.as_deref().unwrap_or_default()
    }
}

open_enum! {
    /// The kind of a message (`message.type`).
    pub enum MessageType {
        /// Plain text.
        Text = "text",
        /// An image (`mediaUrl`).
        Image = "image",
        /// A file (`mediaUrl`, `mediaType`).
        File = "file",
        /// A carousel of items.
        Carousel = "carousel",
        /// A list of items.
        List = "list",
        /// A location (`coordinates`).
        Location = "location",
        /// A form (v1.1).
        Form = "form",
        /// A reply to a form (v1.1).
        FormResponse = "formResponse",
        /// An audio file (v1.1).
        Audio = "audio",
        /// A video (v1.1).
        Video = "video",
    }
}

open_enum! {
    /// Who wrote a message (`message.role`).
    pub enum Role {
        /// The end user.
        AppUser = "appUser",
        /// The business (an agent, a bot, the API).
        AppMaker = "appMaker",
        /// A note between agents that the user does not see (sent under `message:appMaker`).
        Whisper = "whisper",
    }
}

object! {
    /// The location of a `location` message.
    pub struct Coordinates {
        expecting: "a coordinates object",
        expected {
            /// Latitude.
            lat: f64 = "lat",
            /// Longitude.
            long: f64 = "long",
        }
        optional {
            /// An id, in the schema and in examples before March 2017.
            id: CompactString = "_id" as Id,
        }
    }
}

object! {
    /// An item of a `carousel` or `list` message.
    pub struct MessageItem {
        expecting: "a message item object",
        expected {
            /// The item's title.
            title: CompactString = "title",
        }
        optional {
            /// The item's id.
            id: CompactString = "_id" as Id,
            /// The item's description.
            description: CompactString = "description",
            /// The URL of the item's image.
            media_url: CompactString = "mediaUrl",
            /// The MIME type of the item's image.
            media_type: CompactString = "mediaType",
            /// The item's size.
            size: ItemSize = "size",
            /// The item's buttons (1 to 3). See [`MessageItem::actions`].
            actions: Vec<Action> = "actions",
        }
    }
}

impl MessageItem {
    /// The item's actions; empty when there are none.
    pub fn actions(&self) -> &[Action] {
        self.actions.as_deref().unwrap_or_default()
    }
}

open_enum! {
    /// The size of a carousel or list item.
    pub enum ItemSize {
        /// Compact.
        Compact = "compact",
        /// Large.
        Large = "large",
    }
}

object! {
    /// Display options of a carousel.
    pub struct DisplaySettings {
        expecting: "a display settings object",
        optional {
            /// `horizontal` or `square`.
            image_aspect_ratio: CompactString = "imageAspectRatio",
        }
    }
}

object! {
    /// A field of a `form` or `formResponse` message (v1.1; not in the v1 docs, so every field
    /// is optional).
    pub struct FormField {
        expecting: "a form field object",
        optional {
            /// The field's type: `text`, `email`, `select`, …
            kind: CompactString = "type",
            /// The field's name.
            name: CompactString = "name",
            /// The field's label.
            label: CompactString = "label",
            /// The text the user entered.
            text: CompactString = "text",
            /// The email address the user entered.
            email: CompactString = "email",
        }
    }
}

/// Flat key/value data an app attaches to a message or action (`metadata`).
///
/// It dereferences to the map (a [`JsonMap`], read when first used). The 2015–2016 docs sent an
/// empty array (`"metadata": []`) where later ones send `{}`; both read as empty metadata, and
/// each is written back as it came.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    map: JsonMap,
    legacy_empty_array: bool,
}

impl Metadata {
    /// Metadata holding `map`.
    pub fn new(map: Map<String, Value>) -> Self {
        Metadata {
            map: JsonMap::from(map),
            legacy_empty_array: false,
        }
    }

    /// The entries.
    pub fn into_map(self) -> Map<String, Value> {
        self.map.into_map()
    }
}

impl From<Map<String, Value>> for Metadata {
    fn from(map: Map<String, Value>) -> Self {
        Metadata::new(map)
    }
}

impl Deref for Metadata {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl DerefMut for Metadata {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.legacy_empty_array = false;
        &mut self.map
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.legacy_empty_array && self.map.is_empty() {
            return s.serialize_seq(Some(0)).and_then(serde::ser::SerializeSeq::end);
        }
        self.map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut slot = None;
        match Metadata::read(d, &mut slot, Ctx::STRICT)? {
            None => Ok(slot.unwrap_or_default()),
            Some(_) => Err(de::Error::custom("expected a JSON object")),
        }
    }
}

impl Codec for Metadata {
    type Target = Metadata;
    const EXPECTING: &'static str = "a JSON object (or the legacy `[]`)";

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Metadata>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let mut map = None;
        match JsonMap::read(d, &mut map, ctx.tolerant())? {
            None => {
                *slot = map.map(|map| Metadata {
                    map,
                    legacy_empty_array: false,
                });
                Ok(None)
            }
            Some(kept) if kept.value == Value::Array(Vec::new()) => {
                *slot = Some(Metadata {
                    map: JsonMap::new(),
                    legacy_empty_array: true,
                });
                Ok(None)
            }
            Some(kept) => crate::de::codec::misfit(Self::EXPECTING, kept.value, ctx.strict),
        }
    }

    fn write<S: Serializer>(target: &Metadata, s: S) -> Result<S::Ok, S::Error> {
        target.serialize(s)
    }
}
