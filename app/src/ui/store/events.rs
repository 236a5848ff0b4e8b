//! What the server's events change in the store: each event is recorded as handled
//! (so that the next `subscribe` replays only what came after it) and handed to the
//! part of the store it concerns. A new message concerns several, so it is handled here.

use super::super::platform;
use super::ChatStore;
use crate::chats;
use crate::protocol::{Event, EventBody, EventId, MessageEvent, Millis, RoomInfo, Status};
use crate::session::storage_key;
use crate::text::chat_title;
use crate::timeline::Line;
use leptos::prelude::*;

impl ChatStore {
    pub(super) fn on_event(&self, event: Event) {
        if let Some(id) = event.id {
            self.handled(id);
        }
        let me = self.user().unwrap_or_default();
        match event.body {
            EventBody::New(m) => self.on_new_message(m, event.id, event.timestamp, &me),
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
            EventBody::Delete(d) => {
                self.forget_marks(&d.chat_id, d.message_id);
                self.timelines.update(|t| {
                    if let Some(t) = t.get_mut(&d.chat_id) {
                        t.apply_delete(d.message_id, event.timestamp);
                    }
                })
            }
            EventBody::Reaction(r) => self.on_reaction(r),
            EventBody::Pin(p) => self.on_pin(p),
            EventBody::Dlvrd(r) => self.on_receipt(r, false, &me),
            EventBody::Read(r) => self.on_receipt(r, true, &me),
            EventBody::Typing(t) => self.on_typing(t, &me),
            EventBody::Online(u) => self
                .users
                .update(|users| crate::presence::came_online(users, u.user_id)),
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
            EventBody::Join(j) => self.on_join(j, &me),
            EventBody::Leave(l) => self.on_leave(l, &me),
            EventBody::RoomCreated(r) => self.rooms.maybe_update(|rooms| {
                chats::add_room(
                    rooms,
                    RoomInfo {
                        chat_id: r.chat_id,
                        name: r.name,
                        creator: r.creator,
                        members: 1,
                        joined: false,
                        ..RoomInfo::default()
                    },
                )
            }),
            EventBody::Broadcast(b) => self.notice.set(Some(b.message)),
            EventBody::Room(s) => self.rooms.update(|rooms| {
                if let Some(room) = rooms.iter_mut().find(|r| r.chat_id == s.chat_id) {
                    room.topic = s.topic;
                    room.private = s.private;
                    room.announce = s.announce;
                    room.muted = s.muted;
                }
            }),
            EventBody::Profile(p) => self.keep_profile(p),
            EventBody::Role(r) => {
                self.my_role.set(r.role);
                // What a limited account may see changed: list the rooms again.
                self.refresh_rooms();
            }
            EventBody::Notify(n) => self.notified_level(&n.chat_id, n.level),
            EventBody::Clear(c) => {
                self.forget_chat_marks(&c.chat_id);
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

    /// Remembers the newest event handled, here and in `localStorage`.
    fn handled(&self, id: EventId) {
        let client = self.client();
        if id > client.link.last_event_id.get() {
            client.link.last_event_id.set(id);
            if let Some(user) = self.user() {
                platform::save(&storage_key("last", &user), &id.to_string());
            }
        }
    }

    /// A new message, live or replayed: into its timeline and the chat list; from this
    /// user, out of the queue; from someone else, counted unread, marked delivered,
    /// notified (unless replayed) and read if on screen.
    fn on_new_message(&self, m: MessageEvent, id: Option<EventId>, at: Millis, me: &str) {
        let from_me = m
            .sender
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(me));
        let line = Line::from_event(&m, at);
        self.timelines.update(|t| {
            t.entry(m.chat_id.clone()).or_default().upsert(line);
        });
        self.ensure_chat(&m.chat_id, chat_title(&m.chat_id));
        if from_me {
            // Sent by another tab, or replayed after a lost answer.
            if let Some(cid) = &m.client_message_id {
                let removed = self.client().outbox.queue.borrow_mut().remove(cid);
                if removed {
                    self.save_outbox();
                }
            }
            return;
        }
        self.set_unread(&m.chat_id, m.missed);
        if let Some(sender) = &m.sender {
            self.typing.maybe_update(|t| t.stopped(&m.chat_id, sender));
        }
        self.delivered(&m.chat_id, m.message_id);
        let replayed = id.is_some_and(|id| id <= self.client().link.replay_until.get());
        if !replayed {
            let mentioned =
                m.mentions_room || m.mentions.iter().any(|n| n.eq_ignore_ascii_case(me));
            self.alert(
                &m.chat_id,
                m.sender.as_deref().unwrap_or(""),
                &m.message,
                me,
                mentioned,
            );
        }
        if m.chat_id == self.current_chat.get_untracked() {
            self.maybe_read();
        }
    }
}
