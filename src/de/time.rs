//! The two time formats of Smooch payloads, as `with` modules for serde.
//!
//! - [`unix_seconds`]: a JSON number of Unix seconds, usually with a fraction
//!   (`"timestamp": 1480349392.103`, `"received": 1483463860.71`), sometimes an integer (v1).
//! - [`rfc3339`]: an ISO-8601 string (`"signedUpAt": "2015-10-06T03:38:02.346Z"`), with or
//!   without a fraction, in UTC or with an offset (v1 and v2).
//!
//! Both give a `chrono::DateTime<Utc>` and write the time back so that it reads back the same.
//! They are public so that your own types can use them:
//! `#[serde(with = "smooch_events::time::unix_seconds")]`.
//!
//! ```
//! use chrono::{DateTime, Utc};
//!
//! #[derive(serde::Deserialize)]
//! struct Stamp {
//!     #[serde(with = "smooch_events::time::unix_seconds")]
//!     timestamp: DateTime<Utc>,
//! }
//!
//! let stamp: Stamp = serde_json::from_str(r#"{"timestamp": 1480349392.103}"#).unwrap();
//! assert_eq!(stamp.timestamp.timestamp_millis(), 1480349392103);
//! ```
//!
//! # Which numbers come back exact
//!
//! A JSON number is read as the nearest `f64`, and the time is taken from the shortest decimal
//! that reads back as that `f64`. That decimal is what JavaScript, Ruby and Python write, so a
//! timestamp they wrote (`1480349392.103`, `1483463860.71`, `1722790093.4617891`) gives the time
//! those digits say and is written back with the same digits. A fraction with more significant
//! digits than an `f64` holds (about 16 in all, so 6 or 7 after the point for today's times)
//! cannot be: `1722790093.4610001` is the same `f64` as `1722790093.4610002`, and comes back as
//! the latter. Digits beyond nanoseconds are dropped. A time that is a whole number of seconds is
//! written as an integer, so `1480349392.0` comes back as `1480349392` (the same number in JSON,
//! though `serde_json::Value` tells the two apart).
//!
//! # ISO strings come back as they were sent
//!
//! The crate's own types hold an ISO time as an [`IsoTime`]: the `DateTime<Utc>` it means, and,
//! when it was not written the way Smooch writes it (JavaScript's `toISOString`: UTC, `Z` and
//! milliseconds), the text as it was sent, so that serializing writes that text back. Any
//! spelling RFC 3339 allows (`2020-09-30T18:00:56Z`, `.82Z`, `+02:00`, 6 fraction digits, a
//! lowercase `t`) therefore round-trips exactly, and the usual spelling costs nothing to keep.
//!
//! The [`rfc3339`] module, for your own `DateTime<Utc>` fields, writes every time the usual way:
//! UTC, `Z`, and milliseconds, or 6 or 9 digits when the time has them. A year outside 0–9999 is
//! written with a sign and more digits (`+20000-01-01T00:00:00.000Z`), which both also read.

use std::fmt::{self, Write as _};
use std::ops::Deref;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::de::codec::{scalar_codec, Scalar};
use crate::de::walk::Checker;
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Serializer;

/// Unix seconds as a JSON number, exact to the digits that were sent.
///
/// `1480349392.103` as an `f64` is really `1480349392.10299992…`; multiplying its fraction by 10⁹
/// gives 102,999,925 ns and a time one millisecond early. This module goes through the shortest
/// decimal that reads back as the same `f64` (the digits Smooch wrote), so `1480349392.103` gives
/// exactly 103 ms, and it writes the time back as the same number. Digits beyond nanoseconds are
/// dropped. A time without a fraction is written as an integer.
pub mod unix_seconds {
    use super::*;

    /// Reads Unix seconds (an integer or a number with a fraction).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_any(UnixVisitor)
    }

    /// Writes Unix seconds: an integer when there is no fraction, else the shortest number that
    /// holds it.
    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let nanos = time.timestamp_subsec_nanos();
        if nanos == 0 {
            return s.serialize_i64(time.timestamp());
        }
        let total = i128::from(time.timestamp()) * 1_000_000_000 + i128::from(nanos);
        let (whole, frac) = (total.abs() / 1_000_000_000, total.abs() % 1_000_000_000);
        let mut buf = StackStr::<48>::new();
        let sign = if total < 0 { "-" } else { "" };
        // Cannot fail: at most 1 + 20 + 1 + 9 bytes.
        let _ = write!(buf, "{sign}{whole}.{frac:09}");
        let digits = buf.as_str().trim_end_matches('0');
        s.serialize_f64(digits.parse().map_err(serde::ser::Error::custom)?)
    }

    /// The same for an optional field: `null` or absent reads as `None`.
    pub mod option {
        use super::*;

        /// Reads optional Unix seconds.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            d.deserialize_option(OptionVisitor(UnixVisitor))
        }

        /// Writes optional Unix seconds (`null` for `None`; the crate's own types leave the key out).
        pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match time {
                Some(time) => super::serialize(time, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// ISO-8601 (RFC 3339) strings as `DateTime<Utc>`, written back the way Smooch writes them
/// (JavaScript's `toISOString`): in UTC with `Z` and milliseconds, so `2015-10-06T03:38:02.346Z`
/// and `2015-01-01T00:00:00.000Z` come back unchanged. Finer fractions keep 6 or 9 digits. Other
/// spellings of the same instant (no fraction, an offset) come back in this form: to keep them,
/// use [`IsoTime`] instead of `DateTime<Utc>`.
pub mod rfc3339 {
    use super::*;

    /// Reads an RFC 3339 date-time, with or without a fraction, in any offset.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_str(IsoVisitor)
    }

    /// Writes an RFC 3339 date-time in UTC.
    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Iso(time))
    }

    /// The same for an optional field: `null` or absent reads as `None`.
    pub mod option {
        use super::*;

        /// Reads an optional RFC 3339 date-time.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            d.deserialize_option(OptionVisitor(IsoVisitor))
        }

        /// Writes an optional RFC 3339 date-time (`null` for `None`).
        pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match time {
                Some(time) => super::serialize(time, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// Turns a non-finite, out-of-range or otherwise unusable number into a serde error.
fn out_of_range<E: de::Error>(unexpected: Unexpected<'_>) -> E {
    E::invalid_value(unexpected, &UnixVisitor)
}

struct UnixVisitor;

impl Visitor<'_> for UnixVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unix seconds as a number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        DateTime::from_timestamp(v, 0).ok_or_else(|| out_of_range(Unexpected::Signed(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .ok()
            .and_then(|v| DateTime::from_timestamp(v, 0))
            .ok_or_else(|| out_of_range(Unexpected::Unsigned(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        from_f64(v).ok_or_else(|| out_of_range(Unexpected::Float(v)))
    }
}

/// Converts Unix seconds through their shortest decimal form (see [`unix_seconds`]).
fn from_f64(v: f64) -> Option<DateTime<Utc>> {
    // chrono's range is about ±8.2e12 s; beyond it (and for NaN or infinity) there is no time.
    if v.is_nan() || v.abs() >= 1e13 {
        return None;
    }
    // Fast path for what Smooch sends, at most three fractional digits: if the nearest
    // millisecond, divided back, is exactly `v`, those are the digits that were written (below
    // 1e12 s, two milliseconds are never the same f64, and the division is correctly rounded).
    let millis = (v * 1000.0).round();
    if v.abs() < 1e12 && millis / 1000.0 == v {
        return DateTime::from_timestamp_millis(millis as i64);
    }
    // `Display` for f64 prints the shortest decimal that reads back as `v`, never with an
    // exponent: at most 14 integer digits, or a fraction of up to about 330 digits for tiny values.
    let mut buf = StackStr::<400>::new();
    write!(buf, "{v}").ok()?;
    let text = buf.as_str();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let whole: i128 = whole.parse().ok()?;
    let mut nanos: i128 = 0;
    for digit in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + i128::from(digit - b'0');
    }
    let mut total = whole * 1_000_000_000 + nanos;
    if negative {
        total = -total;
    }
    let secs = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
    let nanos = u32::try_from(total.rem_euclid(1_000_000_000)).ok()?;
    DateTime::from_timestamp(secs, nanos)
}

struct IsoVisitor;

impl Visitor<'_> for IsoVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO-8601 date-time string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_iso(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }
}

/// Parses RFC 3339, with a fast path for the form Smooch sends (`2015-10-06T03:38:02.346Z`).
fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    if let Some(time) = parse_iso_utc(text.as_bytes()) {
        return Some(time);
    }
    let time = if text.starts_with(['+', '-']) {
        // A year outside 0-9999, as `Iso` writes it.
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%#z")
    } else {
        DateTime::parse_from_rfc3339(text)
    };
    time.ok().map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, nothing else.
fn parse_iso_utc(b: &[u8]) -> Option<DateTime<Utc>> {
    fn num(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    }
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (rest, last) = b[19..].split_at(b.len() - 20);
    if last != b"Z" {
        return None;
    }
    let nanos = match rest {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    // A leap second (`:60`) is left to chrono's parser.
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    DateTime::from_timestamp(seconds, nanos)
}

/// The number of days in `month` (1-12) of `year`, in the proleptic Gregorian calendar.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date, for a year from 0 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Displays a time as RFC 3339 in UTC, with 3, 6 or 9 fractional digits.
struct Iso<'a>(&'a DateTime<Utc>);

impl fmt::Display for Iso<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        // Leap seconds are rare enough for chrono's own formatter.
        if t.nanosecond() >= 1_000_000_000 {
            return f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        }
        // A year outside 0-9999 gets a sign (ISO 8601's expanded form), which `parse_iso` reads.
        match t.year() {
            year @ 0..=9999 => write!(f, "{year:04}")?,
            year if year > 9999 => write!(f, "+{year}")?,
            year => write!(f, "-{:04}", year.unsigned_abs())?,
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos % 1_000_000 == 0 {
            write!(f, ".{:03}", nanos / 1_000_000)?;
        } else if nanos % 1_000 == 0 {
            write!(f, ".{:06}", nanos / 1_000)?;
        } else {
            write!(f, ".{nanos:09}")?;
        }
        f.write_str("Z")
    }
}

/// Wraps a visitor of a time so that it also reads `null` (as `None`).
struct OptionVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptionVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }
}

/// A fixed-size string buffer on the stack, so that formatting a number allocates nothing.
struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    fn new() -> Self {
        StackStr { buf: [0; N], len: 0 }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The codec of a field holding Unix seconds (see [`unix_seconds`]).
pub(crate) struct UnixSeconds;

impl Scalar for UnixSeconds {
    type Target = DateTime<Utc>;
    const EXPECTING: &'static str = "Unix seconds (a number)";

    fn from_u64(v: u64) -> Option<DateTime<Utc>> {
        UnixVisitor.visit_u64::<de::value::Error>(v).ok()
    }

    fn from_i64(v: i64) -> Option<DateTime<Utc>> {
        UnixVisitor.visit_i64::<de::value::Error>(v).ok()
    }

    fn from_f64(v: f64) -> Option<DateTime<Utc>> {
        from_f64(v)
    }

    fn write<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        unix_seconds::serialize(time, s)
    }

    fn walk(time: &DateTime<Utc>, c: &mut Checker) {
        c.time(time);
    }
}

scalar_codec!(UnixSeconds, IsoTime);

/// An ISO-8601 time, as the crate's types hold one: the instant it means, and the text it was
/// sent as when that is not the usual spelling, so that it is written back exactly as it came.
///
/// It dereferences to the `DateTime<Utc>`, so `time.timestamp_millis()`, `time.time()` (the
/// time of day) and `*time < other` read it directly; [`IsoTime::to_utc`] copies it out. Two
/// `IsoTime`s are equal when they hold the same instant *and* will be written the same way;
/// compare the instants with `*a == *b`, or with a `DateTime<Utc>` (`time == datetime` compares
/// the instant).
///
/// ```
/// use smooch_events::time::IsoTime;
///
/// let usual: IsoTime = serde_json::from_str(r#""2020-09-30T18:00:56.000Z""#)?;
/// let short: IsoTime = serde_json::from_str(r#""2020-09-30T20:00:56+02:00""#)?;
/// assert_eq!(*usual, *short);
/// assert_eq!(short.timestamp_millis(), 1601488856000);
/// assert_eq!(usual.sent_as(), None);
/// assert_eq!(short.sent_as(), Some("2020-09-30T20:00:56+02:00"));
/// assert_eq!(serde_json::to_string(&short)?, r#""2020-09-30T20:00:56+02:00""#);
/// assert_eq!(IsoTime::from(*short).to_string(), "2020-09-30T18:00:56.000Z");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IsoTime {
    time: DateTime<Utc>,
    /// The text as sent, when it is not what [`Iso`] writes for `time`.
    sent: Option<Box<str>>,
}

impl IsoTime {
    /// An `IsoTime` of `time` that keeps no text: it is written the usual way (UTC, `Z`,
    /// milliseconds, or 6 or 9 fraction digits when the time has them).
    pub fn new(time: DateTime<Utc>) -> Self {
        IsoTime { time, sent: None }
    }

    /// The instant, as a `DateTime<Utc>`: the same name as chrono's `DateTime::to_utc`, so that
    /// `time.to_utc()` reads alike on an `IsoTime` and on the `DateTime<Utc>` of a v1 Unix time
    /// (`envelope.timestamp`, `message.received`). Every other method of `DateTime<Utc>` is
    /// reached through `Deref`, chrono's `time()` (the time of day) included.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use smooch_events::time::IsoTime;
    ///
    /// let time: IsoTime = "2020-09-30T15:14:29.834Z".parse()?;
    /// assert_eq!(time.to_utc().timestamp_millis(), 1601478869834);
    /// assert_eq!(time.time(), NaiveTime::from_hms_milli_opt(15, 14, 29, 834).unwrap());
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.time
    }

    /// The text the time was sent as, when it is not the usual spelling (UTC, `Z`, milliseconds);
    /// `None` when it was, or when the time was not read from text.
    pub fn sent_as(&self) -> Option<&str> {
        self.sent.as_deref()
    }

    /// Reads RFC 3339 text, keeping it when it is not the usual spelling.
    fn parse(text: &str) -> Option<Self> {
        // The usual spelling, `YYYY-MM-DDTHH:MM:SS.mmmZ`, is the only one of 24 bytes that the
        // fast path reads: nothing to keep.
        if text.len() == 24 {
            if let Some(time) = parse_iso_utc(text.as_bytes()) {
                return Some(IsoTime { time, sent: None });
            }
        }
        let time = parse_iso(text)?;
        let usual = Iso(&time).to_string() == text;
        Some(IsoTime {
            time,
            sent: (!usual).then(|| text.into()),
        })
    }
}

impl Deref for IsoTime {
    type Target = DateTime<Utc>;

    fn deref(&self) -> &DateTime<Utc> {
        &self.time
    }
}

impl From<DateTime<Utc>> for IsoTime {
    fn from(time: DateTime<Utc>) -> Self {
        IsoTime::new(time)
    }
}

impl From<IsoTime> for DateTime<Utc> {
    fn from(time: IsoTime) -> Self {
        time.time
    }
}

impl From<&IsoTime> for DateTime<Utc> {
    fn from(time: &IsoTime) -> Self {
        time.time
    }
}

impl PartialEq<DateTime<Utc>> for IsoTime {
    fn eq(&self, other: &DateTime<Utc>) -> bool {
        self.time == *other
    }
}

impl FromStr for IsoTime {
    type Err = chrono::ParseError;

    /// Reads RFC 3339 text (any offset, any fraction, or none), keeping the spelling.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match IsoTime::parse(text) {
            Some(time) => Ok(time),
            // For chrono's error, which says what is wrong.
            None => DateTime::parse_from_rfc3339(text).map(|time| IsoTime::new(time.with_timezone(&Utc))),
        }
    }
}

impl fmt::Display for IsoTime {
    /// The time as it is written back: the text it was sent as, or the usual spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sent {
            Some(sent) => f.write_str(sent),
            None => fmt::Display::fmt(&Iso(&self.time), f),
        }
    }
}

impl fmt::Debug for IsoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoTime({self})")
    }
}

impl serde::Serialize for IsoTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.sent {
            Some(sent) => s.serialize_str(sent),
            None => rfc3339::serialize(&self.time, s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for IsoTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IsoTimeVisitor)
    }
}

struct IsoTimeVisitor;

impl Visitor<'_> for IsoTimeVisitor {
    type Value = IsoTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO-8601 date-time string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IsoTime, E> {
        IsoTime::parse(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }
}

/// The codec of a field holding an ISO-8601 time.
impl Scalar for IsoTime {
    type Target = IsoTime;
    const EXPECTING: &'static str = "an ISO-8601 time";

    fn from_str(v: &str) -> Option<IsoTime> {
        IsoTime::parse(v)
    }

    fn write<S: Serializer>(time: &IsoTime, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(time, s)
    }

    fn walk(time: &IsoTime, c: &mut Checker) {
        c.time(time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_exact_to_the_digits_sent() {
        let t = from_f64(1480349392.103).unwrap();
        assert_eq!(t.timestamp_millis(), 1480349392103);
        assert_eq!(t.timestamp_subsec_nanos(), 103_000_000);
        // The naive conversion is one millisecond short: this is what the module avoids.
        let naive_nanos = ((1480349392.103f64.fract()) * 1e9) as u32;
        assert_eq!(naive_nanos, 102_999_925);
        assert_eq!(
            from_f64(1483463860.71).unwrap().timestamp_subsec_nanos(),
            710_000_000
        );
        assert_eq!(
            from_f64(1722790093.4617891).unwrap().timestamp_subsec_nanos(),
            461_789_100
        );
        assert_eq!(from_f64(-1.5).unwrap().timestamp_millis(), -1500);
        assert_eq!(from_f64(0.000000001).unwrap().timestamp_subsec_nanos(), 1);
        assert_eq!(from_f64(5e-324).unwrap().timestamp(), 0);
        assert!(from_f64(f64::NAN).is_none());
        assert!(from_f64(f64::INFINITY).is_none());
        assert!(from_f64(1e13).is_none());
    }

    #[test]
    fn numbers_are_written_back_unchanged() {
        for text in [
            "1480349392.103",
            "1483463860.71",
            "1722790093.4617891",
            "1480349392",
            "-1.5",
            "0.000000001",
        ] {
            let time = unix_seconds::deserialize(&mut serde_json::Deserializer::from_str(text)).unwrap();
            let back = unix_seconds::serialize(&time, serde_json::value::Serializer).unwrap();
            let original: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(back, original, "{text}");
        }
    }

    #[test]
    fn iso_strings_parse_on_both_paths_and_come_back_in_utc() {
        for (text, back, millis) in [
            (
                "2015-10-06T03:38:02.346Z",
                "2015-10-06T03:38:02.346Z",
                1444102682346,
            ),
            ("2015-10-06T03:38:02Z", "2015-10-06T03:38:02.000Z", 1444102682000),
            (
                "2015-10-06T03:38:02.3Z",
                "2015-10-06T03:38:02.300Z",
                1444102682300,
            ),
            (
                "2015-10-06T03:38:02.123456Z",
                "2015-10-06T03:38:02.123456Z",
                1444102682123,
            ),
            (
                "2015-10-06T05:38:02.346+02:00",
                "2015-10-06T03:38:02.346Z",
                1444102682346,
            ),
            (
                "2016-12-31T23:59:60.5Z",
                "2016-12-31T23:59:60.500Z",
                1483228800500,
            ),
        ] {
            let time = parse_iso(text).unwrap();
            assert_eq!(time.timestamp_millis(), millis, "{text}");
            assert_eq!(Iso(&time).to_string(), back, "{text}");
        }
        for bad in [
            "",
            "2015-10-06",
            "2015-13-06T03:38:02Z",
            "2015-10-06T03:38:02.Z",
            "2015-10-06T03:38:02.12aZ",
            "2015-10-06T03:38Z",
        ] {
            assert!(parse_iso(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_fast_iso_path_agrees_with_chrono() {
        let mut checked = 0;
        for year in [
            0, 1, 4, 99, 100, 400, 1600, 1900, 1969, 1970, 2000, 2015, 2016, 2024, 2100, 9999,
        ] {
            for month in 0..=13 {
                for day in [0, 1, 15, 28, 29, 30, 31, 32] {
                    for (h, m, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (3, 38, 2)] {
                        let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.346Z");
                        let chrono = DateTime::parse_from_rfc3339(&text)
                            .ok()
                            .map(|t| t.with_timezone(&Utc));
                        assert_eq!(parse_iso_utc(text.as_bytes()), chrono, "{text}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 8_000, "{checked}");
    }

    #[test]
    fn every_time_written_reads_back() {
        use chrono::TimeZone;
        let times = [
            Utc.with_ymd_and_hms(20000, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::nanoseconds(1),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::milliseconds(999),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ];
        for time in times {
            let text = Iso(&time).to_string();
            assert_eq!(parse_iso(&text), Some(time), "{text}");
            // Unix seconds: every time chrono holds that fits an f64 exactly to the nanosecond
            // is beyond Smooch's range; the ones written here read back to the microsecond.
            let number = unix_seconds::serialize(&time, serde_json::value::Serializer).unwrap();
            let back = unix_seconds::deserialize(&number);
            if time.timestamp().abs() < 1_000_000_000_000 {
                let back = back.unwrap();
                assert!((back - time).num_microseconds().unwrap().abs() <= 1, "{number}");
            }
        }
        assert_eq!(Iso(&times[0]).to_string(), "+20000-01-02T03:04:05.000Z");
    }
}
