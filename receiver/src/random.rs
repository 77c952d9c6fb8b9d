//! Numbers that differ at each call and between processes started at the same moment: for the
//! backoff's jitter and a receiver's name, never for a secret.

use std::hash::{BuildHasher, Hasher};

/// 64 bits: std's `RandomState` (its keys drawn from the system once per thread, then changed at
/// each call) over the clock's nanoseconds.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// A number in [0, 1), different at each call.
pub(crate) fn random_fraction() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_stay_in_the_unit_interval_and_differ() {
        let fractions: Vec<f64> = (0..1000).map(|_| random_fraction()).collect();
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
        let mut sorted = fractions.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert!(sorted.len() > 990, "{} distinct of 1000", sorted.len());
    }
}
