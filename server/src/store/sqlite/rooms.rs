//! Room moderation in SQLite: a room's settings (topic, private, announcement-only and
//! the muted members, migration 12), changed in the writer's transaction with a `room`
//! event that carries them all, so that every member's view (and a replay) ends in the
//! same state; and an account's role.

use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, Refusal, RoomId, SessionId, UserKey};
use crate::store::{RoomChange, RoomState, StoreError};
use app::protocol::{MessageId, Millis, Role};
use rusqlite::{params, Connection, OptionalExtension};

/// A room's settings as stored.
pub fn state(conn: &Connection, room: RoomId) -> Result<RoomState, StoreError> {
    let (topic, private, announce, retention_days) = conn
        .prepare_cached("SELECT topic, private, announce, retention_days FROM rooms WHERE id = ?1")?
        .query_row([room], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?
        .ok_or_else(|| Refusal::NotFound("no such room".into()))?;
    let mut stmt =
        conn.prepare_cached("SELECT user_key FROM room_mutes WHERE room = ?1 ORDER BY user_key")?;
    let muted = stmt
        .query_map([room], |r| r.get::<_, String>(0))?
        .map(|k| k.map(|k| UserKey::of(&k)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoomState {
        topic,
        private,
        announce,
        retention_days,
        muted,
    })
}

/// Applies `change` and logs the settings that result.
pub fn set_room(
    conn: &Connection,
    change: RoomChange,
    origin: Option<SessionId>,
) -> Result<Applied<RoomState>, StoreError> {
    let room = change.room;
    let before = state(conn, room)?;
    conn.execute(
        "UPDATE rooms SET topic = ?2, private = ?3, announce = ?4, retention_days = ?5
         WHERE id = ?1",
        params![
            room,
            change.topic.as_deref().unwrap_or(&before.topic),
            change.private.unwrap_or(before.private),
            change.announce.unwrap_or(before.announce),
            change.retention_days.unwrap_or(before.retention_days),
        ],
    )?;
    if let Some((user, muted)) = &change.mute {
        if *muted {
            conn.execute(
                "INSERT OR IGNORE INTO room_mutes (room, user_key) VALUES (?1, ?2)",
                params![room, user.as_str()],
            )?;
        } else {
            conn.execute(
                "DELETE FROM room_mutes WHERE room = ?1 AND user_key = ?2",
                params![room, user.as_str()],
            )?;
        }
    }
    let after = state(conn, room)?;
    let muted = muted_names(conn, room)?;
    let event = append(
        conn,
        change.at,
        Chat::Room(room),
        EventData::Room {
            by: change.by,
            topic: after.topic.clone(),
            private: after.private,
            announce: after.announce,
            retention_days: after.retention_days,
            muted,
        },
    )?;
    Ok(Applied {
        value: after,
        events: vec![event],
        origin,
    })
}

/// The muted members of a room by name (their account's display form).
fn muted_names(conn: &Connection, room: RoomId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.name FROM room_mutes m JOIN users u ON u.key = m.user_key
         WHERE m.room = ?1 ORDER BY u.key",
    )?;
    let names = stmt
        .query_map([room], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// Erases (as a deletion does) up to `limit` messages of `room` sent before `before`,
/// oldest first; answers how many.
pub fn expire(
    conn: &Connection,
    room: RoomId,
    before: Millis,
    limit: u32,
    at: Millis,
) -> Result<Applied<u32>, StoreError> {
    let chat = Chat::Room(room);
    let ids = conn
        .prepare_cached(
            "SELECT id FROM messages WHERE chat = ?1 AND deleted = 0 AND created_at < ?2
             ORDER BY id LIMIT ?3",
        )?
        .query_map(params![chat.key(), before, limit], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut events = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(message) = super::reads::message(conn, &chat, id as MessageId)? else {
            continue;
        };
        events.push(super::writer::erase(conn, chat.clone(), message, None, at)?);
    }
    Ok(Applied {
        value: events.len() as u32,
        events,
        origin: None,
    })
}

pub fn set_role(
    conn: &Connection,
    user: &UserKey,
    role: Role,
) -> Result<Applied<bool>, StoreError> {
    let found = conn.execute(
        "UPDATE users SET role = ?2 WHERE key = ?1",
        params![user.as_str(), role.as_str()],
    )?;
    Ok(Applied::quiet(found > 0))
}
