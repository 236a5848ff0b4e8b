//! Room moderation, roles and people, as the web app asks for them: a room's settings,
//! adding, removing and muting people (`setRoom`, `addMember`, `kick`, `mute`), roles
//! and storage for the admin panel (`setRole`, `getStorage`), one's profile
//! (`setProfile`) and blocks (`block`, `getBlocks`). Each answers the panel that asked,
//! with the server's message when refused.

use super::ChatStore;
use crate::protocol::{
    BlockList, BlockRequest, Empty, MemberRequest, MuteRequest, Profile, RequestBody, Role,
    RoomInfo, SetProfileRequest, SetRoleRequest, SetRoomRequest, StorageReport,
};
use leptos::prelude::*;
use serde::de::IgnoredAny;

/// What a manager does to a person in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    Add,
    Kick,
    Mute,
    Unmute,
}

impl ChatStore {
    /// Keeps `p` as the profile of its person (a list: a map type of its own would cost
    /// the bundle more than the search does for a household's people).
    pub(super) fn keep_profile(&self, p: Profile) {
        self.profiles.update(|all| {
            match all
                .iter_mut()
                .find(|k| k.user_id.eq_ignore_ascii_case(&p.user_id))
            {
                Some(k) => *k = p,
                None => all.push(p),
            }
        });
    }

    /// The profile of `name`, if known.
    pub fn profile_of(&self, name: &str) -> Option<Profile> {
        self.profiles.with_untracked(|all| {
            all.iter()
                .find(|k| k.user_id.eq_ignore_ascii_case(name))
                .cloned()
        })
    }

    /// The room object of `chat_id` from the last `listRooms`, if known.
    pub fn room_info(&self, chat_id: &str) -> Option<RoomInfo> {
        self.rooms
            .with(|rooms| rooms.iter().find(|r| r.chat_id == chat_id).cloned())
    }

    /// Changes a room's settings; the room list is read again for the new ones.
    pub fn set_room(
        &self,
        request: SetRoomRequest,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let store = *self;
        self.send_plain(
            RequestBody::SetRoom(request),
            Box::new(move |answer| {
                if answer.is_ok() {
                    store.refresh_rooms();
                }
                done(answer);
            }),
        );
    }

    pub fn member_action(
        &self,
        action: MemberAction,
        chat_id: String,
        user_id: String,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let body = match action {
            MemberAction::Add => RequestBody::AddMember(MemberRequest { chat_id, user_id }),
            MemberAction::Kick => RequestBody::Kick(MemberRequest { chat_id, user_id }),
            MemberAction::Mute | MemberAction::Unmute => RequestBody::Mute(MuteRequest {
                chat_id,
                user_id,
                muted: action == MemberAction::Mute,
            }),
        };
        self.send_plain(body, Box::new(done));
    }

    /// Sends a request whose answer carries nothing to read: one instantiation of the
    /// typed request path for all of them.
    pub(super) fn send_plain(&self, body: RequestBody, done: Box<dyn FnOnce(Result<(), String>)>) {
        self.request::<IgnoredAny>(body, move |answer| {
            done(answer.map(|_| ()).map_err(|e| e.message))
        });
    }

    pub fn set_role(
        &self,
        user_id: String,
        role: Role,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let store = *self;
        let body = RequestBody::SetRole(SetRoleRequest {
            user_id: user_id.clone(),
            role,
        });
        self.send_plain(
            body,
            Box::new(move |answer| match answer {
                Ok(()) => {
                    let mut p = store.profile_of(&user_id).unwrap_or(Profile {
                        user_id,
                        ..Profile::default()
                    });
                    p.role = role;
                    store.keep_profile(p);
                    done(Ok(()));
                }
                Err(e) => done(Err(e)),
            }),
        );
    }

    pub fn load_storage(&self, done: impl FnOnce(Result<StorageReport, String>) + 'static) {
        self.request::<StorageReport>(RequestBody::GetStorage(Empty {}), move |answer| {
            done(answer.map_err(|e| e.message))
        });
    }

    /// Changes this user's profile, kept here as sent once the server took it.
    pub fn set_profile(
        &self,
        request: SetProfileRequest,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let store = *self;
        let me = self.user().unwrap_or_default();
        let sent = request.clone();
        self.send_plain(
            RequestBody::SetProfile(request),
            Box::new(move |answer| {
                if answer.is_ok() {
                    let mut p = store.profile_of(&me).unwrap_or(Profile {
                        user_id: me,
                        ..Profile::default()
                    });
                    if let Some(n) = sent.display_name {
                        p.display_name = n.trim().to_owned();
                    }
                    if let Some(a) = sent.about {
                        p.about = a;
                    }
                    if let Some(a) = sent.avatar {
                        p.avatar = a;
                    }
                    store.keep_profile(p);
                }
                done(answer);
            }),
        );
    }

    /// Loads whom this user blocked.
    pub(super) fn load_blocks(&self) {
        let store = *self;
        self.request::<BlockList>(RequestBody::GetBlocks(Empty {}), move |answer| {
            if let Ok(list) = answer {
                store.blocked.set(list.blocked);
            }
        });
    }

    pub fn block(&self, user_id: String, blocked: bool) {
        let store = *self;
        let body = RequestBody::Block(BlockRequest {
            user_id: user_id.clone(),
            blocked,
        });
        self.send_plain(
            body,
            Box::new(move |answer| match answer {
                Ok(()) => store.blocked.update(|list| {
                    list.retain(|n| !n.eq_ignore_ascii_case(&user_id));
                    if blocked {
                        list.push(user_id);
                    }
                }),
                Err(e) => store.notice.set(Some(e)),
            }),
        );
    }

    /// Whether this user blocked `name`.
    pub fn is_blocked(&self, name: &str) -> bool {
        self.blocked
            .with(|list| list.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }

    /// A password reset link for `user_id` (the owner and admins): its path.
    pub fn create_reset(
        &self,
        user_id: String,
        done: impl FnOnce(Result<String, String>) + 'static,
    ) {
        let body = RequestBody::CreateReset(crate::protocol::CreateResetRequest { user_id });
        self.request::<crate::protocol::NewReset>(body, move |answer| {
            done(answer.map(|r| r.path).map_err(|e| e.message))
        });
    }

    /// Sets (`Some`) or reads what happens to a deleted account's messages (the owner).
    pub fn deleted_messages(
        &self,
        mode: Option<crate::protocol::DeletedMessages>,
        done: impl FnOnce(Result<crate::protocol::DeletedMessages, String>) + 'static,
    ) {
        let body = match mode {
            Some(mode) => {
                RequestBody::SetDeletedMessages(crate::protocol::SetDeletedMessagesRequest { mode })
            }
            None => RequestBody::GetAccountSettings(Empty {}),
        };
        self.request::<crate::protocol::AccountSettings>(body, move |answer| {
            done(answer.map(|s| s.deleted_messages).map_err(|e| e.message))
        });
    }

    /// Deletes this user's own account (the server then closes every connection).
    pub fn delete_account(
        &self,
        password: String,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let body = RequestBody::DeleteAccount(crate::protocol::DeleteAccountRequest { password });
        self.send_plain(body, Box::new(done));
    }
}
