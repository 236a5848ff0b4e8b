//! What the server's events change in the store, and the notifications they raise.

use super::super::platform;
use super::{key, ChatStore, TYPING_SHOW_MS};
use crate::protocol::{Event, EventBody, RoomInfo, Status};
use crate::receipts::Marks;
use crate::text::{is_room, mentions};
use crate::timeline::Line;
use leptos::prelude::*;

impl ChatStore {
    // ───────────────────────────── events ─────────────────────────────

    pub(super) fn on_event(&self, event: Event) {
        let client = self.client();
        if let Some(id) = event.id {
            if id > client.last_event_id.get() {
                client.last_event_id.set(id);
                if let Some(user) = self.user() {
                    platform::save(&key("last", &user), &id.to_string());
                }
            }
        }
        let me = self.user().unwrap_or_default();
        match event.body {
            EventBody::New(m) => {
                let from_me = m
                    .sender
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&me));
                let line = Line::from_event(&m, event.timestamp);
                self.timelines.update(|t| {
                    t.entry(m.chat_id.clone()).or_default().upsert(line);
                });
                let name = m.chat_id.strip_prefix('#').unwrap_or(&m.chat_id).to_owned();
                self.ensure_chat(&m.chat_id, &name);
                if from_me {
                    // Sent by another tab, or replayed after a lost answer.
                    if let Some(cid) = &m.client_message_id {
                        if client.outbox.borrow_mut().remove(cid) {
                            self.save_outbox();
                        }
                    }
                } else {
                    self.set_unread(&m.chat_id, m.missed);
                    if let Some(sender) = &m.sender {
                        self.typing.update(|t| {
                            if let Some(typists) = t.get_mut(&m.chat_id) {
                                typists.remove(sender);
                            }
                        });
                    }
                    self.delivered(&m.chat_id, m.message_id);
                    let replayed = event.id.is_some_and(|id| id <= client.replay_until.get());
                    if !replayed {
                        self.alert(
                            &m.chat_id,
                            m.sender.as_deref().unwrap_or(""),
                            &m.message,
                            &me,
                        );
                    }
                    if m.chat_id == self.current_chat.get_untracked() {
                        self.maybe_read();
                    }
                }
            }
            EventBody::Edit(e) => self.timelines.update(|t| {
                if let Some(t) = t.get_mut(&e.chat_id) {
                    t.apply_edit(
                        e.message_id,
                        &e.message,
                        Some(&e.attachments),
                        e.updated_at.unwrap_or(event.timestamp),
                    );
                }
            }),
            EventBody::Delete(d) => self.timelines.update(|t| {
                if let Some(t) = t.get_mut(&d.chat_id) {
                    t.apply_delete(d.message_id, event.timestamp);
                }
            }),
            EventBody::Dlvrd(r) => self.on_receipt(r, false, &me),
            EventBody::Read(r) => self.on_receipt(r, true, &me),
            EventBody::Typing(t) => {
                let user = t.user_id.unwrap_or_else(|| t.chat_id.clone());
                if !user.eq_ignore_ascii_case(&me) {
                    let until = js_sys::Date::now() + TYPING_SHOW_MS;
                    self.typing.update(|m| {
                        m.entry(t.chat_id).or_default().insert(user, until);
                    });
                }
            }
            EventBody::Online(u) => self.users.update(|users| {
                let s = users.entry(u.user_id).or_insert(Status::Online);
                if *s == Status::Offline {
                    *s = Status::Online;
                }
            }),
            EventBody::Offline(u) => self.users.update(|users| {
                users.insert(u.user_id, Status::Offline);
            }),
            EventBody::Presence(p) => {
                if p.user_id.eq_ignore_ascii_case(&me) {
                    self.adopt_own_status(p.status);
                }
                self.users.update(|users| {
                    users.insert(p.user_id, p.status);
                });
            }
            EventBody::Join(j) => {
                if j.user_id.eq_ignore_ascii_case(&me) {
                    self.ensure_chat(
                        &j.chat_id,
                        j.chat_id.strip_prefix('#').unwrap_or(&j.chat_id),
                    );
                } else {
                    self.members.update(|m| {
                        if let Some(list) = m.get_mut(&j.chat_id) {
                            if !list.contains(&j.user_id) {
                                list.push(j.user_id.clone());
                                list.sort_by_key(|n| n.to_lowercase());
                            }
                        }
                    });
                    if !self.users.with_untracked(|u| u.contains_key(&j.user_id)) {
                        self.users.update(|u| {
                            u.insert(j.user_id, Status::Offline);
                        });
                    }
                }
            }
            EventBody::Leave(l) => {
                if l.user_id.eq_ignore_ascii_case(&me) {
                    self.forget_chat(&l.chat_id);
                } else {
                    self.members.update(|m| {
                        if let Some(list) = m.get_mut(&l.chat_id) {
                            list.retain(|u| u != &l.user_id);
                        }
                    });
                }
            }
            EventBody::RoomCreated(r) => self.rooms.update(|rooms| {
                if !rooms.iter().any(|x| x.chat_id == r.chat_id) {
                    rooms.push(RoomInfo {
                        chat_id: r.chat_id,
                        name: r.name,
                        creator: r.creator,
                        members: 1,
                        joined: false,
                    });
                }
            }),
            EventBody::Broadcast(b) => self.notice.set(Some(b.message)),
            EventBody::Clear(c) => {
                self.timelines.update(|t| {
                    if let Some(t) = t.get_mut(&c.chat_id) {
                        t.clear_stored();
                    }
                });
                self.set_unread(&c.chat_id, 0);
                self.notice
                    .set(Some(format!("{} cleared {}", c.user_id, c.chat_id)));
            }
        }
    }

    fn on_receipt(&self, r: crate::protocol::ReceiptEvent, is_read: bool, me: &str) {
        let Some(user) = r.user_id else { return };
        let read = if is_read { r.message_id } else { 0 };
        self.marks.update(|m| {
            m.entry(r.chat_id.clone())
                .or_default()
                .entry(user.clone())
                .or_insert_with(Marks::default)
                .advance(r.message_id, read);
        });
        if is_read && user.eq_ignore_ascii_case(me) {
            // Read on another device.
            let newest = self
                .timelines
                .with_untracked(|t| t.get(&r.chat_id).and_then(|t| t.newest_from_others(me)));
            if newest.is_none_or(|n| n <= read) {
                self.set_unread(&r.chat_id, 0);
            }
        }
    }

    // ───────────────────────────── notifications ─────────────────────────────

    /// A new message from someone else: a title badge and a desktop notification for a
    /// direct message or a mention while the page is hidden.
    fn alert(&self, chat_id: &str, sender: &str, text: &str, me: &str) {
        if !platform::page_hidden() {
            return;
        }
        let direct = !is_room(chat_id);
        if !direct && !mentions(text, me) {
            return;
        }
        let client = self.client();
        client.alerts.set(client.alerts.get() + 1);
        platform::set_title(&format!("({}) Parlor", client.alerts.get()));
        let title = if direct {
            sender.to_owned()
        } else {
            format!("{sender} in {chat_id}")
        };
        let body = if text.is_empty() {
            "sent an image"
        } else {
            text
        };
        let body: String = body.chars().take(140).collect();
        let store = *self;
        let chat = chat_id.to_owned();
        platform::notify(&title, &body, chat_id, move || store.select_chat(chat));
    }

    /// Asks for the notification permission (on a user action: the first message sent,
    /// or the "Turn on notifications" button).
    pub fn ask_notifications(&self) {
        if self.notifications.get_untracked().as_deref() != Some("default") {
            return;
        }
        let store = *self;
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                store.notifications.set(platform::notification_permission());
            });
        }
    }

    pub(super) fn ask_notifications_once(&self) {
        if let Some(user) = self.user() {
            let k = key("asked", &user);
            if platform::load(&k).is_none() {
                platform::save(&k, "1");
                self.ask_notifications();
            }
        }
    }
}
