//! Reactions and pinned messages in PostgreSQL: the `react` and `pin` writes (each logs one
//! event naming its message, in the `message_id` column, so that a delete finds it),
//! the reads that history pages and `getPins` need, and their erasure with the message
//! (a delete) or the room (a clear): deleted means gone, reactions and pins included.

use super::db::Db;
use super::reads;
use super::writer::{append, Applied};
use crate::domain::{Chat, EventData, Refusal, SessionId, UserKey};
use crate::store::{PinChange, React, StoreError, StoredMessage, StoredPin};
use app::protocol::{MessageId, Millis, Reaction};

/// Adds or takes back one person's emoji; a change logs a `reaction` event.
// PORT: react
pub fn react(
    db: &mut Db,
    r: React,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let _ = (r, origin);
    Err(super::not_ported("react"))
}

/// Pins or unpins a message; a change logs a `pin` event.
// PORT: pin
pub fn pin(
    db: &mut Db,
    p: PinChange,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let _ = (p, origin);
    Err(super::not_ported("pin"))
}

/// Each emoji on message `id` and who put it there, emoji in the order they first
/// came, people in the order they reacted.
// PORT: reactions_of
pub fn reactions_of(db: &mut Db, id: MessageId) -> Result<Vec<Reaction>, StoreError> {
    let _ = (id);
    Err(super::not_ported("reactions_of"))
}

/// The pinned messages of `chat`, newest pin first, with their reactions.
// PORT: pins
pub fn pins(db: &mut Db, chat: &Chat) -> Result<Vec<StoredPin>, StoreError> {
    let _ = (chat);
    Err(super::not_ported("pins"))
}

/// A deleted message's reactions and pin go, with their events in the log.
// PORT: erase_message
pub(super) fn erase_message(db: &mut Db, id: MessageId) -> Result<(), StoreError> {
    let _ = (id);
    Err(super::not_ported("erase_message"))
}

/// A cleared room's reactions and pins go (its events go with the room's log).
// PORT: erase_chat
pub(super) fn erase_chat(db: &mut Db, chat_key: &str) -> Result<(), StoreError> {
    let _ = (chat_key);
    Err(super::not_ported("erase_chat"))
}
