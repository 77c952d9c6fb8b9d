//! The v2 tests: bodies with `events`, read by `parse_webhook`. One binary with a module per
//! concern (the v1 tests have the same modules in `tests/v1/`; what concerns both versions is in
//! `tests/webhook_versions.rs`).

#[path = "../common/mod.rs"]
mod common;

mod accessors;
mod bad_input;
mod channel_names;
mod fixtures;
mod open_enums;
mod properties;
mod questions;
mod spec_examples;
mod time_spellings;
mod tolerance;
mod validate;
mod written;
