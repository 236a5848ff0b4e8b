//! The values of reactions and pinned messages that cross the [`Store`](super::Store):
//! a reaction added or taken back, a pin set or lifted, and a pinned message as read.
//! The store checks what needs the database (the message exists and is not deleted,
//! the number of distinct emoji, the number of pins); the hub checks the rest.

use super::StoredMessage;
use crate::domain::Chat;
use app::protocol::{MessageId, Millis};

/// One person's emoji on a message, added (`add`) or taken back.
#[derive(Debug, Clone)]
pub struct React {
    pub chat: Chat,
    pub message_id: MessageId,
    pub emoji: String,
    /// Who reacts: their display name, and whether they are a guest (whose reactions
    /// are kept under a key no account has, as their messages are).
    pub user: String,
    pub guest: bool,
    pub add: bool,
    /// Most distinct emoji the message may carry: a new one past it is refused.
    pub max_distinct: usize,
    pub at: Millis,
}

/// A message of a chat pinned (`pinned`) or unpinned by `user`.
#[derive(Debug, Clone)]
pub struct PinChange {
    pub chat: Chat,
    pub message_id: MessageId,
    pub user: String,
    pub pinned: bool,
    /// Most pinned messages the chat may have: a pin past it is refused.
    pub max_pins: usize,
    pub at: Millis,
}

/// A pinned message, who pinned it and when.
#[derive(Debug, Clone)]
pub struct StoredPin {
    pub message: StoredMessage,
    pub pinned_by: String,
    pub pinned_at: Millis,
}
