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
    // 4: guests are visitors, no longer accounts. Rooms remember whether a guest made
    // them; the guests stored before are removed with their memberships and their
    // direct chats (which no guest could read), so that an account registering one of
    // their names later inherits nothing. Their room messages stay, under their name, with
    // a sender key no account has (`~key`).
    "
    ALTER TABLE rooms ADD COLUMN creator_guest INTEGER NOT NULL DEFAULT 0;
    UPDATE rooms SET creator_guest = 1
        WHERE creator IN (SELECT name FROM users WHERE password_hash IS NULL);
    CREATE TEMP TABLE gone_guests AS SELECT key FROM users WHERE password_hash IS NULL;
    CREATE TEMP TABLE gone_chats AS
        SELECT DISTINCT c.chat FROM
            (SELECT chat FROM chat_members UNION SELECT chat FROM messages
             UNION SELECT chat FROM events) c,
            gone_guests g
        WHERE c.chat LIKE 'd:%'
            AND (substr(c.chat, 3, length(g.key) + 1) = g.key || ':'
                 OR substr(c.chat, -(length(g.key) + 1)) = ':' || g.key);
    UPDATE messages SET sender_key = '~' || sender_key
        WHERE sender_key IN (SELECT key FROM gone_guests);
    DELETE FROM upload_refs WHERE message_id IN
        (SELECT id FROM messages WHERE chat IN (SELECT chat FROM gone_chats));
    DELETE FROM messages WHERE chat IN (SELECT chat FROM gone_chats);
    DELETE FROM receipts WHERE chat IN (SELECT chat FROM gone_chats);
    DELETE FROM events WHERE chat IN (SELECT chat FROM gone_chats);
    DELETE FROM chat_members WHERE chat IN (SELECT chat FROM gone_chats)
        OR user_key IN (SELECT key FROM gone_guests);
    DELETE FROM tokens WHERE user_key IN (SELECT key FROM gone_guests);
    DELETE FROM users WHERE key IN (SELECT key FROM gone_guests);
    DROP TABLE gone_chats;
    DROP TABLE gone_guests;
    ",
    // 5: message search. A full-text index of the messages' text (FTS5 with external
    // content: the text itself stays in `messages` alone; words folded without case or
    // diacritics; no per-row sizes, which only ranking would read). Triggers keep it
    // inside the writer's transaction: a message's words enter with it, an edit
    // replaces them, a delete (its body blanked) or a cleared room (its rows gone)
    // removes them. `secure-delete` takes a removed message's words out of the index
    // pages at once instead of leaving them until a merge: deleted means gone. The
    // messages already stored are indexed now.
    "
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content = 'messages', content_rowid = 'id', columnsize = 0,
        tokenize = 'unicode61 remove_diacritics 2');
    INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
    CREATE TRIGGER messages_fts_new AFTER INSERT ON messages WHEN new.body != '' BEGIN
        INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_gone AFTER DELETE ON messages WHEN old.body != '' BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    CREATE TRIGGER messages_fts_changed AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
            SELECT 'delete', old.id, old.body WHERE old.body != '';
        INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.body != '';
    END;
    INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE body != '';
    ",
    // 6: replies: the message a message answers (same chat). Only the id is kept; the
    // quote is read from the original each time, so its delete leaves no copy.
    "
    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
    ",
    // 7 (issue 12, reactions and pins): each person's emoji on a message, and the
    // pinned messages of each chat. Their `reaction` and `pin` events name their
    // message in `events.message_id`, so that a delete removes them with it.
    "
    CREATE TABLE reactions (
        message_id INTEGER NOT NULL,
        emoji      TEXT NOT NULL,
        user_key   TEXT NOT NULL,                -- `~key` for a guest
        user_name  TEXT NOT NULL,                -- display form
        at         INTEGER NOT NULL,
        PRIMARY KEY (message_id, emoji, user_key)
    ) WITHOUT ROWID;
    CREATE TABLE pins (
        chat       TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        pinned_by  TEXT NOT NULL,                -- display form
        at         INTEGER NOT NULL,
        PRIMARY KEY (chat, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX pins_by_message ON pins (message_id);
    ",
    // 8 (issue 12, files):  an upload keeps its original name (sent with the file as
    // `Content-Disposition`); a message keeps whom it mentions (`@name`, `@room`),
    // erased with it; each member's notification level per chat (no row: `all`).
    "
    ALTER TABLE uploads ADD COLUMN filename TEXT;
    ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE messages ADD COLUMN mentions_room INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE notify_levels (
        user_key TEXT NOT NULL,
        chat     TEXT NOT NULL,
        level    TEXT NOT NULL,
        PRIMARY KEY (user_key, chat)
    ) WITHOUT ROWID;
    ",
    // 9: the search index takes each group commit's new messages at once. FTS5 writes
    // its pending words to disk whenever a savepoint is released, and the writer
    // releases one per job: a trigger per insert made one index segment (and its
    // merges) per message, half the cost of a durable ack. New messages are now indexed
    // by the writer after the batch's jobs, inside the same transaction (so search
    // still sees exactly what is committed), up to `search_indexed.upto`; an edit or a
    // delete changes the index only for messages already in it (one not yet indexed is
    // indexed as it stands when its batch ends).
    "
    DROP TRIGGER messages_fts_new;
    CREATE TABLE search_indexed (upto INTEGER NOT NULL);
    INSERT INTO search_indexed (upto) SELECT coalesce(max(id), 0) FROM messages;
    DROP TRIGGER messages_fts_gone;
    CREATE TRIGGER messages_fts_gone AFTER DELETE ON messages
    WHEN old.body != '' AND old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    DROP TRIGGER messages_fts_changed;
    CREATE TRIGGER messages_fts_changed AFTER UPDATE OF body ON messages
    WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
            SELECT 'delete', old.id, old.body WHERE old.body != '';
        INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.body != '';
    END;
    ",
    // 10 (issue 13, who may join): each account's role (the first account, already
    // there or still to come, is the owner), the server's settings the owner changes
    // at run time (`registration`), and invitations: only the hash of each code is
    // kept (the code is shown once, to whoever made it), with the role it gives, the
    // sign-ups it has left and when it lapses.
    "
    ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
    UPDATE users SET role = 'owner' WHERE key =
        (SELECT key FROM users ORDER BY created_at, key LIMIT 1);
    CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE invites (
        id         TEXT PRIMARY KEY,             -- shown in lists, used to revoke
        code_hash  TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL,
        uses_left  INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,                -- display form
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 11 (issue 13, bans): who banned an account and when (NULL: not banned). A
    // banned account's session tokens are deleted with the ban; its messages stay.
    "
    ALTER TABLE users ADD COLUMN banned_by TEXT;
    ALTER TABLE users ADD COLUMN banned_at INTEGER;
    ",
    // 12 (issue 13, room moderation): a room's topic, whether it is private (listed to
    // its members only, joined by being added) or announcement-only (only its managers
    // post), the members muted in it, and how many days its messages are kept (0: for
    // ever).
    "
    ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
    ALTER TABLE rooms ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rooms ADD COLUMN announce INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE room_mutes (
        room INTEGER NOT NULL REFERENCES rooms(id),
        user_key TEXT NOT NULL,
        PRIMARY KEY (room, user_key)
    ) WITHOUT ROWID;
    ",
    // 13 (issue 13, people): a profile on each account (display name, about, avatar:
    // an upload's name, kept by the sweeper while set), and who blocked whom.
    "
    ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN about TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN avatar TEXT;
    CREATE TABLE blocks (
        user_key TEXT NOT NULL,
        blocked_key TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (user_key, blocked_key)
    ) WITHOUT ROWID;
    ",
    // 14 (issue 13, password resets): one reset code per account, kept as its hash
    // (the code is shown once, to whoever made it), valid until `expires_at` and
    // spent by its use. (What happens to a deleted account's messages is a row of
    // `settings`, `deleted_messages`.)
    "
    CREATE TABLE resets (
        user_key   TEXT PRIMARY KEY,
        code_hash  TEXT NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,                -- display form
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 15 (issue 14, push notifications): each device's Web Push subscription, keyed
    // by its endpoint (one person at a time), and each person's secret ntfy topic.
    // Neither is logged: they concern one person and are never replayed.
    "
    CREATE TABLE push_subscriptions (
        endpoint   TEXT PRIMARY KEY,
        user_key   TEXT NOT NULL,
        p256dh     BLOB NOT NULL,
        auth       BLOB NOT NULL,
        previews   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX push_subscriptions_user ON push_subscriptions (user_key, created_at);
    CREATE TABLE ntfy_topics (
        user_key TEXT PRIMARY KEY,
        topic    TEXT NOT NULL UNIQUE,
        previews INTEGER NOT NULL
    ) WITHOUT ROWID;
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

/// A database at schema `version`: the first `version` migrations applied (tests of
/// what happens to older databases).
#[cfg(test)]
pub(super) fn migrate_to(conn: &mut Connection, version: i64) -> Result<(), StoreError> {
    let upto = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
    for sql in &MIGRATIONS[..upto] {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", version)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database from before search, with messages (one of them deleted): the
    /// migration indexes the stored ones, and the index follows later writes.
    #[test]
    fn the_search_migration_indexes_the_messages_already_stored() {
        let mut conn = Connection::open_in_memory().expect("db");
        let before = MIGRATIONS
            .iter()
            .position(|m| m.contains("messages_fts USING fts5"))
            .expect("the search migration");
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.pragma_update(None, "user_version", before as i64)
            .expect("version");
        conn.execute_batch(
            "
            INSERT INTO messages (chat, sender, sender_key, body, created_at, updated_at, deleted) VALUES
                ('r:1', 'alice', 'alice', 'the boiler is fixed', 1, 1, 0),
                ('r:1', 'alice', 'alice', '', 1, 1, 1),
                ('r:1', 'bob', 'bob', 'Chaudière neuve', 1, 1, 0);
            ",
        )
        .expect("old rows");
        migrate(&mut conn).expect("migrate");
        let found = super::super::search::indexed;
        assert_eq!(found(&conn, "boiler"), vec![1]);
        assert_eq!(found(&conn, "chaudiere"), vec![3], "without diacritics");
        conn.execute("UPDATE messages SET body = 'a new kettle' WHERE id = 1", [])
            .expect("edit");
        assert!(found(&conn, "boiler").is_empty());
        assert_eq!(found(&conn, "kettle"), vec![1]);
        conn.execute("DELETE FROM messages WHERE id = 3", [])
            .expect("clear");
        assert!(found(&conn, "chaudiere").is_empty());
        let check: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'",
                [],
                |r| r.get(0),
            )
            .expect("integrity");
        assert_eq!(check, 0);
        conn.execute(
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the index matches the messages");
    }

    /// A database of schema 2 where a guest was stored as an account, with a direct
    /// chat, a room it made and a message in General: after the migration the guest,
    /// its memberships and its direct chat are gone, its room says a guest made it,
    /// and its message stays under a sender key no account has.
    #[test]
    fn guests_stored_before_are_removed_with_their_direct_chats() {
        let mut conn = Connection::open_in_memory().expect("db");
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.pragma_update(None, "user_version", 2)
            .expect("version");
        conn.execute_batch(
            "
            INSERT INTO users (key, name, password_hash, created_at) VALUES
                ('alice', 'alice', 'hash', 1), ('visitor', 'Visitor', NULL, 1);
            INSERT INTO rooms (id, name, name_key, creator, created_at) VALUES
                (1, 'General', 'general', NULL, 1), (2, 'Den', 'den', 'Visitor', 1);
            INSERT INTO chat_members (user_key, chat) VALUES
                ('alice', 'r:1'), ('visitor', 'r:1'), ('visitor', 'r:2'),
                ('alice', 'd:alice:visitor'), ('visitor', 'd:alice:visitor');
            INSERT INTO messages (chat, sender, sender_key, body, created_at, updated_at) VALUES
                ('d:alice:visitor', 'alice', 'alice', 'secret', 1, 1),
                ('r:1', 'Visitor', 'visitor', 'hello', 1, 1);
            INSERT INTO events (at, chat, data) VALUES (1, 'd:alice:visitor', '{}'), (1, 'r:1', '{}');
            ",
        )
        .expect("old rows");
        migrate(&mut conn).expect("migrate");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert_eq!(count("SELECT COUNT(*) FROM users"), 1);
        assert_eq!(
            count("SELECT COUNT(*) FROM chat_members WHERE user_key = 'visitor'"),
            0
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM chat_members WHERE chat LIKE 'd:%'"),
            0
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM messages WHERE chat LIKE 'd:%'"),
            0
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM events WHERE chat LIKE 'd:%'"),
            0
        );
        assert_eq!(count("SELECT COUNT(*) FROM events"), 1);
        assert_eq!(count("SELECT creator_guest FROM rooms WHERE id = 2"), 1);
        assert_eq!(count("SELECT creator_guest FROM rooms WHERE id = 1"), 0);
        let key: String = conn
            .query_row(
                "SELECT sender_key FROM messages WHERE chat = 'r:1'",
                [],
                |r| r.get(0),
            )
            .expect("message");
        assert_eq!(key, "~visitor");
        assert_eq!(
            count("SELECT COUNT(*) FROM chat_members WHERE user_key = 'alice'"),
            1
        );
    }
}
