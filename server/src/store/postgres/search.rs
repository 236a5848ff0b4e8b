//! Message search on PostgreSQL: the FTS5 index `messages_fts` (schema migrations 5 and 9),
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

use super::db::Db;
use super::reads::chat_from_key;
use crate::domain::{Chat, Message, Refusal};
use crate::store::{DirectScope, SearchHit, SearchPage, SearchQuery, StoreError};
use app::protocol::MessageId;
use app::search::Term;
use std::time::{Duration, Instant};

/// One page of a search, newest first.
// PORT: search
pub fn search(db: &mut Db, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let _ = (query);
    Err(super::not_ported("search"))
}
