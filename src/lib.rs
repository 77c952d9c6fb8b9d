//! Typed, validated Smooch (Sunshine Conversations v1) webhook bodies.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(dead_code, unused_macros, unused_imports)]

mod object;
mod open_enum;
pub mod time;
