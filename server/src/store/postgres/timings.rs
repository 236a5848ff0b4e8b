//! How the nodes share one PostgreSQL, in two timings an operator (and
//! `scripts/bench.py`) reads when a node stops: how long a writing batch waited for
//! the `sequencer` row another node held (the write lock), and how long messages other
//! nodes wrote took to reach this node's clients (follower lag: from the moment the
//! writing node took the message — its wait for the writer, the lock and the commit
//! included — to its hand-over here; from that node's clock to this one's: keep the
//! nodes' clocks in sync, as NTP does).
//!
//! Each is a histogram of logarithmic buckets (eight per doubling, so a quantile is
//! within 9 %), a few hundred counters whatever the traffic.

use std::time::Duration;

/// Buckets per doubling.
const STEPS: f64 = 8.0;
/// Up to 2^32 µs (71 minutes).
const BUCKETS: usize = 32 * STEPS as usize + 1;

/// Counts of durations in logarithmic buckets of microseconds.
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros().max(1) as f64;
        let i = ((us.log2() * STEPS).floor() as usize).min(BUCKETS - 1);
        self.counts[i] += 1;
        self.total += 1;
    }

    pub fn len(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1), as the upper bound of its bucket; zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let us = 2f64.powf((i + 1) as f64 / STEPS);
                return Duration::from_micros(us as u64);
            }
        }
        Duration::from_micros(2f64.powf(BUCKETS as f64 / STEPS) as u64)
    }
}

/// The store's two timings.
#[derive(Default)]
pub struct Timings {
    /// A batch's first append: its wait for the sequencer row.
    pub lock_wait: Histogram,
    /// A message another node wrote, from when it took it to its hand-over here.
    pub follower_lag: Histogram,
}

impl Timings {
    /// Logs the figures (at the store's close).
    pub fn log(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        tracing::info!(
            batches = self.lock_wait.len(),
            lock_wait_p50_ms = ms(self.lock_wait.quantile(0.5)),
            lock_wait_p99_ms = ms(self.lock_wait.quantile(0.99)),
            followed = self.follower_lag.len(),
            follower_lag_p50_ms = ms(self.follower_lag.quantile(0.5)),
            follower_lag_p99_ms = ms(self.follower_lag.quantile(0.99)),
            "PostgreSQL store timings"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_right_bucket() {
        let mut h = Histogram::default();
        for _ in 0..98 {
            h.record(Duration::from_micros(100));
        }
        h.record(Duration::from_millis(10));
        h.record(Duration::from_millis(50));
        let p50 = h.quantile(0.5).as_micros();
        assert!((100..=110).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).as_micros();
        assert!((10_000..=10_910).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.99), Duration::ZERO);
    }
}
