//! The group-commit writer, and the writes of the message log, the jobs it runs most.
//!
//! Every write is a job sent to one writer thread. The thread takes every job that is
//! waiting, runs each inside its own savepoint (a refused job rolls back alone), commits
//! once (fsync), then hands the committed log events to the hub through
//! [`EventSink::publish`](crate::store::EventSink) in id order (the store's one way back
//! up) and only then answers the jobs. So an acknowledged write is durable, fan-out
//! order is log order, and one fsync carries as many messages as arrived while the
//! previous one was running.
//!
//! The message operations (`new`, edit, delete, receipts) and [`append`], which adds a
//! row to the event log, are here so that a chat message can be followed from its job to
//! its commit and publication in one file; the other writes are in `ops`.

use super::{Inner, SqliteStore};
use crate::domain::{Chat, EventData, LogEvent, Message, ReceiptKind, Refusal, SessionId, UserKey};
pub use crate::store::job::Applied;
use crate::store::job::JobOutcome;
use crate::store::{Delete, Edit, Mark, NewMessage, ReceiptOutcome, StoreError};
use app::protocol::{EventId, MessageId, Millis};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed together.
const MAX_BATCH: usize = 1024;

pub(super) type JobFn = Box<dyn FnOnce(&Connection) -> JobOutcome + Send>;

impl SqliteStore {
    /// Runs `job` in the writer thread inside the next group commit; resolves after the
    /// commit (and the publication of its events).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: JobFn = Box::new(move |conn| JobOutcome::of(job(conn), tx));
        let sent = {
            let guard = self.inner.jobs.lock().map_err(|_| StoreError::Closed)?;
            match guard.as_ref() {
                Some(jobs) => jobs.send(boxed).is_ok(),
                None => false,
            }
        };
        if !sent {
            return Err(StoreError::Closed);
        }
        rx.await.unwrap_or(Err(StoreError::Closed))
    }
}

/// The writer thread: takes every job waiting (up to [`MAX_BATCH`]) and commits them
/// together, until the store closes; then empties the WAL.
pub(super) fn writer_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<JobFn>, inner: &Inner) {
    let mut batch: Vec<JobFn> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch, inner);
    }
    // Closing: copy the whole WAL into the database and empty it, so that the next
    // start does not read (recover) a long WAL first.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "the closing WAL checkpoint failed");
    }
    tracing::debug!("store writer stopped");
}

/// One group commit: each job in its own savepoint, one `COMMIT`, then the committed
/// events published in log order, and only then the jobs answered.
fn run_batch(conn: &Connection, batch: &mut Vec<JobFn>, inner: &Inner) {
    if let Err(e) = run_sql(conn, "BEGIN IMMEDIATE") {
        // Dropping the jobs drops their answer channels: callers see `Closed`.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        batch.clear();
        return;
    }
    let mut done: Vec<JobOutcome> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if let Err(e) = run_sql(conn, "SAVEPOINT job") {
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        let outcome = job(conn);
        if outcome.ok {
            let _ = run_sql(conn, "RELEASE job");
            done.push(outcome);
        } else {
            let _ = run_sql(conn, "ROLLBACK TO job");
            let _ = run_sql(conn, "RELEASE job");
            (outcome.finish)(Ok(()));
        }
    }
    inner
        .stats
        .jobs
        .fetch_add(done.len() as u64, Ordering::Relaxed);
    // The batch's new messages enter the search index with it, in one segment.
    let committed = super::search::index_new(conn).and_then(|()| run_sql(conn, "COMMIT"));
    match committed {
        Ok(()) => {
            inner.stats.commits.fetch_add(1, Ordering::Relaxed);
            if let Some(sink) = inner.sink.get() {
                for job in &done {
                    if !job.events.is_empty() {
                        sink.publish(&job.events, job.origin);
                    }
                }
            }
            for job in done {
                (job.finish)(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the batch is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            for job in done {
                (job.finish)(Err(StoreError::CommitFailed(e.to_string())));
            }
        }
    }
}

/// Runs one statement without parameters from the connection's statement cache: the
/// writer runs `SAVEPOINT`/`RELEASE` twice per job, and parsing them each time cost
/// more than the message's own insert.
fn run_sql(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Stores a message; a repeated `client_message_id` of the same sender answers the
/// first message's id (`true`) and appends nothing.
pub fn new_message(
    conn: &Connection,
    msg: NewMessage,
    origin: Option<SessionId>,
) -> Result<Applied<(MessageId, bool)>, StoreError> {
    let sender_key = msg.sender_key();
    if let Some(cmid) = &msg.client_message_id {
        let existing: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM messages WHERE sender_key = ?1 AND client_message_id = ?2",
            )?
            .query_row(params![sender_key, cmid], |r| r.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(Applied::quiet((id as MessageId, true)));
        }
    }
    let chat_key = msg.chat.key();
    if let Chat::Direct(a, b) = &msg.chat {
        for k in [a, b] {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO chat_members (user_key, chat, joined_event) VALUES (?1, ?2, 0)",
            )?
            .execute(params![k.as_str(), chat_key])?;
        }
    }
    let quote = match msg.reply_to {
        Some(original) => Some(super::replies::check(conn, &msg.chat, original)?),
        None => None,
    };
    let attachments = serde_json::to_string(&msg.attachments)
        .map_err(|e| Refusal::BadRequest(format!("invalid attachments: {e}")))?;
    let mentions = serde_json::to_string(&msg.mentions)
        .map_err(|e| Refusal::BadRequest(format!("invalid mentions: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO messages (chat, sender, sender_key, client_message_id, body, attachments, created_at, updated_at, reply_to, mentions, mentions_room)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![chat_key, msg.sender, sender_key, msg.client_message_id, msg.text, attachments, msg.at,
            msg.reply_to.map(|id| id as i64), mentions, msg.mentions_room],
    )?;
    let id = conn.last_insert_rowid() as MessageId;
    link_uploads(conn, id, &msg.attachments)?;
    let message = Message {
        id,
        sender: msg.sender,
        client_message_id: msg.client_message_id,
        text: msg.text,
        attachments: msg.attachments,
        created_at: msg.at,
        updated_at: msg.at,
        deleted: false,
        reply_to: msg.reply_to,
        quote,
        mentions: msg.mentions,
        mentions_room: msg.mentions_room,
    };
    let event = append(conn, msg.at, msg.chat, EventData::New { message })?;
    Ok(Applied {
        value: (id, false),
        events: vec![event],
        origin,
    })
}

/// Loads a message of `chat` written by `author` (an account), not deleted.
fn own_message(
    conn: &Connection,
    chat: &Chat,
    id: MessageId,
    author: &UserKey,
) -> Result<Message, StoreError> {
    let message = super::reads::message(conn, chat, id)?
        .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?;
    let sender_key: String = conn.query_row(
        "SELECT sender_key FROM messages WHERE id = ?1",
        [id as i64],
        |r| r.get(0),
    )?;
    if sender_key != author.as_str() {
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
        unlink_uploads(conn, edit.message_id)?;
        link_uploads(conn, edit.message_id, &a)?;
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

/// Records that message `id` refers to the uploads among `attachments` (those stored
/// here), so that their files are kept while it does.
fn link_uploads(
    conn: &Connection,
    id: MessageId,
    attachments: &[app::protocol::Attachment],
) -> Result<(), StoreError> {
    for name in attachments
        .iter()
        .filter_map(|a| crate::domain::upload_of(&a.url))
    {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO upload_refs (name, message_id)
             SELECT name, ?2 FROM uploads WHERE name = ?1",
        )?
        .execute(params![name, id as i64])?;
    }
    Ok(())
}

/// Drops message `id`'s references to uploads; those no other message refers to are
/// released (removed at the next sweep, without waiting for the grace period).
pub(super) fn unlink_uploads(conn: &Connection, id: MessageId) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE uploads SET released = 1
         WHERE name IN (SELECT name FROM upload_refs WHERE message_id = ?1)",
    )?
    .execute([id as i64])?;
    conn.prepare_cached("DELETE FROM upload_refs WHERE message_id = ?1")?
        .execute([id as i64])?;
    Ok(())
}

/// Erases a message's text and attachments from every `new` and `edit` event of the
/// log that carries them; the events keep their place (ids, author, times), so replay
/// positions and receipts stay valid, and say `deleted`.
pub(super) fn scrub_events(conn: &Connection, id: MessageId) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE events SET data = json_remove(
                json_set(data, '$.message.text', '', '$.message.deleted', json('true')),
                '$.message.attachments', '$.message.mentions', '$.message.mentions_room')
            WHERE message_id = ?1",
    )?
    .execute([id as i64])?;
    Ok(())
}

/// Deletes a message: its text and attachments are erased, from the message and from
/// every event of the log that carried them; a tombstone remains.
pub fn delete_message(
    conn: &Connection,
    delete: Delete,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let Delete {
        chat,
        actor,
        moderator,
        message_id: id,
        at,
    } = delete;
    let message = match &moderator {
        None => own_message(conn, &chat, id, &actor)?,
        Some(_) => super::reads::message(conn, &chat, id)?
            .filter(|m| !m.deleted)
            .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?,
    };
    // A moderator removing their own message is its author removing it.
    let by = moderator.filter(|m| UserKey::of(m) != UserKey::of(&message.sender));
    let event = erase(conn, chat, message, by, at)?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Erases `message` of `chat` as a deletion does (its text and attachments from the
/// message and from every event of the log that carried them, its reactions, pins and
/// upload references), leaving a tombstone, and logs the `delete` (`by`: who removed
/// it, when not its sender).
pub(super) fn erase(
    conn: &Connection,
    chat: Chat,
    message: Message,
    by: Option<String>,
    at: Millis,
) -> Result<LogEvent, StoreError> {
    let id = message.id;
    // Its reactions and pin go first, with their events (which name it too).
    super::marks::erase_message(conn, id)?;
    conn.execute(
        "UPDATE messages SET body = '', attachments = '[]', mentions = '[]', mentions_room = 0,
             deleted = 1, updated_at = ?1 WHERE id = ?2",
        params![at, id as i64],
    )?;
    scrub_events(conn, id)?;
    unlink_uploads(conn, id)?;
    append(
        conn,
        at,
        chat,
        EventData::Delete {
            message_id: id,
            sender: message.sender,
            client_message_id: message.client_message_id,
            by,
        },
    )
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
        conn.prepare_cached(
            "INSERT OR IGNORE INTO receipts (chat, user_key, kind, upto, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![chat_key, key.as_str(), k.as_str(), upto as i64, at])?;
        let column = match k {
            ReceiptKind::Dlvrd => "delivered_upto",
            ReceiptKind::Read => "read_upto",
        };
        conn.prepare_cached(&format!(
            "UPDATE chat_members SET {column} = ?1 WHERE user_key = ?2 AND chat = ?3"
        ))?
        .execute(params![upto as i64, key.as_str(), chat_key])?;
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

/// Appends one event to the log; answers it with its id.
pub(super) fn append(
    conn: &Connection,
    at: Millis,
    chat: Chat,
    data: EventData,
) -> Result<LogEvent, StoreError> {
    let json = serde_json::to_string(&data)
        .map_err(|e| Refusal::Internal(format!("cannot encode event: {e}")))?;
    // The message an event carries the content of, so that a delete can scrub it (or,
    // for a reaction or a pin, remove it).
    let message_id = match &data {
        EventData::New { message } | EventData::Edit { message } => Some(message.id as i64),
        EventData::Reaction { message_id, .. } | EventData::Pin { message_id, .. } => {
            Some(*message_id as i64)
        }
        _ => None,
    };
    conn.prepare_cached("INSERT INTO events (at, chat, data, message_id) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![at, chat.key(), json, message_id])?;
    Ok(LogEvent {
        id: conn.last_insert_rowid() as EventId,
        at,
        chat,
        data,
        unread_after: None,
    })
}
