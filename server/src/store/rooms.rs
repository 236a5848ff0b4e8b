//! The values of room moderation that cross the [`Store`](super::Store) trait: a change
//! to a room's settings (topic, private, announcement-only, one person muted or let
//! speak again) and the settings as they are after it. Kept apart from the message
//! types so that the operations of one feature read together.

use crate::domain::{RoomId, UserKey};
use app::protocol::Millis;

/// A change to a room's settings by one of its managers: `None` keeps a field.
#[derive(Debug, Clone)]
pub struct RoomChange {
    pub room: RoomId,
    /// Who changes it (display form, for the log).
    pub by: String,
    pub topic: Option<String>,
    pub private: Option<bool>,
    pub announce: Option<bool>,
    /// Days its messages are kept (0: for ever).
    pub retention_days: Option<u32>,
    /// A member muted (`true`) or let post again (`false`).
    pub mute: Option<(UserKey, bool)>,
    pub at: Millis,
}

/// A room's settings as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomState {
    pub topic: String,
    pub private: bool,
    pub announce: bool,
    /// Days its messages are kept (0: for ever).
    pub retention_days: u32,
    /// The muted members, by key.
    pub muted: Vec<UserKey>,
}
