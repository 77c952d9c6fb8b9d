//! The machinery every version uses to read a body: objects read in one pass and in place,
//! tolerant fields, open enums, times, free-form maps, tagged objects and the validation walk.
//! Nothing here knows a Smooch type; `v1/` and `v2/` describe their objects with the macros
//! below, and the rest is done here.
//!
//! # How a body is read
//!
//! One field, from the bytes to its struct: `smooch_events::parse_webhook(bytes)`
//!
//! 1. [`parse`](crate::parse) checks UTF-8 once, hands serde_json the text, and a
//!    [`TaggedSeed`](tagged::TaggedSeed) of [`Webhook`](crate::Webhook) whose
//!    [`Ctx`](codec::Ctx) holds that text.
//! 2. [`tagged::read_tagged`] reads the body's keys. The version switch
//!    ([`versions`](crate::versions), a [`Tagged`](tagged::Tagged) shape with two deciding keys)
//!    routes on the first deciding key, `trigger` or `events`, found where it stands or looked
//!    ahead for in the text ([`raw::look_ahead`]) when another key comes first.
//! 3. For a v1 body, `v1::Event`'s dispatch table (a [`tagged!`](tagged::tagged) enum) reads the
//!    trigger and creates the payload struct it names; for a v2 body, `v2::Body`'s reader reads
//!    `events`, and each event is again a `tagged!` enum, by `type`.
//! 4. [`tagged::read_rest`] reads every other key of the object into that struct, where it
//!    stays: [`object::FieldSeed`] calls the struct's `read_field`, which [`object!`](object::object) wrote: a
//!    `match` on the key, one arm per field.
//! 5. The arm reads the value through the field's [`Codec`](codec::Codec): a string, a number,
//!    an [`IsoTime`](time::IsoTime), a list, a nested object (back to step 4 for its own keys),
//!    a free-form [`JsonMap`](map::JsonMap) kept as text. A value that does not fit comes back
//!    as a [`Misfit`](codec::Misfit), and the arm keeps it in the struct's `extra`, as it was
//!    sent, or refuses the body when the field identifies the event (`required`).
//!
//! Validation goes the other way: `validate()` walks the parsed value with a
//! [`Checker`](walk::Checker), through each struct's `walk` (also written by `object!`) and each
//! version's own rules (`v1/validate.rs`, `v2/validate.rs`).
//!
//! # The files, in the order they can be read
//!
//! Each file uses only the ones above it.
//!
//! | file | what it holds |
//! |---|---|
//! | [`json`] | plain JSON through serde: [`KeySeed`](json::KeySeed) (keys borrowed when they can be), [`StrictValue`](json::StrictValue) (a `Value` that refuses a key sent twice), short descriptions of values, the tag-first reader of the diagnosis |
//! | [`raw`] | JSON text read as bytes: [`check_raw`](raw::check_raw) for maps kept as text, [`look_ahead`](raw::look_ahead) for a tag further on |
//! | [`walk`] | [`Checker`](walk::Checker) (the path and the problems of a validation), the generic rules (missing, empty, implausible time, U+FFFD), [`ValidationIssue`](walk::ValidationIssue) and its [`IssueKind`](walk::IssueKind) |
//! | [`codec`] | [`Ctx`](codec::Ctx) (strict or tolerant, the text, the depth), [`Codec`](codec::Codec) (read, write and check one kind of field), [`Misfit`](codec::Misfit), [`Shape`](codec::Shape) and [`Reader`](codec::Reader) (a codec's serde visitor), [`Scalar`](codec::Scalar) (a codec of one JSON scalar), the codecs of strings, [`Id`](codec::Id)s, numbers, lists, boxes and any `Value` |
//! | [`map`] | [`JsonMap`](map::JsonMap): a free-form object kept as text until read |
//! | [`time`] | Unix seconds and [`IsoTime`](time::IsoTime), each a codec |
//! | [`open_enum`] | [`open_enum!`](open_enum::open_enum): string enums with `Other` |
//! | [`object`] | [`object!`](object::object): one struct per JSON object, [`Fields`](object::Fields) (what the macro writes), [`FieldSeed`](object::FieldSeed), [`Holder`](object::Holder) |
//! | [`tagged`] | [`Tagged`](tagged::Tagged) and [`read_tagged`](tagged::read_tagged): the one dispatcher; [`tagged!`](tagged::tagged); [`Pending`](tagged::Pending) and [`UnknownObject`](tagged::UnknownObject) |
//!
//! # Why not serde's derive
//!
//! `#[derive(Deserialize)]` with `#[serde(flatten)]` for unknown keys, `#[serde(tag = …)]` for
//! the triggers and `Option` fields would read these bodies, but:
//!
//! - **Tolerance.** A value of the wrong type fails the whole derive; here it is kept, exactly as
//!   sent, and reported by validation, because a webhook answered 400 is lost.
//! - **Exactness.** `flatten` and internally tagged enums buffer the object into serde's own
//!   `Content`, which loses what it does not model and reorders; here serializing gives the body
//!   back, unknown keys, `null`s, time spellings and unknown types included.
//! - **One pass.** Those same buffers read each object twice; here each key is read once, into
//!   the struct where it stays, whatever the order of the keys.
//!
//! The cost is this folder (about 3,700 lines with its tests), and the macros that make each
//! struct a few lines of declarations.
//!
//! # What the speed costs in lines
//!
//! Measured levers, each a few dozen lines: structs filled in place (`read_into`, `read_push`)
//! rather than built and moved; lists that start with room for one item; free-form maps kept as
//! text behind one checked scan (`raw.rs`, about 300 lines); empty maps that allocate nothing;
//! keys and tags borrowed from the input; the look-ahead for a tag (about 150 lines), which
//! replaced reading the keys before a tag twice; ISO times in Smooch's own spelling read without
//! chrono's general parser.

pub(crate) mod codec;
pub(crate) mod json;
pub(crate) mod map;
pub(crate) mod object;
pub(crate) mod open_enum;
pub(crate) mod raw;
pub(crate) mod tagged;
pub mod time;
pub(crate) mod walk;
