//! The hub: Parlor's world in memory — users and their sessions, rooms and members,
//! presence, typing, unread counters and per-user limits — and the fan-out of events
//! to sessions.
//!
//! The hub knows nothing of JSON or sockets. Edges (the native protocol and each
//! dialect) call its commands and read [`Outbound`] items from their session's bounded
//! queue; they render those items in their own dialect, once per event and view, using
//! the event's [`FrameCache`].
//!
//! State changes that must survive a crash go through the store; the store's writer
//! hands every committed log event back to [`Hub::publish`] in log order, which
//! updates the in-memory world and fans the event out. Nothing here awaits while
//! holding the state lock.

mod commands;
mod passwords;
mod queries;

pub use queries::*;

use crate::domain::{Chat, EventData, LogEvent, ReceiptKind, RoomId, SessionId, UserKey};
use crate::store::{EventSink, Store, StoreError};
use app::protocol::{MessageId, Status};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// Session tokens unused for this long are forgotten (at start).
const TOKEN_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;

/// Per-user and per-connection limits (docs/protocol.md, "Limits and close codes"),
/// configurable by flags.
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
    /// Users who may clear any room's history.
    pub admins: Vec<UserKey>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections_per_user: 3,
            rate_limit: 100,
            rate_window: Duration::from_secs(60),
            outbound_queue: 1024,
            typing_ttl: Duration::from_secs(5),
            allow_guests: true,
            admins: Vec::new(),
        }
    }
}

/// Serialized forms of one event, filled lazily by the edges: one slot per dialect
/// and view, so an event is serialized once however many sessions receive it.
#[derive(Default)]
pub struct FrameCache {
    slots: [OnceLock<Utf8Bytes>; 8],
}

impl FrameCache {
    pub fn get_or_render(&self, slot: usize, render: impl FnOnce() -> Utf8Bytes) -> Utf8Bytes {
        match self.slots.get(slot) {
            Some(cell) => cell.get_or_init(render).clone(),
            None => render(),
        }
    }
}

/// A committed log event on its way to sessions.
pub struct Shared {
    pub event: LogEvent,
    pub name: ChatName,
    pub frames: FrameCache,
}

/// How a chat is named to its members: a room's name, or the two people of a direct
/// chat (each sees the other's name as the chat's id).
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
    /// The `chatId` as `viewer` sees it: `#room`, or the other person's name.
    pub fn chat_id_for(&self, viewer: &UserKey) -> String {
        match self {
            ChatName::Room(name) => format!("#{name}"),
            ChatName::Direct {
                a, b_name, a_name, ..
            } => {
                if a == viewer {
                    b_name.clone()
                } else {
                    a_name.clone()
                }
            }
        }
    }

    /// Which of the (at most two) views of this chat `viewer` has: a cache slot index.
    pub fn view_of(&self, viewer: &UserKey) -> usize {
        match self {
            ChatName::Direct { b, .. } if b == viewer => 1,
            _ => 0,
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
}

pub struct LiveShared {
    pub live: Live,
    pub at: app::protocol::Millis,
    pub frames: FrameCache,
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

#[derive(Debug, Clone, Copy, Default)]
struct Counter {
    read_upto: MessageId,
    unread: u64,
}

struct UserEntry {
    name: String,
    guest: bool,
    /// The status the user chose (setStatus); new sessions start with it.
    chosen: Status,
    /// The merged status others were last told.
    shown: Status,
    sessions: Vec<SessionId>,
    /// Since when the user has had a connection (while they have one).
    connected_at: Option<app::protocol::Millis>,
    /// The highest event id the user acknowledged (stored when they disconnect).
    acked: app::protocol::EventId,
    /// Read marks and unread counts per chat, loaded when the user first connects (a
    /// count costs a step per unread message) and kept up to date from then on; they
    /// include every log event up to `counted_at`.
    chats: HashMap<Chat, Counter>,
    counted_at: Option<app::protocol::EventId>,
    sent: VecDeque<Instant>,
}

impl UserEntry {
    fn new(name: &str, guest: bool) -> UserEntry {
        UserEntry {
            name: name.to_owned(),
            guest,
            chosen: Status::Online,
            shown: Status::Offline,
            sessions: Vec::new(),
            connected_at: None,
            acked: 0,
            chats: HashMap::new(),
            counted_at: None,
            sent: VecDeque::new(),
        }
    }
}

struct RoomEntry {
    name: String,
    creator: Option<String>,
    members: HashSet<UserKey>,
}

struct SessionEntry {
    user: UserKey,
    tx: mpsc::Sender<Outbound>,
    /// The connection went invisible (client event `offline`).
    hidden: bool,
    /// Nobody uses the connection (client event `idle`).
    idle: bool,
    subscribed: bool,
    kick: Arc<Notify>,
    kicked: bool,
}

#[derive(Default)]
struct State {
    users: HashMap<UserKey, UserEntry>,
    rooms: HashMap<RoomId, RoomEntry>,
    room_ids: HashMap<String, RoomId>,
    sessions: HashMap<SessionId, SessionEntry>,
    typing: HashMap<(UserKey, Chat), (Instant, Instant)>,
}

pub struct Hub {
    store: Store,
    limits: Limits,
    state: Mutex<State>,
    next_session: AtomicU64,
    /// Grows with every published batch and every session that comes or goes.
    activity: AtomicU64,
}

/// A logged-in connection's hold on the hub; dropping it detaches the session.
pub struct Session {
    pub id: SessionId,
    pub user: UserKey,
    pub name: String,
    pub guest: bool,
    /// Whether this connection also receives the events of its own writes (dialects
    /// that echo a posted message back to its author); the native protocol answers
    /// the writer with a response instead.
    pub echo: bool,
    /// Notified when the hub drops this session (its queue overflowed).
    pub kicked: Arc<Notify>,
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
    pub async fn start(store: Store, limits: Limits) -> Result<Arc<Hub>, StoreError> {
        let world = store.read(crate::store::load_world).await?;
        let mut state = State::default();
        for (name, guest) in world.users {
            state
                .users
                .insert(UserKey::of(&name), UserEntry::new(&name, guest));
        }
        for room in world.rooms {
            state.room_ids.insert(room.name.to_lowercase(), room.id);
            state.rooms.insert(
                room.id,
                RoomEntry {
                    name: room.name,
                    creator: room.creator,
                    members: room.members.into_iter().collect(),
                },
            );
        }
        let hub = Arc::new(Hub {
            store: store.clone(),
            limits,
            state: Mutex::new(state),
            next_session: AtomicU64::new(1),
            activity: AtomicU64::new(0),
        });
        store.set_sink(hub.clone());
        let expired = store
            .write(|c| crate::store::expire_tokens(c, crate::domain::now_ms() - TOKEN_LIFETIME_MS))
            .await?;
        if expired > 0 {
            tracing::info!(expired, "forgot session tokens unused for 30 days");
        }
        Ok(hub)
    }

    /// A number that changes whenever anything happens (events, arrivals, departures):
    /// equal readings some time apart mean the hub was quiet in between.
    pub fn activity(&self) -> u64 {
        self.activity.load(Ordering::Relaxed)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a bug; keep serving with the state as is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection of `name` (already authenticated) and loads the user's
    /// unread counters. Refused when the user already has the maximum number of
    /// connections.
    pub async fn attach(
        self: &Arc<Self>,
        name: &str,
        guest: bool,
    ) -> Result<(Session, mpsc::Receiver<Outbound>), crate::domain::Refusal> {
        let attached = self.attach_now(name, guest)?;
        self.load_counters(&attached.0.user).await?;
        Ok(attached)
    }

    /// Counts the user's unread messages per chat unless that is done (once per user
    /// and start: about 0.25 ms per 1,000 unread messages). The count runs as a job of
    /// the store's writer: every event before the job's view is published
    /// already, and the events after it (`counted_at`) are counted by `apply` as they
    /// are published, so none is missed or counted twice. (Should the batch fail to
    /// commit, counts may include its rolled-back messages until the next start.)
    async fn load_counters(self: &Arc<Self>, user: &UserKey) -> Result<(), crate::domain::Refusal> {
        if self.counted(user) {
            return Ok(());
        }
        let (hub, key) = (Arc::clone(self), user.clone());
        self.store
            .write(move |c| {
                // Another connection of the user may have counted since the check above.
                if hub.counted(&key) {
                    return Ok(crate::store::Applied::quiet(()));
                }
                let at = crate::store::head(c)?;
                let states = crate::store::chat_states(c, &key)?;
                let mut state = hub.lock();
                if let Some(user) = state.users.get_mut(&key) {
                    user.chats = states
                        .into_iter()
                        .map(|s| {
                            let counter = Counter {
                                read_upto: s.read_upto,
                                unread: s.unread,
                            };
                            (s.chat, counter)
                        })
                        .collect();
                    user.counted_at = Some(at);
                }
                Ok(crate::store::Applied::quiet(()))
            })
            .await
            .map_err(|e| e.into_refusal())
    }

    fn counted(&self, user: &UserKey) -> bool {
        self.lock()
            .users
            .get(user)
            .is_some_and(|u| u.counted_at.is_some())
    }

    fn attach_now(
        self: &Arc<Self>,
        name: &str,
        guest: bool,
    ) -> Result<(Session, mpsc::Receiver<Outbound>), crate::domain::Refusal> {
        let key = UserKey::of(name);
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        self.activity.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.limits.outbound_queue.max(1));
        let kick = Arc::new(Notify::new());
        let mut state = self.lock();
        let user = state
            .users
            .entry(key.clone())
            .or_insert_with(|| UserEntry::new(name, guest));
        if user.sessions.len() >= self.limits.max_connections_per_user {
            return Err(crate::domain::Refusal::TooManyConnections(format!(
                "at most {} connections per user",
                self.limits.max_connections_per_user
            )));
        }
        user.guest = guest;
        if user.sessions.is_empty() {
            user.connected_at = Some(crate::domain::now_ms());
        }
        user.sessions.push(id);
        let display = user.name.clone();
        state.sessions.insert(
            id,
            SessionEntry {
                user: key.clone(),
                tx,
                hidden: false,
                idle: false,
                subscribed: false,
                kick: kick.clone(),
                kicked: false,
            },
        );
        self.refresh_presence(&mut state, &key);
        drop(state);
        let session = Session {
            id,
            user: key,
            name: display,
            guest,
            echo: false,
            kicked: kick,
            hub: Arc::clone(self),
        };
        Ok((session, rx))
    }

    fn detach(&self, id: SessionId) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let Some(session) = state.sessions.remove(&id) else {
            return;
        };
        let mut store_ack = None;
        if let Some(user) = state.users.get_mut(&session.user) {
            user.sessions.retain(|s| *s != id);
            if user.sessions.is_empty() {
                user.connected_at = None;
                store_ack = (user.acked > 0).then_some(user.acked);
            }
        }
        if let (Some(event), Ok(rt)) = (store_ack, tokio::runtime::Handle::try_current()) {
            let (store, key) = (self.store.clone(), session.user.clone());
            rt.spawn(async move {
                if let Err(e) = store
                    .write(move |c| crate::store::set_acked(c, &key, event))
                    .await
                {
                    tracing::warn!(error = %e, "cannot store an acknowledged position");
                }
            });
        }
        let user = session.user;
        let gone = state.users.get(&user).is_none_or(|u| u.sessions.is_empty());
        if gone {
            let typing: Vec<Chat> = state
                .typing
                .keys()
                .filter(|(u, _)| *u == user)
                .map(|(_, c)| c.clone())
                .collect();
            for chat in typing {
                self.stop_typing_in(&mut state, &user, &chat);
            }
        }
        self.refresh_presence(&mut state, &user);
    }

    /// From now on the session receives live events.
    pub fn subscribe(&self, session: &Session) {
        if let Some(s) = self.lock().sessions.get_mut(&session.id) {
            s.subscribed = true;
        }
    }

    /// Number of users with at least one visible session.
    pub fn online_count(&self) -> usize {
        self.lock()
            .users
            .values()
            .filter(|u| u.shown != Status::Offline)
            .count()
    }

    /// Recomputes a user's merged status and tells everyone when it changed.
    fn refresh_presence(&self, state: &mut State, key: &UserKey) {
        let Some(user) = state.users.get(key) else {
            return;
        };
        let merged = user
            .sessions
            .iter()
            .filter_map(|s| state.sessions.get(s))
            .map(|s| match (s.hidden, s.idle, user.chosen) {
                (true, _, _) => Status::Offline,
                (false, true, Status::Online) => Status::Away,
                (false, _, chosen) => chosen,
            })
            .max()
            .unwrap_or(Status::Offline);
        let was = user.shown;
        if merged == was {
            return;
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
    }

    /// Queues `item` for a session; a full queue drops the session (it resumes later).
    fn push(session: &mut SessionEntry, item: Outbound) {
        if session.kicked || !session.subscribed {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = session.tx.try_send(item) {
            session.kicked = true;
            session.kick.notify_one();
        }
    }

    /// Sends a live event to every subscribed session (but `except`'s user).
    fn broadcast_live(&self, state: &mut State, live: Live, except: Option<&UserKey>) {
        let item = Outbound::Live(Arc::new(LiveShared {
            live,
            at: crate::domain::now_ms(),
            frames: FrameCache::default(),
        }));
        for session in state.sessions.values_mut() {
            if Some(&session.user) != except {
                Self::push(session, item.clone());
            }
        }
    }

    /// Ends a typing indicator, telling the chat's other members.
    fn stop_typing_in(&self, state: &mut State, user: &UserKey, chat: &Chat) {
        if state.typing.remove(&(user.clone(), chat.clone())).is_none() {
            return;
        }
        let name = state
            .users
            .get(user)
            .map_or_else(|| user.as_str().to_owned(), |u| u.name.clone());
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
    }

    /// Sends a live event to the members of `chat` but `except`.
    fn chat_live(&self, state: &mut State, chat: &Chat, live: Live, except: &UserKey) {
        let item = Outbound::Live(Arc::new(LiveShared {
            live,
            at: crate::domain::now_ms(),
            frames: FrameCache::default(),
        }));
        let recipients: Vec<SessionId> = members_of(state, chat)
            .into_iter()
            .filter(|k| k != except)
            .filter_map(|k| state.users.get(&k))
            .flat_map(|u| u.sessions.iter().copied())
            .collect();
        for id in recipients {
            if let Some(session) = state.sessions.get_mut(&id) {
                Self::push(session, item.clone());
            }
        }
    }

    /// Applies a committed event to the world and returns who receives it.
    fn apply(state: &mut State, ev: &LogEvent) -> Vec<UserKey> {
        let mut extra = None;
        match &ev.data {
            EventData::New { message } => {
                let sender = UserKey::of(&message.sender);
                for member in members_of(state, &ev.chat) {
                    if let Some(chats) = counters_for(state, &member, ev) {
                        let counter = chats.entry(ev.chat.clone()).or_default();
                        if member != sender {
                            counter.unread += 1;
                        }
                    }
                }
            }
            EventData::Delete {
                message_id, sender, ..
            } => {
                let sender = UserKey::of(sender);
                for member in members_of(state, &ev.chat) {
                    if let Some(counter) =
                        counters_for(state, &member, ev).and_then(|c| c.get_mut(&ev.chat))
                    {
                        if member != sender && counter.read_upto < *message_id {
                            counter.unread = counter.unread.saturating_sub(1);
                        }
                    }
                }
            }
            EventData::Receipt {
                receipt: ReceiptKind::Read,
                reader,
                upto,
                ..
            } => {
                if let Some(counter) =
                    counters_for(state, &UserKey::of(reader), ev).and_then(|c| c.get_mut(&ev.chat))
                {
                    counter.read_upto = counter.read_upto.max(*upto);
                    if let Some(unread) = ev.unread_after {
                        counter.unread = unread;
                    }
                }
            }
            EventData::Receipt { .. } | EventData::Edit { .. } => {}
            EventData::Join {
                user,
                room,
                created,
                creator,
            } => {
                if let Chat::Room(id) = ev.chat {
                    let key = UserKey::of(user);
                    if *created {
                        state.room_ids.insert(room.to_lowercase(), id);
                        state.rooms.insert(
                            id,
                            RoomEntry {
                                name: room.clone(),
                                creator: creator.clone(),
                                members: HashSet::new(),
                            },
                        );
                    }
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.insert(key.clone());
                    }
                    state
                        .users
                        .entry(key.clone())
                        .or_insert_with(|| UserEntry::new(user, false));
                    if let Some(chats) = counters_for(state, &key, ev) {
                        chats.entry(ev.chat.clone()).or_default();
                    }
                }
            }
            EventData::Clear { .. } => {
                for member in members_of(state, &ev.chat) {
                    if let Some(counter) =
                        counters_for(state, &member, ev).and_then(|c| c.get_mut(&ev.chat))
                    {
                        counter.unread = 0;
                    }
                }
            }
            EventData::Leave { user, .. } => {
                let key = UserKey::of(user);
                if let Chat::Room(id) = ev.chat {
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.remove(&key);
                    }
                }
                if let Some(chats) = counters_for(state, &key, ev) {
                    chats.remove(&ev.chat);
                }
                extra = Some(key);
            }
        }
        let mut recipients = members_of(state, &ev.chat);
        recipients.extend(extra);
        recipients
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

/// A user's counters, when they are loaded and do not include `ev` yet.
fn counters_for<'a>(
    state: &'a mut State,
    user: &UserKey,
    ev: &LogEvent,
) -> Option<&'a mut HashMap<Chat, Counter>> {
    let entry = state.users.get_mut(user)?;
    let counted_at = entry.counted_at?;
    (ev.id > counted_at).then_some(&mut entry.chats)
}

/// Who is in a chat: a room's members, or the two people of a direct chat.
fn members_of(state: &State, chat: &Chat) -> Vec<UserKey> {
    match chat {
        Chat::Room(id) => state
            .rooms
            .get(id)
            .map(|r| r.members.iter().cloned().collect())
            .unwrap_or_default(),
        Chat::Direct(a, b) if a == b => vec![a.clone()],
        Chat::Direct(a, b) => vec![a.clone(), b.clone()],
    }
}

impl EventSink for Hub {
    fn publish(&self, events: &[LogEvent], origin: Option<SessionId>) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        for ev in events {
            if let EventData::New { message } = &ev.data {
                self.stop_typing_in(&mut state, &UserKey::of(&message.sender), &ev.chat);
            }
            let recipients = Self::apply(&mut state, ev);
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
                frames: FrameCache::default(),
            });
            // Disjoint borrows: read users, write sessions, no per-recipient copies.
            let State {
                users, sessions, ..
            } = &mut *state;
            for key in recipients {
                let Some(user) = users.get(&key) else {
                    continue;
                };
                let missed = user.chats.get(&ev.chat).map_or(0, |c| c.unread);
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
