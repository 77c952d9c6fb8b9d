//! The store under faults (issue 26, defects 1 to 6), each shown from outside: the binary as a
//! process, real HTTP on loopback, a real SQLite file and a real PostgreSQL, an operator's lock,
//! a TCP proxy that black-holes the database connections, a sink slower than the lease.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::proxy::Proxy;
use support::sink::{Answer, Sink};
use support::*;

on_both_stores!(
    a_nul_character_in_a_text_field_is_stored_and_kept_like_any_other,
    a_row_that_cannot_be_written_alone_does_not_fail_the_others_of_its_group,
    memory_stays_under_the_budget_while_the_store_is_stuck,
    readyz_is_503_while_the_store_cannot_write,
);

/// Bodies with a NUL character (`\u0000`) where the store keeps text: the trigger, the app id, a
/// v2 event type; and one refused (a key twice) whose error quotes the key that holds a NUL.
fn nul_bodies(seq: usize) -> (Vec<Vec<u8>>, Vec<u8>) {
    let accepted = vec![
        format!(
            r#"{{"seq":{seq},"trigger":"message:appUser\u0000","app":{{"_id":"5698edbf2a43bd081be982f1"}},"appUser":{{"_id":"u1"}}}}"#
        ),
        format!(
            r#"{{"seq":{seq},"trigger":"conversation:read","app":{{"_id":"app\u0000id"}},"appUser":{{"_id":"u2"}},"timestamp":1480349392.103}}"#
        ),
        format!(
            r#"{{"seq":{seq},"app":{{"id":"a\u0000"}},"webhook":{{"id":"w","version":"v2"}},"events":[{{"id":"e{seq}\u0000","type":"conversation:message\u0000","createdAt":"2020-09-30T15:14:29.834Z"}}]}}"#
        ),
    ];
    let refused =
        format!(r#"{{"seq":{seq},"trigger":"client:add","appUser":{{"_id":"u"}},"k\u0000":1,"k\u0000":2}}"#);
    (
        accepted.into_iter().map(String::into_bytes).collect(),
        refused.into_bytes(),
    )
}

fn log_path(store: &TestStore, name: &str) -> std::path::PathBuf {
    store.dir().join(format!(
        "{name}-{}-{:?}.log",
        std::process::id(),
        std::thread::current().id()
    ))
}

async fn a_nul_character_in_a_text_field_is_stored_and_kept_like_any_other(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let process = Process::start(&store.location(), &log_path(&store, "nul"), &[]);
        let (accepted, refused) = nul_bodies(0);
        let mut client = Client::connect(process.address).await;
        for body in &accepted {
            let response = client.post(Some(CURRENT), body).await;
            assert_eq!(
                response.status,
                200,
                "{response:?}: {}",
                String::from_utf8_lossy(body)
            );
        }
        let mut client = Client::connect(process.address).await;
        let response = client.post(Some(CURRENT), &refused).await;
        assert_eq!(response.status, 400, "{response:?}");

        let rows = store.rows().await;
        assert_eq!(rows.len(), 3);
        for (row, body) in rows.iter().zip(&accepted) {
            assert_eq!(&row.body, body, "exactly as received");
            assert!(!row.kinds.contains('\0') && !row.app_id.as_deref().unwrap_or("").contains('\0'));
        }
        assert_eq!(rows[0].kinds, "message:appUser\\u0000");
        assert_eq!(rows[1].app_id.as_deref(), Some("app\\u0000id"));
        assert_eq!(rows[2].kinds, "conversation:message\\u0000");
        let letters = store.dead_letters().await;
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].body, refused, "kept exactly as received");
        assert_eq!(letters[0].status, 400);
        assert!(letters[0].error.contains("duplicate key"), "{}", letters[0].error);
        process.stop();
    })
    .await;
}

async fn a_row_that_cannot_be_written_alone_does_not_fail_the_others_of_its_group(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let process = Process::start(&store.location(), &log_path(&store, "group"), &[]);
        let address = process.address;
        // 40 ordinary requests at once, and the NUL ones in their middle, three times over.
        let ordinary = Arc::new(distinct_bodies(120));
        let mut tasks = Vec::new();
        for round in 0..3 {
            for connection in 0..40 {
                let ordinary = Arc::clone(&ordinary);
                tasks.push(tokio::spawn(async move {
                    let mut client = Client::connect(address).await;
                    client
                        .post(Some(CURRENT), &ordinary[round * 40 + connection])
                        .await
                        .status
                }));
                if connection == 20 {
                    let (accepted, refused) = nul_bodies(round + 1);
                    for body in accepted {
                        tasks.push(tokio::spawn(async move {
                            let mut client = Client::connect(address).await;
                            client.post(Some(CURRENT), &body).await.status
                        }));
                    }
                    tasks.push(tokio::spawn(async move {
                        let mut client = Client::connect(address).await;
                        client.post(Some(CURRENT), &refused).await.status + 1000
                    }));
                }
            }
        }
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for task in tasks {
            *statuses.entry(task.await.unwrap()).or_default() += 1;
        }
        // Every accepted one 200 (120 ordinary, 9 with a NUL), every refused one 400.
        assert_eq!(statuses, BTreeMap::from([(200, 129), (1400, 3)]));
        assert_eq!(store.rows().await.len(), 129);
        assert_eq!(store.dead_letters().await.len(), 3);
        process.stop();
    })
    .await;
}

/// A body of about `size` bytes: a fixture with `seq`, padded with spaces.
fn padded(seq: usize, size: usize) -> Vec<u8> {
    let mut body = with_seq(&fixture("postback.json"), seq);
    body.resize(size, b' ');
    body
}

async fn memory_stays_under_the_budget_while_the_store_is_stuck(store: TestStore) {
    const BODY: usize = 512 * 1024;
    const CLIENTS: usize = 8;
    bounded(Duration::from_secs(90), async {
        let process = Process::start(
            &store.location(),
            &log_path(&store, "stuck"),
            &[
                ("SMOOCH_MAX_BODY", "1MiB"),
                ("SMOOCH_MAX_DEAD_LETTER", "1MiB"),
                ("SMOOCH_MAX_BUFFERED", "8MiB"),
                ("SMOOCH_STORE_TIMEOUT", "500ms"),
                ("SMOOCH_MEMORY_WAIT", "200ms"),
            ],
        );
        let address = process.address;
        // Warm up: the same size of bodies stored, so that the allocator has its arenas (a 503
        // while the store opens its connections, under the short timeout, is sent again).
        for seq in 0..20 {
            assert_eq!(post_retrying(address, &padded(seq, BODY)).await, 200);
        }
        let before = rss_kib(process.pid());
        let lock = store.lock_writes().await;
        // For 6 s, clients post large bodies as fast as they are answered (503: no room, or the
        // store is too slow); the memory is sampled meanwhile.
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(async move {
                    let mut answered = BTreeMap::<u16, usize>::new();
                    for i in 0..200 {
                        if started.elapsed() > Duration::from_secs(6) {
                            break;
                        }
                        let body = padded(1000 + c * 1000 + i, BODY);
                        let mut client = Client::connect(address).await;
                        let status = client
                            .try_post(Some(CURRENT), &body)
                            .await
                            .map_or(0, |r| r.status);
                        *answered.entry(status).or_default() += 1;
                    }
                    answered
                })
            })
            .collect();
        let mut peak = before;
        while started.elapsed() < Duration::from_secs(7) {
            peak = peak.max(rss_kib(process.pid()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut answered = BTreeMap::<u16, usize>::new();
        for client in clients {
            for (status, count) in client.await.unwrap() {
                *answered.entry(status).or_default() += count;
            }
        }
        let grown_mib = (peak.saturating_sub(before)) as f64 / 1024.0;
        // The budget (8 MiB) and what the documented overhead allows (connections' buffers,
        // the allocator's slack), far from the 40+ MiB of bodies posted meanwhile.
        assert!(
            grown_mib < 24.0,
            "the memory grew by {grown_mib:.1} MiB during the stall (answers: {answered:?})"
        );
        assert!(
            answered.get(&503).copied().unwrap_or(0) >= CLIENTS,
            "503s during the stall: {answered:?}"
        );
        lock.release().await;
        // Once the store writes again, bodies are stored again.
        let mut client = Client::connect(address).await;
        let after = eventually(Duration::from_secs(20), "a 200 after the stall", || {
            let body = padded(99_999, 4096);
            async move {
                let mut client = Client::connect(address).await;
                (client.post(Some(CURRENT), &body).await.status == 200).then_some(())
            }
        });
        after.await;
        assert_eq!(
            client.post(Some(CURRENT), &padded(99_998, 4096)).await.status,
            200
        );
        process.stop();
    })
    .await;
}

async fn readyz_is_503_while_the_store_cannot_write(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let process = Process::start(
            &store.location(),
            &log_path(&store, "readyz"),
            &[
                ("SMOOCH_ADMIN_LISTEN", "127.0.0.1:0"),
                ("SMOOCH_STORE_TIMEOUT", "1s"),
            ],
        );
        let admin = process.admin.expect("an admin listener");
        assert_eq!(get(admin, "/readyz").await, (200, "ok".to_owned()));
        let lock = store.lock_writes().await;
        // Idle: no request has failed yet; /readyz finds it out by itself.
        let reason = eventually(Duration::from_secs(15), "readyz 503 during the lock", || async {
            let (status, text) = get(admin, "/readyz").await;
            (status == 503).then_some(text)
        })
        .await;
        assert!(reason.starts_with("store: "), "{reason}");
        // And a webhook is indeed not taken meanwhile.
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            503
        );
        lock.release().await;
        eventually(Duration::from_secs(15), "readyz 200 after the lock", || async {
            (get(admin, "/readyz").await.0 == 200).then_some(())
        })
        .await;
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        process.stop();
    })
    .await;
}

/// The address in a PostgreSQL URL (`host:port`, 5432 when the URL has no port).
fn database_address(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    host.replace("localhost", "127.0.0.1").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_holed_database_connections_are_replaced_and_shutdown_stays_bounded() {
    let Some(store) = TestStore::postgres("black_holed").await else {
        return;
    };
    bounded(Duration::from_secs(90), async {
        let proxy = Proxy::start(database_address(&store.location())).await;
        let url = with_port(&store.location(), proxy.address.port());
        let mut process = Process::start(
            &url,
            &log_path(&store, "black-holed"),
            &[("SMOOCH_STORE_TIMEOUT", "1s"), ("SMOOCH_SHUTDOWN_TIMEOUT", "3s")],
        );
        let address = process.address;
        // A burst first, so that every connection of the pool is open (and goes through the
        // proxy) when they are black-holed.
        // (A request answered 503 while the pool is opened, under the short store timeout of
        // the test, is sent again, as Smooch would.)
        let burst: Vec<_> = (0..64)
            .map(|seq| {
                tokio::spawn(async move {
                    post_retrying(address, &with_seq(&fixture("postback.json"), seq)).await
                })
            })
            .collect();
        for request in burst {
            assert_eq!(request.await.unwrap(), 200);
        }
        proxy.black_hole_open_connections();
        // The receiver finds out and opens new connections, which work: 200 again.
        let mut seq = 100;
        let recovered = Instant::now();
        eventually(Duration::from_secs(20), "a 200 through new connections", || {
            seq += 1;
            let body = with_seq(&fixture("postback.json"), seq);
            async move {
                let mut client = Client::connect(address).await;
                (client.post(Some(CURRENT), &body).await.status == 200).then_some(())
            }
        })
        .await;
        let recovered = recovered.elapsed();
        let mut client = Client::connect(address).await;
        for seq in 200..210 {
            let body = with_seq(&fixture("postback.json"), seq);
            assert_eq!(
                client.post(Some(CURRENT), &body).await.status,
                200,
                "after {recovered:?}"
            );
        }
        // Black-holed again, then SIGTERM: the exit comes within the shutdown deadline anyway.
        proxy.black_hole_open_connections();
        let mut stalled = Client::connect(address).await;
        let body = with_seq(&fixture("postback.json"), 300);
        let pending =
            tokio::spawn(async move { stalled.try_post(Some(CURRENT), &body).await.map(|r| r.status) });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stopping = Instant::now();
        process.terminate();
        let status = process
            .wait_within(Duration::from_secs(6))
            .unwrap_or_else(|| panic!("still running 6 s after SIGTERM: {}", process.log_text()));
        let took = stopping.elapsed();
        assert!(status.code().is_some(), "{status}");
        assert!(took < Duration::from_secs(6), "{took:?}");
        // The request in flight was not answered 200 unless stored.
        if pending.await.unwrap() == Some(200) {
            assert!(store
                .rows()
                .await
                .iter()
                .any(|row| row.body == with_seq(&fixture("postback.json"), 300)));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_longer_than_the_lease_is_not_taken_by_another_receiver() {
    let Some(store) = TestStore::postgres("longer_than_lease").await else {
        return;
    };
    bounded(Duration::from_secs(90), async {
        // Each POST takes 3 s; the lease is 1 s.
        let sink = Sink::start(|_| Answer::ok().after(Duration::from_secs(3))).await;
        let env = [
            ("SMOOCH_FORWARD_URL", sink.url()),
            ("SMOOCH_LEASE", "1s".to_owned()),
            ("SMOOCH_FORWARD_TIMEOUT", "10s".to_owned()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let first = Process::start(&store.location(), &log_path(&store, "lease-a"), &env);
        let second = Process::start(&store.location(), &log_path(&store, "lease-b"), &env);
        let mut client = Client::connect(first.address).await;
        let bodies: Vec<Vec<u8>> = (0..4)
            .map(|i| v2_message(&format!("conversation-{i}"), &format!("event-{i}"), "hi"))
            .collect();
        for body in &bodies {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        eventually(Duration::from_secs(60), "each body delivered", || async {
            let bodies_seen: std::collections::BTreeSet<Vec<u8>> =
                sink.got().into_iter().map(|got| got.body).collect();
            (bodies.iter().all(|body| bodies_seen.contains(body))).then_some(())
        })
        .await;
        // Longer than a lease and a claim: a second delivery would have started by now.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let mut deliveries: BTreeMap<String, usize> = BTreeMap::new();
        for got in sink.got() {
            *deliveries.entry(got.key().to_owned()).or_default() += 1;
        }
        assert_eq!(deliveries.len(), 4, "{deliveries:?}");
        assert!(
            deliveries.values().all(|&n| n == 1),
            "delivered more than once without a crash: {deliveries:?}"
        );
        first.stop();
        second.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_never_names_two_webhooks_after_the_retention_deleted_the_newest() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let sink = Sink::accepting().await;
        let process = Process::start(
            &store.location(),
            &log_path(&store, "keys"),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_RETENTION", "1s")],
        );
        let first = v2_message("conversation-a", "event-a", "first");
        let second = v2_message("conversation-b", "event-b", "second");
        let mut client = Client::connect(process.address).await;
        assert_eq!(client.post(Some(CURRENT), &first).await.status, 200);
        eventually(Duration::from_secs(10), "the first delivered", || async {
            (sink.count() == 1).then_some(())
        })
        .await;
        // The retention deletes it (it was the newest row).
        eventually(Duration::from_secs(20), "the first deleted", || async {
            store.rows().await.is_empty().then_some(())
        })
        .await;
        assert_eq!(client.post(Some(CURRENT), &second).await.status, 200);
        eventually(Duration::from_secs(10), "the second delivered", || async {
            (sink.count() == 2).then_some(())
        })
        .await;
        let got = sink.got();
        assert_eq!(got[0].body, first);
        assert_eq!(got[1].body, second);
        assert_ne!(got[0].key(), got[1].key(), "one key for two different webhooks");
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_change_under_a_running_receiver_costs_one_write_not_every_write() {
    let Some(store) = TestStore::postgres("stale_statements").await else {
        return;
    };
    bounded(Duration::from_secs(60), async {
        let process = Process::start(&store.location(), &log_path(&store, "stale"), &[]);
        let mut client = Client::connect(process.address).await;
        // The writer's connections prepare their statements on these.
        for i in 0..4 {
            let body = v2_message(&format!("conversation-{i}"), &format!("before-{i}"), "hi");
            assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        }
        // As a migration by a newer receiver could: a column that the writer's insert returns
        // changes type, so that the plans prepared before no longer fit ("cached plan must not
        // change result type").
        store
            .execute("ALTER TABLE deliveries ALTER COLUMN lane TYPE varchar(4000)")
            .await;
        // Each connection open then fails once at the most (503: Smooch sends the body again),
        // and is replaced; the pool has `WRITERS + 4` at the most.
        let mut statuses = Vec::new();
        for i in 0..24 {
            let body = v2_message(&format!("conversation-{i}"), &format!("after-{i}"), "hi");
            statuses.push(client.post(Some(CURRENT), &body).await.status);
        }
        let refused = statuses.iter().filter(|&&status| status != 200).count();
        assert!(
            refused <= smooch_receiver::store::postgres::WRITERS + 4
                && statuses[16..].iter().all(|&status| status == 200),
            "the connections that prepared the old plans kept failing: {statuses:?}"
        );
        process.stop();
    })
    .await;
}
