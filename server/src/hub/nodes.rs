//! The other nodes: who is connected to them, and who types there. The log carries
//! everything that must survive (messages, receipts, membership); what is only live —
//! presence, typing, how many connections a person holds — travels between nodes as
//! [`NodeNote`]s over a [`Bus`] (NATS core in `crate::bus`), which may lose a note and
//! never holds one.
//!
//! Each node tells the others, for every account connected to it, a [`Here`]: how many
//! connections, the status merged over them, since when, where they sit. It sends only
//! what changed since it last told (checked a few times a second, so a flood of status
//! toggles costs the bus a few notes a second), numbered; a beat every second carries
//! the last number, so a node that missed a note sees the gap and asks for the whole
//! roll again. A node unheard for [`NODE_SILENCE`] is dead: its people are no longer
//! counted (the 3-connection limit) nor shown online (no "ghost online"). While this
//! node's own bus is down it judges nobody: the others' people stay as last heard,
//! and when the bus is back every node rolls out its people again.
//!
//! The hub merges the [`Here`]s into each user's entry (`UserEntry::elsewhere`):
//! presence is the highest status over all their connections on every node, the
//! connection limit counts them all, Workshop's room presence includes where they sit
//! elsewhere. Guests are visitors of one node and are not told.

use super::{Hub, Live, Place, State};
use crate::domain::{now_ms, Chat, RoomId, UserKey};
use app::protocol::{Millis, Status};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How often a node says it is alive.
pub const BEAT: Duration = Duration::from_secs(1);
/// A node unheard for this long is gone: its people are no longer counted or shown.
pub const NODE_SILENCE: Duration = Duration::from_secs(3);
/// People per roll note, so that a roll of many thousands stays well under NATS's
/// 1 MB message limit.
const ROLL_CHUNK: usize = 500;

/// One running node (random at each start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId(pub String);

impl NodeId {
    /// A fresh random id.
    pub fn random() -> NodeId {
        use rand_core::{OsRng, RngCore};
        NodeId(format!("{:016x}", OsRng.next_u64()))
    }
}

/// An account's connections on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Here {
    pub sessions: u32,
    /// Merged over those connections (`offline` when all are invisible).
    pub status: Status,
    /// The status the person chose.
    pub chosen: Status,
    /// Connected there since.
    pub since: Millis,
    /// Rooms a visible connection sits in (Workshop).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sits: Vec<RoomId>,
    /// A visible connection is in all the person's rooms.
    #[serde(default)]
    pub everywhere: bool,
}

/// What one node tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NodeNote {
    /// These people's connections on `node` are now these (`None`: none left).
    People {
        node: NodeId,
        seq: u64,
        people: Vec<(UserKey, Option<Here>)>,
    },
    /// Everyone connected to `node`, in parts; the last (`done`) ends the roll, and
    /// whoever it did not name has no connection there.
    Roll {
        node: NodeId,
        seq: u64,
        people: Vec<(UserKey, Here)>,
        done: bool,
    },
    /// `node` is alive, and `seq` is the number of its last `people` note.
    Beat { node: NodeId, seq: u64 },
    /// `node` asks for the roll of `to`, or of every node.
    Hello { node: NodeId, to: Option<NodeId> },
    /// `node` is shutting down.
    Bye { node: NodeId },
    /// `user` is typing in `chat` (`on`), or stopped.
    Typing {
        node: NodeId,
        user: UserKey,
        name: String,
        chat: Chat,
        on: bool,
    },
    /// `user` chose a status: every node adopts it.
    Chose {
        node: NodeId,
        user: UserKey,
        status: Status,
    },
}

/// Where a node's notes go. Sending never waits: a note that cannot go now is dropped
/// (nothing in one is kept only there; the next roll repairs what it said).
pub trait Bus: Send + Sync {
    fn send(&self, note: NodeNote);
}

/// What this node knows of the others, and what it last told them.
#[derive(Default)]
pub(super) struct Nodes {
    /// Whether this node's bus is up (while it is not, nobody is judged dead).
    up: bool,
    seq: u64,
    last_beat: Option<Instant>,
    /// What the others were last told of each of our people.
    told: HashMap<UserKey, Here>,
    /// People whose connections changed since the last look.
    pub(super) dirty: HashSet<UserKey>,
    others: HashMap<NodeId, Other>,
    /// Typing on other nodes, until when it lapses.
    pub(super) typing: HashMap<(UserKey, Chat), Instant>,
}

struct Other {
    heard: Instant,
    seq: u64,
    /// The people it has (our record of them is in each `UserEntry::elsewhere`).
    people: HashSet<UserKey>,
    /// During a roll: who it named so far.
    rolling: Option<HashSet<UserKey>>,
}

impl Hub {
    /// Connects the bus: from now on this node tells and hears the others.
    pub fn set_bus(&self, bus: std::sync::Arc<dyn Bus>) {
        if self.bus.set(bus).is_err() {
            tracing::warn!("the bus was set twice; keeping the first");
        }
    }

    fn send(&self, note: NodeNote) {
        if let Some(bus) = self.bus.get() {
            bus.send(note);
        }
    }

    /// The bus (re)connected: ask every node for its roll and give ours.
    pub fn bus_up(&self) {
        let mut state = self.lock();
        state.nodes.up = true;
        // Nobody was heard while we were cut off: judge them from now on.
        let now = Instant::now();
        for other in state.nodes.others.values_mut() {
            other.heard = now;
        }
        self.send(NodeNote::Hello {
            node: self.node.clone(),
            to: None,
        });
        self.roll(&mut state);
    }

    /// The bus is down: keep the others' people as last heard until it is back.
    pub fn bus_down(&self) {
        self.lock().nodes.up = false;
    }

    /// What this node says when it stops: the others forget its people at once.
    pub fn goodbye(&self) -> NodeNote {
        NodeNote::Bye {
            node: self.node.clone(),
        }
    }

    /// Tells what changed, beats, and forgets silent nodes; run a few times a second.
    pub fn tick_nodes(&self) {
        if self.bus.get().is_none() {
            return;
        }
        let mut state = self.lock();
        let now = Instant::now();
        let dirty: Vec<UserKey> = state.nodes.dirty.drain().collect();
        let mut people = Vec::new();
        for key in dirty {
            let here = here_of(&state, &key);
            if state.nodes.told.get(&key) == here.as_ref() {
                continue;
            }
            match &here {
                Some(h) => state.nodes.told.insert(key.clone(), h.clone()),
                None => state.nodes.told.remove(&key),
            };
            people.push((key, here));
        }
        for part in people.chunks(ROLL_CHUNK) {
            state.nodes.seq += 1;
            self.send(NodeNote::People {
                node: self.node.clone(),
                seq: state.nodes.seq,
                people: part.to_vec(),
            });
        }
        if state.nodes.last_beat.is_none_or(|t| now - t >= BEAT) {
            state.nodes.last_beat = Some(now);
            self.send(NodeNote::Beat {
                node: self.node.clone(),
                seq: state.nodes.seq,
            });
        }
        if state.nodes.up {
            let silent: Vec<NodeId> = state
                .nodes
                .others
                .iter()
                .filter(|(_, o)| now - o.heard >= NODE_SILENCE)
                .map(|(id, _)| id.clone())
                .collect();
            for node in silent {
                tracing::info!(node = %node.0, "a node fell silent: forgetting its people");
                self.forget_node(&mut state, &node);
            }
        }
    }

    /// Everyone connected here, to every node (or one that asked).
    fn roll(&self, state: &mut State) {
        let people: Vec<(UserKey, Here)> = state
            .users
            .keys()
            .filter_map(|k| here_of(state, k).map(|h| (k.clone(), h)))
            .collect();
        state.nodes.told = people.iter().cloned().collect();
        state.nodes.dirty.clear();
        let seq = state.nodes.seq;
        let parts: Vec<&[(UserKey, Here)]> = if people.is_empty() {
            vec![&[]]
        } else {
            people.chunks(ROLL_CHUNK).collect()
        };
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            self.send(NodeNote::Roll {
                node: self.node.clone(),
                seq,
                people: part.to_vec(),
                done: i == last,
            });
        }
    }

    /// A note from another node.
    pub fn heard(&self, note: NodeNote) {
        let mut state = self.lock();
        let now = Instant::now();
        match note {
            NodeNote::People { node, seq, people } => {
                if node == self.node {
                    return;
                }
                let other = self.other(&mut state, &node, now);
                let gap = other.seq + 1 != seq;
                other.seq = seq;
                if gap {
                    self.ask_roll(&node);
                }
                for (user, here) in people {
                    self.set_elsewhere(&mut state, &node, &user, here);
                }
            }
            NodeNote::Roll {
                node,
                seq,
                people,
                done,
            } => {
                if node == self.node {
                    return;
                }
                let other = self.other(&mut state, &node, now);
                other.seq = seq;
                let rolling = other.rolling.get_or_insert_with(HashSet::new);
                rolling.extend(people.iter().map(|(k, _)| k.clone()));
                for (user, here) in people {
                    self.set_elsewhere(&mut state, &node, &user, Some(here));
                }
                if done {
                    let Some(other) = state.nodes.others.get_mut(&node) else {
                        return;
                    };
                    let named = other.rolling.take().unwrap_or_default();
                    let gone: Vec<UserKey> = other.people.difference(&named).cloned().collect();
                    for user in gone {
                        self.set_elsewhere(&mut state, &node, &user, None);
                    }
                }
            }
            NodeNote::Beat { node, seq } => {
                if node == self.node {
                    return;
                }
                let other = self.other(&mut state, &node, now);
                if other.seq != seq && other.rolling.is_none() {
                    self.ask_roll(&node);
                }
            }
            NodeNote::Hello { node, to } => {
                if node != self.node && to.is_none_or(|to| to == self.node) {
                    self.roll(&mut state);
                }
            }
            NodeNote::Bye { node } => {
                if node != self.node {
                    self.forget_node(&mut state, &node);
                }
            }
            NodeNote::Typing {
                node,
                user,
                name,
                chat,
                on,
            } => {
                if node != self.node {
                    self.typing_elsewhere(&mut state, user, name, chat, on, now);
                }
            }
            NodeNote::Chose { node, user, status } => {
                if node != self.node {
                    self.change_presence(&mut state, &user, |state| {
                        if let Some(entry) = state.users.get_mut(&user) {
                            entry.chosen = status;
                        }
                    });
                }
            }
        }
    }

    /// Our record of `node`, heard now (made at its first note).
    fn other<'a>(&self, state: &'a mut State, node: &NodeId, now: Instant) -> &'a mut Other {
        let other = state.nodes.others.entry(node.clone()).or_insert_with(|| {
            tracing::info!(node = %node.0, "a node joined");
            Other {
                heard: now,
                seq: 0,
                people: HashSet::new(),
                rolling: None,
            }
        });
        other.heard = now;
        other
    }

    fn ask_roll(&self, node: &NodeId) {
        self.send(NodeNote::Hello {
            node: self.node.clone(),
            to: Some(node.clone()),
        });
    }

    /// `user`'s connections on `node` are now `here`.
    fn set_elsewhere(&self, state: &mut State, node: &NodeId, user: &UserKey, here: Option<Here>) {
        if let Some(other) = state.nodes.others.get_mut(node) {
            if here.is_some() {
                other.people.insert(user.clone());
            } else {
                other.people.remove(user);
            }
        }
        // An account this node does not know (yet), or a name a guest holds here.
        if state.users.get(user).is_none_or(|u| u.guest) {
            return;
        }
        self.change_presence(state, user, |state| {
            let Some(entry) = state.users.get_mut(user) else {
                return;
            };
            entry.elsewhere.retain(|(n, _)| n != node);
            if let Some(here) = here {
                // Someone only connected elsewhere shows what they chose there.
                if entry.sessions.is_empty() {
                    entry.chosen = here.chosen;
                }
                entry.elsewhere.push((node.clone(), here));
            }
        });
    }

    /// Forgets a node that left or fell silent: its people are no longer connected
    /// there, and its typing ends.
    fn forget_node(&self, state: &mut State, node: &NodeId) {
        let Some(other) = state.nodes.others.remove(node) else {
            return;
        };
        for user in other.people {
            self.change_presence(state, &user, |state| {
                if let Some(entry) = state.users.get_mut(&user) {
                    entry.elsewhere.retain(|(n, _)| n != node);
                }
            });
        }
    }

    /// Typing told by another node: relayed to the members connected here.
    fn typing_elsewhere(
        &self,
        state: &mut State,
        user: UserKey,
        name: String,
        chat: Chat,
        on: bool,
        now: Instant,
    ) {
        let key = (user, chat);
        let was = if on {
            state
                .nodes
                .typing
                .insert(key.clone(), now + self.limits.typing_ttl)
        } else {
            state.nodes.typing.remove(&key)
        };
        let (user, chat) = key;
        let live = if on {
            Live::Typing {
                chat: super::name_of(state, &chat),
                user: name,
            }
        } else if was.is_some() {
            Live::TypingStopped {
                chat: super::name_of(state, &chat),
                user: name,
            }
        } else {
            return;
        };
        self.chat_live(state, &chat, live, &user);
    }

    /// Tells the other nodes that `user` is typing in `chat` (or stopped).
    pub(super) fn tell_typing(&self, user: &UserKey, name: &str, chat: &Chat, on: bool) {
        if self.bus.get().is_none() {
            return;
        }
        self.send(NodeNote::Typing {
            node: self.node.clone(),
            user: user.clone(),
            name: name.to_owned(),
            chat: chat.clone(),
            on,
        });
    }

    /// Tells the other nodes the status `user` chose.
    pub(super) fn tell_chosen(&self, user: &UserKey, status: Status) {
        self.send(NodeNote::Chose {
            node: self.node.clone(),
            user: user.clone(),
            status,
        });
    }

    /// Ends the typing of other nodes that lapsed (their stop was lost, or the node died).
    pub(super) fn sweep_typing_elsewhere(&self, state: &mut State, now: Instant) {
        let lapsed: Vec<(UserKey, Chat)> = state
            .nodes
            .typing
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for (user, chat) in lapsed {
            let name = state
                .users
                .get(&user)
                .map_or_else(|| user.as_str().to_owned(), |u| u.name.clone());
            self.typing_elsewhere(state, user, name, chat, false, now);
        }
    }
}

impl Hub {
    /// Marks a person whose connections here may have changed, for the next look
    /// (only when there are other nodes to tell).
    pub(super) fn touch(&self, state: &mut State, user: &UserKey) {
        if self.bus.get().is_some() && !state.nodes.dirty.contains(user) {
            state.nodes.dirty.insert(user.clone());
        }
    }
}

/// What the other nodes should know of `key`'s connections here (`None`: none, or a
/// guest).
fn here_of(state: &State, key: &UserKey) -> Option<Here> {
    let user = state.users.get(key)?;
    if user.guest || user.sessions.is_empty() {
        return None;
    }
    let mut sits = Vec::new();
    let mut everywhere = false;
    for s in user.sessions.iter().filter_map(|id| state.sessions.get(id)) {
        match s.place {
            _ if s.hidden => {}
            Place::Everywhere => everywhere = true,
            Place::Room(room) => sits.push(room),
        }
    }
    sits.sort_unstable();
    sits.dedup();
    Some(Here {
        sessions: u32::try_from(user.sessions.len()).unwrap_or(u32::MAX),
        status: super::presence::local_status(state, user),
        chosen: user.chosen,
        since: user.connected_at.unwrap_or_else(now_ms),
        sits,
        everywhere,
    })
}
