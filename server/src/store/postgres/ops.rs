//! The write operations other than the message log's (those are in `writer`):
//! accounts' tokens, rooms and memberships, uploads' bookkeeping, notification levels.
//! Each runs inside the writer's transaction (under its own savepoint), checks what
//! must hold, changes the rows, and appends its log events.

use super::db::{big, unsigned, Db};
use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, LogEvent, Refusal, RoomId, SessionId, UserKey, GENERAL};
use crate::store::{Account, Member, NewRoom, NewUpload, StoreError};
use app::protocol::{EventId, Millis, Role};

/// Creates the `General` room if it is not there (several nodes may start at once).
pub fn ensure_general(db: &mut Db) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO rooms (name, name_key, creator, created_at) VALUES ($1, $2, NULL, $3)
         ON CONFLICT (name_key) DO NOTHING",
        &[&GENERAL, &GENERAL.to_lowercase(), &crate::domain::now_ms()],
    )?;
    Ok(())
}

/// The name every node of this database shares, made at the first start: it keeps the
/// bus notes of two Parlors sharing one NATS apart.
pub fn cluster_name(db: &mut Db) -> Result<String, StoreError> {
    db.execute(
        "INSERT INTO settings (name, value) VALUES ('cluster', $1) ON CONFLICT (name) DO NOTHING",
        &[&super::node_id()],
    )?;
    let row = db.one("SELECT value FROM settings WHERE name = 'cluster'", &[])?;
    Ok(row.try_get(0)?)
}

pub fn general_id(db: &mut Db) -> Result<RoomId, StoreError> {
    let row = db.one(
        "SELECT id FROM rooms WHERE name_key = $1",
        &[&GENERAL.to_lowercase()],
    )?;
    Ok(row.try_get(0)?)
}

pub fn load_account(db: &mut Db, key: &UserKey) -> Result<Option<Account>, StoreError> {
    let Some(r) = db.opt(
        "SELECT name, password_hash, acked_event, role, banned_at IS NOT NULL
         FROM users WHERE key = $1",
        &[&key.as_str()],
    )?
    else {
        return Ok(None);
    };
    let role: String = r.try_get(3)?;
    let role =
        Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
    Ok(Some(Account {
        name: r.try_get(0)?,
        password_hash: r.try_get(1)?,
        acked_event: unsigned(&r, 2)? as EventId,
        role,
        banned: r.try_get(4)?,
    }))
}

fn room_name(db: &mut Db, room: RoomId) -> Result<(String, Option<String>), StoreError> {
    let r = db
        .opt("SELECT name, creator FROM rooms WHERE id = $1", &[&room])?
        .ok_or_else(|| StoreError::from(Refusal::NotFound("no such room".into())))?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

fn is_member(db: &mut Db, key: &UserKey, chat: &Chat) -> Result<bool, StoreError> {
    Ok(db
        .opt(
            "SELECT 1 FROM chat_members WHERE user_key = $1 AND chat = $2",
            &[&key.as_str(), &chat.key()],
        )?
        .is_some())
}

/// Adds `user` to `room`; `None` when already a member.
pub(super) fn join(
    db: &mut Db,
    room: RoomId,
    key: &UserKey,
    name: &str,
    by: Option<String>,
    at: Millis,
) -> Result<Option<LogEvent>, StoreError> {
    let chat = Chat::Room(room);
    if is_member(db, key, &chat)? {
        return Ok(None);
    }
    let (room_name, _) = room_name(db, room)?;
    let event = append(
        db,
        at,
        chat.clone(),
        EventData::Join {
            user: name.to_owned(),
            room: room_name,
            created: false,
            creator: None,
            private: false,
            by,
        },
    )?;
    db.execute(
        "INSERT INTO chat_members (user_key, chat, joined_event) VALUES ($1, $2, $3)",
        &[&key.as_str(), &chat.key(), &big(event.id)],
    )?;
    Ok(Some(event))
}

pub fn join_room(
    db: &mut Db,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let event = join(db, room, &member.key, &member.name, by, at)?;
    Ok(Applied {
        value: event.is_some(),
        events: event.into_iter().collect(),
        origin,
    })
}

pub fn leave_room(
    db: &mut Db,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (key, name) = (&member.key, member.name.as_str());
    let chat = Chat::Room(room);
    if !is_member(db, key, &chat)? {
        let whom = if by.is_some() { "they are" } else { "you are" };
        return Err(Refusal::NotFound(format!("{whom} not in this room")).into());
    }
    let (room_name, _) = room_name(db, room)?;
    let event = append(
        db,
        at,
        chat.clone(),
        EventData::Leave {
            user: name.to_owned(),
            room: room_name,
            by,
        },
    )?;
    db.execute(
        "DELETE FROM chat_members WHERE user_key = $1 AND chat = $2",
        &[&key.as_str(), &chat.key()],
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

pub fn create_room(
    db: &mut Db,
    room: NewRoom,
    origin: Option<SessionId>,
) -> Result<Applied<RoomId>, StoreError> {
    let (name, at) = (room.name.as_str(), room.at);
    let (creator_key, creator) = (&room.creator.key, room.creator.name.as_str());
    let (creator_guest, private) = (room.creator_guest, room.private);
    // Two nodes creating the same name at once: the unique name key lets one in; the
    // other's insert does nothing and is refused as taken.
    let inserted = db.opt(
        "INSERT INTO rooms (name, name_key, creator, created_at, creator_guest, private)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name_key) DO NOTHING
         RETURNING id",
        &[
            &name,
            &name.to_lowercase(),
            &creator,
            &at,
            &creator_guest,
            &private,
        ],
    )?;
    let Some(inserted) = inserted else {
        return Err(Refusal::Conflict("a room with this name already exists".into()).into());
    };
    let room: RoomId = inserted.try_get(0)?;
    let chat = Chat::Room(room);
    let event = append(
        db,
        at,
        chat.clone(),
        EventData::Join {
            user: creator.to_owned(),
            room: name.to_owned(),
            created: true,
            creator: Some(creator.to_owned()),
            private,
            by: None,
        },
    )?;
    if !creator_guest {
        db.execute(
            "INSERT INTO chat_members (user_key, chat, joined_event) VALUES ($1, $2, $3)",
            &[&creator_key.as_str(), &chat.key(), &big(event.id)],
        )?;
    }
    Ok(Applied {
        value: room,
        events: vec![event],
        origin,
    })
}

/// Remembers the last event a user acknowledged (never moves back).
pub fn set_acked(db: &mut Db, key: &UserKey, event: EventId) -> Result<Applied<()>, StoreError> {
    db.execute(
        "UPDATE users SET acked_event = GREATEST(acked_event, $1) WHERE key = $2",
        &[&big(event), &key.as_str()],
    )?;
    Ok(Applied::quiet(()))
}

/// Keeps a new session token (its hash) for `key`.
pub fn issue_token(
    db: &mut Db,
    key: &UserKey,
    hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    db.execute(
        "INSERT INTO tokens (hash, user_key, created_at, used_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (hash) DO UPDATE SET user_key = EXCLUDED.user_key,
             created_at = EXCLUDED.created_at, used_at = EXCLUDED.used_at",
        &[&hash, &key.as_str(), &at],
    )?;
    Ok(Applied::quiet(()))
}

/// Records that a session token was used now (it expires when unused for long).
pub fn touch_token(db: &mut Db, hash: &str, at: Millis) -> Result<Applied<()>, StoreError> {
    db.execute(
        "UPDATE tokens SET used_at = $1 WHERE hash = $2",
        &[&at, &hash],
    )?;
    Ok(Applied::quiet(()))
}

/// Forgets a session token (logout).
pub fn revoke_token(db: &mut Db, hash: &str) -> Result<Applied<()>, StoreError> {
    db.execute("DELETE FROM tokens WHERE hash = $1", &[&hash])?;
    Ok(Applied::quiet(()))
}

/// Forgets every session token of `key` (log out everywhere).
pub fn revoke_user_tokens(db: &mut Db, key: &UserKey) -> Result<Applied<()>, StoreError> {
    db.execute("DELETE FROM tokens WHERE user_key = $1", &[&key.as_str()])?;
    super::push::forget(db, key)?;
    Ok(Applied::quiet(()))
}

/// A new password for `key`: its hash replaces the old one, every session token of
/// theirs is forgotten, and `token_hash` is kept as the only one.
pub fn change_password(
    db: &mut Db,
    key: &UserKey,
    password_hash: &str,
    token_hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    let changed = db.execute(
        "UPDATE users SET password_hash = $1 WHERE key = $2 AND password_hash IS NOT NULL",
        &[&password_hash, &key.as_str()],
    )?;
    if changed != 1 {
        return Err(Refusal::Forbidden("this account has no password".into()).into());
    }
    revoke_user_tokens(db, key)?;
    issue_token(db, key, token_hash, at)?;
    Ok(Applied::quiet(()))
}

/// Forgets tokens last used before `before`; answers their hashes.
pub fn expire_tokens(db: &mut Db, before: Millis) -> Result<Applied<Vec<String>>, StoreError> {
    let hashes = db.texts(
        "DELETE FROM tokens WHERE used_at < $1 RETURNING hash",
        &[&before],
    )?;
    Ok(Applied::quiet(hashes))
}

/// Erases a room's messages, receipts and earlier log entries, and logs the clearing.
pub fn clear_room(
    db: &mut Db,
    room: RoomId,
    actor: &str,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (name, _) = room_name(db, room)?;
    let chat = Chat::Room(room);
    let key = chat.key();
    db.execute(
        "UPDATE uploads SET released = TRUE WHERE name IN (SELECT name FROM upload_refs
            WHERE message_id IN (SELECT id FROM messages WHERE chat = $1))",
        &[&key],
    )?;
    db.execute(
        "DELETE FROM upload_refs WHERE message_id IN (SELECT id FROM messages WHERE chat = $1)",
        &[&key],
    )?;
    super::marks::erase_chat(db, &key)?;
    db.execute("DELETE FROM messages WHERE chat = $1", &[&key])?;
    db.execute("DELETE FROM receipts WHERE chat = $1", &[&key])?;
    db.execute("DELETE FROM events WHERE chat = $1", &[&key])?;
    let event = append(
        db,
        at,
        chat,
        EventData::Clear {
            user: actor.to_owned(),
            room: name,
        },
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Records a stored upload unless its owner would then keep more than `quota` bytes.
pub fn record_upload(
    db: &mut Db,
    upload: &NewUpload,
    quota: u64,
) -> Result<Applied<bool>, StoreError> {
    // The owner's row, locked: two uploads of one person on two nodes are counted one
    // after the other against the quota.
    db.execute(
        "SELECT 1 FROM users WHERE key = $1 FOR UPDATE",
        &[&upload.owner.as_str()],
    )?;
    let used = super::reads::upload_usage(db, &upload.owner)?;
    if used.saturating_add(upload.bytes) > quota {
        return Ok(Applied::quiet(false));
    }
    db.execute(
        "INSERT INTO uploads (name, owner_key, bytes, created_at, filename)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &upload.name,
            &upload.owner.as_str(),
            &big(upload.bytes),
            &upload.at,
            &upload.filename,
        ],
    )?;
    Ok(Applied::quiet(true))
}

/// Forgets the uploads no message refers to that were released or recorded before
/// `before`; answers their names.
pub fn take_unreferenced_uploads(
    db: &mut Db,
    before: Millis,
) -> Result<Applied<Vec<String>>, StoreError> {
    let names = db.texts(
        "DELETE FROM uploads
             WHERE (released OR created_at < $1)
               AND NOT EXISTS (SELECT 1 FROM upload_refs r WHERE r.name = uploads.name)
               AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar = uploads.name)
             RETURNING name",
        &[&before],
    )?;
    Ok(Applied::quiet(names))
}

/// Sets `user`'s notification level of `chat` (`all` is the default: its row goes).
pub fn set_notify(
    db: &mut Db,
    user: &UserKey,
    chat: &Chat,
    level: app::protocol::NotifyLevel,
) -> Result<Applied<()>, StoreError> {
    if level == app::protocol::NotifyLevel::All {
        db.execute(
            "DELETE FROM notify_levels WHERE user_key = $1 AND chat = $2",
            &[&user.as_str(), &chat.key()],
        )?;
    } else {
        db.execute(
            "INSERT INTO notify_levels (user_key, chat, level) VALUES ($1, $2, $3)
             ON CONFLICT (user_key, chat) DO UPDATE SET level = EXCLUDED.level",
            &[&user.as_str(), &chat.key(), &level.as_str()],
        )?;
    }
    Ok(Applied::quiet(()))
}
