//! Write operations. Each runs inside the writer's transaction (under its own
//! savepoint), checks what must hold, changes the rows, and appends its log events.

use super::Applied;
use crate::domain::{
    Chat, EventData, LogEvent, Message, ReceiptKind, Refusal, RoomId, SessionId, UserKey, GENERAL,
};
use crate::store::{
    Account, Delete, Edit, Mark, Member, NewMessage, NewRoom, ReceiptOutcome, StoreError,
};
use app::protocol::{EventId, MessageId, Millis};
use rusqlite::{params, Connection, OptionalExtension};

/// Creates the `General` room if it is not there.
pub fn ensure_general(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO rooms (name, name_key, creator, created_at) VALUES (?1, ?2, NULL, ?3)",
        params![GENERAL, GENERAL.to_lowercase(), crate::domain::now_ms()],
    )?;
    Ok(())
}

pub fn general_id(conn: &Connection) -> Result<RoomId, StoreError> {
    Ok(conn.query_row(
        "SELECT id FROM rooms WHERE name_key = ?1",
        [GENERAL.to_lowercase()],
        |r| r.get(0),
    )?)
}

fn append(
    conn: &Connection,
    at: Millis,
    chat: Chat,
    data: EventData,
) -> Result<LogEvent, StoreError> {
    let json = serde_json::to_string(&data)
        .map_err(|e| Refusal::Internal(format!("cannot encode event: {e}")))?;
    conn.execute(
        "INSERT INTO events (at, chat, data) VALUES (?1, ?2, ?3)",
        params![at, chat.key(), json],
    )?;
    Ok(LogEvent {
        id: conn.last_insert_rowid() as EventId,
        at,
        chat,
        data,
        unread_after: None,
    })
}

pub fn load_account(conn: &Connection, key: &UserKey) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name, password_hash, acked_event FROM users WHERE key = ?1",
            [key.as_str()],
            |r| {
                Ok(Account {
                    name: r.get(0)?,
                    password_hash: r.get(1)?,
                    acked_event: r.get::<_, i64>(2)? as EventId,
                })
            },
        )
        .optional()?)
}

/// Creates an account (a guest when `password_hash` is `None`) and puts it in General.
/// Answers the existing account and `false` if the name is taken.
pub fn register(
    conn: &Connection,
    name: &str,
    password_hash: Option<String>,
    at: Millis,
) -> Result<Applied<(Account, bool)>, StoreError> {
    let key = UserKey::of(name);
    if let Some(existing) = load_account(conn, &key)? {
        return Ok(Applied::quiet((existing, false)));
    }
    conn.execute(
        "INSERT INTO users (key, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![key.as_str(), name, password_hash, at],
    )?;
    let general = general_id(conn)?;
    let event = join(conn, general, &key, name, at)?;
    let account = Account {
        name: name.to_owned(),
        password_hash,
        acked_event: 0,
    };
    Ok(Applied {
        value: (account, true),
        events: event.into_iter().collect(),
        origin: None,
    })
}

fn room_name(conn: &Connection, room: RoomId) -> Result<(String, Option<String>), StoreError> {
    conn.query_row(
        "SELECT name, creator FROM rooms WHERE id = ?1",
        [room],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| Refusal::NotFound("no such room".into()).into())
}

fn is_member(conn: &Connection, key: &UserKey, chat: &Chat) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM chat_members WHERE user_key = ?1 AND chat = ?2",
            params![key.as_str(), chat.key()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Adds `user` to `room`; `None` when already a member.
fn join(
    conn: &Connection,
    room: RoomId,
    key: &UserKey,
    name: &str,
    at: Millis,
) -> Result<Option<LogEvent>, StoreError> {
    let chat = Chat::Room(room);
    if is_member(conn, key, &chat)? {
        return Ok(None);
    }
    let (room_name, _) = room_name(conn, room)?;
    let event = append(
        conn,
        at,
        chat.clone(),
        EventData::Join {
            user: name.to_owned(),
            room: room_name,
            created: false,
            creator: None,
        },
    )?;
    conn.execute(
        "INSERT INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, ?3)",
        params![key.as_str(), chat.key(), event.id as i64],
    )?;
    Ok(Some(event))
}

pub fn join_room(
    conn: &Connection,
    room: RoomId,
    member: &Member,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<bool>, StoreError> {
    let event = join(conn, room, &member.key, &member.name, at)?;
    Ok(Applied {
        value: event.is_some(),
        events: event.into_iter().collect(),
        origin,
    })
}

pub fn leave_room(
    conn: &Connection,
    room: RoomId,
    member: &Member,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (key, name) = (&member.key, member.name.as_str());
    let chat = Chat::Room(room);
    if !is_member(conn, key, &chat)? {
        return Err(Refusal::NotFound("you are not in this room".into()).into());
    }
    let (room_name, _) = room_name(conn, room)?;
    let event = append(
        conn,
        at,
        chat.clone(),
        EventData::Leave {
            user: name.to_owned(),
            room: room_name,
        },
    )?;
    conn.execute(
        "DELETE FROM chat_members WHERE user_key = ?1 AND chat = ?2",
        params![key.as_str(), chat.key()],
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

pub fn create_room(
    conn: &Connection,
    room: NewRoom,
    origin: Option<SessionId>,
) -> Result<Applied<RoomId>, StoreError> {
    let (name, at) = (room.name.as_str(), room.at);
    let (creator_key, creator) = (&room.creator.key, room.creator.name.as_str());
    let taken = conn
        .query_row(
            "SELECT 1 FROM rooms WHERE name_key = ?1",
            [name.to_lowercase()],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Err(Refusal::Conflict("a room with this name already exists".into()).into());
    }
    conn.execute(
        "INSERT INTO rooms (name, name_key, creator, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, name.to_lowercase(), creator, at],
    )?;
    let room = conn.last_insert_rowid();
    let chat = Chat::Room(room);
    let event = append(
        conn,
        at,
        chat.clone(),
        EventData::Join {
            user: creator.to_owned(),
            room: name.to_owned(),
            created: true,
            creator: Some(creator.to_owned()),
        },
    )?;
    conn.execute(
        "INSERT INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, ?3)",
        params![creator_key.as_str(), chat.key(), event.id as i64],
    )?;
    Ok(Applied {
        value: room,
        events: vec![event],
        origin,
    })
}

/// Stores a message; a repeated `client_message_id` of the same sender answers the
/// first message's id (`true`) and appends nothing.
pub fn new_message(
    conn: &Connection,
    msg: NewMessage,
    origin: Option<SessionId>,
) -> Result<Applied<(MessageId, bool)>, StoreError> {
    let sender_key = UserKey::of(&msg.sender);
    if let Some(cmid) = &msg.client_message_id {
        let existing: Option<i64> = conn
            .query_row(
                "SELECT id FROM messages WHERE sender_key = ?1 AND client_message_id = ?2",
                params![sender_key.as_str(), cmid],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Applied::quiet((id as MessageId, true)));
        }
    }
    let chat_key = msg.chat.key();
    if let Chat::Direct(a, b) = &msg.chat {
        for k in [a, b] {
            conn.execute(
                "INSERT OR IGNORE INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, 0)",
                params![k.as_str(), chat_key],
            )?;
        }
    }
    let attachments = serde_json::to_string(&msg.attachments)
        .map_err(|e| Refusal::BadRequest(format!("invalid attachments: {e}")))?;
    conn.execute(
        "INSERT INTO messages (chat, sender, sender_key, client_message_id, body, attachments, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![chat_key, msg.sender, sender_key.as_str(), msg.client_message_id, msg.text, attachments, msg.at],
    )?;
    let id = conn.last_insert_rowid() as MessageId;
    let message = Message {
        id,
        sender: msg.sender,
        client_message_id: msg.client_message_id,
        text: msg.text,
        attachments: msg.attachments,
        created_at: msg.at,
        updated_at: msg.at,
        deleted: false,
    };
    let event = append(conn, msg.at, msg.chat, EventData::New { message })?;
    Ok(Applied {
        value: (id, false),
        events: vec![event],
        origin,
    })
}

/// Loads a message of `chat` written by `author`, not deleted.
fn own_message(
    conn: &Connection,
    chat: &Chat,
    id: MessageId,
    author: &UserKey,
) -> Result<Message, StoreError> {
    let message = super::reads::message(conn, chat, id)?
        .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?;
    if UserKey::of(&message.sender) != *author {
        return Err(Refusal::Forbidden("only its author can change a message".into()).into());
    }
    if message.deleted {
        return Err(Refusal::NotFound("this message was deleted".into()).into());
    }
    Ok(message)
}

pub fn edit_message(
    conn: &Connection,
    edit: Edit,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let mut message = own_message(conn, &edit.chat, edit.message_id, &edit.editor)?;
    message.text = edit.text;
    if let Some(a) = edit.attachments {
        message.attachments = a;
    }
    message.updated_at = edit.at;
    let attachments = serde_json::to_string(&message.attachments)
        .map_err(|e| Refusal::BadRequest(format!("invalid attachments: {e}")))?;
    conn.execute(
        "UPDATE messages SET body = ?1, attachments = ?2, updated_at = ?3 WHERE id = ?4",
        params![message.text, attachments, edit.at, edit.message_id as i64],
    )?;
    let event = append(conn, edit.at, edit.chat, EventData::Edit { message })?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Deletes a message: its text and attachments are erased, a tombstone remains.
pub fn delete_message(
    conn: &Connection,
    delete: Delete,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let Delete {
        chat,
        actor,
        message_id: id,
        at,
    } = delete;
    let message = own_message(conn, &chat, id, &actor)?;
    conn.execute(
        "UPDATE messages SET body = '', attachments = '[]', deleted = 1, updated_at = ?1 WHERE id = ?2",
        params![at, id as i64],
    )?;
    let event = append(
        conn,
        at,
        chat,
        EventData::Delete {
            message_id: id,
            sender: message.sender,
            client_message_id: message.client_message_id,
        },
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Marks every message of `chat` up to `upto` (default: the latest) as delivered to /
/// read by `reader`. A mark at or below the current watermark changes nothing and
/// answers the time of the first mark. `read` implies `dlvrd`.
pub fn mark(
    conn: &Connection,
    mark: Mark,
    origin: Option<SessionId>,
) -> Result<Applied<ReceiptOutcome>, StoreError> {
    let Mark {
        chat,
        reader,
        kind,
        upto,
        at,
    } = mark;
    let reader = reader.as_str();
    let key = UserKey::of(reader);
    let chat_key = chat.key();
    let upto = match upto {
        Some(id) => {
            if super::reads::message(conn, &chat, id)?.is_none() {
                return Err(Refusal::NotFound("no such message in this chat".into()).into());
            }
            id
        }
        None => conn.query_row(
            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat = ?1",
            [&chat_key],
            |r| r.get::<_, i64>(0),
        )? as MessageId,
    };
    let marks: Option<(i64, i64)> = conn
        .query_row(
            "SELECT delivered_upto, read_upto FROM chat_members WHERE user_key = ?1 AND chat = ?2",
            params![key.as_str(), chat_key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((delivered, read)) = marks else {
        return Err(Refusal::NotFound("you are not in this chat".into()).into());
    };
    let cmid = |id: MessageId| -> Result<Option<String>, StoreError> {
        Ok(conn
            .query_row(
                "SELECT client_message_id FROM messages WHERE id = ?1",
                [id as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    };
    let current = match kind {
        ReceiptKind::Dlvrd => delivered,
        ReceiptKind::Read => read,
    } as MessageId;
    if upto == 0 || upto <= current {
        let first: Option<Millis> = conn
            .query_row(
                "SELECT at FROM receipts WHERE chat = ?1 AND user_key = ?2 AND kind = ?3 AND upto >= ?4
                 ORDER BY upto LIMIT 1",
                params![chat_key, key.as_str(), kind.as_str(), upto as i64],
                |r| r.get(0),
            )
            .optional()?;
        let outcome = ReceiptOutcome {
            upto,
            client_message_id: if upto == 0 { None } else { cmid(upto)? },
            at: first.unwrap_or(at),
            unread: super::reads::unread(conn, &chat_key, &key, read as MessageId)?,
        };
        return Ok(Applied::quiet(outcome));
    }
    let mut kinds = vec![kind];
    if kind == ReceiptKind::Read && (delivered as MessageId) < upto {
        kinds.push(ReceiptKind::Dlvrd);
    }
    for k in &kinds {
        conn.execute(
            "INSERT OR IGNORE INTO receipts (chat, user_key, kind, upto, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![chat_key, key.as_str(), k.as_str(), upto as i64, at],
        )?;
        let column = match k {
            ReceiptKind::Dlvrd => "delivered_upto",
            ReceiptKind::Read => "read_upto",
        };
        conn.execute(
            &format!("UPDATE chat_members SET {column} = ?1 WHERE user_key = ?2 AND chat = ?3"),
            params![upto as i64, key.as_str(), chat_key],
        )?;
    }
    let read_upto = if kind == ReceiptKind::Read {
        upto
    } else {
        read as MessageId
    };
    let client_message_id = cmid(upto)?;
    let unread = super::reads::unread(conn, &chat_key, &key, read_upto)?;
    let mut event = append(
        conn,
        at,
        chat,
        EventData::Receipt {
            receipt: kind,
            reader: reader.to_owned(),
            upto,
            client_message_id: client_message_id.clone(),
            at,
        },
    )?;
    if kind == ReceiptKind::Read {
        event.unread_after = Some(unread);
    }
    Ok(Applied {
        value: ReceiptOutcome {
            upto,
            client_message_id,
            at,
            unread,
        },
        events: vec![event],
        origin,
    })
}

/// Remembers the last event a user acknowledged (never moves back).
pub fn set_acked(
    conn: &Connection,
    key: &UserKey,
    event: EventId,
) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "UPDATE users SET acked_event = MAX(acked_event, ?1) WHERE key = ?2",
        params![event as i64, key.as_str()],
    )?;
    Ok(Applied::quiet(()))
}

/// Keeps a new session token (its hash) for `key`.
pub fn issue_token(
    conn: &Connection,
    key: &UserKey,
    hash: &str,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO tokens (hash, user_key, created_at, used_at) VALUES (?1, ?2, ?3, ?3)",
        params![hash, key.as_str(), at],
    )?;
    Ok(Applied::quiet(()))
}

/// Records that a session token was used now (it expires when unused for long).
pub fn touch_token(conn: &Connection, hash: &str, at: Millis) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "UPDATE tokens SET used_at = ?1 WHERE hash = ?2",
        params![at, hash],
    )?;
    Ok(Applied::quiet(()))
}

/// Forgets a session token (logout).
pub fn revoke_token(conn: &Connection, hash: &str) -> Result<Applied<()>, StoreError> {
    conn.execute("DELETE FROM tokens WHERE hash = ?1", [hash])?;
    Ok(Applied::quiet(()))
}

/// Forgets tokens unused since `before`.
pub fn expire_tokens(conn: &Connection, before: Millis) -> Result<Applied<usize>, StoreError> {
    let n = conn.execute("DELETE FROM tokens WHERE used_at < ?1", [before])?;
    Ok(Applied::quiet(n))
}

/// Gives a guest-held name a password; `false` if it has one already.
pub fn claim_guest(
    conn: &Connection,
    key: &UserKey,
    hash: &str,
) -> Result<Applied<bool>, StoreError> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?1 WHERE key = ?2 AND password_hash IS NULL",
        params![hash, key.as_str()],
    )?;
    Ok(Applied::quiet(n == 1))
}

/// Erases a room's messages, receipts and earlier log entries, and logs the clearing.
pub fn clear_room(
    conn: &Connection,
    room: RoomId,
    actor: &str,
    at: Millis,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let (name, _) = room_name(conn, room)?;
    let chat = Chat::Room(room);
    let key = chat.key();
    conn.execute("DELETE FROM messages WHERE chat = ?1", [&key])?;
    conn.execute("DELETE FROM receipts WHERE chat = ?1", [&key])?;
    conn.execute("DELETE FROM events WHERE chat = ?1", [&key])?;
    let event = append(
        conn,
        at,
        chat,
        EventData::Clear {
            user: actor.to_owned(),
            room: name,
        },
    )?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}
