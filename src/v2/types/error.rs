//! The errors of failure events: three shapes in the spec, two types here.
//!
//! - `conversation:message:delivery:failure`: `{code, message}`, both strings: [`DeliveryError`].
//! - `client:remove` (nullable) and the three switchboard failures: an object the spec leaves
//!   untyped, which every example fills with `{code, message}`: [`UntypedError`].

use crate::de::object::object;
use compact_str::CompactString;

object! {
    /// Why a message could not be delivered (`conversation:message:delivery:failure`), e.g.
    /// `uncategorized_error` / "Unsupported message type `form`".
    pub struct DeliveryError {
        expecting: "an error object",
        usual {
            /// A short code such as `uncategorized_error` (not enumerated by the spec).
            code: CompactString = "code",
        }
        optional {
            /// A readable description.
            message: CompactString = "message",
        }
    }
}

object! {
    /// The `error` of `client:remove` (for `linkCancelled` and `linkFailed`) and of the
    /// switchboard failures: an object with no declared properties. The switchboard examples
    /// send `code` (`switchboard_invalid_action`, `switchboard_invalid_target`) and `message`,
    /// read here when they are strings; any other key is in `extra`.
    pub struct UntypedError {
        expecting: "an error object",
        optional {
            /// A short code, e.g. `switchboard_invalid_target`.
            code: CompactString = "code",
            /// A readable description.
            message: CompactString = "message",
        }
    }
}
