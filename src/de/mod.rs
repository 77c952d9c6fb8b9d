//! The machinery every version uses: objects read in one pass and in place, tolerant fields,
//! open enums, times, free-form maps, tagged objects and the validation walk. Nothing here knows
//! a Smooch type.

pub(crate) mod codec;
pub(crate) mod json;
pub(crate) mod map;
pub(crate) mod object;
pub(crate) mod open_enum;
pub(crate) mod tagged;
pub mod time;
pub(crate) mod walk;
