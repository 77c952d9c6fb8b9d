//! A sink: a real HTTP server on loopback that records every POST it gets (headers, body, time of
//! arrival) and answers as the test says (a status, after a delay, with headers).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One POST the sink got.
#[derive(Clone, Debug)]
pub struct Got {
    /// Its headers, names in lower case (the last value of a repeated one).
    pub headers: BTreeMap<String, String>,
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
        }
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

/// The sink's address and what it got.
pub struct Sink {
    pub address: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Sink {
    /// A sink answering each POST as `answer` says.
    pub async fn start(answer: impl Fn(&Got) -> Answer + Send + Sync + 'static) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let policy: Arc<Policy> = Arc::new(answer);
        let recorded = Arc::clone(&got);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (got, policy) = (Arc::clone(&recorded), Arc::clone(&policy));
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (got, policy) = (Arc::clone(&got), Arc::clone(&policy));
                        async move { Ok::<_, std::convert::Infallible>(record(request, &got, &*policy).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Sink { address, got }
    }

    /// A sink answering 200 at once to everything.
    pub async fn accepting() -> Sink {
        Sink::start(|_| Answer::ok()).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/smooch", self.address)
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

async fn record(request: Request<Incoming>, got: &Mutex<Vec<Got>>, policy: &Policy) -> Response<Full<Bytes>> {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = request.into_body().collect().await.unwrap().to_bytes().to_vec();
    let arrived = Got {
        headers,
        body,
        at: Instant::now(),
    };
    let answer = policy(&arrived);
    got.lock().unwrap().push(arrived);
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
