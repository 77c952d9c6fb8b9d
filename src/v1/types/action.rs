//! Buttons of messages and items.

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v1::types::message::Metadata;
use compact_str::CompactString;

object! {
    /// A button of a message or of a carousel/list item: the docs' *action* schema.
    pub struct Action {
        expecting: "an action object",
        expected {
            /// The kind of action.
            kind: ActionType = "type",
        }
        optional {
            /// The action's id.
            id: CompactString = "_id" as Id,
            /// The button's text (`share` actions have none).
            text: CompactString = "text",
            /// The link target, or the checkout URL of a `buy` action (may be empty).
            uri: CompactString = "uri",
            /// The payload of a `postback` or `reply` action.
            payload: CompactString = "payload",
            /// The price of a `buy` action in hundredths of the currency unit (1000 = $10.00).
            amount: u64 = "amount",
            /// The currency of a `buy` action: ISO 4217, lowercase in the schema (`usd`),
            /// uppercase in the request docs.
            currency: CompactString = "currency",
            /// The state of a `buy` action.
            state: ActionState = "state",
            /// Whether a `link` is the default action of a Messenger item.
            default: bool = "default",
            /// Flat key/value data the app attached to the action.
            metadata: Metadata = "metadata",
            /// Channel-specific options, e.g. `{"messenger": {"webview_height_ratio": …}}`.
            extra_channel_options: JsonMap = "extraChannelOptions",
            /// The icon of a `reply` action.
            icon_url: CompactString = "iconUrl",
            /// The size of a `webview`: `compact`, `tall` or `full`.
            size: CompactString = "size",
            /// The URL a `webview` falls back to on channels without webviews.
            fallback: CompactString = "fallback",
        }
    }
}

open_enum! {
    /// The kind of an action (`action.type`).
    pub enum ActionType {
        /// Opens a URL.
        Link = "link",
        /// A quick reply.
        Reply = "reply",
        /// Sends a `postback` event when tapped.
        Postback = "postback",
        /// Shares the message (Messenger).
        Share = "share",
        /// Asks for the user's location (the S schema's name).
        Location = "location",
        /// Asks for the user's location (the later name).
        LocationRequest = "locationRequest",
        /// A payment; sends `payment:success` when paid.
        Buy = "buy",
        /// Opens a webview.
        Webview = "webview",
    }
}

open_enum! {
    /// The state of a `buy` action.
    pub enum ActionState {
        /// Not paid yet.
        Offered = "offered",
        /// Paid.
        Paid = "paid",
    }
}
