//! What the receiver tests share: a raw HTTP/1.1 client over loopback, the store read back with
//! `rusqlite`, the webhook bodies, and the example binary run as a real process.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::common::{all_fixtures, fixture, v2_fixtures};

/// The secret being rotated in, the current one, and one rotated out.
pub const NEXT: &str = "next-7f3a0c9e51b24d88";
pub const CURRENT: &str = "current-91b2e6f0a3c84d17";
pub const ROTATED_OUT: &str = "old-00c4d2a8b7e94f63";

/// The longest any single read, write or connect may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a test body under a time limit.
pub async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test).await.expect("the test took too long");
}

/// Polls `check` every 20 ms until it gives `Some`, for at most `limit`.
pub async fn eventually<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
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

    /// Connects, or `None` if the connection is refused or takes longer than [`IO_TIMEOUT`].
    pub async fn try_connect(address: SocketAddr) -> Option<Client> {
        let stream = timeout(IO_TIMEOUT, TcpStream::connect(address))
            .await
            .ok()?
            .ok()?;
        stream.set_nodelay(true).unwrap();
        let (reader, writer) = stream.into_split();
        Some(Client {
            reader: BufReader::new(reader),
            writer,
        })
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

/// The fixtures that are webhook bodies (v1 and v2), with their bytes.
pub fn webhook_fixtures() -> Vec<(String, Vec<u8>)> {
    all_fixtures()
        .into_iter()
        .chain(v2_fixtures())
        .filter(|name| !name.starts_with("later-docs-fragments/"))
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

/// A row of `webhooks`.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub key: Vec<u8>,
    pub received_at: String,
    pub kinds: String,
    pub app_id: Option<String>,
    pub body: Vec<u8>,
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
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
}

/// The database, opened for reading (read-write without create: after a kill, opening it runs
/// SQLite's recovery of the WAL, which a read-only connection may not be allowed to do).
fn open(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).expect("the database opens")
}

/// Every row of `webhooks`, by id.
pub fn stored_rows(db: &Path) -> Vec<Row> {
    let connection = open(db);
    let mut statement = connection
        .prepare(
            "SELECT id, idempotency_key, received_at, kinds, app_id, body, state, attempts, last_error \
             FROM webhooks ORDER BY id",
        )
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
                state: row.get(6)?,
                attempts: row.get(7)?,
                last_error: row.get(8)?,
            })
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Every row of `dead_letters`, by id.
pub fn dead_letters(db: &Path) -> Vec<Letter> {
    let connection = open(db);
    let mut statement = connection
        .prepare("SELECT id, received_at, status, error, size, body FROM dead_letters ORDER BY id")
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

/// The example binary, built by `cargo test` beside the test executables.
pub fn receiver_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/receiver_process-<hash> → target/<profile>/examples/axum_receiver
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = profile_dir
        .join("examples")
        .join(format!("axum_receiver{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: `cargo test` builds it (or `cargo build --example axum_receiver`)",
        binary.display()
    );
    binary
}

/// The example binary running as a child process, on a port of its own, with its log in a file.
pub struct Process {
    child: Child,
    pub address: SocketAddr,
    pub log: PathBuf,
}

impl Process {
    /// Starts the binary with `SMOOCH_STORE=db`, the two secrets, `127.0.0.1:0`, and `env`; waits
    /// for its "listening" line (at most 20 s) and reads the address from it.
    pub fn start(db: &Path, log: &Path, env: &[(&str, &str)]) -> Process {
        let log_file = std::fs::File::create(log).unwrap();
        let mut command = Command::new(receiver_binary());
        command
            .env_clear()
            .env("SMOOCH_WEBHOOK_SECRETS", format!("{NEXT},{CURRENT}"))
            .env("SMOOCH_LISTEN", "127.0.0.1:0")
            .env("SMOOCH_STORE", db)
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
            log: log.to_owned(),
        };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(line) = text.lines().find(|line| line.contains("listening")) {
                let address = line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("address="))
                    .expect("the listening line names the address");
                process.address = address.parse().unwrap();
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
