//! Replies in the SQLite store: a reply keeps only the id of the message it answers
//! (`messages.reply_to`, and `reply_to` in its log snapshot). Its quote (author, first
//! line, or "deleted") is computed here from the original's current row whenever the
//! reply is published, read or replayed. So a delete or a cleared room, which erase
//! the original's text, leave no copy of it inside the replies or the event log, and an
//! edit of the original shows in the quote at the next read.

use crate::domain::{Chat, EventData, LogEvent, Message, Refusal};
use crate::store::StoreError;
use app::protocol::{MessageId, ReplyQuote};
use rusqlite::{params, Connection, OptionalExtension};

/// The quote of message `id` of `chat` as it is now (`deleted` when it was deleted,
/// or no longer exists because its room was cleared).
pub fn quote(conn: &Connection, chat: &Chat, id: MessageId) -> Result<ReplyQuote, StoreError> {
    let row: Option<(String, String, bool)> = conn
        .prepare_cached("SELECT sender, body, deleted FROM messages WHERE id = ?1 AND chat = ?2")?
        .query_row(params![id as i64, chat.key()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(match row {
        Some((sender, text, false)) => ReplyQuote::of(id, &sender, &text),
        Some((sender, _, true)) => ReplyQuote::gone(id, &sender),
        None => ReplyQuote::gone(id, ""),
    })
}

/// The quote a new reply to `id` carries; refuses an original that is not a message
/// of `chat` or that was deleted.
pub fn check(conn: &Connection, chat: &Chat, id: MessageId) -> Result<ReplyQuote, StoreError> {
    let quote = quote(conn, chat, id)?;
    if quote.deleted {
        let why = if quote.sender.is_empty() {
            "replyTo: no such message in this chat"
        } else {
            "replyTo: that message was deleted"
        };
        return Err(Refusal::NotFound(why.into()).into());
    }
    Ok(quote)
}

/// Fills the quote of `message` when it is a reply.
pub fn fill(conn: &Connection, chat: &Chat, message: &mut Message) -> Result<(), StoreError> {
    if let Some(id) = message.reply_to {
        message.quote = Some(quote(conn, chat, id)?);
    }
    Ok(())
}

/// Fills the quote of the message a log event carries (replay).
pub fn fill_event(conn: &Connection, event: &mut LogEvent) -> Result<(), StoreError> {
    match &mut event.data {
        EventData::New { message } | EventData::Edit { message } => {
            fill(conn, &event.chat, message)
        }
        _ => Ok(()),
    }
}
