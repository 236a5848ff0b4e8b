//! The client-side store: the session, the connection and everything the views show.
//!
//! Views read its signals and call its methods; only the store talks to the server.
//! The flow on `/ws`: `auth` (password once, then the session token) → `subscribe`
//! (replaying events after the last one handled, kept in `localStorage`) → `getChats`,
//! `listUsers`, the open chat's messages and receipts → the queued messages. After a
//! lost connection it reconnects with backoff and jitter and repeats the flow; the
//! timeline merges replayed and reloaded messages so that none shows twice.

use super::connection::{self, Connection, Reply};
use super::platform;
use crate::outbox::{Outbox, Outgoing};
use crate::protocol::{
    Attachment, AuthOk, AuthRequest, ChatList, ChatRequest, ClientEventBody, CreateRoomRequest,
    DeleteRequest, EditRequest, ErrorBody, EventId, GetMessagesRequest, MemberList, MessageId,
    MessageItem, NewOk, ReadOk, ReceiptList, ReceiptRequest, RequestBody, RoomInfo, RoomList,
    SetStatusRequest, Status, SubscribeOk, SubscribeRequest, UserList,
};
use crate::receipts::ChatMarks;
use crate::text::is_room;
use crate::timeline::{Line, Timeline};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

mod events;

/// The room every user starts in.
pub const GENERAL: &str = "#General";
/// How many messages one history page holds.
const PAGE: u32 = 50;
/// How long "… is typing" stays after the last typing event.
const TYPING_SHOW_MS: f64 = 4_000.0;
/// At most one typing event per chat this often.
const TYPING_EVERY_MS: f64 = 2_000.0;
/// No keyboard, pointer or focus activity for this long: the tab is idle (away).
const IDLE_AFTER_MS: f64 = 120_000.0;

const SESSION_KEY: &str = "parlor.session";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    LoggedOut,
    /// Waiting for the answer to a password `auth`.
    LoggingIn,
    LoggedIn {
        user: String,
    },
}

/// State of the link to the server while logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// First connection of this page, not yet subscribed.
    Connecting,
    Online,
    /// Lost; retrying with backoff.
    Reconnecting,
    /// The browser says there is no network; retrying when it comes back.
    Offline,
}

/// One entry of the chat lists (rooms and direct messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    pub chat_id: String,
    pub name: String,
    pub unread: u64,
}

/// What `localStorage` keeps of a session: never the password.
#[derive(Serialize, Deserialize)]
struct SavedSession {
    username: String,
    token: String,
}

/// The store. `Copy`: every view and callback takes it by value.
#[derive(Clone, Copy)]
pub struct ChatStore {
    pub session: RwSignal<Session>,
    /// Why the last login failed (the server's message).
    pub login_error: RwSignal<Option<String>>,
    pub link: RwSignal<Link>,
    /// Messages by `chatId`.
    pub timelines: RwSignal<HashMap<String, Timeline>>,
    /// Rooms joined and direct chats, with unread counts.
    pub chats: RwSignal<Vec<ChatEntry>>,
    /// The chat on screen.
    pub current_chat: RwSignal<String>,
    /// Every user and their merged presence.
    pub users: RwSignal<BTreeMap<String, Status>>,
    /// Members of rooms, by `chatId` (loaded when a room is opened).
    pub members: RwSignal<HashMap<String, Vec<String>>>,
    /// Receipt watermarks by chat and member.
    pub marks: RwSignal<HashMap<String, ChatMarks>>,
    /// Who is typing where, until when (ms).
    pub typing: RwSignal<HashMap<String, BTreeMap<String, f64>>>,
    /// Now, updated every second (drives expiries).
    pub clock: RwSignal<f64>,
    /// The status this user chose.
    pub my_status: RwSignal<Status>,
    /// A passing problem or server notice to show.
    pub notice: RwSignal<Option<String>>,
    /// Every room (`listRooms`), for joining.
    pub rooms: RwSignal<Vec<RoomInfo>>,
    /// The message list is scrolled to its end (the newest message is visible).
    pub at_bottom: RwSignal<bool>,
    /// The page is visible and focused.
    pub attended: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// The own message being edited in the composer.
    pub editing: RwSignal<Option<(MessageId, String)>>,
    /// Phone layout: the chat list is open over the chat.
    pub drawer_open: RwSignal<bool>,
    /// Desktop notifications: None when unsupported, else the permission.
    pub notifications: RwSignal<Option<String>>,
    client: StoredValue<Rc<Client>, LocalStorage>,
}

/// What is not reactive: the socket and what reconnecting needs.
#[derive(Default)]
struct Client {
    connection: RefCell<Option<Connection>>,
    /// Bumped for every socket, so that a stale socket's callbacks do nothing.
    generation: Cell<u64>,
    /// Password credentials, only until the server answers with a token.
    password: RefCell<Option<AuthRequest>>,
    token: RefCell<Option<String>>,
    /// The logged-in user, also known before `auth` answers when resuming a session.
    user: RefCell<Option<String>>,
    last_event_id: Cell<EventId>,
    /// Events up to this id are the replay of `subscribe` (no notifications for them).
    replay_until: Cell<EventId>,
    /// Failed reconnects in a row, for the backoff.
    attempts: Cell<u32>,
    /// Subscribed on the current socket: requests may flow.
    ready: Cell<bool>,
    outbox: RefCell<Outbox>,
    /// Queued messages sent on the current socket and not yet answered.
    in_flight: RefCell<HashSet<String>>,
    /// The highest `read` sent per chat.
    read_sent: RefCell<HashMap<String, MessageId>>,
    /// `dlvrd` marks waiting to be sent, per chat.
    dlvrd_due: RefCell<HashMap<String, MessageId>>,
    typing_sent: RefCell<HashMap<String, f64>>,
    last_activity: Cell<f64>,
    idle: Cell<bool>,
    /// New DMs and mentions while the page was hidden (the title badge).
    alerts: Cell<u32>,
}

impl Default for ChatStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatStore {
    pub fn new() -> ChatStore {
        ChatStore {
            session: RwSignal::new(Session::LoggedOut),
            login_error: RwSignal::new(None),
            link: RwSignal::new(Link::Connecting),
            timelines: RwSignal::new(HashMap::new()),
            chats: RwSignal::new(Vec::new()),
            current_chat: RwSignal::new(GENERAL.to_owned()),
            users: RwSignal::new(BTreeMap::new()),
            members: RwSignal::new(HashMap::new()),
            marks: RwSignal::new(HashMap::new()),
            typing: RwSignal::new(HashMap::new()),
            clock: RwSignal::new(js_sys::Date::now()),
            my_status: RwSignal::new(Status::Online),
            notice: RwSignal::new(None),
            rooms: RwSignal::new(Vec::new()),
            at_bottom: RwSignal::new(true),
            attended: RwSignal::new(platform::page_attended()),
            loading_older: RwSignal::new(false),
            editing: RwSignal::new(None),
            drawer_open: RwSignal::new(false),
            notifications: RwSignal::new(platform::notification_permission()),
            client: StoredValue::new_local(Rc::new(Client::default())),
        }
    }

    fn client(&self) -> Rc<Client> {
        self.client.get_value()
    }

    /// The logged-in user's name.
    pub fn user(&self) -> Option<String> {
        self.client().user.borrow().clone()
    }

    /// The session token (the upload credential).
    pub fn token(&self) -> Option<String> {
        self.client().token.borrow().clone()
    }

    /// Installs the page listeners and resumes a saved session. Called once.
    pub fn start(&self) {
        let store = *self;
        let client = self.client();
        client.last_activity.set(js_sys::Date::now());

        // Network and attention.
        let on_online = move || store.on_network(true);
        let on_offline = move || store.on_network(false);
        std::mem::forget(window_event_listener(leptos::ev::online, move |_| {
            on_online()
        }));
        std::mem::forget(window_event_listener(leptos::ev::offline, move |_| {
            on_offline()
        }));
        let attention = move || store.on_attention();
        std::mem::forget(window_event_listener(leptos::ev::focus, move |_| {
            attention()
        }));
        std::mem::forget(window_event_listener(leptos::ev::blur, move |_| {
            attention()
        }));
        if let Some(doc) = platform::document() {
            let handle = leptos::ev::EventDescriptor::name(&leptos::ev::visibilitychange);
            let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(attention);
            use wasm_bindgen::JsCast;
            let _ = doc.add_event_listener_with_callback(&handle, cb.as_ref().unchecked_ref());
            cb.forget();
        }
        for activity in [
            "keydown",
            "pointerdown",
            "pointermove",
            "wheel",
            "touchstart",
        ] {
            let cb =
                wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || store.on_activity());
            if let Some(w) = web_sys::window() {
                use wasm_bindgen::JsCast;
                let _ = w.add_event_listener_with_callback(activity, cb.as_ref().unchecked_ref());
            }
            cb.forget();
        }
        // The clock: typing expiries and idleness.
        // Runs for the life of the page.
        let _ = set_interval_with_handle(move || store.tick(), Duration::from_millis(1000));

        // A saved session logs in with its token, showing the chat at once.
        let saved =
            platform::load(SESSION_KEY).and_then(|s| serde_json::from_str::<SavedSession>(&s).ok());
        if let Some(saved) = saved {
            self.resume(saved.username, saved.token);
        }
    }

    fn resume(&self, user: String, token: String) {
        let client = self.client();
        *client.token.borrow_mut() = Some(token);
        *client.user.borrow_mut() = Some(user.clone());
        self.load_local_state(&user);
        self.link.set(Link::Connecting);
        self.session.set(Session::LoggedIn { user });
        self.connect();
    }

    /// Restores what this browser kept for `user`: last event, open chat, status, and
    /// the queued messages (shown as pending).
    fn load_local_state(&self, user: &str) {
        let client = self.client();
        let last = platform::load(&key("last", user)).and_then(|v| v.parse().ok());
        client.last_event_id.set(last.unwrap_or(0));
        let chat = platform::load(&key("chat", user)).unwrap_or_else(|| GENERAL.to_owned());
        self.current_chat.set(chat);
        let status = platform::load(&key("status", user))
            .and_then(|s| Status::parse(&s))
            .unwrap_or(Status::Online);
        self.my_status.set(status);
        let outbox = Outbox::parse(platform::load(&key("outbox", user)).as_deref());
        self.timelines.update(|t| {
            for item in &outbox.items {
                t.entry(item.chat_id.clone())
                    .or_default()
                    .upsert(Line::sending(
                        item.client_message_id.clone(),
                        user.to_owned(),
                        item.message.clone(),
                        item.attachments.clone(),
                        item.created_at,
                    ));
            }
        });
        *client.outbox.borrow_mut() = outbox;
    }

    /// Logs in with a password; an unknown username is registered by the server.
    pub fn login(&self, username: String, password: String) {
        if self.session.get_untracked() != Session::LoggedOut {
            return;
        }
        let client = self.client();
        *client.password.borrow_mut() = Some(AuthRequest {
            username,
            password,
            token: None,
        });
        client.token.borrow_mut().take();
        client.attempts.set(0);
        self.reset_state();
        self.login_error.set(None);
        self.session.set(Session::LoggingIn);
        self.connect();
    }

    fn reset_state(&self) {
        self.timelines.set(HashMap::new());
        self.chats.set(Vec::new());
        self.members.set(HashMap::new());
        self.marks.set(HashMap::new());
        self.typing.set(HashMap::new());
        self.users.set(BTreeMap::new());
        self.rooms.set(Vec::new());
        self.notice.set(None);
        self.editing.set(None);
        let client = self.client();
        client.read_sent.borrow_mut().clear();
        client.dlvrd_due.borrow_mut().clear();
        client.in_flight.borrow_mut().clear();
        *client.outbox.borrow_mut() = Outbox::default();
    }

    /// Logs out: revokes the token on the server (when connected) and forgets it here.
    pub fn logout(&self) {
        let store = *self;
        if self.client().ready.get() {
            self.request(RequestBody::Logout(Default::default()), move |_| {
                store.end_session(None)
            });
        } else {
            self.end_session(None);
        }
    }

    /// Drops the session locally (after logout, or when the token is refused).
    fn end_session(&self, why: Option<String>) {
        let client = self.client();
        if let Some(user) = client.user.borrow_mut().take() {
            // An explicit logout leaves nothing of this user's messages behind; an
            // expired session keeps them for the next login.
            if why.is_none() {
                platform::forget(&key("outbox", &user));
            }
        }
        client.password.borrow_mut().take();
        client.token.borrow_mut().take();
        client.ready.set(false);
        client.generation.set(client.generation.get() + 1);
        let old = client.connection.borrow_mut().take();
        drop(old);
        platform::forget(SESSION_KEY);
        self.reset_state();
        self.link.set(Link::Connecting);
        self.login_error.set(why);
        self.session.set(Session::LoggedOut);
        platform::set_title("Parlor");
    }

    // ───────────────────────────── connection ─────────────────────────────

    /// Sends a request on the open connection, or fails it at once.
    fn request(&self, body: RequestBody, on_reply: impl FnOnce(Reply) + 'static) {
        let client = self.client();
        let connection = client.connection.borrow();
        match connection.as_ref().filter(|c| c.is_open()) {
            Some(c) => c.request(body, on_reply),
            None => {
                drop(connection);
                on_reply(Err(closed_error()));
            }
        }
    }

    fn send_event(&self, body: ClientEventBody) {
        let client = self.client();
        if !client.ready.get() {
            return;
        }
        let connection = client.connection.borrow();
        if let Some(c) = connection.as_ref().filter(|c| c.is_open()) {
            c.send_event(body);
        }
    }

    fn connect(&self) {
        let client = self.client();
        let generation = client.generation.get() + 1;
        client.generation.set(generation);
        client.ready.set(false);
        client.in_flight.borrow_mut().clear();
        if !platform::browser_online() && self.session.get_untracked() != Session::LoggingIn {
            let old = client.connection.borrow_mut().take();
            drop(old);
            self.link.set(Link::Offline);
            return;
        }
        let store = *self;
        let current = move || store.client().generation.get() == generation;
        let opened = connection::socket_url()
            .ok_or_else(|| "no window".into())
            .and_then(|url| {
                Connection::open(
                    &url,
                    move || {
                        if current() {
                            store.authenticate();
                        }
                    },
                    move |event| {
                        if current() {
                            store.on_event(event);
                        }
                    },
                    move || {
                        if current() {
                            store.on_close();
                        }
                    },
                )
            });
        let old = match opened {
            Ok(c) => client.connection.replace(Some(c)),
            Err(e) => {
                web_sys::console::error_1(&e);
                let old = client.connection.replace(None);
                self.on_close();
                old
            }
        };
        drop(old);
    }

    fn authenticate(&self) {
        let client = self.client();
        let body = match (client.token.borrow().clone(), client.user.borrow().clone()) {
            (Some(token), Some(username)) => AuthRequest {
                username,
                password: String::new(),
                token: Some(token),
            },
            _ => match client.password.borrow().clone() {
                Some(p) => p,
                None => return,
            },
        };
        let with_token = body.token.is_some();
        let store = *self;
        self.request(RequestBody::Auth(body), move |reply| {
            match reply.and_then(|r| r.payload_as::<AuthOk>().map_err(|e| protocol_error(&e))) {
                Ok(ok) => store.on_logged_in(ok),
                // Lost before an answer: `on_close` retries or reports it.
                Err(e) if e.code == connection::CLOSED => {}
                // Passing trouble: keep the session, `on_close` retries with backoff.
                Err(e)
                    if with_token && (e.code == "too_many_connections" || e.code == "internal") =>
                {
                    store.notice.set(Some(e.message));
                }
                Err(e) if with_token => store.end_session(Some(format!(
                    "Your session has ended ({}). Please log in again.",
                    e.message
                ))),
                Err(e) => {
                    let msg = if e.code == "auth_failed" {
                        "Wrong password for this username (or the name is taken).".to_owned()
                    } else {
                        e.message
                    };
                    store.end_session(Some(msg));
                }
            }
        });
    }

    fn on_logged_in(&self, ok: AuthOk) {
        let client = self.client();
        client.attempts.set(0);
        let user = ok.user_id.clone();
        let first = client.user.borrow().as_deref() != Some(user.as_str());
        *client.user.borrow_mut() = Some(user.clone());
        if let Some(token) = ok.token {
            *client.token.borrow_mut() = Some(token.clone());
            client.password.borrow_mut().take();
            let saved = SavedSession {
                username: user.clone(),
                token,
            };
            if let Ok(json) = serde_json::to_string(&saved) {
                platform::save(SESSION_KEY, &json);
            }
        }
        if first || self.session.get_untracked() != (Session::LoggedIn { user: user.clone() }) {
            self.load_local_state(&user);
            self.session.set(Session::LoggedIn { user });
        }
        let status = self.my_status.get_untracked();
        if status != Status::Online {
            self.request(RequestBody::SetStatus(SetStatusRequest { status }), |_| {});
        }
        self.subscribe();
    }

    fn subscribe(&self) {
        let client = self.client();
        let last = client.last_event_id.get();
        let last_event_id = (last > 0).then_some(last);
        let store = *self;
        self.request(
            RequestBody::Subscribe(SubscribeRequest { last_event_id }),
            move |reply| match reply {
                Ok(response) => {
                    let client = store.client();
                    if let Ok(ok) = response.payload_as::<SubscribeOk>() {
                        client.replay_until.set(ok.last_event_id);
                    }
                    client.ready.set(true);
                    store.link.set(Link::Online);
                    store.notice.update(|n| {
                        if n.as_deref().is_some_and(|m| m.contains("connections")) {
                            *n = None;
                        }
                    });
                    if client.idle.get() {
                        store.send_event(ClientEventBody::Idle);
                    }
                    store.refresh_chats();
                    store.refresh_users();
                    store.load_chat(store.current_chat.get_untracked());
                    store.flush_outbox();
                    store.maybe_read();
                }
                Err(e) if e.code == connection::CLOSED => {}
                Err(e) => warn(&format!("subscribe failed: {}", e.message)),
            },
        );
    }

    fn on_close(&self) {
        let client = self.client();
        client.ready.set(false);
        client.in_flight.borrow_mut().clear();
        let old = client.connection.borrow_mut().take();
        drop(old);
        match self.session.get_untracked() {
            Session::LoggedOut => {}
            Session::LoggingIn => {
                client.password.borrow_mut().take();
                self.session.set(Session::LoggedOut);
                if self.login_error.get_untracked().is_none() {
                    self.login_error
                        .set(Some("Could not reach the server. Try again.".to_owned()));
                }
            }
            Session::LoggedIn { .. } => {
                if !platform::browser_online() {
                    self.link.set(Link::Offline);
                    return;
                }
                self.link.set(Link::Reconnecting);
                let attempts = client.attempts.get();
                client.attempts.set(attempts.saturating_add(1));
                let store = *self;
                let generation = client.generation.get();
                let delay = crate::backoff::delay_ms(attempts, js_sys::Math::random());
                set_timeout(
                    move || {
                        // Still the same lost socket (no logout, no newer attempt)?
                        if store.client().generation.get() == generation && store.user().is_some() {
                            store.connect();
                        }
                    },
                    Duration::from_millis(delay),
                );
            }
        }
    }

    /// Reconnects now (the banner's "Retry now").
    pub fn retry_now(&self) {
        if self.user().is_some() && !self.client().ready.get() {
            self.client().attempts.set(0);
            self.connect();
        }
    }

    /// The browser's network went away or came back.
    fn on_network(&self, online: bool) {
        if self.user().is_none() {
            return;
        }
        let client = self.client();
        if online {
            if client.ready.get() {
                return;
            }
            client.attempts.set(0);
            self.link.set(Link::Reconnecting);
            self.connect();
        } else {
            // Close the socket now instead of waiting for it to time out.
            client.generation.set(client.generation.get() + 1);
            client.ready.set(false);
            client.in_flight.borrow_mut().clear();
            let old = client.connection.borrow_mut().take();
            drop(old);
            self.link.set(Link::Offline);
        }
    }

    fn tick(&self) {
        let now = js_sys::Date::now();
        self.clock.set(now);
        let client = self.client();
        if !client.idle.get() && now - client.last_activity.get() > IDLE_AFTER_MS {
            client.idle.set(true);
            self.send_event(ClientEventBody::Idle);
        }
        // Forget expired typists now and then.
        if self
            .typing
            .with_untracked(|t| t.values().any(|m| m.values().any(|&until| until < now)))
        {
            self.typing.update(|t| {
                for m in t.values_mut() {
                    m.retain(|_, until| *until >= now);
                }
                t.retain(|_, m| !m.is_empty());
            });
        }
    }

    fn on_activity(&self) {
        let client = self.client();
        client.last_activity.set(js_sys::Date::now());
        if client.idle.get() {
            client.idle.set(false);
            self.send_event(ClientEventBody::Active);
        }
    }

    /// Visibility or focus changed.
    fn on_attention(&self) {
        let attended = platform::page_attended();
        self.attended.set(attended);
        if !platform::page_hidden() {
            let client = self.client();
            if client.alerts.get() > 0 {
                client.alerts.set(0);
                platform::set_title("Parlor");
            }
        }
        if attended {
            self.on_activity();
            self.maybe_read();
        }
    }

    // ───────────────────────────── loading ─────────────────────────────

    fn refresh_chats(&self) {
        let store = *self;
        self.request(RequestBody::GetChats(Default::default()), move |reply| {
            let Ok(list) =
                reply.and_then(|r| r.payload_as::<ChatList>().map_err(|e| protocol_error(&e)))
            else {
                return;
            };
            let current = store.current_chat.get_untracked();
            store.chats.update(|chats| {
                // Keep a direct chat opened here that has no message yet.
                let keep: Vec<ChatEntry> = chats
                    .iter()
                    .filter(|c| {
                        !is_room(&c.chat_id)
                            && c.chat_id == current
                            && !list.chats.iter().any(|i| i.chat_id == c.chat_id)
                    })
                    .cloned()
                    .collect();
                *chats = list
                    .chats
                    .iter()
                    .map(|c| ChatEntry {
                        chat_id: c.chat_id.clone(),
                        name: c.name.clone(),
                        unread: c.unread_count,
                    })
                    .chain(keep)
                    .collect();
            });
            // A room this user left elsewhere: back to General.
            if is_room(&current)
                && !store
                    .chats
                    .with_untracked(|c| c.iter().any(|e| e.chat_id.eq_ignore_ascii_case(&current)))
            {
                store.select_chat(GENERAL.to_owned());
            }
            store.maybe_read();
        });
    }

    fn refresh_users(&self) {
        let store = *self;
        self.request(RequestBody::ListUsers(Default::default()), move |reply| {
            if let Ok(list) =
                reply.and_then(|r| r.payload_as::<UserList>().map_err(|e| protocol_error(&e)))
            {
                let me = store.user().unwrap_or_default();
                if let Some(mine) = list
                    .users
                    .iter()
                    .find(|u| u.user_id.eq_ignore_ascii_case(&me))
                {
                    store.adopt_own_status(mine.status);
                }
                store.users.set(
                    list.users
                        .into_iter()
                        .map(|u| (u.user_id, u.status))
                        .collect(),
                );
            }
        });
    }

    /// The server's merged status for this user, chosen on another device perhaps:
    /// the status menu follows it. `away` is left alone (it may only mean idle).
    pub(super) fn adopt_own_status(&self, status: Status) {
        if status != Status::Away && status != self.my_status.get_untracked() {
            self.my_status.set(status);
            if let Some(user) = self.user() {
                platform::save(&key("status", &user), status.as_str());
            }
        }
    }

    /// Loads every room, for the "Browse rooms" list.
    pub fn refresh_rooms(&self) {
        let store = *self;
        self.request(RequestBody::ListRooms(Default::default()), move |reply| {
            if let Ok(list) =
                reply.and_then(|r| r.payload_as::<RoomList>().map_err(|e| protocol_error(&e)))
            {
                store.rooms.set(list.rooms);
            }
        });
    }

    /// Loads the latest page of a chat, its receipts, and a room's members.
    fn load_chat(&self, chat_id: String) {
        let store = *self;
        let chat = chat_id.clone();
        self.request(
            RequestBody::GetMessages(GetMessagesRequest {
                chat_id: chat_id.clone(),
                end_id: None,
                count: PAGE,
            }),
            move |reply| match reply.and_then(|r| {
                r.payload_as::<Vec<MessageItem>>()
                    .map_err(|e| protocol_error(&e))
            }) {
                Ok(items) => {
                    store.timelines.update(|t| {
                        let timeline = t.entry(chat).or_default();
                        timeline.merge_page(&items);
                        if timeline.has_older.is_none() {
                            timeline.has_older = Some(items.len() as u32 == PAGE);
                        }
                    });
                    store.maybe_read();
                }
                // A direct chat without messages yet, or a closed socket: nothing to show.
                Err(e) if e.code == connection::CLOSED || e.code == "not_found" => {}
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not load messages: {}", e.message))),
            },
        );
        let chat = chat_id.clone();
        self.request(
            RequestBody::GetReceipts(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |reply| {
                if let Ok(list) = reply.and_then(|r| {
                    r.payload_as::<ReceiptList>()
                        .map_err(|e| protocol_error(&e))
                }) {
                    store.marks.update(|m| {
                        let marks = m.entry(chat).or_default();
                        for r in list.receipts {
                            marks
                                .entry(r.user_id)
                                .or_default()
                                .advance(r.delivered, r.read);
                        }
                    });
                }
            },
        );
        if is_room(&chat_id) {
            self.load_members(chat_id);
        }
    }

    fn load_members(&self, chat_id: String) {
        let store = *self;
        self.request(
            RequestBody::GetMembers(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |reply| {
                if let Ok(list) =
                    reply.and_then(|r| r.payload_as::<MemberList>().map_err(|e| protocol_error(&e)))
                {
                    store.users.update(|u| {
                        for m in &list.members {
                            u.insert(m.user_id.clone(), m.status);
                        }
                    });
                    store.members.update(|m| {
                        m.insert(
                            chat_id,
                            list.members.into_iter().map(|m| m.user_id).collect(),
                        );
                    });
                }
            },
        );
    }

    /// Loads the page before the oldest message shown.
    pub fn load_older(&self) {
        let chat = self.current_chat.get_untracked();
        let (oldest, more) = self.timelines.with_untracked(|t| {
            t.get(&chat)
                .map(|t| (t.oldest_id(), t.has_older != Some(false)))
                .unwrap_or((None, false))
        });
        let Some(oldest) = oldest.filter(|&o| more && o > 1) else {
            return;
        };
        if self.loading_older.get_untracked() || !self.client().ready.get() {
            return;
        }
        self.loading_older.set(true);
        let store = *self;
        self.request(
            RequestBody::GetMessages(GetMessagesRequest {
                chat_id: chat.clone(),
                end_id: Some(oldest - 1),
                count: PAGE,
            }),
            move |reply| {
                store.loading_older.set(false);
                if let Ok(items) = reply.and_then(|r| {
                    r.payload_as::<Vec<MessageItem>>()
                        .map_err(|e| protocol_error(&e))
                }) {
                    store.timelines.update(|t| {
                        let timeline = t.entry(chat).or_default();
                        timeline.merge_page(&items);
                        timeline.has_older = Some(items.len() as u32 == PAGE);
                    });
                }
            },
        );
    }

    // ───────────────────────────── navigation ─────────────────────────────

    pub fn select_chat(&self, chat_id: String) {
        self.drawer_open.set(false);
        if self.current_chat.get_untracked() == chat_id {
            return;
        }
        if let Some(user) = self.user() {
            platform::save(&key("chat", &user), &chat_id);
        }
        self.editing.set(None);
        self.at_bottom.set(true);
        self.current_chat.set(chat_id.clone());
        if self.client().ready.get() {
            self.load_chat(chat_id);
        }
    }

    /// Opens the direct chat with `user` (listed once it is opened).
    pub fn open_direct(&self, user: String) {
        self.ensure_chat(&user, &user);
        self.select_chat(user);
    }

    fn ensure_chat(&self, chat_id: &str, name: &str) {
        if !self
            .chats
            .with_untracked(|c| c.iter().any(|e| e.chat_id == chat_id))
        {
            self.chats.update(|c| {
                c.push(ChatEntry {
                    chat_id: chat_id.to_owned(),
                    name: name.to_owned(),
                    unread: 0,
                });
                c.sort_by(|a, b| {
                    (!is_room(&a.chat_id), a.name.to_lowercase())
                        .cmp(&(!is_room(&b.chat_id), b.name.to_lowercase()))
                });
            });
        }
    }

    fn set_unread(&self, chat_id: &str, unread: u64) {
        if self
            .chats
            .with_untracked(|c| c.iter().any(|e| e.chat_id == chat_id && e.unread != unread))
        {
            self.chats.update(|c| {
                if let Some(e) = c.iter_mut().find(|e| e.chat_id == chat_id) {
                    e.unread = unread;
                }
            });
        }
    }

    /// Creates a room and opens it; `on_error` gets the server's refusal.
    pub fn create_room(&self, name: String, on_error: impl FnOnce(String) + 'static) {
        let store = *self;
        self.request(
            RequestBody::CreateRoom(CreateRoomRequest { name }),
            move |reply| match reply
                .and_then(|r| r.payload_as::<RoomInfo>().map_err(|e| protocol_error(&e)))
            {
                Ok(room) => {
                    store.ensure_chat(&room.chat_id, &room.name);
                    store.select_chat(room.chat_id);
                }
                Err(e) => on_error(e.message),
            },
        );
    }

    pub fn join_room(&self, chat_id: String) {
        let store = *self;
        self.request(
            RequestBody::JoinRoom(ChatRequest { chat_id }),
            move |reply| match reply
                .and_then(|r| r.payload_as::<RoomInfo>().map_err(|e| protocol_error(&e)))
            {
                Ok(room) => {
                    store.ensure_chat(&room.chat_id, &room.name);
                    store.rooms.update(|rooms| {
                        if let Some(r) = rooms.iter_mut().find(|r| r.chat_id == room.chat_id) {
                            r.joined = true;
                        }
                    });
                    store.select_chat(room.chat_id);
                }
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not join: {}", e.message))),
            },
        );
    }

    pub fn leave_room(&self, chat_id: String) {
        let store = *self;
        self.request(
            RequestBody::LeaveRoom(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |reply| match reply {
                Ok(_) => store.forget_chat(&chat_id),
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not leave: {}", e.message))),
            },
        );
    }

    fn forget_chat(&self, chat_id: &str) {
        self.chats
            .update(|c| c.retain(|e| !e.chat_id.eq_ignore_ascii_case(chat_id)));
        self.timelines.update(|t| {
            t.remove(chat_id);
        });
        if self
            .current_chat
            .get_untracked()
            .eq_ignore_ascii_case(chat_id)
        {
            self.select_chat(GENERAL.to_owned());
        }
    }

    pub fn set_status(&self, status: Status) {
        self.my_status.set(status);
        if let Some(user) = self.user() {
            platform::save(&key("status", &user), status.as_str());
        }
        let store = *self;
        self.request(
            RequestBody::SetStatus(SetStatusRequest { status }),
            move |reply| {
                if let Err(e) = reply {
                    if e.code != connection::CLOSED {
                        store
                            .notice
                            .set(Some(format!("Could not change status: {}", e.message)));
                    }
                }
            },
        );
    }

    // ───────────────────────────── messages ─────────────────────────────

    /// Sends a message to the current chat: shown at once as pending, queued (kept
    /// across reloads) and sent now or as soon as the connection is back.
    pub fn send(&self, text: String, attachments: Vec<Attachment>) {
        let Some(user) = self.user() else { return };
        let chat_id = self.current_chat.get_untracked();
        let item = Outgoing {
            chat_id: chat_id.clone(),
            client_message_id: new_client_message_id(),
            message: text,
            attachments,
            created_at: connection::now(),
        };
        self.timelines.update(|t| {
            t.entry(chat_id.clone()).or_default().upsert(Line::sending(
                item.client_message_id.clone(),
                user.clone(),
                item.message.clone(),
                item.attachments.clone(),
                item.created_at,
            ));
        });
        self.client().typing_sent.borrow_mut().remove(&chat_id);
        self.at_bottom.set(true);
        self.client().outbox.borrow_mut().push(item.clone());
        self.save_outbox();
        if self.client().ready.get() {
            self.send_queued(item);
        }
        self.ask_notifications_once();
    }

    fn save_outbox(&self) {
        if let Some(user) = self.user() {
            let client = self.client();
            let outbox = client.outbox.borrow();
            if outbox.is_empty() {
                platform::forget(&key("outbox", &user));
            } else {
                platform::save(&key("outbox", &user), &outbox.to_json());
            }
        }
    }

    fn flush_outbox(&self) {
        let items = self.client().outbox.borrow().items.clone();
        for item in items {
            self.send_queued(item);
        }
    }

    fn send_queued(&self, item: Outgoing) {
        let client = self.client();
        if !client
            .in_flight
            .borrow_mut()
            .insert(item.client_message_id.clone())
        {
            return;
        }
        let store = *self;
        let cid = item.client_message_id.clone();
        let chat_id = item.chat_id.clone();
        self.request(RequestBody::New(item.request()), move |reply| {
            store.client().in_flight.borrow_mut().remove(&cid);
            let accepted =
                reply.and_then(|r| r.payload_as::<NewOk>().map_err(|e| protocol_error(&e)));
            match accepted {
                Ok(ok) => {
                    store.client().outbox.borrow_mut().remove(&cid);
                    store.save_outbox();
                    store.timelines.update(|t| {
                        t.entry(chat_id.clone())
                            .or_default()
                            .confirm(&cid, ok.message_id)
                    });
                    if !is_room(&chat_id) {
                        store.ensure_chat(&chat_id, &chat_id);
                    }
                }
                // Still queued: sent again after the reconnect.
                Err(e) if e.code == connection::CLOSED => {}
                Err(e) => {
                    store.client().outbox.borrow_mut().remove(&cid);
                    store.save_outbox();
                    store
                        .timelines
                        .update(|t| t.entry(chat_id).or_default().fail(&cid));
                    store.notice.set(Some(format!("Not sent: {}", e.message)));
                }
            }
        });
    }

    /// Removes a message the server refused from the screen.
    pub fn discard(&self, client_message_id: &str) {
        let chat = self.current_chat.get_untracked();
        self.timelines.update(|t| {
            if let Some(t) = t.get_mut(&chat) {
                t.discard(client_message_id);
            }
        });
    }

    pub fn edit(&self, message_id: MessageId, text: String) {
        let chat_id = self.current_chat.get_untracked();
        let now = connection::now();
        self.timelines.update(|t| {
            if let Some(t) = t.get_mut(&chat_id) {
                t.apply_edit(message_id, &text, None, now);
            }
        });
        let store = *self;
        self.request(
            RequestBody::Edit(EditRequest {
                chat_id,
                message_id,
                message: text,
                attachments: None,
            }),
            move |reply| {
                if let Err(e) = reply {
                    store.notice.set(Some(format!("Not edited: {}", e.message)));
                }
            },
        );
    }

    pub fn delete(&self, message_id: MessageId) {
        let chat_id = self.current_chat.get_untracked();
        let now = connection::now();
        self.timelines.update(|t| {
            if let Some(t) = t.get_mut(&chat_id) {
                t.apply_delete(message_id, now);
            }
        });
        let store = *self;
        self.request(
            RequestBody::Delete(DeleteRequest {
                chat_id,
                message_id,
                client_message_id: None,
            }),
            move |reply| {
                if let Err(e) = reply {
                    store
                        .notice
                        .set(Some(format!("Not deleted: {}", e.message)));
                }
            },
        );
    }

    /// A keystroke in the composer: tell the others, at most every two seconds.
    pub fn typed(&self) {
        let chat_id = self.current_chat.get_untracked();
        let now = js_sys::Date::now();
        let client = self.client();
        let last = client
            .typing_sent
            .borrow()
            .get(&chat_id)
            .copied()
            .unwrap_or(0.0);
        if now - last >= TYPING_EVERY_MS && client.ready.get() {
            client.typing_sent.borrow_mut().insert(chat_id.clone(), now);
            self.send_event(ClientEventBody::Typing(ChatRequest { chat_id }));
        }
    }

    /// Who is typing in `chat_id` now (names, sorted).
    pub fn typists(&self, chat_id: &str) -> Vec<String> {
        let now = self.clock.get();
        self.typing.with(|t| {
            t.get(chat_id)
                .map(|m| {
                    m.iter()
                        .filter(|(_, &u)| u > now)
                        .map(|(n, _)| n.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Sends `read` for the current chat if its newest message from others is on screen
    /// in a visible, focused page and was not marked yet.
    pub fn maybe_read(&self) {
        let client = self.client();
        // The list's own measure wins over the flag, which scroll events keep.
        let at_bottom =
            platform::messages_at_end().unwrap_or_else(|| self.at_bottom.get_untracked());
        if !client.ready.get() || !at_bottom || !platform::page_attended() {
            return;
        }
        let Some(me) = self.user() else { return };
        let chat = self.current_chat.get_untracked();
        let Some(newest) = self
            .timelines
            .with_untracked(|t| t.get(&chat).and_then(|t| t.newest_from_others(&me)))
        else {
            return;
        };
        if client
            .read_sent
            .borrow()
            .get(&chat)
            .is_some_and(|&r| r >= newest)
        {
            return;
        }
        client.read_sent.borrow_mut().insert(chat.clone(), newest);
        let store = *self;
        self.request(
            RequestBody::Read(ReceiptRequest {
                chat_id: chat.clone(),
                message_id: Some(newest),
            }),
            move |reply| match reply
                .and_then(|r| r.payload_as::<ReadOk>().map_err(|e| protocol_error(&e)))
            {
                Ok(ok) => store.set_unread(&chat, ok.missed),
                Err(_) => {
                    store.client().read_sent.borrow_mut().remove(&chat);
                }
            },
        );
    }

    /// Queues a `dlvrd` mark, sent shortly (several arrivals make one request per chat).
    fn delivered(&self, chat_id: &str, message_id: MessageId) {
        let client = self.client();
        let was_empty = client.dlvrd_due.borrow().is_empty();
        {
            let mut due = client.dlvrd_due.borrow_mut();
            let entry = due.entry(chat_id.to_owned()).or_insert(0);
            *entry = (*entry).max(message_id);
        }
        if was_empty {
            let store = *self;
            set_timeout(
                move || {
                    let due = std::mem::take(&mut *store.client().dlvrd_due.borrow_mut());
                    for (chat_id, message_id) in due {
                        store.request(
                            RequestBody::Dlvrd(ReceiptRequest {
                                chat_id,
                                message_id: Some(message_id),
                            }),
                            |_| {},
                        );
                    }
                },
                Duration::from_millis(150),
            );
        }
    }
}

/// A `localStorage` key of one user's state.
fn key(what: &str, user: &str) -> String {
    format!("parlor.{what}.{}", user.to_lowercase())
}

fn closed_error() -> ErrorBody {
    ErrorBody {
        code: connection::CLOSED.to_owned(),
        message: "Not connected to the server.".to_owned(),
    }
}

/// A random id for `clientMessageId` (works outside secure contexts, unlike
/// `crypto.randomUUID`, so the app also works over plain http on a LAN).
fn new_client_message_id() -> String {
    let mut id = format!("{:x}-", connection::now());
    for _ in 0..4 {
        let part = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
        id.push_str(&format!("{part:08x}"));
    }
    id
}

fn protocol_error(e: &serde_json::Error) -> ErrorBody {
    ErrorBody {
        code: crate::protocol::codes::BAD_REQUEST.to_owned(),
        message: format!("unexpected answer from the server: {e}"),
    }
}

fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}
