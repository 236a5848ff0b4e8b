//! Reads of the world for one user: history pages, chats with unread counts, rooms,
//! members and who is online. Answers are domain values; edges shape them.

use super::{name_of, ChatName, Hub, Session};
use crate::domain::{Chat, ChatRef, LogEvent, Refusal, RoomId, UserKey};
use crate::store::{ReplayPlan, StoredMessage};
use app::protocol::{EventId, MessageId, Millis, Role, Status, MAX_PAGE};

/// A chat as listed for one user.
#[derive(Debug, Clone)]
pub struct ChatSummary {
    /// The chat as the user refers to it.
    pub chat: ChatRef,
    pub direct: bool,
    pub name: String,
    pub last_id: MessageId,
    pub unread: u64,
    /// The user's notification level here.
    pub notify: app::protocol::NotifyLevel,
}

#[derive(Debug, Clone)]
pub struct RoomSummary {
    pub id: RoomId,
    pub name: String,
    pub creator: Option<String>,
    pub members: usize,
    pub joined: bool,
    pub topic: String,
    pub private: bool,
    pub announce: bool,
    /// Days its messages are kept (0: for ever).
    pub retention_days: u32,
    /// The user manages it (its creator, an admin, the owner).
    pub manage: bool,
    /// Who is muted in it, by name.
    pub muted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub name: String,
    pub status: Status,
    pub display_name: String,
    /// The avatar's upload name, when set.
    pub avatar: Option<String>,
    pub role: Role,
}

impl Hub {
    /// The `count` (1 to 100) messages of a chat ending at `end_id`, oldest first.
    pub async fn history(
        &self,
        user: &UserKey,
        chat: &ChatRef,
        end_id: Option<MessageId>,
        count: u32,
    ) -> Result<Vec<StoredMessage>, Refusal> {
        if count == 0 || count > MAX_PAGE {
            return Err(Refusal::BadRequest(format!("count is 1 to {MAX_PAGE}")));
        }
        let chat = self.chat_for(user, chat, true)?;
        self.store
            .messages(chat, end_id, count)
            .await
            .map_err(|e| e.into_refusal())
    }

    pub async fn message(
        &self,
        user: &UserKey,
        chat: &ChatRef,
        id: MessageId,
    ) -> Result<StoredMessage, Refusal> {
        let chat = self.chat_for(user, chat, true)?;
        let page = self
            .store
            .messages(chat, Some(id), 1)
            .await
            .map_err(|e| e.into_refusal())?;
        page.into_iter()
            .find(|m| m.message.id == id)
            .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))
    }

    fn summary(&self, user: &UserKey, chat: &Chat, last_id: MessageId) -> ChatSummary {
        let state = self.lock();
        let name = name_of(&state, chat);
        let unread = state
            .users
            .get(user)
            .map_or(0, |u| u.counters.get(chat).unread);
        let seen = name.seen_by(user);
        ChatSummary {
            direct: matches!(chat, Chat::Direct(..)),
            // A room's name, or the other person's.
            name: match &seen {
                ChatRef::Room(n) | ChatRef::Direct(n) => n.clone(),
            },
            chat: seen,
            last_id,
            unread,
            notify: app::protocol::NotifyLevel::All,
        }
    }

    pub async fn chat_summary(
        &self,
        user: &UserKey,
        chat: &ChatRef,
    ) -> Result<ChatSummary, Refusal> {
        let chat = self.chat_for(user, chat, true)?;
        let last_id = self
            .store
            .last_message_id(chat.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        let mut summary = self.summary(user, &chat, last_id);
        let levels = self.notify_levels(user).await?;
        if let Some((_, level)) = levels.into_iter().find(|(c, _)| *c == chat) {
            summary.notify = level;
        }
        Ok(summary)
    }

    /// Every chat the user is in (rooms joined, direct chats with messages).
    pub async fn chats(&self, user: &UserKey) -> Result<Vec<ChatSummary>, Refusal> {
        let chats = self
            .store
            .chat_last_ids(user.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        let levels = self.notify_levels(user).await?;
        let mut out: Vec<ChatSummary> = chats
            .iter()
            .map(|(chat, last_id)| {
                let mut summary = self.summary(user, chat, *last_id);
                if let Some((_, level)) = levels.iter().find(|(c, _)| c == chat) {
                    summary.notify = *level;
                }
                summary
            })
            .collect();
        out.sort_by(|a, b| {
            a.direct
                .cmp(&b.direct)
                .then(a.name.to_lowercase().cmp(&b.name.to_lowercase()))
        });
        Ok(out)
    }

    /// Every room the user may see, with whether they are in it: a limited account
    /// sees its own rooms only, and a private room is seen by its members, the owner
    /// and admins.
    pub fn rooms(&self, user: &UserKey) -> Vec<RoomSummary> {
        let state = self.lock();
        let me = state.users.get(user);
        let guest = me.is_some_and(|u| u.guest);
        let role = me.filter(|u| !u.guest).map_or(Role::Member, |u| u.role);
        let mut rooms: Vec<RoomSummary> = state
            .rooms
            .iter()
            .filter_map(|(id, r)| {
                let joined = r.members.contains(user);
                let visible =
                    joined || (role != Role::Limited && (!r.settings.private || role.manages()));
                if !visible {
                    return None;
                }
                let created = r
                    .creator
                    .as_ref()
                    .is_some_and(|c| UserKey::of(c) == *user && r.creator_guest == guest);
                let muted = r
                    .settings
                    .muted
                    .iter()
                    .filter_map(|k| state.users.get(k).map(|u| u.name.clone()))
                    .collect();
                Some(RoomSummary {
                    id: *id,
                    name: r.name.clone(),
                    creator: r.creator.clone(),
                    members: r.members.len(),
                    joined,
                    topic: r.settings.topic.clone(),
                    private: r.settings.private,
                    announce: r.settings.announce,
                    retention_days: r.settings.retention_days,
                    manage: created || role.manages(),
                    muted,
                })
            })
            .collect();
        rooms.sort_by_key(|r| r.id);
        rooms
    }

    pub fn room(&self, user: &UserKey, id: RoomId) -> Option<RoomSummary> {
        self.rooms(user).into_iter().find(|r| r.id == id)
    }

    /// The members of a chat with their status.
    pub fn members(&self, user: &UserKey, chat: &ChatRef) -> Result<Vec<UserSummary>, Refusal> {
        let state = self.lock();
        let chat = Self::resolve(&state, user, chat, false)?;
        let keys: Vec<&UserKey> = match &chat {
            Chat::Room(id) => state
                .rooms
                .get(id)
                .map(|r| r.members.iter().collect())
                .unwrap_or_default(),
            Chat::Direct(a, b) if a == b => vec![a],
            Chat::Direct(a, b) => vec![a, b],
        };
        let mut out: Vec<UserSummary> = keys
            .into_iter()
            .filter_map(|k| state.users.get(k))
            .map(|u| UserSummary {
                name: u.name.clone(),
                status: u.shown,
                display_name: u.profile.display_name.clone(),
                avatar: u.profile.avatar.clone(),
                role: if u.guest { Role::Member } else { u.role },
            })
            .collect();
        out.sort_by_key(|u| u.name.to_lowercase());
        Ok(out)
    }

    /// Everyone connected right now (any status but invisible), with since when.
    pub fn online(&self) -> Vec<(String, Millis)> {
        let state = self.lock();
        let mut out: Vec<(String, Millis)> = state
            .users
            .values()
            .filter(|u| u.shown != Status::Offline)
            .filter_map(|u| u.since().map(|at| (u.name.clone(), at)))
            .collect();
        out.sort_by_key(|(n, at)| (*at, n.to_lowercase()));
        out
    }

    /// The room `name` names (any case).
    pub fn room_id(&self, name: &str) -> Option<RoomId> {
        self.lock().room_ids.get(&name.to_lowercase()).copied()
    }

    /// Everyone with an account, and guests while they are connected.
    pub fn users(&self) -> Vec<UserSummary> {
        let state = self.lock();
        let mut out: Vec<UserSummary> = state
            .users
            .values()
            .filter(|u| !u.guest || !u.sessions.is_empty())
            .map(|u| UserSummary {
                name: u.name.clone(),
                status: u.shown,
                display_name: u.profile.display_name.clone(),
                avatar: u.profile.avatar.clone(),
                role: if u.guest { Role::Member } else { u.role },
            })
            .collect();
        out.sort_by_key(|u| u.name.to_lowercase());
        out
    }

    /// Every member's delivered/read watermarks in a chat.
    pub async fn receipts(
        &self,
        user: &UserKey,
        chat: &ChatRef,
    ) -> Result<Vec<(String, MessageId, MessageId)>, Refusal> {
        let chat = self.chat_for(user, chat, true)?;
        let marks = self
            .store
            .receipt_marks(chat)
            .await
            .map_err(|e| e.into_refusal())?;
        let state = self.lock();
        let mut out: Vec<(String, MessageId, MessageId)> = marks
            .into_iter()
            .map(|(k, d, r)| {
                let name = state
                    .users
                    .get(&k)
                    .map_or_else(|| k.as_str().to_owned(), |u| u.name.clone());
                (name, d, r)
            })
            .collect();
        out.sort_by_key(|(n, _, _)| n.to_lowercase());
        Ok(out)
    }

    /// How a chat is named (for rendering replayed events).
    pub fn chat_name(&self, chat: &Chat) -> ChatName {
        name_of(&self.lock(), chat)
    }

    /// The last event the user acknowledged.
    pub async fn acked(&self, session: &Session) -> Result<EventId, Refusal> {
        let stored = self
            .store
            .account(session.user.clone())
            .await
            .map_err(|e| e.into_refusal())?
            .map_or(0, |a| a.acked_event);
        let in_memory = self.lock().users.get(&session.user).map_or(0, |u| u.acked);
        Ok(stored.max(in_memory))
    }

    /// How many events after `after` the user may see (up to the log's head now), the
    /// id of the last of them, and the head.
    pub async fn replay_plan(&self, user: &UserKey, after: EventId) -> Result<ReplayPlan, Refusal> {
        self.store
            .replay_plan(user.clone(), after)
            .await
            .map_err(|e| e.into_refusal())
    }

    /// One page of the user's replay: events with `after < id <= upto`.
    pub async fn replay_page(
        &self,
        user: &UserKey,
        after: EventId,
        upto: EventId,
        limit: u32,
    ) -> Result<Vec<LogEvent>, Refusal> {
        self.store
            .replay_page(user.clone(), after, upto, limit)
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Unread messages of `chat` for `user` between two message ids (exclusive), not
    /// counting those at or below the user's read mark.
    pub async fn unread_before(
        &self,
        user: &UserKey,
        chat: &Chat,
        before: MessageId,
    ) -> Result<(u64, MessageId), Refusal> {
        let read_upto = self
            .lock()
            .users
            .get(user)
            .map_or(0, |u| u.counters.get(chat).read_upto);
        let n = self
            .store
            .unread_between(chat.clone(), user.clone(), read_upto, before)
            .await
            .map_err(|e| e.into_refusal())?;
        Ok((n, read_upto))
    }
}
