//! Password resets and deleted accounts on PostgreSQL. A reset code is kept as its
//! hash, one per account, and spent in the same transaction that sets the new password
//! and replaces every session token. Deleting an account runs as several jobs of the
//! writer: its messages are erased (through the same
//! [`erase`](super::writer::erase) a `delete` uses) or moved to a sender key no
//! account can have, a batch per job so that the writer never stalls on someone with
//! years of history; a last job removes what is left and the account itself. The log's
//! events are TEXT JSON; the names they carry are rewritten through `jsonb`.

use super::db::{unsigned, Db};
use super::ops::{change_password, leave_room, load_account};
use super::{Applied, PgStore};
use crate::domain::{Chat, EventData, LogEvent};
use crate::store::StoreFuture;
use crate::store::{AccountDeletion, Member, NewReset, StoreError, UsedReset};
pub use app::protocol::DeletedMessages as Mode;
use app::protocol::DELETED_USER;

/// The setting that holds what happens to a deleted account's messages.
const DELETED_MESSAGES: &str = "deleted_messages";

/// Messages erased or moved per job of a deletion.
const BATCH: i64 = 200;

pub fn create_reset(db: &mut Db, new: NewReset) -> Result<Applied<()>, StoreError> {
    db.execute("DELETE FROM resets WHERE expires_at <= $1", &[&new.at])?;
    db.execute(
        "INSERT INTO resets (user_key, code_hash, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_key) DO UPDATE SET code_hash = excluded.code_hash,
             expires_at = excluded.expires_at, created_by = excluded.created_by,
             created_at = excluded.created_at",
        &[
            &new.user.as_str(),
            &new.code_hash,
            &new.expires_at,
            &new.created_by,
            &new.at,
        ],
    )?;
    Ok(Applied::quiet(()))
}

pub fn use_reset(db: &mut Db, used: UsedReset) -> Result<Applied<bool>, StoreError> {
    let spent = db.execute(
        "DELETE FROM resets WHERE user_key = $1 AND code_hash = $2 AND expires_at > $3",
        &[&used.user.as_str(), &used.code_hash, &used.at],
    )?;
    if spent == 0 {
        return Ok(Applied::quiet(false));
    }
    change_password(
        db,
        &used.user,
        &used.password_hash,
        &used.token_hash,
        used.at,
    )?;
    Ok(Applied::quiet(true))
}

pub fn deleted_messages(db: &mut Db, set: Option<Mode>) -> Result<Applied<Mode>, StoreError> {
    if let Some(mode) = set {
        db.execute(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&DELETED_MESSAGES, &mode.as_str()],
        )?;
        return Ok(Applied::quiet(mode));
    }
    let row = db.opt(
        "SELECT value FROM settings WHERE name = $1",
        &[&DELETED_MESSAGES],
    )?;
    let mode = match row {
        None => Mode::default(),
        Some(r) => {
            let v: String = r.try_get(0)?;
            Mode::parse(&v).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown deleted-messages mode {v:?}"))
            })?
        }
    };
    Ok(Applied::quiet(mode))
}

/// Deletes an account in batches, then the account; see
/// [`Store::delete_account`](crate::store::Store::delete_account).
pub(super) fn delete_account(store: &PgStore, deletion: AccountDeletion) -> StoreFuture<bool> {
    let store = store.clone();
    Box::pin(async move {
        loop {
            let d = deletion.clone();
            let done = store.write(move |db| batch(db, &d, Some(BATCH))).await?;
            if i64::from(done) < BATCH {
                break;
            }
        }
        let gone = store.write(move |db| finish(db, deletion)).await?;
        store.inner.released.notify_one();
        Ok(gone)
    })
}

/// One batch (`limit`; `None`: all that is left): erases the account's direct chats
/// and, in `erase` mode, its messages (each with its `delete` event); in `keep` mode
/// moves its messages to "deleted user". Answers how many messages it took.
fn batch(db: &mut Db, d: &AccountDeletion, limit: Option<i64>) -> Result<Applied<u32>, StoreError> {
    let key = d.user.as_str();
    let erase_own = d.mode == Mode::Erase;
    // `LIMIT NULL` is no limit.
    let doomed = db.query(
        "SELECT id, chat FROM messages WHERE NOT deleted AND (
             ($2 AND sender_key = $1)
             OR chat IN (SELECT chat FROM chat_members WHERE user_key = $1 AND chat LIKE 'd:%'))
         ORDER BY id LIMIT $3",
        &[&key, &erase_own, &limit],
    )?;
    let mut events = Vec::with_capacity(doomed.len());
    for row in &doomed {
        let id = unsigned(row, 0)?;
        let chat: String = row.try_get(1)?;
        let chat = Chat::from_key(&chat)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown chat key {chat:?}")))?;
        let Some(message) = super::reads::message(db, &chat, id)? else {
            continue;
        };
        events.push(super::writer::erase(db, chat, message, None, d.at)?);
    }
    let mut moved = 0;
    if !erase_own {
        let ids = db.query(
            "SELECT id FROM messages WHERE sender_key = $1 ORDER BY id LIMIT $2",
            &[&key, &limit],
        )?;
        for row in &ids {
            let id: i64 = row.try_get(0)?;
            orphan(db, id, &d.orphan_key)?;
        }
        moved = ids.len();
    }
    let took = u32::try_from(doomed.len() + moved).unwrap_or(u32::MAX);
    Ok(Applied {
        value: took,
        events,
        origin: None,
    })
}

/// Moves message `id` to "deleted user" under `orphan_key`, in the table and in the
/// `new` and `edit` events that carry it.
fn orphan(db: &mut Db, id: i64, orphan_key: &str) -> Result<(), StoreError> {
    db.execute(
        "UPDATE messages SET sender = $1, sender_key = $2 WHERE id = $3",
        &[&DELETED_USER, &orphan_key, &id],
    )?;
    db.execute(
        "UPDATE events SET data = jsonb_set(data::jsonb, '{message,sender}', to_jsonb($1::TEXT))::TEXT
         WHERE message_id = $2 AND data::jsonb ->> 'kind' IN ('new', 'edit')",
        &[&DELETED_USER, &id],
    )?;
    Ok(())
}

/// The last job: what the batches left, the account's marks, memberships and rows,
/// and the account.
fn finish(db: &mut Db, d: AccountDeletion) -> Result<Applied<bool>, StoreError> {
    if load_account(db, &d.user)?.is_none() {
        return Ok(Applied::quiet(false));
    }
    let key = d.user.as_str();
    let mut events = batch(db, &d, None)?.events;
    if d.mode == Mode::Keep {
        // The `delete` events of messages deleted earlier name their sender too.
        db.execute(
            "UPDATE events SET data = jsonb_set(data::jsonb, '{sender}', to_jsonb($1::TEXT))::TEXT
             WHERE data::jsonb ->> 'kind' = 'delete' AND data::jsonb ->> 'sender' = $2",
            &[&DELETED_USER, &d.name],
        )?;
    }
    take_back_marks(db, &d, &mut events)?;
    let rooms = db.query(
        "SELECT chat FROM chat_members WHERE user_key = $1 AND chat LIKE 'r:%'",
        &[&key],
    )?;
    let member = Member {
        key: d.user.clone(),
        name: d.name.clone(),
    };
    for row in rooms {
        let chat: String = row.try_get(0)?;
        if let Some(Chat::Room(room)) = Chat::from_key(&chat) {
            events.extend(leave_room(db, room, &member, None, d.at, None)?.events);
        }
    }
    for sql in [
        "DELETE FROM chat_members WHERE user_key = $1",
        "DELETE FROM receipts WHERE user_key = $1",
        "DELETE FROM notify_levels WHERE user_key = $1",
        "DELETE FROM room_mutes WHERE user_key = $1",
        "DELETE FROM blocks WHERE user_key = $1 OR blocked_key = $1",
        "DELETE FROM tokens WHERE user_key = $1",
        "DELETE FROM resets WHERE user_key = $1",
        "DELETE FROM push_subscriptions WHERE user_key = $1",
        "DELETE FROM ntfy_topics WHERE user_key = $1",
        "DELETE FROM users WHERE key = $1",
    ] {
        db.execute(sql, &[&key])?;
    }
    // A later account of the same name must not manage the rooms this one created.
    db.execute(
        "UPDATE rooms SET creator = NULL WHERE creator = $1",
        &[&d.name],
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
    db: &mut Db,
    d: &AccountDeletion,
    events: &mut Vec<LogEvent>,
) -> Result<(), StoreError> {
    let reactions = db.query(
        "SELECT r.message_id, r.emoji, m.chat FROM reactions r JOIN messages m ON m.id = r.message_id
         WHERE r.user_key = $1",
        &[&d.user.as_str()],
    )?;
    for row in reactions {
        let id: i64 = row.try_get(0)?;
        let emoji: String = row.try_get(1)?;
        let chat: String = row.try_get(2)?;
        db.execute(
            "DELETE FROM events WHERE message_id = $1 AND data::jsonb ->> 'kind' = 'reaction'
                 AND data::jsonb ->> 'user' = $2 AND data::jsonb ->> 'emoji' = $3",
            &[&id, &d.name, &emoji],
        )?;
        db.execute(
            "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_key = $3",
            &[&id, &emoji, &d.user.as_str()],
        )?;
        let Some(chat) = Chat::from_key(&chat) else {
            continue;
        };
        let data = EventData::Reaction {
            message_id: unsigned(&row, 0)?,
            emoji,
            user: d.name.clone(),
            add: false,
        };
        events.push(super::writer::append(db, d.at, chat, data)?);
    }
    let pins = db.query(
        "SELECT chat, message_id FROM pins WHERE pinned_by = $1",
        &[&d.name],
    )?;
    for row in pins {
        let chat: String = row.try_get(0)?;
        let id: i64 = row.try_get(1)?;
        db.execute(
            "DELETE FROM events WHERE message_id = $1 AND data::jsonb ->> 'kind' = 'pin'
                 AND data::jsonb ->> 'user' = $2",
            &[&id, &d.name],
        )?;
        db.execute(
            "DELETE FROM pins WHERE chat = $1 AND message_id = $2",
            &[&chat, &id],
        )?;
        let Some(chat) = Chat::from_key(&chat) else {
            continue;
        };
        let data = EventData::Pin {
            message_id: unsigned(&row, 1)?,
            user: d.name.clone(),
            pinned: false,
        };
        events.push(super::writer::append(db, d.at, chat, data)?);
    }
    Ok(())
}
