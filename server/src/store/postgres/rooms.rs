//! Room moderation in PostgreSQL: a room's settings (topic, private, announcement-only and
//! the muted members, migration 12), changed in the writer's transaction with a `room`
//! event that carries them all, so that every member's view (and a replay) ends in the
//! same state; and an account's role.

use super::db::Db;
use super::writer::append;
use super::Applied;
use crate::domain::{Chat, EventData, Refusal, RoomId, SessionId, UserKey};
use crate::store::{RoomChange, RoomState, StoreError};
use app::protocol::{MessageId, Millis, Role};

/// A room's settings as stored.
// PORT: state
pub fn state(db: &mut Db, room: RoomId) -> Result<RoomState, StoreError> {
    let _ = (room);
    Err(super::not_ported("state"))
}

/// Applies `change` and logs the settings that result.
// PORT: set_room
pub fn set_room(
    db: &mut Db,
    change: RoomChange,
    origin: Option<SessionId>,
) -> Result<Applied<RoomState>, StoreError> {
    let _ = (change, origin);
    Err(super::not_ported("set_room"))
}

/// Erases (as a deletion does) up to `limit` messages of `room` sent before `before`,
/// oldest first; answers how many.
// PORT: expire
pub fn expire(
    db: &mut Db,
    room: RoomId,
    before: Millis,
    limit: u32,
    at: Millis,
) -> Result<Applied<u32>, StoreError> {
    let _ = (room, before, limit, at);
    Err(super::not_ported("expire"))
}

// PORT: set_role
pub fn set_role(db: &mut Db, user: &UserKey, role: Role) -> Result<Applied<bool>, StoreError> {
    let _ = (user, role);
    Err(super::not_ported("set_role"))
}
