//! Where an event or a message came from, and where a message went.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::object::object;
use crate::de::time::IsoTime;
use crate::v2::types::channel::ChannelType;
use crate::v2::types::client::Client;
use crate::v2::types::device::Device;

object! {
    /// Where an event or a message came from: the spec's three source schemas in one type.
    ///
    /// - `S.sourceWebhook` (client events, `user:update`, activities): nothing required.
    /// - `S.sourceWithCampaignWebhook` (`conversation:create`, `:postback`, `:referral`): the
    ///   same, with a `campaign`.
    /// - A message's source (`S.source`, with a `campaign` on webhook messages): `type` is
    ///   required, so validation reports it missing there.
    ///
    /// `client` and `device` arrive only when the webhook was created with `includeFullSource`.
    pub struct Source {
        expecting: "a source object",
        optional {
            /// The channel: `api`, `sdk`, `messenger`, `web`, `telegram`, … (a free string in the
            /// spec; unknown ones are kept in [`ChannelType::Other`]).
            kind: ChannelType = "type",
            /// The integration the event or message came from.
            integration_id: CompactString = "integrationId",
            /// The channel's own id of the message (`"374"` on Telegram).
            original_message_id: CompactString = "originalMessageId",
            /// When the channel received the message.
            original_message_timestamp: IsoTime = "originalMessageTimestamp",
            /// The client the user acted from (`includeFullSource`). Boxed: rarely sent.
            client: Box<Client> = "client",
            /// The device the user acted from (`includeFullSource`). Boxed: rarely sent.
            device: Box<Device> = "device",
            /// The campaign the user interacted with.
            campaign: Campaign = "campaign",
        }
    }
}

object! {
    /// The campaign a user interacted with (`S.campaign`).
    pub struct Campaign {
        expecting: "a campaign object",
        usual {
            /// The campaign's id.
            id: CompactString = "id" as Id,
        }
    }
}
