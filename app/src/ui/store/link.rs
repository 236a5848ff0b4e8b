//! The link to the server: one socket at a time, reconnected with backoff when lost or
//! when the browser's network comes back, and the resynchronisation after each
//! `subscribe`. Every request of the store goes through [`ChatStore::request`], the
//! one typed request helper: it sends a request and hands back the typed payload of its
//! answer or the error, so that no caller decodes a response itself.

use super::super::connection::{self, Connection};
use super::super::platform;
use super::{after, warn, ChatStore, Session};
use crate::protocol::SubscribeRequest;
use crate::protocol::{ClientEventBody, ErrorBody, EventId, RequestBody, SubscribeOk};
use crate::reply;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use std::cell::{Cell, RefCell};
use std::time::Duration;

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

/// The socket and what reconnecting needs.
#[derive(Default)]
pub(super) struct LinkState {
    connection: RefCell<Option<Connection>>,
    /// Bumped for every socket, so that a stale socket's callbacks do nothing.
    generation: Cell<u64>,
    /// Failed reconnects in a row, for the backoff.
    pub(super) attempts: Cell<u32>,
    /// Subscribed on the current socket: requests may flow.
    pub(super) ready: Cell<bool>,
    pub(super) last_event_id: Cell<EventId>,
    /// Events up to this id are the replay of `subscribe` (no notifications for them).
    pub(super) replay_until: Cell<EventId>,
}

impl ChatStore {
    /// Sends a request on the open connection; `on_reply` gets the answer's payload read
    /// as `T` (the type this request answers with), or the server's error, or a
    /// [`reply::CLOSED`] error when there is no open connection or it closes first.
    /// Requests whose payload does not matter ask for [`serde::de::IgnoredAny`].
    pub(super) fn request<T: DeserializeOwned + 'static>(
        &self,
        body: RequestBody,
        on_reply: impl FnOnce(Result<T, ErrorBody>) + 'static,
    ) {
        let on_reply = move |answer: reply::Reply| on_reply(reply::decode(answer));
        let client = self.client();
        let connection = client.link.connection.borrow();
        match connection.as_ref().filter(|c| c.is_open()) {
            Some(c) => c.request(body, on_reply),
            None => {
                drop(connection);
                on_reply(Err(reply::closed("Not connected to the server.")));
            }
        }
    }

    /// Sends a client event (typing, idle, …) once subscribed; dropped otherwise.
    pub(super) fn send_event(&self, body: ClientEventBody) {
        let client = self.client();
        if !client.link.ready.get() {
            return;
        }
        let connection = client.link.connection.borrow();
        if let Some(c) = connection.as_ref().filter(|c| c.is_open()) {
            c.send_event(body);
        }
    }

    /// Forgets the socket: its callbacks do nothing from now on, and the requests
    /// waiting on it fail as closed (once the borrow is released: they may send more).
    pub(super) fn drop_connection(&self) {
        let client = self.client();
        client.link.generation.set(client.link.generation.get() + 1);
        client.link.ready.set(false);
        let old = client.link.connection.borrow_mut().take();
        drop(old);
    }

    pub(super) fn connect(&self) {
        let client = self.client();
        let generation = client.link.generation.get() + 1;
        client.link.generation.set(generation);
        client.link.ready.set(false);
        client.outbox.in_flight.borrow_mut().clear();
        if !platform::browser_online() && self.session.get_untracked() != Session::LoggingIn {
            let old = client.link.connection.borrow_mut().take();
            drop(old);
            self.link.set(Link::Offline);
            return;
        }
        let store = *self;
        let current = move || store.client().link.generation.get() == generation;
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
            Ok(c) => client.link.connection.replace(Some(c)),
            Err(e) => {
                web_sys::console::error_1(&e);
                let old = client.link.connection.replace(None);
                self.on_close();
                old
            }
        };
        drop(old);
    }

    /// Subscribes after `auth`; once subscribed, reloads what the views show and sends
    /// the queued messages.
    pub(super) fn subscribe(&self) {
        let last = self.client().link.last_event_id.get();
        let last_event_id = (last > 0).then_some(last);
        let store = *self;
        // Read as raw JSON first (not as `SubscribeOk`): an unexpected payload still
        // subscribes. Raw, not `serde_json::Value`, which would bring its whole
        // deserializer into the bundle for this one answer.
        self.request::<Box<serde_json::value::RawValue>>(
            RequestBody::Subscribe(SubscribeRequest { last_event_id }),
            move |answer| match answer {
                Ok(payload) => {
                    let client = store.client();
                    match serde_json::from_str::<SubscribeOk>(payload.get()) {
                        Ok(ok) => client.link.replay_until.set(ok.last_event_id),
                        // Still subscribed; replayed events may notify again.
                        Err(e) => warn(&format!("unexpected answer to subscribe: {e}")),
                    }
                    client.link.ready.set(true);
                    store.link.set(Link::Online);
                    store.notice.update(|n| {
                        if n.as_deref().is_some_and(|m| m.contains("connections")) {
                            *n = None;
                        }
                    });
                    if client.activity.idleness.borrow().is_idle() {
                        store.send_event(ClientEventBody::Idle);
                    }
                    store.refresh_chats();
                    store.refresh_users();
                    store.refresh_rooms();
                    store.load_blocks();
                    store.load_chat(store.current_chat.get_untracked());
                    store.flush_outbox();
                    store.maybe_read();
                }
                Err(e) if reply::is_closed(&e) => {}
                Err(e) => warn(&format!("subscribe failed: {}", e.message)),
            },
        );
    }

    fn on_close(&self) {
        let client = self.client();
        client.link.ready.set(false);
        client.outbox.in_flight.borrow_mut().clear();
        let old = client.link.connection.borrow_mut().take();
        drop(old);
        match self.session.get_untracked() {
            Session::LoggedOut => {}
            Session::LoggingIn => {
                client.credentials.borrow_mut().password.take();
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
                let attempts = client.link.attempts.get();
                client.link.attempts.set(attempts.saturating_add(1));
                let store = *self;
                let generation = client.link.generation.get();
                let delay = crate::backoff::delay_ms(attempts, js_sys::Math::random());
                after(Duration::from_millis(delay), move || {
                    // Still the same lost socket (no logout, no newer attempt)?
                    if store.client().link.generation.get() == generation && store.user().is_some()
                    {
                        store.connect();
                    }
                });
            }
        }
    }

    /// Reconnects now (the banner's "Retry now").
    pub fn retry_now(&self) {
        if self.user().is_some() && !self.client().link.ready.get() {
            self.client().link.attempts.set(0);
            self.connect();
        }
    }

    /// The browser's network went away or came back.
    pub(super) fn on_network(&self, online: bool) {
        if self.user().is_none() {
            return;
        }
        let client = self.client();
        if online {
            if client.link.ready.get() {
                return;
            }
            client.link.attempts.set(0);
            self.link.set(Link::Reconnecting);
            self.connect();
        } else {
            // Close the socket now instead of waiting for it to time out.
            client.outbox.in_flight.borrow_mut().clear();
            self.drop_connection();
            self.link.set(Link::Offline);
        }
    }
}
