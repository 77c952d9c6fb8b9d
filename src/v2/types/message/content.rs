//! What a message says (`content`), one type per content `type`.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::tagged::{tagged, NoHead, UnknownObject};
use crate::location::LocationView;
use crate::v2::types::message::action::Action;
use crate::v2::types::message::form_field::FormField;
use crate::v2::types::message::item::Item;
use compact_str::CompactString;

tagged! {
    /// What a message says (`S.content`, told apart by `type`). A type the crate does not model
    /// is [`Content::Unknown`], kept whole.
    ///
    /// Each type's required fields (`mediaUrl`, `items`, `fields`, `coordinates`, `template`)
    /// are reported missing by validation. Write-only fields (`markdownText`) are not modelled:
    /// they stay in `extra` if they ever arrive.
    pub enum Content {
        expecting: "a content object",
        tag: "type",
        missing_tag: Spec,
        names: TYPES / type_name,
        head: NoHead,
        unknown: /// A `type` this crate does not model (or none), with the whole object as it was sent.
            UnknownObject,
        /// Text, possibly with buttons.
        Text(TextMessage) = "text",
        /// An image. Boxed, as every variant but text.
        Image(Box<ImageMessage>) = "image",
        /// A file.
        File(Box<FileMessage>) = "file",
        /// A carousel of items.
        Carousel(Box<CarouselMessage>) = "carousel",
        /// A list of items.
        List(Box<ListMessage>) = "list",
        /// A location.
        Location(Box<LocationMessage>) = "location",
        /// A form to fill.
        Form(Box<FormMessage>) = "form",
        /// The answers to a form (Web Messenger).
        FormResponse(Box<FormResponseMessage>) = "formResponse",
        /// A WhatsApp template.
        Template(Box<TemplateMessage>) = "template",
    }
}

impl Content {
    /// What a person typed: the `text` of a text content. `None` for every other type, even
    /// when it carries a text (a caption, a generated fallback): see
    /// [`Content::text_or_fallback`].
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text(c) => c.text.as_deref(),
            _ => None,
        }
    }

    /// Any text the content carries: the text of a text content, the text sent with an image,
    /// file or form, the generated fallback of a carousel or location (`Location shared:` and a
    /// maps link), the `textFallback` of a form response (`label: value` lines), or a `text`
    /// string of a content type the crate does not model. `None` for lists and templates, which
    /// have none.
    pub fn text_or_fallback(&self) -> Option<&str> {
        match self {
            Content::Text(c) => c.text.as_deref(),
            Content::Image(c) => c.text.as_deref(),
            Content::File(c) => c.text.as_deref(),
            Content::Carousel(c) => c.text.as_deref(),
            Content::Location(c) => c.text.as_deref(),
            Content::Form(c) => c.text.as_deref(),
            Content::FormResponse(c) => c.text_fallback.as_deref(),
            Content::List(_) | Content::Template(_) => None,
            Content::Unknown(unknown) => unknown.body.get("text")?.as_str(),
        }
    }

    /// The URL of an image or file content (`mediaUrl`); `None` for the other types.
    pub fn media_url(&self) -> Option<&str> {
        match self {
            Content::Image(c) => c.media_url.as_deref(),
            Content::File(c) => c.media_url.as_deref(),
            _ => None,
        }
    }

    /// The payload of the quick reply (`reply` action) the user tapped to send this text
    /// (`payload` of a text content); `None` for the other types.
    pub fn reply_payload(&self) -> Option<&str> {
        match self {
            Content::Text(c) => c.payload.as_deref(),
            _ => None,
        }
    }

    /// Where the user is, for a location content: its `coordinates` and the place's name and
    /// address (`location`) when sent. `None` for the other types, and for a location without
    /// both `lat` and `long` (which the spec requires; validation reports them missing).
    pub fn location(&self) -> Option<LocationView<'_>> {
        match self {
            Content::Location(c) => {
                let coordinates = c.coordinates.as_ref()?;
                let place = c.location.as_ref();
                LocationView::of(
                    coordinates.lat,
                    coordinates.long,
                    place.and_then(|place| place.name.as_deref()),
                    place.and_then(|place| place.address.as_deref()),
                )
            }
            _ => None,
        }
    }

    /// The buttons of a text, image or list content; empty for the others (a carousel's are in
    /// its items).
    pub fn actions(&self) -> &[Action] {
        match self {
            Content::Text(c) => c.actions.as_deref(),
            Content::Image(c) => c.actions.as_deref(),
            Content::List(c) => c.actions.as_deref(),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The items of a carousel or list content; empty for the others.
    pub fn items(&self) -> &[Item] {
        match self {
            Content::Carousel(c) => c.items.as_deref(),
            Content::List(c) => c.items.as_deref(),
            _ => None,
        }
        .unwrap_or_default()
    }
}

object! {
    /// A text message (`S.textMessage`).
    pub struct TextMessage {
        expecting: "a text content object",
        optional {
            /// The text. Absent when the message has only actions or `htmlText`.
            text: CompactString = "text",
            /// Rich text (HTML).
            html_text: CompactString = "htmlText",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// Buttons (any of the six types).
            actions: Vec<Action> = "actions",
            /// The payload of the reply button the user tapped to send this text.
            payload: CompactString = "payload",
        }
    }
}

object! {
    /// An image message (`S.imageMessage`).
    pub struct ImageMessage {
        expecting: "an image content object",
        expected {
            /// The image's URL (it may need an authorization header with private attachments).
            media_url: CompactString = "mediaUrl",
        }
        optional {
            /// The MIME type.
            media_type: CompactString = "mediaType",
            /// The size in bytes (a JSON number in the spec, not an integer).
            media_size: f64 = "mediaSize",
            /// A description of the image (defaults to the file name).
            alt_text: CompactString = "altText",
            /// Text sent with the image.
            text: CompactString = "text",
            /// Rich text (HTML).
            html_text: CompactString = "htmlText",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// Buttons (any of the six types).
            actions: Vec<Action> = "actions",
            /// An internal identifier of the attachment.
            attachment_id: CompactString = "attachmentId",
        }
    }
}

object! {
    /// A file message (`S.fileMessage`).
    pub struct FileMessage {
        expecting: "a file content object",
        expected {
            /// The file's URL (it may need an authorization header with private attachments).
            media_url: CompactString = "mediaUrl",
        }
        optional {
            /// The MIME type.
            media_type: CompactString = "mediaType",
            /// The size in bytes (a JSON number in the spec, not an integer).
            media_size: f64 = "mediaSize",
            /// A description of the file (defaults to the file name).
            alt_text: CompactString = "altText",
            /// Text sent with the file.
            text: CompactString = "text",
            /// Rich text (HTML).
            html_text: CompactString = "htmlText",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// An internal identifier of the attachment.
            attachment_id: CompactString = "attachmentId",
        }
    }
}

object! {
    /// A carousel (`S.carouselMessage`): 1 to 10 items, each with its own buttons.
    pub struct CarouselMessage {
        expecting: "a carousel content object",
        expected {
            /// The items.
            items: Vec<Item> = "items",
        }
        optional {
            /// A text fallback for channels without carousels (generated).
            text: CompactString = "text",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// Display options.
            display_settings: DisplaySettings = "displaySettings",
        }
    }
}

object! {
    /// Display options of a carousel.
    pub struct DisplaySettings {
        expecting: "a display settings object",
        optional {
            /// The shape of the items' images (`horizontal` by default).
            image_aspect_ratio: ImageAspectRatio = "imageAspectRatio",
        }
    }
}

open_enum! {
    /// The shape of a carousel's images (`displaySettings.imageAspectRatio`).
    pub enum ImageAspectRatio {
        /// Wider than high (the default).
        Horizontal = "horizontal",
        /// Square.
        Square = "square",
    }
}

object! {
    /// A list (`S.listMessage`): 1 to 10 items, and buttons for the whole list. It has no text.
    pub struct ListMessage {
        expecting: "a list content object",
        expected {
            /// The items.
            items: Vec<Item> = "items",
        }
        optional {
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// Buttons of the list (buy, link, postback or webview).
            actions: Vec<Action> = "actions",
        }
    }
}

object! {
    /// A location (`S.locationMessage`).
    pub struct LocationMessage {
        expecting: "a location content object",
        expected {
            /// Where.
            coordinates: Coordinates = "coordinates",
        }
        optional {
            /// A text fallback (`Location shared:` and a maps link).
            text: CompactString = "text",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// The place's address and name.
            location: Location = "location",
        }
    }
}

object! {
    /// The coordinates of a location. The key is `long`, not `lng`.
    pub struct Coordinates {
        expecting: "a coordinates object",
        expected {
            /// Latitude.
            lat: f64 = "lat",
            /// Longitude.
            long: f64 = "long",
        }
    }
}

object! {
    /// The address and name of a location.
    pub struct Location {
        expecting: "a location object",
        optional {
            /// The address.
            address: CompactString = "address",
            /// The place's name.
            name: CompactString = "name",
        }
    }
}

object! {
    /// A form to fill (`S.formMessage`).
    pub struct FormMessage {
        expecting: "a form content object",
        expected {
            /// The fields, 1 to 20.
            fields: Vec<FormField> = "fields",
        }
        optional {
            /// Whether the form was submitted.
            submitted: bool = "submitted",
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
            /// Text shown above form links on social channels.
            text: CompactString = "text",
        }
    }
}

object! {
    /// The answers to a form (`S.formResponseMessage`). The form it answers is the message's
    /// `quotedMessage`.
    pub struct FormResponseMessage {
        expecting: "a form response content object",
        expected {
            /// The fields with their answers.
            fields: Vec<FormField> = "fields",
        }
        optional {
            /// Every field as `label: value`, one per line.
            text_fallback: CompactString = "textFallback",
        }
    }
}

object! {
    /// A WhatsApp template message (`S.templateMessage`).
    pub struct TemplateMessage {
        expecting: "a template content object",
        expected {
            /// The template, opaque to the spec (`namespace`, `name`, `language`, `components`).
            template: JsonMap = "template",
        }
        optional {
            /// Whether supporting clients disable the chat input while this is the latest message.
            block_chat_input: bool = "blockChatInput",
        }
    }
}
