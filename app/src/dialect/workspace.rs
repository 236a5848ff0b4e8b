//! Workspace (seed 002): `{"type": "a:b", …}` frames on `/ws/workspace?username=NAME`.
//! The client sends `message:send`, `presence:update` and `typing:indicator`; the server
//! sends `connected`, `message:new`, `presence:update` and `typing:indicator` (and
//! `error` when it refuses something, which the seed leaves open).

use crate::protocol::Status;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    #[serde(rename = "message:send")]
    MessageSend { text: String },
    /// The status is kept as sent so that an invalid one can be refused by name.
    #[serde(rename = "presence:update")]
    PresenceUpdate { status: String },
    #[serde(rename = "typing:indicator")]
    TypingIndicator {
        #[serde(rename = "isTyping")]
        is_typing: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "connected")]
    Connected {
        #[serde(rename = "userId")]
        user_id: String,
        username: String,
        timestamp: String,
        #[serde(rename = "connectedUsers")]
        connected_users: u64,
    },
    #[serde(rename = "message:new")]
    MessageNew { data: MessageData },
    #[serde(rename = "presence:update")]
    PresenceUpdate { data: PresenceData },
    #[serde(rename = "typing:indicator")]
    TypingIndicator { data: TypingData },
    #[serde(rename = "error")]
    Error { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageData {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceData {
    pub user_id: String,
    pub username: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingData {
    pub user_id: String,
    pub username: String,
    pub is_typing: bool,
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
