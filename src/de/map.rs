//! [`JsonMap`]: a free-form JSON object (`properties`, `info`, `metadata`, …, and every struct's
//! `extra`), kept as the JSON text it was sent as until it is read.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::de::{self, Deserializer, MapAccess};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::de::codec::{misfit, Codec, Ctx, Kept, Reader, Shape};
use crate::de::json::{read_strict_entries, StrictValue};
use crate::de::raw::check_raw;

/// A free-form JSON object, such as an appUser's `properties` or a client's `info`.
///
/// It dereferences to a `serde_json::Map`, so it reads like one (`map["key"]`, `get`, `iter`,
/// `len`), and converts to one with [`JsonMap::into_map`] or `From`.
///
/// Read by [`parse_webhook`](crate::parse_webhook) or [`parse_event`](crate::parse_event), a map
/// is kept as the JSON text it was sent as (checked as strictly as the rest of the body: a key
/// that appears twice, an invalid string or number, or nesting too deep refuse the body) and
/// parsed into a `serde_json::Map` the first time it is read. Most receivers never read most of
/// these maps, and building them was most of the cost of parsing a body that has many. An empty
/// map (every struct's `extra`, usually) holds no allocation: nothing to build or free; one read
/// from text holds one, its text.
#[derive(Clone, Default)]
pub struct JsonMap {
    /// The object as it was sent, when it was read from JSON text and has not been changed.
    raw: Option<Box<str>>,
    /// The entries: parsed from `raw` on first use, or given.
    map: OnceLock<Map<String, Value>>,
}

/// The entries of every empty map.
fn empty() -> &'static Map<String, Value> {
    static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// The entries of JSON text checked when it was read (so parsing it cannot fail).
fn parse(raw: &str) -> Map<String, Value> {
    serde_json::from_str(raw).unwrap_or_default()
}

impl JsonMap {
    /// An empty map.
    pub fn new() -> Self {
        JsonMap::default()
    }

    /// A map of JSON text already checked by [`check_raw`].
    fn from_checked_text(text: &str) -> Self {
        JsonMap {
            raw: Some(text.into()),
            map: OnceLock::new(),
        }
    }

    /// The entries.
    fn entries(&self) -> &Map<String, Value> {
        match (self.map.get(), &self.raw) {
            (Some(map), _) => map,
            (None, Some(raw)) => self.map.get_or_init(|| parse(raw)),
            (None, None) => empty(),
        }
    }

    /// The entries, to change: the map is no longer the text it was sent as.
    fn entries_mut(&mut self) -> &mut Map<String, Value> {
        let raw = self.raw.take();
        self.map
            .get_or_init(|| raw.as_deref().map(parse).unwrap_or_default());
        self.map.get_mut().expect("the entries were set just above")
    }

    /// The entries, as a `serde_json::Map`.
    pub fn into_map(self) -> Map<String, Value> {
        match (self.map.into_inner(), self.raw) {
            (Some(map), _) => map,
            (None, Some(raw)) => parse(&raw),
            (None, None) => Map::new(),
        }
    }
}

impl From<Map<String, Value>> for JsonMap {
    fn from(map: Map<String, Value>) -> Self {
        if map.is_empty() {
            return JsonMap::new();
        }
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

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<JsonMap>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        if ctx.input.is_none() {
            return d.deserialize_any(Reader(MapShape {
                slot,
                strict: ctx.strict,
            }));
        }
        let text = <&RawValue>::deserialize(d)?.get();
        if text.bytes().all(|b| b" {}\n\t\r".contains(&b)) && text.ends_with('}') {
            // `{}` (the usual `properties`): nothing to keep as text.
            *slot = Some(JsonMap::new());
            return Ok(None);
        }
        if !text.starts_with('{') {
            let StrictValue(value) = serde_json::from_str(text).map_err(de::Error::custom)?;
            return misfit(Self::EXPECTING, value, ctx.strict);
        }
        // The map is one more level of nesting; serde_json refuses a 128th.
        let levels = 127u8.saturating_sub(ctx.depth);
        check_raw(text, levels).map_err(de::Error::custom)?;
        *slot = Some(JsonMap::from_checked_text(text));
        Ok(None)
    }

    fn write<S: Serializer>(target: &JsonMap, s: S) -> Result<S::Ok, S::Error> {
        target.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_empty_map_is_small_and_fills_when_written() {
        // Its text and its map side by side, so that a map read from text is one allocation.
        assert!(std::mem::size_of::<JsonMap>() <= 6 * std::mem::size_of::<usize>());
        let mut map = JsonMap::new();
        assert!(map.is_empty());
        assert_eq!(map, JsonMap::from(Map::new()));
        map.insert("a".to_owned(), Value::Bool(true));
        assert_eq!(map["a"], true);
        assert_eq!(JsonMap::new().into_map(), Map::new());
    }
}
