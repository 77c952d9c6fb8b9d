//! Objects whose shape a tag key decides: a v1 body by its `trigger`, a v2 event by its `type`.
//!
//! Such an object is read in one pass whatever the position of its tag. The keys that come
//! before the tag (a v2 event's `id` and `createdAt`; rarely a v1 body's keys) are kept as JSON
//! until the tag is read: borrowed text when reading a `&str`, else values. Then they go to the
//! typed struct the tag names, or stay as they are for a tag the crate does not model, and the
//! rest of the object is read straight into place.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, MapAccess};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::de::codec::report_kept;
use crate::de::codec::Ctx;
use crate::de::json::{duplicate_key, insert_unique, read_strict_entries, KeySeed, StrictValue};
use crate::de::map::check_raw;
use crate::de::object::{FieldSeed, Fields};
use crate::de::walk::{Checker, IssueKind};

/// A value read before the tag: its JSON text, borrowed from the input when the reader is
/// serde_json on a `&str` (read again from it once the tag is known), else the value itself.
enum Captured<'de> {
    Text(&'de str),
    Value(Value),
}

/// The keys read before the tag, with their values, in order: the first few where the tag's
/// object is read (a v2 event has two), the rest in a list.
#[derive(Default)]
pub(crate) struct Pending<'de> {
    few: [Option<Entry<'de>>; 4],
    more: Vec<Entry<'de>>,
    /// The keys, once there are too many to compare one by one.
    keys: Option<HashSet<Cow<'de, str>>>,
}

/// A key read before the tag, and its value.
type Entry<'de> = (Cow<'de, str>, Captured<'de>);

impl<'de> Pending<'de> {
    /// The entries, in order.
    fn entries(&self) -> impl Iterator<Item = &Entry<'de>> {
        self.few.iter().flatten().chain(&self.more)
    }

    fn push(&mut self, entry: Entry<'de>) {
        match self.few.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(entry),
            None => self.more.push(entry),
        }
    }

    /// Keeps the value of a key read before the tag; `ctx` is the context of the value.
    pub(crate) fn capture<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
        ctx: Ctx,
    ) -> Result<(), A::Error> {
        const FEW: usize = 16;
        let known = match &mut self.keys {
            Some(keys) => !keys.insert(key.clone()),
            None => self.entries().any(|(k, _)| *k == key),
        };
        if known {
            return Err(duplicate_key(&key));
        }
        let value = if ctx.raw {
            let text = map.next_value::<&'de RawValue>()?.get();
            // Read again later from its own text, the value is checked as it will then be read,
            // but for the nesting that serde_json would still allow here: a text too short to
            // nest that deep needs no look.
            let levels = 127u8.saturating_sub(ctx.depth);
            if text.len() >= 2 * usize::from(levels) {
                check_raw(text, levels).map_err(de::Error::custom)?;
            }
            Captured::Text(text)
        } else {
            Captured::Value(map.next_value::<StrictValue>()?.0)
        };
        self.push((key, value));
        if self.keys.is_none() && self.more.len() > FEW {
            self.keys = Some(self.entries().map(|(k, _)| k.clone()).collect());
        }
        Ok(())
    }

    /// Keys already read as a JSON object, to be read again once a tag is known.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        let mut pending = Pending::default();
        for (key, value) in map {
            pending.push((Cow::Owned(key), Captured::Value(value)));
        }
        pending
    }

    /// The entries, in order, taken.
    fn take_entries(&mut self) -> impl Iterator<Item = Entry<'de>> + '_ {
        self.few
            .iter_mut()
            .filter_map(Option::take)
            .chain(self.more.drain(..))
    }

    /// Reads the entries into `target`, as fields read before the rest (see [`Fields`]).
    pub(crate) fn read_into<T: Fields, E: de::Error>(
        &mut self,
        target: &mut T,
        seen: &mut u64,
        ctx: Ctx,
    ) -> Result<(), E> {
        for (key, value) in self.take_entries() {
            let misfit = match value {
                // A string without escapes (an event's `id`, `createdAt`) needs no JSON reader.
                Captured::Text(text) if is_plain_string(text) => {
                    let plain = BorrowedStrDeserializer::<serde_json::Error>::new(&text[1..text.len() - 1]);
                    target.read_field(seen, key, plain, Ctx { raw: false, ..ctx })
                }
                Captured::Text(text) => {
                    let mut json = serde_json::Deserializer::from_str(text);
                    target.read_field(seen, key, &mut json, ctx)
                }
                // A value is not text that raw maps could be borrowed from.
                Captured::Value(value) => target.read_field(seen, key, value, Ctx { raw: false, ..ctx }),
            }
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
        for (key, value) in self.take_entries() {
            let value = match value {
                Captured::Text(text) => serde_json::from_str::<StrictValue>(text).map_err(E::custom)?.0,
                Captured::Value(value) => value,
            };
            insert_unique(&mut map, key.into_owned(), value)?;
        }
        Ok(map)
    }
}

/// Whether `text` (the text of one JSON value) is a string without escapes.
fn is_plain_string(text: &str) -> bool {
    text.len() >= 2 && text.starts_with('"') && !text.contains('\\')
}

/// Reads the keys captured before the tag, then the rest of the map, into `target`; `ctx` is the
/// context of the object's values. The tag itself was read already, so a second one is refused.
/// What identifies the object is read strictly: a required field that is missing or does not fit
/// is an error.
pub(crate) fn read_rest<'de, T: Fields, A: MapAccess<'de>>(
    target: &mut T,
    pending: &mut Pending<'de>,
    mut map: A,
    tag: &str,
    ctx: Ctx,
) -> Result<(), A::Error> {
    let ctx = Ctx { strict: true, ..ctx };
    let mut seen = 0;
    pending.read_into(target, &mut seen, ctx)?;
    while let Some(key) = map.next_key_seed(KeySeed)? {
        if key == tag {
            return Err(duplicate_key(tag));
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
pub(crate) fn read_unknown<'de, A: MapAccess<'de>>(
    pending: &mut Pending<'de>,
    tag: &str,
    value: Value,
    mut map: A,
) -> Result<Map<String, Value>, A::Error> {
    let mut body = pending.take_map()?;
    body.insert(tag.to_owned(), value);
    read_strict_entries(&mut map, &mut body)?;
    Ok(body)
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
    /// An unknown object from its whole body, with `tag` the name of its tag key (`type`).
    pub(crate) fn new(tag: &'static str, body: Map<String, Value>) -> Self {
        UnknownObject { body, tag }
    }

    /// The value of the tag (`type`), or `""` when the object has none or it is not a string.
    pub fn type_name(&self) -> &str {
        self.body
            .get(self.tag)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Validation: an object without a string tag, reported as `kind` when the tag is missing
    /// (the spec requires the `type` of a content or an action, but not that of an event).
    pub(crate) fn walk_tag(&self, c: &mut Checker, kind: IssueKind) {
        match self.body.get(self.tag) {
            None => c.missing(self.tag, kind),
            Some(tag) => report_kept::<String>(c, self.tag, tag),
        }
    }
}

/// What a variant of a [`tagged!`] enum holds: an [`object!`](crate::de::object::object) struct,
/// or a box of one (for a large variant).
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

/// The value of a tag: a name (borrowed when it has no escape), or the other JSON it was.
pub(crate) enum TagValue<'de> {
    Name(Cow<'de, str>),
    Other(Value),
}

impl TagValue<'_> {
    /// The value as JSON, for an object kept whole.
    pub(crate) fn into_value(self) -> Value {
        match self {
            TagValue::Name(name) => Value::String(name.into_owned()),
            TagValue::Other(value) => value,
        }
    }
}

/// Reads a [`TagValue`].
struct TagSeed;

impl<'de> de::DeserializeSeed<'de> for TagSeed {
    type Value = TagValue<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<TagValue<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for TagSeed {
    type Value = TagValue<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<TagValue<'de>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<TagValue<'de>, A::Error> {
        crate::de::json::StrictValueVisitor
            .visit_seq(seq)
            .map(TagValue::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TagValue<'de>, A::Error> {
        crate::de::json::StrictValueVisitor
            .visit_map(map)
            .map(TagValue::Other)
    }
}

/// The per-enum code that [`tagged!`] writes.
pub(crate) trait Tagged: Sized {
    /// The tag key, `type`.
    const TAG: &'static str;
    /// What the object is, for messages.
    const EXPECTING: &'static str;
    /// Reads the rest of the object once its tag is read; `ctx` is the context of its values.
    fn read_tagged<'de, A: MapAccess<'de>>(
        tag: TagValue<'de>,
        pending: &mut Pending<'de>,
        map: A,
        ctx: Ctx,
    ) -> Result<Self, A::Error>;
    /// An object without a tag.
    fn untagged(body: Map<String, Value>) -> Self;
}

/// Reads a tagged object into `slot`.
pub(crate) struct TaggedShape<'t, T> {
    pub(crate) slot: &'t mut Option<T>,
    pub(crate) ctx: Ctx,
}

impl<'de, T: Tagged> crate::de::codec::Shape<'de> for TaggedShape<'_, T> {
    const EXPECTING: &'static str = T::EXPECTING;

    fn strict(&self) -> bool {
        self.ctx.strict
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<crate::de::codec::Kept, A::Error> {
        let mut pending = Pending::default();
        let ctx = self.ctx.inside();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == T::TAG {
                let tag = map.next_value_seed(TagSeed)?;
                *self.slot = Some(T::read_tagged(tag, &mut pending, map, ctx)?);
                return Ok(None);
            }
            pending.capture(key, &mut map, ctx)?;
        }
        *self.slot = Some(T::untagged(pending.take_map()?));
        Ok(None)
    }
}

/// Defines an enum of objects told apart by a tag key (`type`): v2 events, message contents,
/// actions.
///
/// ```text
/// tagged! {
///     /// Doc comment of the enum.
///     pub enum Content {
///         expecting: "a content object",
///         tag: "type",
///         missing_tag: Spec,                  // or Advice: how a missing tag is reported
///         /// Doc comment of the variant.
///         Text(TextContent) = "text",
///         Image(Box<ImageContent>) = "image",
///     }
/// }
/// ```
///
/// Each variant holds an [`object!`](crate::de::object::object) struct (without required fields:
/// the object is read leniently) or a box of one. The enum gets an `Unknown(UnknownObject)`
/// variant for a tag it does not know, a tag that is not a string, or none, keeping the object as
/// it was sent; `TYPES`, `type_name()`, `Deserialize`, `Serialize` and a
/// [`Codec`](crate::de::codec::Codec). The tag may stand anywhere among the keys.
macro_rules! tagged {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            expecting: $expecting:literal,
            tag: $tag:literal,
            missing_tag: $missing:ident,
            $( $(#[$vdoc:meta])* $variant:ident($ty:ty) = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* #[doc = concat!("\n\n`", $tag, "`: `\"", $value, "\"`.")] $variant($ty), )*
            #[doc = concat!("A `", $tag, "` this crate does not model (or none), with the whole object as it was sent.")]
            Unknown($crate::de::tagged::UnknownObject),
        }

        $( const _: () = assert!(
            <<$ty as $crate::de::tagged::Holder>::Inner as $crate::de::object::Fields>::REQUIRED.is_empty(),
            "a variant of a tagged enum has no required field"
        ); )*

        impl $name {
            #[doc = concat!("The values of `", $tag, "` this crate models, each with its own variant.")]
            pub const TYPES: &'static [&'static str] = &[$($value),*];

            #[doc = concat!("The value of `", $tag, "` (`\"\"` for an object without one).")]
            pub fn type_name(&self) -> &str {
                match self {
                    $( $name::$variant(_) => $value, )*
                    $name::Unknown(unknown) => unknown.type_name(),
                }
            }
        }

        impl $crate::de::tagged::Tagged for $name {
            const TAG: &'static str = $tag;
            const EXPECTING: &'static str = $expecting;

            fn read_tagged<'de, A: ::serde::de::MapAccess<'de>>(
                tag: $crate::de::tagged::TagValue<'de>,
                pending: &mut $crate::de::tagged::Pending<'de>,
                map: A,
                ctx: $crate::de::codec::Ctx,
            ) -> Result<Self, A::Error> {
                if let $crate::de::tagged::TagValue::Name(name) = &tag {
                    match &**name {
                        $( $value => {
                            let mut value = <$ty as Default>::default();
                            $crate::de::tagged::read_rest(
                                $crate::de::tagged::Holder::inner(&mut value), pending, map, $tag, ctx)?;
                            return Ok($name::$variant(value));
                        } )*
                        _ => {}
                    }
                }
                let body = $crate::de::tagged::read_unknown(pending, $tag, tag.into_value(), map)?;
                Ok($name::Unknown($crate::de::tagged::UnknownObject::new($tag, body)))
            }

            fn untagged(body: ::serde_json::Map<String, ::serde_json::Value>) -> Self {
                $name::Unknown($crate::de::tagged::UnknownObject::new($tag, body))
            }
        }

        impl $crate::de::codec::Codec for $name {
            type Target = $name;
            const EXPECTING: &'static str = $expecting;

            fn read<'de, D: ::serde::Deserializer<'de>>(
                d: D,
                slot: &mut Option<Self>,
                ctx: $crate::de::codec::Ctx,
            ) -> Result<$crate::de::codec::Kept, D::Error> {
                d.deserialize_any($crate::de::codec::Reader($crate::de::tagged::TaggedShape { slot, ctx }))
            }

            fn write<S: ::serde::Serializer>(target: &Self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(target, s)
            }

            fn walk(target: &Self, c: &mut $crate::de::walk::Checker) {
                match target {
                    $( $name::$variant(value) => $crate::de::object::Fields::walk(
                        $crate::de::tagged::Holder::inner_ref(value), c), )*
                    $name::Unknown(unknown) => unknown.walk_tag(c, $crate::de::walk::IssueKind::$missing),
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
                            $crate::de::tagged::Holder::inner_ref(value), &mut map)?;
                    } )*
                    $name::Unknown(unknown) => {
                        for (key, value) in &unknown.body {
                            map.serialize_entry(key, value)?;
                        }
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
