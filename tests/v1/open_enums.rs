//! Every open enum: each known value agrees across `as_str`, `Display`, `FromStr` and serde, and
//! an unknown value is kept.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;
use smooch_events::v1::{
    ActionState, ActionType, ActivityType, ClientStatus, ItemSize, MessageType, Platform, ReferralSource,
    ReferralType, Role,
};

fn check<T>(known: &[T], as_str: fn(&T) -> &str, other: fn(&T) -> Option<&str>)
where
    T: Debug
        + Display
        + PartialEq
        + FromStr<Err = std::convert::Infallible>
        + From<String>
        + Serialize
        + DeserializeOwned,
{
    assert!(!known.is_empty());
    for value in known {
        let text = as_str(value);
        assert_eq!(value.to_string(), text);
        assert_eq!(&text.parse::<T>().unwrap(), value);
        assert_eq!(serde_json::to_value(value).unwrap(), text);
        assert_eq!(&serde_json::from_value::<T>(text.into()).unwrap(), value);
        // A known spelling always gives its own variant, never `Other`: the two cannot differ.
        assert_eq!(&T::from(text.to_owned()), value);
        assert_eq!(other(value), None, "{text} is known, so it is not `Other`");
    }
    let mut texts: Vec<&str> = known.iter().map(as_str).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), known.len(), "two variants share a spelling");

    let new = "somethingNew";
    let parsed: T = serde_json::from_value(new.into()).unwrap();
    assert_eq!(other(&parsed), Some(new));
    assert_eq!(parsed, T::from(new.to_owned()));
    assert_eq!(parsed.to_string(), new);
    assert_eq!(new.parse::<T>().unwrap(), parsed);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), new);
}

#[test]
fn every_known_value_round_trips_and_unknown_values_are_kept() {
    check(Platform::KNOWN, Platform::as_str, |v| match v {
        Platform::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(MessageType::KNOWN, MessageType::as_str, |v| match v {
        MessageType::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(Role::KNOWN, Role::as_str, |v| match v {
        Role::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ActionType::KNOWN, ActionType::as_str, |v| match v {
        ActionType::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ActionState::KNOWN, ActionState::as_str, |v| match v {
        ActionState::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ItemSize::KNOWN, ItemSize::as_str, |v| match v {
        ItemSize::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ClientStatus::KNOWN, ClientStatus::as_str, |v| match v {
        ClientStatus::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ReferralSource::KNOWN, ReferralSource::as_str, |v| match v {
        ReferralSource::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ReferralType::KNOWN, ReferralType::as_str, |v| match v {
        ReferralType::Other(o) => Some(o.as_str()),
        _ => None,
    });
    check(ActivityType::KNOWN, ActivityType::as_str, |v| match v {
        ActivityType::Other(o) => Some(o.as_str()),
        _ => None,
    });
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
