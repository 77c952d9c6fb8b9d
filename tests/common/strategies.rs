//! Proptest strategies for text, JSON, times and open enums.

use chrono::DateTime;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use smooch_events::time::IsoTime;
use smooch_events::CompactString;

/// Text of any kind, escapes and non-ASCII included.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{0,12}",
        any::<String>(),
        Just("\"quoted\" \\ \n \u{1F600} ключ".to_owned())
    ]
}

/// Text for a string field of the crate.
pub(crate) fn field_text() -> impl Strategy<Value = CompactString> {
    text().prop_map(CompactString::from)
}

pub(crate) fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

/// A JSON value without floats that lose digits (serde_json reads floats to the nearest `f64`).
pub(crate) fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A free-form map.
pub(crate) fn map() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text(), json(), 0..3).prop_map(|m| m.into_iter().collect())
}

/// Unknown keys: prefixed so that they never collide with a modelled key.
pub(crate) fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("x-[a-z]{1,6}", json(), 0..2).prop_map(|m| m.into_iter().collect())
}

/// An ISO time in one of the spellings RFC 3339 allows: Smooch's own (`Z` and milliseconds), no
/// fraction, 2 or 6 fraction digits, an offset, a lowercase `t` and `z`; each comes back as sent.
pub(crate) fn iso_time() -> impl Strategy<Value = IsoTime> {
    let spellings = [
        "%Y-%m-%dT%H:%M:%S%.3fZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S%.6fZ",
        "%Y-%m-%dT%H:%M:%S%.9f+02:00",
        "%Y-%m-%dt%H:%M:%S%.3fz",
    ];
    (
        0i64..4_102_444_800,
        0u32..1_000_000_000,
        0..spellings.len(),
        0..3u8,
    )
        .prop_map(move |(s, ns, spelling, centis)| {
            let time = DateTime::from_timestamp(s, ns).unwrap();
            let mut text = time.format(spellings[spelling]).to_string();
            if centis == 0 && spelling == 0 {
                // Two fraction digits: `.82Z`.
                text.replace_range(text.len() - 2..text.len() - 1, "");
            }
            if spelling == 3 {
                // The offset says the local time two hours ahead.
                let local = time + chrono::Duration::hours(2);
                text = local.format(spellings[spelling]).to_string();
            }
            let parsed: IsoTime = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
            parsed
        })
}

/// An open enum value: a known one, or `Other` with a spelling that is not known.
pub(crate) fn open<T: Clone + std::fmt::Debug + From<String> + 'static>(
    known: &'static [T],
) -> impl Strategy<Value = T> {
    prop_oneof![select(known), "[a-z]{3,8}-new".prop_map(T::from)]
}
