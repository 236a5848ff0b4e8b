//! Who is around, as the web app tracks it: who is typing where (and until when), how
//! often this client says that its user is typing, whether this tab has gone idle,
//! the presence of other users and the member lists of rooms.
//!
//! Times are the browser's milliseconds (`f64`, as `Date.now()` gives them). Plain
//! Rust, tested natively.

use crate::protocol::Status;
use std::collections::{BTreeMap, HashMap};

/// How long "… is typing" stays after the last typing event.
pub const TYPING_SHOW_MS: f64 = 4_000.0;
/// At most one typing event per chat this often.
pub const TYPING_EVERY_MS: f64 = 2_000.0;
/// No keyboard, pointer or focus activity for this long: the tab is idle (away).
pub const IDLE_AFTER_MS: f64 = 120_000.0;

/// Who is typing in each chat, until when.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typists {
    until: HashMap<String, BTreeMap<String, f64>>,
}

impl Typists {
    /// `user` typed in `chat_id` at `now`: shown for [`TYPING_SHOW_MS`].
    pub fn typed(&mut self, chat_id: String, user: String, now: f64) {
        self.until
            .entry(chat_id)
            .or_default()
            .insert(user, now + TYPING_SHOW_MS);
    }

    /// `user` sent their message: no longer typing. True when they were shown.
    pub fn stopped(&mut self, chat_id: &str, user: &str) -> bool {
        self.until
            .get_mut(chat_id)
            .is_some_and(|typists| typists.remove(user).is_some())
    }

    /// Who is typing in `chat_id` at `now`, sorted by name.
    pub fn in_chat(&self, chat_id: &str, now: f64) -> Vec<String> {
        self.until
            .get(chat_id)
            .map(|typists| {
                typists
                    .iter()
                    .filter(|(_, &until)| until > now)
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets who stopped typing before `now`. True when anyone was forgotten.
    pub fn expire(&mut self, now: f64) -> bool {
        let expired = self
            .until
            .values()
            .any(|typists| typists.values().any(|&until| until < now));
        if expired {
            for typists in self.until.values_mut() {
                typists.retain(|_, until| *until >= now);
            }
            self.until.retain(|_, typists| !typists.is_empty());
        }
        expired
    }
}

/// When this client last said its user is typing, per chat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypingSent {
    at: HashMap<String, f64>,
}

impl TypingSent {
    /// A keystroke in `chat_id` at `now`: true (and remembered) when a typing event is
    /// due, that is when none was sent there in the last [`TYPING_EVERY_MS`].
    pub fn due(&mut self, chat_id: &str, now: f64) -> bool {
        let last = self.at.get(chat_id).copied().unwrap_or(0.0);
        if now - last < TYPING_EVERY_MS {
            return false;
        }
        self.at.insert(chat_id.to_owned(), now);
        true
    }

    /// The message was sent: the next keystroke says typing again at once.
    pub fn sent(&mut self, chat_id: &str) {
        self.at.remove(chat_id);
    }
}

/// Whether this tab is in use: idle after [`IDLE_AFTER_MS`] without activity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Idleness {
    last_activity: f64,
    idle: bool,
}

impl Idleness {
    /// Active, with the last activity at `now` (the page has just loaded).
    pub fn since(now: f64) -> Idleness {
        Idleness {
            last_activity: now,
            idle: false,
        }
    }

    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Keyboard, pointer or focus activity at `now`. True when the tab was idle and is
    /// active again.
    pub fn activity(&mut self, now: f64) -> bool {
        self.last_activity = now;
        std::mem::replace(&mut self.idle, false)
    }

    /// The page was hidden (another app or tab in front, a phone's screen locked): idle
    /// at once, so that the server sends push notifications to this person's devices
    /// instead of counting on a page nobody looks at. True when it has just become idle.
    pub fn hide(&mut self) -> bool {
        !std::mem::replace(&mut self.idle, true)
    }

    /// The clock ticked. True when the tab has just become idle.
    pub fn tick(&mut self, now: f64) -> bool {
        if self.idle || now - self.last_activity <= IDLE_AFTER_MS {
            return false;
        }
        self.idle = true;
        true
    }
}

/// The status menu's choice after the server reports `merged` for this user (chosen
/// on another device perhaps): the menu follows it, except `away`, which may only mean
/// that some tab is idle. None: keep `chosen`.
pub fn adopted_status(chosen: Status, merged: Status) -> Option<Status> {
    (merged != Status::Away && merged != chosen).then_some(merged)
}

/// `user` connected: online, unless a status they chose (away, busy) is known.
pub fn came_online(users: &mut BTreeMap<String, Status>, user: String) {
    let status = users.entry(user).or_insert(Status::Online);
    if *status == Status::Offline {
        *status = Status::Online;
    }
}

/// Adds `user` to a room's member list, kept in name order ignoring case.
pub fn add_member(members: &mut Vec<String>, user: &str) {
    if !members.iter().any(|m| m == user) {
        members.push(user.to_owned());
        crate::case::sort_by_name(members, |name| (0, name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typists_show_until_they_expire() {
        let mut t = Typists::default();
        t.typed("#a".into(), "bob".into(), 1_000.0);
        t.typed("#a".into(), "al".into(), 3_000.0);
        assert_eq!(t.in_chat("#a", 4_000.0), vec!["al", "bob"]);
        assert_eq!(t.in_chat("#a", 5_000.0), vec!["al"]);
        assert!(t.in_chat("#b", 0.0).is_empty());
        assert!(!t.expire(5_000.0));
        assert!(t.expire(5_001.0));
        assert!(!t.expire(5_001.0));
        assert!(t.expire(7_001.0));
        assert_eq!(t, Typists::default());
    }

    #[test]
    fn a_typist_who_sends_stops_typing() {
        let mut t = Typists::default();
        t.typed("#a".into(), "bob".into(), 0.0);
        assert!(t.stopped("#a", "bob"));
        assert!(!t.stopped("#a", "bob"));
        assert!(!t.stopped("#b", "bob"));
        assert!(t.in_chat("#a", 0.0).is_empty());
    }

    #[test]
    fn typing_is_said_at_most_every_two_seconds_per_chat() {
        let mut sent = TypingSent::default();
        assert!(sent.due("#a", 10_000.0));
        assert!(!sent.due("#a", 11_999.0));
        assert!(sent.due("#b", 11_999.0));
        assert!(sent.due("#a", 12_000.0));
        sent.sent("#a");
        assert!(sent.due("#a", 12_001.0));
    }

    #[test]
    fn the_tab_goes_idle_without_activity_and_back() {
        let mut i = Idleness::since(0.0);
        assert!(!i.tick(IDLE_AFTER_MS));
        assert!(!i.activity(1_000.0));
        assert!(!i.tick(1_000.0 + IDLE_AFTER_MS));
        assert!(i.tick(1_001.0 + IDLE_AFTER_MS));
        assert!(i.is_idle());
        assert!(!i.tick(1_000_000.0));
        assert!(i.activity(1_000_001.0));
        assert!(!i.is_idle());
        assert!(!i.activity(1_000_002.0));
    }

    #[test]
    fn a_hidden_tab_is_idle_at_once_and_active_again_on_use() {
        let mut i = Idleness::since(0.0);
        assert!(i.hide());
        assert!(i.is_idle());
        assert!(!i.hide());
        assert!(!i.tick(1.0));
        assert!(i.activity(2.0));
        assert!(!i.is_idle());
    }

    #[test]
    fn the_status_menu_follows_the_server_except_away() {
        assert_eq!(
            adopted_status(Status::Online, Status::Busy),
            Some(Status::Busy)
        );
        assert_eq!(adopted_status(Status::Busy, Status::Busy), None);
        assert_eq!(adopted_status(Status::Online, Status::Away), None);
        assert_eq!(
            adopted_status(Status::Busy, Status::Offline),
            Some(Status::Offline)
        );
    }

    #[test]
    fn coming_online_keeps_a_chosen_status() {
        let mut users = BTreeMap::new();
        came_online(&mut users, "new".into());
        users.insert("gone".into(), Status::Offline);
        came_online(&mut users, "gone".into());
        users.insert("busy".into(), Status::Busy);
        came_online(&mut users, "busy".into());
        assert_eq!(users["new"], Status::Online);
        assert_eq!(users["gone"], Status::Online);
        assert_eq!(users["busy"], Status::Busy);
    }

    #[test]
    fn members_are_listed_once_in_name_order() {
        let mut members = vec!["al".to_string(), "Cy".to_string()];
        add_member(&mut members, "bob");
        add_member(&mut members, "bob");
        assert_eq!(members, vec!["al", "bob", "Cy"]);
    }
}
