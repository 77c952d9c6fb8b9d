//! Every platform value the v1 docs name is a named variant, in every place a body names a
//! channel: `source.type`, `destination.type`, `destination.integrationType`, `client.platform`
//! and a link's `channel` (`Platform`). `as_str` gives each value back, and a body round-trips.

use crate::common::parse_v1_json;
use serde_json::json;
use smooch_events::v1::Platform;

/// The values the v1 docs name (`../shared/SPEC.md` §4.5, §5).
const V1_NAMED: &[(&str, &[&str])] = &[
    (
        "client platforms [§5]",
        &[
            "web",
            "ios",
            "android",
            "messenger",
            "viber",
            "telegram",
            "wechat",
            "line",
            "twilio",
            "frontendEmail",
            "other",
        ],
    ),
    ("raw-info sections [§5]", &["twitter", "messagebird", "mailgun"]),
    ("SDK integration types [§5]", &["whatsapp", "apn", "fcm", "api"]),
    (
        "source/destination types and business systems [§4.5, §5]",
        &["api", "slack", "helpscout", "zendesk"],
    ),
];

#[test]
fn every_platform_the_v1_docs_name_is_a_named_variant_in_each_place() {
    let mut named = 0;
    for (place, values) in V1_NAMED {
        for value in *values {
            let message = json!({
                "trigger": "message:appUser",
                "appUser": {"_id": "a", "clients": [{"platform": value}]},
                "messages": [{"_id": "m", "type": "text", "text": "hi", "source": {"type": value}}],
                "destination": {"type": value, "integrationType": value}
            });
            let link = json!({"trigger": "link:success", "appUser": {"_id": "a"}, "channel": value});
            let (message_event, link_event) = (parse_v1_json(&message), parse_v1_json(&link));
            let smooch_events::Event::LinkSuccess(link) = &link_event else {
                panic!("{link_event:?}")
            };
            let destination = message_event.envelope().unwrap().destination.as_ref().unwrap();
            let places = [
                message_event.messages()[0].channel(),
                message_event.channel(),
                destination.kind.clone(),
                destination.integration_type.clone(),
                message_event.app_user().unwrap().clients()[0].platform.clone(),
                link.channel.clone(),
            ];
            for (n, platform) in places.into_iter().enumerate() {
                let platform = platform.unwrap_or_else(|| panic!("{value} ({place}): place {n} is empty"));
                assert!(
                    !matches!(platform, Platform::Other(_)),
                    "{value} ({place}) is Other in place {n}"
                );
                assert_eq!(platform.as_str(), *value);
            }
            named += 1;
        }
    }
    assert_eq!(named, 22);
    for platform in Platform::KNOWN {
        assert!(
            V1_NAMED
                .iter()
                .any(|(_, values)| values.contains(&platform.as_str())),
            "{platform} is not named by the docs"
        );
    }
    assert_eq!(Platform::KNOWN.len(), 21);
}
