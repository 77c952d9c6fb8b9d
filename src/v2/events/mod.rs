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

/// The keys every event shares, in a module of their own: the struct is only the reader's.
mod head {
    #![allow(unreachable_pub, dead_code)]

    use compact_str::CompactString;

    use crate::de::codec::Id;
    use crate::de::object::object;
    use crate::de::time::IsoTime;

    object! {
        /// The keys every v2 event has (`S.eventSubSchema`), read straight into this struct when
        /// they stand before `type` (as Smooch sends them), then moved into the event the type
        /// names: so they are read once, whatever the type.
        pub struct EventHead {
            expecting: "a v2 event object",
            usual {
                /// The event's id.
                id: CompactString = "id" as Id,
                /// When the event was generated.
                created_at: IsoTime = "createdAt",
            }
        }
    }
}

pub(crate) use head::EventHead;

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
                    /// The event's id (see [`Event::dedupe_key`](crate::v2::Event::dedupe_key)
                    /// for dropping the duplicates that retries deliver).
                    id: ::compact_str::CompactString = "id" as $crate::de::codec::Id,
                    /// When the event was generated.
                    created_at: $crate::de::time::IsoTime = "createdAt",
                    /// What happened, as sent: `None` when the body has no `payload` (or one
                    /// that is not an object, kept in `extra`). Read it with
                    #[doc = concat!("[`", stringify!($name), "::payload()`](", stringify!($name), "::payload),")]
                    /// which needs no unwrapping.
                    payload: $payload = "payload",
                }
            }
        }

        impl $name {
            /// The payload, whether or not the body had one: an empty one (every field `None`)
            /// when it had none or it was not an object, which
            /// [`Body::validate`](crate::v2::Body::validate) reports. So a field of the payload
            /// is one step away, with no `Option` to unwrap first: `event.payload().conversation`.
            /// The field `payload` keeps what was sent, to tell an absent payload from an empty
            /// one and to build an event.
            pub fn payload(&self) -> &$payload {
                static EMPTY: ::std::sync::OnceLock<$payload> = ::std::sync::OnceLock::new();
                match &self.payload {
                    Some(payload) => payload,
                    None => EMPTY.get_or_init(<$payload as Default>::default),
                }
            }
        }

        impl $crate::de::tagged::TakeHead<$crate::v2::events::EventHead> for $name {
            fn take_head(&mut self, head: $crate::v2::events::EventHead) -> u64 {
                use $crate::de::object::Fields;
                let mut seen = 0;
                if head.id.is_some() {
                    self.id = head.id;
                    seen |= Self::bit("id");
                }
                if head.created_at.is_some() {
                    self.created_at = head.created_at;
                    seen |= Self::bit("createdAt");
                }
                for (key, value) in head.extra {
                    seen |= Self::bit(&key);
                    self.extra.insert(key, value);
                }
                seen
            }
        }
    };
}

pub(crate) use event;
