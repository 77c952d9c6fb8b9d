//! [`JsonMap`]: a free-form JSON object (`properties`, `info`, `metadata`, …).

use std::ops::{Deref, DerefMut};

use serde::de::{Deserializer, MapAccess};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::codec::{Codec, Kept, Reader, Shape};
use crate::de::json::read_strict_entries;

/// A free-form JSON object, such as an appUser's `properties` or a client's `info`.
///
/// It dereferences to a `serde_json::Map`, so it reads like one (`map["key"]`, `get`, `iter`,
/// `len`), and converts to one with [`JsonMap::into_map`] or `From`. A key that appears twice in
/// the object is refused when the body is parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonMap(Map<String, Value>);

impl JsonMap {
    /// An empty map.
    pub fn new() -> Self {
        JsonMap(Map::new())
    }

    /// The entries, as a `serde_json::Map`.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for JsonMap {
    fn from(map: Map<String, Value>) -> Self {
        JsonMap(map)
    }
}

impl From<JsonMap> for Map<String, Value> {
    fn from(map: JsonMap) -> Self {
        map.0
    }
}

impl From<JsonMap> for Value {
    fn from(map: JsonMap) -> Self {
        Value::Object(map.0)
    }
}

impl FromIterator<(String, Value)> for JsonMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        JsonMap(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a JsonMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for JsonMap {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Deref for JsonMap {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for JsonMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Serialize for JsonMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut slot = None;
        match JsonMap::read(d, &mut slot, true)? {
            None => Ok(slot.unwrap_or_default()),
            Some(_) => Err(serde::de::Error::custom("expected a JSON object")),
        }
    }
}

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
        let target = self.slot.insert(JsonMap::new());
        read_strict_entries(&mut map, &mut target.0)?;
        Ok(None)
    }
}

impl Codec for JsonMap {
    type Target = JsonMap;
    const EXPECTING: &'static str = "a JSON object";

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<JsonMap>,
        strict: bool,
    ) -> Result<Kept, D::Error> {
        d.deserialize_any(Reader(MapShape { slot, strict }))
    }

    fn write<S: Serializer>(target: &JsonMap, s: S) -> Result<S::Ok, S::Error> {
        target.serialize(s)
    }
}
