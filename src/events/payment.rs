//! `payment:success`: a user paid through a `buy` action.

use crate::event::payload;
use crate::object::object;
use crate::types::action::Action;
use crate::types::app_user::AppUser;
use crate::types::message::Message;
use crate::types::source::Source;

payload! {
    /// `payment:success`: Smooch got the payment confirmation.
    pub struct PaymentSuccess {
        required {
            /// The payments (one in the example).
            payments: Vec<Payment> = "payments",
            /// The user (truncated).
            app_user: AppUser = "appUser",
        }
        optional {}
    }
}

object! {
    /// One payment.
    pub struct Payment {
        expecting: "a payment object",
        required {
            /// The `buy` action that was paid (`state` is `paid`).
            action: Action = "action",
            /// The charge.
            charge: Charge = "charge",
        }
        optional {
            /// The channel the payment came from.
            source: Source = "source",
            /// The appMaker message that carried the `buy` button.
            message: Message = "message",
        }
    }
}

object! {
    /// The charge of a payment.
    pub struct Charge {
        expecting: "a charge object",
        required {
            /// The Stripe charge id (`ch_…`).
            id: String = "id",
        }
        optional {}
    }
}
