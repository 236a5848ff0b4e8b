//! The write operations other than the message log's (those, on the path of every chat
//! message, are in `writer`): accounts, tokens, rooms and memberships. Each runs inside
//! the writer's transaction (under its own savepoint), checks what must hold, changes
//! the rows, and appends its log events.

use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, LogEvent, Refusal, RoomId, SessionId, UserKey, GENERAL};
use crate::store::{Account, Member, NewRoom, NewUpload, StoreError};
use app::protocol::{EventId, Millis, Role};
use rusqlite::{params, Connection, OptionalExtension};

/// Creates the `General` room if it is not there.
pub fn ensure_general(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO rooms (name, name_key, creator, created_at) VALUES (?1, ?2, NULL, ?3)",
        params![GENERAL, GENERAL.to_lowercase(), crate::domain::now_ms()],
    )?;
    Ok(())
}

pub fn general_id(conn: &Connection) -> Result<RoomId, StoreError> {
    Ok(conn.query_row(
        "SELECT id FROM rooms WHERE name_key = ?1",
        [GENERAL.to_lowercase()],
        |r| r.get(0),
    )?)
}

pub fn load_account(conn: &Connection, key: &UserKey) -> Result<Option<Account>, StoreError> {
    conn.query_row(
        "SELECT name, password_hash, acked_event, role, banned_at IS NOT NULL
         FROM users WHERE key = ?1",
        [key.as_str()],
        |r| {
            Ok((
                Account {
                    name: r.get(0)?,
                    password_hash: r.get(1)?,
                    acked_event: r.get::<_, i64>(2)? as EventId,
                    role: Role::Member,
                    banned: r.get(4)?,
                },
                r.get::<_, String>(3)?,
            ))
        },
    )
    .optional()?
    .map(|(mut account, role)| {
        account.role = Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
        Ok::<_, StoreError>(account)
    })
    .transpose()
}

fn room_name(conn: &Connection, room: RoomId) -> Result<(String, Option<String>), StoreError> {
    conn.query_row(
        "SELECT name, creator FROM rooms WHERE id = ?1",
        [room],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| Refusal::NotFound("no such room".into()).into())
}

fn is_member(conn: &Connection, key: &UserKey, chat: &Chat) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM chat_members WHERE user_key = ?1 AND chat = ?2",
            params![key.as_str(), chat.key()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Adds `user` to `room`; `None` when already a member.
pub(super) fn join(
    conn: &Connection,
    room: RoomId,
    key: &UserKey,
    name: &str,
    by: Option<String>,
    at: Millis,
) -> Result<Option<LogEvent>, StoreError> {
    let chat = Chat::Room(room);
    if is_member(conn, key, &chat)? {
        return Ok(None);
    }
    let (room_name, _) = room_name(conn, room)?;
    let event = append(
        conn,
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
    conn.execute(
        "INSERT INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, ?3)",
        params![key.as_str(), chat.key(), event.id as i64],
    )?;
    Ok(Some(event))
}

pub fn join_room(
    conn: &Connection,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let event = join(conn, room, &member.key, &member.name, by, at)?;
    Ok(Applied {
        value: event.is_some(),
        events: event.into_iter().collect(),
        origin,
    })
}

pub fn leave_room(
    conn: &Connection,
    room: RoomId,
    member: &Member,
    by: Option<String>,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (key, name) = (&member.key, member.name.as_str());
    let chat = Chat::Room(room);
    if !is_member(conn, key, &chat)? {
        let whom = if by.is_some() { "they are" } else { "you are" };
        return Err(Refusal::NotFound(format!("{whom} not in this room")).into());
    }
    let (room_name, _) = room_name(conn, room)?;
    let event = append(
        conn,
        at,
        chat.clone(),
        EventData::Leave {
            user: name.to_owned(),
            room: room_name,
            by,
        },
    )?;
    conn.execute(
        "DELETE FROM chat_members WHERE user_key = ?1 AND chat = ?2",
        params![key.as_str(), chat.key()],
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

pub fn create_room(
    conn: &Connection,
    room: NewRoom,
    origin: Option<SessionId>,
) -> Result<Applied<RoomId>, StoreError> {
    let (name, at) = (room.name.as_str(), room.at);
    let (creator_key, creator) = (&room.creator.key, room.creator.name.as_str());
    let (creator_guest, private) = (room.creator_guest, room.private);
    let taken = conn
        .query_row(
            "SELECT 1 FROM rooms WHERE name_key = ?1",
            [name.to_lowercase()],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Err(Refusal::Conflict("a room with this name already exists".into()).into());
    }
    conn.execute(
        "INSERT INTO rooms (name, name_key, creator, created_at, creator_guest, private)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            name,
            name.to_lowercase(),
            creator,
            at,
            creator_guest,
            private
        ],
    )?;
    let room = conn.last_insert_rowid();
    let chat = Chat::Room(room);
    let event = append(
        conn,
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
        conn.execute(
            "INSERT INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, ?3)",
            params![creator_key.as_str(), chat.key(), event.id as i64],
        )?;
    }
    Ok(Applied {
        value: room,
        events: vec![event],
        origin,
    })
}

/// Remembers the last event a user acknowledged (never moves back).
pub fn set_acked(
    conn: &Connection,
    key: &UserKey,
    event: EventId,
) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "UPDATE users SET acked_event = MAX(acked_event, ?1) WHERE key = ?2",
        params![event as i64, key.as_str()],
    )?;
    Ok(Applied::quiet(()))
}

/// Keeps a new session token (its hash) for `key`.
pub fn issue_token(
    conn: &Connection,
    key: &UserKey,
    hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO tokens (hash, user_key, created_at, used_at) VALUES (?1, ?2, ?3, ?3)",
        params![hash, key.as_str(), at],
    )?;
    Ok(Applied::quiet(()))
}

/// Records that a session token was used now (it expires when unused for long).
pub fn touch_token(conn: &Connection, hash: &str, at: Millis) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "UPDATE tokens SET used_at = ?1 WHERE hash = ?2",
        params![at, hash],
    )?;
    Ok(Applied::quiet(()))
}

/// Forgets a session token (logout).
pub fn revoke_token(conn: &Connection, hash: &str) -> Result<Applied<()>, StoreError> {
    conn.execute("DELETE FROM tokens WHERE hash = ?1", [hash])?;
    Ok(Applied::quiet(()))
}

/// Forgets every session token of `key` (log out everywhere).
pub fn revoke_user_tokens(conn: &Connection, key: &UserKey) -> Result<Applied<()>, StoreError> {
    conn.execute("DELETE FROM tokens WHERE user_key = ?1", [key.as_str()])?;
    super::push::forget(conn, key)?;
    Ok(Applied::quiet(()))
}

/// A new password for `key`: its hash replaces the old one, every session token of
/// theirs is forgotten, and `token_hash` is kept as the only one.
pub fn change_password(
    conn: &Connection,
    key: &UserKey,
    password_hash: &str,
    token_hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    let changed = conn.execute(
        "UPDATE users SET password_hash = ?1 WHERE key = ?2 AND password_hash IS NOT NULL",
        params![password_hash, key.as_str()],
    )?;
    if changed != 1 {
        return Err(Refusal::Forbidden("this account has no password".into()).into());
    }
    revoke_user_tokens(conn, key)?;
    issue_token(conn, key, token_hash, at)?;
    Ok(Applied::quiet(()))
}

/// Forgets tokens last used before `before`; answers their hashes.
pub fn expire_tokens(
    conn: &Connection,
    before: Millis,
) -> Result<Applied<Vec<String>>, StoreError> {
    let mut stmt = conn.prepare("DELETE FROM tokens WHERE used_at < ?1 RETURNING hash")?;
    let hashes = stmt
        .query_map([before], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Applied::quiet(hashes))
}

/// Erases a room's messages, receipts and earlier log entries, and logs the clearing.
pub fn clear_room(
    conn: &Connection,
    room: RoomId,
    actor: &str,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (name, _) = room_name(conn, room)?;
    let chat = Chat::Room(room);
    let key = chat.key();
    conn.execute(
        "UPDATE uploads SET released = 1 WHERE name IN (SELECT name FROM upload_refs
            WHERE message_id IN (SELECT id FROM messages WHERE chat = ?1))",
        [&key],
    )?;
    conn.execute(
        "DELETE FROM upload_refs WHERE message_id IN (SELECT id FROM messages WHERE chat = ?1)",
        [&key],
    )?;
    super::marks::erase_chat(conn, &key)?;
    conn.execute("DELETE FROM messages WHERE chat = ?1", [&key])?;
    conn.execute("DELETE FROM receipts WHERE chat = ?1", [&key])?;
    conn.execute("DELETE FROM events WHERE chat = ?1", [&key])?;
    let event = append(
        conn,
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
    conn: &Connection,
    upload: &NewUpload,
    quota: u64,
) -> Result<Applied<bool>, StoreError> {
    let used = super::reads::upload_usage(conn, &upload.owner)?;
    if used.saturating_add(upload.bytes) > quota {
        return Ok(Applied::quiet(false));
    }
    conn.execute(
        "INSERT INTO uploads (name, owner_key, bytes, created_at, filename)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            upload.name,
            upload.owner.as_str(),
            i64::try_from(upload.bytes).unwrap_or(i64::MAX),
            upload.at,
            upload.filename
        ],
    )?;
    Ok(Applied::quiet(true))
}

/// Forgets the uploads no message refers to that were released or recorded before
/// `before`; answers their names.
pub fn take_unreferenced_uploads(
    conn: &Connection,
    before: Millis,
) -> Result<Applied<Vec<String>>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM uploads
         WHERE (released = 1 OR created_at < ?1)
           AND NOT EXISTS (SELECT 1 FROM upload_refs r WHERE r.name = uploads.name)
           AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar = uploads.name)
         RETURNING name",
    )?;
    let names = stmt
        .query_map([before], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Applied::quiet(names))
}

/// Sets `user`'s notification level of `chat` (`all` is the default: its row goes).
pub fn set_notify(
    conn: &Connection,
    user: &UserKey,
    chat: &Chat,
    level: app::protocol::NotifyLevel,
) -> Result<Applied<()>, StoreError> {
    if level == app::protocol::NotifyLevel::All {
        conn.execute(
            "DELETE FROM notify_levels WHERE user_key = ?1 AND chat = ?2",
            params![user.as_str(), chat.key()],
        )?;
    } else {
        conn.execute(
            "INSERT INTO notify_levels (user_key, chat, level) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_key, chat) DO UPDATE SET level = excluded.level",
            params![user.as_str(), chat.key(), level.as_str()],
        )?;
    }
    Ok(Applied::quiet(()))
}
