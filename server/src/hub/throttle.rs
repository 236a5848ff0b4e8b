//! Failed-login throttling: who may try a password now. Records the recent failures of
//! each (account, client address) pair and of each client address over all accounts;
//! once a pair has had `pair_failures` failures within `window` (or an address
//! `address_failures`), further attempts are refused before the password is checked,
//! for a delay that doubles with each further failure (from `delay`, capped at
//! `max_delay`) until a whole window passes after the block without one. A success clears its pair's record (not the address's: a sprayer who
//! owns one account must not reset its count by logging in to it).
//!
//! Memory is bounded: each table holds at most `capacity` records. A full table first
//! forgets the records that no longer matter (no block, no failure within the window),
//! then the one that would matter the shortest time. An IPv6 client counts by its /64
//! prefix, the block a single LAN device can pick addresses from.
//!
//! Pure bookkeeping over [`Instant`]s handed in, so the rules are tested without
//! waiting.

use crate::domain::UserKey;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The throttle's numbers (docs/security.md, "Passwords and sessions").
#[derive(Debug, Clone)]
pub struct ThrottleRules {
    /// Failures of one account from one address within `window` before attempts wait.
    pub pair_failures: usize,
    /// Failures from one address over all accounts within `window` (password spraying).
    pub address_failures: usize,
    pub window: Duration,
    /// The first wait; each further failure doubles it.
    pub delay: Duration,
    pub max_delay: Duration,
    /// Records each table holds at most.
    pub capacity: usize,
}

impl Default for ThrottleRules {
    fn default() -> ThrottleRules {
        ThrottleRules {
            pair_failures: 5,
            address_failures: 30,
            window: Duration::from_secs(10 * 60),
            delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(60 * 60),
            capacity: 10_000,
        }
    }
}

/// The recent failures of one key.
#[derive(Debug, Default)]
struct Record {
    /// The last failures (at most the limit), oldest first.
    failures: VecDeque<Instant>,
    /// Failures past the limit so far: the exponent of the delay.
    strikes: u32,
    blocked_until: Option<Instant>,
}

impl Record {
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn fail(&mut self, now: Instant, limit: usize, rules: &ThrottleRules) {
        if self.matters_until(rules.window).is_some_and(|t| t <= now) {
            *self = Record::default();
        }
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > rules.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        while self.failures.len() > limit.max(1) {
            self.failures.pop_front();
        }
        // Once blocked, every further failure (until the record lapses) blocks again.
        if self.strikes > 0 || self.failures.len() >= limit.max(1) {
            let doubling = 2u32.saturating_pow(self.strikes);
            self.strikes = self.strikes.saturating_add(1);
            let delay = rules.delay.saturating_mul(doubling).min(rules.max_delay);
            self.blocked_until = Some(now + delay);
        }
    }

    /// Until when this record changes anything: a window after its last failure, and
    /// a window after its block ends (a failure then still doubles the delay).
    fn matters_until(&self, window: Duration) -> Option<Instant> {
        let last = self.failures.back().map(|t| *t + window);
        match (last, self.blocked_until.map(|t| t + window)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// One table of records, bounded.
#[derive(Debug)]
struct Table<K> {
    records: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Table<K> {
        Table {
            records: HashMap::new(),
        }
    }

    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        self.records.get(key).and_then(|r| r.wait(now))
    }

    fn fail(&mut self, key: &K, now: Instant, limit: usize, rules: &ThrottleRules) {
        if !self.records.contains_key(key) {
            self.make_room(now, rules);
        }
        self.records
            .entry(key.clone())
            .or_default()
            .fail(now, limit, rules);
    }

    /// Makes room for one more record when the table is full.
    fn make_room(&mut self, now: Instant, rules: &ThrottleRules) {
        if self.records.len() < rules.capacity.max(1) {
            return;
        }
        self.records
            .retain(|_, r| r.matters_until(rules.window).is_some_and(|t| t > now));
        if self.records.len() < rules.capacity.max(1) {
            return;
        }
        let shortest = self
            .records
            .iter()
            .min_by_key(|(_, r)| r.matters_until(rules.window))
            .map(|(k, _)| k.clone());
        if let Some(key) = shortest {
            self.records.remove(&key);
        }
    }
}

/// The failed-login records of a server.
#[derive(Debug)]
pub struct Throttle {
    rules: ThrottleRules,
    pairs: Table<(UserKey, IpAddr)>,
    addresses: Table<IpAddr>,
}

impl Throttle {
    pub fn new(rules: ThrottleRules) -> Throttle {
        Throttle {
            rules,
            pairs: Table::new(),
            addresses: Table::new(),
        }
    }

    /// `Err(wait)` when a password attempt on `user` from `from` must wait that long.
    pub fn check(&self, user: &UserKey, from: IpAddr, now: Instant) -> Result<(), Duration> {
        let from = client_key(from);
        let waits = [
            self.pairs.wait(&(user.clone(), from), now),
            self.addresses.wait(&from, now),
        ];
        match waits.into_iter().flatten().max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// A wrong password for `user` from `from`.
    pub fn failed(&mut self, user: &UserKey, from: IpAddr, now: Instant) {
        let from = client_key(from);
        let rules = &self.rules;
        self.pairs
            .fail(&(user.clone(), from), now, rules.pair_failures, rules);
        self.addresses
            .fail(&from, now, rules.address_failures, rules);
    }

    /// A right password for `user` from `from`: that pair starts afresh.
    pub fn succeeded(&mut self, user: &UserKey, from: IpAddr) {
        self.pairs.records.remove(&(user.clone(), client_key(from)));
    }

    /// Records held (both tables).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pairs.records.len() + self.addresses.records.len()
    }
}

/// The address a client is counted by: IPv4 as it is (an IPv4-mapped IPv6 address as
/// its IPv4 one), IPv6 by its /64 prefix.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn five_failures_block_the_pair_and_the_delay_doubles() {
        let mut t = Throttle::new(ThrottleRules::default());
        let alice = UserKey::of("alice");
        let a = ip("192.168.1.9");
        let t0 = Instant::now();
        for i in 0..4 {
            t.failed(&alice, a, t0 + Duration::from_secs(i));
            assert!(t.check(&alice, a, t0 + Duration::from_secs(i)).is_ok());
        }
        t.failed(&alice, a, t0 + Duration::from_secs(4));
        let wait = t
            .check(&alice, a, t0 + Duration::from_secs(4))
            .expect_err("blocked after five");
        assert_eq!(wait, Duration::from_secs(60));
        // Another account from that address, and that account from another address,
        // are not affected.
        assert!(t.check(&UserKey::of("bob"), a, t0).is_ok());
        assert!(t.check(&alice, ip("192.168.1.10"), t0).is_ok());
        // Once the wait is over, one more failure waits twice as long, then four times.
        let t1 = t0 + Duration::from_secs(65);
        assert!(t.check(&alice, a, t1).is_ok());
        t.failed(&alice, a, t1);
        assert_eq!(t.check(&alice, a, t1), Err(Duration::from_secs(120)));
        let t2 = t1 + Duration::from_secs(121);
        t.failed(&alice, a, t2);
        assert_eq!(t.check(&alice, a, t2), Err(Duration::from_secs(240)));
    }

    #[test]
    fn the_delay_is_capped() {
        let rules = ThrottleRules::default();
        let mut t = Throttle::new(rules.clone());
        let alice = UserKey::of("alice");
        let a = ip("10.0.0.1");
        let mut now = Instant::now();
        for _ in 0..40 {
            t.failed(&alice, a, now);
            if let Err(wait) = t.check(&alice, a, now) {
                now += wait + Duration::from_secs(1);
            }
        }
        t.failed(&alice, a, now);
        assert_eq!(t.check(&alice, a, now), Err(rules.max_delay));
        // A whole window after the block without a failure: forgotten.
        now += rules.max_delay + rules.window + Duration::from_secs(1);
        t.failed(&alice, a, now);
        assert!(t.check(&alice, a, now).is_ok());
    }

    #[test]
    fn a_success_clears_the_pair() {
        let mut t = Throttle::new(ThrottleRules::default());
        let alice = UserKey::of("alice");
        let a = ip("10.0.0.1");
        let now = Instant::now();
        for _ in 0..4 {
            t.failed(&alice, a, now);
        }
        t.succeeded(&alice, a);
        t.failed(&alice, a, now);
        assert!(t.check(&alice, a, now).is_ok(), "the count started afresh");
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let rules = ThrottleRules::default();
        let mut t = Throttle::new(rules.clone());
        let alice = UserKey::of("alice");
        let a = ip("10.0.0.1");
        let mut now = Instant::now();
        for _ in 0..20 {
            t.failed(&alice, a, now);
            now += rules.window / 4 + Duration::from_secs(1);
        }
        assert!(t.check(&alice, a, now).is_ok());
    }

    #[test]
    fn spraying_many_accounts_blocks_the_address() {
        let rules = ThrottleRules::default();
        let mut t = Throttle::new(rules.clone());
        let a = ip("10.0.0.66");
        let now = Instant::now();
        for i in 0..rules.address_failures {
            let user = UserKey::of(&format!("user{i}"));
            assert!(t.check(&user, a, now).is_ok());
            t.failed(&user, a, now);
        }
        assert!(t.check(&UserKey::of("someone-else"), a, now).is_err());
        assert!(t
            .check(&UserKey::of("someone-else"), ip("10.0.0.67"), now)
            .is_ok());
    }

    #[test]
    fn an_ipv6_device_counts_by_its_prefix() {
        let mut t = Throttle::new(ThrottleRules::default());
        let alice = UserKey::of("alice");
        let now = Instant::now();
        for i in 0..5 {
            t.failed(&alice, ip(&format!("fd00:1:2:3::{i:x}")), now);
        }
        assert!(t.check(&alice, ip("fd00:1:2:3::ffff"), now).is_err());
        assert!(t.check(&alice, ip("fd00:1:2:4::1"), now).is_ok());
        assert_eq!(client_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn a_flood_of_names_and_addresses_stays_within_the_capacity() {
        let rules = ThrottleRules {
            capacity: 100,
            ..ThrottleRules::default()
        };
        let mut t = Throttle::new(rules);
        let now = Instant::now();
        for i in 0..10_000u32 {
            let user = UserKey::of(&format!("random{i}"));
            t.failed(&user, IpAddr::V4(i.into()), now);
        }
        assert!(t.len() <= 200, "{} records", t.len());
    }
}
