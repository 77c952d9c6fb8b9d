//! TLS for the receiver's outgoing connections: a rustls [`ClientConfig`] from what an operator
//! gives (which certificate authorities to trust, how far to check the server, a client
//! certificate), and an [`explain`]ed reason when a handshake fails.
//!
//! ```no_run
//! use smooch_receiver::tls::{ClientCert, Roots, TlsSettings, Verify};
//!
//! // The system's CAs and a private one; the chain and the host name checked; a client certificate.
//! let settings = TlsSettings {
//!     verify: Verify::Full(Roots::system_and_file("/etc/smooch/internal-ca.pem")),
//!     client_cert: Some(ClientCert::new("/etc/smooch/client.crt", "/etc/smooch/client.key")),
//! };
//! let config = settings.client_config()?;
//! # Ok::<(), smooch_receiver::tls::TlsError>(())
//! ```
//!
//! The cryptography is *ring*'s (rustls' `ring` provider); TLS 1.2 and 1.3. The certificate
//! checks are webpki's: the server's chain up to a trusted CA, its validity dates, its key usage,
//! and, with [`Verify::Full`], the host name against the certificate's subject alternative names
//! (DNS names, or IP addresses for a host given as an address; the common name is not read).
//! Nothing is checked for revocation. Whatever [`Verify`] says, the server must prove in the
//! handshake that it holds the key of the certificate it shows.
//!
//! Errors name the files and what is wrong with them, never what a private key holds.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use rustls::ClientConfig;

/// Why a TLS configuration could not be built: the file and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for TlsError {}

/// The certificate authorities a connection trusts: the system's (as `rustls-native-certs`
/// finds them: on Linux the file and directory OpenSSL would read, `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` taken into account), those of a PEM file, or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roots {
    /// The system's CAs.
    pub system: bool,
    /// A PEM file of CA certificates (one or more).
    pub ca_file: Option<PathBuf>,
}

impl Roots {
    /// The system's CAs only.
    pub fn system() -> Roots {
        Roots {
            system: true,
            ca_file: None,
        }
    }

    /// The CAs of a PEM file only.
    pub fn file(ca_file: impl Into<PathBuf>) -> Roots {
        Roots {
            system: false,
            ca_file: Some(ca_file.into()),
        }
    }

    /// The system's CAs (if it has any) and those of a PEM file.
    pub fn system_and_file(ca_file: impl Into<PathBuf>) -> Roots {
        Roots {
            system: true,
            ca_file: Some(ca_file.into()),
        }
    }

    /// Reads the certificates; refuses a file without one, a certificate that cannot be parsed,
    /// and a set that ends up empty.
    fn load(&self) -> Result<RootCertStore, TlsError> {
        let mut store = RootCertStore::empty();
        if self.system {
            let found = rustls_native_certs::load_native_certs();
            let (added, _unparsable) = store.add_parsable_certificates(found.certs);
            // With a CA file beside them, a system without CAs (a slim container) is no error:
            // the file's CAs are then the only ones.
            if added == 0 && self.ca_file.is_none() {
                let why = found
                    .errors
                    .first()
                    .map_or_else(String::new, |error| format!(" ({error})"));
                return Err(TlsError(format!(
                    "no certificate authority found on the system{why}: install the CA \
                     certificates (Debian: the ca-certificates package) or name a CA file"
                )));
            }
        }
        if let Some(file) = &self.ca_file {
            for certificate in read_certificates(file, "CA file")? {
                store.add(certificate).map_err(|error| {
                    TlsError(format!(
                        "the CA file {}: a certificate cannot be used as a CA: {error}",
                        file.display()
                    ))
                })?;
            }
        }
        Ok(store)
    }
}

/// How far the server's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verify {
    /// Not at all: the connection is encrypted, but anybody on the way can pretend to be the
    /// server (libpq's `sslmode=require` without a CA file).
    Nothing,
    /// The chain up to one of these CAs and the validity dates, not the host name (libpq's
    /// `verify-ca`): any server with a certificate from these CAs is taken.
    Chain(Roots),
    /// The chain, the dates, and the host name (libpq's `verify-full`, and what HTTPS does).
    Full(Roots),
}

/// A client certificate for servers that ask for one: a PEM file with the certificate (and the
/// intermediates after it, if any), and a PEM file with its private key (PKCS #8, PKCS #1 or
/// SEC1; not encrypted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain, the client's own certificate first.
    pub cert_file: PathBuf,
    /// The private key of the first certificate.
    pub key_file: PathBuf,
}

impl ClientCert {
    /// The certificate in `cert_file`, its key in `key_file`.
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> ClientCert {
        ClientCert {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
        }
    }

    fn load(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
        let chain = read_certificates(&self.cert_file, "client certificate file")?;
        let key = read_key(&self.key_file)?;
        Ok((chain, key))
    }
}

/// What a client connection's TLS is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// How far the server's certificate is checked, and against which CAs.
    pub verify: Verify,
    /// The certificate shown to a server that asks for one; `None`: none shown.
    pub client_cert: Option<ClientCert>,
}

impl TlsSettings {
    /// Reads the files and builds the rustls configuration: TLS 1.2 and 1.3, *ring*'s
    /// cryptography, no ALPN protocol (set `alpn_protocols` on the result), SNI on (sent for a
    /// host name, never for an address). Build it once and share it (`Arc`): the files are read
    /// here, not at each connection.
    pub fn client_config(&self) -> Result<ClientConfig, TlsError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError(format!("the TLS versions: {error}")))?;
        let builder = match &self.verify {
            Verify::Full(roots) => {
                let verifier = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots.load()?),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|error| TlsError(format!("the certificate checks: {error}")))?;
                builder.with_webpki_verifier(verifier)
            }
            Verify::Chain(roots) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Lenient {
                    roots: Some(roots.load()?),
                    provider: Arc::clone(&provider),
                })),
            Verify::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Lenient {
                    roots: None,
                    provider: Arc::clone(&provider),
                })),
        };
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some(client) => {
                let (chain, key) = client.load()?;
                builder.with_client_auth_cert(chain, key).map_err(|error| {
                    TlsError(format!(
                        "the client certificate {} with the key {}: {}",
                        client.cert_file.display(),
                        client.key_file.display(),
                        describe_rustls(&error)
                    ))
                })
            }
        }
    }
}

/// The name a server's certificate is checked against, and sent in SNI: a DNS name, or an IP
/// address (`127.0.0.1`, `::1`, `[::1]`).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    ServerName::try_from(bare.to_owned())
        .map_err(|_| TlsError(format!("{host:?} is neither a host name nor an IP address")))
}

/// `error` and its causes as one line, `outer: inner: …`, with a rustls error among them (even
/// inside an `io::Error`, as tokio-rustls and hyper give it) said in words: the certificate's
/// issuer unknown, a host name it is not valid for, the date it expired, an alert from the
/// server.
pub fn explain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(tls) = as_rustls(current) {
            parts.push(describe_rustls(tls));
            break;
        }
        let text = current.to_string();
        // A wrapper that repeats its cause's text adds nothing.
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

/// The rustls error `error` is or wraps (in `io::Error`s, one in another as hyper-rustls gives
/// tokio-rustls' error), if any. (`io::Error::source` skips the error it holds: hence `get_ref`.)
fn as_rustls<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = error;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// A rustls error in words.
fn describe_rustls(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(certificate) => {
            format!(
                "the server's certificate is refused: {}",
                describe_certificate(certificate)
            )
        }
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the TLS handshake ({alert:?}): it may require a client \
             certificate, or not take the one given"
        ),
        rustls::Error::InconsistentKeys(_) => "the private key is not the certificate's".to_owned(),
        other => other.to_string(),
    }
}

fn describe_certificate(error: &CertificateError) -> String {
    match error {
        CertificateError::UnknownIssuer => "unknown issuer: it is not signed by a trusted \
                                            certificate authority (is the right CA file given?)"
            .to_owned(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("wrong host name: {error}")
        }
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("expired: it was valid until {}", unix_time(not_after.as_secs()))
        }
        CertificateError::Expired => "expired".to_owned(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "not valid yet: it is valid from {}",
            unix_time(not_before.as_secs())
        ),
        CertificateError::NotValidYet => "not valid yet".to_owned(),
        CertificateError::BadSignature => "bad signature".to_owned(),
        CertificateError::BadEncoding => "it cannot be parsed".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            format!("not a server certificate: {error}")
        }
        other => other.to_string(),
    }
}

/// A UNIX time as RFC 3339 (UTC).
fn unix_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map_or_else(
            || format!("{seconds} (UNIX time)"),
            |time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// *ring*'s cryptography for rustls.
// rustls 0.23.48 deprecates it for its lack of post-quantum key exchange (aws-lc-rs has it); the
// receiver chose *ring* for its build (aws-lc-rs needs cmake, and compiles several times longer).
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate of a PEM file; at least one.
fn read_certificates(file: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text =
        std::fs::read(file).map_err(|error| TlsError(format!("the {what} {}: {error}", file.display())))?;
    let certificates = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError(format!("the {what} {}: not PEM: {error}", file.display())))?;
    if certificates.is_empty() {
        return Err(TlsError(format!(
            "the {what} {}: no certificate in it (a PEM file with \
             -----BEGIN CERTIFICATE----- blocks)",
            file.display()
        )));
    }
    Ok(certificates)
}

/// The private key of a PEM file. The error names the file, never its content.
fn read_key(file: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = std::fs::read(file)
        .map_err(|error| TlsError(format!("the private key file {}: {error}", file.display())))?;
    if text.windows(9).any(|window| window == b"ENCRYPTED") {
        return Err(TlsError(format!(
            "the private key file {}: the key is encrypted (with a passphrase), which is not \
             supported: keep it decrypted, readable by the receiver's user only \
             (`openssl pkey -in encrypted.key -out {}`)",
            file.display(),
            file.display()
        )));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|_| {
        TlsError(format!(
            "the private key file {}: no private key in it (a PEM file with a -----BEGIN \
             PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY block)",
            file.display()
        ))
    })
}

/// The certificate checks rustls does not make as they are: [`Verify::Chain`] (with `roots`: the
/// chain and the dates, not the name) and [`Verify::Nothing`] (without: any certificate). Either
/// way the server must sign the handshake with the key of the certificate it shows.
#[derive(Debug)]
struct Lenient {
    roots: Option<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let certificate = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &certificate,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate and a client certificate it signs, and their keys, PEM.
    fn certificates() -> (String, String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&ca_key).unwrap().pem();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let client = rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap()
            .pem();
        let other_key = rcgen::KeyPair::generate().unwrap();
        (ca, client, key.serialize_pem(), other_key.serialize_pem())
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn each_verification_builds_from_the_system_s_cas_a_ca_file_and_a_client_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, client, key, _) = certificates();
        let ca = write(dir.path(), "ca.pem", &ca);
        let client_cert = ClientCert::new(
            write(dir.path(), "client.crt", &client),
            write(dir.path(), "client.key", &key),
        );
        for verify in [
            Verify::Nothing,
            Verify::Chain(Roots::file(&ca)),
            Verify::Chain(Roots::system()),
            Verify::Full(Roots::system_and_file(&ca)),
            Verify::Full(Roots::file(&ca)),
        ] {
            for client_cert in [None, Some(client_cert.clone())] {
                let settings = TlsSettings {
                    verify: verify.clone(),
                    client_cert,
                };
                let config = settings.client_config().unwrap();
                assert_eq!(
                    config.client_auth_cert_resolver.has_certs(),
                    settings.client_cert.is_some()
                );
                assert!(config.alpn_protocols.is_empty());
            }
        }
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let settings = |ca_file: &Path| TlsSettings {
            verify: Verify::Full(Roots::file(ca_file)),
            client_cert: None,
        };
        assert_eq!(
            settings(&missing).client_config().unwrap_err().0,
            format!(
                "the CA file {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let empty = write(dir.path(), "empty.pem", "not a certificate\n");
        assert_eq!(
            settings(&empty).client_config().unwrap_err().0,
            format!(
                "the CA file {}: no certificate in it (a PEM file with -----BEGIN CERTIFICATE----- blocks)",
                empty.display()
            )
        );
    }

    #[test]
    fn a_client_key_that_is_not_the_certificate_s_encrypted_or_unreadable_is_refused_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let (_, client, _, other_key) = certificates();
        let cert = write(dir.path(), "client.crt", &client);
        let refused = |key: &Path| {
            TlsSettings {
                verify: Verify::Nothing,
                client_cert: Some(ClientCert::new(&cert, key)),
            }
            .client_config()
            .unwrap_err()
            .0
        };
        let other = write(dir.path(), "other.key", &other_key);
        assert_eq!(
            refused(&other),
            format!(
                "the client certificate {} with the key {}: the private key is not the certificate's",
                cert.display(),
                other.display()
            )
        );
        let encrypted = write(
            dir.path(),
            "encrypted.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let error = refused(&encrypted);
        assert!(
            error.starts_with(&format!(
                "the private key file {}: the key is encrypted (with a passphrase), which is not supported",
                encrypted.display()
            )),
            "{error}"
        );
        let garbage = write(
            dir.path(),
            "garbage.key",
            "-----BEGIN PRIVATE KEY-----\nsecret-key-material!\n-----END PRIVATE KEY-----\n",
        );
        let error = refused(&garbage);
        assert!(
            error.starts_with(&format!(
                "the private key file {}: no private key in it",
                garbage.display()
            )),
            "{error}"
        );
        assert!(!error.contains("secret-key-material"), "{error}");
    }

    #[test]
    fn explain_says_a_rustls_error_in_words_even_inside_an_io_error() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, unknown.clone());
        let expected = "the server's certificate is refused: unknown issuer: it is not signed by a \
                        trusted certificate authority (is the right CA file given?)";
        assert_eq!(explain(&unknown), expected);
        assert_eq!(explain(&io), expected);
        let expired = rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_923_200)),
        });
        assert_eq!(
            explain(&expired),
            "the server's certificate is refused: expired: it was valid until 2020-01-02T00:00:00Z"
        );
        // hyper-rustls wraps tokio-rustls' io::Error in another one.
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            unknown.clone(),
        ));
        assert_eq!(explain(&nested), expected);
        // Not TLS: the chain as it is, each part once.
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        assert_eq!(explain(&plain), "connection refused");
    }

    #[test]
    fn a_server_name_is_a_dns_name_or_an_address() {
        assert_eq!(
            server_name("db.internal").unwrap(),
            ServerName::try_from("db.internal").unwrap()
        );
        assert!(matches!(
            server_name("127.0.0.1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(server_name("[::1]").unwrap(), ServerName::IpAddress(_)));
        assert_eq!(
            server_name("bad name").unwrap_err().0,
            "\"bad name\" is neither a host name nor an IP address"
        );
    }
}
