//! One module per family of v2 event types, each with the event and payload structs of its
//! types.

pub(crate) mod activity;
pub(crate) mod client;
pub(crate) mod conversation;
pub(crate) mod delivery;
pub(crate) mod message;
pub(crate) mod postback;
pub(crate) mod switchboard;
pub(crate) mod user;

/// Defines the struct of one event type: the keys every event has (`S.eventSubSchema`: `id`,
/// `createdAt`) and its `payload`.
///
/// The spec requires none of them (its `conversation:referral` example has no `createdAt`), so
/// all are optional for parsing and reported missing by validation. `type` is not a field: the
/// [`Event`](crate::v2::Event) variant says it, and serializing the `Event` writes it.
macro_rules! event {
    ( $(#[$meta:meta])* pub struct $name:ident { payload: $payload:ty } ) => {
        $crate::de::object::object! {
            $(#[$meta])*
            ///
            /// Serializing this struct alone writes `id`, `createdAt` and `payload`, without
            /// `type`; serialize the [`Event`](crate::v2::Event) for the whole event.
            pub struct $name {
                expecting: "a v2 event object",
                usual {
                    /// The event's id, unique to the event: use it to drop the duplicates that
                    /// retries deliver.
                    id: ::compact_str::CompactString = "id" as $crate::de::codec::Id,
                    /// When the event was generated.
                    created_at: $crate::de::time::IsoTime = "createdAt",
                    /// What happened.
                    payload: $payload = "payload",
                }
            }
        }
    };
}

pub(crate) use event;
