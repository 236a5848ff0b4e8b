//! Read and delivered marks, both ways, and the unread counts they move: `read` when
//! the newest message is on screen, `dlvrd` batched shortly after arrivals, the
//! members' marks (`getReceipts` and receipt events), and the sidebar's unread
//! counts. Which marks to send is decided by [`crate::receipts`].

use super::super::platform;
use super::{after, warn_failed, ChatStore};
use crate::chats;
use crate::protocol::{
    ChatRequest, MessageId, ReadOk, ReceiptEvent, ReceiptList, ReceiptRequest, RequestBody,
};
use crate::receipts::{self, DeliveredDue, Marks, ReadSent};
use leptos::prelude::*;
use serde::de::IgnoredAny;
use std::cell::RefCell;
use std::time::Duration;

/// How long arrivals are collected before one `dlvrd` per chat is sent.
const DLVRD_AFTER: Duration = Duration::from_millis(150);

/// The marks this client sends.
#[derive(Default)]
pub(super) struct Marking {
    read_sent: RefCell<ReadSent>,
    dlvrd_due: RefCell<DeliveredDue>,
}

impl Marking {
    pub(super) fn clear(&self) {
        self.read_sent.borrow_mut().clear();
        self.dlvrd_due.borrow_mut().clear();
    }
}

impl ChatStore {
    /// Sets a listed chat's unread count.
    pub(super) fn set_unread(&self, chat_id: &str, unread: u64) {
        self.chats
            .maybe_update(|list| chats::set_unread(list, chat_id, unread));
    }

    /// Sends `read` for the current chat if its newest message from others is on screen
    /// in a visible, focused page and was not marked yet.
    pub fn maybe_read(&self) {
        let client = self.client();
        // The list's own measure wins over the flag, which scroll events keep.
        let at_bottom =
            platform::messages_at_end().unwrap_or_else(|| self.at_bottom.get_untracked());
        if !client.link.ready.get() || !at_bottom || !platform::page_attended() {
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
        if !client.receipts.read_sent.borrow_mut().claim(&chat, newest) {
            return;
        }
        let store = *self;
        self.request::<ReadOk>(
            RequestBody::Read(ReceiptRequest {
                chat_id: chat.clone(),
                message_id: Some(newest),
            }),
            move |answer| match answer {
                Ok(ok) => store.set_unread(&chat, ok.missed),
                Err(e) => {
                    warn_failed("read", &e);
                    store
                        .client()
                        .receipts
                        .read_sent
                        .borrow_mut()
                        .release(&chat);
                }
            },
        );
    }

    /// Queues a `dlvrd` mark, sent shortly (several arrivals make one request per chat).
    pub(super) fn delivered(&self, chat_id: &str, message_id: MessageId) {
        let first = self
            .client()
            .receipts
            .dlvrd_due
            .borrow_mut()
            .add(chat_id, message_id);
        if first {
            let store = *self;
            after(DLVRD_AFTER, move || {
                let due = store.client().receipts.dlvrd_due.borrow_mut().take();
                for (chat_id, message_id) in due {
                    store.request::<IgnoredAny>(
                        RequestBody::Dlvrd(ReceiptRequest {
                            chat_id,
                            message_id: Some(message_id),
                        }),
                        |answer| {
                            if let Err(e) = answer {
                                warn_failed("dlvrd", &e);
                            }
                        },
                    );
                }
            });
        }
    }

    /// Loads the members' marks in a chat.
    pub(super) fn load_receipts(&self, chat_id: String) {
        let store = *self;
        self.request::<ReceiptList>(
            RequestBody::GetReceipts(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |answer| match answer {
                Ok(list) => store.marks.update(|m| {
                    receipts::merge(m.entry(chat_id).or_default(), list.receipts);
                }),
                Err(e) => warn_failed("getReceipts", &e),
            },
        );
    }

    /// A `dlvrd` (`is_read` false) or `read` event: a member's marks move forward; this
    /// user's own `read` from another device clears the unread count here.
    pub(super) fn on_receipt(&self, r: ReceiptEvent, is_read: bool, me: &str) {
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
}
