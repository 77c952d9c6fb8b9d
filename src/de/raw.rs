//! Raw JSON text: what the crate reads by looking at the bytes of a body that serde_json has not
//! read yet, or has captured whole (`&RawValue`), instead of going through a `Deserializer`.
//!
//! - [`check_raw`] checks the text of a free-form map kept as text ([`JsonMap`]) for what the
//!   capture does not check (duplicate keys, lone surrogates, numbers out of range, nesting).
//! - [`look_ahead`] finds the key that decides the shape of an object (a v1 `trigger`, a v2
//!   `type`, `events`) further on in its text, so that a body whose keys were sorted (`type`
//!   after `payload`) is still read once, straight into the struct its tag names.
//!
//! Both only read; neither allocates but to decode a key or a tag that holds an escape.
//!
//! [`JsonMap`]: crate::JsonMap

use std::borrow::Cow;
use std::fmt;

/// What [`look_ahead`] found in the rest of an object.
#[derive(Debug, PartialEq)]
pub(crate) enum Ahead<'de> {
    /// The deciding key `key`, and its value when it is a string (`None` when it is another
    /// JSON value).
    Found {
        /// The deciding key, as the caller names it.
        key: &'static str,
        /// The value, when it is a string.
        tag: Option<Cow<'de, str>>,
    },
    /// The object ends without a deciding key.
    NoTag,
}

/// Looks in the text of an object for the first key that `deciding` names, without reading any
/// value on the way; `key` is the key serde_json has just read, borrowed from `input` (the whole
/// body), whose value comes next.
///
/// `None` when `key` is not a slice of `input` or the text is not what valid JSON would be there:
/// the caller then reads the object the slow way, and serde_json reports any invalid JSON when it
/// gets there. The scan never reads past `input` and never recurses, whatever the text.
pub(crate) fn look_ahead<'de>(
    input: &'de str,
    key: &str,
    deciding: impl Fn(&str) -> Option<&'static str>,
) -> Option<Ahead<'de>> {
    let bytes = input.as_bytes();
    let start = (key.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    let end = start.checked_add(key.len())?;
    // The key, between its quotes, is the text of `input` at `start..end`.
    if start == 0 || bytes.get(start - 1) != Some(&b'"') || bytes.get(end) != Some(&b'"') {
        return None;
    }
    if input.get(start..end)?.as_ptr() != key.as_ptr() {
        return None;
    }
    let mut at = skip_value(bytes, colon(bytes, end + 1)?)?;
    loop {
        at = space(bytes, at);
        match *bytes.get(at)? {
            b'}' => return Some(Ahead::NoTag),
            b',' => at = space(bytes, at + 1),
            _ => return None,
        }
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (key, close) = short_string(input, at)?;
        at = colon(bytes, close + 1)?;
        if let Some(found) = deciding(&key) {
            let tag = match bytes.get(at) {
                Some(b'"') => Some(short_string(input, at)?.0),
                _ => None,
            };
            return Some(Ahead::Found { key: found, tag });
        }
        at = skip_value(bytes, at)?;
    }
}

/// A short string (a key, a tag) whose opening quote is at `open`: borrowed when it holds no
/// escape, else decoded; and the position of its closing quote. Byte by byte, which beats eight
/// at a time on a few bytes.
fn short_string(input: &str, open: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = input.as_bytes();
    let (mut at, mut escaped) = (open + 1, false);
    loop {
        match *bytes.get(at)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                at += 2;
            }
            _ => at += 1,
        }
    }
    let text = if escaped {
        Cow::Owned(serde_json::from_str::<String>(input.get(open..=at)?).ok()?)
    } else {
        Cow::Borrowed(input.get(open + 1..at)?)
    };
    Some((text, at))
}

/// The first position at or after `at` that is not white space.
fn space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        at += 1;
    }
    at
}

/// The position after white space, `:` and white space at `at`.
fn colon(bytes: &[u8], at: usize) -> Option<usize> {
    let at = space(bytes, at);
    (bytes.get(at) == Some(&b':')).then(|| space(bytes, at + 1))
}

/// The closing quote of the string whose text starts at `from` (after its opening quote).
#[inline]
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let quote = next_quote(bytes, at)?;
        // A quote after an odd number of backslashes is part of the text.
        let mut backslashes = 0;
        while quote - backslashes > from && bytes[quote - backslashes - 1] == b'\\' {
            backslashes += 1;
        }
        if backslashes % 2 == 0 {
            return Some(quote);
        }
        at = quote + 1;
    }
}

/// The index of the first `"` at or after `from`, eight bytes at a time.
#[inline]
fn next_quote(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = 0x2222_2222_2222_2222;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let v = x ^ QUOTES;
        // The high bit of each byte that is a quote, and maybe of later bytes, never earlier.
        let found = v.wrapping_sub(ONES) & !v & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    rest.iter().position(|&b| b == b'"').map(|p| at + p)
}

/// The position after the value at `at`: a string, an object or list with everything inside, or
/// a number or literal.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' => Some(string_end(bytes, at + 1)? + 1),
        b'{' | b'[' => {
            let (mut at, mut depth) = (at + 1, 1usize);
            loop {
                let byte = *bytes.get(at)?;
                at += 1;
                match byte {
                    b'"' => at = string_end(bytes, at)? + 1,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {
            let rest = bytes.get(at..)?;
            let len = rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\t' | b'\r'))?;
            Some(at + len)
        }
    }
}

/// Checks the JSON text of a value that serde_json captured raw (so its syntax is valid: brackets,
/// commas, literals, number syntax, escapes, no control character in a string) for what that
/// capture does not check and reading it into a `Value` of this crate does: a lone surrogate
/// escape, a number out of `f64`'s range, a key that appears twice in one object, and nesting
/// deeper than `levels` objects and lists (the outermost included).
///
/// One pass over the bytes that builds nothing, but for an object of many keys or keys that
/// hold escapes.
pub(crate) fn check_raw(text: &str, levels: u8) -> Result<(), CheckError> {
    Scan { text, at: 0 }.value(levels)
}

/// The state of [`check_raw`]: the text and where it is.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.byte(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    /// One value, which may open `levels` more levels of nesting.
    fn value(&mut self, levels: u8) -> Result<(), CheckError> {
        self.skip_space();
        match self.byte().ok_or(CheckError::Syntax)? {
            b'{' => self.object(levels),
            b'[' => self.array(levels),
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number(),
            // `true`, `false`, `null`: the capture checked them.
            _ => {
                while matches!(self.byte(), Some(b'a'..=b'z')) {
                    self.at += 1;
                }
                Ok(())
            }
        }
    }

    fn object(&mut self, levels: u8) -> Result<(), CheckError> {
        let inner = levels.checked_sub(1).ok_or(CheckError::TooDeep)?;
        let start = self.at;
        self.at += 1;
        let mut keys = Keys::new();
        let mut repeat = false;
        loop {
            self.skip_space();
            match self.byte().ok_or(CheckError::Syntax)? {
                b'}' => {
                    self.at += 1;
                    repeat |= keys.repeat_at_end();
                    if repeat && has_duplicate_key(&self.text[start..self.at]) {
                        return Err(CheckError::DuplicateKey);
                    }
                    return Ok(());
                }
                b',' => self.at += 1,
                _ => {
                    let key = self.string()?;
                    repeat |= !keys.insert(&key);
                    self.skip_space();
                    self.at += 1; // the `:`
                    self.value(inner)?;
                }
            }
        }
    }

    fn array(&mut self, levels: u8) -> Result<(), CheckError> {
        let inner = levels.checked_sub(1).ok_or(CheckError::TooDeep)?;
        self.at += 1;
        loop {
            self.skip_space();
            match self.byte().ok_or(CheckError::Syntax)? {
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                b',' => self.at += 1,
                _ => self.value(inner)?,
            }
        }
    }

    /// A string, as a key would be compared: borrowed when it has no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, CheckError> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut at = start + 1;
        let mut escaped = false;
        loop {
            at = quote_or_backslash(bytes, at).ok_or(CheckError::Syntax)?;
            if bytes[at] == b'"' {
                break;
            }
            escaped = true;
            if bytes.get(at + 1) != Some(&b'u') {
                at += 2;
                continue;
            }
            match hex4(bytes, at + 2)? {
                0xD800..=0xDBFF => {
                    let low = if bytes.get(at + 6..at + 8) == Some(&b"\\u"[..]) {
                        hex4(bytes, at + 8)?
                    } else {
                        0
                    };
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(CheckError::LoneSurrogate);
                    }
                    at += 12;
                }
                0xDC00..=0xDFFF => return Err(CheckError::LoneSurrogate),
                _ => at += 6,
            }
        }
        self.at = at + 1;
        if escaped {
            let quoted = &self.text[start..=at];
            serde_json::from_str(quoted)
                .map(Cow::Owned)
                .map_err(|_| CheckError::Syntax)
        } else {
            Ok(Cow::Borrowed(&self.text[start + 1..at]))
        }
    }

    fn number(&mut self) -> Result<(), CheckError> {
        let start = self.at;
        while matches!(self.byte(), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.at += 1;
        }
        let number = &self.text[start..self.at];
        // Only an exponent or some 300 digits can go past `f64::MAX`.
        if (number.len() > 300 || number.contains(['e', 'E']))
            && !number.parse::<f64>().is_ok_and(f64::is_finite)
        {
            return Err(CheckError::NumberOutOfRange);
        }
        Ok(())
    }
}

/// The index of the first `"` or `\\` at or after `from`, eight bytes at a time.
fn quote_or_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that equals `b` (and maybe of later bytes, never earlier).
    let equal = |x: u64, b: u8| {
        let v = x ^ (ONES * u64::from(b));
        v.wrapping_sub(ONES) & !v & HIGHS
    };
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
        let x = u64::from_le_bytes(chunk);
        let found = equal(x, b'"') | equal(x, b'\\');
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|p| at + p)
}

/// The four hex digits at `at`.
fn hex4(bytes: &[u8], at: usize) -> Result<u16, CheckError> {
    let digits = bytes.get(at..at + 4).ok_or(CheckError::Syntax)?;
    let digits = std::str::from_utf8(digits).map_err(|_| CheckError::Syntax)?;
    u16::from_str_radix(digits, 16).map_err(|_| CheckError::Syntax)
}

/// Why [`check_raw`] refused a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckError {
    /// A key appears twice in one object.
    DuplicateKey,
    /// Nesting is too deep.
    TooDeep,
    /// A surrogate escape without its other half.
    LoneSurrogate,
    /// A number past `f64`'s range.
    NumberOutOfRange,
    /// Not the valid JSON a raw value is (never, after serde_json captured it).
    Syntax,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckError::DuplicateKey => "duplicate key",
            CheckError::TooDeep => "recursion limit exceeded",
            CheckError::LoneSurrogate => "lone surrogate in hex escape",
            CheckError::NumberOutOfRange => "number out of range",
            CheckError::Syntax => "invalid JSON",
        })
    }
}

/// The fingerprints of the keys of one object, to find a key that appears twice: the first few
/// are compared as they come, on the stack; the rest, once the object ends, by sorting. Two equal
/// fingerprints (almost always two equal keys) send the object to [`has_duplicate_key`].
struct Keys {
    few: [u64; Keys::FEW],
    count: usize,
    more: Vec<u64>,
}

impl Keys {
    const FEW: usize = 16;

    fn new() -> Self {
        Keys {
            few: [0; Self::FEW],
            count: 0,
            more: Vec::new(),
        }
    }

    /// Adds a key; `false` when its fingerprint was already there.
    fn insert(&mut self, key: &str) -> bool {
        let print = fingerprint(key);
        if self.few[..self.count].contains(&print) {
            return false;
        }
        if self.count < Self::FEW {
            self.few[self.count] = print;
            self.count += 1;
        } else {
            self.more.push(print);
        }
        true
    }

    /// Whether the keys that came after the first few repeat a fingerprint.
    fn repeat_at_end(mut self) -> bool {
        if self.more.is_empty() {
            return false;
        }
        self.more.extend_from_slice(&self.few[..self.count]);
        self.more.sort_unstable();
        self.more.windows(2).any(|pair| pair[0] == pair[1])
    }
}

/// Whether the object `text` (valid JSON) holds a key twice: the exact answer, for an object whose
/// keys share a fingerprint.
fn has_duplicate_key(text: &str) -> bool {
    serde_json::from_str::<crate::de::json::StrictValue>(text).is_err()
}

/// A 64-bit fingerprint of a key: equal keys have equal fingerprints, and different ones almost
/// never do (each eight bytes are mixed in with a multiply and a shift, so that every byte reaches
/// every bit, then murmur3's finalizer; no collision among millions of keys like `key123456`).
fn fingerprint(key: &str) -> u64 {
    let mix = |hash: u64, word: u64| {
        let hash = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        hash ^ (hash >> 29)
    };
    let mut hash = key.len() as u64;
    let mut chunks = key.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let mut word = [0; 8];
    word[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    let mut hash = mix(hash, u64::from_le_bytes(word));
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::json::StrictValue;

    /// What reading the text into a `Value` of this crate says, with serde_json's limit of 127
    /// nested levels lowered to `levels`.
    fn oracle(text: &str, levels: u8) -> bool {
        let pad = 127 - usize::from(levels);
        let padded = format!("{}{text}{}", "[".repeat(pad), "]".repeat(pad));
        serde_json::from_str::<StrictValue>(&padded).is_ok()
    }

    fn check(text: &str, levels: u8) -> Result<(), CheckError> {
        // Every text here is valid JSON syntax, as a captured raw value is.
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
            "{text}"
        );
        let result = check_raw(text, levels);
        assert_eq!(
            result.is_ok(),
            oracle(text, levels),
            "{text} at {levels}: {result:?}"
        );
        result
    }

    #[test]
    fn the_check_refuses_what_a_value_refuses() {
        let ok = r#"{"a": [1, {"b": null}], "c": "\u00e9 \ud83d\ude00 \\ud83d", "d": true}"#;
        assert_eq!(check(ok, 127), Ok(()));
        assert_eq!(check(r#"{"a": 1, "a": 2}"#, 127), Err(CheckError::DuplicateKey));
        assert_eq!(
            check(r#"{"a": 1, "\u0061": 2}"#, 127),
            Err(CheckError::DuplicateKey)
        );
        assert_eq!(
            check(r#"{"a": "a", "b": {"a": ["a"]}, "c": {"a": 1}}"#, 127),
            Ok(())
        );
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let twice = format!("{{{}, \"k7\": 0}}", many.join(", "));
        assert_eq!(check(&twice, 127), Err(CheckError::DuplicateKey));
        assert_eq!(check(&format!("{{{}}}", many.join(", ")), 127), Ok(()));
        assert_eq!(
            check(r#"{"a": {"b": 1, "b": 1}}"#, 127),
            Err(CheckError::DuplicateKey)
        );
        assert_eq!(check(r#"{"a": [{"b": 1}, {"b": 1}]}"#, 127), Ok(()));
        for lone in [r#""\ud83d""#, r#""\ude00""#, r#""\ud83d\u0041""#, r#""x\ud83dy""#] {
            assert_eq!(
                check(&format!(r#"{{"a": {lone}}}"#), 127),
                Err(CheckError::LoneSurrogate)
            );
            assert_eq!(
                check(&format!(r#"{{{lone}: 1}}"#), 127),
                Err(CheckError::LoneSurrogate)
            );
        }
        assert_eq!(check(r#"{"a": 1e400}"#, 127), Err(CheckError::NumberOutOfRange));
        assert_eq!(check(r#"{"a": -1E309}"#, 127), Err(CheckError::NumberOutOfRange));
        assert_eq!(
            check(r#"{"a": [1e-400, 1.7976931348623157e308, -0]}"#, 127),
            Ok(())
        );
        let long = "9".repeat(309);
        assert_eq!(
            check(&format!(r#"{{"a": {long}}}"#), 127),
            Err(CheckError::NumberOutOfRange)
        );
        assert_eq!(check(&format!(r#"{{"a": {}}}"#, &long[..308]), 127), Ok(()));
        // Levels: the object itself is one.
        assert_eq!(check(r#"{"a": [[1]]}"#, 3), Ok(()));
        assert_eq!(check(r#"{"a": [[1]]}"#, 2), Err(CheckError::TooDeep));
        assert_eq!(check(r#"{}"#, 1), Ok(()));
        assert_eq!(check(r#"{"a": []}"#, 1), Err(CheckError::TooDeep));
        assert_eq!(check(r#"{"[": "{", "]": "[[[["}"#, 1), Ok(()));
    }

    /// JSON text of any shape, with keys that repeat, escapes that pair or not, and numbers near
    /// and past `f64`'s range.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let string = prop::collection::vec(
            prop_oneof![
                Just("a".to_owned()),
                Just("\\u0061".to_owned()),
                Just("\\ud83d".to_owned()),
                Just("\\ude00".to_owned()),
                Just("\\ud83d\\ude00".to_owned()),
                Just("\\\\".to_owned()),
                Just("\\\"".to_owned()),
                Just("{[".to_owned()),
            ],
            0..3,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat()));
        let leaf = prop_oneof![
            string.clone(),
            Just("1e308".to_owned()),
            Just("2e308".to_owned()),
            Just("-1.5E-400".to_owned()),
            Just("true".to_owned()),
            Just("null".to_owned()),
            any::<i32>().prop_map(|n| n.to_string()),
        ];
        leaf.prop_recursive(6, 40, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((string.clone(), inner), 0..4).prop_map(|entries| {
                    let entries: Vec<String> = entries.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", entries.join(","))
                }),
            ]
        })
        .prop_map(|value| format!("{{\"x\":{value}}}"))
    }

    proptest::proptest! {
        /// On any text a raw value can hold, the check agrees with reading it into a `Value`.
        #[test]
        fn the_check_agrees_with_a_value_read(text in json_text(), levels in 1u8..9) {
            let result = check_raw(&text, levels);
            proptest::prop_assert_eq!(result.is_ok(), oracle(&text, levels), "{} at {}: {:?}", text, levels, result);
        }
    }

    #[test]
    fn fingerprints_of_similar_keys_differ() {
        let mut prints: Vec<u64> = (0..300_000).map(|i| fingerprint(&format!("key{i}"))).collect();
        prints.sort_unstable();
        prints.dedup();
        assert_eq!(prints.len(), 300_000);
    }

    fn found(key: &'static str, tag: Option<&str>) -> Option<Ahead<'static>> {
        Some(Ahead::Found {
            key,
            tag: tag.map(|t| Cow::Owned(t.to_owned())),
        })
    }

    /// Looks ahead from the first key of `text`, for `trigger`, `type` or `events`.
    fn ahead(text: &str) -> Option<Ahead<'_>> {
        let first = text.find('"')? + 1;
        let len = text[first..].find('"')?;
        let key = &text[first..first + len];
        look_ahead(text, key, |k| match k {
            "trigger" => Some("trigger"),
            "type" => Some("type"),
            "events" => Some("events"),
            _ => None,
        })
    }

    #[test]
    fn the_deciding_key_is_found_past_values_of_every_shape() {
        let text = r#"{"a": {"b": [1, {"type": "no"}], "c": "}\"]"}, "d": -1.5e3, "e": [], "f": null,
            "g": "x\\", "type" : "user:remove", "h": 1}"#;
        assert_eq!(ahead(text), found("type", Some("user:remove")));
        assert_eq!(ahead(r#"{"payload": {}, "type": 7}"#), found("type", None));
        assert_eq!(
            ahead(r#"{"app": {"id": "x"}, "events": []}"#),
            found("events", None)
        );
        assert_eq!(
            ahead(r#"{"id": "1", "type": "conversation\u003amessage"}"#),
            found("type", Some("conversation:message"))
        );
        assert_eq!(
            ahead(r#"{"payload": {"type": "a"}, "id": "1"}"#),
            Some(Ahead::NoTag)
        );
    }

    #[test]
    fn a_key_that_is_not_part_of_the_input_or_broken_text_is_no_answer() {
        let text = r#"{"id": "1", "type": "x"}"#;
        assert_eq!(look_ahead(text, "id", |_| None), None);
        for broken in [
            r#"{"id" "1", "type": "x"}"#,
            r#"{"id": "1" "type": "x"}"#,
            r#"{"id": [1, "#,
            r#"{"id": "1"#,
        ] {
            assert_eq!(ahead(broken), None, "{broken}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, the look-ahead ends without panicking, and on valid JSON it agrees
        /// with reading the object.
        #[test]
        fn the_look_ahead_agrees_with_a_read(text in json_text(), cut in 0usize..64) {
            let wrapped = format!("{{\"k\":{text},\"type\":\"t\"}}");
            let answer = ahead(&wrapped);
            proptest::prop_assert_eq!(answer, found("type", Some("t")));
            let short = &wrapped[..wrapped.len().saturating_sub(cut)];
            let _ = ahead(short);
        }
    }
}
