//! The items of carousels and lists.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::v2::types::message::action::Action;
use compact_str::CompactString;

object! {
    /// An item of a carousel or list (`S.item`). The spec requires `title` and `actions` (1 to
    /// 3, of the buy, link, postback and webview types); validation reports them missing.
    pub struct Item {
        expecting: "an item object",
        expected {
            /// The item's title.
            title: CompactString = "title",
            /// The item's buttons.
            actions: Vec<Action> = "actions",
        }
        optional {
            /// The item's description.
            description: CompactString = "description",
            /// The URL of the item's image.
            media_url: CompactString = "mediaUrl",
            /// The MIME type of the image.
            media_type: CompactString = "mediaType",
            /// A description of the image (defaults to the file name).
            alt_text: CompactString = "altText",
            /// The size of the image.
            size: ItemSize = "size",
            /// Flat custom properties.
            metadata: JsonMap = "metadata",
        }
    }
}

open_enum! {
    /// The size of an item's image (`item.size`).
    pub enum ItemSize {
        /// Compact.
        Compact = "compact",
        /// Large.
        Large = "large",
    }
}
