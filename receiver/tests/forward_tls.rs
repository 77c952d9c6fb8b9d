//! Forwards to an HTTPS service (a real TLS server on loopback, its certificates made by the
//! test): trusted through `SMOOCH_FORWARD_CA_FILE` or the system's CAs, refused when untrusted
//! (retried, set aside, the reason kept), with a client certificate for a service that asks for
//! one, over kept-alive connections; signed as Standard Webhooks says (checked here with an HMAC
//! of the test's own), and with the headers of `SMOOCH_FORWARD_HEADERS_FILE`.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use support::certs::TestCa;
use support::sink::{Answer, Got, Sink, TlsConnection};
use support::*;

/// A CA made for the test, its certificate written to a file, and a server certificate it signs
/// for `127.0.0.1`.
struct Pki {
    dir: tempfile::TempDir,
    ca: TestCa,
    ca_file: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("smooch test CA");
        let ca_file = ca.write(dir.path(), "ca");
        Pki { dir, ca, ca_file }
    }

    /// A sink showing a certificate of this CA for 127.0.0.1, answering as `answer` says.
    async fn sink(&self, answer: impl Fn(&Got) -> Answer + Send + Sync + 'static) -> Sink {
        Sink::start_tls(self.ca.server(&["127.0.0.1"]).server_config(None), answer).await
    }

    /// Writes `text` to a file of the test's directory; its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// Starts a receiver on `store` forwarding to `sink` with `env`.
fn receiver(store: &TestStore, log: &str, sink: &Sink, env: &[(&str, &str)]) -> Process {
    let url = sink.url();
    let mut all = vec![("SMOOCH_FORWARD_URL", url.as_str())];
    all.extend_from_slice(env);
    Process::start(&store.location(), &store.dir().join(log), &all)
}

/// POSTs `count` distinct bodies of one event each (v2 messages, each in a conversation of its
/// own) to the receiver; all answered 200.
async fn post_events(process: &Process, count: usize) {
    let mut client = Client::connect(process.address).await;
    for n in 0..count {
        let body = v2_message(&format!("conversation-{n}"), &format!("event-{n}"), "hello");
        assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
    }
}

/// The deliveries once one is set aside (state `failed`), within 20 s.
async fn set_aside(store: &TestStore) -> Vec<DeliveryRow> {
    eventually(Duration::from_secs(20), "a delivery set aside", || async {
        let deliveries = store.deliveries().await;
        deliveries
            .iter()
            .any(|delivery| delivery.state == "failed")
            .then_some(deliveries)
    })
    .await
}

/// The UNIX time in seconds.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// HMAC-SHA256 (RFC 2104) written here over sha2, so that the check does not go through the
/// receiver's code (nor the hmac crate it uses).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A signing secret of 32 bytes made from `seed`, and its `whsec_…` form.
fn secret(seed: u8) -> (Vec<u8>, String) {
    let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(31).wrapping_add(seed)).collect();
    let text = format!("whsec_{}", STANDARD.encode(&bytes));
    (bytes, text)
}

/// Checks a forward's signature as a Standard Webhooks consumer does, with each of `secrets`
/// in turn (one signature each, in order); returns its `webhook-id` and `webhook-timestamp`.
fn verify(got: &Got, secrets: &[&[u8]]) -> (String, u64) {
    let id = got.header("webhook-id").expect("a webhook-id");
    let timestamp = got.header("webhook-timestamp").expect("a webhook-timestamp");
    let signatures: Vec<&str> = got
        .header("webhook-signature")
        .expect("a webhook-signature")
        .split(' ')
        .collect();
    assert_eq!(signatures.len(), secrets.len(), "{signatures:?}");
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(&got.body);
    for (signature, secret) in signatures.iter().zip(secrets) {
        let (version, encoded) = signature.split_once(',').expect("v1,<base64>");
        assert_eq!(version, "v1");
        assert_eq!(
            STANDARD.decode(encoded).unwrap(),
            hmac_sha256(secret, &signed),
            "{signature}"
        );
    }
    (id.to_owned(), timestamp.parse().expect("UNIX seconds"))
}

#[test]
fn the_test_s_own_hmac_gives_the_specification_s_signature() {
    // The test vector of the Standard Webhooks libraries (Python's test_sign_function).
    let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mac = hmac_sha256(
        &key,
        br#"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}"#,
    );
    assert_eq!(
        STANDARD.encode(mac),
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_whose_ca_is_in_the_ca_file_gets_every_delivery_over_http_1_1() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let ca_file = pki.ca_file.to_str().unwrap();
        let process = receiver(
            &store,
            "trusted.log",
            &sink,
            &[("SMOOCH_FORWARD_CA_FILE", ca_file)],
        );
        post_events(&process, 5).await;
        let deliveries = store.all_done(5, Duration::from_secs(20)).await;
        let rows = store.rows().await;
        let got = sink.got();
        assert_eq!(got.len(), 5);
        for (delivery, row) in deliveries.iter().zip(&rows) {
            let post = got
                .iter()
                .find(|post| post.key() == delivery.key_hex())
                .unwrap_or_else(|| panic!("delivery {} not forwarded", delivery.id));
            assert_eq!(post.body, row.body, "byte for byte");
            assert_eq!(post.header("content-type"), Some("application/json"));
            assert_eq!(post.header("x-smooch-attempt"), Some("1"));
        }
        // The server offers h2 first: the receiver, HTTP/1.1 only, asked for http/1.1.
        let handshakes = sink.handshakes();
        assert!(!handshakes.is_empty());
        for handshake in handshakes {
            assert_eq!(
                handshake,
                Ok(TlsConnection {
                    alpn: Some("http/1.1".to_owned()),
                    client_certificate: false
                })
            );
        }
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_s_certificate_authorities_are_trusted_without_a_ca_file() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        // The system's CAs, as OpenSSL and the receiver read them: those of SSL_CERT_FILE.
        let process = receiver(
            &store,
            "system.log",
            &sink,
            &[("SSL_CERT_FILE", pki.ca_file.to_str().unwrap())],
        );
        post_events(&process, 1).await;
        store.all_done(1, Duration::from_secs(20)).await;
        assert_eq!(sink.count(), 1);
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_is_enough_on_a_system_without_certificate_authorities() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let no_cas = pki.file("no-cas.pem", "");
        let process = receiver(
            &store,
            "slim.log",
            &sink,
            &[
                ("SSL_CERT_FILE", &no_cas),
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
            ],
        );
        post_events(&process, 1).await;
        store.all_done(1, Duration::from_secs(20)).await;
        assert_eq!(sink.count(), 1);
        process.stop();
    })
    .await;
}

#[test]
fn an_https_forward_on_a_system_without_certificate_authorities_nor_a_ca_file_is_refused_at_start() {
    let (store, pki) = (TestStore::sqlite(), Pki::new());
    let no_cas = pki.file("no-cas.pem", "");
    let output = run(
        &["serve"],
        &[
            ("SMOOCH_WEBHOOK_SECRETS", CURRENT),
            ("SMOOCH_LISTEN", "127.0.0.1:0"),
            ("SMOOCH_STORE", &store.location()),
            ("SMOOCH_FORWARD_URL", "https://127.0.0.1:9/smooch"),
            ("SSL_CERT_FILE", &no_cas),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.starts_with(
            "smooch-receiver: HTTPS to SMOOCH_FORWARD_URL: no certificate authority found on \
             the system"
        ) && error.contains("or name a CA file"),
        "{error}"
    );
    let TestStore::Sqlite { path, .. } = &store else {
        unreachable!("a SQLite store")
    };
    assert!(!path.exists(), "refused before the store was made");
}

#[test]
fn a_ca_file_without_a_certificate_stops_the_start_naming_it() {
    let (store, pki) = (TestStore::sqlite(), Pki::new());
    let not_pem = pki.file("not-a-ca.pem", "a certificate, said the operator\n");
    let output = run(
        &["serve"],
        &[
            ("SMOOCH_WEBHOOK_SECRETS", CURRENT),
            ("SMOOCH_LISTEN", "127.0.0.1:0"),
            ("SMOOCH_STORE", &store.location()),
            ("SMOOCH_FORWARD_URL", "https://127.0.0.1:9/smooch"),
            ("SMOOCH_FORWARD_CA_FILE", &not_pem),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "smooch-receiver: HTTPS to SMOOCH_FORWARD_URL: the CA file {not_pem}: no certificate \
             in it (a PEM file with -----BEGIN CERTIFICATE----- blocks)\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_connections_are_kept_alive_and_reused() {
    bounded(Duration::from_secs(90), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let process = receiver(
            &store,
            "reused.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_CONCURRENCY", "2"),
            ],
        );
        post_events(&process, 60).await;
        store.all_done(60, Duration::from_secs(60)).await;
        assert_eq!(sink.count(), 60);
        // Two deliveries at a time: a connection each, and at most as many again opened while one
        // was on its way back to the pool; never one a delivery.
        let accepts = sink.accepts();
        assert!(
            (1..=4).contains(&accepts),
            "{accepts} connections for 60 deliveries"
        );
        assert_eq!(sink.handshakes().len(), accepts);
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_receiver_does_not_trust_fails_the_delivery_with_the_reason_until_it_is_set_aside()
{
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        // The sink's certificate is from another CA than the one the receiver trusts.
        let stranger = TestCa::new("another CA");
        let sink = Sink::start_tls(stranger.server(&["127.0.0.1"]).server_config(None), |_| {
            Answer::ok()
        })
        .await;
        let process = receiver(
            &store,
            "untrusted.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_MAX_ATTEMPTS", "3"),
            ],
        );
        post_events(&process, 1).await;
        let deliveries = set_aside(&store).await;
        let reason = "forward: client error (Connect): the server's certificate is refused: unknown \
                      issuer: it is not signed by a trusted certificate authority (is the right CA \
                      file given?)";
        assert_eq!(deliveries[0].attempts, 3);
        assert_eq!(deliveries[0].last_error.as_deref(), Some(reason));
        // Three tries, three handshakes refused by the receiver; nothing sent.
        assert_eq!(sink.count(), 0);
        let handshakes = sink.handshakes();
        assert_eq!(handshakes.len(), 3, "{handshakes:?}");
        assert!(handshakes.iter().all(Result::is_err), "{handshakes:?}");
        // Never a crash: the receiver goes on, and stops as asked (its log then written out).
        let log = process.log.clone();
        process.stop();
        let log = std::fs::read_to_string(log).unwrap();
        let failed: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("forward failed"))
            .collect();
        assert_eq!(failed.len(), 3, "{log}");
        assert!(failed.iter().all(|line| line.contains("unknown issuer")), "{log}");
        assert!(log.contains("set aside"), "{log}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_asks_for_a_client_certificate_gets_the_deliveries_of_a_receiver_showing_one() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = Sink::start_tls(pki.ca.server(&["127.0.0.1"]).server_config(Some(&pki.ca)), |_| {
            Answer::ok()
        })
        .await;
        let (cert, key) = pki.ca.client("smooch-receiver").write(pki.dir.path(), "client");
        let process = receiver(
            &store,
            "client-cert.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_FORWARD_CLIENT_CERT_FILE", cert.to_str().unwrap()),
                ("SMOOCH_FORWARD_CLIENT_KEY_FILE", key.to_str().unwrap()),
            ],
        );
        post_events(&process, 3).await;
        store.all_done(3, Duration::from_secs(20)).await;
        assert_eq!(sink.count(), 3);
        let handshakes = sink.handshakes();
        assert!(!handshakes.is_empty());
        assert!(
            handshakes
                .iter()
                .all(|handshake| handshake.as_ref().is_ok_and(|tls| tls.client_certificate)),
            "{handshakes:?}"
        );
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_asks_for_a_client_certificate_refuses_a_receiver_without_one() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = Sink::start_tls(pki.ca.server(&["127.0.0.1"]).server_config(Some(&pki.ca)), |_| {
            Answer::ok()
        })
        .await;
        let process = receiver(
            &store,
            "no-client-cert.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_MAX_ATTEMPTS", "2"),
            ],
        );
        post_events(&process, 1).await;
        let deliveries = set_aside(&store).await;
        assert_eq!(deliveries[0].attempts, 2);
        let error = deliveries[0].last_error.clone().unwrap();
        assert!(
            error.starts_with("forward: ")
                && error.contains(
                    "the server ended the TLS handshake (CertificateRequired): it may require a \
                     client certificate"
                ),
            "{error}"
        );
        assert_eq!(sink.count(), 0);
        let handshakes = sink.handshakes();
        assert_eq!(handshakes.len(), 2, "{handshakes:?}");
        assert!(handshakes.iter().all(Result::is_err), "{handshakes:?}");
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_forward_is_signed_as_standard_webhooks_says() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let (key, text) = secret(1);
        let secret_file = pki.file("signing", &format!("{text}\n"));
        let process = receiver(
            &store,
            "signed.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_FORWARD_SIGNING_SECRET_FILE", &secret_file),
            ],
        );
        let before = now();
        post_events(&process, 4).await;
        store.all_done(4, Duration::from_secs(20)).await;
        let after = now();
        let got = sink.got();
        assert_eq!(got.len(), 4);
        for post in &got {
            let (id, timestamp) = verify(post, &[&key]);
            assert_eq!(id, format!("msg_{}", post.key()), "the event's key, prefixed");
            assert!(
                (before..=after).contains(&timestamp),
                "{timestamp} not in {before}..={after}"
            );
        }
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_id_stays_the_same_across_the_retries_of_a_delivery() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        // Refused twice, then taken.
        let tries = Arc::new(AtomicUsize::new(0));
        let sink = {
            let tries = Arc::clone(&tries);
            pki.sink(move |_| {
                if tries.fetch_add(1, SeqCst) < 2 {
                    Answer::status(500)
                } else {
                    Answer::ok()
                }
            })
            .await
        };
        let (key, text) = secret(2);
        let secret_file = pki.file("signing", &text);
        let process = receiver(
            &store,
            "retried.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_FORWARD_SIGNING_SECRET_FILE", &secret_file),
            ],
        );
        post_events(&process, 1).await;
        let deliveries = store.all_done(1, Duration::from_secs(20)).await;
        let got = sink.got();
        let attempts: Vec<u32> = got.iter().map(Got::attempt).collect();
        assert_eq!(attempts, [1, 2, 3]);
        let signed: Vec<(String, u64)> = got.iter().map(|post| verify(post, &[&key])).collect();
        let expected = format!("msg_{}", deliveries[0].key_hex());
        assert!(signed.iter().all(|(id, _)| *id == expected), "{signed:?}");
        // Each try signed at its own time.
        assert!(signed.windows(2).all(|pair| pair[0].1 <= pair[1].1), "{signed:?}");
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_signing_secrets_give_two_signatures_each_checked_by_its_secret() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let (new_key, new_text) = secret(3);
        let (old_key, old_text) = secret(4);
        let secret_file = pki.file(
            "signing",
            &format!("# rotation: the new secret, then the old one\n{new_text}\n{old_text}\n"),
        );
        let process = receiver(
            &store,
            "rotation.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_FORWARD_SIGNING_SECRET_FILE", &secret_file),
            ],
        );
        post_events(&process, 2).await;
        store.all_done(2, Duration::from_secs(20)).await;
        let got = sink.got();
        assert_eq!(got.len(), 2);
        for post in &got {
            verify(post, &[&new_key, &old_key]);
        }
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headers_file_is_sent_with_every_forward() {
    bounded(Duration::from_secs(60), async {
        let (store, pki) = (TestStore::sqlite(), Pki::new());
        let sink = pki.sink(|_| Answer::ok()).await;
        let headers_file = pki.file(
            "headers",
            "# for the ticket service\n\
             Authorization: Bearer token-0123456789\n\
             \n\
             X-Tenant: acme\n\
             X-Tenant: acme-eu\n",
        );
        let process = receiver(
            &store,
            "headers.log",
            &sink,
            &[
                ("SMOOCH_FORWARD_CA_FILE", pki.ca_file.to_str().unwrap()),
                ("SMOOCH_FORWARD_HEADERS_FILE", &headers_file),
            ],
        );
        post_events(&process, 3).await;
        store.all_done(3, Duration::from_secs(20)).await;
        let got = sink.got();
        assert_eq!(got.len(), 3);
        for post in &got {
            let added: Vec<(&str, &str)> = post
                .all_headers
                .iter()
                .filter(|(name, _)| name == "authorization" || name == "x-tenant")
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            assert_eq!(
                added,
                [
                    ("authorization", "Bearer token-0123456789"),
                    ("x-tenant", "acme"),
                    ("x-tenant", "acme-eu")
                ]
            );
            // Beside the receiver's own.
            assert!(post.header("idempotency-key").is_some());
            assert_eq!(post.header("content-type"), Some("application/json"));
        }
        process.stop();
    })
    .await;
}
