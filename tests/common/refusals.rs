//! Bodies that must be refused: the error, checked to stay short; every prefix of a body.

use smooch_events::{parse_event, parse_webhook, ParseError};

/// The error of a body that must not parse.
pub(crate) fn refused(body: &[u8]) -> ParseError {
    match parse_event(body) {
        Ok(event) => panic!("parsed: {}", cut(&format!("{event:?}"))),
        Err(error) => {
            assert_short(&error);
            error
        }
    }
}

/// At most 300 characters of anything, for panic messages.
pub(crate) fn cut(text: &str) -> String {
    text.chars().take(300).collect()
}

/// An error stays short through `Display` and `Debug`, and has no source to print.
fn assert_short(error: &ParseError) {
    let shown = format!("{error} {error:?}");
    assert!(shown.len() < 700, "{} bytes: {}", shown.len(), cut(&shown));
    assert!(std::error::Error::source(error).is_none());
}

/// Checks that `parse` refuses every `stride`-th prefix of `bytes` (but those that only cut
/// trailing white space) as invalid JSON cut short; returns how many it checked.
pub(crate) fn assert_prefixes_cut_short(
    name: &str,
    bytes: &[u8],
    stride: usize,
    parse: impl Fn(&[u8]) -> Result<(), ParseError>,
) -> usize {
    let whole = std::str::from_utf8(bytes).unwrap();
    let mut checked = 0;
    for len in (0..bytes.len()).step_by(stride) {
        let prefix = &bytes[..len];
        // Cutting only trailing white space leaves the whole document.
        if std::str::from_utf8(prefix).is_ok_and(|p| p.trim_end() == whole.trim_end()) {
            continue;
        }
        match parse(prefix) {
            Err(ParseError::InvalidJson { message, .. }) => {
                assert!(
                    message.starts_with("EOF while parsing"),
                    "{name}[..{len}]: {message}"
                );
            }
            other => panic!("{name}[..{len}]: {other:?}"),
        }
        checked += 1;
    }
    checked
}

/// The error of a body `parse_webhook` must refuse.
pub(crate) fn refused_any(body: &[u8]) -> ParseError {
    match parse_webhook(body) {
        Ok(webhook) => panic!("parsed: {}", cut(&format!("{webhook:?}"))),
        Err(error) => {
            assert_short(&error);
            error
        }
    }
}
