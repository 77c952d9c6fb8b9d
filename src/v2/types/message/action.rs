//! The buttons of messages and items.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::tagged::{tagged, NoHead, UnknownObject};
use compact_str::CompactString;

tagged! {
    /// A button of a message or an item (`S.action`, told apart by `type`).
    ///
    /// Text and image messages may carry all six types; items and list messages only buy, link,
    /// postback and webview (`S.actionSubset`), which validation checks. Each type's required
    /// fields (`text` always; `uri`, `payload`, `amount` or `fallback` by type) are reported
    /// missing by validation.
    pub enum Action {
        expecting: "an action object",
        tag: "type",
        missing_tag: Spec,
        names: TYPES / type_name,
        head: NoHead,
        unknown: /// A `type` this crate does not model (or none), with the whole object as it was sent.
            UnknownObject,
        /// A payment button.
        Buy(BuyAction) = "buy",
        /// Opens a link. Boxed: large.
        Link(Box<LinkAction>) = "link",
        /// Asks the user for a location.
        LocationRequest(LocationRequestAction) = "locationRequest",
        /// Sends a `conversation:postback` event when tapped.
        Postback(PostbackAction) = "postback",
        /// A quick reply: tapping it sends a text message with its `payload`.
        Reply(ReplyAction) = "reply",
        /// Opens a webview. Boxed: large.
        Webview(Box<WebviewAction>) = "webview",
    }
}

impl Action {
    /// The button's label, for every modelled type.
    pub fn text(&self) -> Option<&str> {
        match self {
            Action::Buy(a) => a.text.as_deref(),
            Action::Link(a) => a.text.as_deref(),
            Action::LocationRequest(a) => a.text.as_deref(),
            Action::Postback(a) => a.text.as_deref(),
            Action::Reply(a) => a.text.as_deref(),
            Action::Webview(a) => a.text.as_deref(),
            Action::Unknown(unknown) => unknown.body.get("text")?.as_str(),
        }
    }
}

object! {
    /// A payment button (`S.buy`).
    pub struct BuyAction {
        expecting: "a buy action object",
        expected {
            /// The label.
            text: CompactString = "text",
            /// The price in cents (9.99 is 999).
            amount: i64 = "amount",
        }
        optional {
            /// The currency, ISO 4217 (lower-case in the prose, `CAD` in the spec's example).
            currency: CompactString = "currency",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

object! {
    /// A link button (`S.link`).
    pub struct LinkAction {
        expecting: "a link action object",
        expected {
            /// The label.
            text: CompactString = "text",
            /// The link opened when tapped.
            uri: CompactString = "uri",
        }
        optional {
            /// Whether this is the default action of a Messenger item.
            default: bool = "default",
            /// Messenger-only options.
            extra_channel_options: ExtraChannelOptions = "extraChannelOptions",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

object! {
    /// A button asking the user for a location (`S.locationRequest`).
    pub struct LocationRequestAction {
        expecting: "a location request action object",
        expected {
            /// The label.
            text: CompactString = "text",
        }
        optional {
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

object! {
    /// A postback button (`S.postback`): tapping it sends `conversation:postback` with its
    /// `payload`.
    pub struct PostbackAction {
        expecting: "a postback action object",
        expected {
            /// The label.
            text: CompactString = "text",
            /// What `conversation:postback` sends back.
            payload: CompactString = "payload",
        }
        optional {
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

object! {
    /// A quick reply (`S.reply`): tapping it sends a user text message with `content.payload`.
    pub struct ReplyAction {
        expecting: "a reply action object",
        expected {
            /// The label (cut at 20 characters on Messenger, 40 on the SDKs).
            text: CompactString = "text",
            /// What the reply message carries as `content.payload`.
            payload: CompactString = "payload",
        }
        optional {
            /// The icon beside the reply.
            icon_url: CompactString = "iconUrl",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

object! {
    /// A webview button (`S.webview`).
    pub struct WebviewAction {
        expecting: "a webview action object",
        expected {
            /// The label.
            text: CompactString = "text",
            /// The page loaded in the webview.
            uri: CompactString = "uri",
            /// The page opened on channels without webviews.
            fallback: CompactString = "fallback",
        }
        optional {
            /// `compact`, `tall` or `full`.
            size: WebviewSize = "size",
            /// Whether this is the default action of a Messenger item.
            default: bool = "default",
            /// Whether the webview opens by itself when the message arrives (Web Messenger).
            open_on_receive: bool = "openOnReceive",
            /// Messenger-only options.
            extra_channel_options: ExtraChannelOptions = "extraChannelOptions",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

open_enum! {
    /// The size of a webview (`webview.size`).
    pub enum WebviewSize {
        /// Compact.
        Compact = "compact",
        /// Tall.
        Tall = "tall",
        /// Full screen.
        Full = "full",
    }
}

object! {
    /// Channel-specific options of a link or webview (`S.extraChannelOptions`).
    pub struct ExtraChannelOptions {
        expecting: "an extra channel options object",
        optional {
            /// Messenger's options.
            messenger: MessengerOptions = "messenger",
        }
    }
}

object! {
    /// Messenger's options of a link or webview. The keys are snake_case on the wire.
    pub struct MessengerOptions {
        expecting: "a messenger options object",
        optional {
            /// Whether the page uses the Messenger extensions.
            messenger_extensions: bool = "messenger_extensions",
            /// Whether Messenger shows its share button (`hide`).
            webview_share_button: WebviewShareButton = "webview_share_button",
        }
    }
}

open_enum! {
    /// Messenger's share button setting (`webview_share_button`).
    pub enum WebviewShareButton {
        /// Hide the share button.
        Hide = "hide",
    }
}
