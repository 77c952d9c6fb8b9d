//! The device an SDK user acted from.

use compact_str::CompactString;

use crate::de::codec::Id;
use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use crate::de::time::IsoTime;

object! {
    /// A device of an SDK client (`S.device`). Sent only as `source.device`, by webhooks created
    /// with `includeFullSource`.
    pub struct Device {
        expecting: "a device object",
        usual {
            /// The device's id.
            id: CompactString = "id" as Id,
        }
        optional {
            /// `android`, `ios` or `web`.
            kind: DeviceType = "type",
            /// The id the SDK generated on the device.
            guid: CompactString = "guid",
            /// The client the device belongs to.
            client_id: CompactString = "clientId",
            /// Whether the device gets push notifications.
            status: DeviceStatus = "status",
            /// The integration of the device.
            integration_id: CompactString = "integrationId",
            /// When the device was last seen.
            last_seen: IsoTime = "lastSeen",
            /// The push notification token (Android and iOS).
            push_notification_token: CompactString = "pushNotificationToken",
            /// Curated SDK keys (`currentUrl`, `userAgent`, `sdkVersion`, …); none is guaranteed.
            info: JsonMap = "info",
            /// The version of the app that embeds the SDK (not for web).
            app_version: CompactString = "appVersion",
        }
    }
}

open_enum! {
    /// The kind of a device (`device.type`).
    pub enum DeviceType {
        /// An Android device.
        Android = "android",
        /// An iOS device.
        Ios = "ios",
        /// A browser (Web Messenger).
        Web = "web",
    }
}

open_enum! {
    /// Whether a device gets push notifications (`device.status`).
    pub enum DeviceStatus {
        /// It does.
        Active = "active",
        /// It does not.
        Inactive = "inactive",
    }
}
