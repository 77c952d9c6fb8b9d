//! Every v1 open enum: each known value agrees across `as_str`, `Display`, `FromStr`, `From` and
//! serde, no spelling belongs to two variants, and an unknown value is kept (one test per enum);
//! no `open_enum!` of `src/v1` is left out.

use crate::common::open_enums::{assert_all_covered, open_enum_tests};
use smooch_events::v1::{
    ActionState, ActionType, ActivityType, ClientStatus, ItemSize, MessageType, Platform, ReferralSource,
    ReferralType, Role,
};

open_enum_tests! {
    action_state: ActionState,
    action_type: ActionType,
    activity_type: ActivityType,
    client_status: ClientStatus,
    item_size: ItemSize,
    message_type: MessageType,
    platform: Platform,
    referral_source: ReferralSource,
    referral_type: ReferralType,
    role: Role,
}

#[test]
fn every_open_enum_of_src_v1_is_checked() {
    assert_all_covered("v1", COVERED);
}

#[test]
fn documented_spellings() {
    assert_eq!(Platform::FrontendEmail.as_str(), "frontendEmail");
    // The docs' catch-all platform has its own variant; `Other` keeps values the docs do not name.
    assert_eq!("other".parse::<Platform>().unwrap(), Platform::OtherPlatform);
    let unnamed = "myspace".parse::<Platform>().unwrap();
    assert!(
        matches!(&unnamed, Platform::Other(value) if value == "myspace"),
        "{unnamed:?}"
    );
    assert_eq!(ActionType::LocationRequest.as_str(), "locationRequest");
    assert_eq!(ReferralType::OpenThread.as_str(), "OPEN_THREAD");
    assert_eq!(ReferralType::OpenThreadDashed.as_str(), "OPEN-THREAD");
    assert!(ReferralType::OpenThreadDashed.is_open_thread());
    assert!(!ReferralType::from("CLOSE_THREAD").is_open_thread());
    assert_eq!(ActivityType::TypingStart.as_str(), "typing:start");
}
