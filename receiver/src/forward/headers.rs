//! `SMOOCH_FORWARD_HEADERS_FILE`: headers added to every forward (an `Authorization`, a tenant),
//! kept out of the environment.

use std::path::Path;

use axum::http::header::{HeaderMap, HeaderName, HeaderValue};

/// The headers the receiver sets itself, or that HTTP/1.1 keeps for the connection: a line
/// naming one is refused (as are `webhook-*` and `x-smooch-*`, by their prefix).
const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "idempotency-key",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The prefixes of the headers the receiver sets itself (Standard Webhooks', and its own).
const RESERVED_PREFIXES: &[&str] = &["webhook-", "x-smooch-"];

/// The headers of `file`. An error names the file, the line and the header's name, never a
/// value (nor what stands before the `:` when it is not a name: it may be a value).
pub(crate) fn read(file: &Path) -> Result<HeaderMap, String> {
    let source = format!("SMOOCH_FORWARD_HEADERS_FILE {}", file.display());
    let bytes = std::fs::read(file).map_err(|error| format!("{source}: {error}"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{source}: not text (UTF-8)"))?;
    parse(text, &source)
}

/// The headers of `text`: a `Name: value` a line, the spaces around the value dropped; blank
/// lines and lines starting with `#` skipped. A name given twice is sent twice, in the file's
/// order. Each value is marked sensitive (hyper's `Debug` does not show it).
fn parse(text: &str, source: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("{source}: line {number} is not `Name: value` (no `:`)"))?;
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            format!(
                "{source}: line {number}: no header name before the `:` (letters, digits and \
                 !#$%&'*+-.^_`|~, without spaces)"
            )
        })?;
        if RESERVED.contains(&name.as_str())
            || RESERVED_PREFIXES
                .iter()
                .any(|prefix| name.as_str().starts_with(prefix))
        {
            return Err(format!(
                "{source}: line {number}: {name} is set by the receiver itself"
            ));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.is_empty() {
            return Err(format!("{source}: line {number}: {name} has no value"));
        }
        // (HeaderValue takes bytes over 127 too: which text they stand for is the server's guess.)
        let visible = value
            .bytes()
            .all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte));
        let mut value = HeaderValue::from_str(value)
            .ok()
            .filter(|_| visible)
            .ok_or_else(|| {
                format!(
                    "{source}: line {number}: the value of {name} is not visible ASCII (control \
                 characters and other text are not taken)"
                )
            })?;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    if headers.is_empty() {
        return Err(format!("{source}: holds no header (a line `Name: value`)"));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "SMOOCH_FORWARD_HEADERS_FILE /etc/smooch/headers";

    fn refused(text: &str) -> String {
        let error = parse(text, SOURCE).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        error.strip_prefix(&format!("{SOURCE}: ")).unwrap().to_owned()
    }

    #[test]
    fn each_line_is_a_header_comments_and_blank_lines_skipped() {
        let headers = parse(
            "# for the ticket service\r\n\
             Authorization: Bearer hunter2-token\r\n\
             \n   \n\
             X-Tenant:acme \n\
             \t# indented comment\n\
             X-Tenant:\tsecond  \n",
            SOURCE,
        )
        .unwrap();
        assert_eq!(headers.len(), 3);
        assert_eq!(headers["authorization"], "Bearer hunter2-token");
        let tenants: Vec<&str> = headers
            .get_all("x-tenant")
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert_eq!(tenants, ["acme", "second"]);
        assert!(headers.values().all(HeaderValue::is_sensitive));
        assert!(!format!("{headers:?}").contains("hunter2"));
    }

    #[test]
    fn a_line_without_a_name_is_refused_by_its_number_without_its_content() {
        assert_eq!(
            refused("X-Tenant: acme\nBearer hunter2-token\n"),
            "line 2 is not `Name: value` (no `:`)"
        );
        assert_eq!(
            refused("Authorization Bearer hunter2:token\n"),
            "line 1: no header name before the `:` (letters, digits and !#$%&'*+-.^_`|~, without spaces)"
        );
        assert_eq!(
            refused("# folded lines are not taken\nX-A: a\n  hunter2: b\n"),
            "line 3: no header name before the `:` (letters, digits and !#$%&'*+-.^_`|~, without spaces)"
        );
    }

    #[test]
    fn a_value_that_is_empty_or_not_visible_ascii_is_refused_naming_the_header() {
        assert_eq!(refused("X-Tenant: \n"), "line 1: x-tenant has no value");
        assert_eq!(
            refused("X-Tenant: acme\nAuthorization: Bearer hunter2\u{7f}\n"),
            "line 2: the value of authorization is not visible ASCII (control characters and \
             other text are not taken)"
        );
        assert!(refused("X-Name: hunter2-é\n").starts_with("line 1: the value of x-name"));
    }

    #[test]
    fn a_header_the_receiver_sets_itself_is_refused() {
        for name in [
            "Content-Type",
            "Idempotency-Key",
            "Host",
            "Transfer-Encoding",
            "Webhook-Signature",
            "webhook-id",
            "X-Smooch-Lane",
        ] {
            assert_eq!(
                refused(&format!("{name}: hunter2")),
                format!(
                    "line 1: {} is set by the receiver itself",
                    name.to_ascii_lowercase()
                )
            );
        }
        // Not a prefix of its own: taken.
        parse("X-Smoochy: yes\nWebhooks: yes\n", SOURCE).unwrap();
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        assert_eq!(
            refused("# nothing yet\n\n"),
            "holds no header (a line `Name: value`)"
        );
    }
}
