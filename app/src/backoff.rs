//! Reconnect delays: exponential backoff with jitter, so that the clients of a
//! restarted server do not all come back in the same instant.

/// First delay, in milliseconds.
pub const BASE_MS: f64 = 500.0;
/// Longest delay, in milliseconds.
pub const MAX_MS: f64 = 30_000.0;

/// The delay before reconnect attempt `attempts` (0 for the first), given a random
/// number in `[0, 1)`: half of the exponential step fixed, half random ("equal
/// jitter"): 250–500 ms, 500–1000 ms, … up to 15–30 s.
pub fn delay_ms(attempts: u32, random: f64) -> u64 {
    let step = (BASE_MS * 2f64.powi(attempts.min(16) as i32)).min(MAX_MS);
    let random = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.5
    };
    (step / 2.0 + step / 2.0 * random) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_bounds() {
        assert_eq!(delay_ms(0, 0.0), 250);
        assert_eq!(delay_ms(0, 1.0), 500);
        assert_eq!(delay_ms(1, 0.0), 500);
        assert_eq!(delay_ms(3, 0.5), 3000);
        for attempts in 0..40 {
            let d = delay_ms(attempts, 0.999);
            assert!(d <= MAX_MS as u64);
            assert!(delay_ms(attempts, 0.0) <= d);
        }
        assert_eq!(delay_ms(100, 0.0), 15_000);
        assert_eq!(delay_ms(2, f64::NAN), 1500);
    }
}
