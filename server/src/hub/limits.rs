//! The hub's limits: per user and per connection, each with its default and its
//! `parlor serve` flag (docs/protocol.md, 3.4). Kept apart from the hub's state so that
//! the flags read as one list.

use super::{Budget, MarkLimits, ThrottleRules, SEARCH_BUDGET};
use crate::domain::UserKey;
use std::time::Duration;

/// Per-user and per-connection limits (docs/protocol.md), configurable by flags.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections_per_user: usize,
    /// Chat messages one user may send per `rate_window`.
    pub rate_limit: usize,
    pub rate_window: Duration,
    /// Items a session's outbound queue holds before the session is dropped as too slow.
    pub outbound_queue: usize,
    /// How long a typing indicator lasts without a new keystroke.
    pub typing_ttl: Duration,
    pub allow_guests: bool,
    /// `--registration`: who may sign up, set at each start (none: the owner's last
    /// choice, `open` on a new server).
    pub registration: Option<app::protocol::Registration>,
    /// Users who may clear any room's history (password accounts only, never a guest).
    pub admins: Vec<UserKey>,
    /// Rooms one user may create (`createRoom`).
    pub rooms: Budget,
    /// Rooms one user may join or leave (`joinRoom`, `leaveRoom`).
    pub memberships: Budget,
    /// Status changes one user may make (`setStatus`).
    pub statuses: Budget,
    /// Searches one user may run (`search`).
    pub searches: Budget,
    /// Reactions and pins: the budget, emoji per message, pins per chat.
    pub marks: MarkLimits,
    /// Characters a new password needs at least (registering, changing it).
    pub min_password_length: usize,
    /// Logins that may wait for a password hashing thread; more are refused at once.
    pub hash_queue: usize,
    /// A session token not used to log in for this long stops working.
    pub token_lifetime: Duration,
    /// Failed-login throttling.
    pub login_throttle: ThrottleRules,
    /// How long a guest's name stays theirs after their last connection closes.
    pub guest_grace: Duration,
    /// Most guest names one client address may hold at once (connected or within
    /// their grace); 0: no cap. Loopback addresses are not capped.
    pub guests_per_address: usize,
}

/// Default budgets (docs/protocol.md 3.4).
pub const ROOM_BUDGET: Budget = Budget::new(10, Duration::from_secs(3600));
pub const MEMBERSHIP_BUDGET: Budget = Budget::new(60, Duration::from_secs(60));
pub const STATUS_BUDGET: Budget = Budget::new(30, Duration::from_secs(60));
/// Presence changes of one user reach others at most this often (the latest wins).
pub const PRESENCE_INTERVAL: Duration = Duration::from_secs(1);

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections_per_user: 3,
            rate_limit: 100,
            rate_window: Duration::from_secs(60),
            registration: None,
            outbound_queue: 1024,
            typing_ttl: Duration::from_secs(5),
            allow_guests: true,
            admins: Vec::new(),
            rooms: ROOM_BUDGET,
            memberships: MEMBERSHIP_BUDGET,
            statuses: STATUS_BUDGET,
            searches: SEARCH_BUDGET,
            marks: MarkLimits::default(),
            min_password_length: 6,
            hash_queue: 256,
            token_lifetime: Duration::from_secs(30 * 24 * 3600),
            login_throttle: ThrottleRules::default(),
            guest_grace: Duration::from_secs(600),
            guests_per_address: 16,
        }
    }
}
