//! Getting the user's attention while the page is hidden: the count in the title and
//! desktop notifications for direct messages and mentions, and asking for the
//! permission to show them. Their wording is [`crate::text::alert`].

use super::super::platform;
use super::{warn_js, ChatStore};
use crate::session::storage_key;
use crate::text;
use leptos::prelude::*;

impl ChatStore {
    /// A new message from someone else: a title badge and a desktop notification while
    /// the page is hidden, as the chat's notification level says (`text::alert`);
    /// `mentioned`: the server says it mentions this user or the room.
    pub(super) fn alert(
        &self,
        chat_id: &str,
        sender: &str,
        message: &str,
        me: &str,
        mentioned: bool,
    ) {
        if !platform::page_hidden() {
            return;
        }
        let level = self
            .chats
            .with_untracked(|c| crate::chats::notify_level(c, chat_id));
        let Some(alert) = text::alert(chat_id, sender, message, me, level, mentioned) else {
            return;
        };
        let client = self.client();
        client.alerts.set(client.alerts.get() + 1);
        platform::set_title(&format!("({}) Parlor", client.alerts.get()));
        let store = *self;
        let chat = chat_id.to_owned();
        platform::notify(&alert.title, &alert.body, chat_id, move || {
            store.select_chat(chat)
        });
    }

    /// The page is seen again: the title loses its badge.
    pub(super) fn clear_alerts(&self) {
        let client = self.client();
        if client.alerts.get() > 0 {
            client.alerts.set(0);
            platform::set_title("Parlor");
        }
    }

    /// Asks for the notification permission (on a user action: the first message sent,
    /// or the "Turn on notifications" button).
    pub fn ask_notifications(&self) {
        if self.notifications.get_untracked().as_deref() != Some("default") {
            return;
        }
        let store = *self;
        match web_sys::Notification::request_permission() {
            Ok(promise) => leptos::task::spawn_local(async move {
                // Refused or not, the permission now says what the user chose.
                if let Err(e) = wasm_bindgen_futures::JsFuture::from(promise).await {
                    warn_js("no answer to the notification request", &e);
                }
                store.notifications.set(platform::notification_permission());
            }),
            Err(e) => warn_js("cannot ask for notifications", &e),
        }
    }

    /// Asks for the permission once per user, on their first message.
    pub(super) fn ask_notifications_once(&self) {
        if let Some(user) = self.user() {
            let k = storage_key("asked", &user);
            if platform::load(&k).is_none() {
                platform::save(&k, "1");
                self.ask_notifications();
            }
        }
    }
}

impl ChatStore {
    /// Sets how much of the open chat notifies this user (`setNotify`); the list shows
    /// it at once, and again what the server answered.
    pub fn set_notify(&self, level: crate::protocol::NotifyLevel) {
        use crate::protocol::{NotifyEvent, RequestBody, SetNotifyRequest};
        let chat_id = self.current_chat.get_untracked();
        let before = self
            .chats
            .with_untracked(|c| crate::chats::notify_level(c, &chat_id));
        self.chats
            .maybe_update(|c| crate::chats::set_notify(c, &chat_id, level));
        let store = *self;
        self.request::<NotifyEvent>(
            RequestBody::SetNotify(SetNotifyRequest {
                chat_id: chat_id.clone(),
                level,
            }),
            move |answer| match answer {
                Ok(set) => store.notified_level(&set.chat_id, set.level),
                Err(e) => {
                    store.notified_level(&chat_id, before);
                    store.notice.set(Some(format!(
                        "Could not change notifications: {}",
                        e.message
                    )));
                }
            },
        );
    }

    /// The level of a chat as the server says (an answer, or another session's change).
    pub(super) fn notified_level(&self, chat_id: &str, level: crate::protocol::NotifyLevel) {
        self.chats
            .maybe_update(|c| crate::chats::set_notify(c, chat_id, level));
    }
}
