//! [`LocationView`]: where a user is, as a location message of either version says it.
//!
//! Both versions answer this question with the same facts (v1's `coordinates`; v2's
//! `coordinates` and `location`), so one view serves both, and the version-neutral
//! [`IncomingMessage`](crate::IncomingMessage) gives it as it is. Nothing here imports a version.

/// A location a user shared: its coordinates, and the place's name and address when the message
/// names them (v2 only; v1 sends coordinates alone). Given by `Message::location()` of
/// [`v1`](crate::v1::Message::location) and [`v2`](crate::v2::Message::location), only for a
/// message with both a latitude and a longitude, so neither is an `Option`.
///
/// ```
/// use smooch_events::{parse_webhook, Webhook};
///
/// let body = std::fs::read("fixtures/v2/written/content_types.json")?;
/// let Webhook::V2(body) = parse_webhook(&body)? else { unreachable!() };
/// let location = body.events[5].message().unwrap().location().unwrap();
/// assert_eq!((location.latitude, location.longitude), (45.5261583, -73.595346));
/// assert_eq!(location.name, Some("Zendesk"));
/// assert_eq!(location.address, Some("5333 Avenue Casgrain, Montreal"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LocationView<'a> {
    /// Latitude, in degrees (`coordinates.lat`).
    pub latitude: f64,
    /// Longitude, in degrees (`coordinates.long`).
    pub longitude: f64,
    /// The place's name (v2 `location.name`), when sent.
    pub name: Option<&'a str>,
    /// The place's address (v2 `location.address`), when sent.
    pub address: Option<&'a str>,
}

impl<'a> LocationView<'a> {
    /// The view of a location: `None` unless both coordinates are there.
    pub(crate) fn of(
        latitude: Option<f64>,
        longitude: Option<f64>,
        name: Option<&'a str>,
        address: Option<&'a str>,
    ) -> Option<Self> {
        Some(LocationView {
            latitude: latitude?,
            longitude: longitude?,
            name,
            address,
        })
    }
}
