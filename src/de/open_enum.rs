//! Open enums: the vendor's string values, with a fallback that keeps any value not listed.
//!
//! Smooch adds channels, message types and action types over time, and its docs ask receivers not
//! to fail on values they do not know. Each enum made by [`open_enum!`] therefore has an
//! `Other(OtherValue)` variant that keeps the text, so `as_str()` gives back exactly what was
//! sent. An [`OtherValue`] can only be made by the enum's own conversions, which pick the named
//! variant for every value it has: `Other` never holds `"text"` where `Text` exists, so two equal
//! spellings are always equal values.

use std::fmt;

/// A value an open enum does not know (yet), kept exactly as it was sent.
///
/// It dereferences to `str`. It cannot be built directly: use the enum's `From<&str>` or
/// `FromStr`, which choose the named variant when there is one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OtherValue(String);

impl OtherValue {
    /// Only for the enums' conversions, after they found no named variant.
    pub(crate) fn new(text: String) -> Self {
        OtherValue(text)
    }

    /// The value as it was sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as it was sent, as a `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for OtherValue {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for OtherValue {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for OtherValue {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for OtherValue {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for OtherValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for OtherValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Defines an open enum with `as_str`, `Display`, `FromStr`, `From<&str>`, `From<String>`,
/// `Serialize`, `Deserialize` and a [`Codec`](crate::de::codec::Codec), all agreeing on the wire
/// spelling given for each variant.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* #[doc = concat!("\n\nOn the wire: `\"", $wire, "\"`.")] $variant, )*
            /// A value this crate does not know (yet), kept exactly as it was sent.
            Other($crate::de::open_enum::OtherValue),
        }

        impl $name {
            /// Every value this crate knows, without `Other`.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// The value as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(other) => other.as_str(),
                }
            }

            fn known(text: &str) -> Option<Self> {
                match text {
                    $( $wire => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::known(text).unwrap_or_else(|| $name::Other($crate::de::open_enum::OtherValue::new(text.to_owned())))
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self::known(&text).unwrap_or($name::Other($crate::de::open_enum::OtherValue::new(text)))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            /// Never fails: a value this crate does not know becomes `Other`.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = ::serde::de::DeserializeSeed::deserialize($crate::de::json::KeySeed, d)?;
                Ok(match text {
                    ::std::borrow::Cow::Borrowed(text) => Self::from(text),
                    ::std::borrow::Cow::Owned(text) => Self::from(text),
                })
            }
        }

        impl $crate::de::codec::Scalar for $name {
            type Target = $name;
            const EXPECTING: &'static str = "a string";

            fn from_str(text: &str) -> Option<Self> {
                Some(Self::from(text))
            }

            fn from_string(text: String) -> Result<Self, String> {
                Ok(Self::from(text))
            }

            fn write<S: ::serde::Serializer>(value: &Self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(value.as_str())
            }
        }

        $crate::de::codec::scalar_codec!($name);
    };
}

pub(crate) use open_enum;
