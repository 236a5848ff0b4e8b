//! The wire types of reactions and pinned messages (issue 12): the `react`, `pin` and
//! `getPins` requests, the `reaction` and `pin` events, and what history items and the
//! `getPins` answer carry. Kept apart so that the frames of one feature read together;
//! every type is re-exported as `protocol::X`.

use super::{MessageId, MessageItem, Millis};
use serde::{Deserialize, Serialize};

/// Longest `emoji` of a `react` request, in bytes: the longest emoji of Unicode (a
/// family or a flag of a region with tag characters) has about 35.
pub const MAX_EMOJI_BYTES: usize = 64;
/// Default: most distinct emoji on one message.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;
/// Default: most pinned messages in one chat.
pub const MAX_PINS_PER_CHAT: usize = 50;

/// `react`: adds (`add: true`) or takes back one person's emoji on a message.
/// Idempotent: adding what is there, or taking back what is not, changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    pub emoji: String,
    pub add: bool,
}

/// `pin`: pins (`pinned: true`) or unpins a message of a chat. Idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    pub pinned: bool,
}

/// The `reaction` event: `userId` added or took back `emoji` on a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    pub emoji: String,
    pub user_id: String,
    pub add: bool,
}

/// The `pin` event: `userId` pinned or unpinned a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    pub user_id: String,
    pub pinned: bool,
}

/// One emoji on a message and who put it there, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<String>,
}

/// One pinned message in the answer to `getPins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedItem {
    pub pinned_by: String,
    pub pinned_at: Millis,
    pub message: MessageItem,
}

/// The answer to `getPins`: newest pin first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinList {
    pub pins: Vec<PinnedItem>,
}
