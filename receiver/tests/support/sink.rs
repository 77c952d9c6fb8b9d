//! A sink: a real HTTP server on loopback that records every POST it gets (headers, body, time of
//! arrival) and answers as the test says (a status, after a delay, with headers); over HTTPS
//! with a rustls server configuration of the test's, recording each connection's TLS.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// One POST the sink got.
#[derive(Clone, Debug)]
pub struct Got {
    /// Its headers, names in lower case (the last value of a repeated one).
    pub headers: BTreeMap<String, String>,
    /// Every header, in order, repeated ones repeated.
    pub all_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When its body had arrived.
    pub at: Instant,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The `Idempotency-Key` header.
    pub fn key(&self) -> &str {
        self.header("idempotency-key").expect("an Idempotency-Key")
    }

    /// The `X-Smooch-Attempt` header.
    pub fn attempt(&self) -> u32 {
        self.header("x-smooch-attempt")
            .expect("an X-Smooch-Attempt")
            .parse()
            .unwrap()
    }
}

/// How the sink answers one POST.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// How long it waits before answering.
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
    /// Answers only once this turns true (a gate the test opens).
    pub gate: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Answer {
    pub fn ok() -> Answer {
        Answer::status(200)
    }

    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            gate: None,
        }
    }

    /// The same, once `gate` turns true.
    pub fn behind(mut self, gate: &tokio::sync::watch::Receiver<bool>) -> Answer {
        self.gate = Some(gate.clone());
        self
    }

    pub fn after(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Policy = dyn Fn(&Got) -> Answer + Send + Sync;

/// One TLS connection the HTTPS sink took: what the handshake settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConnection {
    /// The protocol agreed by ALPN (`http/1.1`), if any.
    pub alpn: Option<String>,
    /// Whether the client showed a certificate.
    pub client_certificate: bool,
}

/// The sink's address and what it got.
pub struct Sink {
    pub address: SocketAddr,
    https: bool,
    got: Arc<Mutex<Vec<Got>>>,
    accepts: Arc<AtomicUsize>,
    handshakes: Arc<Mutex<Vec<Result<TlsConnection, String>>>>,
}

impl Sink {
    /// A sink answering each POST as `answer` says.
    pub async fn start(answer: impl Fn(&Got) -> Answer + Send + Sync + 'static) -> Sink {
        Sink::serve(None, Arc::new(answer)).await
    }

    /// The same over HTTPS, the TLS as `config` says (its certificate, whether it asks for the
    /// client's).
    pub async fn start_tls(
        config: Arc<rustls::ServerConfig>,
        answer: impl Fn(&Got) -> Answer + Send + Sync + 'static,
    ) -> Sink {
        Sink::serve(Some(TlsAcceptor::from(config)), Arc::new(answer)).await
    }

    async fn serve(tls: Option<TlsAcceptor>, policy: Arc<Policy>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Sink {
            address: listener.local_addr().unwrap(),
            https: tls.is_some(),
            got: Arc::default(),
            accepts: Arc::default(),
            handshakes: Arc::default(),
        };
        let (recorded, accepts, handshakes) = (
            Arc::clone(&sink.got),
            Arc::clone(&sink.accepts),
            Arc::clone(&sink.handshakes),
        );
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accepts.fetch_add(1, Ordering::SeqCst);
                let (got, policy) = (Arc::clone(&recorded), Arc::clone(&policy));
                let (tls, handshakes) = (tls.clone(), Arc::clone(&handshakes));
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (got, policy) = (Arc::clone(&got), Arc::clone(&policy));
                        async move { Ok::<_, std::convert::Infallible>(record(request, &got, &*policy).await) }
                    });
                    match tls {
                        None => {
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        Some(acceptor) => {
                            let Some(stream) = handshake(&acceptor, stream, &handshakes).await else {
                                return;
                            };
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        sink
    }

    /// A sink answering 200 at once to everything.
    pub async fn accepting() -> Sink {
        Sink::start(|_| Answer::ok()).await
    }

    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}/smooch", self.address)
    }

    /// How many TCP connections it accepted.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// Each TLS handshake, in order: what it settled, or why it failed (as rustls says it).
    pub fn handshakes(&self) -> Vec<Result<TlsConnection, String>> {
        self.handshakes.lock().unwrap().clone()
    }

    /// Everything it got, in the order it arrived.
    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// How many POSTs it got.
    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

/// The TLS handshake of one connection, recorded; the stream if it succeeded (within 10 s).
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    handshakes: &Mutex<Vec<Result<TlsConnection, String>>>,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let outcome = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
    let (outcome, stream) = match outcome {
        Ok(Ok(stream)) => {
            let connection = stream.get_ref().1;
            let settled = TlsConnection {
                alpn: connection
                    .alpn_protocol()
                    .map(|protocol| String::from_utf8_lossy(protocol).into_owned()),
                client_certificate: connection.peer_certificates().is_some_and(|c| !c.is_empty()),
            };
            (Ok(settled), Some(stream))
        }
        Ok(Err(error)) => (Err(error.to_string()), None),
        Err(_) => (Err("no handshake within 10 s".to_owned()), None),
    };
    handshakes.lock().unwrap().push(outcome);
    stream
}

async fn record(request: Request<Incoming>, got: &Mutex<Vec<Got>>, policy: &Policy) -> Response<Full<Bytes>> {
    let all_headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let headers = all_headers.iter().cloned().collect();
    let body = request.into_body().collect().await.unwrap().to_bytes().to_vec();
    let arrived = Got {
        headers,
        all_headers,
        body,
        at: Instant::now(),
    };
    let answer = policy(&arrived);
    got.lock().unwrap().push(arrived);
    if let Some(mut gate) = answer.gate {
        let _ = gate.wait_for(|open| *open).await;
    }
    tokio::time::sleep(answer.delay).await;
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap();
    for (name, value) in answer.headers {
        response.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            hyper::header::HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}
