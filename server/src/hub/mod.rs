//! The hub: Parlor's world in memory — users and their sessions, rooms and members,
//! presence, typing, unread counters and per-user limits — and the fan-out of events
//! to sessions.
//!
//! The hub speaks only the domain: chats are [`ChatRef`]s and [`Chat`]s, users
//! [`UserKey`]s, messages ids. It knows no JSON, no socket and no web framework. Edges
//! (the native protocol and each dialect) call its commands and read [`Outbound`]
//! items from their session's bounded queue, rendering them in their own protocol
//! (once per item and view, in the item's opaque [`RenderCache`]).
//!
//! State changes that must survive a crash go through the [`Store`]; the store hands
//! every committed log event back to [`Hub::publish`](crate::store::EventSink) in log
//! order, which updates the world in memory and fans the event out. The commands that
//! write messages and that fan-out, the path of every chat message, share one file
//! (`messages`); the other commands are in `commands`, the reads in `queries`. Nothing
//! here awaits while holding the state lock.

mod access;
mod accounts;
mod bans;
mod budgets;
mod commands;
mod counters;
mod limits;
mod login;
mod mentions;
mod messages;
mod names;
mod nodes;
mod notices;
mod notify;
mod outbound;
mod passwords;
mod people;
mod presence;
mod push;
mod queries;
mod reactions;
mod rooms;
mod search;
mod sessions;
#[cfg(test)]
mod tests;
mod throttle;

pub use access::{InviteSpec, Maker};
pub use budgets::Budget;
pub use limits::*;
pub use login::{Ended, Kick, Login, Place};
pub use nodes::{Bus, Here, NodeId, NodeNote};
pub use outbound::*;
pub use push::{Notifier, PushNote, NTFY_PATH};
pub use queries::*;
pub use reactions::{emoji_of, MarkLimits, MARK_BUDGET};
pub use rooms::RoomEdit;
pub use search::{Found, SEARCH_BUDGET};
pub use throttle::ThrottleRules;

use crate::domain::{now_ms, Chat, ChatRef, Refusal, RoomId, SessionId, UserKey};
use crate::store::{RoomState, Store, StoreError};
use app::protocol::{EventId, Millis, Registration, Role, Status};
use counters::Counters;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;
use tokio::sync::mpsc;

struct UserEntry {
    name: String,
    guest: bool,
    /// An account's role (`member` for a guest).
    role: Role,
    profile: crate::store::StoredProfile,
    /// The people this user blocked.
    blocked: HashSet<UserKey>,
    /// The status the user chose (setStatus); new sessions start with it.
    chosen: Status,
    /// The merged status others were last told.
    shown: Status,
    sessions: Vec<SessionId>,
    /// Since when the user has had a connection (while they have one).
    connected_at: Option<Millis>,
    /// The highest event id the user acknowledged (stored when they disconnect).
    acked: EventId,
    counters: Counters,
    sent: VecDeque<Instant>,
    spent: budgets::Spent,
    /// When others were last told of this user's presence (status, or rooms to the
    /// sessions sitting in them); changes within [`PRESENCE_INTERVAL`] of it wait.
    told_at: Option<Instant>,
    /// A change waits for the next flush (the user is in `State::presence_due`).
    pending: bool,
    /// While a change waits: the rooms the sitting sessions were last told the user
    /// is in (kept once per wait, not per change).
    rooms_told: Option<BTreeSet<RoomId>>,
    /// A guest's hold on its name: the address it came from, and, while it has no
    /// connection, until when its name stays its own.
    visit: Option<Visit>,
    /// The user's connections on other nodes, as each last told (`nodes`).
    elsewhere: Vec<(NodeId, Here)>,
}

/// A guest is a visitor: kept in memory only, in General while connected, its name
/// held for the grace period after it leaves.
#[derive(Debug, Clone, Copy)]
struct Visit {
    address: IpAddr,
    held_until: Option<Instant>,
}

impl UserEntry {
    fn new(name: &str, guest: bool) -> UserEntry {
        UserEntry {
            name: name.to_owned(),
            guest,
            role: Role::Member,
            profile: Default::default(),
            blocked: HashSet::new(),
            visit: None,
            chosen: Status::Online,
            shown: Status::Offline,
            sessions: Vec::new(),
            connected_at: None,
            acked: 0,
            counters: Counters::Unloaded,
            sent: VecDeque::new(),
            spent: budgets::Spent::default(),
            told_at: None,
            pending: false,
            rooms_told: None,
            elsewhere: Vec::new(),
        }
    }

    /// Connections on every node.
    fn connections(&self) -> usize {
        let elsewhere: usize = self
            .elsewhere
            .iter()
            .map(|(_, h)| h.sessions as usize)
            .sum();
        self.sessions.len() + elsewhere
    }

    /// Connected (on any node) since, while connected.
    fn since(&self) -> Option<Millis> {
        self.elsewhere
            .iter()
            .map(|(_, h)| h.since)
            .chain(self.connected_at)
            .min()
    }
}

struct RoomEntry {
    name: String,
    creator: Option<String>,
    /// The creator was a guest: only a guest of that name may clear the room, never
    /// an account that registers the name once the guest is gone.
    creator_guest: bool,
    members: HashSet<UserKey>,
    /// The members whose counters are kept (those connected): the only ones a room
    /// event costs work for.
    active: HashSet<UserKey>,
    /// Topic, private, announcement-only, muted members.
    settings: RoomState,
}

struct SessionEntry {
    user: UserKey,
    tx: mpsc::Sender<Outbound>,
    /// The connection went invisible (client event `offline`).
    hidden: bool,
    /// Nobody uses the connection (client event `idle`).
    idle: bool,
    subscribed: bool,
    place: Place,
    /// The hash of the session token the connection holds.
    token: Option<String>,
    kick: Arc<Kick>,
    kicked: bool,
}

#[derive(Default)]
struct State {
    users: HashMap<UserKey, UserEntry>,
    rooms: HashMap<RoomId, RoomEntry>,
    room_ids: HashMap<String, RoomId>,
    sessions: HashMap<SessionId, SessionEntry>,
    typing: HashMap<(UserKey, Chat), (Instant, Instant)>,
    /// Sessions placed in one room, by room: who hears [`Live::RoomPresence`].
    sitting: HashMap<RoomId, Vec<SessionId>>,
    /// Numbers the loads of counters.
    loads: u64,
    /// Users whose presence changed within a second of the last telling, to be told
    /// by [`Hub::flush_presence`].
    presence_due: Vec<UserKey>,
    /// Every user name in use, by each of its folds (`app::protocol::name_folds`):
    /// accounts, guests holding a name, and registrations under way.
    names: HashMap<String, UserKey>,
    /// Registrations under way, by the name's key (their names are held meanwhile).
    registering: HashMap<UserKey, usize>,
    /// Every room name by its folds; `None` while its creation is under way.
    room_folds: HashMap<String, Option<RoomId>>,
    /// The other nodes: their people and typing, what we told them.
    nodes: nodes::Nodes,
}

pub struct Hub {
    store: Arc<dyn Store>,
    limits: Limits,
    state: Mutex<State>,
    /// Who may sign up now.
    access: access::Access,
    hasher: passwords::Hasher,
    /// Failed logins (its own lock: logins never wait on the world's).
    throttle: Mutex<throttle::Throttle>,
    next_session: AtomicU64,
    /// Grows with every published batch and every session that comes or goes.
    activity: AtomicU64,
    /// Where new messages' push notes go (`server::push`), once set at start.
    notifier: OnceLock<Arc<dyn Notifier>>,
    /// The hub itself, for the tasks it starts.
    me: std::sync::Weak<Hub>,
    /// This node, as the others know it.
    node: NodeId,
    /// Where notes to the other nodes go (`--bus`), once set at start.
    bus: OnceLock<Arc<dyn Bus>>,
}

/// A logged-in connection's hold on the hub; dropping it detaches the session.
pub struct Session {
    pub id: SessionId,
    pub user: UserKey,
    pub name: String,
    pub guest: bool,
    pub echo: bool,
    /// Notified when the hub ends this session (its queue overflowed, its token was
    /// revoked or expired, its user changed the password).
    pub kicked: Arc<Kick>,
    hub: Arc<Hub>,
}

impl Session {
    /// The session a write's events skip: this one, unless it wants its echo.
    pub fn origin(&self) -> Option<SessionId> {
        (!self.echo).then_some(self.id)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.hub.detach(self.id);
    }
}

impl Hub {
    /// Loads the world from the store and connects the store's commits to the hub.
    pub async fn start(store: Arc<dyn Store>, limits: Limits) -> Result<Arc<Hub>, StoreError> {
        let world = store.load_world().await?;
        let mut state = State::default();
        for user in world.users {
            let key = UserKey::of(&user.name);
            names::hold(&mut state.names, &user.name, &key);
            let mut entry = UserEntry::new(&user.name, false);
            entry.role = user.role;
            entry.profile = user.profile;
            state.users.insert(key, entry);
        }
        for (blocker, blocked) in world.blocks {
            if let Some(entry) = state.users.get_mut(&blocker) {
                entry.blocked.insert(blocked);
            }
        }
        // The flag, when given, wins over the owner's last choice.
        let registration = limits
            .registration
            .or(world.registration)
            .unwrap_or(Registration::Open);
        for room in world.rooms {
            state.room_ids.insert(room.name.to_lowercase(), room.id);
            names::hold_room(&mut state.room_folds, &room.name, room.id);
            state.rooms.insert(
                room.id,
                RoomEntry {
                    name: room.name,
                    creator: room.creator,
                    creator_guest: room.creator_guest,
                    members: room.members.into_iter().collect(),
                    active: HashSet::new(),
                    settings: room.settings,
                },
            );
        }
        let hub = Arc::new_cyclic(|me| Hub {
            me: me.clone(),
            store: store.clone(),
            hasher: passwords::Hasher::new(limits.hash_queue),
            throttle: Mutex::new(throttle::Throttle::new(limits.login_throttle.clone())),
            limits,
            state: Mutex::new(state),
            access: access::Access::new(registration),
            next_session: AtomicU64::new(1),
            activity: AtomicU64::new(0),
            notifier: OnceLock::new(),
            node: NodeId::random(),
            bus: OnceLock::new(),
        });
        store.set_sink(hub.clone());
        let expired = store.expire_tokens(hub.token_cutoff()).await?;
        if !expired.is_empty() {
            tracing::info!(expired = expired.len(), "forgot expired session tokens");
        }
        Ok(hub)
    }

    /// A number that changes whenever anything happens (events, arrivals, departures):
    /// equal readings some time apart mean the hub was quiet in between.
    pub fn activity(&self) -> u64 {
        self.activity.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a bug; keep serving with the state as is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection (already authenticated) and loads the user's unread
    /// counters. Refused when the user has the maximum number of connections, or any
    /// connection for an exclusive login.
    pub async fn attach(
        self: &Arc<Self>,
        login: Login,
    ) -> Result<(Session, mpsc::Receiver<Outbound>), Refusal> {
        let attached = self.attach_now(login)?;
        self.load_counters(&attached.0.user).await?;
        Ok(attached)
    }

    /// Makes sure the user's counters are loaded: reads them unless that is done or
    /// under way (then waits for it).
    async fn load_counters(&self, user: &UserKey) -> Result<(), Refusal> {
        loop {
            let epoch = {
                let mut state = self.lock();
                let State { users, loads, .. } = &mut *state;
                let Some(entry) = users.get_mut(user) else {
                    return Ok(());
                };
                match &entry.counters {
                    Counters::Loaded(_) => return Ok(()),
                    Counters::Loading { .. } => None,
                    Counters::Unloaded => {
                        *loads += 1;
                        entry.counters = Counters::loading(*loads);
                        let epoch = *loads;
                        activate(&mut state, user);
                        Some(epoch)
                    }
                }
            };
            let Some(epoch) = epoch else {
                let waiter = self
                    .lock()
                    .users
                    .get(user)
                    .and_then(|u| u.counters.waiter());
                if let Some(mut ready) = waiter {
                    // An error means the load was abandoned: look again.
                    let _ = ready.wait_for(|done| *done).await;
                }
                continue;
            };
            let snapshot = self.store.unread_snapshot(user.clone()).await;
            let mut state = self.lock();
            return match snapshot {
                Ok(snapshot) => {
                    if let Some(entry) = state.users.get_mut(user) {
                        entry.counters.finish(user, epoch, snapshot);
                    }
                    Ok(())
                }
                Err(e) => {
                    if let Some(entry) = state.users.get_mut(user) {
                        if matches!(entry.counters, Counters::Loading { epoch: e, .. } if e == epoch)
                        {
                            entry.counters = Counters::Unloaded;
                            deactivate(&mut state, user);
                        }
                    }
                    Err(e.into_refusal())
                }
            };
        }
    }

    fn attach_now(
        self: &Arc<Self>,
        login: Login,
    ) -> Result<(Session, mpsc::Receiver<Outbound>), Refusal> {
        let key = UserKey::of(&login.name);
        let mut state = self.lock();
        let user = state
            .users
            .entry(key.clone())
            .or_insert_with(|| UserEntry::new(&login.name, login.guest));
        if user.guest != login.guest {
            // A guest name taken by an account, or the reverse, between login and here.
            return Err(Refusal::Conflict("this name is in use".into()));
        }
        // Counted over every node (as last told: two logins on two nodes within the
        // same few milliseconds may both pass).
        if login.exclusive && user.connections() > 0 {
            return Err(Refusal::Conflict("this user is connected already".into()));
        }
        if user.connections() >= self.limits.max_connections_per_user {
            return Err(Refusal::TooManyConnections(format!(
                "at most {} connections per user",
                self.limits.max_connections_per_user
            )));
        }
        if user.sessions.is_empty() {
            user.connected_at = Some(now_ms());
        }
        if let Some(visit) = user.visit.as_mut() {
            visit.held_until = None;
        }
        let display = user.name.clone();
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        self.activity.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.limits.outbound_queue.max(1));
        let kick = Arc::new(Kick::default());
        let token = login.token.as_deref().map(commands::token_hash);
        self.change_presence(&mut state, &key, |state| {
            if let Some(user) = state.users.get_mut(&key) {
                user.sessions.push(id);
            }
            state.sessions.insert(
                id,
                SessionEntry {
                    user: key.clone(),
                    tx,
                    hidden: false,
                    idle: false,
                    subscribed: false,
                    place: login.place,
                    token,
                    kick: kick.clone(),
                    kicked: false,
                },
            );
            if let Place::Room(room) = login.place {
                state.sitting.entry(room).or_default().push(id);
            }
            if login.guest {
                names::visit_general(state, &key);
            }
        });
        drop(state);
        let session = Session {
            id,
            user: key,
            name: display,
            guest: login.guest,
            echo: login.echo,
            kicked: kick,
            hub: Arc::clone(self),
        };
        Ok((session, rx))
    }

    fn detach(&self, id: SessionId) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let Some(user) = state.sessions.get(&id).map(|s| s.user.clone()) else {
            return;
        };
        let mut store_ack = None;
        self.change_presence(&mut state, &user, |state| {
            if let Some(session) = state.sessions.remove(&id) {
                if let Place::Room(room) = session.place {
                    unseat(state, room, id);
                }
            }
            if let Some(entry) = state.users.get_mut(&user) {
                entry.sessions.retain(|s| *s != id);
                if entry.sessions.is_empty() {
                    entry.connected_at = None;
                    entry.counters = Counters::Unloaded;
                    store_ack = (entry.acked > 0 && !entry.guest).then_some(entry.acked);
                }
            }
            names::end_visit(state, &user, self.limits.guest_grace);
            let gone = state.users.get(&user).is_none_or(|u| u.sessions.is_empty());
            if gone {
                deactivate(state, &user);
                let typing: Vec<Chat> = state
                    .typing
                    .keys()
                    .filter(|(u, _)| *u == user)
                    .map(|(_, c)| c.clone())
                    .collect();
                for chat in typing {
                    self.stop_typing_in(state, &user, &chat);
                }
            }
        });
        drop(state);
        if let (Some(event), Ok(rt)) = (store_ack, tokio::runtime::Handle::try_current()) {
            let ack = self.store.set_acked(user, event);
            rt.spawn(async move {
                if let Err(e) = ack.await {
                    tracing::warn!(error = %e, "cannot store an acknowledged position");
                }
            });
        }
    }

    /// From now on the session receives live events.
    pub fn subscribe(&self, session: &Session) {
        if let Some(s) = self.lock().sessions.get_mut(&session.id) {
            s.subscribed = true;
        }
    }

    /// Queues `item` for a session; a full queue drops the session (it resumes later).
    fn push(session: &mut SessionEntry, item: Outbound) {
        if session.kicked || !session.subscribed {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = session.tx.try_send(item) {
            session.kicked = true;
            session.kick.end(Ended::TooSlow);
        }
    }

    /// Sends a live event to every subscribed session (but `except`'s user).
    fn broadcast_live(&self, state: &mut State, live: Live, except: Option<&UserKey>) {
        let item = Outbound::Live(LiveShared::new(live));
        for session in state.sessions.values_mut() {
            if Some(&session.user) != except {
                Self::push(session, item.clone());
            }
        }
    }

    /// Sends a live event to the connected members of `chat` but `except`.
    fn chat_live(&self, state: &mut State, chat: &Chat, live: Live, except: &UserKey) {
        let item = Outbound::Live(LiveShared::new(live));
        let State {
            users,
            rooms,
            sessions,
            ..
        } = state;
        for key in active_members(rooms, chat) {
            if key == except {
                continue;
            }
            let Some(user) = users.get(key) else { continue };
            for id in &user.sessions {
                if let Some(session) = sessions.get_mut(id) {
                    Self::push(session, item.clone());
                }
            }
        }
    }

    /// The chat `chat` names, for `user`; rooms must exist, and with `member` the user
    /// must be in them; direct chats need the other user to exist.
    fn resolve(
        state: &State,
        user: &UserKey,
        chat: &ChatRef,
        member: bool,
    ) -> Result<Chat, Refusal> {
        match chat {
            ChatRef::Room(name) => {
                let id = *state
                    .room_ids
                    .get(&name.to_lowercase())
                    .ok_or_else(|| Refusal::NotFound(format!("no room named {name:?}")))?;
                let room = state.rooms.get(&id);
                let is_member = room.is_some_and(|r| r.members.contains(user));
                // A private room does not exist for those who may not see it.
                if !is_member && room.is_some_and(|r| r.settings.private) && !sees_all(state, user)
                {
                    return Err(Refusal::NotFound(format!("no room named {name:?}")));
                }
                if member && !is_member {
                    return Err(Refusal::Forbidden(format!("join #{name} first")));
                }
                Ok(Chat::Room(id))
            }
            ChatRef::Direct(name) => {
                let other = UserKey::of(name);
                let Some(entry) = state.users.get(&other) else {
                    return Err(Refusal::NotFound(format!("no user named {name:?}")));
                };
                // A guest's name passes to others once the guest is gone: a direct
                // chat with it would pass too. Guests have none.
                let guest = |k: &UserKey| state.users.get(k).is_some_and(|u| u.guest);
                if entry.guest || guest(user) {
                    return Err(Refusal::NotFound(format!(
                        "{name} is a guest: guests have no direct chats"
                    )));
                }
                people::fenced(state, user, &other, name)?;
                Ok(Chat::direct(user, &other))
            }
        }
    }

    fn chat_for(&self, user: &UserKey, chat: &ChatRef, member: bool) -> Result<Chat, Refusal> {
        Self::resolve(&self.lock(), user, chat, member)
    }
}

/// Whether `user` sees every room, private ones too: the owner and admins.
fn sees_all(state: &State, user: &UserKey) -> bool {
    state
        .users
        .get(user)
        .is_some_and(|u| !u.guest && u.role.manages())
}

/// The members of `chat` whose counters are kept: a room's active members, or the
/// people of a direct chat.
fn active_members<'a>(
    rooms: &'a HashMap<RoomId, RoomEntry>,
    chat: &'a Chat,
) -> Box<dyn Iterator<Item = &'a UserKey> + 'a> {
    match chat {
        Chat::Room(id) => match rooms.get(id) {
            Some(room) => Box::new(room.active.iter()),
            None => Box::new(std::iter::empty()),
        },
        Chat::Direct(a, b) if a == b => Box::new(std::iter::once(a)),
        Chat::Direct(a, b) => Box::new([a, b].into_iter()),
    }
}

/// The user counts among the active members of every room they are in.
fn activate(state: &mut State, user: &UserKey) {
    for room in state.rooms.values_mut() {
        if room.members.contains(user) {
            room.active.insert(user.clone());
        }
    }
}

fn deactivate(state: &mut State, user: &UserKey) {
    for room in state.rooms.values_mut() {
        room.active.remove(user);
    }
}

fn unseat(state: &mut State, room: RoomId, id: SessionId) {
    if let Some(seated) = state.sitting.get_mut(&room) {
        seated.retain(|s| *s != id);
        if seated.is_empty() {
            state.sitting.remove(&room);
        }
    }
}

/// The names of a chat (unknown rooms and users keep their keys).
fn name_of(state: &State, chat: &Chat) -> ChatName {
    let display = |k: &UserKey| {
        state
            .users
            .get(k)
            .map_or_else(|| k.as_str().to_owned(), |u| u.name.clone())
    };
    match chat {
        Chat::Room(id) => ChatName::Room(
            state
                .rooms
                .get(id)
                .map_or_else(|| format!("room-{id}"), |r| r.name.clone()),
        ),
        Chat::Direct(a, b) => ChatName::Direct {
            a: a.clone(),
            a_name: display(a),
            b: b.clone(),
            b_name: display(b),
        },
    }
}
