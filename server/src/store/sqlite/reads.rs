//! Read queries: history pages, a user's chats and unread counts, and the replay of the
//! event log as one user may see it.

use crate::domain::{Chat, EventData, LogEvent, Message, UserKey};
use crate::store::{ChatState, RoomRow, StoreError, StoredMessage, UnreadSnapshot, World};
use app::protocol::{EventId, MessageId, Millis};
use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row};

const MESSAGE_COLUMNS: &str =
    "id, sender, client_message_id, body, attachments, created_at, updated_at, deleted, reply_to, mentions, mentions_room";

/// A message row; attachments that cannot be read are an error (never "none").
fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let attachments: String = r.get(4)?;
    let attachments = serde_json::from_str(&attachments)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(e)))?;
    let mentions: String = r.get(9)?;
    let mentions = serde_json::from_str(&mentions)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(8, Type::Text, Box::new(e)))?;
    Ok(Message {
        id: r.get::<_, i64>(0)? as MessageId,
        sender: r.get(1)?,
        client_message_id: r.get(2)?,
        text: r.get(3)?,
        attachments,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        deleted: r.get(7)?,
        reply_to: r.get::<_, Option<i64>>(8)?.map(|id| id as MessageId),
        quote: None,
        mentions,
        mentions_room: r.get(10)?,
    })
}

pub(super) fn chat_from_key(key: &str) -> Result<Chat, StoreError> {
    Chat::from_key(key).ok_or_else(|| StoreError::Corrupt(format!("bad chat key {key:?}")))
}

/// One message of `chat`, deleted ones included.
pub fn message(
    conn: &Connection,
    chat: &Chat,
    id: MessageId,
) -> Result<Option<Message>, StoreError> {
    let message = conn
        .query_row(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1 AND chat = ?2"),
            params![id as i64, chat.key()],
            message_from_row,
        )
        .optional()?;
    match message {
        Some(mut message) => {
            super::replies::fill(conn, chat, &mut message)?;
            Ok(Some(message))
        }
        None => Ok(None),
    }
}

/// Messages from others after `read_upto` that are not deleted.
pub fn unread(
    conn: &Connection,
    chat_key: &str,
    key: &UserKey,
    read_upto: MessageId,
) -> Result<u64, StoreError> {
    unread_between(conn, chat_key, key, read_upto, MessageId::MAX)
}

/// Unread messages with `after < id < before`.
pub fn unread_between(
    conn: &Connection,
    chat_key: &str,
    key: &UserKey,
    after: MessageId,
    before: MessageId,
) -> Result<u64, StoreError> {
    let before = i64::try_from(before).unwrap_or(i64::MAX);
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE chat = ?1 AND id > ?2 AND id < ?3 AND sender_key != ?4 AND deleted = 0",
        params![chat_key, after as i64, before, key.as_str()],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// The `count` messages of `chat` ending at `end_id` (or the latest), oldest first.
pub fn messages_page(
    conn: &Connection,
    chat: &Chat,
    end_id: Option<MessageId>,
    count: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let end = end_id.map_or(i64::MAX, |e| i64::try_from(e).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat = ?1 AND id <= ?2 ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![chat.key(), end, count], message_from_row)?;
    let mut page = Vec::new();
    for message in rows {
        let mut message = message?;
        super::replies::fill(conn, chat, &mut message)?;
        let delivered = first_mark(conn, chat, &message, "dlvrd")?;
        let read = first_mark(conn, chat, &message, "read")?;
        let reactions = super::marks::reactions_of(conn, message.id)?;
        page.push(StoredMessage {
            message,
            delivered,
            read,
            reactions,
        });
    }
    page.reverse();
    Ok(page)
}

fn first_mark(
    conn: &Connection,
    chat: &Chat,
    m: &Message,
    kind: &str,
) -> Result<Option<Millis>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT MIN(at) FROM receipts WHERE chat = ?1 AND kind = ?2 AND upto >= ?3 AND user_key != ?4",
            params![chat.key(), kind, m.id as i64, UserKey::of(&m.sender).as_str()],
            |r| r.get::<_, Option<Millis>>(0),
        )?)
}

/// Every chat `key` is in, with read marks and unread counts. Counting costs a step per
/// unread message: the hub asks once per user, when they connect.
pub fn chat_states(conn: &Connection, key: &UserKey) -> Result<Vec<ChatState>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.chat, m.read_upto,
            (SELECT COUNT(*) FROM messages x WHERE x.chat = m.chat AND x.id > m.read_upto
                AND x.sender_key != m.user_key AND x.deleted = 0)
         FROM chat_members m WHERE m.user_key = ?1",
    )?;
    let rows = stmt.query_map([key.as_str()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (chat, read_upto, unread) = row?;
        out.push(ChatState {
            chat: chat_from_key(&chat)?,
            read_upto: read_upto as MessageId,
            unread: unread as u64,
        });
    }
    Ok(out)
}

/// A user's unread counts and the log position they include, read in one transaction
/// (so one snapshot of the database answers both).
pub fn unread_snapshot(conn: &Connection, key: &UserKey) -> Result<UnreadSnapshot, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let at = head(&tx)?;
    let chats = chat_states(&tx, key)?;
    tx.finish()?;
    Ok(UnreadSnapshot { at, chats })
}

/// The newest message id of a chat (0 when it has none).
pub fn last_message_id(conn: &Connection, chat: &Chat) -> Result<MessageId, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat = ?1",
        [chat.key()],
        |r| r.get::<_, i64>(0),
    )? as MessageId)
}

/// Every chat `key` is in, with its newest message id (no counting: cheap).
pub fn chat_last_ids(
    conn: &Connection,
    key: &UserKey,
) -> Result<Vec<(Chat, MessageId)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.chat, (SELECT COALESCE(MAX(id), 0) FROM messages x WHERE x.chat = m.chat)
         FROM chat_members m WHERE m.user_key = ?1",
    )?;
    let rows = stmt.query_map([key.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (chat, last_id) = row?;
        out.push((chat_from_key(&chat)?, last_id as MessageId));
    }
    Ok(out)
}

pub fn load_world(conn: &Connection) -> Result<World, StoreError> {
    let mut rooms = Vec::new();
    let mut stmt =
        conn.prepare("SELECT id, name, creator, creator_guest FROM rooms ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    for row in rows {
        let (id, name, creator, creator_guest) = row?;
        let mut members = Vec::new();
        let mut m = conn.prepare_cached("SELECT user_key FROM chat_members WHERE chat = ?1")?;
        for k in m.query_map([Chat::Room(id).key()], |r| r.get::<_, String>(0))? {
            members.push(UserKey::of(&k?));
        }
        let settings = super::rooms::state(conn, id)?;
        rooms.push(RoomRow {
            id,
            name,
            creator,
            creator_guest,
            members,
            settings,
        });
    }
    let mut users = Vec::new();
    let mut stmt = conn.prepare("SELECT name, role, display_name, about, avatar FROM users")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            crate::store::StoredProfile {
                display_name: r.get(2)?,
                about: r.get(3)?,
                avatar: r.get(4)?,
            },
        ))
    })?;
    for row in rows {
        let (name, role, profile) = row?;
        let role = app::protocol::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
        users.push(crate::store::UserRow {
            name,
            role,
            profile,
        });
    }
    let blocks = super::people::blocks(conn)?;
    let registration = super::access::registration(conn)?;
    Ok(World {
        rooms,
        users,
        blocks,
        registration,
    })
}

/// The id of the latest event in the log.
pub fn head(conn: &Connection) -> Result<EventId, StoreError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| {
            r.get::<_, i64>(0)
        })? as EventId,
    )
}

const VISIBLE: &str = "FROM events e JOIN chat_members m ON m.chat = e.chat AND m.user_key = ?1
     WHERE e.id > ?2 AND e.id > m.joined_event AND e.id <= ?3";

/// How many events after `after` (and up to `upto`) `key` may see, and the last id.
pub fn replay_count(
    conn: &Connection,
    key: &UserKey,
    after: EventId,
    upto: EventId,
) -> Result<(u64, EventId), StoreError> {
    let (count, last): (i64, i64) = conn.query_row(
        &format!("SELECT COUNT(*), COALESCE(MAX(e.id), 0) {VISIBLE}"),
        params![key.as_str(), after as i64, upto as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((count as u64, last as EventId))
}

/// Up to `limit` events `key` may see with `after < id <= upto`, in id order.
pub fn replay_page(
    conn: &Connection,
    key: &UserKey,
    after: EventId,
    upto: EventId,
    limit: u32,
) -> Result<Vec<LogEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, e.at, e.chat, e.data {VISIBLE} ORDER BY e.id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![key.as_str(), after as i64, upto as i64, limit],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, chat, data) = row?;
        let chat = Chat::from_key(&chat)
            .ok_or_else(|| StoreError::Corrupt(format!("event {id} has a bad chat key")))?;
        let data: EventData = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?;
        let mut event = LogEvent {
            id: id as EventId,
            at,
            chat,
            data,
            unread_after: None,
        };
        super::replies::fill_event(conn, &mut event)?;
        out.push(event);
    }
    Ok(out)
}

/// The user a session token belongs to, if it was last used at or after
/// `valid_since`.
pub fn token_user(
    conn: &Connection,
    hash: &str,
    valid_since: Millis,
) -> Result<Option<UserKey>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT user_key FROM tokens WHERE hash = ?1 AND used_at >= ?2",
            rusqlite::params![hash, valid_since],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(|k| UserKey::of(&k)))
}

/// Every member's delivered/read watermarks in a chat.
pub fn receipt_marks(
    conn: &Connection,
    chat: &Chat,
) -> Result<Vec<(UserKey, MessageId, MessageId)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_key, delivered_upto, read_upto FROM chat_members WHERE chat = ?1",
    )?;
    let rows = stmt.query_map([chat.key()], |r| {
        Ok((
            UserKey::of(&r.get::<_, String>(0)?),
            r.get::<_, i64>(1)? as MessageId,
            r.get::<_, i64>(2)? as MessageId,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The bytes of the uploads `owner` keeps.
pub fn upload_usage(conn: &Connection, owner: &UserKey) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(SUM(bytes), 0) FROM uploads WHERE owner_key = ?1")?
        .query_row([owner.as_str()], |r| r.get::<_, i64>(0))? as u64)
}

/// The original name an upload was sent with (`None`: unknown, or no such upload).
pub fn upload_filename(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT filename FROM uploads WHERE name = ?1")?
        .query_row([name], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The notification levels `user` set (chats not listed are at `all`).
pub fn notify_levels(
    conn: &Connection,
    user: &UserKey,
) -> Result<Vec<(Chat, app::protocol::NotifyLevel)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT chat, level FROM notify_levels WHERE user_key = ?1")?;
    let rows = stmt.query_map([user.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (chat, level) = row?;
        let level = app::protocol::NotifyLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("bad notify level {level:?}")))?;
        out.push((chat_from_key(&chat)?, level));
    }
    Ok(out)
}
