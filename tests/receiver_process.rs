//! The `axum_receiver` example as a real process (the binary `cargo test` builds), on loopback,
//! with its store in a temporary directory: SIGKILL midway, SIGTERM with a stalled client,
//! hundreds of connections stuck in their headers, and what its log shows.

mod common;
mod receiver_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fixture;
use receiver_support::*;

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

/// Waits, at most `limit`, until every stored webhook is `done`.
async fn every_webhook_done(db: &std::path::Path, limit: Duration) {
    eventually(limit, "every webhook done", || {
        stored_rows(db)
            .iter()
            .all(|row| row.state == "done")
            .then_some(())
    })
    .await;
}

/// How many rows hold each body.
fn copies(db: &std::path::Path) -> BTreeMap<Vec<u8>, usize> {
    let mut copies = BTreeMap::new();
    for row in stored_rows(db) {
        *copies.entry(row.body).or_default() += 1;
    }
    copies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_midway_loses_nothing_answered_200_and_a_restart_stores_retries_once() {
    const BODIES: usize = 3000;
    const CONNECTIONS: usize = 32;
    const KILL_AFTER: usize = 1000;

    bounded(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let mut process = Process::start(&db, &dir.path().join("first.log"), &[]);
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
            (answered.load(Relaxed) >= KILL_AFTER).then_some(())
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
        let stored = copies(&db);
        for &i in &ok {
            assert_eq!(stored.get(&bodies[i]), Some(&1), "body {i} answered 200");
        }
        assert!(stored.values().all(|&n| n == 1));
        assert!(stored.keys().all(|body| bodies.contains(body)));
        let in_flight = stored.len() - ok.len();
        assert!(in_flight <= CONNECTIONS, "{in_flight} stored without an answer");

        // Restart on the same file; resend every tenth body answered 200 (retries) and the first
        // 300 never answered: all 200, each body still stored once.
        let mut process = Process::start(&db, &dir.path().join("second.log"), &[]);
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
        let stored = copies(&db);
        for &i in ok.iter().chain(&resend) {
            assert_eq!(stored.get(&bodies[i]), Some(&1), "body {i}");
        }
        assert!(stored.values().all(|&n| n == 1));
        let expected: BTreeSet<usize> = ok.iter().chain(&resend).copied().collect();
        assert!(stored.len() >= expected.len() && stored.len() <= expected.len() + in_flight);

        // What the first process had not done, the second does.
        every_webhook_done(&db, Duration::from_secs(30)).await;
        process.terminate();
        let status = process
            .wait_within(Duration::from_secs(15))
            .expect("exits after SIGTERM");
        assert!(status.success(), "{status}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_client_stalled_mid_body_exits_within_the_deadline_and_loses_nothing() {
    bounded(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let deadline = Duration::from_secs(2);
        let mut process = Process::start(
            &db,
            &dir.path().join("receiver.log"),
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
        let stored = copies(&db);
        assert_eq!(stored.len(), 201);
        assert!(bodies.iter().all(|body| stored.get(body) == Some(&1)));
        assert!(!stored.contains_key(&body), "the stalled body was never whole");
        let mut process = Process::start(&db, &dir.path().join("again.log"), &[]);
        every_webhook_done(&db, Duration::from_secs(20)).await;
        process.terminate();
        assert!(process.wait_within(Duration::from_secs(15)).unwrap().success());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_connections_stuck_in_their_headers_do_not_stop_a_real_request() {
    const STUCK: usize = 300;

    bounded(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let mut process = Process::start(
            &db,
            &dir.path().join("receiver.log"),
            &[("SMOOCH_HEADER_TIMEOUT", "1s")],
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
        assert_eq!(stored_rows(&db).len(), 1);

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
        process.terminate();
        assert!(process.wait_within(Duration::from_secs(15)).unwrap().success());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_one_escaped_line_per_request_and_no_secret_or_message_text() {
    bounded(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("webhooks.sqlite3");
        let mut process = Process::start(&db, &dir.path().join("receiver.log"), &[]);
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
        every_webhook_done(&db, Duration::from_secs(20)).await;
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
