//! Room moderation in PostgreSQL: a room's settings (topic, private, announcement-only and
//! the muted members), changed in the writer's transaction with a `room` event that
//! carries them all, so that every member's view (and a replay) ends in the same
//! state; the retention sweep that erases a room's old messages; and an account's role.

use super::db::Db;
use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, Refusal, RoomId, SessionId, UserKey};
use crate::store::{RoomChange, RoomState, StoreError};
use app::protocol::{Millis, Role};

/// A room's settings as stored.
pub fn state(db: &mut Db, room: RoomId) -> Result<RoomState, StoreError> {
    let row = db
        .opt(
            "SELECT topic, private, announce, retention_days FROM rooms WHERE id = $1",
            &[&room],
        )?
        .ok_or_else(|| Refusal::NotFound("no such room".into()))?;
    let retention_days: i64 = row.try_get(3)?;
    let retention_days = u32::try_from(retention_days).map_err(|_| {
        StoreError::Corrupt(format!("room {room} keeps messages {retention_days} days"))
    })?;
    let muted = db
        .query(
            "SELECT user_key FROM room_mutes WHERE room = $1 ORDER BY user_key",
            &[&room],
        )?
        .iter()
        .map(|r| r.try_get::<_, String>(0).map(|k| UserKey::of(&k)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoomState {
        topic: row.try_get(0)?,
        private: row.try_get(1)?,
        announce: row.try_get(2)?,
        retention_days,
        muted,
    })
}

/// Applies `change` and logs the settings that result.
pub fn set_room(
    db: &mut Db,
    change: RoomChange,
    origin: Option<SessionId>,
) -> Result<Applied<RoomState>, StoreError> {
    let room = change.room;
    let before = state(db, room)?;
    let retention_days = i64::from(change.retention_days.unwrap_or(before.retention_days));
    db.execute(
        "UPDATE rooms SET topic = $2, private = $3, announce = $4, retention_days = $5
         WHERE id = $1",
        &[
            &room,
            &change.topic.as_deref().unwrap_or(&before.topic),
            &change.private.unwrap_or(before.private),
            &change.announce.unwrap_or(before.announce),
            &retention_days,
        ],
    )?;
    if let Some((user, muted)) = &change.mute {
        if *muted {
            db.execute(
                "INSERT INTO room_mutes (room, user_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&room, &user.as_str()],
            )?;
        } else {
            db.execute(
                "DELETE FROM room_mutes WHERE room = $1 AND user_key = $2",
                &[&room, &user.as_str()],
            )?;
        }
    }
    let after = state(db, room)?;
    let muted = muted_names(db, room)?;
    let event = append(
        db,
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
fn muted_names(db: &mut Db, room: RoomId) -> Result<Vec<String>, StoreError> {
    let names = db.texts(
        "SELECT u.name FROM room_mutes m JOIN users u ON u.key = m.user_key
             WHERE m.room = $1 ORDER BY u.key",
        &[&room],
    )?;
    Ok(names)
}

/// Erases (as a deletion does) up to `limit` messages of `room` sent before `before`,
/// oldest first; answers how many.
pub fn expire(
    db: &mut Db,
    room: RoomId,
    before: Millis,
    limit: u32,
    at: Millis,
) -> Result<Applied<u32>, StoreError> {
    let chat = Chat::Room(room);
    let ids = db
        .query(
            "SELECT id FROM messages WHERE chat = $1 AND NOT deleted AND created_at < $2
             ORDER BY id LIMIT $3",
            &[&chat.key(), &before, &i64::from(limit)],
        )?
        .iter()
        .map(|r| super::db::unsigned(r, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let mut events = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(message) = super::reads::message(db, &chat, id)? else {
            continue;
        };
        events.push(super::writer::erase(db, chat.clone(), message, None, at)?);
    }
    Ok(Applied {
        value: u32::try_from(events.len()).unwrap_or(u32::MAX),
        events,
        origin: None,
    })
}

/// Gives an account `role`; answers whether there is such an account.
pub fn set_role(db: &mut Db, user: &UserKey, role: Role) -> Result<Applied<bool>, StoreError> {
    let found = db.execute(
        "UPDATE users SET role = $2 WHERE key = $1",
        &[&user.as_str(), &role.as_str()],
    )?;
    Ok(Applied::quiet(found > 0))
}
