//! What the receiver tests share: a raw HTTP/1.1 client over loopback, the two stores (a SQLite
//! file in a temporary directory; a PostgreSQL schema of its own in the database named by
//! `RECEIVER_TEST_DATABASE_URL`) read back with SQL, the webhook bodies (the fixtures), and the
//! binary run as a real process.
#![allow(dead_code, unreachable_pub)]

pub mod certs;
pub mod proxy;
pub mod sink;

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// The secret being rotated in, the current one, and one rotated out.
pub const NEXT: &str = "next-7f3a0c9e51b24d88";
pub const CURRENT: &str = "current-91b2e6f0a3c84d17";
pub const ROTATED_OUT: &str = "old-00c4d2a8b7e94f63";

/// The variable naming the PostgreSQL database the tests may use (each test in a schema of its
/// own). `.ci/run` sets it.
pub const DATABASE_URL: &str = "RECEIVER_TEST_DATABASE_URL";

/// The longest any single read, write or connect may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a test body under a time limit.
pub async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test).await.expect("the test took too long");
}

/// Polls `check` every 20 ms until it gives `Some`, for at most `limit`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The test functions of a scenario for each store: `sqlite::NAME` and `postgres::NAME`, each
/// calling `NAME(store)`. The PostgreSQL one says on standard error that it did not run when
/// `RECEIVER_TEST_DATABASE_URL` is not set (CI sets it).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::TestStore::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = $crate::support::TestStore::postgres(stringify!($name)).await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}

/// A store for one test.
pub enum TestStore {
    /// A SQLite file in a temporary directory.
    Sqlite { dir: tempfile::TempDir, path: PathBuf },
    /// A schema of its own in the test database (dropped at the end).
    Postgres { base: String, schema: String },
}

/// Connects to PostgreSQL, the connection driven by a task.
pub async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// `url` with `search_path` set to `schema` (as an operator puts the tables in a schema).
pub fn with_schema(url: &str, schema: &str) -> String {
    with_parameters(url, &format!("options=-csearch_path%3D{schema}"))
}

impl TestStore {
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhooks.sqlite3");
        TestStore::Sqlite { dir, path }
    }

    /// A schema of its own in the test database, or `None` (said on standard error) when
    /// `RECEIVER_TEST_DATABASE_URL` is not set.
    pub async fn postgres(test: &str) -> Option<TestStore> {
        let Ok(base) = std::env::var(DATABASE_URL) else {
            // Straight to standard error: the test harness does not capture it.
            let _ = writeln!(
                std::io::stderr(),
                "NOT RUN: postgres::{test}: set {DATABASE_URL} to a PostgreSQL database to run it"
            );
            return None;
        };
        let schema = format!(
            "t_{}_{}_{}",
            test.chars().take(30).collect::<String>(),
            std::process::id(),
            Instant::now().elapsed().as_nanos() % 1000 + rand_suffix()
        );
        let client = pg_connect(&base).await;
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .await
            .unwrap();
        Some(TestStore::Postgres { base, schema })
    }

    /// `SMOOCH_STORE` for this store.
    pub fn location(&self) -> String {
        match self {
            TestStore::Sqlite { path, .. } => path.to_str().unwrap().to_owned(),
            TestStore::Postgres { base, schema } => with_schema(base, schema),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestStore::Postgres { .. })
    }

    /// A directory for logs and other files of the test.
    pub fn dir(&self) -> PathBuf {
        match self {
            TestStore::Sqlite { dir, .. } => dir.path().to_owned(),
            TestStore::Postgres { .. } => std::env::temp_dir(),
        }
    }

    /// Runs `sql` (statements without results).
    pub async fn execute(&self, sql: &str) {
        match self {
            // (Creating the file if need be: the tables of an older receiver, say.)
            TestStore::Sqlite { path, .. } => Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            TestStore::Postgres { .. } => pg_connect(&self.location())
                .await
                .batch_execute(sql)
                .await
                .unwrap(),
        }
    }

    /// Holds the write lock of the store as an operator can (SQLite: `BEGIN IMMEDIATE` on a
    /// connection of its own; PostgreSQL: `LOCK TABLE webhooks`), until the guard is dropped.
    pub async fn lock_writes(&self) -> WriteLock {
        match self {
            TestStore::Sqlite { path, .. } => {
                let connection = open(path);
                connection.execute_batch("BEGIN IMMEDIATE").unwrap();
                WriteLock::Sqlite(connection)
            }
            TestStore::Postgres { .. } => {
                let client = pg_connect(&self.location()).await;
                client.batch_execute("BEGIN; LOCK TABLE webhooks").await.unwrap();
                WriteLock::Postgres(client)
            }
        }
    }

    /// Every row of `webhooks`, by id.
    pub async fn rows(&self) -> Vec<Row> {
        match self {
            TestStore::Sqlite { path, .. } => sqlite_rows(path),
            TestStore::Postgres { .. } => {
                let client = pg_connect(&self.location()).await;
                let rows = client
                    .query(
                        "SELECT id, idempotency_key, \
                         to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
                         kinds, app_id, body FROM webhooks ORDER BY id",
                        &[],
                    )
                    .await
                    .unwrap();
                rows.iter()
                    .map(|row| Row {
                        id: row.get(0),
                        key: row.get(1),
                        received_at: row.get(2),
                        kinds: row.get(3),
                        app_id: row.get(4),
                        body: row.get(5),
                    })
                    .collect()
            }
        }
    }

    /// Every row of `deliveries`, by id, with whether it has a done mark.
    pub async fn deliveries(&self) -> Vec<DeliveryRow> {
        const SQL: &str =
            "SELECT d.id, d.webhook_id, d.event_index, d.events, d.lane, d.key, d.kind, d.state, \
                           d.attempts, d.last_error, \
                           EXISTS (SELECT 1 FROM delivery_done AS x WHERE x.delivery_id = d.id) \
                           FROM deliveries AS d ORDER BY d.id";
        match self {
            TestStore::Sqlite { path, .. } => {
                let connection = open(path);
                let mut statement = connection.prepare(SQL).unwrap();
                let rows = statement
                    .query_map([], |row| {
                        Ok(DeliveryRow {
                            id: row.get(0)?,
                            webhook_id: row.get(1)?,
                            index: row.get(2)?,
                            events: row.get(3)?,
                            lane: row.get(4)?,
                            key: row.get(5)?,
                            kind: row.get(6)?,
                            state: row.get(7)?,
                            attempts: row.get(8)?,
                            last_error: row.get(9)?,
                            done: row.get(10)?,
                        })
                    })
                    .unwrap();
                rows.collect::<Result<_, _>>().unwrap()
            }
            TestStore::Postgres { .. } => {
                let client = pg_connect(&self.location()).await;
                let rows = client.query(SQL, &[]).await.unwrap();
                rows.iter()
                    .map(|row| DeliveryRow {
                        id: row.get(0),
                        webhook_id: row.get(1),
                        index: row.get::<_, i32>(2) as u32,
                        events: row.get::<_, i32>(3) as u32,
                        lane: row.get(4),
                        key: row.get(5),
                        kind: row.get(6),
                        state: row.get(7),
                        attempts: row.get::<_, i32>(8) as u32,
                        last_error: row.get(9),
                        done: row.get(10),
                    })
                    .collect()
            }
        }
    }

    /// The deliveries, once every one is done (and there are `count` at least), within `limit`.
    pub async fn all_done(&self, count: usize, limit: Duration) -> Vec<DeliveryRow> {
        eventually(limit, &format!("{count} deliveries done"), || async {
            let deliveries = self.deliveries().await;
            (deliveries.len() >= count && deliveries.iter().all(|d| d.done)).then_some(deliveries)
        })
        .await
    }

    /// Every row of `dead_letters`, by id.
    pub async fn dead_letters(&self) -> Vec<Letter> {
        match self {
            TestStore::Sqlite { path, .. } => {
                let connection = open(path);
                let mut statement = connection
                    .prepare(
                        "SELECT id, received_at, status, error, size, body, webhook_id FROM dead_letters ORDER BY id",
                    )
                    .unwrap();
                let rows = statement
                    .query_map([], |row| {
                        Ok(Letter {
                            id: row.get(0)?,
                            received_at: row.get(1)?,
                            status: row.get(2)?,
                            error: row.get(3)?,
                            size: row.get::<_, i64>(4)?.try_into().unwrap(),
                            body: row.get(5)?,
                            webhook_id: row.get(6)?,
                        })
                    })
                    .unwrap();
                rows.collect::<Result<_, _>>().unwrap()
            }
            TestStore::Postgres { .. } => {
                let client = pg_connect(&self.location()).await;
                let rows = client
                    .query(
                        "SELECT id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
                         status, error, size, body, webhook_id FROM dead_letters ORDER BY id",
                        &[],
                    )
                    .await
                    .unwrap();
                rows.iter()
                    .map(|row| Letter {
                        id: row.get(0),
                        received_at: row.get(1),
                        status: row.get::<_, i32>(2) as u16,
                        error: row.get(3),
                        size: row.get::<_, i64>(4) as u64,
                        body: row.get(5),
                        webhook_id: row.get(6),
                    })
                    .collect()
            }
        }
    }
}

/// The write lock of [`TestStore::lock_writes`]; released (the transaction ended) when dropped.
pub enum WriteLock {
    Sqlite(Connection),
    Postgres(tokio_postgres::Client),
}

impl WriteLock {
    /// Ends the transaction, and with it the lock.
    pub async fn release(self) {
        match self {
            WriteLock::Sqlite(connection) => connection.execute_batch("COMMIT").unwrap(),
            WriteLock::Postgres(client) => client.batch_execute("COMMIT").await.unwrap(),
        }
    }
}

/// `url` (a PostgreSQL URL with a host and a port) with another host.
pub fn with_host(url: &str, host: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (format!("{userinfo}@"), host_port),
        None => (String::new(), authority),
    };
    let port = host_port
        .rsplit_once(':')
        .map_or(String::new(), |(_, port)| format!(":{port}"));
    format!("{scheme}://{userinfo}{host}{port}/{path}")
}

/// `url` with the query parameters `parameters` (`a=b&c=d`) added.
pub fn with_parameters(url: &str, parameters: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{parameters}")
}

/// `url` (a PostgreSQL URL with a host and a port) with another port.
pub fn with_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (format!("{userinfo}@"), host),
        None => (String::new(), authority),
    };
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    format!("{scheme}://{userinfo}{host}:{port}/{path}")
}

/// The resident memory of process `pid`, in KiB (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

fn rand_suffix() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    u128::from(hasher.finish() % 1_000_000)
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let TestStore::Postgres { base, schema } = self {
            let (base, schema) = (base.clone(), schema.clone());
            // A runtime of its own: the test's may be gone.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok((client, connection)) =
                        tokio_postgres::connect(&base, tokio_postgres::NoTls).await
                    {
                        tokio::spawn(connection);
                        let _ = client
                            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// An HTTP/1.1 connection, kept alive between requests.
pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// A response: the status, whether it says `Connection: close`, and the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub close: bool,
    pub body: String,
}

/// The head of `POST /webhook` with `X-API-Key: key` (none when `None`) and a `Content-Length`.
pub fn head(key: Option<&str>, length: usize) -> Vec<u8> {
    let mut request = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n"
    );
    if let Some(key) = key {
        request.push_str(&format!("X-API-Key: {key}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

impl Client {
    pub async fn connect(address: SocketAddr) -> Client {
        Client::try_connect(address).await.expect("connect")
    }

    /// Connects from `source` (another loopback address, as another host would).
    pub async fn connect_from(source: std::net::IpAddr, address: SocketAddr) -> Client {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        let stream = timeout(IO_TIMEOUT, socket.connect(address))
            .await
            .expect("connect in time")
            .expect("connect");
        Client::from_stream(stream)
    }

    fn from_stream(stream: TcpStream) -> Client {
        stream.set_nodelay(true).unwrap();
        let (reader, writer) = stream.into_split();
        Client {
            reader: BufReader::new(reader),
            writer,
        }
    }

    /// Connects, or `None` if the connection is refused or takes longer than [`IO_TIMEOUT`].
    pub async fn try_connect(address: SocketAddr) -> Option<Client> {
        Client::connect_within(address, IO_TIMEOUT).await
    }

    /// Connects, or `None` if the connection is refused or takes longer than `limit` (a full
    /// listen backlog makes the kernel drop the handshake, and the connect wait).
    pub async fn connect_within(address: SocketAddr, limit: Duration) -> Option<Client> {
        let stream = timeout(limit, TcpStream::connect(address)).await.ok()?.ok()?;
        Some(Client::from_stream(stream))
    }

    /// `POST /webhook` with the body, and `X-API-Key: key` unless `key` is `None`.
    pub async fn post(&mut self, key: Option<&str>, body: &[u8]) -> Response {
        self.try_post(key, body).await.expect("a response")
    }

    /// The same, or `None` when the connection fails or closes before the response is whole.
    pub async fn try_post(&mut self, key: Option<&str>, body: &[u8]) -> Option<Response> {
        let mut bytes = head(key, body.len());
        bytes.extend_from_slice(body);
        self.send(&bytes).await.ok()?;
        self.try_response().await
    }

    /// Writes raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        timeout(IO_TIMEOUT, self.writer.write_all(bytes))
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }

    /// Reads a response.
    pub async fn response(&mut self) -> Response {
        self.try_response().await.expect("a whole response")
    }

    /// Reads a response, or `None` if the connection closes or fails first.
    pub async fn try_response(&mut self) -> Option<Response> {
        timeout(IO_TIMEOUT, self.read_response())
            .await
            .expect("no response in time")
    }

    async fn read_response(&mut self) -> Option<Response> {
        let status_line = self.read_line().await?;
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut length = None;
        let mut close = false;
        loop {
            let line = self.read_line().await?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header");
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().unwrap());
            }
            if name.eq_ignore_ascii_case("connection") && value.trim().eq_ignore_ascii_case("close") {
                close = true;
            }
            assert!(!name.eq_ignore_ascii_case("transfer-encoding"), "chunked: {line}");
        }
        let mut body = vec![0; length.expect("a Content-Length")];
        self.reader.read_exact(&mut body).await.ok()?;
        Some(Response {
            status,
            close,
            body: String::from_utf8(body).unwrap(),
        })
    }

    /// A line without its CRLF, or `None` at the end of the stream.
    async fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line).await {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
        }
    }

    /// Waits up to `limit` for the server to close the connection (end of stream or reset);
    /// `Err` with what it sent instead, or when it is still open.
    pub async fn closed_within(&mut self, limit: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let mut buffer = Vec::new();
        match timeout(limit, self.reader.read_to_end(&mut buffer)).await {
            Ok(_) if buffer.is_empty() || buffer.starts_with(b"HTTP/1.1 408") => Ok(started.elapsed()),
            Ok(_) => Err(format!("sent {:?}", String::from_utf8_lossy(&buffer))),
            Err(_) => Err(format!("still open after {limit:?}")),
        }
    }
}

/// POSTs `body` until it is answered something else than 503 (at most five times, as Smooch
/// retries), each on a connection of its own; returns that answer's status.
pub async fn post_retrying(address: SocketAddr, body: &[u8]) -> u16 {
    let mut status = 0;
    for _ in 0..5 {
        let mut client = Client::connect(address).await;
        status = client.post(Some(CURRENT), body).await.status;
        if status != 503 {
            break;
        }
    }
    status
}

/// `GET path` on a connection of its own: the status and the body.
pub async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut client = Client::connect(address).await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let response = client.response().await;
    (response.status, response.body)
}

/// The fixtures folder of the library, beside this crate.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The bytes of a fixture, by its path under `fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `.json` fixture, by path under `fixtures/`, sorted.
pub fn all_fixtures() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path.strip_prefix(base).unwrap().to_str().unwrap().to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures_dir(), &fixtures_dir(), &mut out);
    out.sort();
    out
}

/// The fixtures that are not webhook bodies (fragments of the docs: no trigger).
pub fn is_fragment(name: &str) -> bool {
    name.starts_with("later-docs-fragments/")
}

/// The fixtures that are webhook bodies (v1 and v2), with their bytes.
pub fn webhook_fixtures() -> Vec<(String, Vec<u8>)> {
    all_fixtures()
        .into_iter()
        .filter(|name| !is_fragment(name))
        .map(|name| {
            let bytes = fixture(&name);
            (name, bytes)
        })
        .collect()
}

/// The body with `"testSeq": seq` as its first key: distinct bytes for each `seq`.
pub fn with_seq(body: &[u8], seq: usize) -> Vec<u8> {
    let open = body.iter().position(|&b| b == b'{').expect("an object");
    let mut out = body[..=open].to_vec();
    out.extend_from_slice(format!("\"testSeq\": {seq},").as_bytes());
    out.extend_from_slice(&body[open + 1..]);
    out
}

/// `count` distinct webhook bodies, made from the fixtures.
pub fn distinct_bodies(count: usize) -> Vec<Vec<u8>> {
    let fixtures = webhook_fixtures();
    (0..count)
        .map(|seq| with_seq(&fixtures[seq % fixtures.len()].1, seq))
        .collect()
}

/// The app id of the v2 bodies the tests write.
pub const APP: &str = "5ebee0975ac5304b664a12fa";

/// One v2 `conversation:message` event (a user's text in `conversation`), as JSON text.
pub fn v2_message_event(conversation: &str, event: &str, text: &str) -> String {
    format!(
        r#"{{"id":"{event}","createdAt":"2020-09-30T15:14:29.834Z","type":"conversation:message","payload":{{"conversation":{{"id":"{conversation}","type":"personal"}},"message":{{"id":"m-{event}","received":"2020-09-30T18:00:56.820Z","author":{{"userId":"u-{conversation}","displayName":"Steve","type":"user"}},"content":{{"type":"text","text":"{text}"}},"source":{{"type":"telegram"}}}}}}}}"#
    )
}

/// A v2 body of `events` (JSON texts), as Smooch sends it.
pub fn v2_body(events: &[String]) -> Vec<u8> {
    format!(
        r#"{{"app":{{"id":"{APP}"}},"webhook":{{"id":"5f4eaef81e3dcc117c7ba48a","version":"v2"}},"events":[{}]}}"#,
        events.join(",")
    )
    .into_bytes()
}

/// A v2 body of one `conversation:message` event.
pub fn v2_message(conversation: &str, event: &str, text: &str) -> Vec<u8> {
    v2_body(&[v2_message_event(conversation, event, text)])
}

/// A row of `webhooks`.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub key: Vec<u8>,
    pub received_at: String,
    pub kinds: String,
    pub app_id: Option<String>,
    pub body: Vec<u8>,
}

/// A row of `deliveries`, and whether it has a done mark.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub index: u32,
    pub events: u32,
    pub lane: String,
    pub key: Vec<u8>,
    pub kind: String,
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub done: bool,
}

impl DeliveryRow {
    /// The key as the forward's `Idempotency-Key` gives it.
    pub fn key_hex(&self) -> String {
        self.key.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A row of `dead_letters`.
#[derive(Debug, Clone)]
pub struct Letter {
    pub id: i64,
    pub received_at: String,
    pub status: u16,
    pub error: String,
    pub size: u64,
    pub body: Vec<u8>,
    pub webhook_id: Option<i64>,
}

/// The database, opened for reading (read-write without create: after a kill, opening it runs
/// SQLite's recovery of the WAL, which a read-only connection may not be allowed to do).
pub fn open(db: &Path) -> Connection {
    let connection =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).expect("the database opens");
    connection.busy_timeout(Duration::from_secs(5)).unwrap();
    connection
}

fn sqlite_rows(db: &Path) -> Vec<Row> {
    let connection = open(db);
    let mut statement = connection
        .prepare("SELECT id, idempotency_key, received_at, kinds, app_id, body FROM webhooks ORDER BY id")
        .unwrap();
    let rows = statement
        .query_map([], |row| {
            Ok(Row {
                id: row.get(0)?,
                key: row.get(1)?,
                received_at: row.get(2)?,
                kinds: row.get(3)?,
                app_id: row.get(4)?,
                body: row.get(5)?,
            })
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Asserts that `time` is an RFC 3339 UTC time with milliseconds, within the last ten minutes.
pub fn assert_recent(time: &str) {
    let parsed = chrono::DateTime::parse_from_rfc3339(time).unwrap_or_else(|e| panic!("{time:?}: {e}"));
    assert!(time.ends_with('Z') && time.len() == 24, "{time:?}");
    let age = chrono::Utc::now().signed_duration_since(parsed);
    assert!(
        age >= chrono::Duration::zero() - chrono::Duration::seconds(1),
        "{time} is in the future"
    );
    assert!(age < chrono::Duration::minutes(10), "{time} is old");
}

/// The binary, built by `cargo test` for the tests of its package.
pub fn receiver_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_smooch-receiver"))
}

/// Runs the binary with `args` and `env` (nothing else of the environment); waits at most 30 s.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(receiver_binary())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// The binary running `serve` as a child process, on a port of its own, with its log in a file.
pub struct Process {
    child: Child,
    pub address: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub log: PathBuf,
}

impl Process {
    /// Starts the binary with `SMOOCH_STORE=store`, the two secrets, `127.0.0.1:0`, and `env`;
    /// waits for its "listening" line (at most 20 s) and reads the addresses from it.
    pub fn start(store: &str, log: &Path, env: &[(&str, &str)]) -> Process {
        Process::start_command(Command::new(receiver_binary()), store, log, env)
    }

    /// The same, the process allowed at most `files` open file descriptors (`ulimit -n`).
    pub fn start_with_open_files(store: &str, log: &Path, env: &[(&str, &str)], files: u32) -> Process {
        let mut command = Command::new("sh");
        // `exec`: the process is the receiver itself, for the signals.
        command
            .arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\""))
            .arg(receiver_binary());
        Process::start_command(command, store, log, env)
    }

    fn start_command(mut command: Command, store: &str, log: &Path, env: &[(&str, &str)]) -> Process {
        let log_file = std::fs::File::create(log).unwrap();
        command
            .env_clear()
            .env("SMOOCH_WEBHOOK_SECRETS", format!("{NEXT},{CURRENT}"))
            .env("SMOOCH_LISTEN", "127.0.0.1:0")
            .env("SMOOCH_STORE", store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the receiver starts");
        let mut process = Process {
            child,
            address: "127.0.0.1:1".parse().unwrap(),
            admin: None,
            log: log.to_owned(),
        };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(line) = text.lines().find(|line| line.contains("listening")) {
                let field = |name: &str| {
                    line.split_whitespace()
                        .find_map(|field| field.strip_prefix(name))
                        .and_then(|value| value.parse().ok())
                };
                process.address = field("address=").expect("the listening line names the address");
                process.admin = field("admin=");
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the receiver exited with {status}: {text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no listening line: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process ends at once, whatever it was doing.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM.
    pub fn terminate(&self) {
        send_sigterm(self.child.id());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then asserts it exits 0 within 15 s.
    pub fn stop(mut self) {
        self.terminate();
        let status = self
            .wait_within(Duration::from_secs(15))
            .expect("exits after SIGTERM");
        assert!(status.success(), "{status}: {}", self.log_text());
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[allow(unsafe_code)] // one libc call, with no pointer
fn send_sigterm(pid: u32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill(2) takes two integers and touches no memory of this process.
    let result = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(result, 0, "kill({pid}, SIGTERM)");
}
