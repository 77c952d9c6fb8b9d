//! Every channel value the v2 spec names is a named variant, in every place a body names a
//! channel: `source.type`, `destination.type`, `client.type` and `integrationType`
//! (`ChannelType`). `as_str` gives each value back, and a body round-trips.

use crate::common::parse_v2_json;
use serde_json::{json, Value};
use smooch_events::v2::{ChannelType, Event};

/// The values the v2 spec names, by the place that names them (`../shared/v2/SPEC.md`, sections in
/// brackets).
const V2_NAMED: &[(&str, &[&str])] = &[
    (
        "S.clientType, client.type [§9]",
        &[
            "apple",
            "gbm",
            "googlercs",
            "instagram",
            "kakao",
            "line",
            "mailgun",
            "messagebird",
            "messenger",
            "slackconnect",
            "sdk",
            "telegram",
            "twilio",
            "twitter",
            "viber",
            "wechat",
            "whatsapp",
        ],
    ),
    (
        "S.integration, the integration types [§5, §15.3.12]",
        &[
            "android",
            "apple",
            "custom",
            "instagram",
            "ios",
            "line",
            "mailgun",
            "messagebird",
            "messenger",
            "telegram",
            "twilio",
            "twitter",
            "unity",
            "viber",
            "web",
            "whatsapp",
        ],
    ),
    (
        "destination.type, prose and examples [§10]",
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
            "api",
            "notification",
        ],
    ),
    (
        "source.type, prose and examples [§5.10, §10]",
        &[
            "api",
            "sdk",
            "messenger",
            "web",
            "telegram",
            "ios",
            "api:conversations",
        ],
    ),
    (
        "integrationType of a switchboard integration [§5.2, §10]",
        &["custom", "zd:agentWorkspace"],
    ),
];

/// A v2 body naming `channel` in each of the four places.
fn v2_body(channel: &str) -> Value {
    json!({"events": [
        {"id": "e1", "type": "conversation:message", "payload": {
            "conversation": {"id": "c", "activeSwitchboardIntegration": {"id": "s", "integrationType": channel}},
            "message": {"id": "m", "author": {"type": "user"}, "content": {"type": "text", "text": "hi"},
                        "source": {"type": channel}}}},
        {"id": "e2", "type": "conversation:message:delivery:channel", "payload": {
            "message": {"id": "m"}, "destination": {"type": channel}}},
        {"id": "e3", "type": "client:add", "payload": {"client": {"id": "k", "type": channel}}}
    ]})
}

/// The channel of each of the four places, in the order of [`v2_body`].
fn v2_places(events: &[Event]) -> [Option<ChannelType>; 4] {
    let Event::ClientAdd(add) = &events[2] else {
        panic!("{:?}", events[2])
    };
    let client = add.payload().client.as_ref().unwrap();
    let conversation = events[0].conversation().unwrap();
    let integration = conversation.active_switchboard_integration.as_ref().unwrap();
    [
        events[0].message().unwrap().channel(),
        events[1].delivery().unwrap().channel(),
        client.kind.clone(),
        integration.integration_type.clone(),
    ]
}

#[test]
fn every_channel_the_spec_names_is_a_named_variant_in_each_place() {
    let mut named = 0;
    for (place, values) in V2_NAMED {
        for value in *values {
            let body = v2_body(value);
            let events = parse_v2_json(&body).events;
            for (n, channel) in v2_places(&events).into_iter().enumerate() {
                let channel = channel.unwrap_or_else(|| panic!("{value} ({place}): place {n} is empty"));
                assert!(
                    !matches!(channel, ChannelType::Other(_)),
                    "{value} ({place}) is Other in place {n}"
                );
                assert_eq!(channel.as_str(), *value);
                assert!(ChannelType::KNOWN.contains(&channel));
            }
            named += 1;
        }
    }
    assert_eq!(named, 53);
    // Every named variant is a value the spec names: none was invented.
    for channel in ChannelType::KNOWN {
        assert!(
            V2_NAMED
                .iter()
                .any(|(_, values)| values.contains(&channel.as_str())),
            "{channel} is not named by the spec"
        );
    }
    assert_eq!(ChannelType::KNOWN.len(), 26);
}

#[test]
fn a_channel_the_spec_does_not_name_is_kept_in_other() {
    let events = parse_v2_json(&v2_body("myspace")).events;
    for channel in v2_places(&events) {
        let channel = channel.unwrap();
        assert!(
            matches!(&channel, ChannelType::Other(value) if value == "myspace"),
            "{channel:?}"
        );
        assert_eq!(channel.as_str(), "myspace");
    }
}
