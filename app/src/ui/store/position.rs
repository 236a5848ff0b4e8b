//! Where the reader left off in the open chat, and the drafts kept per chat.
//!
//! Opening a chat fixes its unread count in [`LeftOff`]; the message list places the
//! "New messages" divider at the first of them ([`crate::reading::first_unread`]) once
//! it is loaded, and keeps it there until another chat is opened, so that reading does
//! not move it. Drafts go to `localStorage` as they are typed, one key per user and chat,
//! and all of a user's drafts are forgotten at an explicit logout.

use super::super::platform;
use super::ChatStore;
use crate::protocol::MessageId;
use crate::reading::{draft_key, drafts_prefix};
use crate::seek::Target;
use leptos::prelude::*;

/// The open chat's unread messages when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOff {
    pub chat_id: String,
    /// How many of its newest messages from others were unread.
    pub unread: u64,
    /// The first of them, once it is loaded.
    pub divider: Option<MessageId>,
    /// The reader jumped to the divider or dismissed the offer to.
    pub dismissed: bool,
    /// The divider is on screen now (no offer to jump to it then).
    pub in_view: bool,
}

impl ChatStore {
    /// Fixes where the reader left off in the chat now open (its unread count now).
    pub(super) fn note_left_off(&self) {
        let chat_id = self.current_chat.get_untracked();
        let unread = self.chats.with_untracked(|c| {
            c.iter()
                .find(|e| e.chat_id == chat_id)
                .map_or(0, |e| e.unread)
        });
        self.left_off.set(Some(LeftOff {
            chat_id,
            unread,
            divider: None,
            dismissed: false,
            in_view: false,
        }));
    }

    /// The chat list arrived after the chat was opened (a reload): its counts decide.
    pub(super) fn note_left_off_unless_known(&self) {
        let current = self.current_chat.get_untracked();
        let known = self
            .left_off
            .with_untracked(|l| l.as_ref().is_some_and(|l| l.chat_id == current));
        if !known {
            self.note_left_off();
        }
    }

    /// Places the divider once the first unread message is among the loaded lines.
    pub fn place_divider(&self, divider: MessageId) {
        self.left_off.update(|l| {
            if let Some(l) = l.as_mut().filter(|l| l.divider.is_none()) {
                l.divider = Some(divider);
            }
        });
    }

    /// Notes whether the divider is on screen.
    pub fn divider_seen(&self, in_view: bool) {
        self.left_off.maybe_update(|l| match l.as_mut() {
            Some(l) if l.in_view != in_view => {
                l.in_view = in_view;
                true
            }
            _ => false,
        });
    }

    /// The reader jumped to (or dismissed) the new messages: no more "jump to" offer.
    pub fn dismiss_left_off(&self) {
        self.left_off.update(|l| {
            if let Some(l) = l.as_mut().filter(|l| !l.dismissed) {
                l.dismissed = true;
            }
        });
    }

    /// Brings the first unread message of the open chat into view.
    pub fn show_first_unread(&self) {
        let Some(me) = self.user() else { return };
        let Some(left) = self.left_off.get_untracked() else {
            return;
        };
        let target = match left.divider {
            Some(id) => Target::Message(id),
            None => Target::FirstUnread {
                me,
                unread: left.unread,
            },
        };
        self.seek(left.chat_id, target);
    }

    /// The draft kept for `chat_id` (empty when none).
    pub fn draft(&self, chat_id: &str) -> String {
        self.user()
            .and_then(|user| platform::load(&draft_key(&user, chat_id)))
            .unwrap_or_default()
    }

    /// Keeps (or, when empty, forgets) the draft of `chat_id`.
    pub fn keep_draft(&self, chat_id: &str, text: &str) {
        let Some(user) = self.user() else { return };
        let key = draft_key(&user, chat_id);
        if text.trim().is_empty() {
            platform::forget(&key);
        } else {
            platform::save(&key, text);
        }
    }

    /// Forgets every draft of `user` (an explicit logout leaves nothing behind).
    pub(super) fn forget_drafts(user: &str) {
        platform::forget_prefixed(&drafts_prefix(user));
    }
}
