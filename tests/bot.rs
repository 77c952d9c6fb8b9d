//! The bot of `examples/bot.rs`, its handling code run on every fixture, v1 and v2: whom it
//! answers and with what, what it logs, what it ignores and what it drops as already handled.

mod common;

#[path = "../examples/bot/handler.rs"]
mod handler;

use common::{fixture, v1_bodies, v2_example, v2_fixtures};
use handler::{line, Action, Bot};
use smooch_events::parse_webhook;
use smooch_events::v2::ChannelType;

/// What `bot` does with a fixture, one line per step, as the example prints it.
fn run(bot: &mut Bot, name: &str) -> Vec<String> {
    let webhook = parse_webhook(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    bot.handle(&webhook).iter().map(|step| line(name, step)).collect()
}

/// What a bot that has seen nothing else does with a fixture.
fn fresh(name: &str) -> Vec<String> {
    run(&mut Bot::default(), name)
}

/// What a fresh bot does with a body of one step.
fn handle_only(body: &str) -> Action {
    let webhook = parse_webhook(body.as_bytes()).unwrap();
    let [step] = <[_; 1]>::try_from(Bot::default().handle(&webhook)).unwrap();
    step.action
}

/// The channels of `ChannelType` that no user writes on: the API and the Notification API, the
/// business's own integrations, `sdk` (a client type: an SDK user's messages name `web`, `ios`,
/// `android` or `unity`).
const NOT_A_USER_CHANNEL: [ChannelType; 6] = [
    ChannelType::Api,
    ChannelType::ApiConversations,
    ChannelType::Custom,
    ChannelType::Notification,
    ChannelType::Sdk,
    ChannelType::ZdAgentWorkspace,
];

#[test]
fn the_bot_answers_a_user_on_every_channel() {
    let expected = [
        (
            "android",
            r#"6601a0c0e1f2d300aa000001 on android: "You said: Hello from Android""#,
        ),
        (
            "apple",
            r#"6601a0c0e1f2d300aa000002 on apple: "You said: Is my order ready?""#,
        ),
        (
            "gbm",
            r#"6601a0c0e1f2d300aa000003 on gbm: "You chose TRACK_ORDER.""#,
        ),
        (
            "googlercs",
            r#"6601a0c0e1f2d300aa000004 on googlercs: "You chose CONFIRM_YES.""#,
        ),
        (
            "instagram",
            r#"6601a0c0e1f2d300aa000005 on instagram: "Thanks, I got https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/conversations/instagram/story-reply.jpg""#,
        ),
        (
            "ios",
            r#"6601a0c0e1f2d300aa000006 on ios: "You said: Hello from iOS""#,
        ),
        (
            "kakao",
            r#"6601a0c0e1f2d300aa000007 on kakao: "You said: 안녕하세요""#,
        ),
        (
            "line",
            r#"6601a0c0e1f2d300aa000008 on line: "You are at 35.6812, 139.7671 (Tokyo Station).""#,
        ),
        (
            "mailgun",
            r#"6601a0c0e1f2d300aa000009 on mailgun: "Thanks, I got https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/attachments/invoice-1042.pdf""#,
        ),
        (
            "messagebird",
            r#"6601a0c0e1f2d300aa000010 on messagebird: "You said: When do you open on Sunday?""#,
        ),
        (
            "messenger",
            r#"6601a0c0e1f2d300aa000011 on messenger: "You chose YES_PLEASE.""#,
        ),
        (
            "slackconnect",
            r#"6601a0c0e1f2d300aa000012 on slackconnect: "You said: Can someone look at ticket 4821?""#,
        ),
        (
            "telegram",
            r#"6601a0c0e1f2d300aa000013 on telegram: "You said: /start""#,
        ),
        (
            "twilio",
            r#"6601a0c0e1f2d300aa000014 on twilio: "Thanks, I got https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM00000000000000000000000000000000/Media/ME00000000000000000000000000000000""#,
        ),
        (
            "twitter",
            r#"6601a0c0e1f2d300aa000015 on twitter: "You said: Is the sale still on?""#,
        ),
        (
            "unity",
            r#"6601a0c0e1f2d300aa000016 on unity: "You said: Hello from Unity""#,
        ),
        (
            "viber",
            r#"6601a0c0e1f2d300aa000017 on viber: "Thanks, I got https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/conversations/viber/photo.jpg""#,
        ),
        (
            "web",
            r#"6601a0c0e1f2d300aa000018 on web: "I cannot read formResponse messages yet.""#,
        ),
        (
            "wechat",
            r#"6601a0c0e1f2d300aa000019 on wechat: "You said: 你好""#,
        ),
        (
            "whatsapp",
            r#"6601a0c0e1f2d300aa000020 on whatsapp: "Thanks, I got https://media.smooch.io/apps/5ebee0975ac5304b664a12fa/conversations/whatsapp/damaged-box.jpg""#,
        ),
    ];
    // One body per channel a user writes on, no more, no fewer.
    let user_channels: Vec<&str> = ChannelType::KNOWN
        .iter()
        .filter(|channel| !NOT_A_USER_CHANNEL.contains(channel))
        .map(ChannelType::as_str)
        .collect();
    let files: Vec<String> = v2_fixtures()
        .into_iter()
        .filter(|name| name.starts_with("v2/written/channels/"))
        .collect();
    assert_eq!(files.len(), user_channels.len(), "{files:?}");
    assert_eq!(expected.map(|(channel, _)| channel).to_vec(), user_channels);

    for (n, (channel, answer)) in expected.into_iter().enumerate() {
        let name = format!("v2/written/channels/{channel}.json");
        let n = n + 1;
        assert_eq!(
            fresh(&name),
            [format!(
                "{name}: conversation:message 6601a0c0e1f2d30012c000{n:02}: \
                 reply in 6601a0c0e1f2d300cc0000{n:02} to {answer}"
            )]
        );
    }
}

#[test]
fn the_bot_handles_every_documented_v2_event_type() {
    let lines: Vec<String> = smooch_events::v2::Event::TYPES
        .iter()
        .flat_map(|kind| fresh(&v2_example(kind)))
        .map(|line| line.split_once(": ").unwrap().1.to_owned())
        .collect();
    let id = "5f74a0d52b5315fc007e798a";
    let conversation = "f52b01137aa6c250bc7251fa";
    assert_eq!(
        lines,
        [
            "client:add 61290a62c64b3af1ff868714: ignore: client:add".to_owned(),
            "client:remove 61290a6cc64b3af1ff868715: ignore: client:remove".to_owned(),
            "client:update 61290a62c64b3af1ff868714: ignore: client:update".to_owned(),
            format!("conversation:create {id}: ignore: conversation:create"),
            format!("conversation:join {id}: ignore: conversation:join"),
            format!("conversation:leave {id}: ignore: conversation:leave"),
            format!("conversation:remove {id}: ignore: conversation:remove"),
            format!(
                "conversation:message:delivery:channel {id}: ignore: conversation:message:delivery:channel"
            ),
            format!(
                "conversation:message:delivery:failure {id}: \
                 log: message 5f74be6256be263abf0ffd5f to twilio not delivered: uncategorized_error"
            ),
            format!("conversation:message:delivery:user {id}: ignore: conversation:message:delivery:user"),
            format!(
                "conversation:message {id}: reply in {conversation} to 26508c10541a4b0ff472e5e2 \
                 on telegram: \"You said: hello\""
            ),
            format!(
                "conversation:postback {id}: reply in {conversation} to 26508c10541a4b0ff472e5e2 \
                 on telegram: \"You chose Greet.\""
            ),
            format!("conversation:read {id}: ignore: conversation:read"),
            format!("conversation:referral {id}: ignore: conversation:referral"),
            format!("conversation:typing {id}: ignore: conversation:typing"),
            format!("switchboard:acceptControl {id}: log: bot accepted control of {conversation}"),
            format!(
                "switchboard:acceptControl:failure {id}: log: switchboard:acceptControl:failure in \
                 {conversation}: switchboard_invalid_action (There is no pendingSwitchboardIntegration)"
            ),
            format!("switchboard:offerControl {id}: log: bot offered control of {conversation} to human"),
            format!(
                "switchboard:offerControl:failure {id}: log: switchboard:offerControl:failure in \
                 {conversation}: switchboard_invalid_target (Cannot offer control to the active \
                 switchboard integration.)"
            ),
            format!("switchboard:passControl {id}: log: control of {conversation} passed to bot"),
            format!(
                "switchboard:passControl:failure {id}: log: switchboard:passControl:failure in \
                 {conversation}: switchboard_invalid_target (Switchboard invalid target)"
            ),
            format!("switchboard:releaseControl {id}: log: control of {conversation} released"),
            format!("user:merge {id}: ignore: user:merge"),
            format!("user:update {id}: ignore: user:update"),
            "user:remove 6748e3b2e176d554adbc1a4f: ignore: user:remove".to_owned(),
        ]
    );
}

#[test]
fn the_bot_answers_every_documented_v1_message_and_postback() {
    let user = "c7f6e6d6c3a637261bd9656f";
    let expected = [
        (
            "message_appUser_text.json",
            format!(
                "message:appUser 55c8c1498590aa1900b9b9b1: reply to {user} on messenger: \
                 \"You said: Hi! Do you have time to chat?\""
            ),
        ),
        (
            "message_appUser_image.json",
            format!(
                "message:appUser 55c8c1498590aa1900b9b9b1: reply to {user} on messenger: \
                 \"Thanks, I got http://www.tacobueno.com/media/1338/partytacolarge.png?quality=65\""
            ),
        ),
        (
            "message_appUser_location.json",
            format!(
                "message:appUser 5887c22356c66904009ad602: reply to {user} on messenger: \
                 \"You are at 45.5261583, -73.595346.\""
            ),
        ),
        (
            "postback.json",
            format!("postback (no id): reply to {user}: \"You chose YES.\""),
        ),
        (
            "message_appMaker_carousel.json",
            "message:appMaker 5887c9117e4de029005f1fc6: ignore: a business message".to_owned(),
        ),
        (
            "delivery_failure.json",
            "delivery:failure (no id): log: message 583708af8d449209ba217871 to line not delivered: \
             unauthorized"
                .to_owned(),
        ),
        (
            "written/message_delivery_failure.json",
            "message:delivery:failure (no id): log: message 5c3cbf1f0db8d0a2b4d4a11f to twilio not \
             delivered: uncategorized_error"
                .to_owned(),
        ),
        (
            "conversation_start.json",
            "conversation:start (no id): ignore: conversation:start".to_owned(),
        ),
    ];
    for (name, line) in expected {
        assert_eq!(fresh(name), [format!("{name}: {line}")]);
    }
}

#[test]
fn the_bot_answers_a_v1_1_message_in_its_conversation() {
    let name = "written/message_appUser_v1.1_trigger_last.json";
    assert_eq!(
        fresh(name),
        [format!(
            "{name}: message:appUser 5c3cbf1f0db8d0a2b4d4a11c: reply in d4a5c3a2b7e5bd5e2e5a8c1f to \
             c7f6e6d6c3a637261bd9656f on messenger: \
             \"Thanks, I got https://media.smooch.io/apps/5698edbf2a43bd081be982f1/photo.jpg\""
        )]
    );
}

#[test]
fn the_bot_drops_what_it_already_handled() {
    let mut bot = Bot::default();
    let name = "v2/conversation_message.json";
    assert!(matches!(&run(&mut bot, name)[..], [line] if line.contains("reply in")));
    // A retry: the same body again.
    assert_eq!(
        run(&mut bot, name),
        ["v2/conversation_message.json: conversation:message 5f74a0d52b5315fc007e798a: drop: already handled"]
    );
    // Another type with the same id (the spec's examples share one) is another event.
    assert!(
        matches!(&run(&mut bot, "v2/conversation_postback.json")[..], [line] if line.contains("reply in"))
    );
    // `nullable_null.json` holds the events of `nullable_absent.json`, ids included.
    let first = run(&mut bot, "v2/written/nullable_absent.json");
    assert_eq!(first.len(), 9);
    assert!(
        first.iter().all(|line| !line.ends_with("drop: already handled")),
        "{first:#?}"
    );
    let again = run(&mut bot, "v2/written/nullable_null.json");
    assert_eq!(again.len(), 9);
    assert!(
        again.iter().all(|line| line.ends_with("drop: already handled")),
        "{again:#?}"
    );
    // A v1 message again (by its trigger and `_id`; v1 has no event ids).
    let name = "message_appUser_text.json";
    assert!(matches!(&run(&mut bot, name)[..], [line] if line.contains("reply to")));
    assert_eq!(
        run(&mut bot, name),
        ["message_appUser_text.json: message:appUser 55c8c1498590aa1900b9b9b1: drop: already handled"]
    );
    // A v1 postback has no id at all: it is answered each time.
    for _ in 0..2 {
        assert!(matches!(&run(&mut bot, "postback.json")[..], [line] if line.contains("reply to")));
    }
}

#[test]
fn the_bot_stays_silent_where_another_integration_is_in_control() {
    let body = r#"{"events": [{"id": "6601a0c0e1f2d30012c000ff", "type": "conversation:message",
        "payload": {
            "conversation": {"id": "c", "activeSwitchboardIntegration": {"id": "s", "name": "human"}},
            "message": {"id": "m", "author": {"type": "user", "userId": "u"},
                        "content": {"type": "text", "text": "hello?"}}}}]}"#;
    assert_eq!(
        handle_only(body),
        Action::Ignore("human is in control".to_owned())
    );
    let postback = r#"{"events": [{"id": "6601a0c0e1f2d30012c000fe", "type": "conversation:postback",
        "payload": {
            "conversation": {"id": "c", "activeSwitchboardIntegration": {"id": "s", "name": "human"}},
            "postback": {"payload": "GREET"}}}]}"#;
    assert_eq!(
        handle_only(postback),
        Action::Ignore("human is in control".to_owned())
    );
}

#[test]
fn the_bot_answers_users_and_not_the_business() {
    // Nine messages, one per content type: the business wrote all but the location (6) and the
    // form response (8).
    let lines = fresh("v2/written/content_types.json");
    let actions: Vec<&str> = lines
        .iter()
        .map(|line| match line.split_once(": reply in ") {
            Some(_) => "reply",
            None => line
                .rsplit_once(": ignore: ")
                .map_or(line.as_str(), |(_, why)| why),
        })
        .collect();
    let business = "a business message";
    assert_eq!(
        actions,
        [business, business, business, business, business, "reply", business, "reply", business]
    );
    let business = r#"{"events": [{"id": "6601a0c0e1f2d30012c000fd", "type": "conversation:message",
        "payload": {"conversation": {"id": "c"},
            "message": {"id": "m", "author": {"type": "business"},
                        "content": {"type": "text", "text": "How can I help?"}}}}]}"#;
    assert_eq!(
        handle_only(business),
        Action::Ignore("a business message".to_owned())
    );
    // In v1, the role says it; a message without one is the trigger's.
    let v1 = r#"{"trigger": "message:appMaker", "appUser": {"_id": "u"},
        "messages": [{"_id": "m", "type": "text", "text": "How can I help?"}]}"#;
    assert_eq!(handle_only(v1), Action::Ignore("a business message".to_owned()));
    let whisper = r#"{"trigger": "message:appMaker", "appUser": {"_id": "u"},
        "messages": [{"_id": "m", "type": "text", "text": "a note", "role": "whisper"}]}"#;
    assert_eq!(
        handle_only(whisper),
        Action::Ignore("a business message".to_owned())
    );
}

#[test]
fn the_bot_logs_event_types_it_does_not_know() {
    // The messages first (what `Webhook::incoming` gives), then the other events, in order.
    let lines = fresh("v2/written/unknown_types.json");
    assert_eq!(
        lines[2..],
        [
            "v2/written/unknown_types.json: passthrough:messaging 65f2c2bd8a1e7c0012000001: \
             log: unknown event type \"passthrough:messaging\"",
            "v2/written/unknown_types.json: conversation:somethingNew 65f2c2bd8a1e7c0012000002: \
             log: unknown event type \"conversation:somethingNew\"",
        ]
    );
}

#[test]
fn every_fixture_gives_the_expected_transcript() {
    let expected = include_str!("bot_transcript.txt");
    let names = v1_bodies().into_iter().chain(v2_fixtures());
    let actual: Vec<String> = names.flat_map(|name| fresh(&name)).collect();
    let actual = actual.join("\n") + "\n";
    if actual != expected {
        let (expected, actual): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
        for (n, (want, got)) in expected.iter().zip(&actual).enumerate() {
            assert_eq!(got, want, "line {} of tests/bot_transcript.txt", n + 1);
        }
        panic!(
            "tests/bot_transcript.txt has {} lines, the bot wrote {}:\n{}",
            expected.len(),
            actual.len(),
            actual.join("\n")
        );
    }
}
