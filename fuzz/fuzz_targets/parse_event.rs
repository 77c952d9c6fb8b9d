//! Feeds arbitrary bytes to `parse_event`. It must never panic, an error must stay short whatever
//! the body, and whatever parses must validate without panicking and serialize back to a body that
//! parses to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let event = match smooch_events::parse_event(bytes) {
        Ok(event) => event,
        Err(error) => {
            let shown = format!("{error} {error:?}");
            assert!(shown.len() < 1000, "{} bytes", shown.len());
            return;
        }
    };
    let _ = event.validate();
    let again = serde_json::to_vec(&event).expect("an event serializes");
    let back = smooch_events::parse_event(&again).expect("a serialized event parses");
    assert_eq!(back, event);
});
