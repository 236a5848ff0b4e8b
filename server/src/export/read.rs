//! What an export reads, in SQL of its own: the chats (rooms with their members and
//! pins, direct chats with their two people) and each message with its reactions.
//! Only the columns an export shows are read; a deleted message's row is read no
//! further than its id, author and time.

use super::{ChatHead, ExportAttachment, ExportError, ExportMessage, Pin, Request, Scope};
use crate::domain::{iso8601, Chat};
use app::protocol::Millis;
use rusqlite::{Connection, OptionalExtension, Rows, Statement};
use std::collections::BTreeMap;
use std::path::Path;

/// The columns [`message_of`] reads, in its order.
pub const MESSAGE_COLUMNS: &str =
    "id, sender, body, attachments, created_at, updated_at, deleted, reply_to";

/// The chats the export holds, rooms first (by id), then direct chats (by key).
pub fn chats(conn: &Connection, request: &Request) -> Result<(Scope, Vec<ChatHead>), ExportError> {
    let names = display_names(conn)?;
    let mut rooms: Vec<(i64, String, Option<String>, Millis)> = Vec::new();
    let scope = match &request.room {
        Some(wanted) => {
            let wanted = wanted.strip_prefix('#').unwrap_or(wanted);
            let room: Option<(i64, String, Option<String>, Millis)> = conn
                .query_row(
                    "SELECT id, name, creator, created_at FROM rooms WHERE name_key = ?1",
                    [wanted.to_lowercase()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some(room) = room else {
                return Err(no_room(conn, wanted, &request.data)?);
            };
            let scope = Scope::Room(room.1.clone());
            rooms.push(room);
            scope
        }
        None => {
            let mut stmt =
                conn.prepare("SELECT id, name, creator, created_at FROM rooms ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            for row in rows {
                rooms.push(row?);
            }
            Scope::Everything
        }
    };
    let mut chats = Vec::new();
    for (id, name, creator, created) in rooms {
        let key = Chat::Room(id).key();
        let mut stmt = conn.prepare_cached(
            "SELECT m.user_key, u.name FROM chat_members m LEFT JOIN users u ON u.key = m.user_key
             WHERE m.chat = ?1",
        )?;
        let rows = stmt.query_map([&key], |r| {
            Ok(r.get::<_, Option<String>>(1)?.unwrap_or(r.get(0)?))
        })?;
        let mut members = rows.collect::<Result<Vec<String>, _>>()?;
        members.sort_by_key(|m| m.to_lowercase());
        chats.push(ChatHead {
            pins: pins(conn, &key)?,
            message_count: count(conn, &key)?,
            key,
            name: Some(name),
            creator,
            created: Some(iso8601(created, false)),
            members,
        });
    }
    if request.room.is_none() {
        let mut stmt = conn.prepare(
            "SELECT chat FROM chat_members WHERE chat LIKE 'd:%'
             UNION SELECT DISTINCT chat FROM messages WHERE chat LIKE 'd:%' ORDER BY chat",
        )?;
        let keys = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for key in keys {
            let Some(Chat::Direct(a, b)) = Chat::from_key(&key) else {
                return Err(ExportError::Corrupt(format!("bad chat key {key:?}")));
            };
            let name = |k: &crate::domain::UserKey| {
                names
                    .get(k.as_str())
                    .cloned()
                    .unwrap_or_else(|| k.as_str().to_owned())
            };
            chats.push(ChatHead {
                pins: pins(conn, &key)?,
                message_count: count(conn, &key)?,
                members: vec![name(&a), name(&b)],
                key,
                name: None,
                creator: None,
                created: None,
            });
        }
    }
    Ok((scope, chats))
}

/// The refusal of a room that is not there, naming the rooms that are (the first 20).
fn no_room(conn: &Connection, wanted: &str, data: &Path) -> Result<ExportError, ExportError> {
    let mut stmt = conn.prepare("SELECT name FROM rooms ORDER BY name_key LIMIT 21")?;
    let mut rooms = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let more = rooms.len() > 20;
    rooms.truncate(20);
    let mut list = rooms.join(", ");
    if more {
        list.push_str(", …");
    }
    if list.is_empty() {
        list.push_str("none");
    }
    Ok(ExportError::NoRoom {
        name: wanted.to_owned(),
        data: data.to_owned(),
        rooms: list,
    })
}

/// Every account's display name by key.
fn display_names(conn: &Connection) -> Result<BTreeMap<String, String>, ExportError> {
    let mut stmt = conn.prepare("SELECT key, name FROM users")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn count(conn: &Connection, chat: &str) -> Result<u64, ExportError> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM messages WHERE chat = ?1")?
        .query_row([chat], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The pinned messages of a chat, oldest pin first.
fn pins(conn: &Connection, chat: &str) -> Result<Vec<Pin>, ExportError> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, pinned_by, at FROM pins WHERE chat = ?1 ORDER BY at, message_id",
    )?;
    let rows = stmt.query_map([chat], |r| {
        Ok(Pin {
            message: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            by: r.get(1)?,
            at: iso8601(r.get(2)?, false),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One message of a row of [`MESSAGE_COLUMNS`] (its reactions come from [`Reactions`]).
pub fn message_of(row: &rusqlite::Row<'_>) -> Result<ExportMessage, ExportError> {
    let id: i64 = row.get(0)?;
    let created: Millis = row.get(4)?;
    let updated: Millis = row.get(5)?;
    let deleted: bool = row.get(6)?;
    let mut message = ExportMessage {
        id: u64::try_from(id).unwrap_or(0),
        author: row.get(1)?,
        time: iso8601(created, true),
        deleted,
        text: None,
        edited: None,
        reply_to: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    };
    if deleted {
        // A tombstone: whatever the row still holds is not read.
        return Ok(message);
    }
    message.text = Some(row.get(2)?);
    if updated > created {
        message.edited = Some(iso8601(updated, true));
    }
    message.reply_to = row
        .get::<_, Option<i64>>(7)?
        .and_then(|r| u64::try_from(r).ok());
    let attachments: String = row.get(3)?;
    let attachments: Vec<app::protocol::Attachment> = serde_json::from_str(&attachments)
        .map_err(|e| ExportError::Corrupt(format!("the attachments of message {id}: {e}")))?;
    message.attachments = attachments
        .into_iter()
        .map(|a| ExportAttachment {
            name: if a.filename.is_empty() {
                a.id
            } else {
                a.filename
            },
            kind: if a.meta.mimetype.is_empty() {
                a.kind
            } else {
                a.meta.mimetype
            },
            size: a.meta.size,
            url: a.url,
        })
        .collect();
    Ok(message)
}

/// The reactions of a chat's messages, read in one query in message order alongside
/// the messages (one query per chat, not one per message).
pub struct Reactions<'s> {
    rows: Rows<'s>,
    /// The row read past the last message asked for.
    pending: Option<(u64, String, String)>,
}

/// The statement [`Reactions`] runs (prepare it, then [`Reactions::of`]).
pub const REACTIONS_OF_CHAT: &str =
    "SELECT r.message_id, r.emoji, r.user_name FROM reactions r JOIN messages m ON m.id = r.message_id
     WHERE m.chat = ?1 AND m.deleted = 0
     ORDER BY r.message_id,
              (SELECT MIN(at) FROM reactions f WHERE f.message_id = r.message_id AND f.emoji = r.emoji),
              r.emoji, r.at, r.user_key";

impl<'s> Reactions<'s> {
    pub fn of(stmt: &'s mut Statement<'_>, chat: &str) -> Result<Reactions<'s>, ExportError> {
        Ok(Reactions {
            rows: stmt.query([chat])?,
            pending: None,
        })
    }

    fn next_row(&mut self) -> Result<Option<(u64, String, String)>, ExportError> {
        if let Some(row) = self.pending.take() {
            return Ok(Some(row));
        }
        match self.rows.next()? {
            Some(r) => Ok(Some((
                u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                r.get(1)?,
                r.get(2)?,
            ))),
            None => Ok(None),
        }
    }

    /// Adds its reactions to `message`; messages must be asked for in id order.
    pub fn fill(&mut self, message: &mut ExportMessage) -> Result<(), ExportError> {
        while let Some((id, emoji, name)) = self.next_row()? {
            if id < message.id {
                continue;
            }
            if id > message.id {
                self.pending = Some((id, emoji, name));
                break;
            }
            match message.reactions.last_mut() {
                Some((last, names)) if *last == emoji => names.push(name),
                _ => message.reactions.push((emoji, vec![name])),
            }
        }
        Ok(())
    }
}
