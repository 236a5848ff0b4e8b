//! Reactions and pinned messages in SQLite: the `react` and `pin` writes (each logs one
//! event naming its message, in the `message_id` column, so that a delete finds it),
//! the reads that history pages and `getPins` need, and their erasure with the message
//! (a delete) or the room (a clear): deleted means gone, reactions and pins included.

use super::reads;
use super::writer::{append, Applied};
use crate::domain::{Chat, EventData, Refusal, SessionId, UserKey};
use crate::store::{PinChange, React, StoreError, StoredMessage, StoredPin};
use app::protocol::{MessageId, Millis, Reaction};
use rusqlite::{params, Connection};

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
fn live_message(conn: &Connection, chat: &Chat, id: MessageId) -> Result<(), StoreError> {
    let message = reads::message(conn, chat, id)?
        .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?;
    if message.deleted {
        return Err(Refusal::NotFound("this message was deleted".into()).into());
    }
    Ok(())
}

/// Adds or takes back one person's emoji; a change logs a `reaction` event.
pub fn react(
    conn: &Connection,
    r: React,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    live_message(conn, &r.chat, r.message_id)?;
    let key = reactor_key(&r.user, r.guest);
    let id = r.message_id as i64;
    let there: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_key = ?3)",
        )?
        .query_row(params![id, r.emoji, key], |row| row.get(0))?;
    if there == r.add {
        return Ok(Applied::quiet(false));
    }
    if r.add {
        let (distinct, known): (i64, bool) = conn
            .prepare_cached(
                "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji = ?2), 0) FROM reactions WHERE message_id = ?1",
            )?
            .query_row(params![id, r.emoji], |row| Ok((row.get(0)?, row.get(1)?)))?;
        if !known && distinct as usize >= r.max_distinct {
            return Err(Refusal::Conflict(format!(
                "a message carries at most {} different emoji",
                r.max_distinct
            ))
            .into());
        }
        conn.prepare_cached(
            "INSERT INTO reactions (message_id, emoji, user_key, user_name, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id, r.emoji, key, r.user, r.at])?;
    } else {
        conn.prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_key = ?3",
        )?
        .execute(params![id, r.emoji, key])?;
    }
    let event = append(
        conn,
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
    conn: &Connection,
    p: PinChange,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    live_message(conn, &p.chat, p.message_id)?;
    let chat = p.chat.key();
    let id = p.message_id as i64;
    let there: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pins WHERE chat = ?1 AND message_id = ?2)")?
        .query_row(params![chat, id], |row| row.get(0))?;
    if there == p.pinned {
        return Ok(Applied::quiet(false));
    }
    if p.pinned {
        let pins: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM pins WHERE chat = ?1")?
            .query_row([&chat], |row| row.get(0))?;
        if pins as usize >= p.max_pins {
            return Err(Refusal::Conflict(format!(
                "a chat has at most {} pinned messages: unpin one first",
                p.max_pins
            ))
            .into());
        }
        conn.prepare_cached(
            "INSERT INTO pins (chat, message_id, pinned_by, at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![chat, id, p.user, p.at])?;
    } else {
        conn.prepare_cached("DELETE FROM pins WHERE chat = ?1 AND message_id = ?2")?
            .execute(params![chat, id])?;
    }
    let event = append(
        conn,
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
pub fn reactions_of(conn: &Connection, id: MessageId) -> Result<Vec<Reaction>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT emoji, user_name FROM reactions r WHERE message_id = ?1
         ORDER BY (SELECT MIN(at) FROM reactions f WHERE f.message_id = r.message_id AND f.emoji = r.emoji),
                  emoji, at, user_key",
    )?;
    let rows = stmt.query_map([id as i64], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut out: Vec<Reaction> = Vec::new();
    for row in rows {
        let (emoji, user) = row?;
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
pub fn pins(conn: &Connection, chat: &Chat) -> Result<Vec<StoredPin>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, pinned_by, at FROM pins WHERE chat = ?1 ORDER BY at DESC, message_id DESC",
    )?;
    let rows = stmt.query_map([chat.key()], |row| {
        Ok((
            row.get::<_, i64>(0)? as MessageId,
            row.get::<_, String>(1)?,
            row.get::<_, Millis>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, pinned_by, pinned_at) = row?;
        let message = reads::message(conn, chat, id)?
            .ok_or_else(|| StoreError::Corrupt(format!("pinned message {id} is missing")))?;
        out.push(StoredPin {
            message: StoredMessage {
                message,
                delivered: None,
                read: None,
                reactions: reactions_of(conn, id)?,
            },
            pinned_by,
            pinned_at,
        });
    }
    Ok(out)
}

/// A deleted message's reactions and pin go, with their events in the log.
pub(super) fn erase_message(conn: &Connection, id: MessageId) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM events WHERE message_id = ?1 AND json_extract(data, '$.kind') IN ('reaction', 'pin')",
    )?
    .execute([id as i64])?;
    conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
        .execute([id as i64])?;
    conn.prepare_cached("DELETE FROM pins WHERE message_id = ?1")?
        .execute([id as i64])?;
    Ok(())
}

/// A cleared room's reactions and pins go (its events go with the room's log).
pub(super) fn erase_chat(conn: &Connection, chat_key: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE chat = ?1)",
        [chat_key],
    )?;
    conn.execute("DELETE FROM pins WHERE chat = ?1", [chat_key])?;
    Ok(())
}
