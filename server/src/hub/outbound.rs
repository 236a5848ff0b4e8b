//! What the hub hands to the edges: items of a session's outbound queue (a committed
//! log event with the receiver's unread count, or a live event), how a chat is named to
//! each of its members, and an opaque render cache on every item so that an edge
//! serializes an event once however many of its sessions receive it.

use crate::domain::{ChatRef, LogEvent, UserKey};
use app::protocol::{Millis, Status};
use std::any::Any;
use std::sync::{Arc, OnceLock};

/// Render slots per item: each edge owns fixed slots (the native protocol two, one per
/// side of a direct chat; each dialect one).
pub const RENDER_SLOTS: usize = 6;

/// Serialized forms of one item, filled lazily by the edges, one slot per edge and
/// view. The hub never looks inside: a slot holds whatever its edge put there.
#[derive(Default)]
pub struct RenderCache {
    slots: [OnceLock<Box<dyn Any + Send + Sync>>; RENDER_SLOTS],
}

impl RenderCache {
    /// The value in `slot`, rendering it first if the slot is empty. A slot out of
    /// range or holding another type (a bug in an edge) renders without caching.
    pub fn get_or_render<T, F>(&self, slot: usize, render: F) -> T
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> T,
    {
        let Some(cell) = self.slots.get(slot) else {
            return render();
        };
        if let Some(cached) = cell.get().and_then(|v| v.downcast_ref::<T>()) {
            return cached.clone();
        }
        let value = render();
        let _ = cell.set(Box::new(value.clone()));
        value
    }
}

/// A committed log event on its way to sessions.
pub struct Shared {
    pub event: LogEvent,
    pub name: ChatName,
    pub frames: RenderCache,
}

/// How a chat is named to its members: a room's name, or the two people of a direct
/// chat (each sees the other as the chat).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatName {
    Room(String),
    Direct {
        a: UserKey,
        a_name: String,
        b: UserKey,
        b_name: String,
    },
}

impl ChatName {
    /// The chat as `viewer` refers to it: the room, or the other person.
    pub fn seen_by(&self, viewer: &UserKey) -> ChatRef {
        match self {
            ChatName::Room(name) => ChatRef::Room(name.clone()),
            ChatName::Direct {
                a, a_name, b_name, ..
            } => ChatRef::Direct(if a == viewer { b_name } else { a_name }.clone()),
        }
    }

    /// Which of the (at most two) views of this chat `viewer` has: 0 or 1.
    pub fn view_of(&self, viewer: &UserKey) -> usize {
        match self {
            ChatName::Direct { b, .. } if b == viewer => 1,
            _ => 0,
        }
    }

    /// The room's name, if this is a room.
    pub fn room(&self) -> Option<&str> {
        match self {
            ChatName::Room(name) => Some(name),
            ChatName::Direct { .. } => None,
        }
    }
}

/// Something that happened and is not kept in the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    Typing {
        chat: ChatName,
        user: String,
    },
    /// The user stopped typing (sent the message, said so, or the indicator lapsed).
    TypingStopped {
        chat: ChatName,
        user: String,
    },
    /// The user became visible (first session, or back from invisible).
    Online {
        user: String,
    },
    /// The user is gone or invisible.
    Offline {
        user: String,
    },
    /// The user's merged status changed.
    Presence {
        user: String,
        status: Status,
    },
    /// The user came into (`present`) or left a room, as the sessions sitting in that
    /// room see it (see [`Place`](super::Place)).
    RoomPresence {
        room: String,
        user: String,
        present: bool,
    },
    /// A message from the server: to everyone, or to one user (`to`).
    Broadcast {
        text: String,
        to: Option<String>,
    },
    /// A room was created (so room lists can refresh).
    RoomCreated {
        room: String,
        creator: String,
    },
    /// `user` set the notification level of `chat` (as they name it): for their own
    /// sessions only.
    Notify {
        user: UserKey,
        chat: String,
        level: app::protocol::NotifyLevel,
    },
    /// Someone changed their profile: for everyone connected.
    Profile(app::protocol::Profile),
    /// `user`'s role changed: for their own sessions only.
    Role {
        user: String,
        role: app::protocol::Role,
    },
}

pub struct LiveShared {
    pub live: Live,
    pub at: Millis,
    pub frames: RenderCache,
}

impl LiveShared {
    pub fn new(live: Live) -> Arc<LiveShared> {
        Arc::new(LiveShared {
            live,
            at: crate::domain::now_ms(),
            frames: RenderCache::default(),
        })
    }
}

/// One item of a session's outbound queue.
#[derive(Clone)]
pub enum Outbound {
    /// A log event; `missed` is the receiver's unread count in its chat afterwards.
    Logged {
        event: Arc<Shared>,
        missed: u64,
    },
    Live(Arc<LiveShared>),
}
