//! Messages and their parts: content, actions, items, form fields and quoted messages.

pub(crate) mod action;
pub(crate) mod content;
pub(crate) mod form_field;
pub(crate) mod item;
#[allow(clippy::module_inception)]
pub(crate) mod message;
pub(crate) mod quoted;
