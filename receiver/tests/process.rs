//! The binary `smooch-receiver serve` as a real process, on loopback, with its store in a
//! temporary directory or a PostgreSQL schema: SIGKILL midway, SIGTERM with a stalled client,
//! thousands of connections stuck in their headers, a full disk, a long read, and what its log
//! shows.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

/// Sends `bodies[i]` for every `i` of `which`, spread over `connections` keep-alive connections;
/// returns the status of each request that got a whole response (a connection that fails stops
/// there: the process may have been killed). `answered` counts the 200s as they come.
async fn send_all(
    address: std::net::SocketAddr,
    bodies: Arc<Vec<Vec<u8>>>,
    which: Vec<usize>,
    connections: usize,
    answered: Arc<AtomicUsize>,
) -> BTreeMap<usize, u16> {
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let mine: Vec<usize> = which.iter().copied().skip(c).step_by(connections).collect();
            let bodies = Arc::clone(&bodies);
            let answered = Arc::clone(&answered);
            tokio::spawn(async move {
                let mut statuses = BTreeMap::new();
                let Some(mut client) = Client::try_connect(address).await else {
                    return statuses;
                };
                for (n, i) in mine.into_iter().enumerate() {
                    let key = if n % 2 == 0 { CURRENT } else { NEXT };
                    let Some(response) = client.try_post(Some(key), &bodies[i]).await else {
                        break;
                    };
                    if response.status == 200 {
                        answered.fetch_add(1, Relaxed);
                    }
                    statuses.insert(i, response.status);
                }
                statuses
            })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        statuses.extend(task.await.unwrap());
    }
    statuses
}

/// Waits, at most `limit`, until every delivery stored is done.
async fn every_webhook_done(store: &TestStore, limit: Duration) {
    store.all_done(1, limit).await;
}

/// How many rows hold each body.
async fn copies(store: &TestStore) -> BTreeMap<Vec<u8>, usize> {
    let mut copies = BTreeMap::new();
    for row in store.rows().await {
        *copies.entry(row.body).or_default() += 1;
    }
    copies
}

on_both_stores!(
    a_kill_midway_loses_nothing_answered_200_and_a_restart_stores_retries_once,
    sigterm_with_a_client_stalled_mid_body_exits_within_the_deadline_and_loses_nothing,
);

async fn a_kill_midway_loses_nothing_answered_200_and_a_restart_stores_retries_once(store: TestStore) {
    const BODIES: usize = 3000;
    const CONNECTIONS: usize = 32;
    const KILL_AFTER: usize = 1000;

    bounded(Duration::from_secs(90), async {
        let dir = tempfile::tempdir().unwrap();
        // A short lease: what the killed receiver had claimed comes back soon (PostgreSQL).
        let lease = [("SMOOCH_LEASE", "2s")];
        let mut process = Process::start(&store.location(), &dir.path().join("first.log"), &lease);
        let bodies = Arc::new(distinct_bodies(BODIES));
        let answered = Arc::new(AtomicUsize::new(0));
        let sending = tokio::spawn(send_all(
            process.address,
            Arc::clone(&bodies),
            (0..BODIES).collect(),
            CONNECTIONS,
            Arc::clone(&answered),
        ));
        eventually(Duration::from_secs(30), "a thousand 200s", || {
            let done = answered.load(Relaxed) >= KILL_AFTER;
            async move { done.then_some(()) }
        })
        .await;
        process.kill();
        let statuses = sending.await.unwrap();
        let ok: BTreeSet<usize> = statuses
            .iter()
            .filter(|(_, &s)| s == 200)
            .map(|(&i, _)| i)
            .collect();
        assert!(statuses.values().all(|&s| s == 200), "only 200s before the kill");
        assert!(
            ok.len() >= KILL_AFTER && ok.len() < BODIES,
            "killed midway: {} answered",
            ok.len()
        );

        // Every body answered 200 is in the store, once; nothing else but what was in flight.
        let stored = copies(&store).await;
        for &i in &ok {
            assert_eq!(stored.get(&bodies[i]), Some(&1), "body {i} answered 200");
        }
        assert!(stored.values().all(|&n| n == 1));
        assert!(stored.keys().all(|body| bodies.contains(body)));
        let in_flight = stored.len() - ok.len();
        assert!(in_flight <= CONNECTIONS, "{in_flight} stored without an answer");

        // Restart on the same file; resend every tenth body answered 200 (retries) and the first
        // 300 never answered: all 200, each body still stored once.
        let process = Process::start(&store.location(), &dir.path().join("second.log"), &lease);
        let retries: Vec<usize> = ok.iter().copied().step_by(10).collect();
        let unanswered: Vec<usize> = (0..BODIES).filter(|i| !ok.contains(i)).take(300).collect();
        let resend: Vec<usize> = retries.iter().chain(&unanswered).copied().collect();
        let statuses = send_all(
            process.address,
            Arc::clone(&bodies),
            resend.clone(),
            8,
            Arc::new(AtomicUsize::new(0)),
        )
        .await;
        assert_eq!(statuses.len(), resend.len());
        assert!(statuses.values().all(|&s| s == 200));
        let stored = copies(&store).await;
        for &i in ok.iter().chain(&resend) {
            assert_eq!(stored.get(&bodies[i]), Some(&1), "body {i}");
        }
        assert!(stored.values().all(|&n| n == 1));
        let expected: BTreeSet<usize> = ok.iter().chain(&resend).copied().collect();
        assert!(stored.len() >= expected.len() && stored.len() <= expected.len() + in_flight);

        // What the first process had not done, the second does.
        every_webhook_done(&store, Duration::from_secs(30)).await;
        process.stop();
    })
    .await;
}

async fn sigterm_with_a_client_stalled_mid_body_exits_within_the_deadline_and_loses_nothing(
    store: TestStore,
) {
    bounded(Duration::from_secs(60), async {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_owned();
        let deadline = Duration::from_secs(2);
        let mut process = Process::start(
            &store.location(),
            &dir.join("receiver.log"),
            &[
                ("SMOOCH_SHUTDOWN_TIMEOUT", "2s"),
                ("SMOOCH_BODY_TIMEOUT", "60s"),
                ("SMOOCH_HEADER_TIMEOUT", "60s"),
                ("SMOOCH_IDLE_TIMEOUT", "60s"),
            ],
        );
        let bodies = Arc::new(distinct_bodies(200));
        let statuses = send_all(
            process.address,
            Arc::clone(&bodies),
            (0..200).collect(),
            4,
            Arc::new(AtomicUsize::new(0)),
        )
        .await;
        assert!(statuses.len() == 200 && statuses.values().all(|&s| s == 200));

        // One client stalls halfway through a body, one idles on a kept-alive connection.
        let body = fixture("postback.json");
        let mut stalled = Client::connect(process.address).await;
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body[..body.len() / 2]);
        stalled.send(&request).await.unwrap();
        let mut idle = Client::connect(process.address).await;
        assert_eq!(
            idle.post(Some(CURRENT), &fixture("conversation_read.json"))
                .await
                .status,
            200
        );
        tokio::time::sleep(Duration::from_millis(200)).await;

        let signalled = Instant::now();
        process.terminate();
        // Both connections are closed, the stalled one without a 200. (That the idle one was closed
        // at once, not dropped at the deadline, the log says below: one connection dropped.)
        idle.closed_within(deadline + Duration::from_secs(5))
            .await
            .unwrap();
        stalled
            .closed_within(deadline + Duration::from_secs(5))
            .await
            .unwrap();
        let status = process
            .wait_within(deadline + Duration::from_secs(5))
            .unwrap_or_else(|| panic!("still running {:?} after SIGTERM", signalled.elapsed()));
        let took = signalled.elapsed();
        assert!(status.success(), "{status}");
        // It waited for the stalled request until the deadline (a lower bound only).
        assert!(took >= deadline - Duration::from_millis(200), "{took:?}");
        let log = process.log_text();
        assert!(
            log.contains("shutting down") && log.contains("dropped=1"),
            "{log}"
        );

        // Everything answered 200 is stored; what the application had not done waits for the next
        // start, which does it.
        let stored = copies(&store).await;
        assert_eq!(stored.len(), 201);
        assert!(bodies.iter().all(|body| stored.get(body) == Some(&1)));
        assert!(!stored.contains_key(&body), "the stalled body was never whole");
        let process = Process::start(&store.location(), &dir.join("again.log"), &[]);
        every_webhook_done(&store, Duration::from_secs(20)).await;
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_connections_stuck_in_their_headers_do_not_stop_a_real_request() {
    const STUCK: usize = 300;

    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let process = Process::start(
            &store.location(),
            &store.dir().join("receiver.log"),
            // All from one address: without the cap per address, only the timeout frees them.
            &[
                ("SMOOCH_HEADER_TIMEOUT", "1s"),
                ("SMOOCH_MAX_CONNECTIONS_PER_ADDRESS", "0"),
            ],
        );
        let mut stuck = Vec::new();
        for _ in 0..STUCK {
            let mut client = Client::connect(process.address).await;
            client
                .send(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ")
                .await
                .unwrap();
            stuck.push(client);
        }
        let stuck_since = Instant::now();

        let body = fixture("message_appUser_text.json");
        let mut real = Client::connect(process.address).await;
        assert_eq!(real.post(Some(CURRENT), &body).await.status, 200);
        assert_eq!(store.rows().await.len(), 1);

        // The server closes every one of them after its header timeout.
        for client in &mut stuck {
            client.closed_within(Duration::from_secs(10)).await.unwrap();
        }
        assert!(stuck_since.elapsed() >= Duration::from_millis(900));
        // And it is as available as before.
        let mut again = Client::connect(process.address).await;
        assert_eq!(
            again.post(Some(NEXT), &fixture("postback.json")).await.status,
            200
        );
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stalled_in_their_headers_on_the_admin_port_do_not_stop_the_receiver() {
    const STALLED: usize = 300;
    // The admin listener's documented caps (README, "Watch").
    const ADMIN_PER_ADDRESS: usize = 16;

    bounded(Duration::from_secs(90), async {
        let store = TestStore::sqlite();
        // Fewer file descriptors than stalled connections, as under `ulimit -n 256`.
        let process = Process::start_with_open_files(
            &store.location(),
            &store.dir().join("receiver.log"),
            &[
                ("SMOOCH_ADMIN_LISTEN", "127.0.0.1:0"),
                ("SMOOCH_HEADER_TIMEOUT", "1s"),
                ("SMOOCH_MAX_CONNECTIONS", "128"),
            ],
            256,
        );
        let admin = process.admin.expect("an admin listener");
        // One host opens connections to the admin port and never finishes their headers.
        let mut stalled = Vec::new();
        for _ in 0..STALLED {
            let Some(mut client) = Client::connect_within(admin, Duration::from_millis(500)).await else {
                break; // the backlog is full
            };
            let _ = client.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n").await;
            stalled.push((Instant::now(), client));
        }
        assert!(!stalled.is_empty());

        // Another host is served at once, on the webhook port and on the admin port.
        let other = "127.0.0.2".parse().unwrap();
        let mut client = Client::connect_from(other, process.address).await;
        let answered = tokio::time::timeout(
            Duration::from_secs(2),
            client.post(Some(CURRENT), &fixture("postback.json")),
        )
        .await
        .expect("a webhook answered within 2 s");
        assert_eq!(answered.status, 200);
        let mut probe = Client::connect_from(other, admin).await;
        probe
            .send(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let live = tokio::time::timeout(Duration::from_secs(2), probe.response())
            .await
            .expect("/livez answered within 2 s");
        assert_eq!((live.status, live.body.as_str()), (200, "ok"));

        // Every stalled connection is closed: those over the caps at once, the others after the
        // header timeout.
        let mut closing = tokio::task::JoinSet::new();
        for (opened, mut client) in stalled {
            closing.spawn(async move {
                client
                    .closed_within(Duration::from_secs(10))
                    .await
                    .map(|_| opened.elapsed())
            });
        }
        let mut held = 0;
        while let Some(closed) = closing.join_next().await {
            let open_for = closed.unwrap().expect("closed by the receiver");
            assert!(open_for < Duration::from_secs(5), "open for {open_for:?}");
            if open_for >= Duration::from_millis(800) {
                held += 1;
            }
        }
        assert!(
            (1..=ADMIN_PER_ADDRESS).contains(&held),
            "{held} held until the header timeout"
        );
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_one_escaped_line_per_request_and_no_secret_or_message_text() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let mut process = Process::start(&store.location(), &store.dir().join("receiver.log"), &[]);
        let client = Client::connect(process.address).await;

        let mut message: serde_json::Value =
            serde_json::from_slice(&fixture("message_appUser_text.json")).unwrap();
        message["messages"][0]["text"] = "the text nobody logs".into();
        message["app"]["_id"] = "app\n2026-01-01T00:00:00.000000Z  INFO webhook status=200 forged".into();
        let forged = serde_json::json!({
            "trigger": "client:add\r\n2026-01-01T00:00:00.000000Z ERROR forged\u{1b}[2J",
            "app": {"_id": "a\u{202e}b"}
        });
        let requests: [(Option<&str>, Vec<u8>, u16); 4] = [
            (Some(CURRENT), serde_json::to_vec(&message).unwrap(), 200),
            (Some(NEXT), serde_json::to_vec(&forged).unwrap(), 200),
            (
                Some(CURRENT),
                br#"{"trigger": "message:appUser", "messages": "the text nobody logs"}"#.to_vec(),
                400,
            ),
            (Some(ROTATED_OUT), b"{}".to_vec(), 401),
        ];
        for (key, body, status) in &requests {
            let mut client = Client::connect(process.address).await;
            assert_eq!(client.post(*key, body).await.status, *status);
        }
        drop(client);
        every_webhook_done(&store, Duration::from_secs(20)).await;
        process.terminate();
        assert!(process.wait_within(Duration::from_secs(15)).unwrap().success());

        let log = process.log_text();
        // One line per request, each a line of the receiver's own.
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| line.contains(" webhook status="))
            .collect();
        assert_eq!(lines.len(), requests.len(), "{log}");
        for line in log.lines() {
            assert!(line.starts_with("20") && line.as_bytes()[4] == b'-', "{line:?}");
            assert!(
                !line.contains("forged") || line.contains("\\u{a}") || line.contains("\\u{d}"),
                "{line}"
            );
            assert!(
                !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{line:?}"
            );
        }
        assert!(
            log.contains(
                "kinds=client:add\\u{d}\\u{a}2026-01-01T00:00:00.000000Z\\u{20}ERROR\\u{20}forged\\u{1b}[2J "
            ),
            "{log}"
        );
        assert!(log.contains("app=a\\u{202e}b "), "{log}");
        for secret in [CURRENT, NEXT, ROTATED_OUT] {
            assert!(!log.contains(secret), "a secret in the log: {log}");
        }
        assert!(
            !log.contains("the text nobody logs"),
            "message text at the default level: {log}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_senders_from_one_address_cannot_delay_a_real_request_at_the_defaults() {
    const SLOW: usize = 2000;

    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        // The defaults: nothing set but the store, the secrets and the address.
        let process = Process::start(&store.location(), &store.dir().join("receiver.log"), &[]);
        // One host opens two thousand connections and sends a few bytes of headers on each.
        let mut slow = Vec::new();
        for _ in 0..SLOW {
            match Client::try_connect(process.address).await {
                Some(mut client) => {
                    let _ = client.send(b"POST /webhook HTTP/1.1\r\nHost: x\r\n").await;
                    slow.push(client);
                }
                None => break,
            }
        }
        // A real request from another host is answered within a second.
        let real = "127.0.0.2".parse().unwrap();
        let started = Instant::now();
        let mut client = Client::connect_from(real, process.address).await;
        let response = client.post(Some(CURRENT), &fixture("postback.json")).await;
        let took = started.elapsed();
        assert_eq!(response.status, 200);
        assert!(took < Duration::from_secs(1), "the real request took {took:?}");
        drop(slow);
        process.stop();
    })
    .await;
}

/// The log lines of requests (`webhook status=…`).
fn request_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains(" webhook status="))
        .collect()
}

/// The value of `field=` in `line`.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name}= in {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_leaves_one_log_line_with_a_field_for_each_id_whatever_its_end() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let process = Process::start(
            &store.location(),
            &store.dir().join("receiver.log"),
            &[("SMOOCH_HEADER_TIMEOUT", "500ms")],
        );
        // Stored, and refused (a dead letter).
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        assert_eq!(client.post(Some(CURRENT), b"[]").await.status, 400);

        // A client that goes away while its body is being stored: the store waits for a lock an
        // operator holds; the row is stored after the client left, and the line says so.
        let TestStore::Sqlite { path, .. } = &store else {
            unreachable!()
        };
        let lock = open(path);
        lock.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut gone = Client::connect(process.address).await;
        let body = fixture("conversation_start.json");
        let mut request = head(Some(CURRENT), body.len());
        request.extend_from_slice(&body);
        gone.send(&request).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(gone);
        tokio::time::sleep(Duration::from_millis(200)).await;
        lock.execute_batch("COMMIT").unwrap();
        eventually(
            Duration::from_secs(10),
            "the row of the client that left",
            || async { (store.rows().await.len() == 2).then_some(()) },
        )
        .await;

        // Refused by hyper before the handler: a malformed request line, headers too large.
        let mut bad = Client::connect(process.address).await;
        bad.send(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
        assert_eq!(bad.response().await.status, 400);
        let mut large = Client::connect(process.address).await;
        let mut head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', 32 * 1024));
        let _ = large.send(&head).await;
        assert_eq!(large.response().await.status, 431);
        // Headers that never end: the header timeout closes the connection.
        let mut slow = Client::connect(process.address).await;
        slow.send(b"POST /webhook HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.closed_within(Duration::from_secs(5)).await.unwrap();
        process.stop();
        let log = std::fs::read_to_string(store.dir().join("receiver.log")).unwrap();
        let lines = request_lines(&log);
        assert_eq!(lines.len(), 6, "{log}");
        let rows = store.rows().await;
        let letters = store.dead_letters().await;
        let outcomes: Vec<(&str, &str, &str, &str)> = lines
            .iter()
            .map(|line| {
                (
                    field(line, "status"),
                    field(line, "outcome"),
                    field(line, "webhook_id"),
                    field(line, "dead_letter_id"),
                )
            })
            .collect();
        let (first, left) = (rows[0].id.to_string(), rows[1].id.to_string());
        let letter = letters[0].id.to_string();
        assert_eq!(
            outcomes,
            [
                ("200", "stored", first.as_str(), "-"),
                ("400", "invalid", "-", letter.as_str()),
                ("200", "stored", left.as_str(), "-"),
                ("400", "bad", "-", "-"),
                ("431", "headers", "-", "-"),
                ("-", "header", "-", "-"),
            ]
        );
        // (Outcomes of more than one word end at their first space: "bad request", "headers too
        // large", "header timeout".)
        assert!(lines[3].contains("outcome=bad request"), "{}", lines[3]);
        assert!(lines[4].contains("outcome=headers too large"), "{}", lines[4]);
        assert!(lines[5].contains("outcome=header timeout"), "{}", lines[5]);
        assert!(!log.contains(" row="), "{log}");
    })
    .await;
}

/// Whether this process may mount a file system (root, with mount(8)).
fn can_mount() -> bool {
    std::process::Command::new("mount")
        .arg("--version")
        .output()
        .is_ok()
        && std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
            status
                .lines()
                .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
        })
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_never_answers_a_false_200_exits_1_and_logs_once_per_change() {
    assert!(can_mount(), "this test mounts a tmpfs: it runs as root (CI does)");
    bounded(Duration::from_secs(60), async {
        let disk = Tmpfs::mount("4m");
        let db = disk.0.path().join("webhooks.sqlite3");
        let log = std::env::temp_dir().join(format!("full-disk-{}.log", std::process::id()));
        let mut process = Process::start(db.to_str().unwrap(), &log, &[("SMOOCH_WAL_LIMIT", "512KiB")]);
        // Fill the disk but for a little room.
        let filler = disk.0.path().join("filler");
        let free = {
            let output = std::process::Command::new("df")
                .args(["--output=avail", "-B1"])
                .arg(disk.0.path())
                .output()
                .unwrap();
            String::from_utf8(output.stdout)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        };
        std::fs::write(&filler, vec![0u8; free.saturating_sub(256 * 1024) as usize]).unwrap_or(());
        // Send until the receiver gives up; remember what was answered 200.
        let bodies = distinct_bodies(4000);
        let mut answered = Vec::new();
        let mut client = Client::connect(process.address).await;
        for body in &bodies {
            match client.try_post(Some(CURRENT), body).await {
                Some(response) if response.status == 200 => answered.push(body.clone()),
                Some(response) => {
                    assert_eq!(response.status, 503, "{response:?}");
                    match Client::try_connect(process.address).await {
                        Some(again) => client = again,
                        None => break,
                    }
                }
                None => match Client::try_connect(process.address).await {
                    Some(again) => client = again,
                    None => break,
                },
            }
        }
        let status = process
            .wait_within(Duration::from_secs(20))
            .expect("the receiver exits once the disk is full");
        assert_eq!(
            status.code(),
            Some(1),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(!answered.is_empty());
        // Room again: every body answered 200 is in the database, which opens whole.
        std::fs::remove_file(&filler).unwrap();
        let store = TestStore::Sqlite {
            dir: tempfile::tempdir().unwrap(),
            path: db.clone(),
        };
        let stored: BTreeSet<Vec<u8>> = store.rows().await.into_iter().map(|row| row.body).collect();
        for body in &answered {
            assert!(stored.contains(body), "a 200 that is not on disk");
        }
        let check: String = open(&db)
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        // A failure retried hundreds of times a second is logged when it starts, not each time.
        let text = std::fs::read_to_string(&log).unwrap();
        let checkpoint_lines = text
            .lines()
            .filter(|line| line.contains("checkpoint failed"))
            .count();
        assert!(checkpoint_lines <= 1, "{checkpoint_lines} lines:\n{text}");
        let _ = std::fs::remove_file(&log);
        drop(store);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_brought_back_to_its_limit_once_a_long_read_ends() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let TestStore::Sqlite { path, .. } = &store else {
            unreachable!()
        };
        let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
        let limit: u64 = 1 << 20;
        let process = Process::start(
            &store.location(),
            &store.dir().join("receiver.log"),
            &[("SMOOCH_WAL_LIMIT", "1MiB")],
        );
        let bodies = Arc::new(distinct_bodies(6000));
        // A long read (an operator's query) holds a snapshot while webhooks come.
        let reader = open(path);
        reader.execute_batch("BEGIN").unwrap();
        let count: i64 = reader
            .query_row("SELECT count(*) FROM webhooks", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 0);
        let statuses = send_all(
            process.address,
            Arc::clone(&bodies),
            (0..3000).collect(),
            8,
            Arc::new(AtomicUsize::new(0)),
        )
        .await;
        assert!(statuses.values().all(|&s| s == 200));
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > 2 * limit, "the WAL grew during the read: {grown} bytes");
        reader.execute_batch("COMMIT").unwrap();
        drop(reader);
        // The read is over; webhooks keep coming: the WAL is copied and cut back to the limit.
        let rest: Vec<usize> = (3000..6000).collect();
        let mut shrunk = None;
        for chunk in rest.chunks(300) {
            let statuses = send_all(
                process.address,
                Arc::clone(&bodies),
                chunk.to_vec(),
                4,
                Arc::new(AtomicUsize::new(0)),
            )
            .await;
            assert!(statuses.values().all(|&s| s == 200));
            let size = std::fs::metadata(&wal).unwrap().len();
            if size <= limit + 64 * 1024 {
                shrunk = Some(size);
                break;
            }
        }
        assert!(
            shrunk.is_some(),
            "the WAL stayed at {} bytes",
            std::fs::metadata(&wal).unwrap().len()
        );
        process.stop();
    })
    .await;
}
