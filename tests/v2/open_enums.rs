//! Every v2 open enum: each known value agrees across `as_str`, `Display`, `FromStr`, `From` and
//! serde, no spelling belongs to two variants, and an unknown value is kept (one test per enum);
//! no `open_enum!` of `src/v2` is left out.

use crate::common::open_enums::{assert_all_covered, open_enum_tests};
use smooch_events::v2::{
    ActivityType, AuthorSubtype, AuthorType, ChannelType, ClientAddReason, ClientRemoveReason, ClientStatus,
    ClientUpdateReason, ConversationType, CreationReason, DeviceStatus, DeviceType, EventType, FieldFormat,
    FieldType, ImageAspectRatio, ItemSize, MergeReason, ReferralSource, ReferralType, SwitchboardReason,
    UserUpdateReason, WebhookVersion, WebviewShareButton, WebviewSize,
};

open_enum_tests! {
    activity_type: ActivityType,
    author_subtype: AuthorSubtype,
    author_type: AuthorType,
    channel_type: ChannelType,
    client_add_reason: ClientAddReason,
    client_remove_reason: ClientRemoveReason,
    client_status: ClientStatus,
    client_update_reason: ClientUpdateReason,
    conversation_type: ConversationType,
    creation_reason: CreationReason,
    device_status: DeviceStatus,
    device_type: DeviceType,
    event_type: EventType,
    field_format: FieldFormat,
    field_type: FieldType,
    image_aspect_ratio: ImageAspectRatio,
    item_size: ItemSize,
    merge_reason: MergeReason,
    referral_source: ReferralSource,
    referral_type: ReferralType,
    switchboard_reason: SwitchboardReason,
    user_update_reason: UserUpdateReason,
    webhook_version: WebhookVersion,
    webview_share_button: WebviewShareButton,
    webview_size: WebviewSize,
}

#[test]
fn every_open_enum_of_src_v2_is_checked() {
    assert_all_covered("v2", COVERED);
}
