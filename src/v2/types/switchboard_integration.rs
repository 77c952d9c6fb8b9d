//! The switchboard integration in control of a conversation, or offered control.

use crate::de::codec::Id;
use crate::de::object::object;
use crate::v2::types::channel::ChannelType;
use compact_str::CompactString;

object! {
    /// A switchboard integration as webhooks show it (`S.switchboardIntegrationWebhook`): the
    /// `activeSwitchboardIntegration` and `pendingSwitchboardIntegration` of a conversation.
    pub struct SwitchboardIntegration {
        expecting: "a switchboard integration object",
        usual {
            /// The switchboard integration's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// Its name, unique in the switchboard: letters, digits, `-` and `_` (the examples
            /// use `bot` and `human`).
            name: CompactString = "name",
            /// The integration that receives the events the switchboard routes to it.
            integration_id: CompactString = "integrationId",
            /// The type of that integration: `custom` in the examples, `zd:agentWorkspace`, or an
            /// OAuth integration's client id (kept in [`ChannelType::Other`]).
            integration_type: ChannelType = "integrationType",
        }
    }
}
