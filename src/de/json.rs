//! Plain JSON through serde: keys, values read with duplicate keys refused (and, for the diagnosis
//! of a refused body, the duplicate recorded), short descriptions of values for messages, and a
//! deserializer over a `Value` that reads a tag key first.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde::Deserialize;
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// Reads a map key or a short string, borrowing it from the input when it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// The error for a key that appears twice in one object (its message holds the key cut short).
pub(crate) fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key `{}`", cut(key, 64)))
}

/// Inserts `key` unless the map already holds it.
pub(crate) fn insert_unique<E: de::Error>(
    map: &mut Map<String, Value>,
    key: String,
    value: Value,
) -> Result<(), E> {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        Entry::Occupied(slot) => Err(duplicate_key(slot.key())),
    }
}

/// A `serde_json::Value` that refuses duplicate keys at every depth.
///
/// `serde_json::Value` keeps the last of two equal keys; every free-form value of this crate is
/// read through this type instead.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictValueVisitor::default()).map(StrictValue)
    }
}

/// Reads a whole body as a [`StrictValue`] for the diagnosis of a refused body: the key of a
/// duplicate-key error is kept whole in `duplicate`, so that the error is classified by what the
/// reader saw, not by its (shortened) message.
pub(crate) struct RecordingSeed<'r> {
    pub(crate) duplicate: &'r RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for RecordingSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValueVisitor {
            duplicate: Some(self.duplicate),
        })
    }
}

/// Builds a [`StrictValue`]; other visitors hand it the values they do not expect. With
/// `duplicate`, it records the key of a duplicate-key error there (see [`RecordingSeed`]).
#[derive(Default, Clone, Copy)]
pub(crate) struct StrictValueVisitor<'r> {
    pub(crate) duplicate: Option<&'r RefCell<Option<String>>>,
}

impl<'de> Visitor<'de> for StrictValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so `from` never turns a number into null here.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(self)?;
            match out.entry(key.into_owned()) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => {
                    if let Some(duplicate) = self.duplicate {
                        *duplicate.borrow_mut() = Some(slot.key().clone());
                    }
                    return Err(duplicate_key(slot.key()));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

impl<'de> DeserializeSeed<'de> for StrictValueVisitor<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Reads the remaining entries of a map into `out`, refusing a key it already holds.
pub(crate) fn read_strict_entries<'de, A: MapAccess<'de>>(
    map: &mut A,
    out: &mut Map<String, Value>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let value = map.next_value::<StrictValue>()?.0;
        insert_unique(out, key.into_owned(), value)?;
    }
    Ok(())
}

/// The JSON text of the list of `parts` (`null` for a part that is absent): a key that no other
/// list of parts shares, whatever the parts hold (a separator could be in any of them).
pub(crate) fn list_key(parts: &[Option<&str>]) -> String {
    Value::Array(
        parts
            .iter()
            .map(|part| part.map_or(Value::Null, Value::from))
            .collect(),
    )
    .to_string()
}

/// `text`, cut to at most `max` bytes (at a character boundary, with `…` where it was cut).
pub(crate) fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

/// A JSON value described in a few words for messages, with a long string cut short:
/// `the number 1457550541431`, `the string "true"`, `an object`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {}", cut(&n.to_string(), 40)),
        Value::String(s) => format!("the string {:?}", cut(s, 40).as_ref()),
        Value::Array(items) if items.is_empty() => "an empty array".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// The kind of a JSON value, as `null`, `a boolean`, `a number`, `a string`, `an array` or
/// `an object`.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A deserializer over a `Value` whose objects yield their `tag` key first, at every depth.
///
/// Reading a tagged object (a webhook body by `trigger`, a v2 event or content by `type`) in one
/// pass is simplest when the tag comes first; [`crate::parse`] reads a body that failed again
/// through this, so that the error's path is found without buffering anything.
pub(crate) struct TagFirst<'a> {
    pub(crate) value: &'a Value,
    pub(crate) tags: &'static [&'static str],
}

impl<'de> Deserializer<'de> for TagFirst<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(TagFirstSeq {
                items: items.iter(),
                tags: self.tags,
            }),
            Value::Object(map) => {
                let tag = self.tags.iter().find_map(|tag| map.get_key_value(*tag));
                visitor.visit_map(TagFirstMap {
                    tag,
                    given: None,
                    rest: map.iter(),
                    value: None,
                    tags: self.tags,
                })
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct TagFirstSeq<'a> {
    items: std::slice::Iter<'a, Value>,
    tags: &'static [&'static str],
}

impl<'de> SeqAccess<'de> for TagFirstSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.items
            .next()
            .map(|value| {
                seed.deserialize(TagFirst {
                    value,
                    tags: self.tags,
                })
            })
            .transpose()
    }
}

struct TagFirstMap<'a> {
    /// The tag, until it is given; it is then skipped among the rest.
    tag: Option<(&'a String, &'a Value)>,
    given: Option<&'a str>,
    rest: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    tags: &'static [&'static str],
}

impl<'de> MapAccess<'de> for TagFirstMap<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let entry = match self.tag.take() {
            Some(tag) => {
                self.given = Some(tag.0);
                Some(tag)
            }
            None => loop {
                match self.rest.next() {
                    Some((key, _)) if Some(key.as_str()) == self.given => {}
                    other => break other,
                }
            },
        };
        let Some((key, value)) = entry else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(BorrowedStrDeserializer::new(key.as_str()))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without a key"))?;
        seed.deserialize(TagFirst {
            value,
            tags: self.tags,
        })
    }
}
