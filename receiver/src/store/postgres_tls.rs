//! How the PostgreSQL store reaches its database: the URL read as libpq reads it, its TLS
//! parameters included, and TLS over rustls ([`crate::tls`]).
//!
//! tokio-postgres reads the URL but knows only `sslmode=disable|prefer|require`, and checks no
//! certificate itself; so the `ssl…` parameters are taken out of the URL here, the rest is handed
//! to [`tokio_postgres::Config`], and the certificate checks are rustls':
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server accepts it; plain text if it says no | not checked; with `sslrootcert=FILE`, its chain |
//! | `require` | always | not checked; with `sslrootcert=FILE`, its chain (libpq's `verify-ca`) |
//! | `verify-ca` | always | its chain, up to `sslrootcert` or the system's CAs |
//! | `verify-full` | always | its chain and the host name |
//!
//! - `sslrootcert=FILE`: the CAs of that PEM file, and only those; without it, the system's;
//!   `sslrootcert=system`: the system's, and then `sslmode` is `verify-full` unless it says
//!   otherwise, and a weaker one is refused (as libpq 16 does: anybody can get a certificate from
//!   a public CA for a host name of their own).
//! - `sslcert=FILE&sslkey=FILE`: a client certificate (PEM), for servers that ask for one; both
//!   or neither.
//! - `sslsni=0`: no server name sent in the handshake (it is sent by default, as libpq does).
//!
//! A server that cannot be reached as the URL says is an error naming why (the certificate's
//! issuer unknown, a host name it does not name, its expiry, a server without TLS under
//! `require`); nothing falls back to plain text but `prefer` on the server's own no. Unlike
//! libpq: no default files under `~/.postgresql/` and no `PGSSL…` variables (the URL says
//! everything); `allow`, encrypted keys (`sslpassword`), CRLs and the other `ssl…` parameters are
//! refused by name rather than ignored; the host name is matched against the certificate's
//! subject alternative names only (libpq reads the common name when there are none).
//!
//! With TLS, the handshake also gives SCRAM authentication its channel binding
//! (`tls-server-end-point`): a password exchange that an interceptor in the middle cannot relay,
//! even under `require`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};

use sha2::Digest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host, SslMode as PgSslMode};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres::{Client, Connection, Socket};

use super::StoreError;
use crate::tls::{self, ClientCert, Roots, TlsSettings, Verify};

/// libpq's `sslmode` (less `allow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// `disable`: plain text only.
    Disable,
    /// `prefer`: TLS if the server accepts it, plain text if it says no.
    Prefer,
    /// `require`: TLS, the certificate not checked (but its chain with a CA file).
    Require,
    /// `verify-ca`: TLS, the certificate's chain checked.
    VerifyCa,
    /// `verify-full`: TLS, the certificate's chain and host name checked.
    VerifyFull,
}

impl SslMode {
    /// Its name in a URL.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The `ssl…` parameters of a URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SslParameters {
    mode: Option<String>,
    root_cert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    sni: Option<String>,
}

/// The parameters taken out of the URL here; any other `ssl…` one is refused.
const TAKEN: [&str; 5] = ["sslmode", "sslrootcert", "sslcert", "sslkey", "sslsni"];

/// Passed on to tokio-postgres, which knows it (`postgres` or PostgreSQL 17's `direct`).
const PASSED_ON: &str = "sslnegotiation";

/// `url` without its `ssl…` parameters (the others as they were written), and those.
fn split_url(url: &str) -> Result<(String, SslParameters), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SslParameters::default()));
    };
    let mut kept = Vec::new();
    let mut ssl = SslParameters::default();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(key)?;
        let value = || percent_decode(value).map(Some);
        match name.as_str() {
            "sslmode" => ssl.mode = value()?,
            "sslrootcert" => ssl.root_cert = value()?,
            "sslcert" => ssl.cert = value()?,
            "sslkey" => ssl.key = value()?,
            "sslsni" => ssl.sni = value()?,
            PASSED_ON => kept.push(pair),
            other if other.starts_with("ssl") || other == "requiressl" => {
                return Err(format!(
                    "the parameter {other} is not supported (those read: {}, {PASSED_ON})",
                    TAKEN.join(", ")
                ))
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, ssl))
}

/// `%XX` escapes decoded (no `+` for a space: libpq's URLs have none).
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| "a parameter has a % not followed by two hex digits".to_owned())?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a parameter is not UTF-8 once decoded".to_owned())
}

/// What the parameters ask for: the mode, and the TLS settings (none under `disable`).
fn settings(ssl: &SslParameters) -> Result<(SslMode, Option<TlsSettings>, bool), String> {
    fn nonempty(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|value| !value.is_empty())
    }
    let root = nonempty(&ssl.root_cert);
    let system = root == Some("system");
    let mode = match nonempty(&ssl.mode) {
        None if system => SslMode::VerifyFull,
        None => SslMode::Prefer,
        Some("disable") => SslMode::Disable,
        Some("prefer") => SslMode::Prefer,
        Some("require") => SslMode::Require,
        Some("verify-ca") => SslMode::VerifyCa,
        Some("verify-full") => SslMode::VerifyFull,
        Some("allow") => {
            return Err(
                "sslmode=allow is not supported: use prefer (TLS when the server offers it) \
                        or disable"
                    .to_owned(),
            )
        }
        Some(other) => {
            return Err(format!(
                "sslmode={other:?} is not one of disable, prefer, require, verify-ca, verify-full"
            ))
        }
    };
    if system && mode != SslMode::VerifyFull {
        return Err(format!(
            "sslrootcert=system needs sslmode=verify-full, not {} (as libpq: anybody can get a \
             certificate from a public CA for a host name of their own, so only the name check \
             makes those CAs mean something)",
            mode.name()
        ));
    }
    let sni = match nonempty(&ssl.sni) {
        None | Some("1") => true,
        Some("0") => false,
        Some(other) => return Err(format!("sslsni={other:?} is not 0 or 1")),
    };
    let client_cert = match (nonempty(&ssl.cert), nonempty(&ssl.key)) {
        (Some(cert), Some(key)) => Some(ClientCert::new(cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err("sslcert needs sslkey (the certificate's private key)".to_owned()),
        (None, Some(_)) => return Err("sslkey needs sslcert (the key's certificate)".to_owned()),
    };
    let roots = match root {
        None | Some("system") => Roots::system(),
        Some(file) => Roots::file(PathBuf::from(file)),
    };
    let given_file = root.is_some() && !system;
    let verify = match mode {
        SslMode::Disable => return Ok((mode, None, sni)),
        SslMode::Prefer | SslMode::Require if given_file => Verify::Chain(roots),
        SslMode::Prefer | SslMode::Require => Verify::Nothing,
        SslMode::VerifyCa => Verify::Chain(roots),
        SslMode::VerifyFull => Verify::Full(roots),
    };
    Ok((mode, Some(TlsSettings { verify, client_cert }), sni))
}

/// A PostgreSQL URL as the store connects with it: tokio-postgres' settings (with the `sslmode`
/// it knows), and the TLS it makes connections with.
#[derive(Clone)]
pub struct Target {
    /// tokio-postgres' settings: the URL less its `ssl…` parameters, `ssl_mode` set.
    pub config: tokio_postgres::Config,
    /// The TLS connections are made with.
    pub tls: MakeRustls,
    /// The `sslmode` asked for (the default: `prefer`).
    pub mode: SslMode,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // tokio-postgres' Debug hides the password; the TLS configuration has nothing to show.
        f.debug_struct("Target")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Reads `url` (a `postgres://` URL) as libpq would; reads the CA and client certificate
    /// files it names. The errors name no password.
    pub fn parse(url: &str) -> Result<Target, StoreError> {
        let refused = |why: String| StoreError(format!("SMOOCH_STORE: {why}"));
        let (rest, ssl) = split_url(url).map_err(refused)?;
        let (mode, settings, sni) = settings(&ssl).map_err(refused)?;
        let mut config = tokio_postgres::Config::from_str(&rest).map_err(|error| {
            StoreError(format!(
                "SMOOCH_STORE is not a PostgreSQL URL: {}",
                tls::explain(&error)
            ))
        })?;
        config.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
        });
        let tls = match settings {
            None => MakeRustls { config: None },
            Some(settings) => {
                let mut client = settings
                    .client_config()
                    .map_err(|error| refused(format!("sslmode={}: {error}", mode.name())))?;
                // What libpq 17 sends, and what PostgreSQL 17 requires of a direct TLS connection.
                client.alpn_protocols = vec![b"postgresql".to_vec()];
                client.enable_sni = sni;
                MakeRustls {
                    config: Some(Arc::new(client)),
                }
            }
        };
        Ok(Target { config, tls, mode })
    }

    /// Opens one connection; the caller drives it (`Connection` is a future). The error says
    /// where, under which `sslmode`, and why. The URL's `connect_timeout` bounds the whole of it,
    /// the TLS handshake and the authentication included, as libpq's does (tokio-postgres bounds
    /// only the TCP connect): a server that accepts and then says nothing is given up on.
    pub async fn connect(&self) -> Result<(Client, Connection<Socket, RustlsStream>), StoreError> {
        let connecting = self.config.connect(self.tls.clone());
        let connected = match self.config.get_connect_timeout() {
            Some(&limit) => tokio::time::timeout(limit, connecting).await.map_err(|_| {
                StoreError(format!(
                    "cannot connect to PostgreSQL at {} (sslmode={}): no answer within {} ms \
                     (connect_timeout)",
                    self.hosts(),
                    self.mode.name(),
                    limit.as_millis()
                ))
            })?,
            None => connecting.await,
        };
        connected.map_err(|error| self.connect_error(&error))
    }

    /// "cannot connect to PostgreSQL at HOST:PORT (sslmode=…): why".
    pub fn connect_error(&self, error: &tokio_postgres::Error) -> StoreError {
        let why = match error.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => {
                let text = tls::explain(error);
                // tokio-postgres' words for a server that answered no to the TLS request.
                if text.ends_with("server does not support TLS") {
                    format!(
                        "the server does not accept TLS (it answered no to the TLS request), and \
                         sslmode={} does not fall back to plain text",
                        self.mode.name()
                    )
                } else {
                    text
                }
            }
        };
        StoreError(format!(
            "cannot connect to PostgreSQL at {} (sslmode={}): {why}",
            self.hosts(),
            self.mode.name()
        ))
    }

    /// The hosts and ports of the URL, `host:port,…`.
    fn hosts(&self) -> String {
        let ports = self.config.get_ports();
        let hosts = self.config.get_hosts();
        if hosts.is_empty() {
            return "(no host)".to_owned();
        }
        hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                match host {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                    Host::Tcp(name) => format!("{name}:{port}"),
                    Host::Unix(path) => format!("{} (port {port})", path.display()),
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// tokio-postgres' TLS over rustls: one per [`Target`], cloned by the pool for each connection.
#[derive(Clone)]
pub struct MakeRustls {
    /// `None` under `sslmode=disable`, when tokio-postgres never asks for TLS.
    config: Option<Arc<tls::ClientConfig>>,
}

impl MakeTlsConnect<Socket> for MakeRustls {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = tls::TlsError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, tls::TlsError> {
        // A Unix socket has no host name (`domain` is empty): the server answers no to TLS there,
        // and `prefer` goes on in plain text; so the name is only required once TLS is used.
        let name = if domain.is_empty() {
            Err(tls::TlsError(
                "no host name to check the server's certificate against (a Unix socket)".to_owned(),
            ))
        } else {
            tls::server_name(domain)
        };
        Ok(RustlsConnect {
            config: self.config.clone(),
            name,
        })
    }
}

/// One connection's TLS handshake.
pub struct RustlsConnect {
    config: Option<Arc<tls::ClientConfig>>,
    name: Result<rustls::pki_types::ServerName<'static>, tls::TlsError>,
}

/// The error of a handshake: the rustls error itself when there is one (so that
/// [`tls::explain`] finds it), else the I/O error.
type HandshakeError = Box<dyn std::error::Error + Send + Sync>;

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = HandshakeError;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream, HandshakeError>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            let config = self
                .config
                .ok_or_else(|| HandshakeError::from("TLS asked for under sslmode=disable"))?;
            let name = self.name?;
            let connector = tokio_rustls::TlsConnector::from(config);
            match connector.connect(name, stream).await {
                Ok(stream) => Ok(RustlsStream(Box::new(stream))),
                Err(error) if error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
                    Err(error.into_inner().expect("checked: it has an inner error"))
                }
                Err(error) => Err(error.into()),
            }
        })
    }
}

/// A TLS connection to PostgreSQL.
pub struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|certificate| end_point_hash(certificate))
            .map_or_else(ChannelBinding::none, ChannelBinding::tls_server_end_point)
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// RFC 5929's `tls-server-end-point`: the hash of the server's certificate, with the hash of its
/// signature algorithm (SHA-256 for MD5 and SHA-1), as PostgreSQL computes it; `None` for an
/// algorithm without one (Ed25519, RSA-PSS), and SCRAM then goes without channel binding.
fn end_point_hash(certificate: &[u8]) -> Option<Vec<u8>> {
    // sha…WithRSAEncryption (1.2.840.113549.1.1.x) and ecdsa-with-… (1.2.840.10045.4.x).
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    enum Hash {
        Sha224,
        Sha256,
        Sha384,
        Sha512,
    }
    let oid = signature_algorithm(certificate)?;
    let hash = if let Some(last) = oid.strip_prefix(RSA) {
        match last {
            [0x04 | 0x05 | 0x0b] => Hash::Sha256, // MD5, SHA-1, SHA-256
            [0x0c] => Hash::Sha384,
            [0x0d] => Hash::Sha512,
            [0x0e] => Hash::Sha224,
            _ => return None,
        }
    } else if let Some(rest) = oid.strip_prefix(ECDSA) {
        match rest {
            [0x01] | [0x03, 0x02] => Hash::Sha256, // SHA-1, SHA-256
            [0x03, 0x01] => Hash::Sha224,
            [0x03, 0x03] => Hash::Sha384,
            [0x03, 0x04] => Hash::Sha512,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(match hash {
        Hash::Sha224 => sha2::Sha224::digest(certificate).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(certificate).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(certificate).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(certificate).to_vec(),
    })
}

/// The object identifier (its DER content) of a certificate's `signatureAlgorithm`:
/// `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, … }, … }`.
fn signature_algorithm(certificate: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (SEQUENCE, certificate, _) = der(certificate)? else {
        return None;
    };
    let (SEQUENCE, _tbs, rest) = der(certificate)? else {
        return None;
    };
    let (SEQUENCE, algorithm, _) = der(rest)? else {
        return None;
    };
    let (OID, oid, _) = der(algorithm)? else {
        return None;
    };
    Some(oid)
}

/// One DER element: its tag, its content, and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssl(url: &str) -> Result<(SslMode, Option<TlsSettings>, bool), String> {
        let (_, parameters) = split_url(url)?;
        settings(&parameters)
    }

    #[test]
    fn the_ssl_parameters_are_taken_out_and_the_others_kept_as_written() {
        let (url, parameters) = split_url(
            "postgres://u:p%40ss@db:5432/smooch?sslmode=verify-full&options=-csearch_path%3Dx\
             &sslrootcert=%2Fetc%2Fssl%2Frds%20bundle.pem&sslcert=/c.crt&sslkey=/c.key\
             &sslnegotiation=direct&sslsni=0&application_name=x",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u:p%40ss@db:5432/smooch?options=-csearch_path%3Dx&sslnegotiation=direct\
             &application_name=x"
        );
        assert_eq!(
            parameters,
            SslParameters {
                mode: Some("verify-full".to_owned()),
                root_cert: Some("/etc/ssl/rds bundle.pem".to_owned()),
                cert: Some("/c.crt".to_owned()),
                key: Some("/c.key".to_owned()),
                sni: Some("0".to_owned()),
            }
        );
        assert_eq!(
            split_url("postgres://u@db/smooch?sslmode=disable").unwrap().0,
            "postgres://u@db/smooch"
        );
        assert_eq!(
            split_url("postgres://u@db/smooch").unwrap(),
            ("postgres://u@db/smooch".to_owned(), SslParameters::default())
        );
    }

    #[test]
    fn each_sslmode_maps_to_libpq_s_checks() {
        let system = Roots::system();
        let file = Roots::file("/ca.pem");
        let cases: [(&str, SslMode, Option<Verify>); 13] = [
            ("", SslMode::Prefer, Some(Verify::Nothing)),
            ("sslmode=disable", SslMode::Disable, None),
            ("sslmode=disable&sslrootcert=/ca.pem", SslMode::Disable, None),
            ("sslmode=prefer", SslMode::Prefer, Some(Verify::Nothing)),
            (
                "sslrootcert=/ca.pem",
                SslMode::Prefer,
                Some(Verify::Chain(file.clone())),
            ),
            ("sslmode=require", SslMode::Require, Some(Verify::Nothing)),
            // libpq: require with a root certificate file checks as verify-ca does.
            (
                "sslmode=require&sslrootcert=/ca.pem",
                SslMode::Require,
                Some(Verify::Chain(file.clone())),
            ),
            (
                "sslmode=verify-ca",
                SslMode::VerifyCa,
                Some(Verify::Chain(system.clone())),
            ),
            (
                "sslmode=verify-ca&sslrootcert=/ca.pem",
                SslMode::VerifyCa,
                Some(Verify::Chain(file.clone())),
            ),
            (
                "sslmode=verify-full",
                SslMode::VerifyFull,
                Some(Verify::Full(system.clone())),
            ),
            (
                "sslmode=verify-full&sslrootcert=/ca.pem",
                SslMode::VerifyFull,
                Some(Verify::Full(file)),
            ),
            // libpq 16: sslrootcert=system makes verify-full the default.
            (
                "sslrootcert=system",
                SslMode::VerifyFull,
                Some(Verify::Full(system.clone())),
            ),
            (
                "sslmode=verify-full&sslrootcert=system",
                SslMode::VerifyFull,
                Some(Verify::Full(system)),
            ),
        ];
        for (query, mode, verify) in cases {
            let (got_mode, got_settings, sni) = ssl(&format!("postgres://u@h/db?{query}")).unwrap();
            assert_eq!(got_mode, mode, "{query}");
            assert_eq!(got_settings.map(|settings| settings.verify), verify, "{query}");
            assert!(sni, "{query}");
        }
    }

    #[test]
    fn a_client_certificate_needs_both_files_and_sni_can_be_turned_off() {
        let (_, settings, sni) =
            ssl("postgres://u@h/db?sslmode=require&sslcert=/c.crt&sslkey=/c.key&sslsni=0").unwrap();
        assert_eq!(
            settings.unwrap().client_cert,
            Some(ClientCert::new("/c.crt", "/c.key"))
        );
        assert!(!sni);
        assert_eq!(
            ssl("postgres://u@h/db?sslcert=/c.crt").unwrap_err(),
            "sslcert needs sslkey (the certificate's private key)"
        );
        assert_eq!(
            ssl("postgres://u@h/db?sslkey=/c.key").unwrap_err(),
            "sslkey needs sslcert (the key's certificate)"
        );
        assert_eq!(
            ssl("postgres://u@h/db?sslsni=yes").unwrap_err(),
            "sslsni=\"yes\" is not 0 or 1"
        );
    }

    #[test]
    fn what_libpq_would_do_otherwise_is_refused_by_name() {
        for (query, error) in [
            (
                "sslmode=verify_full",
                "sslmode=\"verify_full\" is not one of disable, prefer, require, verify-ca, verify-full",
            ),
            (
                "sslmode=allow",
                "sslmode=allow is not supported: use prefer (TLS when the server offers it) or disable",
            ),
            (
                "sslpassword=hunter2",
                "the parameter sslpassword is not supported (those read: sslmode, sslrootcert, \
                 sslcert, sslkey, sslsni, sslnegotiation)",
            ),
            (
                "sslcrl=/crl.pem",
                "the parameter sslcrl is not supported (those read: sslmode, sslrootcert, sslcert, \
                 sslkey, sslsni, sslnegotiation)",
            ),
            (
                "sslrootcert=%2",
                "a parameter has a % not followed by two hex digits",
            ),
        ] {
            assert_eq!(
                ssl(&format!("postgres://u@h/db?{query}")).unwrap_err(),
                error,
                "{query}"
            );
        }
        for weaker in ["disable", "prefer", "require", "verify-ca"] {
            let error = ssl(&format!("postgres://u@h/db?sslmode={weaker}&sslrootcert=system")).unwrap_err();
            assert!(
                error.starts_with(&format!(
                    "sslrootcert=system needs sslmode=verify-full, not {weaker} "
                )),
                "{error}"
            );
        }
    }

    #[test]
    fn a_refused_url_names_the_reason_and_never_the_password() {
        for url in [
            "postgres://smooch:hunter2@db/smooch?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "postgres://smooch:hunter2@db/smooch?sslmode=bogus",
            "postgres://smooch:hunter2@db/smooch?sslcert=/c.crt&password=hunter2",
            "postgres://smooch:hunter2@db/smooch?nonsense=1&password=hunter2",
        ] {
            let error = Target::parse(url).unwrap_err().0;
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.starts_with("SMOOCH_STORE"), "{error}");
        }
        assert_eq!(
            Target::parse(
                "postgres://u:hunter2@db/smooch?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"
            )
            .unwrap_err()
            .0,
            "SMOOCH_STORE: sslmode=verify-full: the CA file /nonexistent/ca.pem: No such file or \
             directory (os error 2)"
        );
        assert_eq!(
            Target::parse("postgres://u:hunter2@db/smooch?nonsense=1")
                .unwrap_err()
                .0,
            "SMOOCH_STORE is not a PostgreSQL URL: invalid connection string: unknown option `nonsense`"
        );
    }

    #[test]
    fn the_url_s_mode_is_what_tokio_postgres_is_told() {
        for (query, expected) in [
            ("sslmode=disable", PgSslMode::Disable),
            ("", PgSslMode::Prefer),
            ("sslmode=require", PgSslMode::Require),
            ("sslmode=verify-ca", PgSslMode::Require),
            ("sslmode=verify-full", PgSslMode::Require),
        ] {
            let target = Target::parse(&format!("postgres://u@h/db?{query}")).unwrap();
            assert_eq!(target.config.get_ssl_mode(), expected, "{query}");
            assert_eq!(
                target.tls.config.is_some(),
                expected != PgSslMode::Disable,
                "{query}"
            );
        }
        let target = Target::parse("postgres://u@h/db?sslmode=require").unwrap();
        let config = target.tls.config.unwrap();
        assert_eq!(config.alpn_protocols, [b"postgresql".to_vec()]);
        assert!(config.enable_sni);
    }

    #[test]
    fn the_channel_binding_hash_follows_the_certificate_s_signature_algorithm() {
        // DER of `Certificate` with an empty tbsCertificate, an algorithm and an empty signature.
        fn certificate(oid: &[u8]) -> Vec<u8> {
            let mut algorithm = vec![0x06, oid.len() as u8];
            algorithm.extend_from_slice(oid);
            let mut inner = vec![0x30, 0x00, 0x30, algorithm.len() as u8];
            inner.extend_from_slice(&algorithm);
            inner.extend_from_slice(&[0x03, 0x01, 0x00]);
            let mut der = vec![0x30, inner.len() as u8];
            der.extend_from_slice(&inner);
            der
        }
        let rsa = |last: u8| certificate(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last]);
        let ecdsa = |rest: &[u8]| {
            let mut oid = vec![0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
            oid.extend_from_slice(rest);
            certificate(&oid)
        };
        for (der, length) in [
            (rsa(0x04), 32),
            (rsa(0x05), 32),
            (rsa(0x0b), 32),
            (rsa(0x0c), 48),
            (rsa(0x0d), 64),
            (rsa(0x0e), 28),
            (ecdsa(&[0x01]), 32),
            (ecdsa(&[0x03, 0x02]), 32),
            (ecdsa(&[0x03, 0x03]), 48),
            (ecdsa(&[0x03, 0x04]), 64),
        ] {
            let hash = end_point_hash(&der).unwrap();
            assert_eq!(hash.len(), length);
            if length == 32 {
                assert_eq!(hash, sha2::Sha256::digest(&der).to_vec());
            }
        }
        // Ed25519, RSA-PSS: no hash named; not DER: none.
        assert_eq!(end_point_hash(&certificate(&[0x2b, 0x65, 0x70])), None);
        assert_eq!(end_point_hash(&rsa(0x0a)), None);
        assert_eq!(end_point_hash(b"not a certificate"), None);
        assert_eq!(end_point_hash(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
