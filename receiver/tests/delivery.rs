//! The delivery (issue 23), over real HTTP with a sink on loopback, on both stores: each event
//! delivered once, in order within its conversation, conversations side by side, a failing one
//! holding only itself; two receivers on one PostgreSQL with one killed mid-delivery; a database
//! written by the receiver of before carried over.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::sink::{Answer, Got, Sink};
use support::*;

on_both_stores!(
    each_conversation_is_delivered_in_order_while_conversations_go_side_by_side,
    a_conversation_the_service_keeps_refusing_holds_only_itself,
    one_event_in_three_bodies_is_delivered_once,
    a_body_with_events_of_two_conversations_keeps_both_orders,
    a_conversation_with_many_events_waiting_does_not_hold_back_one_with_a_single_event,
    a_database_written_before_deliveries_is_carried_over,
);

/// The conversation and the text of a delivered `conversation:message` body.
fn message_of(got: &Got) -> (String, String) {
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    let events = body["events"].as_array().expect("an events array");
    assert_eq!(events.len(), 1, "one event per delivery");
    let payload = &events[0]["payload"];
    (
        payload["conversation"]["id"].as_str().unwrap().to_owned(),
        payload["message"]["content"]["text"].as_str().unwrap().to_owned(),
    )
}

/// For each conversation, the texts in the order the sink got them, each key once (its first
/// arrival: a delivery again after a crash is a duplicate, the same key).
fn orders(got: &[Got]) -> BTreeMap<String, Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut orders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for post in got {
        if seen.insert(post.key().to_owned()) {
            let (conversation, text) = message_of(post);
            orders.entry(conversation).or_default().push(text);
        }
    }
    orders
}

/// Posts, for each conversation in parallel, its messages one after the other (each once the
/// previous one was answered 200): the order they arrive in is theirs.
async fn post_conversations(
    address: std::net::SocketAddr,
    conversations: usize,
    messages: usize,
    prefix: &str,
) {
    let tasks: Vec<_> = (0..conversations)
        .map(|c| {
            let prefix = prefix.to_owned();
            tokio::spawn(async move {
                let mut client = Client::connect(address).await;
                for m in 0..messages {
                    let body = v2_message(
                        &format!("{prefix}{c}"),
                        &format!("{prefix}{c}-{m}"),
                        &format!("{m}"),
                    );
                    assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn log(store: &TestStore, name: &str) -> std::path::PathBuf {
    store.dir().join(format!(
        "{name}-{}-{:?}.log",
        std::process::id(),
        std::thread::current().id()
    ))
}

async fn each_conversation_is_delivered_in_order_while_conversations_go_side_by_side(store: TestStore) {
    const CONVERSATIONS: usize = 20;
    const MESSAGES: usize = 10;
    bounded(Duration::from_secs(90), async {
        // The service takes 0 to 15 ms a POST, by its key.
        let delay = |key: &str| Duration::from_millis(u64::from_str_radix(&key[..2], 16).unwrap() % 16);
        let sink = Sink::start(move |got| Answer::ok().after(delay(got.key()))).await;
        let process = Process::start(
            &store.location(),
            &log(&store, "order"),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_CONCURRENCY", "8")],
        );
        post_conversations(process.address, CONVERSATIONS, MESSAGES, "c").await;
        store
            .all_done(CONVERSATIONS * MESSAGES, Duration::from_secs(60))
            .await;
        let got = sink.got();
        assert_eq!(got.len(), CONVERSATIONS * MESSAGES, "each once");
        let expected: Vec<String> = (0..MESSAGES).map(|m| m.to_string()).collect();
        for (conversation, texts) in orders(&got) {
            assert_eq!(texts, expected, "{conversation} out of order");
        }
        // How many the service had at once: each POST from its arrival to its answer.
        let spans: Vec<(Instant, Instant)> = got
            .iter()
            .map(|got| (got.at, got.at + delay(got.key())))
            .collect();
        let most = spans
            .iter()
            .map(|(start, _)| {
                spans
                    .iter()
                    .filter(|(from, to)| from <= start && start < to)
                    .count()
            })
            .max()
            .unwrap();
        assert!(most >= 2, "never two deliveries at once");
        assert!(most <= 8, "{most} at once, over SMOOCH_CONCURRENCY");
        process.stop();
    })
    .await;
}

async fn a_conversation_the_service_keeps_refusing_holds_only_itself(store: TestStore) {
    bounded(Duration::from_secs(90), async {
        let sink = Sink::start(|got| {
            if message_of(got).0 == "stuck" {
                Answer::status(500)
            } else {
                Answer::ok().after(Duration::from_millis(5))
            }
        })
        .await;
        let process = Process::start(
            &store.location(),
            &log(&store, "stuck"),
            &[
                ("SMOOCH_FORWARD_URL", &sink.url()),
                ("SMOOCH_MAX_ATTEMPTS", "1000"),
            ],
        );
        let mut client = Client::connect(process.address).await;
        for m in 0..3 {
            let body = v2_message("stuck", &format!("stuck-{m}"), &m.to_string());
            assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        }
        post_conversations(process.address, 10, 5, "free").await;
        // Every other conversation delivered, while the stuck one is still tried again.
        eventually(
            Duration::from_secs(30),
            "the 50 others delivered, the stuck one tried thrice",
            || async {
                let got = sink.got();
                let delivered: BTreeSet<String> = got
                    .iter()
                    .filter(|got| message_of(got).0 != "stuck")
                    .map(|got| got.key().to_owned())
                    .collect();
                let tries = got.iter().filter(|got| message_of(got).0 == "stuck").count();
                (delivered.len() == 50 && tries >= 3).then_some(())
            },
        )
        .await;
        let got = sink.got();
        let stuck: Vec<String> = got
            .iter()
            .filter(|got| message_of(got).0 == "stuck")
            .map(|got| message_of(got).1)
            .collect();
        // Its first message, again and again; never the second (in order, one at a time).
        assert!(stuck.iter().all(|text| text == "0"), "{stuck:?}");
        let deliveries = store.deliveries().await;
        assert_eq!(
            deliveries.iter().filter(|d| !d.done).count(),
            3,
            "the stuck ones wait"
        );
        for (conversation, texts) in orders(&got) {
            if conversation != "stuck" {
                assert_eq!(texts, ["0", "1", "2", "3", "4"], "{conversation}");
            }
        }
        process.stop();
    })
    .await;
}

async fn one_event_in_three_bodies_is_delivered_once(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let sink = Sink::accepting().await;
        let process = Process::start(
            &store.location(),
            &log(&store, "once"),
            &[("SMOOCH_FORWARD_URL", &sink.url())],
        );
        let event = v2_message_event("conversation-a", "the-event", "hello");
        let other = v2_message_event("conversation-b", "another-event", "bonjour");
        let alone = v2_body(std::slice::from_ref(&event));
        // The same event serialized otherwise (a retry by another serializer), and batched.
        let respaced = String::from_utf8(alone.clone())
            .unwrap()
            .replace(",", ", ")
            .into_bytes();
        let batched = v2_body(&[other.clone(), event.clone()]);
        let mut client = Client::connect(process.address).await;
        for body in [&alone, &respaced, &batched] {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        let deliveries = store.all_done(2, Duration::from_secs(20)).await;
        assert_eq!(deliveries.len(), 2, "the event once, and the other one");
        let webhooks = store.rows().await;
        assert_eq!(webhooks.len(), 3, "every body kept");
        let bodies: Vec<&[u8]> = webhooks.iter().map(|row| row.body.as_slice()).collect();
        assert_eq!(
            bodies,
            [alone.as_slice(), respaced.as_slice(), batched.as_slice()]
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got = sink.got();
        assert_eq!(got.len(), 2);
        let texts: BTreeSet<String> = got.iter().map(|got| message_of(got).1).collect();
        assert_eq!(texts, BTreeSet::from(["hello".to_owned(), "bonjour".to_owned()]));
        // The event as first received: the body alone, byte for byte.
        let hello = got.iter().find(|got| message_of(got).1 == "hello").unwrap();
        assert_eq!(hello.body, alone);
        process.stop();
    })
    .await;
}

async fn a_body_with_events_of_two_conversations_keeps_both_orders(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let sink = Sink::start(|_| Answer::ok().after(Duration::from_millis(3))).await;
        let process = Process::start(
            &store.location(),
            &log(&store, "two"),
            &[("SMOOCH_FORWARD_URL", &sink.url())],
        );
        let a = |m: usize| v2_message_event("a", &format!("a-{m}"), &m.to_string());
        let b = |m: usize| v2_message_event("b", &format!("b-{m}"), &m.to_string());
        let bodies = [
            v2_body(&[a(0), b(0)]),
            v2_body(&[b(1), a(1), b(2)]),
            v2_body(&[a(2)]),
            v2_body(&[b(3), a(3)]),
        ];
        let mut client = Client::connect(process.address).await;
        for body in &bodies {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        store.all_done(8, Duration::from_secs(20)).await;
        let got = sink.got();
        assert_eq!(got.len(), 8);
        let orders = orders(&got);
        assert_eq!(orders["a"], ["0", "1", "2", "3"]);
        assert_eq!(orders["b"], ["0", "1", "2", "3"]);
        // Each a body as Smooch could have sent it: the app, the webhook, that event byte for byte.
        for post in &got {
            let text = String::from_utf8(post.body.clone()).unwrap();
            let (conversation, m) = message_of(post);
            let event = v2_message_event(&conversation, &format!("{conversation}-{m}"), &m);
            assert_eq!(post.body, v2_body(&[event]), "{text}");
        }
        process.stop();
    })
    .await;
}

async fn a_conversation_with_many_events_waiting_does_not_hold_back_one_with_a_single_event(
    store: TestStore,
) {
    const LONG: usize = 300;
    bounded(Duration::from_secs(90), async {
        // One delivery at a time, each 5 ms once the gate is open: the first of the long lane
        // waits at the gate while the rest of it, then the short one, are stored behind it.
        let (open, gate) = tokio::sync::watch::channel(false);
        let sink = Sink::start(move |_| Answer::ok().after(Duration::from_millis(5)).behind(&gate)).await;
        let process = Process::start(
            &store.location(),
            &log(&store, "fair"),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_CONCURRENCY", "1")],
        );
        let mut client = Client::connect(process.address).await;
        for m in 0..LONG {
            let body = v2_message("long", &format!("long-{m}"), &m.to_string());
            assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        }
        let short = v2_message("short", "short-0", "0");
        assert_eq!(client.post(Some(CURRENT), &short).await.status, 200);
        eventually(Duration::from_secs(10), "the first at the gate", || async {
            (sink.count() == 1).then_some(())
        })
        .await;
        let _ = open.send(true);
        store.all_done(LONG + 1, Duration::from_secs(60)).await;
        let got = sink.got();
        let at = got.iter().position(|got| message_of(got).0 == "short").unwrap();
        // Its turn came after at most a few of the long lane's (the one in flight, the next).
        assert!(at <= 3, "the single event waited behind {at} others");
        process.stop();
    })
    .await;
}

async fn a_database_written_before_deliveries_is_carried_over(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        // The tables of the receiver of before (schema 2 on SQLite, 1 on PostgreSQL), with what it
        // left: pending webhooks of two conversations, one set aside, one done.
        let sql = if store.is_postgres() {
            smooch_receiver::store::postgres::MIGRATIONS[0].1.to_owned()
        } else {
            let migrations = smooch_receiver::store::sqlite::MIGRATIONS;
            format!("{}; {}; PRAGMA user_version = 2;", migrations[0].1, migrations[1].1)
        };
        store.execute(&sql).await;
        if store.is_postgres() {
            store
                .execute(
                    "CREATE TABLE smooch_receiver_schema (version integer PRIMARY KEY, \
                     applied_at timestamptz NOT NULL DEFAULT now()); \
                     INSERT INTO smooch_receiver_schema (version) VALUES (1)",
                )
                .await;
        }
        let old = [
            (v2_message("x", "x-0", "0"), "pending", 0),
            (v2_message("y", "y-0", "0"), "pending", 0),
            (v2_message("x", "x-1", "1"), "pending", 0),
            (v2_message("x", "x-9", "9"), "failed", 5),
            (v2_message("y", "y-1", "1"), "done", 0),
            (v2_message("y", "y-2", "2"), "pending", 0),
        ];
        for (i, (body, state, attempts)) in old.iter().enumerate() {
            let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let key = {
                use sha2::Digest;
                sha2::Sha256::digest(body).to_vec()
            };
            let (key, body) = if store.is_postgres() {
                (format!("'\\x{}'::bytea", hex(&key)), format!("'\\x{}'::bytea", hex(body)))
            } else {
                (format!("x'{}'", hex(&key)), format!("x'{}'", hex(body)))
            };
            store
                .execute(&format!(
                    "INSERT INTO webhooks (idempotency_key, received_at, kinds, app_id, body, state, attempts, last_error) \
                     VALUES ({key}, '2026-12-0{}T00:00:00.000Z', 'conversation:message', '{APP}', {body}, '{state}', \
                     {attempts}, {})",
                    i + 1,
                    if *state == "failed" { "'forward: answered 500'" } else { "NULL" }
                ))
                .await;
        }
        let sink = Sink::accepting().await;
        let process = Process::start(&store.location(), &log(&store, "carried"), &[("SMOOCH_FORWARD_URL", &sink.url())]);
        // The pending ones delivered, each conversation in order; the done one not again.
        let deliveries = eventually(Duration::from_secs(20), "the pending ones delivered", || async {
            let deliveries = store.deliveries().await;
            (deliveries.iter().filter(|d| d.done).count() == 4).then_some(deliveries)
        })
        .await;
        assert_eq!(deliveries.len(), 5, "one per webhook not done");
        let set_aside: Vec<_> = deliveries.iter().filter(|d| d.state == "failed").collect();
        assert_eq!(set_aside.len(), 1);
        assert_eq!((set_aside[0].attempts, set_aside[0].last_error.as_deref()), (5, Some("forward: answered 500")));
        assert_eq!(set_aside[0].lane, format!("conversation:{APP}:x"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got = sink.got();
        assert_eq!(got.len(), 4);
        let orders = orders(&got);
        assert_eq!(orders["x"], ["0", "1"]);
        assert_eq!(orders["y"], ["0", "2"]);
        assert_eq!(store.rows().await.len(), 6, "every body kept");
        // The one set aside comes back with `requeue`.
        let output = run(&["requeue"], &[("SMOOCH_STORE", &store.location())]);
        assert!(output.status.success(), "{output:?}");
        eventually(Duration::from_secs(20), "the requeued one delivered", || async {
            (sink.count() == 5).then_some(())
        })
        .await;
        assert_eq!(message_of(&sink.got()[4]), ("x".to_owned(), "9".to_owned()));
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_one_killed_mid_delivery_keep_every_conversations_order_and_lose_nothing() {
    const CONVERSATIONS: usize = 150;
    const MESSAGES: usize = 4;
    let Some(store) = TestStore::postgres("two_receivers_killed").await else {
        return;
    };
    bounded(Duration::from_secs(120), async {
        let sink = Sink::start(|_| Answer::ok().after(Duration::from_millis(20))).await;
        let env = [
            ("SMOOCH_FORWARD_URL", sink.url()),
            ("SMOOCH_LEASE", "2s".to_owned()),
            ("SMOOCH_CONCURRENCY", "8".to_owned()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut first = Process::start(&store.location(), &log(&store, "cluster-a"), &env);
        let second = Process::start(&store.location(), &log(&store, "cluster-b"), &env);
        let addresses = [first.address, second.address];
        let answered = Arc::new(AtomicUsize::new(0));
        // Each conversation's messages in turn, to one receiver or the other (a load balancer),
        // each once the previous one was answered; a receiver gone: the other one (as Smooch
        // would retry).
        let tasks: Vec<_> = (0..CONVERSATIONS)
            .map(|c| {
                let answered = Arc::clone(&answered);
                tokio::spawn(async move {
                    for m in 0..MESSAGES {
                        let body = v2_message(&format!("k{c}"), &format!("k{c}-{m}"), &m.to_string());
                        let mut stored = false;
                        for attempt in 0..6 {
                            let target = (c + m + attempt) % 2;
                            if let Some(mut client) = Client::try_connect(addresses[target]).await {
                                if client
                                    .try_post(Some(CURRENT), &body)
                                    .await
                                    .is_some_and(|r| r.status == 200)
                                {
                                    stored = true;
                                    break;
                                }
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        assert!(stored, "k{c}-{m} never answered 200");
                        answered.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        // Killed once deliveries are under way.
        eventually(Duration::from_secs(60), "deliveries under way", || {
            let delivered = sink.count();
            async move { (delivered >= 100).then_some(()) }
        })
        .await;
        first.kill();
        let killed_at = Instant::now();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(answered.load(SeqCst), CONVERSATIONS * MESSAGES);
        store
            .all_done(CONVERSATIONS * MESSAGES, Duration::from_secs(60))
            .await;
        let got = sink.got();
        let orders = orders(&got);
        assert_eq!(orders.len(), CONVERSATIONS, "every conversation delivered");
        let expected: Vec<String> = (0..MESSAGES).map(|m| m.to_string()).collect();
        let out_of_order: Vec<&String> = orders
            .iter()
            .filter(|(_, texts)| **texts != expected)
            .map(|(conversation, _)| conversation)
            .collect();
        assert!(out_of_order.is_empty(), "out of order: {out_of_order:?}");
        // Twice only for what the killed receiver held: its first delivery before the kill.
        let mut first_at: BTreeMap<&str, Instant> = BTreeMap::new();
        for post in &got {
            if let Some(at) = first_at.get(post.key()) {
                assert!(
                    *at <= killed_at,
                    "{} delivered twice, not after the kill",
                    post.key()
                );
            } else {
                first_at.insert(post.key(), post.at);
            }
        }
        second.stop();
    })
    .await;
}
