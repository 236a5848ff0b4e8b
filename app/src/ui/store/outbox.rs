//! What this user writes: new messages (shown at once as pending, queued in
//! `localStorage`, sent now or after the reconnect, retried until the server answers),
//! edits and deletes. The queue itself is [`crate::outbox::Outbox`].

use super::super::connection;
use super::super::platform;
use super::ChatStore;
use crate::outbox::{client_message_id, Outbox, Outgoing};
use crate::protocol::{Attachment, DeleteRequest, EditRequest, MessageId, NewOk, RequestBody};
use crate::reply;
use crate::session::storage_key;
use crate::text::is_room;
use crate::timeline::Line;
use leptos::prelude::*;
use serde::de::IgnoredAny;
use std::cell::RefCell;
use std::collections::HashSet;

/// The queue and what is on its way.
#[derive(Default)]
pub(super) struct Sending {
    pub(super) queue: RefCell<Outbox>,
    /// Queued messages sent on the current socket and not yet answered.
    pub(super) in_flight: RefCell<HashSet<String>>,
}

impl ChatStore {
    /// Sends a message to the current chat: shown at once as pending, queued (kept
    /// across reloads) and sent now or as soon as the connection is back.
    pub fn send(&self, text: String, attachments: Vec<Attachment>) {
        let Some(user) = self.user() else { return };
        let chat_id = self.current_chat.get_untracked();
        // The message being answered, if the composer says so (then no longer).
        let quote = self.replying.get_untracked();
        self.replying.set(None);
        let item = Outgoing {
            chat_id: chat_id.clone(),
            client_message_id: new_client_message_id(),
            message: text,
            attachments,
            created_at: connection::now(),
            reply_to: quote.as_ref().map(|q| q.message_id),
        };
        self.timelines.update(|t| {
            let line = Line::sending(
                item.client_message_id.clone(),
                user.clone(),
                item.message.clone(),
                item.attachments.clone(),
                item.created_at,
            );
            t.entry(chat_id.clone()).or_default().upsert(Line {
                reply_to: quote,
                ..line
            });
        });
        let client = self.client();
        client.activity.typing_sent.borrow_mut().sent(&chat_id);
        self.at_bottom.set(true);
        client.outbox.queue.borrow_mut().push(item.clone());
        self.save_outbox();
        if client.link.ready.get() {
            self.send_queued(item);
        }
        self.ask_notifications_once();
    }

    /// Keeps the queue in `localStorage` (or removes it there once empty).
    pub(super) fn save_outbox(&self) {
        if let Some(user) = self.user() {
            let client = self.client();
            let queue = client.outbox.queue.borrow();
            if queue.is_empty() {
                platform::forget(&storage_key("outbox", &user));
            } else {
                platform::save(&storage_key("outbox", &user), &queue.to_json());
            }
        }
    }

    /// Sends every queued message not already on its way (after subscribing).
    pub(super) fn flush_outbox(&self) {
        let items = self.client().outbox.queue.borrow().items.clone();
        for item in items {
            self.send_queued(item);
        }
    }

    fn send_queued(&self, item: Outgoing) {
        let client = self.client();
        if !client
            .outbox
            .in_flight
            .borrow_mut()
            .insert(item.client_message_id.clone())
        {
            return;
        }
        let store = *self;
        let cid = item.client_message_id.clone();
        let chat_id = item.chat_id.clone();
        self.request::<NewOk>(RequestBody::New(item.request()), move |answer| {
            let client = store.client();
            client.outbox.in_flight.borrow_mut().remove(&cid);
            match answer {
                Ok(ok) => {
                    client.outbox.queue.borrow_mut().remove(&cid);
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
                Err(e) if reply::is_closed(&e) => {}
                Err(e) => {
                    client.outbox.queue.borrow_mut().remove(&cid);
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
        self.request::<IgnoredAny>(
            RequestBody::Edit(EditRequest {
                chat_id,
                message_id,
                message: text,
                attachments: None,
            }),
            move |answer| {
                if let Err(e) = answer {
                    store.notice.set(Some(format!("Not edited: {}", e.message)));
                }
            },
        );
    }

    pub fn delete(&self, message_id: MessageId) {
        let chat_id = self.current_chat.get_untracked();
        let now = connection::now();
        self.forget_marks(&chat_id, message_id);
        self.timelines.update(|t| {
            if let Some(t) = t.get_mut(&chat_id) {
                t.apply_delete(message_id, now);
            }
        });
        let store = *self;
        self.request::<IgnoredAny>(
            RequestBody::Delete(DeleteRequest {
                chat_id,
                message_id,
                client_message_id: None,
            }),
            move |answer| {
                if let Err(e) = answer {
                    store
                        .notice
                        .set(Some(format!("Not deleted: {}", e.message)));
                }
            },
        );
    }
}

/// A fresh `clientMessageId` (see [`client_message_id`]).
fn new_client_message_id() -> String {
    let random = std::array::from_fn(|_| (js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    client_message_id(connection::now(), random)
}
