//! People and presence: every user's status, the members of rooms, who is typing, this
//! user's chosen status, and whether this tab is in use (idle after a while, active
//! again on a keystroke). The rules are in [`crate::presence`].

use super::super::platform;
use super::{warn_failed, ChatStore};
use crate::presence::{self, Idleness, TypingSent};
use crate::protocol::{
    ChatRequest, ClientEventBody, MemberEvent, MemberList, RequestBody, SetStatusRequest, Status,
    TypingEvent, UserList,
};
use crate::reply;
use crate::session::storage_key;
use crate::text::chat_title;
use leptos::prelude::*;
use serde::de::IgnoredAny;
use std::cell::RefCell;

/// This tab's own activity.
#[derive(Default)]
pub(super) struct Activity {
    pub(super) typing_sent: RefCell<TypingSent>,
    pub(super) idleness: RefCell<Idleness>,
}

impl ChatStore {
    /// Reloads everyone with their roles and profiles (the admin panel).
    pub fn refresh_people(&self) {
        self.refresh_users();
    }

    /// Reloads every user and their presence.
    pub(super) fn refresh_users(&self) {
        let store = *self;
        self.request::<UserList>(RequestBody::ListUsers(Default::default()), move |answer| {
            match answer {
                Ok(list) => {
                    let me = store.user().unwrap_or_default();
                    if let Some(mine) = list
                        .users
                        .iter()
                        .find(|u| u.user_id.eq_ignore_ascii_case(&me))
                    {
                        store.adopt_own_status(mine.status);
                    }
                    store.profiles.set(
                        list.users
                            .iter()
                            .map(|u| crate::protocol::Profile {
                                user_id: u.user_id.clone(),
                                display_name: u.display_name.clone(),
                                avatar: u.avatar.clone(),
                                role: u.role,
                                ..Default::default()
                            })
                            .collect(),
                    );
                    store.users.set(
                        list.users
                            .into_iter()
                            .map(|u| (u.user_id, u.status))
                            .collect(),
                    );
                }
                Err(e) => warn_failed("listUsers", &e),
            }
        });
    }

    /// Loads a room's members and their presence.
    pub(super) fn load_members(&self, chat_id: String) {
        let store = *self;
        self.request::<MemberList>(
            RequestBody::GetMembers(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |answer| match answer {
                Ok(list) => {
                    store.users.update(|u| {
                        for m in &list.members {
                            u.insert(m.user_id.clone(), m.status);
                        }
                    });
                    store.members.update(|m| {
                        m.insert(
                            chat_id,
                            list.members.into_iter().map(|m| m.user_id).collect(),
                        );
                    });
                }
                Err(e) => warn_failed("getMembers", &e),
            },
        );
    }

    /// The server's merged status for this user, chosen on another device perhaps:
    /// the status menu follows it (see [`presence::adopted_status`]).
    pub(super) fn adopt_own_status(&self, status: Status) {
        if let Some(status) = presence::adopted_status(self.my_status.get_untracked(), status) {
            self.my_status.set(status);
            if let Some(user) = self.user() {
                platform::save(&storage_key("status", &user), status.as_str());
            }
        }
    }

    pub fn set_status(&self, status: Status) {
        self.my_status.set(status);
        if let Some(user) = self.user() {
            platform::save(&storage_key("status", &user), status.as_str());
        }
        let store = *self;
        self.request::<IgnoredAny>(
            RequestBody::SetStatus(SetStatusRequest { status }),
            move |answer| {
                if let Err(e) = answer {
                    if !reply::is_closed(&e) {
                        store
                            .notice
                            .set(Some(format!("Could not change status: {}", e.message)));
                    }
                }
            },
        );
    }

    /// A keystroke in the composer: tell the others, at most every two seconds.
    pub fn typed(&self) {
        let chat_id = self.current_chat.get_untracked();
        let now = js_sys::Date::now();
        let client = self.client();
        if client.link.ready.get() && client.activity.typing_sent.borrow_mut().due(&chat_id, now) {
            self.send_event(ClientEventBody::Typing(ChatRequest { chat_id }));
        }
    }

    /// Who is typing in `chat_id` now (names, sorted).
    pub fn typists(&self, chat_id: &str) -> Vec<String> {
        let now = self.clock.get();
        self.typing.with(|t| t.in_chat(chat_id, now))
    }

    /// Every second: the clock, idleness, and typists who stopped.
    pub(super) fn tick(&self) {
        let now = js_sys::Date::now();
        self.clock.set(now);
        let became_idle = self.client().activity.idleness.borrow_mut().tick(now);
        if became_idle {
            self.send_event(ClientEventBody::Idle);
        }
        self.typing.maybe_update(|t| t.expire(now));
    }

    /// Keyboard or pointer activity on the page.
    pub(super) fn on_activity(&self) {
        let back = self
            .client()
            .activity
            .idleness
            .borrow_mut()
            .activity(js_sys::Date::now());
        if back {
            self.send_event(ClientEventBody::Active);
        }
    }

    /// Visibility or focus changed.
    pub(super) fn on_attention(&self) {
        let attended = platform::page_attended();
        self.attended.set(attended);
        if !platform::page_hidden() {
            self.clear_alerts();
        } else if self.client().activity.idleness.borrow_mut().hide() {
            self.send_event(ClientEventBody::Idle);
        }
        if attended {
            self.on_activity();
            self.maybe_read();
        }
    }

    /// A typing event: shown for a few seconds, unless it is this user's own.
    pub(super) fn on_typing(&self, t: TypingEvent, me: &str) {
        let user = t.user_id.unwrap_or_else(|| t.chat_id.clone());
        if !user.eq_ignore_ascii_case(me) {
            let now = js_sys::Date::now();
            self.typing
                .update(|typing| typing.typed(t.chat_id, user, now));
        }
    }

    /// Someone joined a room: this user (listed) or a member (shown in the list).
    pub(super) fn on_join(&self, j: MemberEvent, me: &str) {
        if j.user_id.eq_ignore_ascii_case(me) {
            self.ensure_chat(&j.chat_id, chat_title(&j.chat_id));
            // Added by someone (a private room): its settings, for the header.
            if j.by.is_some() {
                self.refresh_rooms();
            }
            return;
        }
        self.members.update(|m| {
            if let Some(list) = m.get_mut(&j.chat_id) {
                presence::add_member(list, &j.user_id);
            }
        });
        if !self.users.with_untracked(|u| u.contains_key(&j.user_id)) {
            self.users.update(|u| {
                u.insert(j.user_id, Status::Offline);
            });
        }
    }

    /// Someone left a room: this user (unlisted) or a member.
    pub(super) fn on_leave(&self, l: MemberEvent, me: &str) {
        if l.user_id.eq_ignore_ascii_case(me) {
            self.forget_chat(&l.chat_id);
            return;
        }
        self.members.update(|m| {
            if let Some(list) = m.get_mut(&l.chat_id) {
                list.retain(|u| u != &l.user_id);
            }
        });
    }
}
