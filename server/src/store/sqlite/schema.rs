//! The database schema and its migrations, applied in order and recorded in
//! `PRAGMA user_version`. A database written by a newer Parlor is refused.

use super::StoreError;
use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has
/// shipped: add a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, rooms, memberships, messages, receipts and the event log.
    "
    CREATE TABLE users (
        key           TEXT PRIMARY KEY,          -- lowercase name
        name          TEXT NOT NULL,             -- display form
        password_hash TEXT,                      -- NULL for guests
        created_at    INTEGER NOT NULL,
        acked_event   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE rooms (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        name_key   TEXT NOT NULL UNIQUE,         -- lowercase name
        creator    TEXT,
        created_at INTEGER NOT NULL
    );
    -- Who is in which chat (rooms and direct chats), with read/delivered watermarks.
    CREATE TABLE chat_members (
        user_key      TEXT NOT NULL,
        chat          TEXT NOT NULL,
        joined_event  INTEGER NOT NULL DEFAULT 0,
        delivered_upto INTEGER NOT NULL DEFAULT 0,
        read_upto     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_key, chat)
    ) WITHOUT ROWID;
    CREATE INDEX chat_members_by_chat ON chat_members (chat);
    CREATE TABLE messages (
        id                INTEGER PRIMARY KEY,
        chat              TEXT NOT NULL,
        sender            TEXT NOT NULL,
        sender_key        TEXT NOT NULL,
        client_message_id TEXT,
        body              TEXT NOT NULL,
        attachments       TEXT NOT NULL DEFAULT '[]',
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        deleted           INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_by_chat ON messages (chat, id);
    CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_key, client_message_id)
        WHERE client_message_id IS NOT NULL;
    -- Every receipt mark: a watermark `upto` set at time `at`.
    CREATE TABLE receipts (
        chat     TEXT NOT NULL,
        user_key TEXT NOT NULL,
        kind     TEXT NOT NULL,
        upto     INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        PRIMARY KEY (chat, kind, upto, user_key)
    ) WITHOUT ROWID;
    -- The one append-only log; its id is the event id clients see.
    CREATE TABLE events (
        id   INTEGER PRIMARY KEY AUTOINCREMENT,
        at   INTEGER NOT NULL,
        chat TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX events_by_chat ON events (chat, id);
    ",
    // 2: session tokens (stored hashed) for logins without the password.
    "
    CREATE TABLE tokens (
        hash       TEXT PRIMARY KEY,
        user_key   TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        used_at    INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX tokens_by_user ON tokens (user_key);
    ",
    // 3: deleted means gone. Each `new` and `edit` event names its message, so that a
    // delete can find and scrub them; the events of messages deleted before this
    // version are scrubbed now. Uploads are tracked: who stored how many bytes, and
    // which messages refer to each file, so that unreferenced files can be removed.
    "
    ALTER TABLE events ADD COLUMN message_id INTEGER;
    UPDATE events SET message_id = json_extract(data, '$.message.id')
        WHERE json_extract(data, '$.kind') IN ('new', 'edit');
    CREATE INDEX events_by_message ON events (message_id) WHERE message_id IS NOT NULL;
    UPDATE events SET data = json_remove(
            json_set(data, '$.message.text', '', '$.message.deleted', json('true')),
            '$.message.attachments')
        WHERE message_id IN (SELECT id FROM messages WHERE deleted = 1);
    CREATE TABLE uploads (
        name       TEXT PRIMARY KEY,             -- the file's name under uploads/
        owner_key  TEXT NOT NULL,
        bytes      INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        -- set when the last message referring to it went away: removed at once
        released   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX uploads_by_owner ON uploads (owner_key);
    CREATE TABLE upload_refs (
        name       TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (name, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX upload_refs_by_message ON upload_refs (message_id);
    ",
];

/// The version from which the log is scrubbed on delete (see migration 3).
pub const SCRUBBED_FROM: i64 = 3;

/// The schema version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations this database lacks; answers the version it was at.
pub fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT {
        return Err(StoreError::TooNew {
            found,
            known: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(found)
}
