//! Password resets and deleted accounts on SQLite (issue 13, migration "resets").
//! A reset code is kept as its hash, one per account, and spent in the same
//! transaction that sets the new password and replaces every session token. Deleting
//! an account runs as several jobs of the writer: its messages are erased (through the
//! same [`erase`](super::writer::erase) a `delete` uses) or moved to a sender key no
//! account can have, a batch per job so that the writer never stalls on someone with
//! years of history; a last job removes what is left and the account itself.

use super::ops::{change_password, leave_room, load_account};
use super::{Applied, SqliteStore, StoreFuture};
use crate::domain::{Chat, EventData, LogEvent};
use crate::store::{AccountDeletion, Member, NewReset, StoreError, UsedReset};
use app::protocol::{MessageId, DELETED_USER};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::atomic::Ordering;

pub use app::protocol::DeletedMessages as Mode;

/// The setting that holds what happens to a deleted account's messages.
const DELETED_MESSAGES: &str = "deleted_messages";

/// Messages erased or moved per job of a deletion.
const BATCH: i64 = 200;

pub fn create_reset(conn: &Connection, new: NewReset) -> Result<Applied<()>, StoreError> {
    conn.execute("DELETE FROM resets WHERE expires_at <= ?1", [new.at])?;
    conn.execute(
        "INSERT INTO resets (user_key, code_hash, expires_at, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_key) DO UPDATE SET code_hash = excluded.code_hash,
             expires_at = excluded.expires_at, created_by = excluded.created_by,
             created_at = excluded.created_at",
        params![
            new.user.as_str(),
            new.code_hash,
            new.expires_at,
            new.created_by,
            new.at
        ],
    )?;
    Ok(Applied::quiet(()))
}

pub fn use_reset(conn: &Connection, used: UsedReset) -> Result<Applied<bool>, StoreError> {
    let spent = conn.execute(
        "DELETE FROM resets WHERE user_key = ?1 AND code_hash = ?2 AND expires_at > ?3",
        params![used.user.as_str(), used.code_hash, used.at],
    )?;
    if spent == 0 {
        return Ok(Applied::quiet(false));
    }
    change_password(
        conn,
        &used.user,
        &used.password_hash,
        &used.token_hash,
        used.at,
    )?;
    Ok(Applied::quiet(true))
}

pub fn deleted_messages(conn: &Connection, set: Option<Mode>) -> Result<Applied<Mode>, StoreError> {
    if let Some(mode) = set {
        conn.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![DELETED_MESSAGES, mode.as_str()],
        )?;
        return Ok(Applied::quiet(mode));
    }
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE name = ?1",
            [DELETED_MESSAGES],
            |r| r.get(0),
        )
        .optional()?;
    let mode = match value {
        None => Mode::default(),
        Some(v) => Mode::parse(&v)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown deleted-messages mode {v:?}")))?,
    };
    Ok(Applied::quiet(mode))
}

/// Deletes an account in batches, then the account; see
/// [`Store::delete_account`](crate::store::Store::delete_account).
pub(super) fn delete_account(store: &SqliteStore, deletion: AccountDeletion) -> StoreFuture<bool> {
    let store = store.clone();
    Box::pin(async move {
        loop {
            let d = deletion.clone();
            let done = store.write(move |c| batch(c, &d, BATCH)).await?;
            if done < BATCH as u32 {
                break;
            }
        }
        let gone = store.write(move |c| finish(c, deletion)).await?;
        // What was erased may still sit in the WAL: the next checkpoint empties it.
        store.inner.erased.store(true, Ordering::Relaxed);
        store.inner.released.notify_one();
        Ok(gone)
    })
}

/// One batch (`limit`; -1: all that is left): erases the account's direct chats and,
/// in `erase` mode, its messages (each with its `delete` event); in `keep` mode moves
/// its messages to "deleted user". Answers how many messages it took.
fn batch(conn: &Connection, d: &AccountDeletion, limit: i64) -> Result<Applied<u32>, StoreError> {
    let key = d.user.as_str();
    let erase_own = d.mode == Mode::Erase;
    let doomed = conn
        .prepare_cached(
            "SELECT id, chat FROM messages WHERE deleted = 0 AND (
                 (?2 AND sender_key = ?1)
                 OR chat IN (SELECT chat FROM chat_members WHERE user_key = ?1 AND chat LIKE 'd:%'))
             ORDER BY id LIMIT ?3",
        )?
        .query_map(params![key, erase_own, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut events = Vec::with_capacity(doomed.len());
    for (id, chat) in &doomed {
        let chat = Chat::from_key(chat)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown chat key {chat:?}")))?;
        let Some(message) = super::reads::message(conn, &chat, *id as MessageId)? else {
            continue;
        };
        events.push(super::writer::erase(conn, chat, message, None, d.at)?);
    }
    let mut moved = 0;
    if !erase_own {
        let ids = conn
            .prepare_cached("SELECT id FROM messages WHERE sender_key = ?1 ORDER BY id LIMIT ?2")?
            .query_map(params![key, limit], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for id in &ids {
            orphan(conn, *id, &d.orphan_key)?;
        }
        moved = ids.len();
    }
    Ok(Applied {
        value: (doomed.len() + moved) as u32,
        events,
        origin: None,
    })
}

/// Moves message `id` to "deleted user" under `orphan_key`, in the table and in the
/// `new` and `edit` events that carry it.
fn orphan(conn: &Connection, id: i64, orphan_key: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE messages SET sender = ?1, sender_key = ?2 WHERE id = ?3")?
        .execute(params![DELETED_USER, orphan_key, id])?;
    conn.prepare_cached(
        "UPDATE events SET data = json_set(data, '$.message.sender', ?1)
         WHERE message_id = ?2 AND json_extract(data, '$.kind') IN ('new', 'edit')",
    )?
    .execute(params![DELETED_USER, id])?;
    Ok(())
}

/// The last job: what the batches left, the account's marks, memberships and rows,
/// and the account.
fn finish(conn: &Connection, d: AccountDeletion) -> Result<Applied<bool>, StoreError> {
    if load_account(conn, &d.user)?.is_none() {
        return Ok(Applied::quiet(false));
    }
    let key = d.user.as_str();
    let mut events = batch(conn, &d, -1)?.events;
    if d.mode == Mode::Keep {
        // The `delete` events of messages deleted earlier name their sender too.
        conn.execute(
            "UPDATE events SET data = json_set(data, '$.sender', ?1)
             WHERE json_extract(data, '$.kind') = 'delete' AND json_extract(data, '$.sender') = ?2",
            params![DELETED_USER, d.name],
        )?;
    }
    take_back_marks(conn, &d, &mut events)?;
    let rooms = conn
        .prepare_cached("SELECT chat FROM chat_members WHERE user_key = ?1 AND chat LIKE 'r:%'")?
        .query_map([key], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let member = Member {
        key: d.user.clone(),
        name: d.name.clone(),
    };
    for chat in rooms {
        if let Some(Chat::Room(room)) = Chat::from_key(&chat) {
            events.extend(leave_room(conn, room, &member, None, d.at, None)?.events);
        }
    }
    for sql in [
        "DELETE FROM chat_members WHERE user_key = ?1",
        "DELETE FROM receipts WHERE user_key = ?1",
        "DELETE FROM notify_levels WHERE user_key = ?1",
        "DELETE FROM room_mutes WHERE user_key = ?1",
        "DELETE FROM blocks WHERE user_key = ?1 OR blocked_key = ?1",
        "DELETE FROM tokens WHERE user_key = ?1",
        "DELETE FROM resets WHERE user_key = ?1",
        "DELETE FROM push_subscriptions WHERE user_key = ?1",
        "DELETE FROM ntfy_topics WHERE user_key = ?1",
        "DELETE FROM users WHERE key = ?1",
    ] {
        conn.execute(sql, [key])?;
    }
    // A later account of the same name must not manage the rooms this one created.
    conn.execute(
        "UPDATE rooms SET creator = NULL WHERE creator = ?1",
        [&d.name],
    )?;
    Ok(Applied {
        value: true,
        events,
        origin: None,
    })
}

/// Takes back the account's reactions and pins: their earlier events leave the log
/// (as a deleted message's do) and one `reaction` / `pin` event each tells the
/// connected clients.
fn take_back_marks(
    conn: &Connection,
    d: &AccountDeletion,
    events: &mut Vec<LogEvent>,
) -> Result<(), StoreError> {
    let reactions = conn
        .prepare_cached(
            "SELECT r.message_id, r.emoji, m.chat FROM reactions r JOIN messages m ON m.id = r.message_id
             WHERE r.user_key = ?1",
        )?
        .query_map([d.user.as_str()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, emoji, chat) in reactions {
        conn.execute(
            "DELETE FROM events WHERE message_id = ?1 AND json_extract(data, '$.kind') = 'reaction'
                 AND json_extract(data, '$.user') = ?2 AND json_extract(data, '$.emoji') = ?3",
            params![id, d.name, emoji],
        )?;
        conn.execute(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_key = ?3",
            params![id, emoji, d.user.as_str()],
        )?;
        let Some(chat) = Chat::from_key(&chat) else {
            continue;
        };
        let data = EventData::Reaction {
            message_id: id as MessageId,
            emoji,
            user: d.name.clone(),
            add: false,
        };
        events.push(super::writer::append(conn, d.at, chat, data)?);
    }
    let pins = conn
        .prepare_cached("SELECT chat, message_id FROM pins WHERE pinned_by = ?1")?
        .query_map([&d.name], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (chat, id) in pins {
        conn.execute(
            "DELETE FROM events WHERE message_id = ?1 AND json_extract(data, '$.kind') = 'pin'
                 AND json_extract(data, '$.user') = ?2",
            params![id, d.name],
        )?;
        conn.execute(
            "DELETE FROM pins WHERE chat = ?1 AND message_id = ?2",
            params![chat, id],
        )?;
        let Some(chat) = Chat::from_key(&chat) else {
            continue;
        };
        let data = EventData::Pin {
            message_id: id as MessageId,
            user: d.name.clone(),
            pinned: false,
        };
        events.push(super::writer::append(conn, d.at, chat, data)?);
    }
    Ok(())
}
