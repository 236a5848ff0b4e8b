//! RWCI (seed 004): `{"type": …}` packets; a login with `auth`, public `message`s,
//! `direct_message`s, `typing`, and `join`/`quit`/`user_list`/`broadcast` from the
//! server. Packets without a `type`, or of an unknown one, are dropped.

use serde::{Deserialize, Serialize};

/// A packet from a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientPacket {
    Auth {
        username: String,
        password: String,
    },
    Message {
        message: String,
        /// Ignored when it is the logged-in name; any other name closes the connection.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<String>,
    },
    DirectMessage {
        recipient: String,
        message: String,
    },
    Typing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
}

/// A packet from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerPacket {
    Auth { status: String, success: bool },
    UserList { users: Vec<String> },
    Broadcast { message: String },
    Message { author: String, message: String },
    DirectMessage { author: String, message: String },
    Join { username: String },
    Quit { username: String },
    Typing { username: String },
}

pub const LOGGED_IN: &str = "Logged in ok";
pub const REGISTERED: &str = "Registered and logged in ok";
pub const LOGIN_FAILED: &str = "Login failed";

/// Why a client packet is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drop {
    /// Not JSON, not an object, or no `type`.
    NoType,
    /// A `type` this protocol does not have.
    UnknownType,
    /// A known `type` with missing or wrong fields.
    BadFields,
}

impl ClientPacket {
    /// Parses a packet, telling why it is dropped when it is.
    pub fn parse(text: &str) -> Result<ClientPacket, Drop> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| Drop::NoType)?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or(Drop::NoType)?;
        if !matches!(kind, "auth" | "message" | "direct_message" | "typing") {
            return Err(Drop::UnknownType);
        }
        serde_json::from_value(value).map_err(|_| Drop::BadFields)
    }
}

impl ServerPacket {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
