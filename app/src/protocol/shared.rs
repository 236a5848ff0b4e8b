//! The pieces both directions share: presence statuses, attachments, and chat and
//! user names with the rules the contract sets for them. They live apart from the
//! frames so that the server's validation and the client's display use one definition.

use super::{MAX_ROOM_NAME_CHARS, MAX_USERNAME_CHARS};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Presence status of a user, merged over all of their connections.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Invisible or not connected. Ordered first: the least available.
    #[default]
    Offline,
    Busy,
    Away,
    Online,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Busy => "busy",
            Status::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "online" => Some(Status::Online),
            "away" => Some(Status::Away),
            "busy" => Some(Status::Busy),
            "offline" => Some(Status::Offline),
            _ => None,
        }
    }
}

/// How much of a chat notifies a user: every message, only those that mention them
/// (or `@room`), or nothing. Every chat starts at `all`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    #[default]
    All,
    Mentions,
    None,
}

impl NotifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyLevel> {
        match s {
            "all" => Some(NotifyLevel::All),
            "mentions" => Some(NotifyLevel::Mentions),
            "none" => Some(NotifyLevel::None),
            _ => None,
        }
    }
}

/// An attachment as seed 003 shapes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub filename: String,
    pub url: String,
    #[serde(default)]
    pub meta: AttachmentMeta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    #[serde(default)]
    pub mimetype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A conversation as named on the wire: `#room` or the other user's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChatRef {
    Room(String),
    Direct(String),
}

impl ChatRef {
    /// Parses a `chatId`; checks the name rules of the contract.
    pub fn parse(chat_id: &str) -> Result<ChatRef, NameError> {
        match chat_id.strip_prefix('#') {
            Some(room) => {
                validate_room_name(room)?;
                Ok(ChatRef::Room(room.to_owned()))
            }
            None => {
                validate_username(chat_id)?;
                Ok(ChatRef::Direct(chat_id.to_owned()))
            }
        }
    }

    /// The wire form: `#room` or `username`.
    pub fn to_chat_id(&self) -> String {
        match self {
            ChatRef::Room(room) => format!("#{room}"),
            ChatRef::Direct(user) => user.clone(),
        }
    }
}

/// Why a username or room name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(pub &'static str);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NameError {}

/// Usernames: 1 to 32 characters of letters, digits, `_`, `-`, `.`.
pub fn validate_username(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 || len > MAX_USERNAME_CHARS {
        return Err(NameError("a username has 1 to 32 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(NameError(
            "a username has only letters, digits, '_', '-' and '.'",
        ));
    }
    Ok(())
}

/// Room names: 1 to 64 printable characters (no control characters, no zero-width or
/// direction-changing ones, not all blank).
pub fn validate_room_name(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 || len > MAX_ROOM_NAME_CHARS {
        return Err(NameError("a room name has 1 to 64 characters"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || super::is_hidden_char(c))
    {
        return Err(NameError(
            "a room name has only printable characters (no invisible or direction-changing ones)",
        ));
    }
    if name.trim().is_empty() {
        return Err(NameError("a room name cannot be blank"));
    }
    Ok(())
}
