//! The machinery behind every JSON object type of the crate: [`object!`].
//!
//! Each Smooch object is a plain struct whose unknown keys land in an `extra` map. serde's
//! `#[serde(flatten)]` would do that, but it buffers the whole object before typing it. Instead,
//! [`object!`] writes, for each struct, a one-pass reader that fills the struct where it stays
//! (the keys already seen are bits of a `u64`), matching each key against the wire names and
//! sending everything else to `extra`, plus a `Serialize` impl that writes the fields and then
//! `extra` inline, and the generic part of validation.
//!
//! Fields come in three kinds:
//! - `required`: what identifies the object (`_id`). A required field that is missing or does not
//!   fit makes the whole object a misfit: kept as JSON in its parent, or an error where the parent
//!   reads it strictly (what identifies an event).
//! - `expected`: optional for parsing, but the spec (for v1, the v1 docs) requires it, so
//!   validation reports it missing as a requirement of the spec ([`IssueKind::Spec`]).
//! - `usual`: optional for parsing and in the spec, but Smooch always sends it (an id), so
//!   validation reports it missing as advice ([`IssueKind::Advice`]).
//! - `optional`: everything else.
//!
//! An optional or expected value that does not fit its type (see [`Codec`]) reads as absent and
//! is kept in `extra` under its own key, exactly as sent, so that serializing writes it back where
//! it was and validation reports it. `null` is kept the same way (and not reported).
//!
//! Every object refuses a key that appears twice: two readers that keep different copies of a key
//! could disagree on what a body means.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess};
use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::de::codec::{misfit, Codec, Ctx, Kept, Misfit, Problem, Shape};
use crate::de::json::{duplicate_key, insert_unique, read_strict_entries, KeySeed, StrictValue};
use crate::de::map::JsonMap;
use crate::de::walk::Checker;
#[cfg(doc)]
use crate::de::walk::IssueKind;

/// The per-struct code that [`object!`] writes.
pub(crate) trait Fields: Default + Serialize {
    /// What the struct is, for messages: `an appUser object`.
    const EXPECTING: &'static str;
    /// The keys of the required fields, each with its bit in `seen`.
    const REQUIRED: &'static [(&'static str, u64)];
    /// How many bits of `seen` the struct's fields take (those of a struct flattened into it
    /// included): a struct that flattens this one numbers its own fields from there.
    const BITS: u32;

    /// Reads the value of `key` into its field (or into `extra`). `seen` holds a bit per field
    /// already read; `ctx` is the context of the field's value. Returns the misfit of a required
    /// field (only when the read is not strict).
    fn read_field<'de, D: Deserializer<'de>>(
        &mut self,
        seen: &mut u64,
        key: Cow<'de, str>,
        d: D,
        ctx: Ctx<'de>,
    ) -> Result<Option<(&'static str, Box<Misfit>)>, D::Error>;

    /// Writes the fields that are present, then `extra`, into a map being serialized.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;

    /// The generic checks of validation: kept values, missing expected fields, and the fields'
    /// own checks.
    fn walk(&self, c: &mut Checker);

    /// The bit of `seen` that tracks the field whose key is `key`, or 0 when no field has that
    /// key (it goes to `extra`).
    fn bit(key: &str) -> u64;
}

/// What a variant of a [`tagged!`](crate::de::tagged::tagged) enum holds: an [`object!`] struct
/// (each gets this impl), or a box of one (for a large variant).
pub(crate) trait Holder: Default {
    /// The struct.
    type Inner: Fields;
    /// The struct, to fill in place.
    fn inner(&mut self) -> &mut Self::Inner;
    /// The struct, to read.
    fn inner_ref(&self) -> &Self::Inner;
}

impl<T: Fields> Holder for Box<T> {
    type Inner = T;

    fn inner(&mut self) -> &mut T {
        self
    }

    fn inner_ref(&self) -> &T {
        self
    }
}

/// Marks the field of `bit` as read, refusing a key read twice.
pub(crate) fn take_bit<E: de::Error>(seen: &mut u64, bit: u64, key: &str) -> Result<(), E> {
    if *seen & bit != 0 {
        return Err(duplicate_key(key));
    }
    *seen |= bit;
    Ok(())
}

/// Reads the value of a key no field models into `extra`.
pub(crate) fn put_extra<'de, D: Deserializer<'de>>(
    extra: &mut JsonMap,
    key: Cow<'de, str>,
    d: D,
) -> Result<(), D::Error> {
    let StrictValue(value) = serde::Deserialize::deserialize(d)?;
    insert_unique(extra, key.into_owned(), value)
}

/// Reads an optional field through its codec `C`; a misfit goes to `extra` under `key`, exactly
/// as it was sent.
pub(crate) fn read_optional<'de, C: Codec, D: Deserializer<'de>>(
    d: D,
    slot: &mut Option<C::Target>,
    extra: &mut JsonMap,
    key: &'static str,
    ctx: Ctx<'de>,
) -> Result<(), D::Error> {
    if let Some(misfit) = C::read(d, slot, ctx.tolerant())? {
        extra.insert(key.to_owned(), misfit.value);
    }
    Ok(())
}

/// Reads one field of `T`, as the seed of a map value.
pub(crate) struct FieldSeed<'t, 'de, T> {
    pub(crate) target: &'t mut T,
    pub(crate) seen: &'t mut u64,
    pub(crate) key: Cow<'de, str>,
    /// The context of the value.
    pub(crate) ctx: Ctx<'de>,
}

impl<'de, T: Fields> DeserializeSeed<'de> for FieldSeed<'_, 'de, T> {
    type Value = Option<(&'static str, Box<Misfit>)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.target.read_field(self.seen, self.key, d, self.ctx)
    }
}

/// Reads an object into `target`, where it stays.
pub(crate) struct ObjectShape<'t, 'de, T> {
    pub(crate) target: &'t mut T,
    pub(crate) ctx: Ctx<'de>,
}

impl<'de, T: Fields> Shape<'de> for ObjectShape<'_, 'de, T> {
    const EXPECTING: &'static str = T::EXPECTING;

    fn strict(&self) -> bool {
        self.ctx.strict
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept, A::Error> {
        let mut seen = 0;
        let ctx = self.ctx.inside();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let seed = FieldSeed {
                target: &mut *self.target,
                seen: &mut seen,
                key,
                ctx,
            };
            if let Some(failed) = map.next_value_seed(seed)? {
                return keep_whole(self.target, seen, Some(failed), map);
            }
        }
        match T::REQUIRED.iter().find(|(_, bit)| seen & bit == 0) {
            None => Ok(None),
            Some((key, _)) if self.ctx.strict => Err(de::Error::missing_field(key)),
            Some(_) => keep_whole(self.target, seen, None, map),
        }
    }
}

/// The object read so far, and the rest of its map, as JSON: for an object whose required field
/// is missing or did not fit.
fn keep_whole<'de, T: Fields, A: MapAccess<'de>>(
    target: &T,
    seen: u64,
    failed: Option<(&'static str, Box<Misfit>)>,
    mut map: A,
) -> Result<Kept, A::Error> {
    let mut object = match serde_json::to_value(target).map_err(de::Error::custom)? {
        Value::Object(object) => object,
        _ => Map::new(),
    };
    // Required fields not read hold placeholders.
    for (key, bit) in T::REQUIRED {
        if seen & bit == 0 {
            object.remove(*key);
        }
    }
    let (path, problem) = match failed {
        Some((key, misfit)) => {
            let (value, path, problem) = misfit.into_part(format!(".{key}"));
            object.insert(key.to_owned(), value);
            (path, problem)
        }
        None => {
            let key = T::REQUIRED
                .iter()
                .find(|(_, bit)| seen & bit == 0)
                .map_or("", |(key, _)| key);
            (format!(".{key}"), Problem::Said(Cow::Borrowed("is missing")))
        }
    };
    read_strict_entries(&mut map, &mut object)?;
    Ok(Some(Box::new(Misfit {
        value: Value::Object(object),
        path,
        problem,
    })))
}

/// Reads an object in place (the [`Codec::read_into`](crate::de::codec::Codec) of every
/// [`object!`] struct).
pub(crate) fn read_object<'de, T: Fields, D: Deserializer<'de>>(
    d: D,
    target: &mut T,
    ctx: Ctx<'de>,
) -> Result<Kept, D::Error> {
    d.deserialize_any(crate::de::codec::Reader(ObjectShape { target, ctx }))
}

/// Reads an object as a value of its own (its `Deserialize` impl): strictly, so a missing
/// required field is an error.
pub(crate) fn deserialize_object<'de, T: Fields, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let mut out = T::default();
    match read_object(d, &mut out, Ctx::STRICT)? {
        None => Ok(out),
        Some(kept) => misfit(T::EXPECTING, kept.value, true).map(|_| out),
    }
}

/// Writes an object (its `Serialize` impl).
pub(crate) fn serialize_object<T: Fields, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    value.serialize_fields(&mut map)?;
    map.end()
}

/// The codec of a field: its type, or the codec named with `as`.
macro_rules! codec {
    ($ty:ty) => {
        $ty
    };
    ($ty:ty as $codec:ty) => {
        $codec
    };
}

/// Defines a struct for one JSON object.
///
/// ```text
/// object! {
///     /// Doc comment of the struct.
///     pub struct Name {
///         expecting: "a name object",
///         required {
///             /// Doc comment of the field.
///             id: CompactString = "_id" as Id,          // an id: reported when empty
///         }
///         expected {
///             kind: Platform = "type",                  // becomes `Option<Platform>`
///         }
///         usual {
///             name: CompactString = "name",
///         }
///         optional {
///             when: DateTime<Utc> = "when" as UnixSeconds,  // read and written by the codec `UnixSeconds`
///         }
///     }
/// }
/// ```
///
/// Each section may be left out. The struct gets a `pub extra` map for the keys it does not
/// model (or, with `flatten { envelope: Envelope }`, hands those keys to another object struct),
/// `Default`, `new()` taking the required fields, `Deserialize`, `Serialize`, and a
/// [`Codec`](crate::de::codec::Codec) so that other structs can hold it.
macro_rules! object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            expecting: $expecting:literal,
            $(serialize: $ser:ident,)?
            $(required { $( $(#[$rdoc:meta])* $rf:ident : $rty:ty = $rk:literal $(as $rc:ty)? ),* $(,)? })?
            $(expected { $( $(#[$edoc:meta])* $ef:ident : $ety:ty = $ek:literal $(as $ec:ty)? ),* $(,)? })?
            $(usual { $( $(#[$udoc:meta])* $uf:ident : $uty:ty = $uk:literal $(as $uc:ty)? ),* $(,)? })?
            $(optional { $( $(#[$odoc:meta])* $of:ident : $oty:ty = $ok:literal $(as $oc:ty)? ),* $(,)? })?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct $name {
            $($( $(#[$rdoc])* pub $rf: $rty, )*)?
            $($( $(#[$edoc])* pub $ef: Option<$ety>, )*)?
            $($( $(#[$udoc])* pub $uf: Option<$uty>, )*)?
            $($( $(#[$odoc])* pub $of: Option<$oty>, )*)?
            /// Keys this crate does not model, and values that did not fit their field (`null`
            /// included), kept as they arrived; they are written back inline when the value is
            /// serialized, so nothing that was sent is lost.
            pub extra: $crate::de::map::JsonMap,
        }

        $crate::de::object::object!(@serialize $name [$($ser)?]);
        $crate::de::object::object!(@impl $name, $expecting, extra, (), 0u32,
            [$($( $rf : $rty = $rk $(as $rc)? ),*)?]
            [$($( $ef : $ety = $ek $(as $ec)? ),*)?]
            [$($( $uf : $uty = $uk $(as $uc)? ),*)?]
            [$($( $of : $oty = $ok $(as $oc)? ),*)?]
        );
    };

    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            expecting: $expecting:literal,
            $(serialize: $ser:ident,)?
            $(required { $( $(#[$rdoc:meta])* $rf:ident : $rty:ty = $rk:literal $(as $rc:ty)? ),* $(,)? })?
            $(expected { $( $(#[$edoc:meta])* $ef:ident : $ety:ty = $ek:literal $(as $ec:ty)? ),* $(,)? })?
            $(usual { $( $(#[$udoc:meta])* $uf:ident : $uty:ty = $uk:literal $(as $uc:ty)? ),* $(,)? })?
            $(optional { $( $(#[$odoc:meta])* $of:ident : $oty:ty = $ok:literal $(as $oc:ty)? ),* $(,)? })?
            flatten { $(#[$fdoc:meta])* $ff:ident : $fty:ty }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct $name {
            $($( $(#[$rdoc])* pub $rf: $rty, )*)?
            $($( $(#[$edoc])* pub $ef: Option<$ety>, )*)?
            $($( $(#[$udoc])* pub $uf: Option<$uty>, )*)?
            $($( $(#[$odoc])* pub $of: Option<$oty>, )*)?
            $(#[$fdoc])*
            pub $ff: $fty,
        }

        $crate::de::object::object!(@serialize $name [$($ser)?]);
        $crate::de::object::object!(@impl $name, $expecting, $ff, $fty, <$fty as $crate::de::object::Fields>::BITS,
            [$($( $rf : $rty = $rk $(as $rc)? ),*)?]
            [$($( $ef : $ety = $ek $(as $ec)? ),*)?]
            [$($( $uf : $uty = $uk $(as $uc)? ),*)?]
            [$($( $of : $oty = $ok $(as $oc)? ),*)?]
        );
    };

    (@impl $name:ident, $expecting:literal, $rest:ident, $flat:ty, $offset:expr,
        [$( $rf:ident : $rty:ty = $rk:literal $(as $rc:ty)? ),*]
        [$( $ef:ident : $ety:ty = $ek:literal $(as $ec:ty)? ),*]
        [$( $uf:ident : $uty:ty = $uk:literal $(as $uc:ty)? ),*]
        [$( $of:ident : $oty:ty = $ok:literal $(as $oc:ty)? ),*]
    ) => {
        $crate::de::object::object!(@new $name, $rest, [$( $rf : $rty = $rk ),*]);

        impl $crate::de::object::Fields for $name {
            const EXPECTING: &'static str = $expecting;
            const REQUIRED: &'static [(&'static str, u64)] = {
                #[allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]
                enum Bit { $($rf,)* $($ef,)* $($uf,)* $($of,)* }
                &[$(($rk, 1u64 << ($offset + Bit::$rf as u32)),)*]
            };
            const BITS: u32 = {
                #[allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]
                enum Bit { $($rf,)* $($ef,)* $($uf,)* $($of,)* Count }
                // The fields of a flattened struct come first, then this struct's: together they
                // must fit the 64 bits of `seen`, checked when the crate is compiled.
                let bits = $offset + Bit::Count as u32;
                assert!(bits <= 64, "too many fields to track in a u64, flattened ones included");
                bits
            };

            #[allow(unreachable_code)]
            fn read_field<'de, D: ::serde::Deserializer<'de>>(
                &mut self,
                seen: &mut u64,
                key: ::std::borrow::Cow<'de, str>,
                d: D,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<Option<(&'static str, Box<$crate::de::codec::Misfit>)>, D::Error> {
                #[allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]
                enum Bit { $($rf,)* $($ef,)* $($uf,)* $($of,)* }
                match &*key {
                    $( $rk => {
                        $crate::de::object::take_bit(seen, 1 << ($offset + Bit::$rf as u32), $rk)?;
                        let kept = <$crate::de::object::codec!($rty $(as $rc)?) as $crate::de::codec::Codec>::read_into(d, &mut self.$rf, ctx)?;
                        return Ok(kept.map(|misfit| ($rk, misfit)));
                    } )*
                    $( $ek => {
                        $crate::de::object::take_bit(seen, 1 << ($offset + Bit::$ef as u32), $ek)?;
                        $crate::de::object::read_optional::<$crate::de::object::codec!($ety $(as $ec)?), D>(
                            d, &mut self.$ef, $crate::de::object::object!(@extra self.$rest), $ek, ctx)?;
                    } )*
                    $( $uk => {
                        $crate::de::object::take_bit(seen, 1 << ($offset + Bit::$uf as u32), $uk)?;
                        $crate::de::object::read_optional::<$crate::de::object::codec!($uty $(as $uc)?), D>(
                            d, &mut self.$uf, $crate::de::object::object!(@extra self.$rest), $uk, ctx)?;
                    } )*
                    $( $ok => {
                        $crate::de::object::take_bit(seen, 1 << ($offset + Bit::$of as u32), $ok)?;
                        $crate::de::object::read_optional::<$crate::de::object::codec!($oty $(as $oc)?), D>(
                            d, &mut self.$of, $crate::de::object::object!(@extra self.$rest), $ok, ctx)?;
                    } )*
                    _ => $crate::de::object::object!(@rest self.$rest, seen, key, d, ctx),
                }
                Ok(None)
            }

            fn bit(key: &str) -> u64 {
                #[allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]
                enum Bit { $($rf,)* $($ef,)* $($uf,)* $($of,)* }
                match key {
                    $( $rk => 1 << ($offset + Bit::$rf as u32), )*
                    $( $ek => 1 << ($offset + Bit::$ef as u32), )*
                    $( $uk => 1 << ($offset + Bit::$uf as u32), )*
                    $( $ok => 1 << ($offset + Bit::$of as u32), )*
                    _ => $crate::de::object::object!(@bit $rest, $flat, key),
                }
            }

            fn serialize_fields<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $( map.serialize_entry($rk, &$crate::de::codec::Write::<$crate::de::object::codec!($rty $(as $rc)?)>(&self.$rf))?; )*
                $( if let Some(value) = &self.$ef {
                    map.serialize_entry($ek, &$crate::de::codec::Write::<$crate::de::object::codec!($ety $(as $ec)?)>(value))?;
                } )*
                $( if let Some(value) = &self.$uf {
                    map.serialize_entry($uk, &$crate::de::codec::Write::<$crate::de::object::codec!($uty $(as $uc)?)>(value))?;
                } )*
                $( if let Some(value) = &self.$of {
                    map.serialize_entry($ok, &$crate::de::codec::Write::<$crate::de::object::codec!($oty $(as $oc)?)>(value))?;
                } )*
                $crate::de::object::object!(@write self.$rest, map, |key: &str| match key {
                    $( $rk => true, )*
                    $( $ek => self.$ef.is_some(), )*
                    $( $uk => self.$uf.is_some(), )*
                    $( $ok => self.$of.is_some(), )*
                    _ => false,
                })
            }

            /// The fields in the order they are written back (the flattened struct after them),
            /// then the values kept in `extra`: the order of the body.
            fn walk(&self, c: &mut $crate::de::walk::Checker) {
                $( c.at($rk, |c| <$crate::de::object::codec!($rty $(as $rc)?) as $crate::de::codec::Codec>::walk(&self.$rf, c)); )*
                $( match &self.$ef {
                    Some(value) => c.at($ek, |c| <$crate::de::object::codec!($ety $(as $ec)?) as $crate::de::codec::Codec>::walk(value, c)),
                    None => {
                        let extra = $crate::de::object::object!(@extra_ref self.$rest);
                        if extra.get($ek).map_or(true, ::serde_json::Value::is_null) {
                            c.missing($ek, $crate::de::walk::IssueKind::Spec);
                        }
                    }
                } )*
                $( match &self.$uf {
                    Some(value) => c.at($uk, |c| <$crate::de::object::codec!($uty $(as $uc)?) as $crate::de::codec::Codec>::walk(value, c)),
                    None => {
                        let extra = $crate::de::object::object!(@extra_ref self.$rest);
                        if extra.get($uk).map_or(true, ::serde_json::Value::is_null) {
                            c.missing($uk, $crate::de::walk::IssueKind::Advice);
                        }
                    }
                } )*
                $( if let Some(value) = &self.$of {
                    c.at($ok, |c| <$crate::de::object::codec!($oty $(as $oc)?) as $crate::de::codec::Codec>::walk(value, c));
                } )*
                $crate::de::object::object!(@walk self.$rest, c);
                #[allow(unused_variables)]
                for (key, value) in $crate::de::object::object!(@extra_ref self.$rest) {
                    match key.as_str() {
                        $( $ek => $crate::de::codec::report_kept::<$crate::de::object::codec!($ety $(as $ec)?)>(c, key, value), )*
                        $( $uk => $crate::de::codec::report_kept::<$crate::de::object::codec!($uty $(as $uc)?)>(c, key, value), )*
                        $( $ok => $crate::de::codec::report_kept::<$crate::de::object::codec!($oty $(as $oc)?)>(c, key, value), )*
                        _ => {}
                    }
                }
            }
        }

        impl $crate::de::object::Holder for $name {
            type Inner = Self;

            fn inner(&mut self) -> &mut Self {
                self
            }

            fn inner_ref(&self) -> &Self {
                self
            }
        }

        impl $crate::de::codec::Codec for $name {
            type Target = $name;
            const EXPECTING: &'static str = $expecting;

            fn read<'de, D: ::serde::Deserializer<'de>>(
                d: D,
                slot: &mut Option<Self>,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<$crate::de::codec::Kept, D::Error> {
                let target = slot.insert(Self::default());
                let kept = $crate::de::object::read_object(d, target, ctx)?;
                if kept.is_some() {
                    *slot = None;
                }
                Ok(kept)
            }

            fn read_into<'de, D: ::serde::Deserializer<'de>>(
                d: D,
                target: &mut Self,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<$crate::de::codec::Kept, D::Error> {
                $crate::de::object::read_object(d, target, ctx)
            }

            fn read_push<'de, D: ::serde::Deserializer<'de>>(
                d: D,
                list: &mut Vec<Self>,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<$crate::de::codec::Kept, D::Error> {
                let index = list.len();
                list.push(Self::default());
                let kept = $crate::de::object::read_object(d, &mut list[index], ctx)?;
                if kept.is_some() {
                    list.pop();
                }
                Ok(kept)
            }

            fn write<S: ::serde::Serializer>(target: &Self, s: S) -> Result<S::Ok, S::Error> {
                $crate::de::object::serialize_object(target, s)
            }

            fn walk(target: &Self, c: &mut $crate::de::walk::Checker) {
                $crate::de::object::Fields::walk(target, c)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::de::object::deserialize_object(d)
            }
        }

    };

    // `new()`, whose docs say which fields it sets: none, or the required ones.
    (@new $name:ident, $rest:ident, []) => {
        impl $name {
            #[doc = concat!("An empty `", stringify!($name), "`: every field `None`, and `",
                stringify!($rest), "` empty. The fields are public: set those you need.")]
            pub fn new() -> Self {
                Self::default()
            }
        }
    };
    (@new $name:ident, $rest:ident, [$( $rf:ident : $rty:ty = $rk:literal ),+]) => {
        impl $name {
            #[doc = concat!("A `", stringify!($name),
                "` with its required fields set from the arguments, in this order:")]
            ///
            $( #[doc = concat!("- `", stringify!($rf), "` (`", $rk, "`)")] )+
            ///
            #[doc = concat!("Every other field is `None`, and `", stringify!($rest),
                "` is empty. The fields are public: set those you need.")]
            #[allow(clippy::too_many_arguments)]
            pub fn new($($rf: impl Into<$rty>),*) -> Self {
                Self { $($rf: $rf.into(),)* ..Default::default() }
            }
        }
    };

    // `Serialize`: the fields in their order, then `extra`; or none, for a struct that writes
    // itself in another order (`serialize: by_hand`).
    (@serialize $name:ident []) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::de::object::serialize_object(self, s)
            }
        }
    };
    (@serialize $name:ident [by_hand]) => {};

    // The bit of a key no field of the struct has: none, or that of the object it flattens.
    (@bit extra, $flat:ty, $key:ident) => { 0 };
    (@bit $rest:ident, $flat:ty, $key:ident) => { <$flat as $crate::de::object::Fields>::bit($key) };
    // Where misfits go: the struct's own `extra`, or that of the object it flattens.
    (@extra $this:ident . extra) => { &mut $this.extra };
    (@extra $this:ident . $flat:ident) => { &mut $this.$flat.extra };
    (@extra_ref $this:ident . extra) => { &$this.extra };
    (@extra_ref $this:ident . $flat:ident) => { &$this.$flat.extra };
    // A key no field models.
    (@rest $this:ident . extra, $seen:ident, $key:ident, $d:ident, $ctx:ident) => {
        $crate::de::object::put_extra(&mut $this.extra, $key, $d)?
    };
    (@rest $this:ident . $flat:ident, $seen:ident, $key:ident, $d:ident, $ctx:ident) => {
        return $crate::de::object::Fields::read_field(&mut $this.$flat, $seen, $key, $d, $ctx)
    };
    // After the fields: `extra` (but a key a field also writes), or the flattened object.
    (@write $this:ident . extra, $map:ident, $is_set:expr) => {{
        let is_set = $is_set;
        for (key, value) in &$this.extra {
            if !is_set(key) {
                $map.serialize_entry(key, value)?;
            }
        }
        Ok(())
    }};
    (@write $this:ident . $flat:ident, $map:ident, $is_set:expr) => {{
        let _ = $is_set;
        $crate::de::object::Fields::serialize_fields(&$this.$flat, $map)
    }};
    (@walk $this:ident . extra, $c:ident) => {};
    (@walk $this:ident . $flat:ident, $c:ident) => {
        $crate::de::object::Fields::walk(&$this.$flat, $c)
    };
}

pub(crate) use {codec, object};
