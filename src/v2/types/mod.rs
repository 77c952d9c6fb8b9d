//! The objects several v2 events share, named after the spec's schemas.

pub(crate) mod activity;
pub(crate) mod author;
pub(crate) mod channel;
pub(crate) mod client;
pub(crate) mod conversation;
pub(crate) mod device;
pub(crate) mod error;
pub(crate) mod merged;
pub(crate) mod message;
pub(crate) mod referral;
pub(crate) mod source;
pub(crate) mod switchboard_integration;
pub(crate) mod user;
