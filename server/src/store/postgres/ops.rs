//! The write operations other than the message log's (those, on the path of every chat
//! message, are in `writer`): accounts, tokens, rooms and memberships. Each runs inside
//! the writer's transaction (under its own savepoint), checks what must hold, changes
//! the rows, and appends its log events.

use super::db::Db;
use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, LogEvent, Refusal, RoomId, SessionId, UserKey, GENERAL};
use crate::store::{Account, Member, NewRoom, NewUpload, StoreError};
use app::protocol::{EventId, Millis, Role};

/// Creates the `General` room if it is not there.
// PORT: ensure_general
pub fn ensure_general(db: &mut Db) -> Result<(), StoreError> {
    let _ = ();
    Err(super::not_ported("ensure_general"))
}

// PORT: general_id
pub fn general_id(db: &mut Db) -> Result<RoomId, StoreError> {
    let _ = ();
    Err(super::not_ported("general_id"))
}

// PORT: load_account
pub fn load_account(db: &mut Db, key: &UserKey) -> Result<Option<Account>, StoreError> {
    let _ = (key);
    Err(super::not_ported("load_account"))
}

/// Adds `user` to `room`; `None` when already a member.
// PORT: join
pub(super) fn join(
    db: &mut Db,
    room: RoomId,
    key: &UserKey,
    name: &str,
    by: Option<String>,
    at: Millis,
) -> Result<Option<LogEvent>, StoreError> {
    let _ = (room, key, name, by, at);
    Err(super::not_ported("join"))
}

// PORT: join_room
pub fn join_room(
    db: &mut Db,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let _ = (room, member, by, at, origin);
    Err(super::not_ported("join_room"))
}

// PORT: leave_room
pub fn leave_room(
    db: &mut Db,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let _ = (room, member, by, at, origin);
    Err(super::not_ported("leave_room"))
}

// PORT: create_room
pub fn create_room(
    db: &mut Db,
    room: NewRoom,
    origin: Option<SessionId>,
) -> Result<Applied<RoomId>, StoreError> {
    let _ = (room, origin);
    Err(super::not_ported("create_room"))
}

/// Remembers the last event a user acknowledged (never moves back).
// PORT: set_acked
pub fn set_acked(
    db: &mut Db,
    key: &UserKey,
    event: EventId,
) -> Result<Applied<()>, StoreError> {
    let _ = (key, event);
    Err(super::not_ported("set_acked"))
}

/// Keeps a new session token (its hash) for `key`.
// PORT: issue_token
pub fn issue_token(
    db: &mut Db,
    key: &UserKey,
    hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    let _ = (key, hash, at);
    Err(super::not_ported("issue_token"))
}

/// Records that a session token was used now (it expires when unused for long).
// PORT: touch_token
pub fn touch_token(db: &mut Db, hash: &str, at: Millis) -> Result<Applied<()>, StoreError> {
    let _ = (hash, at);
    Err(super::not_ported("touch_token"))
}

/// Forgets a session token (logout).
// PORT: revoke_token
pub fn revoke_token(db: &mut Db, hash: &str) -> Result<Applied<()>, StoreError> {
    let _ = (hash);
    Err(super::not_ported("revoke_token"))
}

/// Forgets every session token of `key` (log out everywhere).
// PORT: revoke_user_tokens
pub fn revoke_user_tokens(db: &mut Db, key: &UserKey) -> Result<Applied<()>, StoreError> {
    let _ = (key);
    Err(super::not_ported("revoke_user_tokens"))
}

/// A new password for `key`: its hash replaces the old one, every session token of
/// theirs is forgotten, and `token_hash` is kept as the only one.
// PORT: change_password
pub fn change_password(
    db: &mut Db,
    key: &UserKey,
    password_hash: &str,
    token_hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    let _ = (key, password_hash, token_hash, at);
    Err(super::not_ported("change_password"))
}

/// Forgets tokens last used before `before`; answers their hashes.
// PORT: expire_tokens
pub fn expire_tokens(
    db: &mut Db,
    before: Millis,
) -> Result<Applied<Vec<String>>, StoreError> {
    let _ = (before);
    Err(super::not_ported("expire_tokens"))
}

/// Erases a room's messages, receipts and earlier log entries, and logs the clearing.
// PORT: clear_room
pub fn clear_room(
    db: &mut Db,
    room: RoomId,
    actor: &str,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let _ = (room, actor, at, origin);
    Err(super::not_ported("clear_room"))
}

/// Records a stored upload unless its owner would then keep more than `quota` bytes.
// PORT: record_upload
pub fn record_upload(
    db: &mut Db,
    upload: &NewUpload,
    quota: u64,
) -> Result<Applied<bool>, StoreError> {
    let _ = (upload, quota);
    Err(super::not_ported("record_upload"))
}

/// Forgets the uploads no message refers to that were released or recorded before
/// `before`; answers their names.
// PORT: take_unreferenced_uploads
pub fn take_unreferenced_uploads(
    db: &mut Db,
    before: Millis,
) -> Result<Applied<Vec<String>>, StoreError> {
    let _ = (before);
    Err(super::not_ported("take_unreferenced_uploads"))
}

/// Sets `user`'s notification level of `chat` (`all` is the default: its row goes).
// PORT: set_notify
pub fn set_notify(
    db: &mut Db,
    user: &UserKey,
    chat: &Chat,
    level: app::protocol::NotifyLevel,
) -> Result<Applied<()>, StoreError> {
    let _ = (user, chat, level);
    Err(super::not_ported("set_notify"))
}

