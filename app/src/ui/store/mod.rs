//! The client-side store: the session, the connection and everything the views show.
//!
//! Views read its signals and call its methods; only the store talks to the server.
//! The flow on `/ws`: `auth` (password once, then the session token) → `subscribe`
//! (replaying events after the last one handled, kept in `localStorage`) → `getChats`,
//! `listUsers`, the open chat's messages and receipts → the queued messages. After a
//! lost connection it reconnects with backoff and jitter and repeats the flow; the
//! timeline merges replayed and reloaded messages so that none shows twice.
//!
//! [`ChatStore`] is one type whose methods are written in one file per concern:
//! `session` (login, token, logout), `link` (the socket, reconnecting, and the typed
//! request helper every request goes through), `chats` (the chat and room lists,
//! navigation), `timelines` (history pages), `outbox` (sending, retrying, editing),
//! `receipts` (read and delivered marks, unread counts), `reactions` (reactions, pins,
//! the emoji table), `people` (users, members, typing, idleness), `events` (what the
//! server pushes), `jump` (bringing a message into view), `position` (where the reader
//! left off, drafts), `search` (message search) and `notify` (the title badge and
//! desktop notifications). The decisions they take are in the pure modules outside
//! `ui` (`crate::session`, `crate::chats`, `crate::presence`, …), tested natively; these
//! files wire them to signals, `localStorage` and the socket.

use super::platform;
use crate::presence::{Idleness, Typists};
use crate::protocol::{ErrorBody, MessageId, RoomInfo, Status};
use crate::receipts::ChatMarks;
use crate::reply;
use crate::session::{Credentials, SavedSession, SESSION_KEY};
use crate::timeline::Timeline;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;

mod access;
mod chats;
mod events;
mod jump;
mod link;
mod notify;
mod outbox;
mod people;
mod position;
mod push;
mod reactions;
mod receipts;
mod rooms;
mod search;
mod session;
mod timelines;

pub use crate::chats::ChatEntry;
pub use link::Link;
pub use position::LeftOff;
pub use reactions::Reactions;
pub use rooms::MemberAction;
pub use session::Session;

/// The room every user starts in.
pub const GENERAL: &str = "#General";

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
    /// Who is typing where, until when.
    pub typing: RwSignal<Typists>,
    /// Now, updated every second (drives expiries).
    pub clock: RwSignal<f64>,
    /// The status this user chose.
    pub my_status: RwSignal<Status>,
    /// This user's role on the server (from `auth`).
    pub my_role: RwSignal<crate::protocol::Role>,
    /// A passing problem or server notice to show.
    pub notice: RwSignal<Option<String>>,
    /// Every room (`listRooms`), for joining.
    pub rooms: RwSignal<Vec<RoomInfo>>,
    /// People's display names and avatars, by username (from `listUsers` and `profile`
    /// events).
    pub profiles: RwSignal<Vec<crate::protocol::Profile>>,
    /// The people this user blocked (their room messages are folded away).
    pub blocked: RwSignal<Vec<String>>,
    /// The message list is scrolled to its end (the newest message is visible).
    pub at_bottom: RwSignal<bool>,
    /// The page is visible and focused.
    pub attended: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// The own message being edited in the composer.
    pub editing: RwSignal<Option<(MessageId, String)>>,
    /// The message the next one sent answers (the composer's "Replying to").
    pub replying: RwSignal<Option<crate::protocol::ReplyQuote>>,
    /// Phone layout: the chat list is open over the chat.
    pub drawer_open: RwSignal<bool>,
    /// Desktop notifications: None when unsupported, else the permission.
    pub notifications: RwSignal<Option<String>>,
    /// Reactions, pinned messages and the emoji picker's table.
    pub reactions: Reactions,
    /// The message to bring into view and highlight (see `show_message`).
    pub focus: RwSignal<Option<(String, MessageId)>>,
    /// Where the reader left off in the open chat (the "New messages" divider).
    pub left_off: RwSignal<Option<LeftOff>>,
    client: StoredValue<Rc<Client>, LocalStorage>,
}

/// What is not reactive, one part per concern.
#[derive(Default)]
struct Client {
    link: link::LinkState,
    credentials: RefCell<Credentials>,
    outbox: outbox::Sending,
    receipts: receipts::Marking,
    activity: people::Activity,
    /// New DMs and mentions while the page was hidden (the title badge).
    alerts: Cell<u32>,
    /// The current `show_message` (a newer one ends an older one still loading).
    seeking: Cell<u64>,
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
            typing: RwSignal::new(Typists::default()),
            clock: RwSignal::new(js_sys::Date::now()),
            my_status: RwSignal::new(Status::Online),
            my_role: RwSignal::new(crate::protocol::Role::Member),
            notice: RwSignal::new(None),
            rooms: RwSignal::new(Vec::new()),
            profiles: RwSignal::new(Vec::new()),
            blocked: RwSignal::new(Vec::new()),
            at_bottom: RwSignal::new(true),
            attended: RwSignal::new(platform::page_attended()),
            loading_older: RwSignal::new(false),
            editing: RwSignal::new(None),
            replying: RwSignal::new(None),
            drawer_open: RwSignal::new(false),
            notifications: RwSignal::new(platform::notification_permission()),
            reactions: Reactions::default(),
            focus: RwSignal::new(None),
            left_off: RwSignal::new(None),
            client: StoredValue::new_local(Rc::new(Client::default())),
        }
    }

    fn client(&self) -> Rc<Client> {
        self.client.get_value()
    }

    /// The logged-in user's name.
    pub fn user(&self) -> Option<String> {
        self.client().credentials.borrow().user.clone()
    }

    /// The session token (the upload credential).
    pub fn token(&self) -> Option<String> {
        self.client().credentials.borrow().token.clone()
    }

    /// Installs the page listeners and resumes a saved session. Called once.
    pub fn start(&self) {
        let store = *self;
        *self.client().activity.idleness.borrow_mut() = Idleness::since(js_sys::Date::now());

        // Network and attention.
        let on_online = move || store.on_network(true);
        let on_offline = move || store.on_network(false);
        std::mem::forget(window_event_listener(leptos::ev::online, move |_| {
            on_online()
        }));
        std::mem::forget(window_event_listener(leptos::ev::offline, move |_| {
            on_offline()
        }));
        // A notification opened while this page exists (told by the service worker,
        // through `public/pwa.js`): its chat.
        std::mem::forget(leptos::prelude::window_event_listener_untyped(
            "parlor-open-chat",
            move |ev| {
                let chat = js_sys::Reflect::get(&ev, &"detail".into())
                    .ok()
                    .and_then(|d| d.as_string());
                if let Some(chat) = chat.filter(|c| !c.is_empty()) {
                    store.ensure_chat(&chat, crate::text::chat_title(&chat));
                    store.select_chat(chat);
                }
            },
        ));
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
            if let Err(e) =
                doc.add_event_listener_with_callback(&handle, cb.as_ref().unchecked_ref())
            {
                warn_js("cannot watch the page's visibility", &e);
            }
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
                if let Err(e) =
                    w.add_event_listener_with_callback(activity, cb.as_ref().unchecked_ref())
                {
                    warn_js("cannot watch activity", &e);
                }
            }
            cb.forget();
        }
        // The clock: typing expiries and idleness. Runs for the life of the page.
        if let Err(e) = set_interval_with_handle(move || store.tick(), Duration::from_millis(1000))
        {
            warn_js("cannot start the clock", &e);
        }

        // A saved session logs in with its token, showing the chat at once.
        if let Some(saved) = platform::load(SESSION_KEY).and_then(|s| SavedSession::parse(&s)) {
            self.resume(saved);
        }
    }
}

/// Runs `f` once after `delay`; a timer the browser refuses is logged.
fn after(delay: Duration, f: impl FnOnce() + 'static) {
    if let Err(e) = set_timeout_with_handle(f, delay) {
        warn_js("cannot start a timer", &e);
    }
}

fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}

fn warn_js(what: &str, error: &wasm_bindgen::JsValue) {
    web_sys::console::warn_2(&format!("parlor: {what}:").into(), error);
}

/// Logs a failed request that nothing on screen reports, unless the connection was
/// lost under it (the flow after the reconnect sends it again).
fn warn_failed(what: &str, error: &ErrorBody) {
    if !reply::is_closed(error) {
        warn(&format!("{what} failed: {}", error.message));
    }
}
