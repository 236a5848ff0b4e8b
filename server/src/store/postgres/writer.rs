//! The group-commit writer of the PostgreSQL store, and the writes of the message log.
//!
//! As in SQLite's: every write is a job sent to one writer thread, which takes every
//! job waiting, runs each inside its own savepoint (a refused job rolls back alone),
//! commits once, hands the committed events to the hub in id order and only then
//! answers the jobs. What differs is that other nodes write the same log: ids come
//! from the `sequencer` row ([`next_id`]), locked by the first append of a batch and
//! held to its commit, so that batches writing the log commit one at a time, in id
//! order, over the whole cluster. Before publishing its own events, the writer hands
//! over those other nodes committed before them ([`publish_in_order`]).
//!
//! A lost connection fails the batch it was running (its callers are told, nothing of
//! it was committed) and the next batch reconnects.

use super::db::{big, Db};
use super::follow::{catch_up, CHANNEL};
use super::{connect_writer, Inner, PgStore};
use crate::domain::{Chat, EventData, LogEvent, Message, ReceiptKind, Refusal, SessionId, UserKey};
pub use crate::store::job::Applied;
use crate::store::job::JobOutcome;
use crate::store::{Delete, Edit, Mark, NewMessage, ReceiptOutcome, StoreError};
use app::protocol::{EventId, MessageId, Millis};
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed together.
const MAX_BATCH: usize = 1024;

pub(super) type JobFn = Box<dyn FnOnce(&mut Db) -> JobOutcome + Send>;

impl PgStore {
    /// Runs `job` in the writer thread inside the next group commit; resolves after the
    /// commit (and the publication of its events).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: JobFn = Box::new(move |db| JobOutcome::of(job(db), tx));
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
/// together, until the store closes.
pub(super) fn writer_loop(db: Db, mut rx: mpsc::UnboundedReceiver<JobFn>, inner: &Inner) {
    let mut db = Some(db);
    let mut batch: Vec<JobFn> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conn = match db.take() {
            Some(c) if !c.is_closed() => Ok(c),
            _ => connect_writer(&inner.config),
        };
        match conn {
            Ok(mut c) => {
                run_batch(&mut c, &mut batch, inner);
                db = Some(c);
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = batch.len(), "cannot reach PostgreSQL; the batch is refused");
                for job in batch.drain(..) {
                    // Run nothing: answer each caller with the failure.
                    drop(job);
                }
            }
        }
    }
    tracing::debug!("PostgreSQL writer stopped");
}

/// One group commit: each job in its own savepoint, one `COMMIT`, then the committed
/// events published in log order, and only then the jobs answered.
fn run_batch(db: &mut Db, batch: &mut Vec<JobFn>, inner: &Inner) {
    WAITED.set(None);
    if let Err(e) = db.batch("BEGIN") {
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        batch.clear();
        return;
    }
    let mut done: Vec<JobOutcome> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if let Err(e) = db.batch("SAVEPOINT job") {
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        let outcome = job(db);
        if outcome.ok {
            let _ = db.batch("RELEASE job");
            done.push(outcome);
        } else {
            let _ = db.batch("ROLLBACK TO job; RELEASE job");
            (outcome.finish)(Ok(()));
        }
    }
    // Tell the other nodes' followers to look, at the commit (not for a batch that
    // wrote no event).
    if done.iter().any(|j| !j.events.is_empty()) {
        if let Err(e) = db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &inner.node]) {
            tracing::warn!(error = %e, "cannot notify the other nodes; they will poll");
        }
    }
    // Held from before the commit until this batch is published: the follower cannot
    // hand this node's events to the hub first.
    let Ok(mut published) = inner.published.lock() else {
        let _ = db.batch("ROLLBACK");
        for job in done {
            (job.finish)(Err(StoreError::Closed));
        }
        return;
    };
    match db.batch("COMMIT") {
        Ok(()) => {
            inner.commits.fetch_add(1, Ordering::Relaxed);
            if let (Some(waited), Ok(mut timings)) = (WAITED.take(), inner.timings.lock()) {
                timings.lock_wait.record(waited);
            }
            if let Err(e) = publish_in_order(db, inner, &mut published, &done) {
                tracing::error!(error = %e, "cannot read the events other nodes committed first");
            }
            drop(published);
            for job in done {
                (job.finish)(Ok(()));
            }
        }
        Err(e) => {
            drop(published);
            // A commit whose answer was lost may have landed or not: PostgreSQL tells
            // neither after a broken connection. Callers are told it failed; a repeated
            // `new` finds its first copy by its clientMessageId.
            tracing::error!(error = %e, "commit failed; the batch is rolled back");
            let _ = db.batch("ROLLBACK");
            for job in done {
                (job.finish)(Err(StoreError::CommitFailed(e.to_string())));
            }
        }
    }
}

/// Hands the sink the events other nodes committed before this batch's own, then the
/// batch's, each once, in id order.
fn publish_in_order(
    db: &mut Db,
    inner: &Inner,
    published: &mut EventId,
    done: &[JobOutcome],
) -> Result<(), StoreError> {
    for job in done.iter().filter(|j| !j.events.is_empty()) {
        let (Some(first), Some(last)) = (job.events.first(), job.events.last()) else {
            continue;
        };
        if first.id > *published + 1 {
            catch_up(db, inner, published, Some(first.id))?;
        }
        if let Some(sink) = inner.sink.get() {
            sink.publish(&job.events, job.origin);
        }
        *published = (*published).max(last.id);
    }
    Ok(())
}

/// The next id of the log (`last_event`) or of messages (`last_message`): the first
/// call in a transaction locks the sequencer row until the commit.
fn next_id(db: &mut Db, which: Sequence) -> Result<u64, StoreError> {
    let first = WAITED.get().is_none();
    let started = std::time::Instant::now();
    let row = match which {
        Sequence::Event => db.one(
            "UPDATE sequencer SET last_event = last_event + 1 RETURNING last_event",
            &[],
        )?,
        Sequence::Message => db.one(
            "UPDATE sequencer SET last_message = last_message + 1 RETURNING last_message",
            &[],
        )?,
    };
    if first {
        WAITED.set(Some(started.elapsed()));
    }
    super::db::unsigned(&row, 0)
}

thread_local! {
    /// On the writer thread, during a batch: how long its first append waited for the
    /// sequencer row (none yet: the batch has not appended).
    static WAITED: std::cell::Cell<Option<std::time::Duration>> = const { std::cell::Cell::new(None) };
}

#[derive(Clone, Copy)]
enum Sequence {
    Event,
    Message,
}

/// Stores a message; a repeated `client_message_id` of the same sender answers the
/// first message's id (`true`) and appends nothing. Two nodes given the same one at
/// once cannot both store it: the second waits for the sequencer row, then finds the
/// first (or the unique index refuses it).
pub fn new_message(
    db: &mut Db,
    msg: NewMessage,
    origin: Option<SessionId>,
) -> Result<Applied<(MessageId, bool)>, StoreError> {
    let sender_key = msg.sender_key();
    // The row lock first: a concurrent copy of this message on another node commits
    // before this looks for it.
    let id = next_id(db, Sequence::Message)?;
    if let Some(cmid) = &msg.client_message_id {
        let existing = db.opt(
            "SELECT id FROM messages WHERE sender_key = $1 AND client_message_id = $2",
            &[&sender_key, cmid],
        )?;
        if let Some(row) = existing {
            // Give the id back: the savepoint would keep it taken.
            db.execute("UPDATE sequencer SET last_message = last_message - 1", &[])?;
            return Ok(Applied::quiet((super::db::unsigned(&row, 0)?, true)));
        }
    }
    let chat_key = msg.chat.key();
    // Who may write in a room is the database's word, not this node's memory (which
    // follows the log a moment behind): someone removed or muted through another node
    // a moment ago is refused. The sequencer row is held: no such change is under way.
    if let (Chat::Room(room), false) = (&msg.chat, msg.guest) {
        // One round trip on every room message's path.
        let row = db.one(
            "SELECT EXISTS (SELECT 1 FROM chat_members WHERE user_key = $1 AND chat = $2),
                    EXISTS (SELECT 1 FROM room_mutes WHERE room = $3 AND user_key = $1)",
            &[&sender_key, &chat_key, room],
        )?;
        let (member, muted): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
        if !member {
            return Err(Refusal::Forbidden("you are not a member of this room".into()).into());
        }
        if muted {
            return Err(Refusal::Forbidden("you are muted in this room".into()).into());
        }
    }
    if let Chat::Direct(a, b) = &msg.chat {
        for k in [a, b] {
            db.execute(
                "INSERT INTO chat_members (user_key, chat, joined_event) VALUES ($1, $2, 0)
                 ON CONFLICT DO NOTHING",
                &[&k.as_str(), &chat_key],
            )?;
        }
    }
    let quote = match msg.reply_to {
        Some(original) => Some(super::replies::check(db, &msg.chat, original)?),
        None => None,
    };
    let attachments = serde_json::to_string(&msg.attachments)
        .map_err(|e| Refusal::BadRequest(format!("invalid attachments: {e}")))?;
    let mentions = serde_json::to_string(&msg.mentions)
        .map_err(|e| Refusal::BadRequest(format!("invalid mentions: {e}")))?;
    let reply_to = msg.reply_to.map(big);
    db.execute(
        "INSERT INTO messages (id, chat, sender, sender_key, client_message_id, body, attachments,
             created_at, updated_at, reply_to, mentions, mentions_room)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
        &[
            &big(id),
            &chat_key,
            &msg.sender,
            &sender_key,
            &msg.client_message_id,
            &msg.text,
            &attachments,
            &msg.at,
            &reply_to,
            &mentions,
            &msg.mentions_room,
        ],
    )?;
    link_uploads(db, id, &msg.attachments)?;
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
    let event = append(db, msg.at, msg.chat, EventData::New { message })?;
    Ok(Applied {
        value: (id, false),
        events: vec![event],
        origin,
    })
}

/// Loads a message of `chat` written by `author` (an account), not deleted.
fn own_message(
    db: &mut Db,
    chat: &Chat,
    id: MessageId,
    author: &UserKey,
) -> Result<Message, StoreError> {
    let message = super::reads::message(db, chat, id)?
        .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?;
    let row = db.one("SELECT sender_key FROM messages WHERE id = $1", &[&big(id)])?;
    let sender_key: String = row.try_get(0)?;
    if sender_key != author.as_str() {
        return Err(Refusal::Forbidden("only its author can change a message".into()).into());
    }
    if message.deleted {
        return Err(Refusal::NotFound("this message was deleted".into()).into());
    }
    Ok(message)
}

pub fn edit_message(
    db: &mut Db,
    edit: Edit,
    origin: Option<SessionId>,
) -> Result<Applied<()>, StoreError> {
    let mut message = own_message(db, &edit.chat, edit.message_id, &edit.editor)?;
    message.text = edit.text;
    if let Some(a) = edit.attachments {
        unlink_uploads(db, edit.message_id)?;
        link_uploads(db, edit.message_id, &a)?;
        message.attachments = a;
    }
    message.updated_at = edit.at;
    let attachments = serde_json::to_string(&message.attachments)
        .map_err(|e| Refusal::BadRequest(format!("invalid attachments: {e}")))?;
    db.execute(
        "UPDATE messages SET body = $1, attachments = $2, updated_at = $3
         WHERE id = $4",
        &[&message.text, &attachments, &edit.at, &big(edit.message_id)],
    )?;
    let event = append(db, edit.at, edit.chat, EventData::Edit { message })?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Records that message `id` refers to the uploads among `attachments` (those stored
/// here), so that their files are kept while it does.
fn link_uploads(
    db: &mut Db,
    id: MessageId,
    attachments: &[app::protocol::Attachment],
) -> Result<(), StoreError> {
    for name in attachments
        .iter()
        .filter_map(|a| crate::domain::upload_of(&a.url))
    {
        db.execute(
            "INSERT INTO upload_refs (name, message_id)
             SELECT name, $2 FROM uploads WHERE name = $1
             ON CONFLICT DO NOTHING",
            &[&name, &big(id)],
        )?;
    }
    Ok(())
}

/// Drops message `id`'s references to uploads; those no other message refers to are
/// released.
pub(super) fn unlink_uploads(db: &mut Db, id: MessageId) -> Result<(), StoreError> {
    db.execute(
        "UPDATE uploads SET released = TRUE
         WHERE name IN (SELECT name FROM upload_refs WHERE message_id = $1)",
        &[&big(id)],
    )?;
    db.execute("DELETE FROM upload_refs WHERE message_id = $1", &[&big(id)])?;
    Ok(())
}

/// Erases a message's text and attachments from every `new` and `edit` event of the
/// log that carries them; the events keep their place and say `deleted`.
pub(super) fn scrub_events(db: &mut Db, id: MessageId) -> Result<(), StoreError> {
    db.execute(
        "UPDATE events SET data = (
                (data::jsonb #- '{message,attachments}' #- '{message,mentions}' #- '{message,mentions_room}')
                || jsonb_build_object('message',
                    ((data::jsonb -> 'message') - 'attachments' - 'mentions' - 'mentions_room')
                    || '{\"text\": \"\", \"deleted\": true}'::jsonb)
            )::text
         WHERE message_id = $1 AND data::jsonb ? 'message'",
        &[&big(id)],
    )?;
    Ok(())
}

/// Deletes a message: its text and attachments are erased, from the message and from
/// every event of the log that carried them; a tombstone remains.
pub fn delete_message(
    db: &mut Db,
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
        None => own_message(db, &chat, id, &actor)?,
        Some(_) => super::reads::message(db, &chat, id)?
            .filter(|m| !m.deleted)
            .ok_or_else(|| Refusal::NotFound("no such message in this chat".into()))?,
    };
    let by = moderator.filter(|m| UserKey::of(m) != UserKey::of(&message.sender));
    let event = erase(db, chat, message, by, at)?;
    Ok(Applied {
        value: (),
        events: vec![event],
        origin,
    })
}

/// Erases `message` of `chat` as a deletion does and logs the `delete`.
pub(super) fn erase(
    db: &mut Db,
    chat: Chat,
    message: Message,
    by: Option<String>,
    at: Millis,
) -> Result<LogEvent, StoreError> {
    let id = message.id;
    super::marks::erase_message(db, id)?;
    db.execute(
        "UPDATE messages SET body = '', attachments = '[]', mentions = '[]', mentions_room = FALSE,
             deleted = TRUE, updated_at = $1 WHERE id = $2",
        &[&at, &big(id)],
    )?;
    scrub_events(db, id)?;
    unlink_uploads(db, id)?;
    append(
        db,
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
/// read by `reader`; `read` implies `dlvrd`.
pub fn mark(
    db: &mut Db,
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
            if super::reads::message(db, &chat, id)?.is_none() {
                return Err(Refusal::NotFound("no such message in this chat".into()).into());
            }
            id
        }
        None => {
            let row = db.one(
                "SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat = $1",
                &[&chat_key],
            )?;
            super::db::unsigned(&row, 0)?
        }
    };
    let marks = db.opt(
        "SELECT delivered_upto, read_upto FROM chat_members WHERE user_key = $1 AND chat = $2",
        &[&key.as_str(), &chat_key],
    )?;
    let Some(marks) = marks else {
        return Err(Refusal::NotFound("you are not in this chat".into()).into());
    };
    let delivered = super::db::unsigned(&marks, 0)?;
    let read = super::db::unsigned(&marks, 1)?;
    let current = match kind {
        ReceiptKind::Dlvrd => delivered,
        ReceiptKind::Read => read,
    };
    if upto == 0 || upto <= current {
        let first = db.opt(
            "SELECT at FROM receipts WHERE chat = $1 AND user_key = $2 AND kind = $3 AND upto >= $4
             ORDER BY upto LIMIT 1",
            &[&chat_key, &key.as_str(), &kind.as_str(), &big(upto)],
        )?;
        let first: Option<Millis> = match first {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        };
        let outcome = ReceiptOutcome {
            upto,
            client_message_id: if upto == 0 {
                None
            } else {
                client_message_id(db, upto)?
            },
            at: first.unwrap_or(at),
            unread: super::reads::unread(db, &chat_key, &key, read)?,
        };
        return Ok(Applied::quiet(outcome));
    }
    let mut kinds = vec![kind];
    if kind == ReceiptKind::Read && delivered < upto {
        kinds.push(ReceiptKind::Dlvrd);
    }
    for k in &kinds {
        db.execute(
            "INSERT INTO receipts (chat, user_key, kind, upto, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&chat_key, &key.as_str(), &k.as_str(), &big(upto), &at],
        )?;
        match k {
            ReceiptKind::Dlvrd => db.execute(
                "UPDATE chat_members SET delivered_upto = $1 WHERE user_key = $2 AND chat = $3",
                &[&big(upto), &key.as_str(), &chat_key],
            )?,
            ReceiptKind::Read => db.execute(
                "UPDATE chat_members SET read_upto = $1 WHERE user_key = $2 AND chat = $3",
                &[&big(upto), &key.as_str(), &chat_key],
            )?,
        };
    }
    let read_upto = if kind == ReceiptKind::Read {
        upto
    } else {
        read
    };
    let client_message_id = client_message_id(db, upto)?;
    let unread = super::reads::unread(db, &chat_key, &key, read_upto)?;
    let unread_after = (kind == ReceiptKind::Read).then_some(unread);
    let event = append_with(
        db,
        at,
        chat,
        EventData::Receipt {
            receipt: kind,
            reader: reader.to_owned(),
            upto,
            client_message_id: client_message_id.clone(),
            at,
        },
        unread_after,
    )?;
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

fn client_message_id(db: &mut Db, id: MessageId) -> Result<Option<String>, StoreError> {
    let row = db.opt(
        "SELECT client_message_id FROM messages WHERE id = $1",
        &[&big(id)],
    )?;
    Ok(match row {
        Some(r) => r.try_get(0)?,
        None => None,
    })
}

/// Appends one event to the log with the next id of the sequencer; answers it.
pub(super) fn append(
    db: &mut Db,
    at: Millis,
    chat: Chat,
    data: EventData,
) -> Result<LogEvent, StoreError> {
    append_with(db, at, chat, data, None)
}

/// [`append`], with the reader's unread count after a read receipt.
fn append_with(
    db: &mut Db,
    at: Millis,
    chat: Chat,
    data: EventData,
    unread_after: Option<u64>,
) -> Result<LogEvent, StoreError> {
    let json = serde_json::to_string(&data)
        .map_err(|e| Refusal::Internal(format!("cannot encode event: {e}")))?;
    let message_id = match &data {
        EventData::New { message } | EventData::Edit { message } => Some(big(message.id)),
        EventData::Reaction { message_id, .. } | EventData::Pin { message_id, .. } => {
            Some(big(*message_id))
        }
        _ => None,
    };
    let id: EventId = next_id(db, Sequence::Event)?;
    db.execute(
        "INSERT INTO events (id, at, chat, data, message_id, unread_after) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&big(id), &at, &chat.key(), &json, &message_id, &unread_after.map(big)],
    )?;
    Ok(LogEvent {
        id,
        at,
        chat,
        data,
        unread_after,
    })
}
