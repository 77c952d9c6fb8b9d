//! The lanes of a SQLite store, kept in memory: one receiver process serves the file, so the
//! deliveries waiting, lane by lane, and which lanes it holds need not be written anywhere but
//! in the done marks. They are read back from the file at start (the deliveries after the
//! floor, see [`Lanes::floor`], that have no done mark), and from then on the writer adds each
//! delivery it stores.
//!
//! A delivery waiting costs about 40 bytes here (its id, and its lane's share), plus its row and
//! body when they were just stored ([`FRESH_BYTES`](super::FRESH_BYTES) of them at most), so
//! that the delivery need not read them back.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::store::{Stored, Taken};

/// A delivery waiting in its lane.
#[derive(Clone, Debug)]
pub(super) struct Waiting {
    pub(super) id: i64,
    /// The delivery as stored, while the fresh budget allows (else it is read from the file).
    pub(super) fresh: Option<Arc<Stored>>,
}

impl Waiting {
    fn fresh_bytes(&self) -> usize {
        self.fresh.as_ref().map_or(0, |stored| share(stored))
    }
}

/// The bytes a delivery's body counts for: its body shared by the body's events.
fn share(stored: &Stored) -> usize {
    stored.body.len() / stored.events.max(1) as usize
}

#[derive(Debug, Default)]
struct Lane {
    /// Its deliveries waiting, in id order (the one being delivered first).
    queue: VecDeque<Waiting>,
    /// Held by the delivery (taken and not given back).
    held: bool,
    /// In [`Lanes::ready`].
    listed: bool,
}

/// Every lane with deliveries waiting, or held.
#[derive(Debug, Default)]
pub(super) struct Lanes {
    lanes: HashMap<String, Lane>,
    /// Lanes with deliveries waiting that are not held, in the order they came to wait: the next
    /// to be taken first.
    ready: VecDeque<String>,
    /// Deliveries waiting, in all.
    pending: usize,
    /// Bytes of fresh bodies kept.
    fresh_bytes: usize,
    /// The newest delivery ever added.
    newest: i64,
}

impl Lanes {
    /// Adds a delivery to its lane, in id order; a fresh one keeps its row and body while
    /// `fresh_limit` bytes allow.
    pub(super) fn add(&mut self, lane: &str, mut waiting: Waiting, fresh_limit: usize) {
        let bytes = waiting.fresh_bytes();
        if bytes > 0 && self.fresh_bytes + bytes > fresh_limit {
            // The delivery is behind: this one is read back from the file when its turn comes.
            waiting.fresh = None;
        }
        self.fresh_bytes += waiting.fresh_bytes();
        self.newest = self.newest.max(waiting.id);
        self.pending += 1;
        let entry = self.lanes.entry(lane.to_owned()).or_default();
        // Almost always the newest: pushed at the back. (A delivery given back by `requeue` is
        // older than those waiting: it goes before them.)
        let at = entry.queue.partition_point(|other| other.id < waiting.id);
        if entry.queue.get(at).is_some_and(|other| other.id == waiting.id) {
            self.pending -= 1;
            self.fresh_bytes -= waiting.fresh_bytes();
            return;
        }
        entry.queue.insert(at, waiting);
        if !entry.held && !entry.listed {
            entry.listed = true;
            self.ready.push_back(lane.to_owned());
        }
    }

    /// Takes up to `max` lanes with deliveries waiting that are not held, those that have waited
    /// longest first.
    pub(super) fn take(&mut self, max: usize) -> Vec<Taken> {
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some(name) = self.ready.pop_front() else { break };
            let Some(lane) = self.lanes.get_mut(&name) else {
                continue;
            };
            lane.listed = false;
            if lane.held || lane.queue.is_empty() {
                continue;
            }
            lane.held = true;
            let after = lane.queue.front().map_or(0, |first| first.id - 1);
            taken.push(Taken { lane: name, after });
        }
        taken
    }

    /// The deliveries of `lane` after `after`, up to `max`.
    pub(super) fn after(&self, lane: &str, after: i64, max: usize) -> Vec<Waiting> {
        self.lanes.get(lane).map_or_else(Vec::new, |lane| {
            lane.queue
                .iter()
                .filter(|waiting| waiting.id > after)
                .take(max)
                .cloned()
                .collect()
        })
    }

    /// The delivery `id` of `lane` is done or set aside: it no longer waits.
    pub(super) fn finish(&mut self, lane: &str, id: i64) {
        let Some(entry) = self.lanes.get_mut(lane) else {
            return;
        };
        if let Some(at) = entry.queue.iter().position(|waiting| waiting.id == id) {
            let gone = entry.queue.remove(at).expect("a position in the queue");
            self.fresh_bytes -= gone.fresh_bytes();
            self.pending -= 1;
        }
        if entry.queue.is_empty() && !entry.held {
            self.lanes.remove(lane);
        }
    }

    /// Records the failures of the delivery `id` of `lane`, for when it is read again.
    pub(super) fn failures(&mut self, lane: &str, id: i64, attempts: u32) {
        let waiting = self
            .lanes
            .get_mut(lane)
            .and_then(|entry| entry.queue.iter_mut().find(|waiting| waiting.id == id));
        if let Some(Waiting {
            fresh: Some(stored), ..
        }) = waiting
        {
            Arc::make_mut(stored).attempts = attempts;
        }
    }

    /// Gives `lane` back: it waits for the next [`take`](Self::take) if it has deliveries
    /// waiting, and is forgotten otherwise.
    pub(super) fn release(&mut self, lane: &str) {
        let Some(entry) = self.lanes.get_mut(lane) else {
            return;
        };
        entry.held = false;
        if entry.queue.is_empty() {
            self.lanes.remove(lane);
        } else if !entry.listed {
            entry.listed = true;
            self.ready.push_back(lane.to_owned());
        }
    }

    /// Every delivery up to this id is done or set aside (or, if none waits, the newest one
    /// added): where the reading at the next start begins.
    pub(super) fn floor(&self) -> i64 {
        self.lanes
            .values()
            .filter_map(|lane| lane.queue.front())
            .map(|first| first.id - 1)
            .min()
            .unwrap_or(self.newest)
    }

    /// The oldest delivery waiting: its id, and it as stored if it is fresh.
    pub(super) fn oldest(&self) -> Option<&Waiting> {
        self.lanes
            .values()
            .filter_map(|lane| lane.queue.front())
            .min_by_key(|first| first.id)
    }

    /// Deliveries waiting, and lanes with deliveries waiting.
    pub(super) fn counts(&self) -> (usize, usize) {
        let lanes = self.lanes.values().filter(|lane| !lane.queue.is_empty()).count();
        (self.pending, lanes)
    }

    /// Remembers that deliveries up to `id` exist (those read at start, done or not).
    pub(super) fn seen(&mut self, id: i64) {
        self.newest = self.newest.max(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(id: i64) -> Waiting {
        Waiting { id, fresh: None }
    }

    fn fresh(id: i64, bytes: usize) -> Waiting {
        Waiting {
            id,
            fresh: Some(Arc::new(Stored {
                id,
                key: [0; 32],
                lane: String::new(),
                kind: String::new(),
                webhook_id: id,
                received_at: String::new(),
                app_id: None,
                attempts: 0,
                index: 0,
                events: 1,
                body: Arc::new(vec![b' '; bytes]),
            })),
        }
    }

    fn names(taken: &[Taken]) -> Vec<(&str, i64)> {
        taken
            .iter()
            .map(|taken| (taken.lane.as_str(), taken.after))
            .collect()
    }

    #[test]
    fn lanes_are_taken_in_the_order_they_came_to_wait_and_once() {
        let mut lanes = Lanes::default();
        lanes.add("b", waiting(1), 0);
        lanes.add("a", waiting(2), 0);
        lanes.add("b", waiting(3), 0);
        assert_eq!(names(&lanes.take(1)), [("b", 0)]);
        assert_eq!(names(&lanes.take(5)), [("a", 1)]);
        assert!(lanes.take(5).is_empty(), "both held");
        // A held lane's new deliveries wait in it, not in the ready list.
        lanes.add("a", waiting(4), 0);
        assert!(lanes.take(5).is_empty());
        assert_eq!(
            lanes.after("a", 2, 8).iter().map(|w| w.id).collect::<Vec<_>>(),
            [4]
        );
        assert_eq!(lanes.counts(), (4, 2));
    }

    #[test]
    fn a_lane_given_back_with_deliveries_waits_again_and_an_empty_one_is_forgotten() {
        let mut lanes = Lanes::default();
        lanes.add("a", waiting(1), 0);
        lanes.add("a", waiting(2), 0);
        lanes.add("b", waiting(3), 0);
        let taken = lanes.take(2);
        assert_eq!(names(&taken), [("a", 0), ("b", 2)]);
        lanes.finish("a", 1);
        lanes.finish("b", 3);
        assert_eq!(lanes.floor(), 1, "delivery 2 still waits");
        lanes.release("a");
        lanes.release("b");
        assert_eq!(names(&lanes.take(5)), [("a", 1)]);
        assert_eq!(lanes.counts(), (1, 1));
        lanes.finish("a", 2);
        lanes.release("a");
        assert_eq!(lanes.counts(), (0, 0));
        assert!(lanes.lanes.is_empty());
        assert_eq!(lanes.floor(), 3, "none waits: the newest");
    }

    #[test]
    fn a_requeued_delivery_goes_before_those_waiting_in_its_lane() {
        let mut lanes = Lanes::default();
        lanes.add("a", waiting(7), 0);
        lanes.add("a", waiting(3), 0);
        lanes.add("a", waiting(3), 0);
        assert_eq!(
            lanes.after("a", 0, 8).iter().map(|w| w.id).collect::<Vec<_>>(),
            [3, 7]
        );
        assert_eq!(lanes.counts(), (2, 1), "added once");
        assert_eq!(lanes.oldest().map(|w| w.id), Some(3));
    }

    #[test]
    fn fresh_bodies_are_kept_within_their_budget_only() {
        let mut lanes = Lanes::default();
        lanes.add("a", fresh(1, 600), 1000);
        lanes.add("a", fresh(2, 600), 1000);
        let kept: Vec<bool> = lanes.after("a", 0, 8).iter().map(|w| w.fresh.is_some()).collect();
        assert_eq!(kept, [true, false]);
        assert_eq!(lanes.fresh_bytes, 600);
        lanes.finish("a", 1);
        assert_eq!(lanes.fresh_bytes, 0);
        lanes.failures("a", 2, 3);
    }
}
