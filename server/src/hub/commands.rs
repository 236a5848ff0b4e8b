//! Commands: what a user can do to the world. Each checks the rules (names, membership,
//! limits), then either writes through the store (and the commit publishes the event)
//! or, for what is not kept (typing, presence), fans out at once.

use super::{members_of, Hub, Live, Session, State};
use crate::domain::{now_ms, Chat, ReceiptKind, Refusal, RoomId, UserKey, GENERAL};
use crate::store::{self, Edit, NewMessage, ReceiptOutcome};
use app::protocol::{
    validate_room_name, validate_username, Attachment, ChatRef, EventId, MessageId, Status,
    MAX_ATTACHMENTS, MAX_MESSAGE_BYTES,
};
use std::time::Instant;

/// Longest accepted `clientMessageId`.
const MAX_CLIENT_ID: usize = 128;

impl Hub {
    /// Logs in with a password; an unknown name registers it. Answers the account's
    /// display name and whether this login created it.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(String, bool), Refusal> {
        validate_username(username).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if password.is_empty() || password.len() > 1024 {
            return Err(Refusal::BadRequest("a password has 1 to 1024 bytes".into()));
        }
        let key = UserKey::of(username);
        let existing = self
            .store
            .read(move |c| store::load_account(c, &key))
            .await
            .map_err(|e| e.into_refusal())?;
        let account = match existing {
            Some(account) => account,
            None => {
                let hash = super::passwords::hash(password.to_owned()).await?;
                let name = username.to_owned();
                let (account, created) = self
                    .store
                    .write(move |c| store::register(c, &name, Some(hash), now_ms()))
                    .await
                    .map_err(|e| e.into_refusal())?;
                if created {
                    return Ok((account.name, true));
                }
                account
            }
        };
        let Some(hash) = account.password_hash else {
            // A guest used this name: the first password login makes it an account.
            let hash = super::passwords::hash(password.to_owned()).await?;
            let key = UserKey::of(&account.name);
            let claimed = self
                .store
                .write(move |c| store::claim_guest(c, &key, &hash))
                .await
                .map_err(|e| e.into_refusal())?;
            return if claimed {
                Ok((account.name, true))
            } else {
                Err(Refusal::AuthFailed)
            };
        };
        if super::passwords::verify(password.to_owned(), hash).await {
            Ok((account.name, false))
        } else {
            Err(Refusal::AuthFailed)
        }
    }

    /// Lets a guest (a dialect without passwords) in under `name`. Refused when guests
    /// are off or the name belongs to an account with a password.
    pub async fn guest_login(&self, name: &str) -> Result<String, Refusal> {
        if !self.limits.allow_guests {
            return Err(Refusal::Forbidden(
                "guests are not allowed on this server".into(),
            ));
        }
        validate_username(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let guest = name.to_owned();
        let (account, _) = self
            .store
            .write(move |c| store::register(c, &guest, None, now_ms()))
            .await
            .map_err(|e| e.into_refusal())?;
        if account.password_hash.is_some() {
            return Err(Refusal::Forbidden(
                "this name belongs to a registered account".into(),
            ));
        }
        Ok(account.name)
    }

    /// Whether `name` has a connection right now.
    pub fn is_connected(&self, name: &str) -> bool {
        self.lock()
            .users
            .get(&UserKey::of(name))
            .is_some_and(|u| !u.sessions.is_empty())
    }

    /// The chat `chat_id` names, for `user`; rooms must exist, and with `member` the user
    /// must be in them; direct chats need the other user to exist.
    pub(super) fn resolve(
        state: &State,
        user: &UserKey,
        chat_id: &str,
        member: bool,
    ) -> Result<Chat, Refusal> {
        match ChatRef::parse(chat_id).map_err(|e| Refusal::BadRequest(format!("chatId: {e}")))? {
            ChatRef::Room(name) => {
                let id = *state
                    .room_ids
                    .get(&name.to_lowercase())
                    .ok_or_else(|| Refusal::NotFound(format!("no room named {name:?}")))?;
                let chat = Chat::Room(id);
                if member && !members_of(state, &chat).contains(user) {
                    return Err(Refusal::Forbidden(format!("join #{name} first")));
                }
                Ok(chat)
            }
            ChatRef::Direct(name) => {
                let other = UserKey::of(&name);
                if !state.users.contains_key(&other) {
                    return Err(Refusal::NotFound(format!("no user named {name:?}")));
                }
                Ok(Chat::direct(user, &other))
            }
        }
    }

    pub(super) fn chat_for(
        &self,
        user: &UserKey,
        chat_id: &str,
        member: bool,
    ) -> Result<Chat, Refusal> {
        Self::resolve(&self.lock(), user, chat_id, member)
    }

    /// Counts one message against the sender's rate limit.
    fn take_rate(&self, user: &UserKey) -> Result<(), Refusal> {
        let mut state = self.lock();
        let Some(entry) = state.users.get_mut(user) else {
            return Ok(());
        };
        let now = Instant::now();
        while entry
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.limits.rate_window)
        {
            entry.sent.pop_front();
        }
        if entry.sent.len() >= self.limits.rate_limit {
            return Err(Refusal::RateLimited(format!(
                "at most {} messages per {}",
                self.limits.rate_limit,
                humantime::format_duration(self.limits.rate_window)
            )));
        }
        entry.sent.push_back(now);
        Ok(())
    }

    /// Posts a message. Answers its id and whether it repeated an earlier
    /// `clientMessageId` (then nothing is delivered again).
    pub async fn send_message(
        &self,
        session: &Session,
        chat_id: &str,
        text: String,
        attachments: Vec<Attachment>,
        client_message_id: Option<String>,
    ) -> Result<(MessageId, bool), Refusal> {
        check_content(&text, &attachments)?;
        if client_message_id
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_ID)
        {
            return Err(Refusal::BadRequest(format!(
                "a clientMessageId has 1 to {MAX_CLIENT_ID} bytes"
            )));
        }
        let chat = self.chat_for(&session.user, chat_id, true)?;
        self.take_rate(&session.user)?;
        let msg = NewMessage {
            chat,
            sender: session.name.clone(),
            client_message_id,
            text,
            attachments,
            at: now_ms(),
        };
        let origin = session.origin();
        self.store
            .write(move |c| store::new_message(c, msg, origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    pub async fn edit_message(
        &self,
        session: &Session,
        chat_id: &str,
        message_id: MessageId,
        text: String,
        attachments: Option<Vec<Attachment>>,
    ) -> Result<(), Refusal> {
        check_content(&text, attachments.as_deref().unwrap_or(&[]))?;
        let edit = Edit {
            chat: self.chat_for(&session.user, chat_id, true)?,
            editor: session.user.clone(),
            message_id,
            text,
            attachments,
            at: now_ms(),
        };
        let origin = session.origin();
        self.store
            .write(move |c| store::edit_message(c, edit, origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    pub async fn delete_message(
        &self,
        session: &Session,
        chat_id: &str,
        message_id: MessageId,
    ) -> Result<(), Refusal> {
        let chat = self.chat_for(&session.user, chat_id, true)?;
        let (user, origin) = (session.user.clone(), session.origin());
        self.store
            .write(move |c| store::delete_message(c, chat, &user, message_id, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// `dlvrd` / `read` up to `upto` (default: the latest message).
    pub async fn mark(
        &self,
        session: &Session,
        chat_id: &str,
        kind: ReceiptKind,
        upto: Option<MessageId>,
    ) -> Result<ReceiptOutcome, Refusal> {
        let chat = self.chat_for(&session.user, chat_id, true)?;
        let (reader, origin) = (session.name.clone(), session.origin());
        self.store
            .write(move |c| store::mark(c, chat, &reader, kind, upto, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Creates a room; its creator is its first member.
    pub async fn create_room(&self, session: &Session, name: &str) -> Result<RoomId, Refusal> {
        validate_room_name(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if self.lock().room_ids.contains_key(&name.to_lowercase()) {
            return Err(Refusal::Conflict(
                "a room with this name already exists".into(),
            ));
        }
        let (name, key, creator, origin) = (
            name.to_owned(),
            session.user.clone(),
            session.name.clone(),
            session.origin(),
        );
        self.store
            .write(move |c| store::create_room(c, &name, &key, &creator, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Joins a room; answers whether the user was not in it already.
    pub async fn join_room(&self, session: &Session, chat_id: &str) -> Result<RoomId, Refusal> {
        let Chat::Room(room) = self.chat_for(&session.user, chat_id, false)? else {
            return Err(Refusal::BadRequest("only rooms can be joined".into()));
        };
        let (key, name, origin) = (session.user.clone(), session.name.clone(), session.origin());
        self.store
            .write(move |c| store::join_room(c, room, &key, &name, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(room)
    }

    pub async fn leave_room(&self, session: &Session, chat_id: &str) -> Result<(), Refusal> {
        let Chat::Room(room) = self.chat_for(&session.user, chat_id, true)? else {
            return Err(Refusal::BadRequest("only rooms can be left".into()));
        };
        if self
            .lock()
            .rooms
            .get(&room)
            .is_some_and(|r| r.name == GENERAL)
        {
            return Err(Refusal::Forbidden("everyone stays in General".into()));
        }
        let (key, name, origin) = (session.user.clone(), session.name.clone(), session.origin());
        self.store
            .write(move |c| store::leave_room(c, room, &key, &name, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// The user is typing in a chat: tell the other members, at most once per second
    /// per chat; the indicator lapses after the typing TTL.
    pub fn typing(&self, session: &Session, chat_id: &str) -> Result<(), Refusal> {
        let mut state = self.lock();
        let chat = Self::resolve(&state, &session.user, chat_id, true)?;
        let now = Instant::now();
        let key = (session.user.clone(), chat.clone());
        let relay = match state.typing.get(&key) {
            Some((last, _)) => now.duration_since(*last).as_millis() >= 1000,
            None => true,
        };
        let last = if relay {
            now
        } else {
            state.typing.get(&key).map_or(now, |(l, _)| *l)
        };
        state
            .typing
            .insert(key, (last, now + self.limits.typing_ttl));
        if relay {
            let name = super::name_of(&state, &chat);
            let live = Live::Typing {
                chat: name,
                user: session.name.clone(),
            };
            self.chat_live(&mut state, &chat, live, &session.user);
        }
        Ok(())
    }

    /// The user stopped typing in a chat.
    pub fn stop_typing(&self, session: &Session, chat_id: &str) -> Result<(), Refusal> {
        let mut state = self.lock();
        let chat = Self::resolve(&state, &session.user, chat_id, true)?;
        self.stop_typing_in(&mut state, &session.user, &chat);
        Ok(())
    }

    /// Clears a room's history; allowed to its creator and to admins.
    pub async fn clear_room(&self, session: &Session, chat_id: &str) -> Result<(), Refusal> {
        let room = {
            let state = self.lock();
            let Chat::Room(id) = Self::resolve(&state, &session.user, chat_id, false)? else {
                return Err(Refusal::BadRequest("only rooms can be cleared".into()));
            };
            let creator = state.rooms.get(&id).and_then(|r| r.creator.clone());
            let allowed = creator.is_some_and(|c| UserKey::of(&c) == session.user)
                || self.limits.admins.contains(&session.user);
            if !allowed {
                return Err(Refusal::Forbidden(
                    "only the room's creator or an admin can clear it".into(),
                ));
            }
            id
        };
        let (name, origin) = (session.name.clone(), session.origin());
        self.store
            .write(move |c| store::clear_room(c, room, &name, now_ms(), origin))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Who is typing in `chat` right now (indicators not yet lapsed).
    pub fn typing_in(&self, chat: &Chat) -> Vec<String> {
        let state = self.lock();
        let now = Instant::now();
        state
            .typing
            .iter()
            .filter(|((_, c), (_, until))| c == chat && *until > now)
            .filter_map(|((u, _), _)| state.users.get(u).map(|e| e.name.clone()))
            .collect()
    }

    /// Sets the status the user chose, for all of their connections and later ones.
    /// A connection that is idle shows `online` as `away`; a hidden one shows nothing.
    pub fn set_status(&self, session: &Session, status: Status) {
        let mut state = self.lock();
        if let Some(user) = state.users.get_mut(&session.user) {
            user.chosen = status;
        }
        self.refresh_presence(&mut state, &session.user);
    }

    /// This connection goes invisible (`false`) or visible again (`true`).
    pub fn set_visible(&self, session: &Session, visible: bool) {
        self.set_session_flags(session, |s| s.hidden = !visible);
    }

    /// Nobody uses this connection (`true`), or someone does again.
    pub fn set_idle(&self, session: &Session, idle: bool) {
        self.set_session_flags(session, |s| s.idle = idle);
    }

    fn set_session_flags(&self, session: &Session, change: impl FnOnce(&mut super::SessionEntry)) {
        let mut state = self.lock();
        if let Some(s) = state.sessions.get_mut(&session.id) {
            change(s);
        }
        self.refresh_presence(&mut state, &session.user);
    }

    /// A new session token for `name` (kept hashed).
    pub async fn issue_token(&self, name: &str) -> Result<String, Refusal> {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let (key, hash) = (UserKey::of(name), token_hash(&token));
        self.store
            .write(move |c| store::issue_token(c, &key, &hash, now_ms()))
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(token)
    }

    /// The account a session token belongs to, if it is still valid.
    pub async fn token_owner(&self, token: &str) -> Option<String> {
        let hash = token_hash(token);
        let key = self
            .store
            .read(move |c| store::token_user(c, &hash))
            .await
            .ok()??;
        self.lock().users.get(&key).map(|u| u.name.clone())
    }

    /// Logs in `username` with a session token.
    pub async fn authenticate_token(&self, username: &str, token: &str) -> Result<String, Refusal> {
        match self.token_owner(token).await {
            Some(name) if UserKey::of(&name) == UserKey::of(username) => {
                let hash = token_hash(token);
                self.store
                    .write(move |c| store::touch_token(c, &hash, now_ms()))
                    .await
                    .map_err(|e| e.into_refusal())?;
                Ok(name)
            }
            _ => Err(Refusal::AuthFailed),
        }
    }

    /// Forgets a session token (logout).
    pub async fn revoke_token(&self, token: &str) -> Result<(), Refusal> {
        let hash = token_hash(token);
        self.store
            .write(move |c| store::revoke_token(c, &hash))
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Remembers the last event the user acknowledged (used when `subscribe` names
    /// none). Kept in memory and stored when the user's last connection closes: a
    /// client acks every event, and a write per ack would cost a row update per room
    /// member per message. After a crash the position is older, so a resume without
    /// `lastEventId` replays more, never less.
    pub fn ack(&self, session: &Session, event: EventId) {
        if let Some(user) = self.lock().users.get_mut(&session.user) {
            user.acked = user.acked.max(event);
        }
    }

    /// A message from the server to every connected client.
    pub fn broadcast(&self, text: &str) {
        let mut state = self.lock();
        let live = Live::Broadcast {
            text: text.to_owned(),
            to: None,
        };
        self.broadcast_live(&mut state, live, None);
    }

    /// A message from the server to one user's connections; `false` if they have none.
    pub fn notify(&self, user: &str, text: &str) -> bool {
        let mut state = self.lock();
        let key = UserKey::of(user);
        let Some(entry) = state.users.get(&key) else {
            return false;
        };
        let sessions = entry.sessions.clone();
        let item = super::Outbound::Live(std::sync::Arc::new(super::LiveShared {
            live: Live::Broadcast {
                text: text.to_owned(),
                to: Some(entry.name.clone()),
            },
            at: now_ms(),
            frames: super::FrameCache::default(),
        }));
        for id in &sessions {
            if let Some(s) = state.sessions.get_mut(id) {
                Self::push(s, item.clone());
            }
        }
        !sessions.is_empty()
    }
}

fn check_content(text: &str, attachments: &[Attachment]) -> Result<(), Refusal> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Refusal::BadRequest(format!(
            "a message has at most {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    if text.trim().is_empty() && attachments.is_empty() {
        return Err(Refusal::BadRequest(
            "a message needs text or an attachment".into(),
        ));
    }
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(Refusal::BadRequest(format!(
            "a message has at most {MAX_ATTACHMENTS} attachments"
        )));
    }
    Ok(())
}

fn token_hash(token: &str) -> String {
    use blake2::Digest;
    blake2::Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
