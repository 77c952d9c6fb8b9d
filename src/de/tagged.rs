//! Objects whose shape one of their keys decides: a body by `trigger` or `events` (the version), a
//! v1 body by its `trigger`, a v2 event, content, action, quoted message or activity by its
//! `type`. One reader, [`read_tagged`], serves all of them: the [`Tagged`] trait says which keys
//! decide and what to read once one is found, and [`tagged!`] writes that for an enum of
//! [`object!`](crate::de::object::object) structs.
//!
//! The deciding key may stand anywhere, and every key is still read once:
//!
//! 1. A deciding key read first (what Smooch sends): the rest of the object goes straight into the
//!    struct it names.
//! 2. Another key first: the reader looks ahead in the JSON text for the deciding key
//!    ([`look_ahead`], which reads no value on the way), then reads every key, the first one
//!    included, straight into the struct; the deciding key, when it comes, is passed over.
//! 3. When there is no text to look in (a `Value`, another data format) or the first key has an
//!    escape, the keys before the deciding one are kept as values ([`Pending`]) and read into the
//!    struct once it is known.
//!
//! A tag the enum does not model keeps the whole object, exactly as it was sent.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::de::codec::{report_kept, Ctx, Kept, Shape};
use crate::de::json::{duplicate_key, insert_unique, read_strict_entries, KeySeed, StrictValue};
#[cfg(doc)]
use crate::de::object::Holder;
use crate::de::object::{FieldSeed, Fields};
use crate::de::raw::{look_ahead, Ahead};
use crate::de::walk::{Checker, IssueKind};

/// A tagged shape: which keys decide it, and how the rest is read once one is found.
pub(crate) trait Tagged: Sized {
    /// What the object is, for messages.
    const EXPECTING: &'static str;

    /// The keys every shape shares (a v2 event's `id` and `createdAt`): read as they come when
    /// they stand before the tag, straight into this struct, then handed to the struct the tag
    /// names. [`NoHead`] when the shapes share none.
    type Head: Fields;

    /// The deciding key `key` is (`"type"`), if it is one.
    fn deciding(key: &str) -> Option<&'static str>;

    /// Reads the rest of the object once the deciding key `key` was found (see [`Found`]);
    /// `before` holds the keys read before it, `ctx` is the context of the object's values.
    fn read_decided<'de, A: MapAccess<'de>>(
        key: &'static str,
        found: Found<'de>,
        before: Before<Self::Head>,
        map: A,
        ctx: Ctx<'de>,
    ) -> Result<Self, A::Error>;

    /// An object without a deciding key, whole.
    fn undecided<E: de::Error>(body: Map<String, Value>) -> Result<Self, E>;
}

/// Where the deciding key of an object stands.
pub(crate) enum Found<'de> {
    /// It was just read from the map: its value comes next.
    Here,
    /// Further on, found by looking ahead in the text; the map has not reached it yet.
    Ahead {
        /// Its value, when it is a string.
        tag: Option<Cow<'de, str>>,
        /// The key just read (the object's first), whose value comes next.
        next: Cow<'de, str>,
    },
}

/// Reads an object of shape `T` from `map`: the one loop every tagged shape shares. `ctx` is the
/// context of the object's values.
pub(crate) fn read_tagged<'de, T: Tagged, A: MapAccess<'de>>(
    mut map: A,
    ctx: Ctx<'de>,
) -> Result<T, A::Error> {
    let mut before = Before::<T::Head>::default();
    let mut looked = false;
    while let Some(key) = map.next_key_seed(KeySeed)? {
        if let Some(tag) = T::deciding(&key) {
            return T::read_decided(tag, Found::Here, before, map, ctx);
        }
        if T::Head::bit(&key) != 0 {
            map.next_value_seed(FieldSeed {
                target: &mut before.head,
                seen: &mut before.head_seen,
                key,
                ctx,
            })?;
            continue;
        }
        if let (false, Some(input), Cow::Borrowed(first)) = (looked, ctx.input, &key) {
            looked = true;
            match look_ahead(input, first, T::deciding) {
                Some(Ahead::Found { key: tag, tag: value }) => {
                    let found = Found::Ahead {
                        tag: value,
                        next: key,
                    };
                    return T::read_decided(tag, found, before, map, ctx);
                }
                Some(Ahead::NoTag) => {
                    let mut body = before.take_map()?;
                    let StrictValue(value) = map.next_value()?;
                    insert_unique(&mut body, key.into_owned(), value)?;
                    read_strict_entries(&mut map, &mut body)?;
                    return T::undecided(body);
                }
                None => {}
            }
        }
        before.pending.capture(key, &mut map)?;
    }
    T::undecided(before.take_map()?)
}

/// What was read of an object before its tag: the keys its shapes share, in `head`, and the
/// others, when they could not be looked past, in `pending`.
#[derive(Default)]
pub(crate) struct Before<H> {
    head: H,
    head_seen: u64,
    pending: Pending,
}

impl<H: Fields> Before<H> {
    /// Keys already read as a JSON object (no head).
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Before {
            head: H::default(),
            head_seen: 0,
            pending: Pending::from_map(map),
        }
    }

    /// Everything read before the tag, as a JSON object, as it was sent.
    fn take_map<E: de::Error>(&mut self) -> Result<Map<String, Value>, E> {
        let mut map = self.pending.take_map()?;
        if self.head_seen != 0 {
            if let Value::Object(head) = serde_json::to_value(&self.head).map_err(E::custom)? {
                for (key, value) in head {
                    insert_unique(&mut map, key, value)?;
                }
            }
        }
        Ok(map)
    }

    /// The same with its head turned into another (the version switch's, into the head of
    /// the version it routes to).
    pub(crate) fn map_head<G>(self, to: impl FnOnce(H) -> G) -> Before<G> {
        Before {
            head: to(self.head),
            head_seen: self.head_seen,
            pending: self.pending,
        }
    }

    /// Reads what was read before the tag into `target`: the head's fields, then the pending
    /// keys. Returns the bits of `seen` set.
    pub(crate) fn read_into<T: TakeHead<H>, E: de::Error>(
        self,
        target: &mut T,
        ctx: Ctx<'_>,
    ) -> Result<u64, E> {
        let Before {
            head,
            head_seen,
            mut pending,
        } = self;
        let mut seen = if head_seen != 0 { target.take_head(head) } else { 0 };
        pending.read_into(target, &mut seen, ctx)?;
        Ok(seen)
    }
}

/// A struct that takes the head of its tagged enum: the keys its shapes share, read before the
/// tag (see [`Tagged::Head`]).
pub(crate) trait TakeHead<H>: Fields {
    /// Moves the head's fields (and what it kept in its `extra`) into this struct; the bits of
    /// `seen` for the keys taken.
    fn take_head(&mut self, head: H) -> u64;
}

/// The head of an enum whose shapes share no key.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct NoHead {}

impl Fields for NoHead {
    const EXPECTING: &'static str = "an object";
    const REQUIRED: &'static [(&'static str, u64)] = &[];
    const BITS: u32 = 0;

    fn read_field<'de, D: Deserializer<'de>>(
        &mut self,
        _: &mut u64,
        _: Cow<'de, str>,
        d: D,
        _: Ctx<'de>,
    ) -> Result<Option<(&'static str, Box<crate::de::codec::Misfit>)>, D::Error> {
        // Never called: no key is a field of `NoHead`.
        d.deserialize_ignored_any(IgnoredAny).map(|_| None)
    }

    fn serialize_fields<M: SerializeMap>(&self, _: &mut M) -> Result<(), M::Error> {
        Ok(())
    }

    fn walk(&self, _: &mut Checker) {}

    fn bit(_: &str) -> u64 {
        0
    }
}

impl<T: Fields> TakeHead<NoHead> for T {
    fn take_head(&mut self, _: NoHead) -> u64 {
        0
    }
}

/// The keys read before the deciding one, with their values, in order: only when it could not be
/// looked ahead for (see the module's docs).
#[derive(Default)]
pub(crate) struct Pending {
    entries: Vec<(String, Value)>,
    /// The keys, once there are too many to compare one by one.
    keys: Option<HashSet<String>>,
}

impl Pending {
    /// Keeps the value of a key read before the deciding one, refusing a key read twice.
    fn capture<'de, A: MapAccess<'de>>(&mut self, key: Cow<'de, str>, map: &mut A) -> Result<(), A::Error> {
        const FEW: usize = 16;
        let key = key.into_owned();
        let known = match &mut self.keys {
            Some(keys) => !keys.insert(key.clone()),
            None => self.entries.iter().any(|(k, _)| *k == key),
        };
        if known {
            return Err(duplicate_key(&key));
        }
        let StrictValue(value) = map.next_value()?;
        self.entries.push((key, value));
        if self.keys.is_none() && self.entries.len() > FEW {
            self.keys = Some(self.entries.iter().map(|(k, _)| k.clone()).collect());
        }
        Ok(())
    }

    /// Keys already read as a JSON object, to be read again once a deciding key is known.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Pending {
            entries: map.into_iter().collect(),
            keys: None,
        }
    }

    /// Reads the entries into `target`, as fields read before the rest (see [`Fields`]).
    pub(crate) fn read_into<T: Fields, E: de::Error>(
        &mut self,
        target: &mut T,
        seen: &mut u64,
        ctx: Ctx<'_>,
    ) -> Result<(), E> {
        for (key, value) in self.entries.drain(..) {
            let misfit = target
                .read_field(seen, Cow::Owned(key), value, ctx.elsewhere())
                .map_err(E::custom)?;
            if let Some((key, misfit)) = misfit {
                return Err(E::custom(format_args!(
                    "{key}{}: {}",
                    misfit.path,
                    misfit.problem()
                )));
            }
        }
        Ok(())
    }

    /// The entries as a JSON object.
    fn take_map<E: de::Error>(&mut self) -> Result<Map<String, Value>, E> {
        let mut map = Map::new();
        for (key, value) in self.entries.drain(..) {
            insert_unique(&mut map, key, value)?;
        }
        Ok(map)
    }
}

/// How the rest of an object is read once its tag is known.
pub(crate) enum Rest<'de> {
    /// The tag was read; for an object kept whole, the tag's value when it is not a string.
    AfterTag(Option<Value>),
    /// The tag stands further on; the key just read, whose value comes next.
    Ahead(Cow<'de, str>),
}

/// The tag's name (when it is a string) and how the rest is read, for a deciding key `found`.
pub(crate) fn split<'de, A: MapAccess<'de>>(
    found: Found<'de>,
    map: &mut A,
) -> Result<(Option<Cow<'de, str>>, Rest<'de>), A::Error> {
    Ok(match found {
        Found::Here => match map.next_value_seed(TagSeed)? {
            TagValue::Name(name) => (Some(name), Rest::AfterTag(None)),
            TagValue::Other(value) => (None, Rest::AfterTag(Some(value))),
        },
        Found::Ahead { tag, next } => (tag, Rest::Ahead(next)),
    })
}

/// Reads the keys captured before the tag, then the rest of the map, into `target`; `ctx` is the
/// context of the object's values. A second tag is refused. What identifies the object is read
/// strictly: a required field that is missing or does not fit is an error.
pub(crate) fn read_rest<'de, H: Fields, T: TakeHead<H>, A: MapAccess<'de>>(
    target: &mut T,
    before: Before<H>,
    rest: Rest<'de>,
    mut map: A,
    tag: &str,
    ctx: Ctx<'de>,
) -> Result<(), A::Error> {
    let ctx = Ctx { strict: true, ..ctx };
    let mut seen = before.read_into(target, ctx)?;
    let mut tag_ahead = false;
    if let Rest::Ahead(next) = rest {
        tag_ahead = true;
        map.next_value_seed(FieldSeed {
            target: &mut *target,
            seen: &mut seen,
            key: next,
            ctx,
        })?;
    }
    while let Some(key) = map.next_key_seed(KeySeed)? {
        if key == tag {
            if !tag_ahead {
                return Err(duplicate_key(tag));
            }
            // The tag found ahead, whose value said what `target` is.
            tag_ahead = false;
            map.next_value::<IgnoredAny>()?;
            continue;
        }
        map.next_value_seed(FieldSeed {
            target: &mut *target,
            seen: &mut seen,
            key,
            ctx,
        })?;
    }
    match T::REQUIRED.iter().find(|(_, bit)| seen & bit == 0) {
        Some((key, _)) => Err(de::Error::missing_field(key)),
        None => Ok(()),
    }
}

/// The whole object of a tag the crate does not model: the keys captured before the tag, the tag,
/// and the rest, all as they were sent.
pub(crate) fn read_unknown<'de, H: Fields, A: MapAccess<'de>>(
    mut before: Before<H>,
    name: Option<Cow<'de, str>>,
    rest: Rest<'de>,
    tag: &str,
    mut map: A,
) -> Result<Map<String, Value>, A::Error> {
    let mut body = before.take_map()?;
    match rest {
        Rest::AfterTag(other) => {
            let value = match (other, name) {
                (Some(value), _) => value,
                (None, name) => Value::String(name.unwrap_or_default().into_owned()),
            };
            insert_unique(&mut body, tag.to_owned(), value)?;
        }
        Rest::Ahead(next) => {
            let StrictValue(value) = map.next_value()?;
            insert_unique(&mut body, next.into_owned(), value)?;
        }
    }
    read_strict_entries(&mut map, &mut body)?;
    Ok(body)
}

/// What the `Unknown` variant of a [`tagged!`] enum holds: the whole object of a tag the enum does
/// not model.
pub(crate) trait Unknown: Sized {
    /// Builds it from the whole object, whose tag key is `tag`; an error when the shape cannot be
    /// unknown (a v1 body must have a string `trigger`).
    fn from_body<E: de::Error>(tag: &'static str, body: Map<String, Value>) -> Result<Self, E>;
    /// The tag's value.
    fn type_name(&self) -> &str;
    /// Writes the object's entries into a map being serialized.
    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// Validation: what is reported of an unknown object (`missing` says how a missing tag is).
    fn walk(&self, c: &mut Checker, missing: IssueKind);
}

impl<T: Unknown> Unknown for Box<T> {
    fn from_body<E: de::Error>(tag: &'static str, body: Map<String, Value>) -> Result<Self, E> {
        T::from_body(tag, body).map(Box::new)
    }

    fn type_name(&self) -> &str {
        T::type_name(self)
    }

    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        T::serialize_entries(self, map)
    }

    fn walk(&self, c: &mut Checker, missing: IssueKind) {
        T::walk(self, c, missing)
    }
}

/// An object whose tag names no variant this crate models (or that has no string tag), exactly
/// as it was sent.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct UnknownObject {
    /// The whole object, the tag included.
    pub body: Map<String, Value>,
    tag: &'static str,
}

impl UnknownObject {
    /// The value of the tag (`type`), or `""` when the object has none or it is not a string.
    pub fn type_name(&self) -> &str {
        self.body
            .get(self.tag)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

impl Unknown for UnknownObject {
    fn from_body<E: de::Error>(tag: &'static str, body: Map<String, Value>) -> Result<Self, E> {
        Ok(UnknownObject { body, tag })
    }

    fn type_name(&self) -> &str {
        UnknownObject::type_name(self)
    }

    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        self.body
            .iter()
            .try_for_each(|(key, value)| map.serialize_entry(key, value))
    }

    /// An object without a string tag (the tag is what every variant needs).
    fn walk(&self, c: &mut Checker, missing: IssueKind) {
        match self.body.get(self.tag) {
            None => c.missing(self.tag, missing),
            Some(tag) => report_kept::<String>(c, self.tag, tag),
        }
    }
}

/// The value of a tag: a name (borrowed when it has no escape), or the other JSON it was.
enum TagValue<'de> {
    Name(Cow<'de, str>),
    Other(Value),
}

/// Reads a [`TagValue`].
struct TagSeed;

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = TagValue<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TagValue<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TagSeed {
    type Value = TagValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Name(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Name(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Name(Cow::Owned(v)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::from(v)))
    }

    fn visit_unit<E>(self) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::Null))
    }

    fn visit_none<E>(self) -> Result<TagValue<'de>, E> {
        Ok(TagValue::Other(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TagValue<'de>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<TagValue<'de>, A::Error> {
        crate::de::json::StrictValueVisitor::default()
            .visit_seq(seq)
            .map(TagValue::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TagValue<'de>, A::Error> {
        crate::de::json::StrictValueVisitor::default()
            .visit_map(map)
            .map(TagValue::Other)
    }
}

/// Reads a tagged object into `slot` (the [`Codec`](crate::de::codec::Codec) of a [`tagged!`]
/// enum).
pub(crate) struct TaggedShape<'t, 'de, T> {
    pub(crate) slot: &'t mut Option<T>,
    pub(crate) ctx: Ctx<'de>,
}

impl<'de, T: Tagged> Shape<'de> for TaggedShape<'_, 'de, T> {
    const EXPECTING: &'static str = T::EXPECTING;

    fn strict(&self) -> bool {
        self.ctx.strict
    }

    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Kept, A::Error> {
        *self.slot = Some(read_tagged(map, self.ctx.inside())?);
        Ok(None)
    }
}

/// Reads a whole body of shape `T`, whose values have the context `ctx`.
pub(crate) struct TaggedSeed<'de, T> {
    ctx: Ctx<'de>,
    shape: PhantomData<T>,
}

impl<'de, T> TaggedSeed<'de, T> {
    /// Reads a body whose values have the context `ctx`.
    pub(crate) fn new(ctx: Ctx<'de>) -> Self {
        TaggedSeed {
            ctx,
            shape: PhantomData,
        }
    }
}

impl<'de, T: Tagged> DeserializeSeed<'de> for TaggedSeed<'de, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Tagged> Visitor<'de> for TaggedSeed<'de, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        read_tagged(map, self.ctx)
    }
}

/// Defines an enum of objects told apart by a tag key: v1 bodies by `trigger`, v2 events, message
/// contents, actions.
///
/// ```text
/// tagged! {
///     /// Doc comment of the enum.
///     pub enum Content {
///         expecting: "a content object",
///         tag: "type",
///         missing_tag: Spec,                 // or Advice: how validation reports a missing tag
///         names: TYPES / type_name,          // the const listing the tags, the method giving one
///         head: NoHead,                      // the keys every variant shares (`Tagged::Head`)
///         unknown: UnknownObject,            // what holds an object of another tag (`Unknown`)
///         /// Doc comment of the variant.
///         Text(TextContent) = "text",
///         Image(Box<ImageContent>) = "image",
///     }
/// }
/// ```
///
/// Each variant holds an [`object!`](crate::de::object::object) struct or a box of one; its
/// required fields identify the object (missing, they are an error). The enum gets an
/// `Unknown(…)` variant for a tag it does not know, keeping the object as it was sent; the const
/// and method named by `names`, [`Tagged`], `Deserialize`, `Serialize` (the tag first, then the
/// fields) and a [`Codec`](crate::de::codec::Codec). The tag may stand anywhere among the keys.
macro_rules! tagged {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            expecting: $expecting:literal,
            tag: $tag:literal,
            missing_tag: $missing:ident,
            names: $types:ident / $type_fn:ident,
            head: $head:ty,
            unknown: $(#[$udoc:meta])* $unknown:ty,
            $( $(#[$vdoc:meta])* $variant:ident($ty:ty) = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* #[doc = concat!("\n\n`", $tag, "`: `\"", $value, "\"`.")] $variant($ty), )*
            $(#[$udoc])*
            Unknown($unknown),
        }

        impl $name {
            #[doc = concat!("The values of `", $tag, "` this crate models, each with its own variant.")]
            pub const $types: &'static [&'static str] = &[$($value),*];

            #[doc = concat!("The value of `", $tag, "`: for [`", stringify!($name),
                "::Unknown`], as sent, or `\"\"` when the object has no string `", $tag, "`.")]
            pub fn $type_fn(&self) -> &str {
                match self {
                    $( $name::$variant(_) => $value, )*
                    $name::Unknown(unknown) => $crate::de::tagged::Unknown::type_name(unknown),
                }
            }
        }

        impl $crate::de::tagged::Tagged for $name {
            const EXPECTING: &'static str = $expecting;
            type Head = $head;

            fn deciding(key: &str) -> Option<&'static str> {
                (key == $tag).then_some($tag)
            }

            fn read_decided<'de, A: ::serde::de::MapAccess<'de>>(
                _: &'static str,
                found: $crate::de::tagged::Found<'de>,
                before: $crate::de::tagged::Before<$head>,
                mut map: A,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<Self, A::Error> {
                let (name, rest) = $crate::de::tagged::split(found, &mut map)?;
                if let Some(name) = &name {
                    match &**name {
                        $( $value => {
                            let mut value = <$ty as Default>::default();
                            $crate::de::tagged::read_rest(
                                $crate::de::object::Holder::inner(&mut value), before, rest, map, $tag, ctx)?;
                            return Ok($name::$variant(value));
                        } )*
                        _ => {}
                    }
                }
                let body = $crate::de::tagged::read_unknown(before, name, rest, $tag, map)?;
                <$unknown as $crate::de::tagged::Unknown>::from_body($tag, body).map($name::Unknown)
            }

            fn undecided<E: ::serde::de::Error>(
                body: ::serde_json::Map<String, ::serde_json::Value>,
            ) -> Result<Self, E> {
                <$unknown as $crate::de::tagged::Unknown>::from_body($tag, body).map($name::Unknown)
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
                d.deserialize_any($crate::de::codec::Reader($crate::de::tagged::TaggedShape { slot, ctx }))
            }

            fn write<S: ::serde::Serializer>(target: &Self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(target, s)
            }

            fn walk(target: &Self, c: &mut $crate::de::walk::Checker) {
                match target {
                    $( $name::$variant(value) => $crate::de::object::Fields::walk(
                        $crate::de::object::Holder::inner_ref(value), c), )*
                    $name::Unknown(unknown) => $crate::de::tagged::Unknown::walk(
                        unknown, c, $crate::de::walk::IssueKind::$missing),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                match self {
                    $( $name::$variant(value) => {
                        map.serialize_entry($tag, $value)?;
                        $crate::de::object::Fields::serialize_fields(
                            $crate::de::object::Holder::inner_ref(value), &mut map)?;
                    } )*
                    $name::Unknown(unknown) => {
                        $crate::de::tagged::Unknown::serialize_entries(unknown, &mut map)?;
                    }
                }
                map.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let mut slot = None;
                match <$name as $crate::de::codec::Codec>::read(d, &mut slot, $crate::de::codec::Ctx::STRICT)? {
                    None => slot.ok_or_else(|| ::serde::de::Error::custom($expecting)),
                    Some(_) => Err(::serde::de::Error::custom($expecting)),
                }
            }
        }
    };
}

pub(crate) use tagged;

#[cfg(test)]
#[allow(dead_code, unreachable_pub)]
mod tests {
    use serde_json::{json, Value};

    use crate::de::codec::{Codec, Ctx};
    use crate::de::object::object;
    use crate::de::tagged::UnknownObject;

    object! {
        /// A text.
        pub struct Text {
            expecting: "a text object",
            optional {
                /// The text.
                text: String = "text",
            }
        }
    }

    object! {
        /// A list.
        pub struct Items {
            expecting: "a list object",
            expected {
                /// The items.
                items: Vec<Text> = "items",
            }
        }
    }

    tagged! {
        /// A test content.
        pub enum Content {
            expecting: "a content object",
            tag: "type",
            missing_tag: Spec,
            names: TYPES / type_name,
            head: crate::de::tagged::NoHead,
            unknown: /// Another type, whole.
                UnknownObject,
            /// Text.
            Text(Text) = "text",
            /// Items, boxed.
            Items(Box<Items>) = "list",
        }
    }

    fn read(value: Value) -> Content {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_tag_picks_the_variant_wherever_it_stands() {
        for body in [
            json!({"type": "text", "text": "hi", "x": null}),
            json!({"text": "hi", "x": null, "type": "text"}),
        ] {
            let content = read(body.clone());
            let Content::Text(text) = &content else {
                panic!("{content:?}")
            };
            assert_eq!(text.text.as_deref(), Some("hi"));
            assert_eq!(content.type_name(), "text");
            assert_eq!(serde_json::to_value(&content).unwrap(), body);
            let from_text: Content = serde_json::from_str(&body.to_string()).unwrap();
            assert_eq!(from_text, content);
        }
        let content = read(json!({"items": [{"text": "a"}, 5], "type": "list"}));
        let Content::Items(items) = &content else {
            panic!("{content:?}")
        };
        assert_eq!(items.items, None);
        assert_eq!(items.extra["items"], json!([{"text": "a"}, 5]));
    }

    #[test]
    fn an_unknown_missing_or_odd_tag_keeps_the_object() {
        for (body, name) in [
            (json!({"a": 1, "type": "carousel", "b": [null]}), "carousel"),
            (json!({"a": 1}), ""),
            (json!({"type": 7, "text": "x"}), ""),
        ] {
            let content = read(body.clone());
            let Content::Unknown(unknown) = &content else {
                panic!("{content:?}")
            };
            assert_eq!(Value::Object(unknown.body.clone()), body);
            assert_eq!(content.type_name(), name);
            assert_eq!(serde_json::to_value(&content).unwrap(), body);
        }
    }

    #[test]
    fn a_value_that_is_not_an_object_is_a_misfit_or_an_error() {
        let mut slot = None;
        let kept = Content::read(&json!("text"), &mut slot, Ctx::TOLERANT)
            .unwrap()
            .unwrap();
        assert_eq!(kept.value, json!("text"));
        assert_eq!(
            kept.problem(),
            "expected a content object, found the string \"text\""
        );
        assert!(Content::read(&json!([]), &mut slot, Ctx::STRICT).is_err());
        assert!(serde_json::from_value::<Content>(json!({"type": "text", "type": "text"})).is_ok());
        let duplicate = serde_json::from_str::<Content>(r#"{"type": "text", "type": "text"}"#);
        assert!(duplicate
            .unwrap_err()
            .to_string()
            .starts_with("duplicate key `type`"));
    }
}
