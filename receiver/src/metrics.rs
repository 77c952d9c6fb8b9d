//! The metrics a receiver keeps, in the Prometheus text format (`GET /metrics` on the admin
//! listener).
//!
//! Each receiver has its own registry (no global recorder: two receivers in one process, as in
//! the tests, count apart). No label takes a value from a request: `status` is the answered
//! status, `outcome` one of the receiver's fixed words.

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::store::{Observer, Stats};

const REQUESTS: &str = "smooch_receiver_requests_total";
const REQUEST_SECONDS: &str = "smooch_receiver_request_duration_seconds";
const COMMIT_SECONDS: &str = "smooch_receiver_store_commit_duration_seconds";
const GROUP_SIZE: &str = "smooch_receiver_store_group_size";
const PENDING: &str = "smooch_receiver_pending_deliveries";
const LANES_WAITING: &str = "smooch_receiver_lanes_waiting";
const OLDEST_PENDING: &str = "smooch_receiver_oldest_pending_age_seconds";
const SET_ASIDE: &str = "smooch_receiver_set_aside_deliveries";
const IN_FLIGHT: &str = "smooch_receiver_deliveries_in_flight";
const DELIVERY_SECONDS: &str = "smooch_receiver_stored_to_delivered_seconds";
const DEAD_LETTERS: &str = "smooch_receiver_dead_letters";
const DEAD_LETTERS_KEPT: &str = "smooch_receiver_dead_letters_kept_total";
const HANDLED: &str = "smooch_receiver_application_done_total";
const APP_FAILURES: &str = "smooch_receiver_application_failures_total";
const APP_SET_ASIDE: &str = "smooch_receiver_application_set_aside_total";
const CONNECTIONS: &str = "smooch_receiver_open_connections";
const REFUSED: &str = "smooch_receiver_connections_refused_total";
const BUFFERED: &str = "smooch_receiver_buffered_bytes";
const LOG_DROPPED: &str = "smooch_receiver_log_lines_dropped_total";
const PURGED: &str = "smooch_receiver_retention_deleted_total";
const STORE_UP: &str = "smooch_receiver_store_up";

/// A receiver's metrics: the registry, and the handles the hot paths use.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Seconds from a request's headers to its answer.
    pub(crate) request_seconds: Histogram,
    /// Seconds a group of writes took to be stored and made durable.
    pub(crate) commit_seconds: Histogram,
    /// Writes per group.
    pub(crate) group_size: Histogram,
    /// Deliveries the application handled.
    pub(crate) handled: Counter,
    /// Seconds from a body's arrival to its event's delivery.
    pub(crate) delivery_seconds: Histogram,
    /// Deliveries in flight.
    pub(crate) in_flight: Gauge,
    /// Application failures.
    pub(crate) app_failures: Counter,
    /// Deliveries set aside.
    pub(crate) app_set_aside: Counter,
    /// Open connections on the webhook listener.
    pub(crate) connections: Gauge,
    /// Bytes of bodies held in memory.
    pub(crate) buffered: Gauge,
    /// Done webhooks deleted by the retention.
    pub(crate) purged: Counter,
    pending: Gauge,
    lanes_waiting: Gauge,
    oldest_pending: Gauge,
    set_aside: Gauge,
    dead_letters: Gauge,
    store_up: Gauge,
    log_dropped: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

impl Metrics {
    /// A new registry, every metric described.
    pub fn new() -> Arc<Metrics> {
        let seconds = [
            0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
        ];
        let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];
        let delivered = [
            0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_owned()), &seconds)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.to_owned()), &seconds))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(GROUP_SIZE.to_owned()), &sizes))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(DELIVERY_SECONDS.to_owned()), &delivered))
            .expect("bucket lists are not empty")
            .build_recorder();
        let describe = |name: &'static str, unit: Option<Unit>, text: &'static str| {
            recorder.describe_counter(KeyName::from_const_str(name), unit, SharedString::const_str(text));
        };
        describe(REQUESTS, None, "Requests answered, by status and outcome");
        describe(
            REQUEST_SECONDS,
            Some(Unit::Seconds),
            "From a request's headers to its answer",
        );
        describe(
            COMMIT_SECONDS,
            Some(Unit::Seconds),
            "A group of writes, stored and durable",
        );
        describe(GROUP_SIZE, None, "Writes per committed group");
        describe(PENDING, None, "Deliveries stored and not done yet (the backlog)");
        describe(
            LANES_WAITING,
            None,
            "Lanes (conversations) with deliveries waiting",
        );
        describe(
            OLDEST_PENDING,
            Some(Unit::Seconds),
            "Age of the oldest delivery waiting",
        );
        describe(
            SET_ASIDE,
            None,
            "Deliveries set aside (state failed) in the store",
        );
        describe(IN_FLIGHT, None, "Deliveries the application is handling now");
        describe(
            DELIVERY_SECONDS,
            Some(Unit::Seconds),
            "From a body's arrival to its event's delivery done",
        );
        describe(DEAD_LETTERS, None, "Dead letters not replayed, in the store");
        describe(
            DEAD_LETTERS_KEPT,
            None,
            "Refused bodies kept as dead letters, by status",
        );
        describe(HANDLED, None, "Deliveries the application handled");
        describe(APP_FAILURES, None, "Times the application failed on a delivery");
        describe(
            APP_SET_ASIDE,
            None,
            "Deliveries set aside after too many failures",
        );
        describe(CONNECTIONS, None, "Open connections on the webhook listener");
        describe(REFUSED, None, "Connections closed at once, by reason");
        describe(BUFFERED, Some(Unit::Bytes), "Bytes of bodies held in memory");
        describe(
            LOG_DROPPED,
            None,
            "Log lines dropped because standard error did not keep up",
        );
        describe(PURGED, None, "Bodies deleted after the retention");
        describe(STORE_UP, None, "1 when the store answers, 0 when it does not");
        let handle = recorder.handle();
        let key = |name: &'static str| Key::from_static_name(name);
        Arc::new(Metrics {
            request_seconds: recorder.register_histogram(&key(REQUEST_SECONDS), &metadata()),
            commit_seconds: recorder.register_histogram(&key(COMMIT_SECONDS), &metadata()),
            group_size: recorder.register_histogram(&key(GROUP_SIZE), &metadata()),
            handled: recorder.register_counter(&key(HANDLED), &metadata()),
            delivery_seconds: recorder.register_histogram(&key(DELIVERY_SECONDS), &metadata()),
            in_flight: recorder.register_gauge(&key(IN_FLIGHT), &metadata()),
            app_failures: recorder.register_counter(&key(APP_FAILURES), &metadata()),
            app_set_aside: recorder.register_counter(&key(APP_SET_ASIDE), &metadata()),
            connections: recorder.register_gauge(&key(CONNECTIONS), &metadata()),
            buffered: recorder.register_gauge(&key(BUFFERED), &metadata()),
            purged: recorder.register_counter(&key(PURGED), &metadata()),
            pending: recorder.register_gauge(&key(PENDING), &metadata()),
            lanes_waiting: recorder.register_gauge(&key(LANES_WAITING), &metadata()),
            oldest_pending: recorder.register_gauge(&key(OLDEST_PENDING), &metadata()),
            set_aside: recorder.register_gauge(&key(SET_ASIDE), &metadata()),
            dead_letters: recorder.register_gauge(&key(DEAD_LETTERS), &metadata()),
            store_up: recorder.register_gauge(&key(STORE_UP), &metadata()),
            log_dropped: recorder.register_counter(&key(LOG_DROPPED), &metadata()),
            recorder,
            handle,
        })
    }

    /// Counts a request answered `status` with `outcome` (one of the receiver's own words).
    pub(crate) fn request(&self, status: u16, outcome: &'static str) {
        let labels = vec![
            Label::new("status", status.to_string()),
            Label::from_static_parts("outcome", outcome),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &metadata())
            .increment(1);
    }

    /// Counts a delivery done, and the time since its body arrived (`received_at`).
    pub(crate) fn delivered(&self, received_at: &str) {
        self.handled.increment(1);
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(received_at) {
            let waited = chrono::Utc::now() - at.with_timezone(&chrono::Utc);
            self.delivery_seconds
                .record((waited.num_milliseconds() as f64 / 1000.0).max(0.0));
        }
    }

    /// Counts a refused body kept as a dead letter.
    pub(crate) fn dead_letter(&self, status: u16) {
        let labels = vec![Label::new("status", status.to_string())];
        self.recorder
            .register_counter(&Key::from_parts(DEAD_LETTERS_KEPT, labels), &metadata())
            .increment(1);
    }

    /// Counts a connection closed at once (`reason`: one of the receiver's own words).
    pub(crate) fn refused(&self, reason: &'static str) {
        let labels = vec![Label::from_static_parts("reason", reason)];
        self.recorder
            .register_counter(&Key::from_parts(REFUSED, labels), &metadata())
            .increment(1);
    }

    /// Folds the samples recorded since the last call into the histograms. The exporter keeps
    /// each sample until then: a receiver calls it every few seconds, scraped or not.
    pub(crate) fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The text of every metric, after the store's counts (`None`: the store did not answer) and
    /// the dropped log lines.
    pub fn render(&self, stats: Option<&Stats>, log_dropped: u64) -> String {
        match stats {
            Some(stats) => {
                self.store_up.set(1.0);
                self.pending.set(stats.pending as f64);
                self.lanes_waiting.set(stats.lanes_waiting as f64);
                self.set_aside.set(stats.failed as f64);
                self.dead_letters.set(stats.dead_letters_waiting as f64);
                let age = stats
                    .oldest_pending
                    .as_deref()
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                    .map_or(0.0, |at| {
                        (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_milliseconds() as f64
                            / 1000.0
                    });
                self.oldest_pending.set(age.max(0.0));
            }
            None => self.store_up.set(0.0),
        }
        self.log_dropped.absolute(log_dropped);
        self.handle.render()
    }
}

impl Observer for Metrics {
    fn committed(&self, seconds: f64, writes: usize) {
        self.commit_seconds.record(seconds);
        self.group_size.record(writes as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_renders_with_its_labels_and_help() {
        let metrics = Metrics::new();
        metrics.request(200, "stored");
        metrics.request(200, "stored");
        metrics.request(400, "invalid");
        metrics.dead_letter(400);
        metrics.request_seconds.record(0.003);
        metrics.group_size.record(12.0);
        metrics.connections.set(3.0);
        metrics.delivered("2026-01-01T00:00:00.000Z");
        metrics.in_flight.set(4.0);
        let stats = Stats {
            pending: 7,
            lanes_waiting: 3,
            failed: 2,
            dead_letters_waiting: 1,
            ..Stats::default()
        };
        let text = metrics.render(Some(&stats), 5);
        for line in [
            "smooch_receiver_requests_total{status=\"200\",outcome=\"stored\"} 2",
            "smooch_receiver_requests_total{status=\"400\",outcome=\"invalid\"} 1",
            "smooch_receiver_dead_letters_kept_total{status=\"400\"} 1",
            "smooch_receiver_pending_deliveries 7",
            "smooch_receiver_lanes_waiting 3",
            "smooch_receiver_set_aside_deliveries 2",
            "smooch_receiver_deliveries_in_flight 4",
            "smooch_receiver_application_done_total 1",
            "smooch_receiver_stored_to_delivered_seconds_bucket{le=\"3600\"} 0",
            "smooch_receiver_dead_letters 1",
            "smooch_receiver_open_connections 3",
            "smooch_receiver_log_lines_dropped_total 5",
            "smooch_receiver_store_up 1",
            "smooch_receiver_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "smooch_receiver_store_group_size_sum 12",
            "# HELP smooch_receiver_pending_deliveries Deliveries stored and not done yet (the backlog)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        assert!(metrics.render(None, 5).contains("smooch_receiver_store_up 0"));
    }
}
