//! One module per family of triggers, each with the payload structs of its triggers.

pub(crate) mod conversation;
pub(crate) mod delivery;
pub(crate) mod link;
pub(crate) mod merge;
pub(crate) mod message;
pub(crate) mod payment;
pub(crate) mod postback;
pub(crate) mod typing;
