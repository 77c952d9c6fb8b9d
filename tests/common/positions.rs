//! Every position in a JSON document, and values of another type to put there.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Every position in a JSON value: its path as errors show it and its JSON pointer.
pub(crate) fn positions(value: &Value, path: &str, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let child_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push((child_path.clone(), child_pointer.clone()));
                positions(child, &child_path, &child_pointer, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let child_path = format!("{path}[{i}]");
                let child_pointer = format!("{pointer}/{i}");
                out.push((child_path.clone(), child_pointer.clone()));
                positions(child, &child_path, &child_pointer, out);
            }
        }
        _ => {}
    }
}

/// A value of another JSON type than `value`.
pub(crate) fn wrong_type(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(12345),
        Value::Number(_) | Value::Bool(_) | Value::Null => json!("not this type"),
        Value::Object(_) => json!(["not", "an", "object"]),
        Value::Array(_) => json!({"not": "an array"}),
    }
}

/// A path with its array indices removed (`messages[].actions[].amount`).
pub(crate) fn without_indices(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The kind of a JSON value, to draw a value of another kind.
pub(crate) fn kind(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A value of another JSON type than `current`, of any shape; for an object, also `{}`.
pub(crate) fn replacement(current: &Value) -> BoxedStrategy<Value> {
    let other_kind = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9..1e9f64).prop_map(Value::from),
        "[a-z0-9 :.-]{0,12}".prop_map(Value::from),
        prop::collection::vec(any::<u8>().prop_map(Value::from), 0..3).prop_map(Value::Array),
        prop::collection::btree_map("[a-z_]{1,6}", any::<bool>().prop_map(Value::from), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ];
    let current_kind = kind(current);
    let other = other_kind.prop_filter("another type", move |v| kind(v) != current_kind);
    if current.is_object() {
        prop_oneof![other, Just(json!({}))].boxed()
    } else {
        other.boxed()
    }
}
