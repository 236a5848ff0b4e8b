//! Message search on SQLite: the FTS5 index `messages_fts` (schema migrations 5 and 9),
//! kept in the writer's transaction, read on a reader connection.
//!
//! New messages enter the index once per group commit ([`index_new`], after the
//! batch's jobs, before `COMMIT`): FTS5 writes its pending words as a new segment
//! whenever a savepoint is released, so indexing inside each job's savepoint cost one
//! segment and its merges per message. Edits and deletes of messages already indexed
//! change it through triggers, in their job.
//!
//! The index is walked from the newest matching message down (`ORDER BY rowid DESC`,
//! which FTS5 serves without sorting), each candidate checked against the chats the
//! hub allowed and the sender, until the page is full: a rare word costs a few steps,
//! a common one in chats the user can read stops as soon as the page is full. What
//! cannot be bounded that way (a common word in chats the user cannot read) is bounded
//! by time: a progress handler interrupts the statement after [`SEARCH_DEADLINE`], and
//! the search is refused as too broad. Readers never block the writer (WAL).
//!
//! The words typed are never SQL or FTS5 syntax: each term becomes one FTS5 string
//! (`"…"` with inner quotes doubled), so `NEAR(`, `*`, `OR` or a lone `"` are words
//! to find, never operators.

use super::reads::chat_from_key;
use crate::domain::{Chat, Message, Refusal};
use crate::store::{DirectScope, SearchHit, SearchPage, SearchQuery, StoreError};
use app::protocol::MessageId;
use app::search::Term;
use rusqlite::{params, Connection, ErrorCode};
use std::time::{Duration, Instant};

/// Longest a search statement may run before it is interrupted.
pub const SEARCH_DEADLINE: Duration = Duration::from_secs(1);

/// SQLite virtual-machine steps between two looks at the clock.
const STEPS_PER_CHECK: i32 = 4096;

/// The FTS5 query for `terms`: each term one quoted string (so the tokenizer splits
/// it into words that must follow each other; control characters become spaces), all
/// of them required; a prefix term ends in `*`.
pub fn fts_query(terms: &[Term]) -> String {
    let mut out = String::new();
    for term in terms {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('"');
        for c in term.text.chars() {
            match c {
                '"' => out.push_str("\"\""),
                // A NUL would end the string early for FTS5's parser.
                c if c.is_control() => out.push(' '),
                c => out.push(c),
            }
        }
        out.push('"');
        if term.prefix {
            out.push('*');
        }
    }
    out
}

/// The chat keys `query` covers: its rooms, and its direct chats.
fn chat_keys(conn: &Connection, query: &SearchQuery) -> Result<Vec<String>, StoreError> {
    let mut keys: Vec<String> = query.rooms.iter().map(|r| Chat::Room(*r).key()).collect();
    match &query.direct {
        DirectScope::None => {}
        DirectScope::One(chat) => keys.push(chat.key()),
        DirectScope::AllOf(user) => {
            let mut stmt = conn.prepare_cached(
                "SELECT chat FROM chat_members WHERE user_key = ?1 AND chat LIKE 'd:%'",
            )?;
            for key in stmt.query_map([user.as_str()], |r| r.get::<_, String>(0))? {
                keys.push(key?);
            }
        }
    }
    Ok(keys)
}

/// Indexes the messages stored since the last call (ids above `search_indexed.upto`),
/// in the writer's open transaction, outside any job's savepoint: one FTS5 segment per
/// group commit. `upto` follows the largest id, also down when the newest rows were
/// removed (a cleared room), so that an id used again is indexed.
pub fn index_new(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages_fts (rowid, body)
         SELECT id, body FROM messages WHERE id > (SELECT upto FROM search_indexed) AND body != ''",
    )?
    .execute([])?;
    conn.prepare_cached(
        "UPDATE search_indexed SET upto = (SELECT coalesce(max(id), 0) FROM messages)
         WHERE upto IS NOT (SELECT coalesce(max(id), 0) FROM messages)",
    )?
    .execute([])?;
    Ok(())
}

/// One page of a search, newest first.
pub fn search(conn: &Connection, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let keys = chat_keys(conn, query)?;
    if keys.is_empty() || query.terms.is_empty() || query.limit == 0 {
        return Ok(SearchPage::default());
    }
    let keys =
        serde_json::to_string(&keys).map_err(|e| StoreError::Corrupt(format!("chat keys: {e}")))?;
    let before = query
        .before
        .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    let deadline = Instant::now() + SEARCH_DEADLINE;
    conn.progress_handler(STEPS_PER_CHECK, Some(move || Instant::now() > deadline));
    let found = run(conn, query, &keys, before);
    conn.progress_handler(0, None::<fn() -> bool>);
    match found {
        Err(StoreError::Sqlite(e))
            if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) =>
        {
            Err(Refusal::BadRequest(
                "this search would take too long: add a word, or narrow it with from: or in:"
                    .into(),
            )
            .into())
        }
        // The query is built so that FTS5 always understands it; should it not, the
        // searcher is told so, and the log says why.
        Err(StoreError::Sqlite(e)) if e.to_string().starts_with("fts5:") => {
            tracing::warn!(error = %e, "a search query FTS5 did not accept");
            Err(Refusal::BadRequest("this search cannot be run; try other words".into()).into())
        }
        other => other,
    }
}

fn run(
    conn: &Connection,
    query: &SearchQuery,
    keys: &str,
    before: i64,
) -> Result<SearchPage, StoreError> {
    // CROSS JOIN keeps the index walk outside: newest match first, stopping at the limit.
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.chat, m.sender, m.client_message_id, m.body, m.created_at, m.updated_at
         FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid
         WHERE messages_fts MATCH ?1 AND f.rowid < ?2
           AND m.deleted = 0
           AND m.chat IN (SELECT value FROM json_each(?3))
           AND (?4 IS NULL OR m.sender_key = ?4 OR m.sender_key = '~' || ?4)
         ORDER BY f.rowid DESC
         LIMIT ?5",
    )?;
    let sender = query.sender.as_ref().map(|s| s.as_str().to_owned());
    let rows = stmt.query_map(
        params![
            fts_query(&query.terms),
            before,
            keys,
            sender,
            query.limit.saturating_add(1)
        ],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        },
    )?;
    let mut page = SearchPage::default();
    for row in rows {
        let (id, chat, sender, client_message_id, text, created_at, updated_at) = row?;
        if page.hits.len() == query.limit as usize {
            page.more = true;
            break;
        }
        page.hits.push(SearchHit {
            chat: chat_from_key(&chat)?,
            message: Message {
                id: id as MessageId,
                sender,
                client_message_id,
                text,
                attachments: Vec::new(),
                created_at,
                updated_at,
                deleted: false,
                reply_to: None,
                quote: None,
                mentions: Vec::new(),
                mentions_room: false,
            },
        });
    }
    Ok(page)
}

/// The ids the index holds for `query`, in order (the tests' view of the index).
#[cfg(test)]
pub(super) fn indexed(conn: &Connection, query: &str) -> Vec<i64> {
    let mut stmt = conn
        .prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid")
        .expect("prepare");
    stmt.query_map([query], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str, prefix: bool) -> Term {
        Term {
            text: text.into(),
            phrase: false,
            prefix,
        }
    }

    #[test]
    fn every_term_is_one_quoted_string() {
        let terms = [
            term("NEAR(a", false),
            term("say \"hi\"\u{0}", false),
            term("boil", true),
        ];
        assert_eq!(fts_query(&terms), r#""NEAR(a" "say ""hi"" " "boil"*"#);
    }

    /// The index is walked newest first without a sort, outside the message lookup.
    #[test]
    fn the_plan_walks_the_index_newest_first() {
        let dir = tempfile::tempdir().expect("dir");
        let store = super::super::SqliteStore::open(dir.path()).expect("store");
        let conn =
            super::super::open_conn(&dir.path().join(super::super::DB_FILE), true).expect("reader");
        let mut stmt = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT m.id FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid
                 WHERE messages_fts MATCH 'x' AND f.rowid < 5 AND m.deleted = 0
                   AND m.chat IN (SELECT value FROM json_each('[]'))
                 ORDER BY f.rowid DESC LIMIT 3",
            )
            .expect("plan");
        let plan: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect();
        assert!(plan[0].contains("VIRTUAL TABLE INDEX"), "{plan:?}");
        assert!(
            plan.iter().any(|p| p.contains("USING INTEGER PRIMARY KEY")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
        store.shut();
    }

    /// Messages enter the index when the batch ends, as they stand then: one edited or
    /// deleted before is indexed with its last text (or not at all), one indexed before
    /// changes through the triggers, and a cleared newest row lets its id be indexed
    /// again. FTS5's own check agrees with the table after each step.
    #[test]
    fn new_messages_enter_the_index_once_per_batch() {
        let mut conn = Connection::open_in_memory().expect("db");
        super::super::schema::migrate(&mut conn).expect("schema");
        let add = |conn: &Connection, body: &str| -> i64 {
            conn.execute(
                "INSERT INTO messages (chat, sender, sender_key, body, created_at, updated_at)
                 VALUES ('r:1', 'alice', 'alice', ?1, 1, 1)",
                [body],
            )
            .expect("insert");
            conn.last_insert_rowid()
        };
        let found = super::indexed;
        let consistent = |conn: &Connection| {
            conn.execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .expect("the index matches the messages");
        };
        let boiler = add(&conn, "the boiler");
        let kettle = add(&conn, "a kettle");
        let gone = add(&conn, "secret plans");
        assert!(
            found(&conn, "boiler").is_empty(),
            "not before the batch ends"
        );
        conn.execute(
            "UPDATE messages SET body = 'a teapot' WHERE id = ?1",
            [kettle],
        )
        .expect("edit before indexing");
        conn.execute(
            "UPDATE messages SET body = '', deleted = 1 WHERE id = ?1",
            [gone],
        )
        .expect("delete before indexing");
        index_new(&conn).expect("index");
        assert_eq!(found(&conn, "boiler"), vec![boiler]);
        assert!(found(&conn, "kettle").is_empty());
        assert_eq!(found(&conn, "teapot"), vec![kettle]);
        assert!(found(&conn, "secret").is_empty());
        consistent(&conn);

        conn.execute(
            "UPDATE messages SET body = 'the furnace' WHERE id = ?1",
            [boiler],
        )
        .expect("edit after indexing");
        assert!(found(&conn, "boiler").is_empty());
        assert_eq!(found(&conn, "furnace"), vec![boiler]);
        consistent(&conn);

        conn.execute("DELETE FROM messages WHERE id = ?1", [gone])
            .expect("remove the newest row");
        index_new(&conn).expect("index");
        let again = add(&conn, "a new stove");
        assert_eq!(again, gone, "SQLite gives the largest id out again");
        index_new(&conn).expect("index");
        assert_eq!(found(&conn, "stove"), vec![again]);
        consistent(&conn);
    }
}
