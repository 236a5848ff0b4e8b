//! Replies in the PostgreSQL store, as in SQLite's: a reply keeps only the id of the
//! message it answers; its quote is computed from the original's current row whenever
//! the reply is published, read or replayed, so erasing the original leaves no copy.

use super::db::{big, Db};
use crate::domain::{Chat, EventData, LogEvent, Message, Refusal};
use crate::store::StoreError;
use app::protocol::{MessageId, ReplyQuote};

/// The quote of message `id` of `chat` as it is now.
pub fn quote(db: &mut Db, chat: &Chat, id: MessageId) -> Result<ReplyQuote, StoreError> {
    let row = db.opt(
        "SELECT sender, body, deleted FROM messages WHERE id = $1 AND chat = $2",
        &[&big(id), &chat.key()],
    )?;
    Ok(match row {
        Some(r) => {
            let sender: String = r.try_get(0)?;
            let text: String = r.try_get(1)?;
            if r.try_get::<_, bool>(2)? {
                ReplyQuote::gone(id, &sender)
            } else {
                ReplyQuote::of(id, &sender, &text)
            }
        }
        None => ReplyQuote::gone(id, ""),
    })
}

/// The quote a new reply to `id` carries; refuses an original that is not a message
/// of `chat` or that was deleted.
pub fn check(db: &mut Db, chat: &Chat, id: MessageId) -> Result<ReplyQuote, StoreError> {
    let quote = quote(db, chat, id)?;
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
pub fn fill(db: &mut Db, chat: &Chat, message: &mut Message) -> Result<(), StoreError> {
    if let Some(id) = message.reply_to {
        message.quote = Some(quote(db, chat, id)?);
    }
    Ok(())
}

/// Fills the quote of the message a log event carries (replay).
pub fn fill_event(db: &mut Db, event: &mut LogEvent) -> Result<(), StoreError> {
    match &mut event.data {
        EventData::New { message } | EventData::Edit { message } => fill(db, &event.chat, message),
        _ => Ok(()),
    }
}
