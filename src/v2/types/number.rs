//! [`JsNumber`]: a JSON `number` field (`mediaSize`, `coordinates.lat`), read as an `f64` and
//! written back the way JavaScript writes it.

use serde::Serializer;

use crate::de::codec::{scalar_codec, Scalar};

/// The largest integer below which every integer is exactly an `f64` (2⁵³).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// The codec of a field the spec types `number` (not `integer`): any JSON number, stored as an
/// `f64`.
///
/// Sunshine Conversations writes its JSON with JavaScript, which writes a whole number without a
/// fraction (`"mediaSize": 148513`). Written through serde's `f64`, that would come back as
/// `148513.0`, another JSON value; this codec writes a whole number as an integer, so that it comes
/// back as it was sent. An integer beyond 2⁵³, which no `f64` holds exactly, does not fit: it is
/// kept as sent and reported by validation.
pub(crate) struct JsNumber;

impl Scalar for JsNumber {
    type Target = f64;
    const EXPECTING: &'static str = "a number (integers below 2^53)";

    fn from_u64(v: u64) -> Option<f64> {
        let f = v as f64;
        (f < EXACT).then_some(f)
    }

    fn from_i64(v: i64) -> Option<f64> {
        let f = v as f64;
        (f.abs() < EXACT).then_some(f)
    }

    fn from_f64(v: f64) -> Option<f64> {
        Some(v)
    }

    fn write<S: Serializer>(target: &f64, s: S) -> Result<S::Ok, S::Error> {
        let v = *target;
        if v.fract() == 0.0 && v.abs() < EXACT {
            if v < 0.0 {
                s.serialize_i64(v as i64)
            } else {
                s.serialize_u64(v as u64)
            }
        } else {
            s.serialize_f64(v)
        }
    }
}

scalar_codec!(JsNumber);

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::JsNumber;
    use crate::de::codec::{to_json, Codec, Ctx};

    fn round_trip(value: Value) -> Option<Value> {
        let mut slot = None;
        let kept = JsNumber::read(&value, &mut slot, Ctx::TOLERANT).unwrap();
        match (slot, kept) {
            (Some(number), None) => Some(to_json::<JsNumber, serde_json::Error>(&number).unwrap()),
            (None, Some(misfit)) => {
                assert_eq!(misfit.value, value);
                None
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_come_back_as_javascript_writes_them() {
        for value in [
            json!(148513),
            json!(-73),
            json!(0),
            json!(45.5261583),
            json!(-73.595346),
            json!(1.5),
        ] {
            assert_eq!(round_trip(value.clone()), Some(value.clone()), "{value}");
        }
        // A whole float is written as JavaScript would write it.
        assert_eq!(round_trip(json!(1500000.0)), Some(json!(1500000)));
        assert_eq!(round_trip(json!(1e300)), Some(json!(1e300)));
        // Integers an f64 cannot hold exactly do not fit.
        assert_eq!(round_trip(json!(u64::MAX)), None);
        assert_eq!(round_trip(json!(i64::MIN)), None);
        assert_eq!(round_trip(json!("12")), None);
    }
}
