//! The committed-event stream's end: each event the store commits updates the world in
//! memory (memberships, rooms, the counters of connected users) and goes to the
//! sessions that should see it, with their unread count. The work per event follows
//! who is connected: a room's offline members cost nothing.

use super::{active_members, name_of, Hub, Live, Outbound, RoomEntry, Shared, State, UserEntry};
use crate::domain::{Chat, EventData, LogEvent, SessionId, UserKey};
use crate::store::EventSink;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl EventSink for Hub {
    fn publish(&self, events: &[LogEvent], origin: Option<SessionId>) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        for ev in events {
            if let EventData::New { message } = &ev.data {
                self.stop_typing_in(&mut state, &UserKey::of(&message.sender), &ev.chat);
            }
            let leaver = self.apply_membership(&mut state, ev);
            if let EventData::Join {
                created: true,
                room,
                user,
                ..
            } = &ev.data
            {
                let live = Live::RoomCreated {
                    room: room.clone(),
                    creator: user.clone(),
                };
                self.broadcast_live(&mut state, live, None);
            }
            let shared = Arc::new(Shared {
                event: ev.clone(),
                name: name_of(&state, &ev.chat),
                frames: super::RenderCache::default(),
            });
            let State {
                users,
                rooms,
                sessions,
                ..
            } = &mut *state;
            let recipients = active_members(rooms, &ev.chat).chain(leaver.as_ref());
            for key in recipients {
                let Some(user) = users.get_mut(key) else {
                    continue;
                };
                user.counters.apply(key, ev);
                let missed = user.counters.get(&ev.chat).unread;
                for id in &user.sessions {
                    if Some(*id) == origin {
                        continue;
                    }
                    if let Some(session) = sessions.get_mut(id) {
                        Self::push(
                            session,
                            Outbound::Logged {
                                event: shared.clone(),
                                missed,
                            },
                        );
                    }
                }
            }
        }
    }
}

impl Hub {
    /// Applies a join or leave to the rooms in memory; answers who left (they still
    /// receive the event).
    fn apply_membership(&self, state: &mut State, ev: &LogEvent) -> Option<UserKey> {
        let Chat::Room(id) = ev.chat else {
            return None;
        };
        match &ev.data {
            EventData::Join {
                user,
                room,
                created,
                creator,
            } => {
                let key = UserKey::of(user);
                if *created {
                    state.room_ids.insert(room.to_lowercase(), id);
                    state.rooms.insert(
                        id,
                        RoomEntry {
                            name: room.clone(),
                            creator: creator.clone(),
                            members: HashSet::new(),
                            active: HashSet::new(),
                        },
                    );
                }
                state
                    .users
                    .entry(key.clone())
                    .or_insert_with(|| UserEntry::new(user, false));
                self.with_room_presence(state, &key, |state| {
                    let kept = state.users.get(&key).is_some_and(|u| u.counters.kept());
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.insert(key.clone());
                        if kept {
                            r.active.insert(key.clone());
                        }
                    }
                });
                None
            }
            EventData::Leave { user, .. } => {
                let key = UserKey::of(user);
                self.with_room_presence(state, &key, |state| {
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.remove(&key);
                        r.active.remove(&key);
                    }
                });
                Some(key)
            }
            _ => None,
        }
    }
}
