//! Reactions and pinned messages in the store: the reactions of every message shown
//! (from history pages, then `reaction` events), the pinned list of each chat opened
//! (from `getPins`, reloaded when a `pin` event says it changed), the requests that
//! toggle them, and the emoji table of the picker, fetched from `/api/emoji` on first
//! use. What a toggle does to a list is [`crate::reactions`]'s.

use super::{warn, ChatStore};
use crate::protocol::{
    ChatRequest, MessageId, MessageItem, PinEvent, PinList, PinRequest, PinnedItem, ReactRequest,
    Reaction, ReactionEvent, RequestBody,
};
use crate::reactions::{apply, parse_table, EmojiEntry};
use leptos::prelude::*;
use serde::de::IgnoredAny;
use std::collections::HashMap;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The signals of reactions and pins.
#[derive(Clone, Copy)]
pub struct Reactions {
    /// Reactions by chat and message (absent: none).
    pub by_message: RwSignal<HashMap<(String, MessageId), Vec<Reaction>>>,
    /// Pinned messages by chat, newest pin first (absent: not loaded).
    pub pins: RwSignal<HashMap<String, Vec<PinnedItem>>>,
    /// The picker's table, once fetched.
    pub emoji: RwSignal<Option<Arc<Vec<EmojiEntry>>>>,
}

impl Default for Reactions {
    fn default() -> Reactions {
        Reactions {
            by_message: RwSignal::new(HashMap::new()),
            pins: RwSignal::new(HashMap::new()),
            emoji: RwSignal::new(None),
        }
    }
}

impl ChatStore {
    /// A history page's reactions replace what was known of its messages.
    pub(super) fn absorb_reactions(&self, chat: &str, items: &[MessageItem]) {
        self.reactions.by_message.update(|all| {
            for item in items {
                let key = (chat.to_owned(), item.message_id);
                if item.reactions.is_empty() {
                    all.remove(&key);
                } else {
                    all.insert(key, item.reactions.clone());
                }
            }
        });
    }

    pub(super) fn on_reaction(&self, r: ReactionEvent) {
        self.reactions.by_message.update(|all| {
            let list = all.entry((r.chat_id, r.message_id)).or_default();
            apply(list, &r.emoji, &r.user_id, r.add);
        });
    }

    pub(super) fn on_pin(&self, p: PinEvent) {
        if p.chat_id == self.current_chat.get_untracked() {
            self.load_pins(p.chat_id);
        } else {
            // Loaded again when the chat is opened.
            self.reactions.pins.update(|pins| {
                pins.remove(&p.chat_id);
            });
        }
    }

    /// A deleted message has no reactions and no pin.
    pub(super) fn forget_marks(&self, chat: &str, message_id: MessageId) {
        self.reactions.by_message.update(|all| {
            all.remove(&(chat.to_owned(), message_id));
        });
        self.reactions.pins.update(|pins| {
            if let Some(list) = pins.get_mut(chat) {
                list.retain(|p| p.message.message_id != message_id);
            }
        });
    }

    /// A cleared room has none at all.
    pub(super) fn forget_chat_marks(&self, chat: &str) {
        self.reactions
            .by_message
            .update(|all| all.retain(|(c, _), _| c != chat));
        self.reactions.pins.update(|pins| {
            pins.insert(chat.to_owned(), Vec::new());
        });
    }

    /// Adds or takes back this user's `emoji` on a message of the open chat.
    pub fn react(&self, message_id: MessageId, emoji: String, add: bool) {
        let chat_id = self.current_chat.get_untracked();
        let store = *self;
        let request = RequestBody::React(ReactRequest {
            chat_id: chat_id.clone(),
            message_id,
            emoji: emoji.clone(),
            add,
        });
        self.request::<IgnoredAny>(request, move |answer| match answer {
            // The server answers this session instead of sending it the event.
            Ok(_) => {
                let me = store.user().unwrap_or_default();
                store.reactions.by_message.update(|all| {
                    apply(
                        all.entry((chat_id, message_id)).or_default(),
                        &emoji,
                        &me,
                        add,
                    );
                });
            }
            Err(e) => store
                .notice
                .set(Some(format!("Reaction not saved: {}", e.message))),
        });
    }

    /// Pins or unpins a message of the open chat.
    pub fn pin(&self, message_id: MessageId, pinned: bool) {
        let chat_id = self.current_chat.get_untracked();
        let store = *self;
        let request = RequestBody::Pin(PinRequest {
            chat_id: chat_id.clone(),
            message_id,
            pinned,
        });
        self.request::<IgnoredAny>(request, move |answer| match answer {
            Ok(_) => store.load_pins(chat_id),
            Err(e) => store.notice.set(Some(format!(
                "Not {}: {}",
                if pinned { "pinned" } else { "unpinned" },
                e.message
            ))),
        });
    }

    /// Loads the pinned messages of a chat.
    pub(super) fn load_pins(&self, chat_id: String) {
        let store = *self;
        let request = RequestBody::GetPins(ChatRequest {
            chat_id: chat_id.clone(),
        });
        self.request::<PinList>(request, move |answer| match answer {
            Ok(list) => store.reactions.pins.update(|pins| {
                pins.insert(chat_id, list.pins);
            }),
            Err(e) => super::warn_failed("getPins", &e),
        });
    }

    /// Fetches the picker's emoji table once (it is cached by the browser too).
    pub fn load_emoji(&self) {
        if self.reactions.emoji.with_untracked(Option::is_some) {
            return;
        }
        let emoji = self.reactions.emoji;
        wasm_bindgen_futures::spawn_local(async move {
            match fetch_table().await {
                Ok(table) => emoji.set(Some(Arc::new(table))),
                Err(e) => warn(&format!("cannot load the emoji list: {e}")),
            }
        });
    }
}

async fn fetch_table() -> Result<Vec<EmojiEntry>, String> {
    let js = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str("/api/emoji"))
        .await
        .map_err(js)?
        .dyn_into()
        .map_err(js)?;
    if !response.ok() {
        return Err(format!("status {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(js)?)
        .await
        .map_err(js)?
        .as_string()
        .unwrap_or_default();
    parse_table(&text).map_err(|e| e.to_string())
}
