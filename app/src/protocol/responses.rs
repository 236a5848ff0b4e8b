//! The typed payloads of successful responses, one per request that answers with data.
//! A client reads them with [`super::Response::payload_as`]; the server builds them
//! with [`super::Response::ok`].

use super::{
    Attachment, EventId, MessageId, Millis, NotifyLevel, Reaction, ReplyQuote, UserPresence,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthOk {
    pub user_id: String,
    pub registered: bool,
    /// A session token for later logins without the password (password logins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The account's role (absent from servers before roles existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<super::Role>,
}

/// The answer to `changePassword`: the connection's new session token (every other
/// token of the user is revoked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePasswordOk {
    pub token: String,
}

/// A member's receipt watermarks in one chat (`getReceipts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptMarks {
    pub user_id: String,
    /// Every message up to this id was delivered to the user.
    pub delivered: MessageId,
    /// Every message up to this id was read by the user.
    pub read: MessageId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptList {
    pub receipts: Vec<ReceiptMarks>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeOk {
    pub last_event_id: EventId,
    pub missed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOk {
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
}

/// Payload of the response to `read` (seed 003), with `payloadType: "read"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadOk {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    pub missed: u64,
}

/// One stored message, as `getMessages` / `getMessage` return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub sender: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Millis>,
    /// The message this one answers, quoted as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyQuote>,
    /// Each emoji on the message and who put it there (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
}

/// `getChat`, and each entry of `getChats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatInfo {
    pub chat_id: String,
    /// `"dialog"` (direct) or `"group"` (room).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub last_id: MessageId,
    pub unread_count: u64,
    /// The user's notification level here (`all` when never set).
    #[serde(default)]
    pub notify: NotifyLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatList {
    pub chats: Vec<ChatInfo>,
}

/// One room in `listRooms`, and the answer to `createRoom` / `joinRoom`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInfo {
    pub chat_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    pub members: u64,
    pub joined: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub announce: bool,
    /// Messages older than this many days are removed (absent: kept for ever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// The asker manages this room (its creator, an admin or the owner).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manage: bool,
    /// The members who may not post here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<RoomInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserPresence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<UserPresence>,
}

/// One message `search` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The chat as the searcher names it (`#room`, or the other person's name).
    pub chat_id: String,
    pub message_id: MessageId,
    pub sender: String,
    pub created_at: Millis,
    pub message: String,
    /// Where the query's words occur in `message`: `[start, end)` offsets in
    /// characters (Unicode scalar values, not bytes or UTF-16 units), sorted.
    #[serde(default)]
    pub highlights: Vec<[u32; 2]>,
}

/// The answer to `search`: hits newest first, and whether older ones exist (ask again
/// with `beforeId` set to the last hit's `messageId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub more: bool,
}
