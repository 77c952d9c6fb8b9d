//! How each kind of field is read, written and checked: the [`Codec`] trait and its
//! implementations for strings, numbers, booleans, lists, boxes and any JSON value.
//!
//! Reading is tolerant. A value of the wrong JSON type, or one that cannot be what its field
//! says (an impossible date, a negative size), is not an error: the codec reports it as a
//! [`Misfit`] holding the value exactly as it was sent, the struct keeps that value in its
//! `extra` map under its own key (so that serializing writes it back where it was), and
//! validation reports it with its path. Only a *strict* read, for what identifies an event,
//! turns a misfit into an error.

use std::borrow::Cow;

use compact_str::CompactString;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::Serialize;
use serde_json::Value;

use crate::de::json::{describe, StrictValue, StrictValueVisitor};
use crate::de::walk::{Checker, IssueKind};

/// A value that did not fit its field, kept exactly as it was sent.
#[derive(Debug)]
pub(crate) struct Misfit {
    /// The value as it was sent.
    pub(crate) value: Value,
    /// Where in the value the problem is, relative to it: empty, `[1]` or `._id`.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) problem: Problem,
}

/// What is wrong with a misfit. Parsing keeps misfits without reading this (validation says it),
/// so it is only written out when asked for.
#[derive(Debug)]
pub(crate) enum Problem {
    /// The value itself is not what the field expects (`expected a string`).
    Expected(&'static str),
    /// What is wrong with a part of the value, written out.
    Said(Cow<'static, str>),
}

impl Misfit {
    /// What is wrong, in words: `expected an ISO-8601 time, found the number 1457550541431`,
    /// `is null`, `is missing`.
    pub(crate) fn problem(&self) -> Cow<'static, str> {
        match &self.problem {
            Problem::Expected(_) if self.value.is_null() => Cow::Borrowed("is null"),
            Problem::Expected(expecting) => {
                Cow::Owned(format!("expected {expecting}, found {}", describe(&self.value)))
            }
            Problem::Said(said) => said.clone(),
        }
    }

    /// This misfit as the part `path` (`[1]`, `._id`) of a larger value that it no longer owns.
    pub(crate) fn into_part(self, path: String) -> (Value, String, Problem) {
        let problem = Problem::Said(self.problem());
        (self.value, format!("{path}{}", self.path), problem)
    }
}

/// What a read gives back: `None` when the value fit (and was stored), else the misfit.
pub(crate) type Kept = Option<Box<Misfit>>;

/// The misfit `value` for a field that expects `expecting`, or the error that says so when the
/// read is strict.
pub(crate) fn misfit<E: de::Error>(expecting: &'static str, value: Value, strict: bool) -> Result<Kept, E> {
    if strict {
        return Err(E::custom(format_args!(
            "expected {expecting}, found {}",
            describe(&value)
        )));
    }
    Ok(Some(Box::new(Misfit {
        value,
        path: String::new(),
        problem: Problem::Expected(expecting),
    })))
}

/// How a value is read: whether a misfit is an error, the JSON text being read (when values can
/// be borrowed from it, or looked ahead in), and how deep the value is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'de> {
    /// A misfit is an error (what identifies an event), not a value to keep.
    pub(crate) strict: bool,
    /// The whole JSON text, when the reader is serde_json reading it from a `&str`: a value can
    /// then be borrowed as raw text (`&RawValue`) instead of being built, and an object's tag can
    /// be found ahead in it (see [`look_ahead`](crate::de::raw::look_ahead)). `None` for any other
    /// reader, a `Value` included.
    pub(crate) input: Option<&'de str>,
    /// How many objects and lists enclose the value.
    pub(crate) depth: u8,
}

impl Ctx<'_> {
    /// A strict read of a value of its own, from any data format.
    pub(crate) const STRICT: Ctx<'static> = Ctx {
        strict: true,
        input: None,
        depth: 0,
    };

    /// A tolerant read of a value of its own, from any data format.
    pub(crate) const TOLERANT: Ctx<'static> = Ctx {
        strict: false,
        input: None,
        depth: 0,
    };
}

impl<'de> Ctx<'de> {
    /// The context of the values of a webhook body, read from the JSON text `input` or from
    /// another reader (`None`).
    pub(crate) fn body(input: Option<&'de str>) -> Ctx<'de> {
        Ctx {
            strict: true,
            input,
            depth: 1,
        }
    }

    /// The same, but tolerant.
    pub(crate) fn tolerant(self) -> Ctx<'de> {
        Ctx {
            strict: false,
            ..self
        }
    }

    /// The context of a value inside this one (an object's field, a list's item).
    pub(crate) fn inside(self) -> Ctx<'de> {
        Ctx {
            depth: self.depth.saturating_add(1),
            ..self
        }
    }

    /// The same, for a reader that is not reading `input` (a captured `Value`, a string).
    pub(crate) fn elsewhere<'any>(self) -> Ctx<'any> {
        Ctx {
            strict: self.strict,
            input: None,
            depth: self.depth,
        }
    }
}

/// How one kind of field is read, written and checked.
///
/// `Target` is what the struct stores; the codec is often the same type, but a time is stored as
/// `DateTime<Utc>` by [`UnixSeconds`](crate::de::time::UnixSeconds) or
/// [`IsoTime`](crate::de::time::IsoTime) keeps its spelling.
pub(crate) trait Codec {
    /// What the struct stores.
    type Target;
    /// What a fitting value is, for messages: `a string`, `an appUser object`.
    const EXPECTING: &'static str;

    /// Reads an optional field: `slot` is `Some` when the value fits, `None` when it does not
    /// (then the misfit is returned, or an error when the read is strict).
    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Self::Target>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error>;

    /// Reads a field that always holds a value, in place. `target` is left as it was on a misfit.
    fn read_into<'de, D: Deserializer<'de>>(
        d: D,
        target: &mut Self::Target,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let mut slot = None;
        let kept = Self::read(d, &mut slot, ctx)?;
        if let Some(value) = slot {
            *target = value;
        }
        Ok(kept)
    }

    /// Reads a list item onto the end of `list` (nothing is added on a misfit).
    fn read_push<'de, D: Deserializer<'de>>(
        d: D,
        list: &mut Vec<Self::Target>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let mut slot = None;
        let kept = Self::read(d, &mut slot, ctx)?;
        list.extend(slot);
        Ok(kept)
    }

    /// Writes the value.
    fn write<S: Serializer>(target: &Self::Target, s: S) -> Result<S::Ok, S::Error>;

    /// Checks the value (and what it holds), reporting to `c` at its path.
    fn walk(_target: &Self::Target, _c: &mut Checker) {}
}

/// Reports the value kept under `key` (in an `extra` map) because it did not fit its field's codec
/// `C`: read again through `C`, it says what is wrong and where inside it. `null` is not reported
/// (it reads as absent, as the spec allows for most fields).
pub(crate) fn report_kept<C: Codec>(c: &mut Checker, key: &str, value: &Value) {
    if value.is_null() {
        return;
    }
    let mut slot = None;
    let (path, problem) = match C::read(value, &mut slot, Ctx::TOLERANT) {
        Ok(None) => return,
        Ok(Some(misfit)) => {
            let problem = misfit.problem().into_owned();
            (misfit.path, problem)
        }
        Err(error) => (String::new(), error.to_string()),
    };
    c.at(key, |c| c.within(&path, |c| c.report(IssueKind::Kept, problem)));
}

/// Writes a value through its codec.
pub(crate) struct Write<'a, C: Codec>(pub(crate) &'a C::Target);

impl<C: Codec> Serialize for Write<'_, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        C::write(self.0, s)
    }
}

/// A value written back to JSON through its codec (to keep a list or object that did not fit).
pub(crate) fn to_json<C: Codec, E: de::Error>(target: &C::Target) -> Result<Value, E> {
    Write::<C>(target)
        .serialize(serde_json::value::Serializer)
        .map_err(E::custom)
}

/// What a visitor of one codec accepts. Every method it does not override reads the value as
/// JSON and reports it as a misfit; [`Reader`] turns it into a serde `Visitor`.
pub(crate) trait Shape<'de>: Sized {
    /// What a fitting value is.
    const EXPECTING: &'static str;

    /// Whether a misfit is an error.
    fn strict(&self) -> bool;

    fn bool<E: de::Error>(self, v: bool) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::Bool(v), self.strict())
    }

    fn u64<E: de::Error>(self, v: u64) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::from(v), self.strict())
    }

    fn i64<E: de::Error>(self, v: i64) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::from(v), self.strict())
    }

    fn f64<E: de::Error>(self, v: f64) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::from(v), self.strict())
    }

    fn str<E: de::Error>(self, v: &str) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::String(v.to_owned()), self.strict())
    }

    fn string<E: de::Error>(self, v: String) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::String(v), self.strict())
    }

    fn null<E: de::Error>(self) -> Result<Kept, E> {
        misfit(Self::EXPECTING, Value::Null, self.strict())
    }

    fn seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Kept, A::Error> {
        let strict = self.strict();
        misfit(
            Self::EXPECTING,
            StrictValueVisitor::default().visit_seq(seq)?,
            strict,
        )
    }

    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Kept, A::Error> {
        let strict = self.strict();
        misfit(
            Self::EXPECTING,
            StrictValueVisitor::default().visit_map(map)?,
            strict,
        )
    }
}

/// The serde visitor of a [`Shape`].
pub(crate) struct Reader<S>(pub(crate) S);

impl<'de, S: Shape<'de>> Visitor<'de> for Reader<S> {
    type Value = Kept;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(S::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Kept, E> {
        self.0.bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Kept, E> {
        self.0.i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kept, E> {
        self.0.u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Kept, E> {
        self.0.f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kept, E> {
        self.0.str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Kept, E> {
        self.0.string(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Kept, E> {
        self.0.null()
    }

    fn visit_none<E: de::Error>(self) -> Result<Kept, E> {
        self.0.null()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kept, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Kept, A::Error> {
        self.0.seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kept, A::Error> {
        self.0.map(map)
    }
}

/// A codec for a value that is one JSON scalar: say which values fit, and how to write it.
pub(crate) trait Scalar {
    /// What the struct stores.
    type Target;
    /// What a fitting value is.
    const EXPECTING: &'static str;

    fn from_str(_v: &str) -> Option<Self::Target> {
        None
    }

    /// Like `from_str` for an owned string, which it gives back when it does not fit.
    fn from_string(v: String) -> Result<Self::Target, String> {
        Self::from_str(&v).ok_or(v)
    }

    fn from_bool(_v: bool) -> Option<Self::Target> {
        None
    }

    fn from_u64(_v: u64) -> Option<Self::Target> {
        None
    }

    fn from_i64(_v: i64) -> Option<Self::Target> {
        None
    }

    fn from_f64(_v: f64) -> Option<Self::Target> {
        None
    }

    fn write<S: Serializer>(target: &Self::Target, s: S) -> Result<S::Ok, S::Error>;

    fn walk(_target: &Self::Target, _c: &mut Checker) {}
}

/// Stores the value when it fits, otherwise reports the misfit.
fn fits<E: de::Error, T>(
    slot: &mut Option<T>,
    value: Option<T>,
    or: impl FnOnce() -> Result<Kept, E>,
) -> Result<Kept, E> {
    match value {
        Some(value) => {
            *slot = Some(value);
            Ok(None)
        }
        None => or(),
    }
}

/// The [`Shape`] of a [`Scalar`] field: each kind of JSON value goes straight to the codec's
/// `from_…` for that kind (monomorphized per codec, so a string field never passes through a
/// general token), and what does not fit is a misfit.
struct ScalarShape<'t, C: Scalar> {
    slot: &'t mut Option<C::Target>,
    strict: bool,
}

impl<'de, C: Scalar> Shape<'de> for ScalarShape<'_, C> {
    const EXPECTING: &'static str = C::EXPECTING;

    fn strict(&self) -> bool {
        self.strict
    }

    fn bool<E: de::Error>(self, v: bool) -> Result<Kept, E> {
        fits(self.slot, C::from_bool(v), || {
            misfit(C::EXPECTING, Value::Bool(v), self.strict)
        })
    }

    fn u64<E: de::Error>(self, v: u64) -> Result<Kept, E> {
        fits(self.slot, C::from_u64(v), || {
            misfit(C::EXPECTING, Value::from(v), self.strict)
        })
    }

    fn i64<E: de::Error>(self, v: i64) -> Result<Kept, E> {
        fits(self.slot, C::from_i64(v), || {
            misfit(C::EXPECTING, Value::from(v), self.strict)
        })
    }

    fn f64<E: de::Error>(self, v: f64) -> Result<Kept, E> {
        fits(self.slot, C::from_f64(v), || {
            misfit(C::EXPECTING, Value::from(v), self.strict)
        })
    }

    fn str<E: de::Error>(self, v: &str) -> Result<Kept, E> {
        fits(self.slot, C::from_str(v), || {
            misfit(C::EXPECTING, Value::String(v.to_owned()), self.strict)
        })
    }

    fn string<E: de::Error>(self, v: String) -> Result<Kept, E> {
        match C::from_string(v) {
            Ok(value) => {
                *self.slot = Some(value);
                Ok(None)
            }
            Err(v) => misfit(C::EXPECTING, Value::String(v), self.strict),
        }
    }
}

/// Implements [`Codec`] for a [`Scalar`].
macro_rules! scalar_codec {
    ($($codec:ty),* $(,)?) => {$(
        impl $crate::de::codec::Codec for $codec {
            type Target = <$codec as $crate::de::codec::Scalar>::Target;
            const EXPECTING: &'static str = <$codec as $crate::de::codec::Scalar>::EXPECTING;

            fn read<'de, D: ::serde::Deserializer<'de>>(
                d: D,
                slot: &mut Option<Self::Target>,
                ctx: $crate::de::codec::Ctx<'de>,
            ) -> Result<$crate::de::codec::Kept, D::Error> {
                $crate::de::codec::read_scalar::<$codec, D>(d, slot, ctx.strict)
            }

            fn write<S: ::serde::Serializer>(target: &Self::Target, s: S) -> Result<S::Ok, S::Error> {
                <$codec as $crate::de::codec::Scalar>::write(target, s)
            }

            fn walk(target: &Self::Target, c: &mut $crate::de::walk::Checker) {
                <$codec as $crate::de::codec::Scalar>::walk(target, c)
            }
        }
    )*};
}

pub(crate) use scalar_codec;

/// The `read` of every [`Scalar`] codec: the value is stored when it fits, otherwise kept as a
/// misfit (or refused, when `strict`).
pub(crate) fn read_scalar<'de, C: Scalar, D: Deserializer<'de>>(
    d: D,
    slot: &mut Option<C::Target>,
    strict: bool,
) -> Result<Kept, D::Error> {
    d.deserialize_any(Reader(ScalarShape::<C> { slot, strict }))
}

scalar_codec!(String, CompactString, bool, u64, i64, f64);

impl Scalar for String {
    type Target = String;
    const EXPECTING: &'static str = "a string";

    fn from_str(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    fn from_string(v: String) -> Result<String, String> {
        Ok(v)
    }

    fn write<S: Serializer>(target: &String, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(target)
    }
}

impl Scalar for CompactString {
    type Target = CompactString;
    const EXPECTING: &'static str = "a string";

    fn from_str(v: &str) -> Option<CompactString> {
        Some(CompactString::from(v))
    }

    fn from_string(v: String) -> Result<CompactString, String> {
        Ok(CompactString::from(v))
    }

    fn write<S: Serializer>(target: &CompactString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(target)
    }
}

/// The codec of an id (`"_id": "..."`, `"id": "..."`): a string, stored as a `CompactString`, that
/// validation reports when it is empty (advice: the spec sets no length, but an empty id
/// identifies nothing). Declared at each id field with `as Id`.
pub(crate) struct Id;

scalar_codec!(Id);

impl Scalar for Id {
    type Target = CompactString;
    const EXPECTING: &'static str = "a string";

    fn from_str(v: &str) -> Option<CompactString> {
        Some(CompactString::from(v))
    }

    fn from_string(v: String) -> Result<CompactString, String> {
        Ok(CompactString::from(v))
    }

    fn write<S: Serializer>(target: &CompactString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(target)
    }

    fn walk(target: &CompactString, c: &mut Checker) {
        c.not_blank(target);
    }
}

impl Scalar for bool {
    type Target = bool;
    const EXPECTING: &'static str = "a boolean";

    fn from_bool(v: bool) -> Option<bool> {
        Some(v)
    }

    fn write<S: Serializer>(target: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*target)
    }
}

impl Scalar for u64 {
    type Target = u64;
    const EXPECTING: &'static str = "a whole number of 0 or more";

    fn from_u64(v: u64) -> Option<u64> {
        Some(v)
    }

    fn from_i64(v: i64) -> Option<u64> {
        u64::try_from(v).ok()
    }

    fn write<S: Serializer>(target: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*target)
    }
}

impl Scalar for i64 {
    type Target = i64;
    const EXPECTING: &'static str = "a whole number";

    fn from_u64(v: u64) -> Option<i64> {
        i64::try_from(v).ok()
    }

    fn from_i64(v: i64) -> Option<i64> {
        Some(v)
    }

    fn write<S: Serializer>(target: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*target)
    }
}

/// The largest integer below which every integer is exactly an `f64` (2⁵³).
const EXACT_IN_F64: f64 = 9_007_199_254_740_992.0;

/// A JSON `number` (`coordinates.lat`, v2 `mediaSize`), stored as an `f64` and written back the
/// way it came.
///
/// Sunshine Conversations writes its JSON with JavaScript, which writes a whole number without a
/// fraction (`"mediaSize": 148513`). Written through serde's `f64`, that would come back as
/// `148513.0`, another JSON value; this codec writes a whole number as an integer. An integer
/// beyond 2⁵³, which no `f64` holds exactly, does not fit: it is kept as sent and reported.
impl Scalar for f64 {
    type Target = f64;
    const EXPECTING: &'static str = "a number (integers below 2^53)";

    fn from_u64(v: u64) -> Option<f64> {
        let f = v as f64;
        (f < EXACT_IN_F64).then_some(f)
    }

    fn from_i64(v: i64) -> Option<f64> {
        let f = v as f64;
        (f.abs() < EXACT_IN_F64).then_some(f)
    }

    fn from_f64(v: f64) -> Option<f64> {
        Some(v)
    }

    fn write<S: Serializer>(target: &f64, s: S) -> Result<S::Ok, S::Error> {
        let v = *target;
        if v.fract() == 0.0 && v.abs() < EXACT_IN_F64 {
            if v < 0.0 {
                s.serialize_i64(v as i64)
            } else {
                s.serialize_u64(v as u64)
            }
        } else {
            s.serialize_f64(v)
        }
    }
}

/// Any JSON value (`underlyingError`, a v2 `template`, …): everything fits but `null`, which
/// reads as absent like every optional field.
impl Codec for Value {
    type Target = Value;
    const EXPECTING: &'static str = "any JSON value";

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Value>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let StrictValue(value) = StrictValue::deserialize_from(d)?;
        if value.is_null() {
            return misfit(Self::EXPECTING, value, ctx.strict);
        }
        *slot = Some(value);
        Ok(None)
    }

    fn write<S: Serializer>(target: &Value, s: S) -> Result<S::Ok, S::Error> {
        target.serialize(s)
    }
}

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

/// A boxed value: for large objects that are rarely sent, so that the struct holding them stays
/// small. Read in place.
impl<C: Codec> Codec for Box<C>
where
    C::Target: Default,
{
    type Target = Box<C::Target>;
    const EXPECTING: &'static str = C::EXPECTING;

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Box<C::Target>>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let target = slot.insert(Box::default());
        let kept = C::read_into(d, target, ctx)?;
        if kept.is_some() {
            *slot = None;
        }
        Ok(kept)
    }

    fn read_into<'de, D: Deserializer<'de>>(
        d: D,
        target: &mut Box<C::Target>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        C::read_into(d, target, ctx)
    }

    fn write<S: Serializer>(target: &Box<C::Target>, s: S) -> Result<S::Ok, S::Error> {
        C::write(target, s)
    }

    fn walk(target: &Box<C::Target>, c: &mut Checker) {
        C::walk(target, c)
    }
}

/// A list. Items are built where they stay, and the first allocation holds one item (most lists
/// of a webhook hold one; a larger first allocation was kilobytes for lists of messages).
///
/// A list with an item that does not fit is kept whole (with the items read so far written back)
/// when the read is tolerant; a strict read (`messages`, `postbacks`, …) fails at that item.
impl<C: Codec> Codec for Vec<C> {
    type Target = Vec<C::Target>;
    const EXPECTING: &'static str = "a list";

    fn read<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Vec<C::Target>>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        let list = slot.insert(Vec::new());
        let kept = Self::read_into(d, list, ctx)?;
        if kept.is_some() {
            *slot = None;
        }
        Ok(kept)
    }

    fn read_into<'de, D: Deserializer<'de>>(
        d: D,
        target: &mut Vec<C::Target>,
        ctx: Ctx<'de>,
    ) -> Result<Kept, D::Error> {
        d.deserialize_any(Reader(ListShape::<C> { list: target, ctx }))
    }

    fn write<S: Serializer>(target: &Vec<C::Target>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(target.iter().map(Write::<C>))
    }

    fn walk(target: &Vec<C::Target>, c: &mut Checker) {
        for (i, item) in target.iter().enumerate() {
            c.index(i, |c| C::walk(item, c));
        }
    }
}

struct ListShape<'t, 'de, C: Codec> {
    list: &'t mut Vec<C::Target>,
    ctx: Ctx<'de>,
}

impl<'de, C: Codec> Shape<'de> for ListShape<'_, 'de, C> {
    const EXPECTING: &'static str = "a list";

    fn strict(&self) -> bool {
        self.ctx.strict
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept, A::Error> {
        let list = self.list;
        list.clear();
        loop {
            let index = list.len();
            let seed = PushSeed::<C> {
                list: &mut *list,
                ctx: self.ctx.inside(),
            };
            let Some(kept) = seq.next_element_seed(seed)? else {
                return Ok(None);
            };
            let Some(misfit) = kept else { continue };
            // Keep the whole list as it was sent.
            let (value, path, problem) = misfit.into_part(format!("[{index}]"));
            let mut items = Vec::with_capacity(index + 1);
            for item in list.drain(..) {
                items.push(to_json::<C, A::Error>(&item)?);
            }
            items.push(value);
            while let Some(StrictValue(item)) = seq.next_element()? {
                items.push(item);
            }
            return Ok(Some(Box::new(Misfit {
                value: Value::Array(items),
                path,
                problem,
            })));
        }
    }
}

struct PushSeed<'t, 'de, C: Codec> {
    list: &'t mut Vec<C::Target>,
    ctx: Ctx<'de>,
}

impl<'de, C: Codec> DeserializeSeed<'de> for PushSeed<'_, 'de, C> {
    type Value = Kept;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kept, D::Error> {
        // The first item gets room for one (most lists of a webhook hold one); an empty list
        // allocates nothing.
        if self.list.capacity() == 0 {
            self.list.reserve_exact(1);
        }
        C::read_push(d, self.list, self.ctx)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{to_json, Codec, Ctx};

    fn round_trip(value: Value) -> Option<Value> {
        let mut slot = None;
        let kept = f64::read(&value, &mut slot, Ctx::TOLERANT).unwrap();
        match (slot, kept) {
            (Some(number), None) => Some(to_json::<f64, serde_json::Error>(&number).unwrap()),
            (None, Some(misfit)) => {
                assert_eq!(misfit.value, value);
                None
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_come_back_as_javascript_writes_them() {
        for value in [
            json!(148513),
            json!(-73),
            json!(0),
            json!(45.5261583),
            json!(-73.595346),
            json!(1.5),
        ] {
            assert_eq!(round_trip(value.clone()), Some(value.clone()), "{value}");
        }
        // A whole float is written as JavaScript would write it.
        assert_eq!(round_trip(json!(1500000.0)), Some(json!(1500000)));
        assert_eq!(round_trip(json!(1e300)), Some(json!(1e300)));
        // Integers an f64 cannot hold exactly do not fit.
        assert_eq!(round_trip(json!(u64::MAX)), None);
        assert_eq!(round_trip(json!(i64::MIN)), None);
        assert_eq!(round_trip(json!("12")), None);
    }
}
