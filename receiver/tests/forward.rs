//! `SMOOCH_FORWARD_URL`: every delivery POSTed to a sink (a real HTTP server in this test), the
//! event's bytes with its headers, tried again until a 2xx (after the service's `Retry-After`),
//! set aside after the attempts; on both stores.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::sink::{Answer, Sink};
use support::*;

on_both_stores!(every_delivery_is_forwarded_with_its_headers_and_tried_again_until_a_2xx);

async fn every_delivery_is_forwarded_with_its_headers_and_tried_again_until_a_2xx(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        // The first key the sink sees is refused twice: tried three times; the others once.
        let first_key: Arc<Mutex<Option<String>>> = Arc::default();
        let refusals = Arc::new(AtomicUsize::new(2));
        let sink = {
            let (first_key, refusals) = (Arc::clone(&first_key), Arc::clone(&refusals));
            Sink::start(move |got| {
                let key = got.key().to_owned();
                let first = first_key.lock().unwrap().get_or_insert(key.clone()).clone();
                if key == first
                    && refusals
                        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                {
                    Answer::status(500)
                } else {
                    Answer::ok()
                }
            })
            .await
        };
        let process = Process::start(
            &store.location(),
            &store.dir().join(format!("forward-{}.log", std::process::id())),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_MAX_ATTEMPTS", "5")],
        );
        let bodies = distinct_bodies(40);
        let mut client = Client::connect(process.address).await;
        for body in &bodies {
            assert_eq!(client.post(Some(CURRENT), body).await.status, 200);
        }
        let deliveries = store.all_done(1, Duration::from_secs(30)).await;
        let webhooks: BTreeMap<i64, Row> = store.rows().await.into_iter().map(|row| (row.id, row)).collect();
        assert_eq!(webhooks.len(), bodies.len());
        let got = sink.got();
        let mut by_key: BTreeMap<&str, Vec<&support::sink::Got>> = BTreeMap::new();
        for post in &got {
            by_key.entry(post.key()).or_default().push(post);
        }
        for delivery in &deliveries {
            let posts = by_key
                .get(delivery.key_hex().as_str())
                .unwrap_or_else(|| panic!("delivery {} not forwarded", delivery.id));
            let post = posts.last().unwrap();
            let webhook = &webhooks[&delivery.webhook_id];
            if delivery.events == 1 {
                assert_eq!(post.body, webhook.body, "byte for byte");
            } else {
                // One event of several: a v2 body of its own, with that event.
                let sent: serde_json::Value = serde_json::from_slice(&webhook.body).unwrap();
                let cut: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
                assert_eq!(cut["app"], sent["app"]);
                assert_eq!(
                    cut["events"],
                    serde_json::json!([sent["events"][delivery.index as usize]])
                );
            }
            assert_eq!(post.header("content-type"), Some("application/json"));
            assert_eq!(post.header("x-smooch-kinds"), Some(delivery.kind.as_str()));
            assert_eq!(post.header("x-smooch-app-id"), webhook.app_id.as_deref());
            assert_eq!(
                post.header("x-smooch-delivery-id"),
                Some(delivery.id.to_string().as_str())
            );
            assert_eq!(
                post.header("x-smooch-webhook-id"),
                Some(webhook.id.to_string().as_str())
            );
            let lane = Some(delivery.lane.as_str()).filter(|lane| !lane.starts_with("event:"));
            assert_eq!(post.header("x-smooch-lane"), lane);
        }
        // The first key: three tries, numbered; the others once each.
        let first = first_key.lock().unwrap().clone().unwrap();
        let tries: Vec<u32> = by_key[first.as_str()].iter().map(|post| post.attempt()).collect();
        assert_eq!(tries, [1, 2, 3]);
        assert_eq!(got.len(), deliveries.len() + 2);
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_sink_keeps_refusing_is_set_aside_and_its_lane_goes_on() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let refused = b"refuse me".to_vec();
        let sink = Sink::start(move |got| {
            if got.body.windows(9).any(|w| w == refused.as_slice()) {
                Answer::status(500)
            } else {
                Answer::ok()
            }
        })
        .await;
        let process = Process::start(
            &store.location(),
            &store.dir().join("forward.log"),
            &[("SMOOCH_FORWARD_URL", &sink.url()), ("SMOOCH_MAX_ATTEMPTS", "2")],
        );
        let mut client = Client::connect(process.address).await;
        for (event, text) in [("e1", "refuse me"), ("e2", "after it")] {
            let body = v2_message("conversation-a", event, text);
            assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        }
        let deliveries = eventually(Duration::from_secs(20), "one set aside, one done", || async {
            let deliveries = store.deliveries().await;
            (deliveries.len() == 2 && deliveries[0].state == "failed" && deliveries[1].done)
                .then_some(deliveries)
        })
        .await;
        assert_eq!(deliveries[0].attempts, 2);
        assert_eq!(
            deliveries[0].last_error.as_deref(),
            Some("forward: answered 500 Internal Server Error")
        );
        let keys: Vec<String> = sink.got().iter().map(|got| got.key().to_owned()).collect();
        assert_eq!(
            keys,
            [
                deliveries[0].key_hex(),
                deliveries[0].key_hex(),
                deliveries[1].key_hex()
            ],
            "the lane went on once the first was set aside"
        );
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_after_of_a_429_is_waited_for_within_the_backoff() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        let tries = Arc::new(AtomicUsize::new(0));
        let sink = {
            let tries = Arc::clone(&tries);
            Sink::start(move |_| {
                if tries.fetch_add(1, SeqCst) == 0 {
                    Answer::status(429).with_header("retry-after", "2")
                } else {
                    Answer::ok()
                }
            })
            .await
        };
        let process = Process::start(
            &store.location(),
            &store.dir().join("retry-after.log"),
            &[("SMOOCH_FORWARD_URL", &sink.url())],
        );
        let mut client = Client::connect(process.address).await;
        let body = v2_message("conversation-a", "e1", "hi");
        assert_eq!(client.post(Some(CURRENT), &body).await.status, 200);
        store.all_done(1, Duration::from_secs(20)).await;
        let got = sink.got();
        assert_eq!(got.len(), 2);
        // Without the Retry-After, the second try comes after 50 to 100 ms.
        let waited = got[1].at.duration_since(got[0].at);
        assert!(waited >= Duration::from_millis(1900), "{waited:?}");
        assert_eq!((got[0].attempt(), got[1].attempt()), (1, 2));
        process.stop();
    })
    .await;
}
