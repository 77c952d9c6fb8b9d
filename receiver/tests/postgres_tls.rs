//! TLS to PostgreSQL as libpq reads the URL (issue 25, part 1), over real connections: the local
//! PostgreSQL serving a certificate for `localhost` (only) from a CA that `.ci/postgres-tls` made
//! (`RECEIVER_TEST_PG_TLS_DIR`); CAs and certificates made by the tests; a server that answers no
//! to TLS, as one with `ssl = off` does (forwarding the rest to the real one); and one whose
//! certificate expired. Each connection is the store's own (`Target`, or the binary); whether it
//! is encrypted is read from the server's `pg_stat_ssl`.
//!
//! The scenarios that need the local PostgreSQL print `NOT RUN` and pass when
//! `RECEIVER_TEST_DATABASE_URL` or `RECEIVER_TEST_PG_TLS_DIR` is not set; CI sets both.

mod support;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use smooch_receiver::store::postgres_tls::Target;
use support::certs::TestCa;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The variable naming the directory of the test CA and certificates (`.ci/run` sets it).
const TLS_DIR: &str = "RECEIVER_TEST_PG_TLS_DIR";

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The local PostgreSQL with the test CA's certificate.
struct Server {
    /// `RECEIVER_TEST_DATABASE_URL`.
    url: String,
    /// The test CA and client certificate.
    dir: PathBuf,
}

impl Server {
    /// The server, or `None` (said on standard error) when the variables are not set.
    fn get(test: &str) -> Option<Server> {
        match (std::env::var(DATABASE_URL), std::env::var(TLS_DIR)) {
            (Ok(url), Ok(dir)) => Some(Server {
                url,
                dir: PathBuf::from(dir),
            }),
            _ => {
                let _ = writeln!(
                    std::io::stderr(),
                    "NOT RUN: {test}: set {DATABASE_URL} and {TLS_DIR} (as .ci/run does) to run it"
                );
                None
            }
        }
    }

    /// The URL through `host`, with `parameters`.
    fn url(&self, host: &str, parameters: &str) -> String {
        with_parameters(&with_host(&self.url, host), parameters)
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// The address the URL names (to forward to).
    async fn address(&self) -> SocketAddr {
        let config = tokio_postgres::Config::from_str(&self.url).unwrap();
        let tokio_postgres::config::Host::Tcp(host) = &config.get_hosts()[0] else {
            panic!("{DATABASE_URL} names no TCP host");
        };
        let host = host.clone();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        tokio::net::lookup_host((host, port))
            .await
            .unwrap()
            .next()
            .unwrap()
    }
}

/// Connects as the store does.
async fn open(url: &str) -> Result<tokio_postgres::Client, String> {
    let target = Target::parse(url).map_err(|error| error.0)?;
    let (client, connection) = tokio::time::timeout(IO_TIMEOUT, target.connect())
        .await
        .expect("connects or fails in time")
        .map_err(|error| error.0)?;
    tokio::spawn(connection);
    Ok(client)
}

/// Whether the server sees this connection encrypted, and with which TLS version.
async fn tls_of(client: &tokio_postgres::Client) -> (bool, Option<String>) {
    let row = client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The subject of the client certificate the server took for this connection, if any.
async fn client_dn(client: &tokio_postgres::Client) -> Option<String> {
    client
        .query_one(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// A server without TLS: answers no (`N`) to the SSLRequest, as PostgreSQL with `ssl = off`
/// does, then forwards the connection to `upstream` (or closes it, without one). Counts the
/// SSLRequests it was sent.
struct NoTlsServer {
    address: SocketAddr,
    ssl_requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl NoTlsServer {
    async fn start(upstream: Option<SocketAddr>) -> NoTlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let ssl_requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ssl_requests);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let mut first = [0u8; 8];
                    if stream.read_exact(&mut first).await.is_err() {
                        return;
                    }
                    let asked = first == SSL_REQUEST;
                    if asked {
                        counted.fetch_add(1, Ordering::SeqCst);
                        if stream.write_all(b"N").await.is_err() {
                            return;
                        }
                    }
                    let Some(upstream) = upstream else { return };
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if !asked && server.write_all(&first).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut stream, &mut server).await;
                });
            }
        });
        NoTlsServer {
            address,
            ssl_requests,
            task,
        }
    }

    fn ssl_requests(&self) -> usize {
        self.ssl_requests.load(Ordering::SeqCst)
    }
}

impl Drop for NoTlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A server that says yes to TLS and shows `certificate` in the handshake (which the client is
/// expected to refuse: nothing after the handshake is served).
struct TlsOnlyServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsOnlyServer {
    async fn start(certificate: &certs::Issued) -> TlsOnlyServer {
        let chain = CertificateDer::pem_slice_iter(certificate.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut first = [0u8; 8];
                    if stream.read_exact(&mut first).await.is_ok()
                        && first == SSL_REQUEST
                        && stream.write_all(b"S").await.is_ok()
                    {
                        let _ = acceptor.accept(stream).await;
                    }
                });
            }
        });
        TlsOnlyServer { address, task }
    }
}

impl Drop for TlsOnlyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL to a fake server on `address`.
fn fake_url(address: SocketAddr, parameters: &str) -> String {
    format!(
        "postgres://smooch:hunter2-never-shown@127.0.0.1:{}/smooch_test?{parameters}",
        address.port()
    )
}

fn assert_refused(error: &str, reason: &str) {
    assert!(error.starts_with("cannot connect to PostgreSQL at "), "{error}");
    assert!(error.contains(reason), "{reason:?} not in {error}");
    assert!(!error.contains("hunter2"), "{error}");
}

macro_rules! server_or_skip {
    ($test:literal) => {
        match Server::get($test) {
            Some(server) => server,
            None => return,
        }
    };
}

#[tokio::test]
async fn verify_full_to_localhost_with_the_test_ca_is_encrypted() {
    let server = server_or_skip!("verify_full_to_localhost_with_the_test_ca_is_encrypted");
    let url = server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", server.file("ca.crt")),
    );
    let client = open(&url).await.unwrap();
    let (ssl, version) = tls_of(&client).await;
    assert!(ssl);
    assert_eq!(version.as_deref(), Some("TLSv1.3"));
}

#[tokio::test]
async fn verify_full_through_127_0_0_1_is_refused_as_a_wrong_host_name() {
    let server = server_or_skip!("verify_full_through_127_0_0_1_is_refused_as_a_wrong_host_name");
    let url = server.url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", server.file("ca.crt")),
    );
    let error = open(&url).await.unwrap_err();
    assert_refused(&error, "at 127.0.0.1:5432 (sslmode=verify-full): ");
    assert_refused(
        &error,
        "the server's certificate is refused: wrong host name: certificate not valid for name \
         \"127.0.0.1\"; certificate is only valid for DnsName(\"localhost\")",
    );
}

#[tokio::test]
async fn verify_ca_checks_the_chain_and_not_the_host_name() {
    let server = server_or_skip!("verify_ca_checks_the_chain_and_not_the_host_name");
    let url = server.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", server.file("ca.crt")),
    );
    let client = open(&url).await.unwrap();
    assert!(tls_of(&client).await.0);

    let other = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new("another CA").write(other.path(), "other-ca");
    let url = server.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", other_ca.display()),
    );
    assert_refused(&open(&url).await.unwrap_err(), "unknown issuer");
}

#[tokio::test]
async fn verify_full_with_another_ca_is_refused_as_an_unknown_issuer() {
    let server = server_or_skip!("verify_full_with_another_ca_is_refused_as_an_unknown_issuer");
    let dir = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new("another CA").write(dir.path(), "other-ca");
    let url = server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    let error = open(&url).await.unwrap_err();
    assert_refused(&error, "at localhost:5432 (sslmode=verify-full): ");
    assert_refused(
        &error,
        "the server's certificate is refused: unknown issuer: it is not signed by a trusted \
         certificate authority",
    );
}

#[tokio::test]
async fn the_system_s_certificate_authorities_do_not_vouch_for_the_test_ca() {
    let server = server_or_skip!("the_system_s_certificate_authorities_do_not_vouch_for_the_test_ca");
    // sslrootcert=system: verify-full by default, against the system's CAs.
    let error = open(&server.url("localhost", "sslrootcert=system"))
        .await
        .unwrap_err();
    assert_refused(&error, "(sslmode=verify-full): error performing TLS handshake: the server's certificate is refused: unknown issuer");
    let error = open(&server.url("localhost", "sslmode=verify-full"))
        .await
        .unwrap_err();
    assert_refused(&error, "(sslmode=verify-full): error performing TLS handshake: the server's certificate is refused: unknown issuer");
}

#[tokio::test]
async fn require_with_a_ca_file_checks_the_chain_as_libpq_does() {
    let server = server_or_skip!("require_with_a_ca_file_checks_the_chain_as_libpq_does");
    // The test CA: the chain is good, and the name (127.0.0.1) is not checked.
    let url = server.url(
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={}", server.file("ca.crt")),
    );
    assert!(tls_of(&open(&url).await.unwrap()).await.0);

    let dir = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new("another CA").write(dir.path(), "other-ca");
    let url = server.url(
        "localhost",
        &format!("sslmode=require&sslrootcert={}", other_ca.display()),
    );
    let error = open(&url).await.unwrap_err();
    assert_refused(&error, "(sslmode=require): error performing TLS handshake: the server's certificate is refused: unknown issuer");
}

#[tokio::test]
async fn require_without_a_ca_file_is_encrypted_whatever_the_certificate() {
    let server = server_or_skip!("require_without_a_ca_file_is_encrypted_whatever_the_certificate");
    // Neither the CA (not given) nor the name (127.0.0.1) is checked.
    let client = open(&server.url("127.0.0.1", "sslmode=require")).await.unwrap();
    assert_eq!(tls_of(&client).await, (true, Some("TLSv1.3".to_owned())));
}

#[tokio::test]
async fn prefer_the_default_is_encrypted_when_the_server_offers_tls() {
    let server = server_or_skip!("prefer_the_default_is_encrypted_when_the_server_offers_tls");
    for parameters in ["", "sslmode=prefer"] {
        let client = open(&server.url("127.0.0.1", parameters)).await.unwrap();
        assert_eq!(
            tls_of(&client).await,
            (true, Some("TLSv1.3".to_owned())),
            "{parameters:?}"
        );
    }
}

#[tokio::test]
async fn prefer_falls_back_to_plain_text_when_the_server_says_no() {
    let server = server_or_skip!("prefer_falls_back_to_plain_text_when_the_server_says_no");
    let no_tls = NoTlsServer::start(Some(server.address().await)).await;
    let url = with_port(&server.url("127.0.0.1", "sslmode=prefer"), no_tls.address.port());
    let client = open(&url).await.unwrap();
    assert_eq!(no_tls.ssl_requests(), 1, "TLS asked for, once");
    assert_eq!(tls_of(&client).await, (false, None));
}

#[tokio::test]
async fn disable_never_asks_for_tls() {
    let server = server_or_skip!("disable_never_asks_for_tls");
    let client = open(&server.url("127.0.0.1", "sslmode=disable")).await.unwrap();
    assert_eq!(tls_of(&client).await, (false, None));
    // Through a server that counts the requests: none.
    let no_tls = NoTlsServer::start(Some(server.address().await)).await;
    let url = with_port(&server.url("127.0.0.1", "sslmode=disable"), no_tls.address.port());
    let client = open(&url).await.unwrap();
    assert_eq!(tls_of(&client).await, (false, None));
    assert_eq!(no_tls.ssl_requests(), 0);
}

#[tokio::test]
async fn require_and_stronger_are_refused_by_a_server_without_tls() {
    let no_tls = NoTlsServer::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA").write(dir.path(), "ca");
    for parameters in [
        "sslmode=require".to_owned(),
        format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
        format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ] {
        let error = open(&fake_url(no_tls.address, &parameters)).await.unwrap_err();
        let mode = parameters.split('&').next().unwrap();
        assert_refused(
            &error,
            &format!(
                "({mode}): the server does not accept TLS (it answered no to the TLS request), and \
                 {mode} does not fall back to plain text"
            ),
        );
    }
    assert_eq!(no_tls.ssl_requests(), 3);
}

#[tokio::test]
async fn a_server_that_stalls_the_tls_handshake_is_given_up_after_connect_timeout() {
    // Accepts, reads the SSLRequest, and answers nothing (for at most the test's own time).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 8];
        let _ = stream.read_exact(&mut first).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let started = std::time::Instant::now();
    let error = open(&fake_url(address, "sslmode=require&connect_timeout=1"))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        &format!(
            "at 127.0.0.1:{} (sslmode=require): no answer within 1000 ms (connect_timeout)",
            address.port()
        ),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    silent.abort();
}

#[tokio::test]
async fn an_expired_certificate_is_refused_naming_when_it_expired() {
    let ca = TestCa::new("test CA");
    let fake = TlsOnlyServer::start(&ca.expired_server(&["127.0.0.1"])).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca");
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = fake_url(
            fake.address,
            &format!("sslmode={mode}&sslrootcert={}", ca_file.display()),
        );
        let error = open(&url).await.unwrap_err();
        assert_refused(
            &error,
            &format!(
                "(sslmode={mode}): error performing TLS handshake: the server's certificate is refused: expired: it was valid until \
                 2020-01-02T00:00:00Z"
            ),
        );
    }
    // Without a CA file, require checks nothing, the dates neither (as libpq): the handshake
    // succeeds, and the fake server (which serves nothing) closes the connection.
    let error = open(&fake_url(fake.address, "sslmode=require"))
        .await
        .unwrap_err();
    assert_refused(&error, "(sslmode=require): error communicating with the server: ");
    assert!(!error.contains("certificate"), "{error}");
}

#[tokio::test]
async fn a_client_certificate_is_shown_to_the_server_that_asks_for_one() {
    let server = server_or_skip!("a_client_certificate_is_shown_to_the_server_that_asks_for_one");
    let verify = format!("sslmode=verify-full&sslrootcert={}", server.file("ca.crt"));
    let url = server.url(
        "localhost",
        &format!(
            "{verify}&sslcert={}&sslkey={}",
            server.file("client.crt"),
            server.file("client.key")
        ),
    );
    // The server (ssl_ca_file: the test CA) checked it, and names its subject.
    assert_eq!(
        client_dn(&open(&url).await.unwrap()).await.as_deref(),
        Some("/CN=smooch")
    );
    assert_eq!(
        client_dn(&open(&server.url("localhost", &verify)).await.unwrap()).await,
        None
    );
}

#[tokio::test]
async fn a_client_certificate_from_a_ca_the_server_does_not_trust_is_refused() {
    let server = server_or_skip!("a_client_certificate_from_a_ca_the_server_does_not_trust_is_refused");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = TestCa::new("another CA")
        .client("smooch")
        .write(dir.path(), "client");
    let url = server.url(
        "localhost",
        &format!(
            "sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
            server.file("ca.crt"),
            cert.display(),
            key.display()
        ),
    );
    let error = open(&url).await.unwrap_err();
    assert_refused(&error, "the server ended the TLS handshake (");
    assert_refused(
        &error,
        "it may require a client certificate, or not take the one given",
    );
}

#[tokio::test]
async fn scram_authentication_binds_to_the_tls_channel() {
    let server = server_or_skip!("scram_authentication_binds_to_the_tls_channel");
    // SCRAM-SHA-256-PLUS, with the hash of the certificate the connection saw: the server refuses
    // a wrong one, and tokio-postgres refuses to go without under `require`.
    let client = open(&server.url("127.0.0.1", "sslmode=require&channel_binding=require"))
        .await
        .unwrap();
    assert!(tls_of(&client).await.0);
}

/// The binary with `args`, `SMOOCH_STORE=store` and the secrets, run in a blocking task.
async fn run_binary(args: &'static [&'static str], store: String) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let secrets = format!("{NEXT},{CURRENT}");
        let output = run(
            args,
            &[
                ("SMOOCH_STORE", &store),
                ("SMOOCH_WEBHOOK_SECRETS", &secrets),
                ("SMOOCH_LISTEN", "127.0.0.1:0"),
            ],
        );
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_the_commands_work_over_verify_full() {
    let Some(server) = Server::get("serve_and_the_commands_work_over_verify_full") else {
        return;
    };
    let Some(store) = TestStore::postgres("tls_verify_full").await else {
        return;
    };
    bounded(Duration::from_secs(60), async {
        let location = with_parameters(
            &with_host(&store.location(), "localhost"),
            &format!("sslmode=verify-full&sslrootcert={}", server.file("ca.crt")),
        );
        let (code, stdout, stderr) = run_binary(&["migrate"], location.clone()).await;
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(stdout, "the store is at schema version 2\n");

        let log = std::env::temp_dir().join(format!("tls-serve-{}.log", std::process::id()));
        let process = Process::start(&location, &log, &[]);
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        let rows = store.rows().await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].body, fixture("postback.json"));
        store.all_done(1, Duration::from_secs(10)).await;
        process.stop();

        let (code, stdout, stderr) = run_binary(&["stats"], location).await;
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stdout.contains("done           1\n") && stdout.contains("webhooks       1\n"),
            "{stdout}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_when_the_certificate_is_not_trusted() {
    let server = server_or_skip!("serve_refuses_to_start_when_the_certificate_is_not_trusted");
    let dir = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new("another CA").write(dir.path(), "other-ca");
    // A password that the server never gets to check: the handshake fails before.
    let url = with_parameters(
        &with_host(
            &server
                .url
                .replace("smooch:smooch@", "smooch:hunter2-never-shown@"),
            "localhost",
        ),
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    let (code, stdout, stderr) = run_binary(&[], url).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("cannot start"), "{stderr}");
    assert!(
        stderr.contains(
            "cannot connect to PostgreSQL at localhost:5432 (sslmode=verify-full): error \
             performing TLS handshake: the server's certificate is refused: unknown issuer"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_refuse_a_server_without_tls_under_require() {
    let no_tls = NoTlsServer::start(None).await;
    let url = fake_url(no_tls.address, "sslmode=require");
    for args in [
        &["migrate"][..],
        &["stats"][..],
        &["requeue"][..],
        &["dead-letters", "list"][..],
    ] {
        let (code, stdout, stderr) = run_binary(args, url.clone()).await;
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert_eq!(
            stderr,
            format!(
                "smooch-receiver: cannot connect to PostgreSQL at 127.0.0.1:{} (sslmode=require): \
                 the server does not accept TLS (it answered no to the TLS request), and \
                 sslmode=require does not fall back to plain text\n",
                no_tls.address.port()
            ),
            "{args:?}"
        );
    }
}
