//! Budgets of the requests that change the world besides chat messages (those share
//! the message window in `messages`), and of searches: creating rooms, joining and
//! leaving them, status changes and searches, each counted per user over a sliding
//! window of its own. Over a budget the request is refused with `rate_limited` before anything is stored or
//! sent. None of this is on the path of a chat message.

use super::Hub;
use crate::domain::{Refusal, UserKey};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most `count` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub count: usize,
    pub window: Duration,
}

impl Budget {
    pub const fn new(count: usize, window: Duration) -> Budget {
        Budget { count, window }
    }

    /// Spends one of this budget at `now` from `times` (when it was spent before,
    /// oldest first; entries older than the window are dropped): `false` when all of
    /// it is spent within the window, and then nothing is counted.
    pub fn spend(&self, times: &mut VecDeque<Instant>, now: Instant) -> bool {
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.count {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// What a budget is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spend {
    /// `createRoom` (Workshop `room_create`).
    Room,
    /// `joinRoom`, `leaveRoom` (Workshop `room_switch_request`).
    Membership,
    /// `setStatus` (Workspace `presence:update`).
    Status,
    /// `search`.
    Search,
    /// `react`, `pin` (added or taken back).
    Mark,
}

/// When a user spent each budget, newest last (empty until first used: no allocation
/// for users who never spend).
#[derive(Default)]
pub(super) struct Spent {
    rooms: VecDeque<Instant>,
    memberships: VecDeque<Instant>,
    statuses: VecDeque<Instant>,
    searches: VecDeque<Instant>,
    marks: VecDeque<Instant>,
}

impl Hub {
    /// Counts one request against the user's budget of its kind, or refuses it.
    pub(super) fn take_budget(&self, user: &UserKey, spend: Spend) -> Result<(), Refusal> {
        let (budget, what) = match spend {
            Spend::Room => (self.limits.rooms, "rooms created"),
            Spend::Membership => (self.limits.memberships, "rooms joined or left"),
            Spend::Status => (self.limits.statuses, "status changes"),
            Spend::Search => (self.limits.searches, "searches"),
            Spend::Mark => (self.limits.marks.budget, "reactions and pins"),
        };
        let mut state = self.lock();
        let Some(entry) = state.users.get_mut(user) else {
            return Ok(());
        };
        let times = match spend {
            Spend::Room => &mut entry.spent.rooms,
            Spend::Membership => &mut entry.spent.memberships,
            Spend::Status => &mut entry.spent.statuses,
            Spend::Search => &mut entry.spent.searches,
            Spend::Mark => &mut entry.spent.marks,
        };
        if budget.spend(times, Instant::now()) {
            Ok(())
        } else {
            Err(Refusal::RateLimited(format!(
                "at most {} {what} per {}",
                budget.count,
                humantime::format_duration(budget.window)
            )))
        }
    }
}
