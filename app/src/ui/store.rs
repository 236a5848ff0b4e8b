//! The client-side store: the session, the connection and the chats' messages.
//!
//! Views read its signals and call its methods; only the store talks to the server.
//! The flow on `/ws`: `auth` → `subscribe` (replaying events after the last one seen)
//! → `getMessages` for the open chat; then live `new` events. After a lost connection it
//! reconnects with backoff and repeats the flow, resuming from the last event id.

use super::connection::{self, Connection, Reply};
use crate::protocol::{
    AuthOk, AuthRequest, EventBody, EventId, GetMessagesRequest, MessageItem, NewOk, NewRequest,
    RequestBody, SubscribeRequest,
};
use crate::timeline::{Line, Timeline};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

/// The room every user starts in.
pub const GENERAL: &str = "#General";
/// How many messages a chat shows when opened.
const PAGE: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    LoggedOut,
    /// Waiting for the answer to `auth`.
    LoggingIn,
    LoggedIn {
        user: String,
    },
}

/// State of the link to the server while logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Online,
    Reconnecting,
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
    /// The chat on screen.
    pub current_chat: RwSignal<String>,
    /// A passing problem to show (a message that could not be sent, …).
    pub notice: RwSignal<Option<String>>,
    client: StoredValue<Rc<Client>, LocalStorage>,
}

/// What is not reactive: the socket and what reconnecting needs.
#[derive(Default)]
struct Client {
    connection: RefCell<Option<Connection>>,
    /// Bumped for every socket, so that a stale socket's callbacks do nothing.
    generation: Cell<u64>,
    credentials: RefCell<Option<AuthRequest>>,
    last_event_id: Cell<EventId>,
    /// Failed reconnects in a row, for the backoff.
    attempts: Cell<u32>,
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
            link: RwSignal::new(Link::Online),
            timelines: RwSignal::new(HashMap::new()),
            current_chat: RwSignal::new(GENERAL.to_owned()),
            notice: RwSignal::new(None),
            client: StoredValue::new_local(Rc::new(Client::default())),
        }
    }

    fn client(&self) -> Rc<Client> {
        self.client.get_value()
    }

    /// The logged-in user's name.
    pub fn user(&self) -> Option<String> {
        match self.session.get_untracked() {
            Session::LoggedIn { user } => Some(user),
            _ => None,
        }
    }

    /// Logs in; an unknown username is registered by the server.
    pub fn login(&self, username: String, password: String) {
        if self.session.get_untracked() != Session::LoggedOut {
            return;
        }
        let client = self.client();
        *client.credentials.borrow_mut() = Some(AuthRequest {
            username,
            password,
            token: None,
        });
        client.last_event_id.set(0);
        client.attempts.set(0);
        self.timelines.set(HashMap::new());
        self.login_error.set(None);
        self.notice.set(None);
        self.session.set(Session::LoggingIn);
        self.connect();
    }

    pub fn logout(&self) {
        let client = self.client();
        client.credentials.borrow_mut().take();
        client.generation.set(client.generation.get() + 1);
        let old = client.connection.borrow_mut().take();
        drop(old);
        self.timelines.set(HashMap::new());
        self.notice.set(None);
        self.link.set(Link::Online);
        self.session.set(Session::LoggedOut);
    }

    /// Sends `text` to the current chat, showing it at once as "sending".
    pub fn send(&self, text: String) {
        let Some(user) = self.user() else { return };
        let chat_id = self.current_chat.get_untracked();
        let client_message_id = new_client_message_id();
        self.timelines.update(|t| {
            t.entry(chat_id.clone()).or_default().upsert(Line::sending(
                client_message_id.clone(),
                user,
                text.clone(),
                connection::now(),
            ));
        });
        let store = *self;
        let body = RequestBody::New(NewRequest {
            chat_id: chat_id.clone(),
            client_message_id: Some(client_message_id.clone()),
            message: text,
            attachments: vec![],
        });
        self.request(body, move |reply| {
            let accepted =
                reply.and_then(|r| r.payload_as::<NewOk>().map_err(|e| protocol_error(&e)));
            store.timelines.update(|t| {
                let timeline = t.entry(chat_id).or_default();
                match &accepted {
                    Ok(ok) => timeline.confirm(&client_message_id, ok.message_id),
                    Err(_) => timeline.fail(&client_message_id),
                }
            });
            if let Err(e) = accepted {
                store.notice.set(Some(format!("Not sent: {}", e.message)));
            }
        });
    }

    /// Sends a request on the open connection, or fails it at once.
    fn request(&self, body: RequestBody, on_reply: impl FnOnce(Reply) + 'static) {
        let client = self.client();
        let connection = client.connection.borrow();
        match connection.as_ref().filter(|c| c.is_open()) {
            Some(c) => c.request(body, on_reply),
            None => {
                drop(connection);
                on_reply(Err(crate::protocol::ErrorBody {
                    code: connection::CLOSED.to_owned(),
                    message: "Not connected to the server.".to_owned(),
                }));
            }
        }
    }

    fn connect(&self) {
        let client = self.client();
        let generation = client.generation.get() + 1;
        client.generation.set(generation);
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
        let Some(credentials) = self.client().credentials.borrow().clone() else {
            return;
        };
        let store = *self;
        self.request(RequestBody::Auth(credentials), move |reply| {
            match reply.and_then(|r| r.payload_as::<AuthOk>().map_err(|e| protocol_error(&e))) {
                Ok(ok) => {
                    store.client().attempts.set(0);
                    store.link.set(Link::Online);
                    if store.session.get_untracked()
                        != (Session::LoggedIn {
                            user: ok.user_id.clone(),
                        })
                    {
                        store.session.set(Session::LoggedIn { user: ok.user_id });
                    }
                    store.subscribe();
                }
                // Lost before an answer: `on_close` retries or reports it.
                Err(e) if e.code == connection::CLOSED => {}
                Err(e) => {
                    store.logout();
                    store.login_error.set(Some(e.message));
                }
            }
        });
    }

    fn subscribe(&self) {
        let last_event_id = Some(self.client().last_event_id.get());
        let store = *self;
        self.request(
            RequestBody::Subscribe(SubscribeRequest { last_event_id }),
            move |reply| {
                if let Err(e) = reply {
                    warn(&format!("subscribe failed: {}", e.message));
                }
                store.load_current_chat();
            },
        );
    }

    /// Loads the latest page of the current chat.
    pub fn load_current_chat(&self) {
        let chat_id = self.current_chat.get_untracked();
        let store = *self;
        let body = RequestBody::GetMessages(GetMessagesRequest {
            chat_id: chat_id.clone(),
            end_id: None,
            count: PAGE,
        });
        self.request(body, move |reply| {
            match reply.and_then(|r| {
                r.payload_as::<Vec<MessageItem>>()
                    .map_err(|e| protocol_error(&e))
            }) {
                Ok(items) => store
                    .timelines
                    .update(|t| t.entry(chat_id).or_default().merge_page(&items)),
                Err(e) if e.code == connection::CLOSED => {}
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not load messages: {}", e.message))),
            }
        });
    }

    fn on_event(&self, event: crate::protocol::Event) {
        if let Some(id) = event.id {
            let client = self.client();
            client.last_event_id.set(client.last_event_id.get().max(id));
        }
        // Other events (edits, receipts, presence, …) come with the views that show them.
        if let EventBody::New(message) = &event.body {
            let line = Line::from_event(message, event.timestamp);
            self.timelines.update(|t| {
                t.entry(message.chat_id.clone()).or_default().upsert(line);
            });
        }
    }

    fn on_close(&self) {
        let client = self.client();
        let old = client.connection.borrow_mut().take();
        drop(old);
        match self.session.get_untracked() {
            Session::LoggedOut => {}
            Session::LoggingIn => {
                client.credentials.borrow_mut().take();
                self.session.set(Session::LoggedOut);
                if self.login_error.get_untracked().is_none() {
                    self.login_error
                        .set(Some("Could not reach the server. Try again.".to_owned()));
                }
            }
            Session::LoggedIn { .. } => {
                self.link.set(Link::Reconnecting);
                let attempts = client.attempts.get();
                client.attempts.set(attempts + 1);
                let store = *self;
                let generation = client.generation.get();
                set_timeout(
                    move || {
                        // Still the same lost socket (no logout, no newer login)?
                        if store.client().generation.get() == generation && store.user().is_some() {
                            store.connect();
                        }
                    },
                    backoff(attempts),
                );
            }
        }
    }
}

/// 0.5 s, 1 s, 2 s, … up to 30 s, with jitter so that clients do not return in step.
fn backoff(attempts: u32) -> Duration {
    let base = 500.0 * f64::from(2u32.saturating_pow(attempts.min(6)));
    let ms = base.min(30_000.0) * (0.75 + 0.5 * js_sys::Math::random());
    Duration::from_millis(ms as u64)
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

fn protocol_error(e: &serde_json::Error) -> crate::protocol::ErrorBody {
    crate::protocol::ErrorBody {
        code: crate::protocol::codes::BAD_REQUEST.to_owned(),
        message: format!("unexpected answer from the server: {e}"),
    }
}

fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}
