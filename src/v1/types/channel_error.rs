//! Errors reported by a channel or by Smooch.

use compact_str::CompactString;
use serde_json::Value;

use crate::de::object::object;

object! {
    /// The `error` of `delivery:failure`, `message:delivery:failure` and `link:failure`.
    pub struct ChannelError {
        expecting: "an error object",
        expected {
            /// A short code such as `unauthorized` or `bad_request` (not enumerated by the docs).
            code: CompactString = "code",
        }
        optional {
            /// A readable description (the `link:failure` example has it here).
            message: CompactString = "message",
            /// Whatever the channel returned, as JSON (the `delivery:failure` example has
            /// `{"message": …}`; v1.1 channels send any shape).
            underlying_error: Value = "underlyingError",
        }
    }
}
