//! Feeds arbitrary bytes to `parse_webhook`, which reads v1 and v2 bodies. It must never panic,
//! an error must stay short whatever the body, whatever parses must validate without panicking
//! and serialize back to a body that parses to the same value, and on every body `parse_event`
//! takes, `parse_webhook` must give the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smooch_events::{ParseError, Webhook};

fuzz_target!(|bytes: &[u8]| {
    let any = smooch_events::parse_webhook(bytes);
    match (smooch_events::parse_event(bytes), &any) {
        (Ok(event), any) => assert_eq!(any, &Ok(Webhook::V1(event))),
        (Err(ParseError::V2Body), _) | (Err(ParseError::MissingTrigger), Err(ParseError::UnknownVersion)) => {}
        (Err(v1), any) => assert_eq!(any, &Err(v1)),
    }
    let webhook = match any {
        Ok(webhook) => webhook,
        Err(error) => {
            let shown = format!("{error} {error:?}");
            assert!(shown.len() < 1000, "{} bytes", shown.len());
            return;
        }
    };
    let _ = webhook.validate();
    let again = serde_json::to_vec(&webhook).expect("a body serializes");
    let back = smooch_events::parse_webhook(&again).expect("a serialized body parses");
    assert_eq!(back, webhook);
});
