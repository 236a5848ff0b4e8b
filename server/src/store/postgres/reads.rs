//! Read queries of the PostgreSQL store: history pages, a user's chats and unread
//! counts, the replay of the event log as one user may see it, and the events other
//! nodes committed (which the writer and the follower hand to the hub).

use super::db::{big, unsigned, Db};
use crate::domain::{Chat, EventData, LogEvent, Message, UserKey};
use crate::store::{ChatState, RoomRow, StoreError, StoredMessage, UnreadSnapshot, World};
use app::protocol::{EventId, MessageId, Millis};
use postgres::Row;

/// The columns [`message_from_row`] reads, in its order (a macro, so that each query
/// stays one `&'static str` for the prepared-statement cache).
macro_rules! message_columns {
    () => {
        "id, sender, client_message_id, body, attachments, created_at, updated_at, deleted, reply_to, mentions, mentions_room"
    };
}

/// A message row; attachments that cannot be read are an error (never "none").
pub(super) fn message_from_row(r: &Row) -> Result<Message, StoreError> {
    let id = unsigned(r, 0)?;
    let attachments: String = r.try_get(4)?;
    let attachments = serde_json::from_str(&attachments)
        .map_err(|e| StoreError::Corrupt(format!("attachments of message {id}: {e}")))?;
    let mentions: String = r.try_get(9)?;
    let mentions = serde_json::from_str(&mentions)
        .map_err(|e| StoreError::Corrupt(format!("mentions of message {id}: {e}")))?;
    Ok(Message {
        id,
        sender: r.try_get(1)?,
        client_message_id: r.try_get(2)?,
        text: r.try_get(3)?,
        attachments,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
        deleted: r.try_get(7)?,
        reply_to: r.try_get::<_, Option<i64>>(8)?.map(|id| id as MessageId),
        quote: None,
        mentions,
        mentions_room: r.try_get(10)?,
    })
}

pub(super) fn chat_from_key(key: &str) -> Result<Chat, StoreError> {
    Chat::from_key(key).ok_or_else(|| StoreError::Corrupt(format!("bad chat key {key:?}")))
}

/// One message of `chat`, deleted ones included.
pub fn message(db: &mut Db, chat: &Chat, id: MessageId) -> Result<Option<Message>, StoreError> {
    let row = db.opt(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE id = $1 AND chat = $2"
        ),
        &[&big(id), &chat.key()],
    )?;
    match row {
        Some(row) => {
            let mut message = message_from_row(&row)?;
            super::replies::fill(db, chat, &mut message)?;
            Ok(Some(message))
        }
        None => Ok(None),
    }
}

/// Messages from others after `read_upto` that are not deleted.
pub fn unread(
    db: &mut Db,
    chat_key: &str,
    key: &UserKey,
    read_upto: MessageId,
) -> Result<u64, StoreError> {
    unread_between(db, chat_key, key, read_upto, MessageId::MAX)
}

/// Unread messages with `after < id < before`.
pub fn unread_between(
    db: &mut Db,
    chat_key: &str,
    key: &UserKey,
    after: MessageId,
    before: MessageId,
) -> Result<u64, StoreError> {
    let row = db.one(
        "SELECT COUNT(*) FROM messages WHERE chat = $1 AND id > $2 AND id < $3 AND sender_key <> $4 AND NOT deleted",
        &[&chat_key, &big(after), &big(before), &key.as_str()],
    )?;
    unsigned(&row, 0)
}

/// The `count` messages of `chat` ending at `end_id` (or the latest), oldest first.
pub fn messages_page(
    db: &mut Db,
    chat: &Chat,
    end_id: Option<MessageId>,
    count: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let end = end_id.map_or(i64::MAX, big);
    let rows = db.query(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE chat = $1 AND id <= $2 ORDER BY id DESC LIMIT $3"
        ),
        &[&chat.key(), &end, &i64::from(count)],
    )?;
    let mut page = Vec::with_capacity(rows.len());
    for row in rows {
        let mut message = message_from_row(&row)?;
        super::replies::fill(db, chat, &mut message)?;
        let delivered = first_mark(db, chat, &message, "dlvrd")?;
        let read = first_mark(db, chat, &message, "read")?;
        let reactions = super::marks::reactions_of(db, message.id)?;
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
    db: &mut Db,
    chat: &Chat,
    m: &Message,
    kind: &str,
) -> Result<Option<Millis>, StoreError> {
    let row = db.one(
        "SELECT MIN(at) FROM receipts WHERE chat = $1 AND kind = $2 AND upto >= $3 AND user_key <> $4",
        &[&chat.key(), &kind, &big(m.id), &UserKey::of(&m.sender).as_str()],
    )?;
    Ok(row.try_get(0)?)
}

/// Every chat `key` is in, with read marks and unread counts.
pub fn chat_states(db: &mut Db, key: &UserKey) -> Result<Vec<ChatState>, StoreError> {
    let rows = db.query(
        "SELECT m.chat, m.read_upto,
            (SELECT COUNT(*) FROM messages x WHERE x.chat = m.chat AND x.id > m.read_upto
                AND x.sender_key <> m.user_key AND NOT x.deleted)
         FROM chat_members m WHERE m.user_key = $1",
        &[&key.as_str()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let chat: String = row.try_get(0)?;
        out.push(ChatState {
            chat: chat_from_key(&chat)?,
            read_upto: unsigned(&row, 1)?,
            unread: unsigned(&row, 2)?,
        });
    }
    Ok(out)
}

/// A user's unread counts and the log position they include, in one snapshot.
pub fn unread_snapshot(db: &mut Db, key: &UserKey) -> Result<UnreadSnapshot, StoreError> {
    db.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let read = head(db).and_then(|at| Ok((at, chat_states(db, key)?)));
    let end = db.batch("COMMIT");
    let (at, chats) = read?;
    end?;
    Ok(UnreadSnapshot { at, chats })
}

/// The newest message id of a chat (0 when it has none).
pub fn last_message_id(db: &mut Db, chat: &Chat) -> Result<MessageId, StoreError> {
    let row = db.one(
        "SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat = $1",
        &[&chat.key()],
    )?;
    unsigned(&row, 0)
}

/// Every chat `key` is in, with its newest message id.
pub fn chat_last_ids(db: &mut Db, key: &UserKey) -> Result<Vec<(Chat, MessageId)>, StoreError> {
    let rows = db.query(
        "SELECT m.chat, (SELECT COALESCE(MAX(id), 0) FROM messages x WHERE x.chat = m.chat)
         FROM chat_members m WHERE m.user_key = $1",
        &[&key.as_str()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let chat: String = row.try_get(0)?;
        out.push((chat_from_key(&chat)?, unsigned(&row, 1)?));
    }
    Ok(out)
}

pub fn load_world(db: &mut Db) -> Result<World, StoreError> {
    let mut rooms = Vec::new();
    for row in db.query(
        "SELECT id, name, creator, creator_guest FROM rooms ORDER BY id",
        &[],
    )? {
        let id: i64 = row.try_get(0)?;
        let members = db
            .query(
                "SELECT user_key FROM chat_members WHERE chat = $1",
                &[&Chat::Room(id).key()],
            )?
            .iter()
            .map(|r| r.try_get::<_, String>(0).map(|k| UserKey::of(&k)))
            .collect::<Result<Vec<_>, _>>()?;
        let settings = super::rooms::state(db, id)?;
        rooms.push(RoomRow {
            id,
            name: row.try_get(1)?,
            creator: row.try_get(2)?,
            creator_guest: row.try_get(3)?,
            members,
            settings,
        });
    }
    let mut users = Vec::new();
    for row in db.query(
        "SELECT name, role, display_name, about, avatar FROM users",
        &[],
    )? {
        let role: String = row.try_get(1)?;
        let role = app::protocol::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
        users.push(crate::store::UserRow {
            name: row.try_get(0)?,
            role,
            profile: crate::store::StoredProfile {
                display_name: row.try_get(2)?,
                about: row.try_get(3)?,
                avatar: row.try_get(4)?,
            },
        });
    }
    let blocks = super::people::blocks(db)?;
    let registration = super::access::registration(db)?;
    Ok(World {
        rooms,
        users,
        blocks,
        registration,
    })
}

/// The id of the latest event in the log.
pub fn head(db: &mut Db) -> Result<EventId, StoreError> {
    let row = db.one("SELECT COALESCE(MAX(id), 0) FROM events", &[])?;
    unsigned(&row, 0)
}

/// How many events after `after` (and up to `upto`) `key` may see, and the last id.
pub fn replay_count(
    db: &mut Db,
    key: &UserKey,
    after: EventId,
    upto: EventId,
) -> Result<(u64, EventId), StoreError> {
    let row = db.one(
        "SELECT COUNT(*), COALESCE(MAX(e.id), 0)
         FROM events e JOIN chat_members m ON m.chat = e.chat AND m.user_key = $1
         WHERE e.id > $2 AND e.id > m.joined_event AND e.id <= $3",
        &[&key.as_str(), &big(after), &big(upto)],
    )?;
    Ok((unsigned(&row, 0)?, unsigned(&row, 1)?))
}

/// Up to `limit` events `key` may see with `after < id <= upto`, in id order.
pub fn replay_page(
    db: &mut Db,
    key: &UserKey,
    after: EventId,
    upto: EventId,
    limit: u32,
) -> Result<Vec<LogEvent>, StoreError> {
    let rows = db.query(
        "SELECT e.id, e.at, e.chat, e.data
         FROM events e JOIN chat_members m ON m.chat = e.chat AND m.user_key = $1
         WHERE e.id > $2 AND e.id > m.joined_event AND e.id <= $3
         ORDER BY e.id LIMIT $4",
        &[&key.as_str(), &big(after), &big(upto), &i64::from(limit)],
    )?;
    events_of(db, &rows)
}

/// The events with `after < id < before`, in id order, at most 1,000 (those other
/// nodes committed), with the unread counts of read receipts.
pub fn events_between(
    db: &mut Db,
    after: EventId,
    before: EventId,
) -> Result<Vec<LogEvent>, StoreError> {
    let rows = db.query(
        "SELECT id, at, chat, data, unread_after FROM events WHERE id > $1 AND id < $2
         ORDER BY id LIMIT 1000",
        &[&big(after), &big(before)],
    )?;
    let mut events = events_of(db, &rows)?;
    for (event, row) in events.iter_mut().zip(&rows) {
        event.unread_after = row.try_get::<_, Option<i64>>(4)?.map(|n| n.max(0) as u64);
    }
    Ok(events)
}

/// Log rows (`id, at, chat, data`) as events, replies' quotes filled.
fn events_of(db: &mut Db, rows: &[Row]) -> Result<Vec<LogEvent>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = unsigned(row, 0)?;
        let chat: String = row.try_get(2)?;
        let chat = Chat::from_key(&chat)
            .ok_or_else(|| StoreError::Corrupt(format!("event {id} has a bad chat key")))?;
        let data: String = row.try_get(3)?;
        let data: EventData = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?;
        let mut event = LogEvent {
            id,
            at: row.try_get(1)?,
            chat,
            data,
            unread_after: None,
        };
        super::replies::fill_event(db, &mut event)?;
        out.push(event);
    }
    Ok(out)
}

/// The user a session token belongs to, if it was last used at or after `valid_since`.
pub fn token_user(
    db: &mut Db,
    hash: &str,
    valid_since: Millis,
) -> Result<Option<UserKey>, StoreError> {
    let row = db.opt(
        "SELECT user_key FROM tokens WHERE hash = $1 AND used_at >= $2",
        &[&hash, &valid_since],
    )?;
    Ok(match row {
        Some(r) => Some(UserKey::of(&r.try_get::<_, String>(0)?)),
        None => None,
    })
}

/// Every member's delivered/read watermarks in a chat.
pub fn receipt_marks(
    db: &mut Db,
    chat: &Chat,
) -> Result<Vec<(UserKey, MessageId, MessageId)>, StoreError> {
    let rows = db.query(
        "SELECT user_key, delivered_upto, read_upto FROM chat_members WHERE chat = $1",
        &[&chat.key()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push((
            UserKey::of(&row.try_get::<_, String>(0)?),
            unsigned(&row, 1)?,
            unsigned(&row, 2)?,
        ));
    }
    Ok(out)
}

/// The bytes of the uploads `owner` keeps.
pub fn upload_usage(db: &mut Db, owner: &UserKey) -> Result<u64, StoreError> {
    let row = db.one(
        "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM uploads WHERE owner_key = $1",
        &[&owner.as_str()],
    )?;
    unsigned(&row, 0)
}

/// The original name an upload was sent with.
pub fn upload_filename(db: &mut Db, name: &str) -> Result<Option<String>, StoreError> {
    let row = db.opt("SELECT filename FROM uploads WHERE name = $1", &[&name])?;
    Ok(match row {
        Some(r) => r.try_get(0)?,
        None => None,
    })
}

/// The notification levels `user` set (chats not listed are at `all`).
pub fn notify_levels(
    db: &mut Db,
    user: &UserKey,
) -> Result<Vec<(Chat, app::protocol::NotifyLevel)>, StoreError> {
    let rows = db.query(
        "SELECT chat, level FROM notify_levels WHERE user_key = $1",
        &[&user.as_str()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let chat: String = row.try_get(0)?;
        let level: String = row.try_get(1)?;
        let level = app::protocol::NotifyLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("bad notify level {level:?}")))?;
        out.push((chat_from_key(&chat)?, level));
    }
    Ok(out)
}
