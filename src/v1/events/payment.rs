//! `payment:success`: a user paid through a `buy` action.

use crate::de::codec::Id;
use crate::de::object::object;
use crate::v1::envelope::payload;
use crate::v1::types::action::Action;
use crate::v1::types::app_user::AppUser;
use crate::v1::types::message::Message;
use crate::v1::types::source::Source;
use compact_str::CompactString;

payload! {
    /// `payment:success`: Smooch got the payment confirmation.
    ///
    /// Identified by its `payments` (a list of objects) and its `appUser` with the appUser's
    /// `_id`: a body without them is refused.
    pub struct PaymentSuccess {
        required {
            /// The payments (one in the example).
            payments: Vec<Payment> = "payments",
            /// The user (truncated).
            app_user: AppUser = "appUser",
        }
    }
}

object! {
    /// One payment.
    pub struct Payment {
        expecting: "a payment object",
        expected {
            /// The `buy` action that was paid (`state` is `paid`).
            action: Action = "action",
            /// The charge.
            charge: Charge = "charge",
            /// The channel the payment came from.
            source: Source = "source",
        }
        optional {
            /// The appMaker message that carried the `buy` button.
            message: Message = "message",
        }
    }
}

object! {
    /// The charge of a payment.
    pub struct Charge {
        expecting: "a charge object",
        expected {
            /// The Stripe charge id (`ch_…`).
            id: CompactString = "id" as Id,
        }
    }
}
