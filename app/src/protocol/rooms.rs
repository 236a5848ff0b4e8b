//! The wire types of room moderation and roles (issue 13): a room's settings (topic,
//! private, announcement-only, who is muted), adding and removing people, muting them,
//! and changing a person's role. Kept apart so that the frames of one feature read
//! together; every type is re-exported as `protocol::X`.

use super::Role;
use serde::{Deserialize, Serialize};

/// Longest room topic, in characters.
pub const MAX_TOPIC_CHARS: usize = 250;
/// Longest a room may keep its messages, in days (ten years); 0 keeps them for ever.
pub const MAX_RETENTION_DAYS: u32 = 3650;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `setRoom` (the room's managers: its creator, admins, the owner): changes the fields
/// given, keeps the others. Answered with the room as `listRooms` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRoomRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Private: listed only to its members (and admins), joined only by being added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    /// Announcement room: only its managers post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<bool>,
    /// Messages older than this many days are removed (0: kept for ever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// `addMember` and `kick`: a person (`userId`) put into or taken out of a room by one
/// of its managers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRequest {
    pub chat_id: String,
    pub user_id: String,
}

/// `mute`: a room's manager stops (`muted: true`) or lets again (`false`) a member post
/// in the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MuteRequest {
    pub chat_id: String,
    pub user_id: String,
    pub muted: bool,
}

/// `setRole`: the owner makes an account an admin, a member or limited; an admin moves
/// members and limited accounts between those two. Answered with the same fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRoleRequest {
    pub user_id: String,
    pub role: Role,
}

/// The `room` event (logged, to the room's members): a room's settings after a change
/// by `by`, in full.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomSettings {
    pub chat_id: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub announce: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retention_days: u32,
    /// The members who may not post here, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted: Vec<String>,
    #[serde(default)]
    pub by: String,
}

/// The `role` event (not logged, to the person's own sessions): their role changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleEvent {
    pub user_id: String,
    pub role: Role,
}
