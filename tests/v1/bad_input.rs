//! The bad-input catalogue: whatever bytes arrive, `parse_event` answers with a value or a classified
//! error whose message says what is wrong, short whatever the body, and never panics. (Bodies that
//! are odd but still events are in `tolerance.rs`: they parse.) One test per kind of bad input.

use crate::common::refusals::{assert_prefixes_cut_short, cut, refused};
use crate::common::{all_fixtures, fixture};
use serde_json::{json, Value};
use smooch_events::{parse_event, Event, ParseError};

fn assert_invalid_json(body: &[u8], line: usize, column: usize, message: &str) {
    let error = refused(body);
    match &error {
        ParseError::InvalidJson {
            line: l,
            column: c,
            message: m,
            ..
        } => {
            assert_eq!((*l, *c, m.as_str()), (line, column, message), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

fn assert_malformed(body: &[u8], trigger: &str, path: &str, message: &str) {
    let error = refused(body);
    match &error {
        ParseError::Malformed {
            trigger: t,
            path: p,
            message: m,
            ..
        } => {
            assert_eq!(
                (t.as_str(), p.as_str(), m.as_str()),
                (trigger, path, message),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    };
    assert_eq!(error.to_string(), format!("{trigger}: {prefix}{message}"));
}

/// A `conversation:read` body with `timestamp` set to the given JSON text.
fn read_with_timestamp(timestamp: &str) -> Vec<u8> {
    format!(r#"{{"trigger":"conversation:read","appUser":{{"_id":"u"}},"timestamp":{timestamp}}}"#)
        .into_bytes()
}

#[test]
fn empty_and_blank_bodies() {
    assert_invalid_json(b"", 1, 0, "EOF while parsing a value");
    assert_invalid_json(b"  \n\t ", 2, 2, "EOF while parsing a value");
    assert_eq!(
        refused(b"").to_string(),
        "invalid JSON at line 1, column 0: EOF while parsing a value"
    );
}

#[test]
fn bodies_that_are_not_objects() {
    for (body, found) in [
        (&b"null"[..], "null"),
        (b"true", "a boolean"),
        (b"42", "a number"),
        (b"\"conversation:read\"", "a string"),
        (b"[{\"trigger\":\"conversation:read\"}]", "an array"),
    ] {
        let error = refused(body);
        assert!(
            matches!(error, ParseError::NotAnObject { found: f } if f == found),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("the body is {found}, not a JSON object")
        );
    }
}

#[test]
fn a_body_without_trigger_is_refused_as_missing_trigger() {
    let error = refused(br#"{"app":{"_id":"a"}}"#);
    assert!(matches!(error, ParseError::MissingTrigger));
    assert_eq!(error.to_string(), "the body has no `trigger`");
}

#[test]
fn a_trigger_that_is_not_a_string_is_refused_naming_what_it_is() {
    for (trigger, found) in [
        ("null", "null"),
        ("7", "a number"),
        ("[]", "an array"),
        ("{}", "an object"),
    ] {
        let error = refused(format!(r#"{{"trigger":{trigger}}}"#).as_bytes());
        assert!(
            matches!(error, ParseError::TriggerNotString { found: f } if f == found),
            "{error:?}"
        );
        assert_eq!(error.to_string(), format!("`trigger` is {found}, not a string"));
    }
}

#[test]
fn invalid_utf8_is_refused_where_it_stands() {
    assert_invalid_json(
        b"{\"trigger\":\"conversation:read\",\"appUser\":{\"_id\":\"\xff\"}}",
        1,
        50,
        "invalid unicode code point",
    );
}

#[test]
fn a_byte_order_mark_is_refused_by_name() {
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(fixture("conversation_read.json"));
    assert_invalid_json(
        &with_bom,
        1,
        1,
        "a byte-order mark before the JSON (JSON bodies must not start with one)",
    );
}

#[test]
fn every_prefix_of_every_fixture_is_refused_as_cut_short() {
    let mut checked = 0;
    for name in all_fixtures() {
        checked += assert_prefixes_cut_short(&name, &fixture(&name), 1, |b| parse_event(b).map(drop));
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn ten_thousand_nested_arrays_are_refused_at_the_recursion_limit() {
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_invalid_json(deep_array.as_bytes(), 1, 128, "recursion limit exceeded");
}

#[test]
fn ten_thousand_nested_objects_in_a_body_are_refused_without_overflowing_the_stack() {
    // Deep inside a modelled trigger, an unknown key, and an unmodelled trigger.
    for head in [
        r#"{"trigger":"conversation:read","x":"#,
        r#"{"trigger":"client:add","x":"#,
    ] {
        let body = format!("{head}{}1{}}}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        let error = refused(body.as_bytes());
        assert!(
            matches!(&error, ParseError::InvalidJson { message, .. } if message == "recursion limit exceeded"),
            "{error:?}"
        );
    }
}

#[test]
fn a_number_past_f64_is_invalid_json() {
    assert_invalid_json(&read_with_timestamp("1e400"), 1, 70, "number out of range");
}

#[test]
fn an_integer_past_u64_in_a_free_form_map_is_kept_as_a_float() {
    // A huge integer in a free-form map is kept (as a float, since it is past u64).
    let event = parse_event(br#"{"trigger":"client:add","n":18446744073709551616}"#).unwrap();
    let Event::Unknown(unknown) = event else { panic!() };
    assert_eq!(unknown.body["n"].as_f64(), Some(18446744073709551616.0));
}

#[test]
fn exponent_and_integer_timestamps_are_exact() {
    for (text, millis) in [
        ("1.480349392103e9", 1480349392103),
        ("1480349392", 1480349392000),
        ("1480349392.0", 1480349392000),
    ] {
        let event = parse_event(&read_with_timestamp(text)).unwrap();
        assert_eq!(event.created_at().unwrap().timestamp_millis(), millis, "{text}");
    }
}

#[test]
fn nan_like_text_is_not_json() {
    for (text, column, message) in [
        ("NaN", 66, "expected value"),
        ("nan", 67, "expected ident"),
        ("Infinity", 66, "expected value"),
        ("-Infinity", 67, "invalid number"),
    ] {
        assert_invalid_json(&read_with_timestamp(text), 1, column, message);
    }
}

#[test]
fn a_ten_mib_string_in_an_unknown_or_misfit_key_is_kept() {
    let big = "x".repeat(10 << 20);
    // In an unknown key, and where it does not fit its field: kept.
    for key in ["note", "timestamp"] {
        let body = format!(r#"{{"trigger":"conversation:read","appUser":{{"_id":"u"}},"{key}":"{big}"}}"#);
        let Event::ConversationRead(read) = parse_event(body.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(read.envelope.extra[key].as_str().map(str::len), Some(10 << 20));
    }
}

#[test]
fn a_ten_mib_string_where_it_identifies_the_event_is_refused_and_never_printed_whole() {
    let big = "x".repeat(10 << 20);
    // Where it identifies the event: refused, and the message quotes it cut short.
    let body = format!(r#"{{"trigger":"conversation:read","appUser":"{big}"}}"#);
    let error = refused(body.as_bytes());
    assert_eq!(error.path(), Some("appUser"));
    let shown = error.to_string();
    assert!(shown.len() < 300, "{} bytes", shown.len());
    assert!(
        shown.starts_with("conversation:read: appUser: expected an appUser object, found the string \"xxx"),
        "{shown}"
    );
    assert!(shown.contains('…'), "{shown}");
}

#[test]
fn errors_stay_short_whatever_the_body() {
    let huge = "k".repeat(1 << 20);
    let deep_path: String = (0..100)
        .map(|i| format!(r#"{{"k{i}{huge_key}":"#, huge_key = &huge[..100]))
        .collect();
    for body in [
        // A duplicate key of a MiB, at the top and deep down.
        format!(r#"{{"trigger":"client:add","{huge}":1,"{huge}":2}}"#),
        format!(r#"{{"trigger":"client:add","x":{{"{huge}":1,"{huge}":2}}}}"#),
        // A duplicate key at the end of a long path of long keys.
        format!(
            r#"{{"trigger":"client:add","x":{deep_path}{{"a":1,"a":2}}{}}}"#,
            "}".repeat(100)
        ),
        // A value that does not fit where the event is identified, and a huge trigger.
        format!(
            r#"{{"trigger":"message:appUser","appUser":{{"_id":"u"}},"messages":[{{"_id":["{huge}"]}}]}}"#
        ),
        format!(r#"{{"trigger":"conversation:read","appUser":{{"_id":"u"}},"{huge}":1,"{huge}":1}}"#),
        format!(r#"{{"{huge}":1}}"#),
        format!(r#"{{"trigger":["{huge}"]}}"#),
        format!(r#"["{huge}"#),
    ] {
        let error = refused(body.as_bytes());
        assert!(error.to_string().len() < 300, "{}", cut(&error.to_string()));
    }
}

#[test]
fn a_long_duplicate_key_is_classified_as_one_and_cut_short() {
    // Classified by the parser, not by reading its message.
    let key = "d".repeat(500);
    let error = refused(format!(r#"{{"trigger":"client:add","{key}":1,"{key}":2}}"#).as_bytes());
    match error {
        ParseError::DuplicateKey { key: k, .. } => assert!(k.starts_with("ddd") && k.ends_with('…'), "{k}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hundred_thousand_unknown_keys() {
    let mut body = serde_json::Map::new();
    body.insert("trigger".into(), json!("conversation:read"));
    body.insert("appUser".into(), json!({"_id": "u"}));
    for i in 0..100_000 {
        body.insert(format!("k{i}"), json!(i));
    }
    let bytes = serde_json::to_vec(&body).unwrap();
    let event = parse_event(&bytes).unwrap();
    let Event::ConversationRead(read) = &event else {
        panic!()
    };
    assert_eq!(read.envelope.extra.len(), 100_000);
    assert_eq!(serde_json::to_value(&event).unwrap(), Value::Object(body));
}

#[test]
fn a_repeated_trigger_is_a_duplicate_key_at_the_top_level() {
    let error =
        refused(br#"{"trigger":"conversation:read","trigger":"message:appUser","appUser":{"_id":"u"}}"#);
    assert!(
        matches!(&error, ParseError::DuplicateKey { key, path, .. } if key == "trigger" && path.is_empty())
    );
    assert_eq!(error.to_string(), "duplicate key `trigger` at the top level");
    // Even when the same trigger is repeated, and for an unmodelled trigger.
    for body in [
        &br#"{"trigger":"conversation:read","appUser":{"_id":"u"},"trigger":"conversation:read"}"#[..],
        br#"{"trigger":"client:add","trigger":"client:add"}"#,
    ] {
        assert!(matches!(refused(body), ParseError::DuplicateKey { key, .. } if key == "trigger"));
    }
}

#[test]
fn duplicate_keys_are_refused_with_their_name_and_path_at_any_depth() {
    // Typed keys, unknown keys and free-form maps, at any depth.
    for (body, key, path) in [
        (&br#"{"trigger":"conversation:read","appUser":{"_id":"u","_id":"v"}}"#[..], "_id", "appUser"),
        (br#"{"trigger":"conversation:read","appUser":{"_id":"u"},"x":1,"x":2}"#, "x", ""),
        (
            br#"{"trigger":"conversation:start","appUser":{"_id":"u","properties":{"a":1,"a":1}}}"#,
            "a",
            "appUser.properties",
        ),
        (
            br#"{"trigger":"message:appUser","appUser":{"_id":"u"},"messages":[{"_id":"m","metadata":{"k":1,"k":2}}]}"#,
            "k",
            "messages[0].metadata",
        ),
        (br#"{"trigger":"client:add","client":{"info":{"os":"a","os":"b"}}}"#, "os", "client.info"),
    ] {
        let error = refused(body);
        assert!(
            matches!(&error, ParseError::DuplicateKey { key: k, path: p, .. } if k == key && p == path),
            "{error:?}"
        );
    }
}

#[test]
fn a_key_repeated_before_the_trigger_among_many() {
    for count in [3, 40] {
        let keys: Vec<String> = (0..count).map(|i| format!(r#""k{i}":{i}"#)).collect();
        for trigger in ["conversation:read", "client:add"] {
            let body = format!(
                r#"{{{},"k1":0,"appUser":{{"_id":"u"}},"trigger":"{trigger}"}}"#,
                keys.join(",")
            );
            assert!(
                matches!(refused(body.as_bytes()), ParseError::DuplicateKey { key, .. } if key == "k1"),
                "{count} {trigger}"
            );
            let body = format!(
                r#"{{{},"appUser":{{"_id":"u"}},"trigger":"{trigger}"}}"#,
                keys.join(",")
            );
            assert!(parse_event(body.as_bytes()).is_ok());
        }
    }
}

#[test]
fn a_missing_required_key_is_malformed_naming_the_trigger_and_path() {
    assert_malformed(
        br#"{"trigger":"conversation:start"}"#,
        "conversation:start",
        "",
        "missing field `appUser`",
    );
    assert_malformed(
        br#"{"trigger":"message:appUser","appUser":{"_id":"u"},"messages":[{"text":"hi"}]}"#,
        "message:appUser",
        "messages[0]",
        "missing field `_id`",
    );
}

#[test]
fn a_required_value_of_another_type_is_malformed_naming_the_trigger_and_path() {
    assert_malformed(
        br#"{"trigger":"conversation:read","appUser":{"_id":7}}"#,
        "conversation:read",
        "appUser._id",
        "expected a string, found the number 7",
    );
    assert_malformed(
        br#"{"trigger":"merge:appUser","surviving":{"_id":"u"},"discarded":null}"#,
        "merge:appUser",
        "discarded",
        "expected a list, found null",
    );
    assert_malformed(
        br#"{"trigger":"postback","appUser":{"_id":"u"},"postbacks":[{"action":{}},5]}"#,
        "postback",
        "postbacks[1]",
        "expected a postback object, found the number 5",
    );
}

/// Nesting is refused exactly where `serde_json::Value` refuses it (128 levels), wherever the
/// deep value stands: an unknown key, a free-form map (kept as text until read), a value kept
/// because it did not fit.
#[test]
fn nesting_is_refused_exactly_where_a_value_refuses_it() {
    let places = [
        (
            r#"{"trigger":"conversation:read","appUser":{"_id":"u"},"x":"#,
            "}",
        ),
        (
            r#"{"trigger":"conversation:start","appUser":{"_id":"u","properties":{"p":"#,
            "}}}",
        ),
        (
            r#"{"trigger":"message:appUser","appUser":{"_id":"u"},"messages":[{"_id":"m","metadata":{"k":"#,
            "}}]}",
        ),
        (
            r#"{"trigger":"link:match","appUser":{"_id":"u"},"criteria":{"c":"#,
            "}}",
        ),
        (
            r#"{"trigger":"message:delivery:user","client":{"info":{"i":"#,
            "}}}",
        ),
        (
            r#"{"trigger":"conversation:read","appUser":{"_id":"u","signedUpAt":"#,
            "}}",
        ),
        (
            r#"{"appUser":{"_id":"u","properties":{"p":"#,
            r#"}},"trigger":"conversation:start"}"#,
        ),
        (
            r#"{"x":"#,
            r#","appUser":{"_id":"u"},"trigger":"conversation:read"}"#,
        ),
        (r#"{"x":"#, r#","trigger":"client:add"}"#),
    ];
    for (head, tail) in places {
        for depth in 115..135 {
            let body = format!("{head}{}1{}{tail}", "[".repeat(depth), "]".repeat(depth));
            let value_reads = serde_json::from_str::<Value>(&body).is_ok();
            let crate_reads = parse_event(body.as_bytes());
            assert_eq!(
                crate_reads.is_ok(),
                value_reads,
                "{head} at {depth}: {crate_reads:?}"
            );
            if let Err(error) = crate_reads {
                assert!(
                    matches!(&error, ParseError::InvalidJson { message, .. } if message == "recursion limit exceeded"),
                    "{error:?}"
                );
            }
        }
    }
}
