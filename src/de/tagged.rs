//! Objects whose shape a tag key decides: a v1 body by its `trigger`, a v2 event by its `type`.
//!
//! Such an object is read in one pass whatever the position of its tag. The keys that come
//! before the tag (rare: bodies are written tag first) are kept as JSON values until the tag is
//! read; then they go to the typed struct the tag names, or stay as they are for a tag the crate
//! does not model, and the rest of the object is read straight into place.

use std::borrow::Cow;

use serde::de::{self, MapAccess};
use serde_json::{Map, Value};

use crate::de::json::{duplicate_key, insert_unique, read_strict_entries, KeySeed, StrictValue};
use crate::de::object::{FieldSeed, Fields};

/// The keys read before the tag, with their values.
pub(crate) type Pending = Map<String, Value>;

/// Keeps the value of a key read before the tag.
pub(crate) fn capture<'de, A: MapAccess<'de>>(
    pending: &mut Pending,
    key: Cow<'de, str>,
    map: &mut A,
) -> Result<(), A::Error> {
    let StrictValue(value) = map.next_value()?;
    insert_unique(pending, key.into_owned(), value)
}

/// Reads the keys captured before the tag, then the rest of the map, into `target`. The tag
/// itself was read already, so a second one is refused. What identifies the object is read
/// strictly: a required field that is missing or does not fit is an error.
pub(crate) fn read_rest<'de, T: Fields, A: MapAccess<'de>>(
    target: &mut T,
    pending: Pending,
    mut map: A,
    tag: &str,
) -> Result<(), A::Error> {
    let mut seen = 0;
    for (key, value) in pending {
        target
            .read_field(&mut seen, Cow::Owned(key), value, true)
            .map_err(de::Error::custom)?;
    }
    while let Some(key) = map.next_key_seed(KeySeed)? {
        if key == tag {
            return Err(duplicate_key(tag));
        }
        map.next_value_seed(FieldSeed {
            target: &mut *target,
            seen: &mut seen,
            key,
            strict: true,
        })?;
    }
    match T::REQUIRED.iter().find(|(_, bit)| seen & bit == 0) {
        Some((key, _)) => Err(de::Error::missing_field(key)),
        None => Ok(()),
    }
}

/// The whole object of a tag the crate does not model: the keys captured before the tag, the tag,
/// and the rest, all as they were sent.
pub(crate) fn read_unknown<'de, A: MapAccess<'de>>(
    mut pending: Pending,
    tag: &str,
    value: Value,
    mut map: A,
) -> Result<Map<String, Value>, A::Error> {
    pending.insert(tag.to_owned(), value);
    read_strict_entries(&mut map, &mut pending)?;
    Ok(pending)
}
