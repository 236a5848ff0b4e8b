//! Message search on PostgreSQL: the `messages.search` column (a `tsvector` PostgreSQL
//! keeps from the body, schema.rs) and its GIN index, read on a reader connection.
//!
//! Words are compared as the SQLite store's FTS5 index (`unicode61 remove_diacritics 2`)
//! and the web app's highlighting ([`app::search`]) compare them: the body goes through
//! the schema's `search_words` function (lower case by Unicode's rules through the ICU
//! collation `und-x-icu`, whatever the database's locale; diacritics removed after
//! NFD; anything but letters and digits a space) and then the `simple` configuration,
//! which only splits at the spaces left. No extension is needed (`unaccent` would also
//! rewrite `ß` or `œ`, which FTS5 keeps), but the server must have ICU (PostgreSQL 16
//! and the usual packages do) and a UTF-8 database (`normalize`).
//!
//! The words typed are never SQL or query syntax: each term is folded by the same
//! `search_words`, and the `tsquery` is built here from the words that come back, each
//! one quoted lexeme, those of a term joined by `<->` (they must follow each other),
//! the last one of a prefix term marked `:*`, the terms joined by `&`. So `NEAR(`, `*`,
//! `OR`, `!` or a lone `'` are words to find (or nothing), never operators.
//!
//! Hits come newest first (`ORDER BY id DESC`, `before`/`limit`, one row more than the
//! page to know whether there is `more`); the planner picks between the GIN index (a
//! rare word) and walking the messages newest first (a common one). What cannot be
//! bounded that way (a common word in chats the user cannot read) is bounded by time:
//! the search runs in a read-only transaction with `SET LOCAL statement_timeout` of
//! [`SEARCH_DEADLINE`], and a search cancelled by it is refused as too broad, as the
//! SQLite store refuses one it interrupts. Readers never block the writer (MVCC).

use super::db::{big, unsigned, Db};
use super::reads::chat_from_key;
use crate::domain::{Chat, Message, Refusal};
use crate::store::{DirectScope, SearchHit, SearchPage, SearchQuery, StoreError};
use app::search::Term;
use postgres::error::SqlState;
use std::time::Duration;

/// Longest a search statement may run before PostgreSQL cancels it.
pub const SEARCH_DEADLINE: Duration = Duration::from_secs(1);

/// The chat keys `query` covers: its rooms, and its direct chats.
fn chat_keys(db: &mut Db, query: &SearchQuery) -> Result<Vec<String>, StoreError> {
    let mut keys: Vec<String> = query.rooms.iter().map(|r| Chat::Room(*r).key()).collect();
    match &query.direct {
        DirectScope::None => {}
        DirectScope::One(chat) => keys.push(chat.key()),
        DirectScope::AllOf(user) => {
            let rows = db.query(
                "SELECT chat FROM chat_members WHERE user_key = $1 AND chat LIKE 'd:%'",
                &[&user.as_str()],
            )?;
            for row in rows {
                keys.push(row.try_get(0)?);
            }
        }
    }
    Ok(keys)
}

/// One lexeme of a `tsquery`, quoted (the words `search_words` answers are letters and
/// digits only; quotes and backslashes are escaped all the same).
fn lexeme(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The `tsquery` for `terms`, given each term's words as `search_words` folded them;
/// `None` when a term has no word left (it can match nothing, so neither can the
/// search: FTS5 answers nothing for an empty phrase too).
pub fn ts_query(terms: &[Term], folded: &[String]) -> Option<String> {
    let mut parts = Vec::with_capacity(terms.len());
    for (term, words) in terms.iter().zip(folded) {
        let words: Vec<String> = words.split_whitespace().map(lexeme).collect();
        let mut part = words.join(" <-> ");
        if part.is_empty() {
            return None;
        }
        if term.prefix {
            part.push_str(":*");
        }
        parts.push(format!("({part})"));
    }
    if parts.is_empty() || parts.len() != terms.len() {
        return None;
    }
    Some(parts.join(" & "))
}

/// One page of a search, newest first.
pub fn search(db: &mut Db, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    if query.terms.is_empty() || query.limit == 0 {
        return Ok(SearchPage::default());
    }
    db.batch(&format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = {}",
        SEARCH_DEADLINE.as_millis()
    ))?;
    let found = run(db, query);
    // Ends the transaction (a failed one is rolled back) and with it the timeout.
    let end = db.batch("COMMIT");
    let page = match found {
        Err(StoreError::Postgres(e)) if e.code() == Some(&SqlState::QUERY_CANCELED) => {
            return Err(Refusal::BadRequest(
                "this search would take too long: add a word, or narrow it with from: or in:"
                    .into(),
            )
            .into());
        }
        other => other?,
    };
    end?;
    Ok(page)
}

fn run(db: &mut Db, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let keys = chat_keys(db, query)?;
    if keys.is_empty() {
        return Ok(SearchPage::default());
    }
    // PostgreSQL's text holds no NUL; no control character is part of a word anyway.
    let texts: Vec<String> = query
        .terms
        .iter()
        .map(|t| {
            t.text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        })
        .collect();
    let folded = db.texts(
        "SELECT search_words(t) FROM unnest($1::TEXT[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
        &[&texts],
    )?;
    let Some(ts_query) = ts_query(&query.terms, &folded) else {
        return Ok(SearchPage::default());
    };
    let before = query.before.map_or(i64::MAX, big);
    let sender = query.sender.as_ref().map(|s| s.as_str().to_owned());
    let rows = db.query(
        "SELECT id, chat, sender, client_message_id, body, created_at, updated_at
         FROM messages
         WHERE search @@ $1::TEXT::TSQUERY AND id < $2 AND NOT deleted
           AND chat = ANY($3::TEXT[])
           AND ($4::TEXT IS NULL OR sender_key = $4 OR sender_key = '~' || $4)
         ORDER BY id DESC
         LIMIT $5",
        &[
            &ts_query,
            &before,
            &keys,
            &sender,
            &i64::from(query.limit.saturating_add(1)),
        ],
    )?;
    let mut page = SearchPage::default();
    for row in rows {
        if page.hits.len() == query.limit as usize {
            page.more = true;
            break;
        }
        let chat: String = row.try_get(1)?;
        page.hits.push(SearchHit {
            chat: chat_from_key(&chat)?,
            message: Message {
                id: unsigned(&row, 0)?,
                sender: row.try_get(2)?,
                client_message_id: row.try_get(3)?,
                text: row.try_get(4)?,
                attachments: Vec::new(),
                created_at: row.try_get(5)?,
                updated_at: row.try_get(6)?,
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
    fn every_word_is_one_quoted_lexeme() {
        let terms = [
            term("hot water", false),
            term("x", false),
            term("boil", true),
        ];
        let folded = [" hot water ".to_string(), "o'\\r".into(), "boil".into()];
        assert_eq!(
            ts_query(&terms, &folded).as_deref(),
            Some(r"('hot' <-> 'water') & ('o''\\r') & ('boil':*)")
        );
    }

    /// A search held up past [`SEARCH_DEADLINE`] (here by a lock on the messages) is
    /// cancelled and refused as too broad, and the reader's next search runs.
    #[test]
    #[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
    fn a_search_past_the_deadline_is_refused_and_the_reader_goes_on() {
        let admin = std::env::var("PARLOR_TEST_PG").expect("PARLOR_TEST_PG");
        let mut locker = postgres::Client::connect(&admin, postgres::NoTls).expect("admin");
        let name = format!("unit_search_{}", super::super::node_id());
        locker
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("URL with a database");
        let config: postgres::Config = format!("{base}/{name}").parse().expect("URL");
        let mut locker = config.connect(postgres::NoTls).expect("connect");
        super::super::schema::migrate(&mut locker).expect("schema");
        locker
            .batch_execute(
                "INSERT INTO messages (id, chat, sender, sender_key, body, created_at, updated_at)
                 VALUES (1, 'r:1', 'alice', 'alice', 'The CHAUDIÈRE hums', 1, 1)",
            )
            .expect("a message");
        let mut reader = super::super::connect(&config).expect("reader");
        let query = SearchQuery {
            terms: vec![term("chaudiere", false)],
            rooms: vec![1],
            direct: DirectScope::None,
            sender: None,
            before: None,
            limit: 20,
        };

        let mut lock = locker.transaction().expect("begin");
        lock.batch_execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
            .expect("lock");
        let started = std::time::Instant::now();
        let refused = search(&mut reader, &query);
        let waited = started.elapsed();
        assert!(
            matches!(&refused, Err(StoreError::Refused(Refusal::BadRequest(m))) if m.contains("too long")),
            "{refused:?}"
        );
        assert!(
            waited >= SEARCH_DEADLINE && waited < SEARCH_DEADLINE * 5,
            "{waited:?}"
        );
        lock.commit().expect("unlock");

        let page = search(&mut reader, &query).expect("the next search runs");
        let texts: Vec<&str> = page.hits.iter().map(|h| h.message.text.as_str()).collect();
        assert_eq!(texts, vec!["The CHAUDIÈRE hums"]);
    }

    #[test]
    fn a_term_without_words_matches_nothing() {
        let terms = [term("zebra", false), term("\u{301}", false)];
        assert_eq!(ts_query(&terms, &["zebra".into(), " ".into()]), None);
    }
}
