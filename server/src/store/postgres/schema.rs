//! The PostgreSQL schema: the same tables as the SQLite store's (docs/architecture.md,
//! "The PostgreSQL store"), written for PostgreSQL's types, plus the one row every
//! writing transaction locks ([`SEQUENCER`]). Versions are recorded in
//! `parlor_schema`; a database written by a newer Parlor is refused. Several nodes may
//! start at once: the migration runs under a transaction-level advisory lock, so one of
//! them migrates and the others find it done.

use super::StoreError;

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has
/// shipped: add a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store holds at its schema 15.
    "
    CREATE TABLE sequencer (
        one          BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        last_event   BIGINT NOT NULL,
        last_message BIGINT NOT NULL
    );
    INSERT INTO sequencer (one, last_event, last_message) VALUES (TRUE, 0, 0);
    CREATE TABLE users (
        key           TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        password_hash TEXT,
        created_at    BIGINT NOT NULL,
        acked_event   BIGINT NOT NULL DEFAULT 0,
        role          TEXT NOT NULL DEFAULT 'member',
        banned_by     TEXT,
        banned_at     BIGINT,
        display_name  TEXT NOT NULL DEFAULT '',
        about         TEXT NOT NULL DEFAULT '',
        avatar        TEXT
    );
    CREATE TABLE rooms (
        id             BIGSERIAL PRIMARY KEY,
        name           TEXT NOT NULL,
        name_key       TEXT NOT NULL UNIQUE,
        creator        TEXT,
        created_at     BIGINT NOT NULL,
        creator_guest  BOOLEAN NOT NULL DEFAULT FALSE,
        topic          TEXT NOT NULL DEFAULT '',
        retention_days BIGINT NOT NULL DEFAULT 0,
        private        BOOLEAN NOT NULL DEFAULT FALSE,
        announce       BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE room_mutes (
        room     BIGINT NOT NULL REFERENCES rooms(id),
        user_key TEXT NOT NULL,
        PRIMARY KEY (room, user_key)
    );
    CREATE TABLE chat_members (
        user_key       TEXT NOT NULL,
        chat           TEXT NOT NULL,
        joined_event   BIGINT NOT NULL DEFAULT 0,
        delivered_upto BIGINT NOT NULL DEFAULT 0,
        read_upto      BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (user_key, chat)
    );
    CREATE INDEX chat_members_by_chat ON chat_members (chat);
    -- The words of a text as search compares them (search.rs): lower case (Unicode's
    -- rules whatever the database's locale, hence ICU), diacritics dropped (NFD, then
    -- the combining diacritical marks removed), anything that is not a letter or a
    -- digit a space. IMMUTABLE, so that a generated column may use it.
    CREATE FUNCTION search_words(body TEXT) RETURNS TEXT
        LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
        AS $f$ SELECT regexp_replace(
            regexp_replace(normalize(lower(body COLLATE \"und-x-icu\"), NFD),
                '[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]+', '', 'g'),
            '[^[:alnum:]]+', ' ', 'g') $f$;
    -- Message ids come from the sequencer (never a sequence: a rolled-back job must not
    -- leave a gap, and ids must commit in order across nodes).
    CREATE TABLE messages (
        id                BIGINT PRIMARY KEY,
        chat              TEXT NOT NULL,
        sender            TEXT NOT NULL,
        sender_key        TEXT NOT NULL,
        client_message_id TEXT,
        body              TEXT NOT NULL,
        attachments       TEXT NOT NULL DEFAULT '[]',
        created_at        BIGINT NOT NULL,
        updated_at        BIGINT NOT NULL,
        deleted           BOOLEAN NOT NULL DEFAULT FALSE,
        reply_to          BIGINT,
        mentions          TEXT NOT NULL DEFAULT '[]',
        mentions_room     BOOLEAN NOT NULL DEFAULT FALSE,
        -- The words search finds (kept by PostgreSQL from the body).
        search            TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', search_words(body))) STORED
    );
    CREATE INDEX messages_by_chat ON messages (chat, id);
    CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_key, client_message_id)
        WHERE client_message_id IS NOT NULL;
    CREATE INDEX messages_search ON messages USING GIN (search);
    CREATE TABLE receipts (
        chat     TEXT NOT NULL,
        user_key TEXT NOT NULL,
        kind     TEXT NOT NULL,
        upto     BIGINT NOT NULL,
        at       BIGINT NOT NULL,
        PRIMARY KEY (chat, kind, upto, user_key)
    );
    -- The one append-only log; its id (from the sequencer) is the event id clients see.
    CREATE TABLE events (
        id         BIGINT PRIMARY KEY,
        at         BIGINT NOT NULL,
        chat       TEXT NOT NULL,
        data       TEXT NOT NULL,
        message_id BIGINT,
        -- A read receipt: the reader's unread count after it (for the hubs of other
        -- nodes, which did not compute it).
        unread_after BIGINT
    );
    CREATE INDEX events_by_chat ON events (chat, id);
    CREATE INDEX events_by_message ON events (message_id) WHERE message_id IS NOT NULL;
    CREATE TABLE tokens (
        hash       TEXT PRIMARY KEY,
        user_key   TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        used_at    BIGINT NOT NULL
    );
    CREATE INDEX tokens_by_user ON tokens (user_key);
    -- Uploaded files live in `upload_files` (every node serves them); `uploads` is
    -- their bookkeeping, as in SQLite.
    CREATE TABLE uploads (
        name       TEXT PRIMARY KEY,
        owner_key  TEXT NOT NULL,
        bytes      BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        released   BOOLEAN NOT NULL DEFAULT FALSE,
        filename   TEXT
    );
    CREATE INDEX uploads_by_owner ON uploads (owner_key);
    CREATE TABLE upload_files (
        name    TEXT PRIMARY KEY,
        content BYTEA NOT NULL
    );
    CREATE TABLE upload_refs (
        name       TEXT NOT NULL,
        message_id BIGINT NOT NULL,
        PRIMARY KEY (name, message_id)
    );
    CREATE INDEX upload_refs_by_message ON upload_refs (message_id);
    CREATE TABLE reactions (
        message_id BIGINT NOT NULL,
        emoji      TEXT NOT NULL,
        user_key   TEXT NOT NULL,
        user_name  TEXT NOT NULL,
        at         BIGINT NOT NULL,
        PRIMARY KEY (message_id, emoji, user_key)
    );
    CREATE TABLE pins (
        chat       TEXT NOT NULL,
        message_id BIGINT NOT NULL,
        pinned_by  TEXT NOT NULL,
        at         BIGINT NOT NULL,
        PRIMARY KEY (chat, message_id)
    );
    CREATE INDEX pins_by_message ON pins (message_id);
    CREATE TABLE notify_levels (
        user_key TEXT NOT NULL,
        chat     TEXT NOT NULL,
        level    TEXT NOT NULL,
        PRIMARY KEY (user_key, chat)
    );
    CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE invites (
        id         TEXT PRIMARY KEY,
        code_hash  TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL,
        uses_left  BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE blocks (
        user_key    TEXT NOT NULL,
        blocked_key TEXT NOT NULL,
        at          BIGINT NOT NULL,
        PRIMARY KEY (user_key, blocked_key)
    );
    CREATE TABLE resets (
        user_key   TEXT PRIMARY KEY,
        code_hash  TEXT NOT NULL UNIQUE,
        expires_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE push_subscriptions (
        endpoint   TEXT PRIMARY KEY,
        user_key   TEXT NOT NULL,
        p256dh     BYTEA NOT NULL,
        auth       BYTEA NOT NULL,
        previews   BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX push_subscriptions_user ON push_subscriptions (user_key, created_at);
    CREATE TABLE ntfy_topics (
        user_key TEXT PRIMARY KEY,
        topic    TEXT NOT NULL UNIQUE,
        previews BOOLEAN NOT NULL
    );
    ",
];

/// The schema version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The advisory lock key nodes take while migrating ("parlor" in ASCII).
const MIGRATION_LOCK: i64 = 0x7061_726c_6f72;

/// Applies the migrations this database lacks, under an advisory lock (several nodes
/// may start at once); answers the version it was at.
pub fn migrate(client: &mut postgres::Client) -> Result<i64, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS parlor_schema (version BIGINT NOT NULL)")?;
    let found: i64 = tx
        .query_opt("SELECT version FROM parlor_schema", &[])?
        .map(|r| r.get(0))
        .unwrap_or(0);
    if found > CURRENT {
        return Err(StoreError::TooNew {
            found,
            known: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql)?;
        tracing::info!(version = i + 1, "applied PostgreSQL schema migration");
    }
    if found < CURRENT {
        tx.execute("DELETE FROM parlor_schema", &[])?;
        tx.execute(
            "INSERT INTO parlor_schema (version) VALUES ($1)",
            &[&CURRENT],
        )?;
    }
    tx.commit()?;
    Ok(found)
}
