//! The machinery behind every JSON object type of the crate.
//!
//! Smooch objects are modelled as plain structs whose unknown keys land in an `extra` map. serde's
//! `#[serde(flatten)]` would do that, but it buffers the whole object into an intermediate
//! representation before typing it, which made parsing several times slower. Instead, the
//! [`object!`] macro writes, for each struct, a single-pass visitor that matches each key against
//! the wire names and sends everything else into `extra` (which costs nothing when there is
//! nothing to keep), plus a `Serialize` impl that writes the known fields and then `extra` inline.
//!
//! Every map this crate builds refuses a key that appears twice in one object: two parsers that
//! keep different copies of a key (say, of `trigger`) could disagree on what a body means.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::Deserialize;
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// The per-struct code that [`object!`] generates; [`ObjectVisitor`] drives it.
pub(crate) trait Fields: Sized {
    /// What the struct is, for "invalid type: …, expected …" messages.
    const EXPECTING: &'static str;
    /// One `Option` slot per field, filled while the object's keys are read.
    type Slots;
    /// Empty slots.
    fn slots() -> Self::Slots;
    /// Reads the value of `key` into its slot, or into `extra` when the key is not modelled.
    fn visit<'de, A: MapAccess<'de>>(
        slots: &mut Self::Slots,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// Builds the struct, failing when a required field is missing.
    fn finish<E: de::Error>(slots: Self::Slots) -> Result<Self, E>;
    /// Writes the fields that are present, then `extra`, into a map being serialized.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Deserializes any [`Fields`] type from a JSON object.
pub(crate) struct ObjectVisitor<T>(PhantomData<T>);

impl<T> ObjectVisitor<T> {
    pub(crate) fn new() -> Self {
        ObjectVisitor(PhantomData)
    }
}

impl<'de, T: Fields> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut slots = T::slots();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            T::visit(&mut slots, key, &mut map)?;
        }
        T::finish(slots)
    }
}

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

/// Reads the value of an unmodelled key into `extra`, refusing a key it already holds.
pub(crate) fn put_extra<'de, A: MapAccess<'de>>(
    extra: &mut Map<String, Value>,
    key: Cow<'de, str>,
    map: &mut A,
) -> Result<(), A::Error> {
    let value = map.next_value::<StrictValue>()?.0;
    insert_unique(extra, key.into_owned(), value)
}

fn insert_unique<E: de::Error>(map: &mut Map<String, Value>, key: String, value: Value) -> Result<(), E> {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        Entry::Occupied(slot) => Err(duplicate_key(slot.key())),
    }
}

/// The error for a key that appears twice in one object.
pub(crate) fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key `{key}`"))
}

/// A `serde_json::Value` that refuses duplicate keys at every depth.
///
/// `serde_json::Value` keeps the last of two equal keys; free-form maps of this crate (`extra`,
/// `properties`, `metadata`, …) are read through this type instead.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictValueVisitor).map(StrictValue)
    }
}

struct StrictValueVisitor;

impl<'de> Visitor<'de> for StrictValueVisitor {
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
        // JSON cannot hold NaN or infinity; `Value::from` would turn them into null.
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
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        Ok(Value::Object(read_strict_map(&mut map)?))
    }
}

/// Reads the remaining entries of a map into a `serde_json::Map`, refusing duplicate keys.
pub(crate) fn read_strict_map<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Map<String, Value>, A::Error> {
    let mut out = Map::new();
    while let Some(key) = map.next_key::<String>()? {
        let value = map.next_value::<StrictValue>()?.0;
        insert_unique(&mut out, key, value)?;
    }
    Ok(out)
}

/// A free-form JSON object (`properties`, `info`, `criteria`, …), read with duplicate keys refused.
pub(crate) mod open_map {
    use super::*;
    use serde::Serializer;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Map<String, Value>>, D::Error> {
        Ok(Option::<StrictMap>::deserialize(d)?.map(|m| m.0))
    }

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Map<String, Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(value, s)
    }
}

/// A JSON object read with duplicate keys refused.
pub(crate) struct StrictMap(pub(crate) Map<String, Value>);

impl<'de> Deserialize<'de> for StrictMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StrictMapVisitor).map(StrictMap)
    }
}

struct StrictMapVisitor;

impl<'de> Visitor<'de> for StrictMapVisitor {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        read_strict_map(&mut map)
    }
}

/// Any JSON value, read with duplicate keys refused (`underlyingError`, `quotedMessage`, …).
pub(crate) mod any_value {
    use super::*;
    use serde::Serializer;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        // `null` reads as absent, like every optional field.
        Ok(Option::<StrictValue>::deserialize(d)?.map(|v| v.0))
    }

    pub(crate) fn serialize<S: Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(value, s)
    }
}

/// A list that is always sent: `null` reads as an empty list.
pub(crate) mod null_as_empty {
    use super::*;
    use serde::{Serialize, Serializer};

    pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(Some(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default()))
    }

    pub(crate) fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Vec<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

/// Defines a struct for one JSON object of the Smooch payloads.
///
/// ```text
/// object! {
///     /// Doc comment of the struct.
///     pub struct Name {
///         required {
///             /// Doc comment of the field.
///             rust_name: Type = "wireName",
///         }
///         optional {
///             other: Type = "otherName",                       // becomes `Option<Type>`
///             when: DateTime<Utc> = "when" with crate::time::rfc3339::option,
///         }
///     }
/// }
/// ```
///
/// It generates the struct (with a `pub extra` map for the keys it does not model), `new()` taking
/// the required fields, the [`Fields`] impl, `Deserialize` and `Serialize`. A `with` module, as in
/// `#[serde(with)]`, handles the field's whole Rust type (`Option<…>` for optional fields).
/// Optional fields read `null` as absent and are left out when serialized if absent.
macro_rules! object {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            expecting: $expecting:literal,
            required {
                $( $(#[$rdoc:meta])* $rfield:ident : $rty:ty = $rkey:literal $(with $($rwith:ident)::+)? ),* $(,)?
            }
            optional {
                $( $(#[$odoc:meta])* $ofield:ident : $oty:ty = $okey:literal $(with $($owith:ident)::+)? ),* $(,)?
            }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        $vis struct $name {
            $( $(#[$rdoc])* pub $rfield: $rty, )*
            $( $(#[$odoc])* pub $ofield: Option<$oty>, )*
            /// Keys this crate does not model, kept as they arrived; they are written back inline
            /// when the value is serialized, so nothing Smooch sends is lost.
            pub extra: ::serde_json::Map<String, ::serde_json::Value>,
        }

        impl $name {
            /// Creates a value with the given required fields and every optional field absent.
            #[allow(clippy::too_many_arguments, clippy::new_without_default)]
            pub fn new($($rfield: $rty),*) -> Self {
                Self { $($rfield,)* $($ofield: None,)* extra: ::serde_json::Map::new() }
            }
        }

        impl $crate::object::Fields for $name {
            const EXPECTING: &'static str = $expecting;
            type Slots = ($(Option<$rty>,)* $(Option<Option<$oty>>,)* ::serde_json::Map<String, ::serde_json::Value>,);

            fn slots() -> Self::Slots {
                ($($crate::object::none!($rfield),)* $($crate::object::none!($ofield),)* ::serde_json::Map::new(),)
            }

            fn visit<'de, A: ::serde::de::MapAccess<'de>>(
                slots: &mut Self::Slots,
                key: ::std::borrow::Cow<'de, str>,
                map: &mut A,
            ) -> Result<(), A::Error> {
                let ($($rfield,)* $($ofield,)* extra,) = slots;
                match &*key {
                    $( $rkey => {
                        if $rfield.is_some() {
                            return Err(<A::Error as ::serde::de::Error>::duplicate_field($rkey));
                        }
                        *$rfield = Some($crate::object::read_value!(map, $rty $(, $($rwith)::+)?));
                    } )*
                    $( $okey => {
                        if $ofield.is_some() {
                            return Err(<A::Error as ::serde::de::Error>::duplicate_field($okey));
                        }
                        *$ofield = Some($crate::object::read_value!(map, Option<$oty> $(, $($owith)::+)?));
                    } )*
                    _ => $crate::object::put_extra(extra, key, map)?,
                }
                Ok(())
            }

            fn finish<E: ::serde::de::Error>(slots: Self::Slots) -> Result<Self, E> {
                let ($($rfield,)* $($ofield,)* extra,) = slots;
                Ok(Self {
                    $( $rfield: match $rfield {
                        Some(value) => value,
                        None => return Err(E::missing_field($rkey)),
                    }, )*
                    $( $ofield: $ofield.flatten(), )*
                    extra,
                })
            }

            fn serialize_fields<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $( $crate::object::write_value!(map, $rkey, &self.$rfield, $rty $(, $($rwith)::+)?); )*
                $( if self.$ofield.is_some() {
                    $crate::object::write_value!(map, $okey, &self.$ofield, Option<$oty> $(, $($owith)::+)?);
                } )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                Ok(())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_map($crate::object::ObjectVisitor::<Self>::new())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                $crate::object::Fields::serialize_fields(self, &mut map)?;
                map.end()
            }
        }
    };
}

/// `None`, once per field (a helper of [`object!`]).
macro_rules! none {
    ($field:ident) => {
        None
    };
}

/// Reads the next map value as `$ty`, through the `with` module if one is given.
macro_rules! read_value {
    ($map:ident, $ty:ty) => {
        $map.next_value::<$ty>()?
    };
    ($map:ident, $ty:ty, $($with:ident)::+) => {{
        struct With($ty);
        impl<'w> ::serde::Deserialize<'w> for With {
            fn deserialize<D: ::serde::Deserializer<'w>>(d: D) -> Result<Self, D::Error> {
                $($with)::+::deserialize(d).map(With)
            }
        }
        $map.next_value::<With>()?.0
    }};
}

/// Writes one map entry, through the `with` module if one is given.
macro_rules! write_value {
    ($map:ident, $key:literal, $value:expr, $ty:ty) => {
        $map.serialize_entry($key, $value)?
    };
    ($map:ident, $key:literal, $value:expr, $ty:ty, $($with:ident)::+) => {{
        struct With<'a>(&'a $ty);
        impl ::serde::Serialize for With<'_> {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $($with)::+::serialize(self.0, s)
            }
        }
        $map.serialize_entry($key, &With($value))?
    }};
}

pub(crate) use {none, object, read_value, write_value};
