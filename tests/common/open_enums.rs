//! The checks every open enum (`open_enum!` in `src/`) must pass, and the list of those the
//! sources declare, so that a new one cannot be left out of the tests.

use std::fmt::{Debug, Display};
use std::path::Path;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Checks an open enum: each known value agrees across `as_str`, `Display`, `FromStr`, `From`
/// and serde both ways, and is never `Other`; no spelling belongs to two variants (each parses
/// back to its own variant, and the spellings are distinct); an unknown value is kept in `Other`
/// exactly.
pub(crate) fn check<T>(name: &str, known: &[T], as_str: fn(&T) -> &str, other: fn(&T) -> Option<&str>)
where
    T: Debug
        + Display
        + PartialEq
        + FromStr<Err = std::convert::Infallible>
        + for<'a> From<&'a str>
        + From<String>
        + Serialize
        + DeserializeOwned,
{
    assert!(!known.is_empty(), "{name}: KNOWN is empty");
    for value in known {
        let text = as_str(value);
        assert_eq!(value.to_string(), text, "{name}: Display of {value:?}");
        assert_eq!(&text.parse::<T>().unwrap(), value, "{name}: FromStr of {text:?}");
        assert_eq!(
            serde_json::to_value(value).unwrap(),
            text,
            "{name}: Serialize of {value:?}"
        );
        assert_eq!(
            &serde_json::from_value::<T>(text.into()).unwrap(),
            value,
            "{name}: Deserialize of {text:?}"
        );
        // A known spelling always gives its own variant, never `Other`: the two cannot differ.
        assert_eq!(&T::from(text), value, "{name}: From<&str> of {text:?}");
        assert_eq!(
            &T::from(text.to_owned()),
            value,
            "{name}: From<String> of {text:?}"
        );
        assert_eq!(
            other(value),
            None,
            "{name}: {text} is known, so it is not `Other`"
        );
    }
    let mut texts: Vec<&str> = known.iter().map(as_str).collect();
    texts.sort_unstable();
    let count = texts.len();
    texts.dedup();
    assert_eq!(texts.len(), count, "{name}: two variants share a spelling");

    let new = "somethingNew";
    let parsed: T = serde_json::from_value(new.into()).unwrap();
    assert_eq!(other(&parsed), Some(new), "{name}: {new} is kept in `Other`");
    assert_eq!(parsed, T::from(new), "{name}");
    assert_eq!(parsed, T::from(new.to_owned()), "{name}");
    assert_eq!(parsed.to_string(), new, "{name}");
    assert_eq!(new.parse::<T>().unwrap(), parsed, "{name}");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), new, "{name}");
}

/// One test per open enum, named by its snake-case name, each running [`check`]; and `COVERED`,
/// the names of the enums given.
#[allow(unused_macros)] // Only the v1 and v2 tests use it.
macro_rules! open_enum_tests {
    ($( $test:ident: $name:ident, )*) => {
        $(
            #[test]
            fn $test() {
                $crate::common::open_enums::check(stringify!($name), $name::KNOWN, $name::as_str, |value| match value {
                    $name::Other(other) => Some(other.as_str()),
                    _ => None,
                });
            }
        )*

        /// The open enums these tests check.
        const COVERED: &[&str] = &[$(stringify!($name)),*];
    };
}
#[allow(unused_imports)]
pub(crate) use open_enum_tests;

/// The name of every enum made with `open_enum!` in `src/<dir>` (read from the sources), sorted.
fn declared_in(dir: &str) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for (at, _) in source.match_indices("open_enum! {") {
                    let rest = &source[at..];
                    let start =
                        rest.find("pub enum ").expect("an enum after `open_enum! {`") + "pub enum ".len();
                    let name: String = rest[start..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir),
        &mut out,
    );
    out.sort();
    out
}

/// Asserts that `covered` names exactly the open enums of `src/<dir>`.
pub(crate) fn assert_all_covered(dir: &str, covered: &[&str]) {
    let mut covered: Vec<&str> = covered.to_vec();
    covered.sort_unstable();
    let declared = declared_in(dir);
    assert!(!declared.is_empty(), "no `open_enum!` found in src/{dir}");
    assert_eq!(
        covered, declared,
        "the open enums of src/{dir} and those the tests check differ"
    );
}
