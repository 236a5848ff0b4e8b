//! Workshop (seed 000): `{"event_type": …}` frames on `/ws/workshop`. A client asks to
//! connect with a name, sits in one room at a time, and can create, switch and clear
//! rooms.

use serde::{Deserialize, Serialize};

/// `WsUserStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserStatus {
    pub username: String,
    pub connected_at: String,
}

/// `RoomInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub room_name: String,
    #[serde(default)]
    pub room_creator: String,
    #[serde(default)]
    pub connected_users: Vec<String>,
}

/// One message of `message_history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub username: String,
    pub message: String,
    pub timestamp: String,
}

/// Every frame of the dialect, either way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", rename_all = "snake_case")]
pub enum Frame {
    ConnectionRequest {
        username: String,
    },
    ConnectionResponse {
        username: String,
        user_id: String,
    },
    ConnectionReject {
        response: String,
    },
    System {
        severity: String,
        message: String,
    },
    MessageHistory {
        messages: Vec<HistoryMessage>,
    },
    Message {
        #[serde(default)]
        username: String,
        message: String,
    },
    Typing {
        #[serde(default)]
        username: String,
        is_typing: bool,
    },
    UsersOnline {
        users: Vec<UserStatus>,
    },
    UserJoin {
        username: String,
    },
    UserLeave {
        username: String,
    },
    AllRooms {
        rooms: Vec<RoomInfo>,
    },
    RoomChatClear {
        #[serde(default)]
        username: String,
        room_name: String,
    },
    RoomCreate {
        room: RoomInfo,
    },
    RoomCreateReject {
        response: String,
    },
    RoomSwitchRequest {
        room_name: String,
    },
    RoomSwitchResponse {
        room_name: String,
    },
    RoomSwitchReject {
        response: String,
    },
}

impl Frame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
