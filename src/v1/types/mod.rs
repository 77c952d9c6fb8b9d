//! The objects the payloads of several triggers share.

pub(crate) mod action;
pub(crate) mod app;
pub(crate) mod app_user;
pub(crate) mod channel_error;
pub(crate) mod message;
pub(crate) mod referral;
pub(crate) mod source;
