//! Logging in and out: the password login, resuming a saved session by its token, what
//! this browser keeps per user in `localStorage`, and ending a session (on logout, or
//! when the server refuses the token). What a refused `auth` means is decided by
//! [`crate::session::auth_failure`].

use super::super::platform;
use super::{warn, warn_failed, ChatStore, Link, GENERAL};
use crate::outbox::Outbox;
use crate::presence::Typists;
use crate::protocol::{
    AuthOk, AuthRequest, ChangePasswordOk, ChangePasswordRequest, RequestBody, SetStatusRequest,
    Status,
};
use crate::session::{auth_failure, storage_key, AuthFailure, SavedSession, SESSION_KEY};
use crate::timeline::Line;
use leptos::prelude::*;
use serde::de::IgnoredAny;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    LoggedOut,
    /// Waiting for the answer to a password `auth`.
    LoggingIn,
    LoggedIn {
        user: String,
    },
}

impl ChatStore {
    /// Logs in with a password; an unknown username is registered by the server (with
    /// `invite`, an invitation's code, when registration needs one).
    /// With `reset`, a password reset link's code: `password` becomes the new one.
    pub fn login(
        &self,
        username: String,
        password: String,
        invite: Option<String>,
        reset: Option<String>,
    ) {
        if self.session.get_untracked() != Session::LoggedOut {
            return;
        }
        let client = self.client();
        {
            let mut credentials = client.credentials.borrow_mut();
            credentials.password = Some(AuthRequest {
                username,
                password,
                token: None,
                invite,
                reset,
            });
            credentials.token = None;
        }
        client.link.attempts.set(0);
        self.reset_state();
        self.login_error.set(None);
        self.session.set(Session::LoggingIn);
        self.connect();
    }

    /// Logs in with a saved session's token, showing the chat at once.
    pub(super) fn resume(&self, saved: SavedSession) {
        let user = saved.username;
        {
            let client = self.client();
            let mut credentials = client.credentials.borrow_mut();
            credentials.token = Some(saved.token);
            credentials.user = Some(user.clone());
        }
        self.load_local_state(&user);
        self.link.set(Link::Connecting);
        self.session.set(Session::LoggedIn { user });
        self.connect();
    }

    /// Restores what this browser kept for `user`: last event, open chat, status, and
    /// the queued messages (shown as pending).
    fn load_local_state(&self, user: &str) {
        let client = self.client();
        let last = platform::load(&storage_key("last", user)).and_then(|v| v.parse().ok());
        client.link.last_event_id.set(last.unwrap_or(0));
        let chat = platform::opened_chat()
            .or_else(|| platform::load(&storage_key("chat", user)))
            .unwrap_or_else(|| GENERAL.to_owned());
        self.current_chat.set(chat);
        let status = platform::load(&storage_key("status", user))
            .and_then(|s| Status::parse(&s))
            .unwrap_or(Status::Online);
        self.my_status.set(status);
        let outbox = Outbox::parse(platform::load(&storage_key("outbox", user)).as_deref());
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
        *client.outbox.queue.borrow_mut() = outbox;
    }

    /// Forgets every chat, message, mark and queued message shown (another user logs in,
    /// or this one logs out).
    fn reset_state(&self) {
        self.timelines.set(HashMap::new());
        self.chats.set(Vec::new());
        self.members.set(HashMap::new());
        self.marks.set(HashMap::new());
        self.typing.set(Typists::default());
        self.users.set(BTreeMap::new());
        self.rooms.set(Vec::new());
        self.notice.set(None);
        self.editing.set(None);
        self.focus.set(None);
        self.left_off.set(None);
        let client = self.client();
        client.receipts.clear();
        client.outbox.in_flight.borrow_mut().clear();
        *client.outbox.queue.borrow_mut() = Outbox::default();
    }

    /// Logs out: revokes the token on the server (when connected) and forgets it here.
    pub fn logout(&self) {
        let store = *self;
        if self.client().link.ready.get() {
            self.forget_device_push(move || {
                store.request::<IgnoredAny>(
                    RequestBody::Logout(Default::default()),
                    move |answer| {
                        // Forgotten here either way; the server's token expires on its own.
                        if let Err(e) = answer {
                            warn_failed("logout", &e);
                        }
                        store.end_session(None);
                    },
                );
            });
        } else {
            self.end_session(None);
        }
    }

    /// Logs out on every device: revokes every token of this user on the server (which
    /// closes their other connections) and forgets the session here.
    pub fn logout_everywhere(&self, on_error: impl FnOnce(String) + 'static) {
        let store = *self;
        self.request::<IgnoredAny>(
            RequestBody::LogoutEverywhere(Default::default()),
            move |answer| match answer {
                Ok(_) => store.end_session(None),
                Err(e) => on_error(e.message),
            },
        );
    }

    /// Changes the password; the server ends every other session of this user and
    /// answers with a new token for this one, which replaces the saved one. `on_done`
    /// gets the outcome (the server's message on failure).
    pub fn change_password(
        &self,
        old_password: String,
        new_password: String,
        on_done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let store = *self;
        let body = RequestBody::ChangePassword(ChangePasswordRequest {
            old_password,
            new_password,
        });
        self.request::<ChangePasswordOk>(body, move |answer| match answer {
            Ok(ok) => {
                store.keep_token(ok.token);
                on_done(Ok(()));
            }
            Err(e) => on_done(Err(match e.code.as_str() {
                "auth_failed" => "The current password is wrong.".to_owned(),
                _ => e.message,
            })),
        });
    }

    /// Uses `token` from now on (and after a reload).
    fn keep_token(&self, token: String) {
        let client = self.client();
        let user = {
            let mut credentials = client.credentials.borrow_mut();
            credentials.token = Some(token.clone());
            credentials.password = None;
            credentials.user.clone()
        };
        if let Some(username) = user {
            match (SavedSession { username, token }).to_json() {
                Ok(json) => platform::save(SESSION_KEY, &json),
                Err(e) => warn(&format!("cannot save the session: {e}")),
            }
        }
    }

    /// Drops the session locally (after logout, or when the token is refused).
    pub(super) fn end_session(&self, why: Option<String>) {
        let client = self.client();
        let user = client.credentials.borrow_mut().user.take();
        if let Some(user) = user {
            // An explicit logout leaves nothing of this user's messages behind; an
            // expired session keeps them for the next login.
            if why.is_none() {
                platform::forget(&storage_key("outbox", &user));
                ChatStore::forget_drafts(&user);
            }
        }
        {
            let mut credentials = client.credentials.borrow_mut();
            credentials.password = None;
            credentials.token = None;
        }
        self.drop_connection();
        platform::forget(SESSION_KEY);
        self.reset_state();
        self.link.set(Link::Connecting);
        self.login_error.set(why);
        self.session.set(Session::LoggedOut);
        platform::set_title("Parlor");
    }

    /// Sends `auth` on a newly opened socket: by token when there is one, else by
    /// password.
    pub(super) fn authenticate(&self) {
        let Some(body) = self.client().credentials.borrow().auth_request() else {
            return;
        };
        let with_token = body.token.is_some();
        let store = *self;
        self.request::<AuthOk>(RequestBody::Auth(body), move |answer| match answer {
            Ok(ok) => store.on_logged_in(ok),
            Err(e) => match auth_failure(with_token, e) {
                // Lost before an answer: `on_close` retries or reports it.
                AuthFailure::Lost => {}
                // Passing trouble: keep the session, `on_close` retries with backoff.
                AuthFailure::Retry(message) => store.notice.set(Some(message)),
                AuthFailure::End(message) => store.end_session(Some(message)),
            },
        });
    }

    fn on_logged_in(&self, ok: AuthOk) {
        let client = self.client();
        client.link.attempts.set(0);
        let user = ok.user_id;
        self.my_role.set(ok.role.unwrap_or_default());
        // Signed up from an invitation's link: the address becomes the app's own.
        platform::leave_invite_path();
        let first = {
            let mut credentials = client.credentials.borrow_mut();
            let first = credentials.user.as_deref() != Some(user.as_str());
            credentials.user = Some(user.clone());
            if let Some(token) = &ok.token {
                credentials.token = Some(token.clone());
                credentials.password = None;
            }
            first
        };
        if let Some(token) = ok.token {
            let saved = SavedSession {
                username: user.clone(),
                token,
            };
            match saved.to_json() {
                Ok(json) => platform::save(SESSION_KEY, &json),
                Err(e) => warn(&format!("cannot save the session: {e}")),
            }
        }
        if first || self.session.get_untracked() != (Session::LoggedIn { user: user.clone() }) {
            self.load_local_state(&user);
            self.session.set(Session::LoggedIn { user });
        }
        let status = self.my_status.get_untracked();
        if status != Status::Online {
            self.request::<IgnoredAny>(
                RequestBody::SetStatus(SetStatusRequest { status }),
                |answer| {
                    if let Err(e) = answer {
                        warn_failed("setStatus", &e);
                    }
                },
            );
        }
        self.subscribe();
    }
}
