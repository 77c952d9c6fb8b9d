//! The conversation triggers: concrete values of each fixture, and the round trip.

use crate::common::{assert_round_trip, ms, parse};
use smooch_events::v1::{Platform, ReferralSource, ReferralType};
use smooch_events::Event;

#[test]
fn conversation_read() {
    let name = "conversation_read.json";
    let event = parse(name);
    let Event::ConversationRead(read) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.trigger(), "conversation:read");
    assert_eq!(event.app_id(), Some("57ec2881c47d2d24b0c16427"));
    assert_eq!(read.source.as_ref().unwrap().kind, Some(Platform::Messenger));
    // The truncated appUser: only `_id`.
    assert_eq!(read.app_user.id, "7685787bf0e9e8cf56182288");
    assert_eq!(read.app_user.user_id, None);
    assert!(read.app_user.clients().is_empty());
    assert_eq!(ms(read.envelope.timestamp), 1480349392103);
    assert!(read.envelope.extra.is_empty());
    assert_round_trip(name, &event);
}

#[test]
fn conversation_start() {
    let name = "conversation_start.json";
    let event = parse(name);
    let Event::ConversationStart(start) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("57ec2881c47d2d24b0c16427"));
    assert_eq!(start.source.as_ref().unwrap().kind, Some(Platform::Messenger));
    assert_eq!(ms(start.envelope.timestamp), 1480349392103);
    assert_eq!(start.referral, None);
    let user = &start.app_user;
    assert_eq!(user.id, "c7f6e6d6c3a637261bd9656f");
    assert_eq!(user.user_id.as_deref(), Some("bob@example.com"));
    assert_eq!(user.properties.as_ref().map(|p| p.len()), Some(0));
    assert_eq!(ms(user.signed_up_at.as_ref()), 1444102682346);
    let [client] = user.clients() else {
        panic!("{:?}", user.clients)
    };
    assert_eq!(client.id.as_deref(), Some("5A7F8343-DF41-46A8-96EC-8583FCB422FB"));
    assert_eq!(client.platform, Some(Platform::Messenger));
    assert_eq!(client.active, Some(true));
    assert_eq!(ms(client.last_seen.as_ref()), 1457550541431);
    assert_round_trip(name, &event);
}

#[test]
fn conversation_referral() {
    let name = "conversation_referral.json";
    let event = parse(name);
    let Event::ConversationReferral(referral) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("589b7811d626a6d76d6b8555"));
    assert_eq!(referral.source.as_ref().unwrap().kind, Some(Platform::Messenger));
    assert_eq!(referral.app_user.id, "4a5f73a36a7b818c2643296f");
    assert_eq!(ms(referral.envelope.timestamp), 1495650348685);
    assert_eq!(
        referral.referral.as_ref().unwrap().code.as_deref(),
        Some("my-ref-code")
    );
    let details = referral.referral.as_ref().unwrap().details.as_ref().unwrap();
    assert_eq!(details.source, Some(ReferralSource::MessengerCode));
    assert_eq!(details.kind, Some(ReferralType::OpenThread));
    assert_eq!(details.ad_id(), None);
    assert_round_trip(name, &event);
}

#[test]
fn conversation_start_with_a_messenger_ad_referral() {
    let name = "written/conversation_start_messenger_referral_ad.json";
    let event = parse(name);
    let Event::ConversationStart(start) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event.app_id(), Some("57ec2881c47d2d24b0c16427"));
    assert_eq!(start.app_user.id, "c7f6e6d6c3a637261bd9656f");
    assert_eq!(ms(start.envelope.timestamp), 1496853456207);
    let referral = start.referral.as_ref().unwrap();
    assert_eq!(referral.code.as_deref(), Some("spring-sale"));
    let details = referral.details.as_ref().unwrap();
    assert_eq!(details.source, Some(ReferralSource::Ads));
    assert_eq!(details.kind, Some(ReferralType::OpenThread));
    assert_eq!(details.ad_id_camel.as_deref(), Some("6045246247433"));
    assert_eq!(details.ad_id(), Some("6045246247433"));
    assert_round_trip(name, &event);
}

#[test]
fn conversation_start_on_wechat_with_only_a_referral_code() {
    let name = "written/conversation_start_wechat_referral_code_only.json";
    let event = parse(name);
    let Event::ConversationStart(start) = &event else {
        panic!("{event:?}")
    };
    let source = start.source.as_ref().unwrap();
    assert_eq!(source.kind, Some(Platform::Wechat));
    assert_eq!(source.id.as_deref(), Some("6371429146171906769"));
    // An integer timestamp.
    assert_eq!(ms(start.envelope.timestamp), 1483463951000);
    let referral = start.referral.as_ref().unwrap();
    assert_eq!(referral.code.as_deref(), Some("qrscene_store-42"));
    assert_eq!(referral.details, None);
    let user = &start.app_user;
    assert_eq!(user.given_name.as_deref(), Some("Anastasi"));
    let [client] = user.clients() else { panic!() };
    assert_eq!(client.platform, Some(Platform::Wechat));
    assert_eq!(ms(client.last_seen.as_ref()), 1483463951898);
    // `info` holds numbers as well as strings.
    let info = client.info.as_ref().unwrap();
    assert_eq!(info["sex"], 1);
    assert_eq!(info["subscribe_time"], 1471437378);
    assert_round_trip(name, &event);
}

#[test]
fn conversation_referral_with_the_later_ad_id_spelling() {
    let name = "written/conversation_referral_ads_ad_id.json";
    let event = parse(name);
    let Event::ConversationReferral(referral) = &event else {
        panic!("{event:?}")
    };
    let details = referral.referral.as_ref().unwrap().details.as_ref().unwrap();
    assert_eq!(
        referral.referral.as_ref().unwrap().code.as_deref(),
        Some("sunshine")
    );
    assert_eq!(details.source, Some(ReferralSource::Ads));
    assert_eq!(details.ad_id_camel, None);
    assert_eq!(details.ad_id_snake.as_deref(), Some("6045246247433"));
    assert_eq!(details.ad_id(), Some("6045246247433"));
    // A 7-digit fraction keeps its digits down to the nanosecond, and comes back the same.
    let timestamp = referral.envelope.timestamp.unwrap();
    assert_eq!(timestamp.timestamp(), 1722790093);
    assert_eq!(timestamp.timestamp_subsec_nanos(), 461_789_100);
    assert_round_trip(name, &event);
}

#[test]
fn conversation_referral_with_the_schema_tables_open_thread_spelling() {
    let name = "written/conversation_referral_open_thread_dashed.json";
    let event = parse(name);
    let Event::ConversationReferral(referral) = &event else {
        panic!("{event:?}")
    };
    let details = referral.referral.as_ref().unwrap().details.as_ref().unwrap();
    assert_eq!(details.source, Some(ReferralSource::Shortlink));
    assert_eq!(details.kind, Some(ReferralType::OpenThreadDashed));
    assert!(details.kind.as_ref().unwrap().is_open_thread());
    assert_eq!(details.kind.as_ref().unwrap().as_str(), "OPEN-THREAD");
    assert_eq!(ms(referral.envelope.timestamp), 1495650348685);
    assert_round_trip(name, &event);
}

#[test]
fn pre_2016_12_conversation_read_keeps_its_channel_string() {
    let name = "historical/conversation_read_pre-seed-2016-11-28-fcd035e2.json";
    let event = parse(name);
    let Event::ConversationRead(read) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(read.source, None);
    assert_eq!(read.envelope.extra["channel"], "messenger");
    assert_eq!(read.app_user.id, "7685787bf0e9e8cf56182288");
    assert_round_trip(name, &event);
}
