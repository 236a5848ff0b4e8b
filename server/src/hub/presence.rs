//! Presence and typing: a user's status merged over their sessions, who is in a room
//! for the sessions sitting in it, and typing indicators that lapse. None of it is
//! kept in the log; it is fanned out as [`Live`] events.
//!
//! Presence is coalesced per user: the first change after a quiet second is told at
//! once; changes within [`PRESENCE_INTERVAL`] of the last telling only mark the user
//! pending (a flag, and their key queued once per wait), and [`Hub::flush_presence`],
//! run by a timer, tells the latest state when the second is up. A flood of status
//! changes, invisible/visible or idle toggles, or reconnects therefore costs each
//! other session at most a few items a second, and never fills its queue.

use super::{
    name_of, unseat, Hub, Live, LiveShared, Outbound, Place, Session, State, PRESENCE_INTERVAL,
};
use crate::domain::{Chat, ChatRef, Refusal, RoomId, UserKey};
use app::protocol::{Millis, Status};
use std::collections::BTreeSet;
use std::time::Instant;

impl Hub {
    /// Recomputes a user's merged status and tells everyone when it changed; answers
    /// whether anything was told.
    pub(super) fn refresh_presence(&self, state: &mut State, key: &UserKey) -> bool {
        let Some(user) = state.users.get(key) else {
            return false;
        };
        let merged = user
            .elsewhere
            .iter()
            .map(|(_, here)| here.status)
            .chain([local_status(state, user)])
            .max()
            .unwrap_or(Status::Offline);
        let was = user.shown;
        if merged == was {
            return false;
        }
        let name = user.name.clone();
        if let Some(user) = state.users.get_mut(key) {
            user.shown = merged;
        }
        if was == Status::Offline {
            self.broadcast_live(state, Live::Online { user: name.clone() }, None);
        }
        self.broadcast_live(
            state,
            Live::Presence {
                user: name.clone(),
                status: merged,
            },
            None,
        );
        if merged == Status::Offline {
            self.broadcast_live(state, Live::Offline { user: name }, None);
        }
        true
    }

    /// Runs `change`, a change of the user's presence (status, visibility, idleness,
    /// a session coming or going), and tells others about it: at once when nothing
    /// was told of the user in the last [`PRESENCE_INTERVAL`], otherwise at the next
    /// flush (the latest state wins; nothing is computed or allocated per change).
    pub(super) fn change_presence(
        &self,
        state: &mut State,
        key: &UserKey,
        change: impl FnOnce(&mut State),
    ) {
        self.touch(state, key);
        let now = Instant::now();
        let waiting = state.users.get(key).is_some_and(|u| {
            u.pending
                || u.told_at
                    .is_some_and(|t| now.duration_since(t) < PRESENCE_INTERVAL)
        });
        if !waiting {
            let rooms = self.with_room_presence(state, key, change);
            let status = self.refresh_presence(state, key);
            if rooms || status {
                if let Some(user) = state.users.get_mut(key) {
                    user.told_at = Some(now);
                }
            }
            return;
        }
        // Keep what the sitting sessions were told, once per wait.
        let keep = !state.sitting.is_empty()
            && state.users.get(key).is_some_and(|u| u.rooms_told.is_none());
        let before = keep.then(|| rooms_present(state, key));
        change(state);
        let State {
            users,
            presence_due,
            ..
        } = state;
        if let Some(user) = users.get_mut(key) {
            if before.is_some() {
                user.rooms_told = before;
            }
            if !user.pending {
                user.pending = true;
                presence_due.push(key.clone());
            }
        }
    }

    /// Tells the latest presence of every user whose changes waited and whose second
    /// is up; run a few times a second.
    pub fn flush_presence(&self) {
        let mut state = self.lock();
        if state.presence_due.is_empty() {
            return;
        }
        let now = Instant::now();
        let due = std::mem::take(&mut state.presence_due);
        let mut later = Vec::new();
        for key in due {
            let ready = state.users.get(&key).map(|u| {
                u.told_at
                    .is_none_or(|t| now.duration_since(t) >= PRESENCE_INTERVAL)
            });
            match ready {
                None => continue,
                Some(false) => {
                    later.push(key);
                    continue;
                }
                Some(true) => {}
            }
            let before = state.users.get_mut(&key).and_then(|u| {
                u.pending = false;
                u.rooms_told.take()
            });
            let mut told = false;
            if let Some(before) = before {
                if !state.sitting.is_empty() {
                    let after = rooms_present(&state, &key);
                    told |= self.tell_rooms(&mut state, &key, &before, &after);
                }
            }
            told |= self.refresh_presence(&mut state, &key);
            if told {
                if let Some(user) = state.users.get_mut(&key) {
                    user.told_at = Some(now);
                }
            }
        }
        state.presence_due = later;
    }

    /// Runs `change` and tells the sessions sitting in each room the user came into or
    /// left because of it, at once; answers whether anything was told.
    pub(super) fn with_room_presence(
        &self,
        state: &mut State,
        user: &UserKey,
        change: impl FnOnce(&mut State),
    ) -> bool {
        self.touch(state, user);
        // Nobody sits anywhere (no Workshop client): nobody to tell, nothing to compute.
        // A session that sits down now is the user's own, which is not told.
        let before = if state.sitting.is_empty() {
            BTreeSet::new()
        } else {
            rooms_present(state, user)
        };
        change(state);
        if state.sitting.is_empty() {
            return false;
        }
        let after = rooms_present(state, user);
        if before == after {
            return false;
        }
        // A change told now also moves what a waiting change compares against.
        if let Some(told) = state
            .users
            .get_mut(user)
            .and_then(|u| u.rooms_told.as_mut())
        {
            for r in before.difference(&after) {
                told.remove(r);
            }
            told.extend(after.difference(&before).copied());
        }
        self.tell_rooms(state, user, &before, &after)
    }

    /// Tells the sessions sitting in each room in one set and not the other that the
    /// user left it or came into it; answers whether anything was told.
    fn tell_rooms(
        &self,
        state: &mut State,
        user: &UserKey,
        before: &BTreeSet<RoomId>,
        after: &BTreeSet<RoomId>,
    ) -> bool {
        if before == after {
            return false;
        }
        let name = state
            .users
            .get(user)
            .map_or_else(|| user.as_str().to_owned(), |u| u.name.clone());
        let changes = before
            .difference(after)
            .map(|r| (*r, false))
            .chain(after.difference(before).map(|r| (*r, true)));
        let mut told = false;
        for (room, present) in changes.collect::<Vec<_>>() {
            let (Some(seated), Some(entry)) = (state.sitting.get(&room), state.rooms.get(&room))
            else {
                continue;
            };
            let item = Outbound::Live(LiveShared::new(Live::RoomPresence {
                room: entry.name.clone(),
                user: name.clone(),
                present,
            }));
            for id in seated.clone() {
                if let Some(session) = state.sessions.get_mut(&id) {
                    if session.user != *user {
                        Self::push(session, item.clone());
                        told = true;
                    }
                }
            }
        }
        told
    }

    /// Places a session in one room (Workshop's room switch); the user must be a
    /// member.
    pub fn sit(&self, session: &Session, room: &ChatRef) -> Result<RoomId, Refusal> {
        let mut state = self.lock();
        let Chat::Room(id) = Self::resolve(&state, &session.user, room, true)? else {
            return Err(Refusal::BadRequest("only rooms can be sat in".into()));
        };
        self.with_room_presence(&mut state, &session.user, |state| {
            let Some(entry) = state.sessions.get_mut(&session.id) else {
                return;
            };
            let was = std::mem::replace(&mut entry.place, Place::Room(id));
            if was == Place::Room(id) {
                return;
            }
            if let Place::Room(old) = was {
                unseat(state, old, session.id);
            }
            state.sitting.entry(id).or_default().push(session.id);
        });
        Ok(id)
    }

    /// Who is in a room for the sessions sitting in it (connected and visible, there
    /// or everywhere they are members), with since when, oldest first.
    pub fn room_present(&self, room: RoomId) -> Vec<(String, Millis)> {
        let state = self.lock();
        let Some(entry) = state.rooms.get(&room) else {
            return Vec::new();
        };
        let seated = state
            .sitting
            .get(&room)
            .into_iter()
            .flatten()
            .filter_map(|id| state.sessions.get(id))
            .map(|s| &s.user);
        let connected_elsewhere = state
            .users
            .iter()
            .filter(|(_, u)| !u.elsewhere.is_empty())
            .map(|(k, _)| k);
        let candidates: BTreeSet<&UserKey> = entry
            .active
            .iter()
            .chain(seated)
            .chain(connected_elsewhere)
            .collect();
        let mut out: Vec<(String, Millis)> = candidates
            .into_iter()
            .filter(|k| present_in(&state, k, room))
            .filter_map(|k| state.users.get(k))
            .filter_map(|u| u.since().map(|at| (u.name.clone(), at)))
            .collect();
        out.sort_by_key(|(n, at)| (*at, n.to_lowercase()));
        out
    }

    /// The user is typing in a chat: tell the other members, at most once per second
    /// per chat; the indicator lapses after the typing TTL.
    pub fn typing(&self, session: &Session, chat: &ChatRef) -> Result<(), Refusal> {
        let mut state = self.lock();
        let chat = Self::resolve(&state, &session.user, chat, true)?;
        let now = Instant::now();
        let key = (session.user.clone(), chat.clone());
        let relay = match state.typing.get(&key) {
            Some((last, _)) => now.duration_since(*last).as_millis() >= 1000,
            None => true,
        };
        let last = if relay {
            now
        } else {
            state.typing.get(&key).map_or(now, |(l, _)| *l)
        };
        state
            .typing
            .insert(key, (last, now + self.limits.typing_ttl));
        if relay {
            let live = Live::Typing {
                chat: name_of(&state, &chat),
                user: session.name.clone(),
            };
            self.chat_live(&mut state, &chat, live, &session.user);
            self.tell_typing(&session.user, &session.name, &chat, true);
        }
        Ok(())
    }

    /// The user stopped typing in a chat.
    pub fn stop_typing(&self, session: &Session, chat: &ChatRef) -> Result<(), Refusal> {
        let mut state = self.lock();
        let chat = Self::resolve(&state, &session.user, chat, true)?;
        self.stop_typing_in(&mut state, &session.user, &chat);
        Ok(())
    }

    /// Ends a typing indicator (typed here or on another node), telling the chat's
    /// other members (and the other nodes, when it was typed here).
    pub(super) fn stop_typing_in(&self, state: &mut State, user: &UserKey, chat: &Chat) {
        let key = (user.clone(), chat.clone());
        let here = state.typing.remove(&key).is_some();
        let elsewhere = state.nodes.typing.remove(&key).is_some();
        if !here && !elsewhere {
            return;
        }
        let name = state
            .users
            .get(user)
            .map_or_else(|| user.as_str().to_owned(), |u| u.name.clone());
        if here {
            self.tell_typing(user, &name, chat, false);
        }
        let live = Live::TypingStopped {
            chat: name_of(state, chat),
            user: name,
        };
        self.chat_live(state, chat, live, user);
    }

    /// Ends every typing indicator that lapsed; run about once a second.
    pub fn sweep_typing(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        let lapsed: Vec<(UserKey, Chat)> = state
            .typing
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for (user, chat) in lapsed {
            self.stop_typing_in(&mut state, &user, &chat);
        }
        self.sweep_typing_elsewhere(&mut state, now);
    }

    /// Sets the status the user chose, for all of their connections and later ones.
    /// A connection that is idle shows `online` as `away`; a hidden one shows nothing.
    /// Counted against the user's status budget.
    pub fn set_status(&self, session: &Session, status: Status) -> Result<(), Refusal> {
        self.take_budget(&session.user, super::budgets::Spend::Status)?;
        let mut state = self.lock();
        self.change_presence(&mut state, &session.user, |state| {
            if let Some(user) = state.users.get_mut(&session.user) {
                user.chosen = status;
            }
        });
        self.tell_chosen(&session.user, status);
        Ok(())
    }

    /// This connection goes invisible (`false`) or visible again (`true`).
    pub fn set_visible(&self, session: &Session, visible: bool) {
        let mut state = self.lock();
        self.change_presence(&mut state, &session.user, |state| {
            if let Some(s) = state.sessions.get_mut(&session.id) {
                s.hidden = !visible;
            }
        });
    }

    /// Nobody uses this connection (`true`), or someone does again.
    pub fn set_idle(&self, session: &Session, idle: bool) {
        let mut state = self.lock();
        self.change_presence(&mut state, &session.user, |state| {
            if let Some(s) = state.sessions.get_mut(&session.id) {
                s.idle = idle;
            }
        });
    }
}

/// A user's status merged over their connections on this node.
pub(super) fn local_status(state: &State, user: &super::UserEntry) -> Status {
    user.sessions
        .iter()
        .filter_map(|s| state.sessions.get(s))
        .map(|s| match (s.hidden, s.idle, user.chosen) {
            (true, _, _) => Status::Offline,
            (false, true, Status::Online) => Status::Away,
            (false, _, chosen) => chosen,
        })
        .max()
        .unwrap_or(Status::Offline)
}

/// Whether `user` is in `room` for the sessions sitting there: a visible session of
/// theirs (on any node) sits in it, or is everywhere and they are a member.
fn present_in(state: &State, user: &UserKey, room: RoomId) -> bool {
    let Some(entry) = state.users.get(user) else {
        return false;
    };
    if entry.chosen == Status::Offline {
        return false;
    }
    let member = state
        .rooms
        .get(&room)
        .is_some_and(|r| r.members.contains(user));
    let elsewhere = entry
        .elsewhere
        .iter()
        .any(|(_, h)| h.sits.contains(&room) || (h.everywhere && member));
    elsewhere
        || entry
            .sessions
            .iter()
            .filter_map(|id| state.sessions.get(id))
            .filter(|s| !s.hidden)
            .any(|s| match s.place {
                Place::Room(r) => r == room,
                Place::Everywhere => member,
            })
}

/// Every room the user is in for the sessions sitting in it.
fn rooms_present(state: &State, user: &UserKey) -> BTreeSet<RoomId> {
    let mut out = BTreeSet::new();
    let Some(entry) = state.users.get(user) else {
        return out;
    };
    if entry.chosen == Status::Offline {
        return out;
    }
    let mut everywhere = false;
    for (_, here) in &entry.elsewhere {
        everywhere |= here.everywhere;
        out.extend(here.sits.iter().copied());
    }
    for s in entry
        .sessions
        .iter()
        .filter_map(|id| state.sessions.get(id))
    {
        match s.place {
            _ if s.hidden => {}
            Place::Everywhere => everywhere = true,
            Place::Room(room) => {
                out.insert(room);
            }
        }
    }
    if everywhere {
        out.extend(
            state
                .rooms
                .iter()
                .filter(|(_, r)| r.members.contains(user))
                .map(|(id, _)| *id),
        );
    }
    out
}
