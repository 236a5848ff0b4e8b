//! Reactions and pinned messages in PostgreSQL: the `react` and `pin` writes (each logs one
//! event naming its message, in the `message_id` column, so that a delete finds it),
//! the reads that history pages and `getPins` need, and their erasure with the message
//! (a delete) or the room (a clear): deleted means gone, reactions and pins included.

use super::db::{big, unsigned, Db};
use super::reads;
use super::writer::{append, Applied};
use crate::domain::{Chat, EventData, Refusal, SessionId, UserKey};
use crate::store::{PinChange, React, StoreError, StoredMessage, StoredPin};
use app::protocol::{MessageId, Millis, Reaction};

/// The key a reaction is kept under: the user's, or for a guest one no account has
/// (`~key`, as for a guest's messages).
fn reactor_key(name: &str, guest: bool) -> String {
    let key = UserKey::of(name).as_str().to_owned();
    if guest {
        format!("~{key}")
    } else {
        key
    }
}

/// The message `id` of `chat`, which must exist and not be deleted.
fn live_message(db: &mut Db, chat: &Chat, id: MessageId) -> Result<(), StoreError> {
    let message = reads::message(db, chat, id)?
        .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?;
    if message.deleted {
        return Err(Refusal::NotFound("this message was deleted".into()).into());
    }
    Ok(())
}

/// A count as the limit it is compared with.
fn count(v: i64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Adds or takes back one person's emoji; a change logs a `reaction` event.
pub fn react(
    db: &mut Db,
    r: React,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    live_message(db, &r.chat, r.message_id)?;
    let key = reactor_key(&r.user, r.guest);
    let id = big(r.message_id);
    let there: bool = db
        .one(
            "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_key = $3)",
            &[&id, &r.emoji, &key],
        )?
        .try_get(0)?;
    if there == r.add {
        return Ok(Applied::quiet(false));
    }
    if r.add {
        let row = db.one(
            "SELECT COUNT(DISTINCT emoji), COALESCE(BOOL_OR(emoji = $2), FALSE)
             FROM reactions WHERE message_id = $1",
            &[&id, &r.emoji],
        )?;
        let (distinct, known): (i64, bool) = (row.try_get(0)?, row.try_get(1)?);
        if !known && count(distinct) >= r.max_distinct {
            return Err(Refusal::Conflict(format!(
                "a message carries at most {} different emoji",
                r.max_distinct
            ))
            .into());
        }
        db.execute(
            "INSERT INTO reactions (message_id, emoji, user_key, user_name, at) VALUES ($1, $2, $3, $4, $5)",
            &[&id, &r.emoji, &key, &r.user, &r.at],
        )?;
    } else {
        db.execute(
            "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_key = $3",
            &[&id, &r.emoji, &key],
        )?;
    }
    let event = append(
        db,
        r.at,
        r.chat,
        EventData::Reaction {
            message_id: r.message_id,
            emoji: r.emoji,
            user: r.user,
            add: r.add,
        },
    )?;
    Ok(Applied {
        value: true,
        events: vec![event],
        origin,
    })
}

/// Pins or unpins a message; a change logs a `pin` event.
pub fn pin(
    db: &mut Db,
    p: PinChange,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    live_message(db, &p.chat, p.message_id)?;
    let chat = p.chat.key();
    let id = big(p.message_id);
    let there: bool = db
        .one(
            "SELECT EXISTS (SELECT 1 FROM pins WHERE chat = $1 AND message_id = $2)",
            &[&chat, &id],
        )?
        .try_get(0)?;
    if there == p.pinned {
        return Ok(Applied::quiet(false));
    }
    if p.pinned {
        let pins: i64 = db
            .one("SELECT COUNT(*) FROM pins WHERE chat = $1", &[&chat])?
            .try_get(0)?;
        if count(pins) >= p.max_pins {
            return Err(Refusal::Conflict(format!(
                "a chat has at most {} pinned messages: unpin one first",
                p.max_pins
            ))
            .into());
        }
        db.execute(
            "INSERT INTO pins (chat, message_id, pinned_by, at) VALUES ($1, $2, $3, $4)",
            &[&chat, &id, &p.user, &p.at],
        )?;
    } else {
        db.execute(
            "DELETE FROM pins WHERE chat = $1 AND message_id = $2",
            &[&chat, &id],
        )?;
    }
    let event = append(
        db,
        p.at,
        p.chat,
        EventData::Pin {
            message_id: p.message_id,
            user: p.user,
            pinned: p.pinned,
        },
    )?;
    Ok(Applied {
        value: true,
        events: vec![event],
        origin,
    })
}

/// Each emoji on message `id` and who put it there, emoji in the order they first
/// came, people in the order they reacted.
pub fn reactions_of(db: &mut Db, id: MessageId) -> Result<Vec<Reaction>, StoreError> {
    let rows = db.query(
        "SELECT emoji, user_name FROM reactions r WHERE message_id = $1
         ORDER BY (SELECT MIN(at) FROM reactions f WHERE f.message_id = r.message_id AND f.emoji = r.emoji),
                  emoji, at, user_key",
        &[&big(id)],
    )?;
    let mut out: Vec<Reaction> = Vec::new();
    for row in rows {
        let emoji: String = row.try_get(0)?;
        let user: String = row.try_get(1)?;
        match out.last_mut() {
            Some(last) if last.emoji == emoji => last.users.push(user),
            _ => out.push(Reaction {
                emoji,
                users: vec![user],
            }),
        }
    }
    Ok(out)
}

/// The pinned messages of `chat`, newest pin first, with their reactions.
pub fn pins(db: &mut Db, chat: &Chat) -> Result<Vec<StoredPin>, StoreError> {
    let rows = db.query(
        "SELECT message_id, pinned_by, at FROM pins WHERE chat = $1 ORDER BY at DESC, message_id DESC",
        &[&chat.key()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = unsigned(&row, 0)?;
        let pinned_by: String = row.try_get(1)?;
        let pinned_at: Millis = row.try_get(2)?;
        let message = reads::message(db, chat, id)?
            .ok_or_else(|| StoreError::Corrupt(format!("pinned message {id} is missing")))?;
        out.push(StoredPin {
            message: StoredMessage {
                message,
                delivered: None,
                read: None,
                reactions: reactions_of(db, id)?,
            },
            pinned_by,
            pinned_at,
        });
    }
    Ok(out)
}

/// A deleted message's reactions and pin go, with their events in the log.
pub(super) fn erase_message(db: &mut Db, id: MessageId) -> Result<(), StoreError> {
    let id = big(id);
    db.execute(
        "DELETE FROM events WHERE message_id = $1 AND data::jsonb ->> 'kind' IN ('reaction', 'pin')",
        &[&id],
    )?;
    db.execute("DELETE FROM reactions WHERE message_id = $1", &[&id])?;
    db.execute("DELETE FROM pins WHERE message_id = $1", &[&id])?;
    Ok(())
}

/// A cleared room's reactions and pins go (its events go with the room's log).
pub(super) fn erase_chat(db: &mut Db, chat_key: &str) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE chat = $1)",
        &[&chat_key],
    )?;
    db.execute("DELETE FROM pins WHERE chat = $1", &[&chat_key])?;
    Ok(())
}
