//! The chat and room lists and moving between chats: `getChats` after each subscribe,
//! opening a chat or a direct conversation, and creating, joining, leaving and browsing
//! rooms. How the lists merge is decided by [`crate::chats`].

use super::super::platform;
use super::{warn_failed, ChatStore, GENERAL};
use crate::chats;
use crate::protocol::{ChatList, ChatRequest, CreateRoomRequest, RequestBody, RoomInfo, RoomList};
use crate::session::storage_key;
use crate::text::is_room;
use leptos::prelude::*;
use serde::de::IgnoredAny;

impl ChatStore {
    pub fn select_chat(&self, chat_id: String) {
        self.drawer_open.set(false);
        if self.current_chat.get_untracked() == chat_id {
            return;
        }
        if let Some(user) = self.user() {
            platform::save(&storage_key("chat", &user), &chat_id);
        }
        self.editing.set(None);
        self.at_bottom.set(true);
        self.current_chat.set(chat_id.clone());
        self.note_left_off();
        if self.client().link.ready.get() {
            self.load_chat(chat_id);
        }
    }

    /// Opens the direct chat with `user` (listed once it is opened).
    pub fn open_direct(&self, user: String) {
        self.ensure_chat(&user, &user);
        self.select_chat(user);
    }

    /// Lists a chat unless it is listed.
    pub(super) fn ensure_chat(&self, chat_id: &str, name: &str) {
        self.chats
            .maybe_update(|list| chats::ensure(list, chat_id, name));
    }

    /// Unlists a chat left (here or elsewhere) and leaves it if it is on screen.
    pub(super) fn forget_chat(&self, chat_id: &str) {
        self.chats.maybe_update(|list| chats::forget(list, chat_id));
        self.timelines.update(|t| {
            t.remove(chat_id);
        });
        if self
            .current_chat
            .get_untracked()
            .eq_ignore_ascii_case(chat_id)
        {
            self.select_chat(GENERAL.to_owned());
        }
    }

    /// Reloads the chat list with its unread counts.
    pub(super) fn refresh_chats(&self) {
        let store = *self;
        self.request::<ChatList>(RequestBody::GetChats(Default::default()), move |answer| {
            let list = match answer {
                Ok(list) => list,
                Err(e) => {
                    warn_failed("getChats", &e);
                    return;
                }
            };
            let current = store.current_chat.get_untracked();
            store
                .chats
                .update(|shown| *shown = chats::from_server(&list.chats, shown, &current));
            store.note_left_off_unless_known();
            // A room this user left elsewhere: back to General.
            if is_room(&current) && !store.chats.with_untracked(|c| chats::lists(c, &current)) {
                store.select_chat(GENERAL.to_owned());
            }
            store.maybe_read();
        });
    }

    /// Creates a room and opens it; `on_error` gets the server's refusal.
    pub fn create_room(
        &self,
        name: String,
        private: bool,
        on_error: impl FnOnce(String) + 'static,
    ) {
        let store = *self;
        self.request::<RoomInfo>(
            RequestBody::CreateRoom(CreateRoomRequest { name, private }),
            move |answer| match answer {
                Ok(room) => {
                    store.ensure_chat(&room.chat_id, &room.name);
                    store.select_chat(room.chat_id.clone());
                    // As the server answered it (the `roomCreated` event knows less).
                    store.rooms.update(|rooms| {
                        rooms.retain(|r| r.chat_id != room.chat_id);
                        rooms.push(room);
                    });
                }
                Err(e) => on_error(e.message),
            },
        );
    }

    pub fn join_room(&self, chat_id: String) {
        let store = *self;
        self.request::<RoomInfo>(
            RequestBody::JoinRoom(ChatRequest { chat_id }),
            move |answer| match answer {
                Ok(room) => {
                    store.ensure_chat(&room.chat_id, &room.name);
                    store
                        .rooms
                        .update(|rooms| chats::mark_joined(rooms, &room.chat_id));
                    store.select_chat(room.chat_id);
                }
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not join: {}", e.message))),
            },
        );
    }

    pub fn leave_room(&self, chat_id: String) {
        let store = *self;
        self.request::<IgnoredAny>(
            RequestBody::LeaveRoom(ChatRequest {
                chat_id: chat_id.clone(),
            }),
            move |answer| match answer {
                Ok(_) => store.forget_chat(&chat_id),
                Err(e) => store
                    .notice
                    .set(Some(format!("Could not leave: {}", e.message))),
            },
        );
    }

    /// Loads every room, for the "Browse rooms" list.
    pub fn refresh_rooms(&self) {
        let store = *self;
        self.request::<RoomList>(RequestBody::ListRooms(Default::default()), move |answer| {
            match answer {
                Ok(list) => store.rooms.set(list.rooms),
                Err(e) => warn_failed("listRooms", &e),
            }
        });
    }
}
