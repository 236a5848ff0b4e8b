//! Bringing a message into view: [`ChatStore::show_message`] opens its chat, loads the
//! pages between the newest loaded and the message (the steps are decided by
//! [`crate::seek`]) and sets [`ChatStore::focus`], which the message list scrolls to
//! and highlights. Search results, reply quotes, pins and the first unread message all
//! come here. A newer call replaces one still loading.

use super::{warn_failed, ChatStore};
use crate::protocol::{GetMessagesRequest, MessageId, MessageItem, RequestBody, MAX_PAGE};
use crate::seek::{next_step, Step, Target};
use leptos::prelude::*;

impl ChatStore {
    /// Opens `chat_id` and brings `message_id` into view, loading older pages if it must.
    pub fn show_message(&self, chat_id: String, message_id: MessageId) {
        self.seek(chat_id, Target::Message(message_id));
    }

    /// Opens `chat_id` and brings `target` into view.
    pub(super) fn seek(&self, chat_id: String, target: Target) {
        let seeking = self.client().seeking.get().wrapping_add(1);
        self.client().seeking.set(seeking);
        self.focus.set(None);
        self.select_chat(chat_id.clone());
        self.seek_step(seeking, chat_id, target);
    }

    fn seek_step(&self, seeking: u64, chat_id: String, target: Target) {
        // A newer jump, or the reader went to another chat: this one is over.
        if self.client().seeking.get() != seeking || self.current_chat.get_untracked() != chat_id {
            return;
        }
        let step = self
            .timelines
            .with_untracked(|t| next_step(t.get(&chat_id), &target));
        let end_id = match step {
            Step::Show(message_id) => {
                self.at_bottom.set(false);
                self.focus.set(Some((chat_id, message_id)));
                return;
            }
            Step::Missing => {
                self.notice
                    .set(Some("That message is no longer in this chat.".to_owned()));
                return;
            }
            Step::LoadLatest => None,
            Step::LoadOlder(end) => Some(end),
        };
        if !self.client().link.ready.get() {
            self.notice.set(Some(
                "Not connected: the message will show once online.".to_owned(),
            ));
            return;
        }
        self.loading_older.set(true);
        let store = *self;
        self.request::<Vec<MessageItem>>(
            RequestBody::GetMessages(GetMessagesRequest {
                chat_id: chat_id.clone(),
                end_id,
                count: MAX_PAGE,
            }),
            move |answer| {
                store.loading_older.set(false);
                match answer {
                    Ok(items) => {
                        store.absorb_reactions(&chat_id, &items);
                        store.timelines.update(|t| {
                            let timeline = t.entry(chat_id.clone()).or_default();
                            match end_id {
                                None => timeline.merge_latest(&items, MAX_PAGE),
                                Some(_) => timeline.merge_older(&items, MAX_PAGE),
                            }
                        });
                        store.seek_step(seeking, chat_id, target);
                    }
                    Err(e) => {
                        warn_failed("getMessages", &e);
                        store
                            .notice
                            .set(Some(format!("Could not load the message: {}", e.message)));
                    }
                }
            },
        );
    }
}
