//! The v1 and v1.1 tests: bodies with a `trigger`, read by `parse_event`. One binary with a module
//! per concern (the v2 tests have the same modules in `tests/v2/`; what concerns both versions is
//! in `tests/webhook_versions.rs`).

#[path = "../common/mod.rs"]
mod common;

mod accessors;
mod bad_input;
mod channel_names;
mod conversation;
mod fixtures;
mod open_enums;
mod properties;
mod questions;
mod spec_examples;
mod time_spellings;
mod tolerance;
mod triggers;
mod validate;
