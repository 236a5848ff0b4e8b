//! Loading history: the latest page of a chat when it is opened (with its receipts and,
//! for a room, its members) and older pages as the user scrolls up. Merging pages
//! with live and unsent messages is [`crate::timeline::Timeline`]'s job.

use super::{warn_failed, ChatStore};
use crate::protocol::{codes, GetMessagesRequest, MessageItem, RequestBody};
use crate::reply;
use crate::text::is_room;
use leptos::prelude::*;

/// How many messages one history page holds.
const PAGE: u32 = 50;

impl ChatStore {
    /// Loads the latest page of a chat, its receipts, and a room's members.
    pub(super) fn load_chat(&self, chat_id: String) {
        let store = *self;
        let chat = chat_id.clone();
        self.request::<Vec<MessageItem>>(
            RequestBody::GetMessages(GetMessagesRequest {
                chat_id: chat_id.clone(),
                end_id: None,
                count: PAGE,
            }),
            move |answer| match answer {
                Ok(items) => {
                    store.absorb_reactions(&chat, &items);
                    store.timelines.update(|t| {
                        t.entry(chat).or_default().merge_latest(&items, PAGE);
                    });
                    store.maybe_read();
                }
                // A direct chat without messages yet, or a closed socket: nothing to show.
                Err(e) if reply::is_closed(&e) || e.code == codes::NOT_FOUND => {}
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not load messages: {}", e.message))),
            },
        );
        self.load_receipts(chat_id.clone());
        self.load_pins(chat_id.clone());
        if is_room(&chat_id) {
            self.load_members(chat_id);
        }
    }

    /// Loads the page before the oldest message shown.
    pub fn load_older(&self) {
        let chat = self.current_chat.get_untracked();
        let Some(end_id) = self
            .timelines
            .with_untracked(|t| t.get(&chat).and_then(|t| t.older_page_end()))
        else {
            return;
        };
        if self.loading_older.get_untracked() || !self.client().link.ready.get() {
            return;
        }
        self.loading_older.set(true);
        let store = *self;
        self.request::<Vec<MessageItem>>(
            RequestBody::GetMessages(GetMessagesRequest {
                chat_id: chat.clone(),
                end_id: Some(end_id),
                count: PAGE,
            }),
            move |answer| {
                store.loading_older.set(false);
                match answer {
                    Ok(items) => {
                        store.absorb_reactions(&chat, &items);
                        store.timelines.update(|t| {
                            t.entry(chat).or_default().merge_older(&items, PAGE);
                        })
                    }
                    Err(e) => warn_failed("getMessages", &e),
                }
            },
        );
    }
}
