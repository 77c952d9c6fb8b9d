//! Signed forwards, as the [Standard Webhooks] specification says: each POST carries
//! `webhook-id`, `webhook-timestamp` and `webhook-signature`, the last being `v1,` and the base64
//! HMAC-SHA256 of `id.timestamp.body` keyed with the secret (the bytes of the base64 after
//! `whsec_`); one such signature per secret, space-separated, during a rotation.
//!
//! [Standard Webhooks]: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

use std::fmt;
use std::ops::RangeInclusive;
use std::path::Path;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// What a secret starts with.
const PREFIX: &str = "whsec_";

/// A secret's length, in bytes, as the specification asks ("between 24 bytes (192 bits) and 64
/// bytes (512 bits)").
const SECRET_BYTES: RangeInclusive<usize> = 24..=64;

/// The standard alphabet, with or without the trailing `=` (as the Python and JavaScript
/// libraries read a secret).
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Signs forwards with one secret or more. Its `Debug` says how many, nothing of them.
#[derive(Clone)]
pub(crate) struct Signer {
    /// One HMAC keyed with each secret, in the file's order, cloned for each message.
    keys: Vec<Hmac<Sha256>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("secrets", &self.keys.len())
            .finish()
    }
}

impl Signer {
    /// The secrets of `file` (`SMOOCH_FORWARD_SIGNING_SECRET_FILE`), one a line. An error names
    /// the file and the line, never what it holds.
    pub(crate) fn read(file: &Path) -> Result<Signer, String> {
        let source = format!("SMOOCH_FORWARD_SIGNING_SECRET_FILE {}", file.display());
        let bytes = std::fs::read(file).map_err(|error| format!("{source}: {error}"))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| format!("{source}: not text (UTF-8)"))?;
        Signer::parse(text, &source)
    }

    /// The secrets of `text`: each line a `whsec_…` secret; blank lines and lines starting with
    /// `#` are skipped.
    fn parse(text: &str, source: &str) -> Result<Signer, String> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let number = index + 1;
            let key = line
                .strip_prefix(PREFIX)
                .and_then(|encoded| SECRET_BASE64.decode(encoded).ok())
                .ok_or_else(|| {
                    format!(
                        "{source}: line {number} is not a secret: whsec_ and then base64 \
                         (make one with `echo whsec_$(openssl rand -base64 32)`)"
                    )
                })?;
            if !SECRET_BYTES.contains(&key.len()) {
                return Err(format!(
                    "{source}: line {number}: the secret has {} bytes, and the Standard Webhooks \
                     specification asks for {} to {} (make one with `echo whsec_$(openssl rand \
                     -base64 32)`)",
                    key.len(),
                    SECRET_BYTES.start(),
                    SECRET_BYTES.end()
                ));
            }
            keys.push(Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length"));
        }
        if keys.is_empty() {
            return Err(format!("{source}: holds no secret (a line whsec_…)"));
        }
        Ok(Signer { keys })
    }

    /// The `webhook-signature` of a message: `v1,<base64>` for each secret, space-separated.
    pub(crate) fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let mut signatures = String::with_capacity(self.keys.len() * 48);
        for key in &self.keys {
            let mut mac = key.clone();
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            if !signatures.is_empty() {
                signatures.push(' ');
            }
            signatures.push_str("v1,");
            STANDARD.encode_string(mac.finalize().into_bytes(), &mut signatures);
        }
        signatures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's example, from its libraries' tests (`test_sign_function` in Python,
    /// "sign function works" in JavaScript).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: u64 = 1_614_265_330;
    const SPEC_PAYLOAD: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn signer(text: &str) -> Result<Signer, String> {
        Signer::parse(text, "SMOOCH_FORWARD_SIGNING_SECRET_FILE /etc/smooch/signing")
    }

    #[test]
    fn the_specification_s_test_vector_gives_its_signature() {
        let signer = signer(&format!("{SPEC_SECRET}\n")).unwrap();
        assert_eq!(
            signer.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD.as_bytes()),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn two_secrets_give_two_signatures_in_the_file_s_order() {
        // Another secret of 32 bytes: 0, 1, … 31.
        let other_bytes: Vec<u8> = (0..32).collect();
        let other = format!("whsec_{}", STANDARD.encode(&other_bytes));
        let signer = signer(&format!(
            "# rotating: the new one first\n{other}\n\n  {SPEC_SECRET}  \n"
        ))
        .unwrap();
        let header = signer.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD.as_bytes());
        let (first, second) = header.split_once(' ').unwrap();
        assert_eq!(second, SPEC_SIGNATURE);
        let mut mac = Hmac::<Sha256>::new_from_slice(&other_bytes).unwrap();
        mac.update(format!("{SPEC_ID}.{SPEC_TIMESTAMP}.{SPEC_PAYLOAD}").as_bytes());
        assert_eq!(
            first,
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        );
    }

    #[test]
    fn a_secret_without_its_padding_is_the_same_secret() {
        // 32 bytes: base64 with one `=`.
        let padded = format!("whsec_{}", STANDARD.encode([7u8; 32]));
        assert!(padded.ends_with('='));
        let bare = padded.trim_end_matches('=');
        assert_eq!(
            signer(&padded).unwrap().sign("msg_1", 1, b"{}"),
            signer(bare).unwrap().sign("msg_1", 1, b"{}")
        );
    }

    #[test]
    fn a_line_that_is_not_a_secret_is_refused_by_its_number_without_its_content() {
        for (text, line) in [
            ("hunter2-not-prefixed-0123456789", 1),
            ("# comment\n\nwhsec_hunter2-not-base64!!", 3),
            (
                &format!("{SPEC_SECRET}\nWHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                2,
            ),
        ] {
            let error = signer(text).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "SMOOCH_FORWARD_SIGNING_SECRET_FILE /etc/smooch/signing: line {line} is not a \
                     secret: whsec_ and then base64 (make one with `echo whsec_$(openssl rand \
                     -base64 32)`)"
                )
            );
        }
    }

    #[test]
    fn a_secret_outside_24_to_64_bytes_is_refused() {
        for (bytes, accepted) in [(23, false), (24, true), (64, true), (65, false)] {
            let text = format!("whsec_{}", STANDARD.encode(vec![1u8; bytes]));
            match signer(&text) {
                Ok(_) => assert!(accepted, "{bytes} bytes taken"),
                Err(error) => {
                    assert!(!accepted, "{bytes} bytes refused: {error}");
                    assert!(
                        error.contains(&format!("line 1: the secret has {bytes} bytes")),
                        "{error}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_file_of_comments_and_blank_lines_holds_no_secret() {
        assert_eq!(
            signer("# none yet\n\n").unwrap_err(),
            "SMOOCH_FORWARD_SIGNING_SECRET_FILE /etc/smooch/signing: holds no secret (a line whsec_…)"
        );
    }

    #[test]
    fn the_debug_of_a_signer_shows_no_key() {
        let signer = signer(SPEC_SECRET).unwrap();
        assert_eq!(format!("{signer:?}"), "Signer { secrets: 1 }");
    }
}
