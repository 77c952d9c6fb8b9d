//! [`JsonMap`]: a free-form JSON object (`properties`, `info`, `metadata`, …), kept as the JSON
//! text it was sent as until it is read.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::de::codec::{misfit, Codec, Ctx, Kept, Reader, Shape};
use crate::de::json::{duplicate_key, read_strict_entries, KeySeed, StrictValue};

/// A free-form JSON object, such as an appUser's `properties` or a client's `info`.
///
/// It dereferences to a `serde_json::Map`, so it reads like one (`map["key"]`, `get`, `iter`,
/// `len`), and converts to one with [`JsonMap::into_map`] or `From`.
///
/// Read by [`parse_event`](crate::parse_event), a map is kept as the JSON text it was sent as
/// (checked as strictly as the rest of the body: a key that appears twice, an invalid string or
/// number, or nesting too deep refuse the body) and parsed into a `serde_json::Map` the first
/// time it is read. Most receivers never read most of these maps, and building them was most of
/// the cost of parsing a body that has many.
#[derive(Clone, Default)]
pub struct JsonMap {
    /// The object as it was sent, when it was read from JSON text and has not been changed.
    raw: Option<Box<str>>,
    /// The entries: parsed from `raw` on first use, or given.
    map: OnceLock<Map<String, Value>>,
}

impl JsonMap {
    /// An empty map.
    pub fn new() -> Self {
        JsonMap::default()
    }

    /// A map of JSON text already checked by [`check_object`].
    fn from_checked_text(text: &str) -> Self {
        JsonMap {
            raw: Some(text.into()),
            map: OnceLock::new(),
        }
    }

    /// The entries.
    fn entries(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| match &self.raw {
            // Cannot fail: the text was checked when it was read.
            Some(raw) => serde_json::from_str(raw).unwrap_or_default(),
            None => Map::new(),
        })
    }

    /// The entries, to change: the map is no longer the text it was sent as.
    fn entries_mut(&mut self) -> &mut Map<String, Value> {
        self.entries();
        self.raw = None;
        self.map.get_mut().expect("the entries were parsed just above")
    }

    /// The entries, as a `serde_json::Map`.
    pub fn into_map(mut self) -> Map<String, Value> {
        std::mem::take(self.entries_mut())
    }
}

impl From<Map<String, Value>> for JsonMap {
    fn from(map: Map<String, Value>) -> Self {
        JsonMap {
            raw: None,
            map: OnceLock::from(map),
        }
    }
}

impl From<JsonMap> for Map<String, Value> {
    fn from(map: JsonMap) -> Self {
        map.into_map()
    }
}

impl From<JsonMap> for Value {
    fn from(map: JsonMap) -> Self {
        Value::Object(map.into_map())
    }
}

impl FromIterator<(String, Value)> for JsonMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        JsonMap::from(iter.into_iter().collect::<Map<String, Value>>())
    }
}

impl<'a> IntoIterator for &'a JsonMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries().iter()
    }
}

impl IntoIterator for JsonMap {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl Deref for JsonMap {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        self.entries()
    }
}

impl DerefMut for JsonMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.entries_mut()
    }
}

impl PartialEq for JsonMap {
    fn eq(&self, other: &Self) -> bool {
        self.entries() == other.entries()
    }
}

impl Eq for JsonMap {}

impl fmt::Debug for JsonMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.entries(), f)
    }
}

impl Serialize for JsonMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries().serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut slot = None;
        match JsonMap::read(d, &mut slot, Ctx::STRICT)? {
            None => Ok(slot.unwrap_or_default()),
            Some(_) => Err(de::Error::custom("expected a JSON object")),
        }
    }
}

/// Builds the map (when the input is not JSON text).
struct MapShape<'t> {
    slot: &'t mut Option<JsonMap>,
    strict: bool,
}

impl<'de> Shape<'de> for MapShape<'_> {
    const EXPECTING: &'static str = "a JSON object";

    fn strict(&self) -> bool {
        self.strict
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept, A::Error> {
        let mut entries = Map::new();
        read_strict_entries(&mut map, &mut entries)?;
        *self.slot = Some(JsonMap::from(entries));
        Ok(None)
    }
}

impl Codec for JsonMap {
    type Target = JsonMap;
    const EXPECTING: &'static str = "a JSON object";

    fn read<'de, D: Deserializer<'de>>(d: D, slot: &mut Option<JsonMap>, ctx: Ctx) -> Result<Kept, D::Error> {
        if !ctx.raw {
            return d.deserialize_any(Reader(MapShape {
                slot,
                strict: ctx.strict,
            }));
        }
        let text = <&RawValue>::deserialize(d)?.get();
        if !text.starts_with('{') {
            let StrictValue(value) = serde_json::from_str(text).map_err(de::Error::custom)?;
            return misfit(Self::EXPECTING, value, ctx.strict);
        }
        // The map is one more level of nesting; serde_json refuses a 128th.
        let levels = 127u8.saturating_sub(ctx.depth);
        check_object(text, levels).map_err(de::Error::custom)?;
        *slot = Some(JsonMap::from_checked_text(text));
        Ok(None)
    }

    fn write<S: Serializer>(target: &JsonMap, s: S) -> Result<S::Ok, S::Error> {
        target.serialize(s)
    }
}

/// Checks JSON text as strictly as reading it into a `Value` of this crate would, building
/// nothing: every string and number is read, a key that appears twice in an object is refused,
/// and so is nesting deeper than `levels` objects and lists.
fn check_object(text: &str, levels: u8) -> Result<(), serde_json::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    Check { levels }.deserialize(&mut json)?;
    json.end()
}

/// One value of [`check_object`], with how many levels of nesting it may still open.
#[derive(Clone, Copy)]
struct Check {
    levels: u8,
}

impl Check {
    fn enter<E: de::Error>(self) -> Result<Check, E> {
        match self.levels.checked_sub(1) {
            Some(levels) => Ok(Check { levels }),
            None => Err(E::custom("recursion limit exceeded")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        let mut keys = Keys::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            keys.insert(key)?;
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// The keys of one object, to refuse one that appears twice: a short list while the object is
/// small, a hash set once it is not.
#[derive(Default)]
struct Keys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Keys<'de> {
    const FEW: usize = 16;

    fn insert<E: de::Error>(&mut self, key: Cow<'de, str>) -> Result<(), E> {
        if let Some(many) = &mut self.many {
            if many.contains(&key) {
                return Err(duplicate_key(&key));
            }
            many.insert(key);
            return Ok(());
        }
        if self.few.contains(&key) {
            return Err(duplicate_key(&key));
        }
        self.few.push(key);
        if self.few.len() > Self::FEW {
            self.many = Some(self.few.drain(..).collect());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, levels: u8) -> Result<(), String> {
        check_object(text, levels).map_err(|e| e.to_string())
    }

    #[test]
    fn the_check_refuses_what_a_value_refuses() {
        assert_eq!(check(r#"{"a": [1, {"b": null}], "c": "\u00e9"}"#, 127), Ok(()));
        assert!(check(r#"{"a": 1, "a": 2}"#, 127)
            .unwrap_err()
            .starts_with("duplicate key `a`"));
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let twice = format!("{{{}, \"k7\": 0}}", many.join(", "));
        assert!(check(&twice, 127).unwrap_err().starts_with("duplicate key `k7`"));
        assert!(check(&format!("{{{}}}", many.join(", ")), 127).is_ok());
        assert!(check(r#"{"a": {"b": 1, "b": 1}}"#, 127).is_err());
        assert!(check(r#"{"a": "\ud83d"}"#, 127).is_err());
        assert!(check(r#"{"a": 1e400}"#, 127).is_err());
        // Levels: the object itself is one.
        assert!(check(r#"{"a": [[1]]}"#, 3).is_ok());
        assert_eq!(
            check(r#"{"a": [[1]]}"#, 2).unwrap_err(),
            "recursion limit exceeded at line 1 column 8"
        );
        assert!(check(r#"{}"#, 1).is_ok());
        assert!(check(r#"{"a": []}"#, 1).is_err());
    }

    #[test]
    fn a_map_reads_like_a_serde_json_map_and_changes_drop_the_text() {
        let mut map = JsonMap::from_checked_text(r#"{"b": 2, "a": [1]}"#);
        assert_eq!(map["b"], 2);
        assert_eq!(map.len(), 2);
        assert_eq!(map.clone(), map);
        map.insert("c".to_owned(), Value::Null);
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"a":[1],"b":2,"c":null}"#
        );
        assert_eq!(map.into_map().len(), 3);
    }
}
