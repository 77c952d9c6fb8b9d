//! Every open enum: each known value agrees across `as_str`, `Display`, `FromStr` and serde, and
//! an unknown value is kept.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;
use smooch_events::{
    ActionState, ActionType, ActivityType, ClientStatus, ItemSize, MessageType, Platform, ReferralSource,
    ReferralType, Role,
};

fn check<T>(known: &[T], as_str: fn(&T) -> &str, other: fn(String) -> T)
where
    T: Debug + Display + PartialEq + FromStr<Err = std::convert::Infallible> + Serialize + DeserializeOwned,
{
    assert!(!known.is_empty());
    for value in known {
        let text = as_str(value);
        assert_eq!(value.to_string(), text);
        assert_eq!(&text.parse::<T>().unwrap(), value);
        assert_eq!(serde_json::to_value(value).unwrap(), text);
        assert_eq!(&serde_json::from_value::<T>(text.into()).unwrap(), value);
        assert_ne!(
            value,
            &other(text.to_owned()),
            "{text} is known, so it is not `Other`"
        );
    }
    let mut texts: Vec<&str> = known.iter().map(as_str).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), known.len(), "two variants share a spelling");

    let new = "somethingNew";
    let parsed: T = serde_json::from_value(new.into()).unwrap();
    assert_eq!(parsed, other(new.to_owned()));
    assert_eq!(parsed.to_string(), new);
    assert_eq!(new.parse::<T>().unwrap(), parsed);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), new);
}

#[test]
fn every_known_value_round_trips_and_unknown_values_are_kept() {
    check(Platform::KNOWN, Platform::as_str, Platform::Other);
    check(MessageType::KNOWN, MessageType::as_str, MessageType::Other);
    check(Role::KNOWN, Role::as_str, Role::Other);
    check(ActionType::KNOWN, ActionType::as_str, ActionType::Other);
    check(ActionState::KNOWN, ActionState::as_str, ActionState::Other);
    check(ItemSize::KNOWN, ItemSize::as_str, ItemSize::Other);
    check(ClientStatus::KNOWN, ClientStatus::as_str, ClientStatus::Other);
    check(
        ReferralSource::KNOWN,
        ReferralSource::as_str,
        ReferralSource::Other,
    );
    check(ReferralType::KNOWN, ReferralType::as_str, ReferralType::Other);
    check(ActivityType::KNOWN, ActivityType::as_str, ActivityType::Other);
}

#[test]
fn documented_spellings() {
    assert_eq!(Platform::FrontendEmail.as_str(), "frontendEmail");
    assert_eq!(
        "other".parse::<Platform>().unwrap(),
        Platform::Other("other".into())
    );
    assert_eq!(ActionType::LocationRequest.as_str(), "locationRequest");
    assert_eq!(ReferralType::OpenThread.as_str(), "OPEN_THREAD");
    assert_eq!(ReferralType::OpenThreadDashed.as_str(), "OPEN-THREAD");
    assert!(ReferralType::OpenThreadDashed.is_open_thread());
    assert!(!ReferralType::Other("CLOSE_THREAD".into()).is_open_thread());
    assert_eq!(ActivityType::TypingStart.as_str(), "typing:start");
}
