//! Reactions and pinned messages in the hub: `react` and `pin` check what needs no
//! database (the emoji is one emoji of Unicode, the chat is the user's, the user's
//! budget) and hand the change to the store, whose `reaction` and `pin` events come
//! back through [`EventSink::publish`](crate::store::EventSink) like any other; `pins`
//! reads a chat's pinned messages. Any member of a chat may pin (roles come with issue
//! 4/6). Nothing here is on the path of a chat message.

use super::budgets::Spend;
use super::{Budget, Hub, Session};
use crate::domain::{now_ms, ChatRef, Refusal, UserKey};
use crate::store::{PinChange, React, StoredPin};
use app::protocol::{MessageId, MAX_EMOJI_BYTES, MAX_PINS_PER_CHAT, MAX_REACTIONS_PER_MESSAGE};
use std::time::Duration;

/// The limits of reactions and pins (docs/protocol.md 3.4), set by flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkLimits {
    /// Reactions and pins (added or taken back) one user may make per window.
    pub budget: Budget,
    /// Most distinct emoji on one message.
    pub per_message: usize,
    /// Most pinned messages in one chat.
    pub pins: usize,
}

/// Default budget of reactions and pins: 120 a minute (a quick toggler stays well
/// below; a script flooding a room's event logs does not).
pub const MARK_BUDGET: Budget = Budget::new(120, Duration::from_secs(60));

impl Default for MarkLimits {
    fn default() -> MarkLimits {
        MarkLimits {
            budget: MARK_BUDGET,
            per_message: MAX_REACTIONS_PER_MESSAGE,
            pins: MAX_PINS_PER_CHAT,
        }
    }
}

/// The emoji as Unicode writes it (`❤` and `❤️` are one emoji), or a refusal: one
/// emoji of the Unicode set (skin tones included), nothing else.
pub fn emoji_of(text: &str) -> Result<&'static str, Refusal> {
    if text.len() > MAX_EMOJI_BYTES {
        return Err(Refusal::BadRequest(format!(
            "emoji has at most {MAX_EMOJI_BYTES} bytes"
        )));
    }
    emojis::get(text)
        .map(|e| e.as_str())
        .ok_or_else(|| Refusal::BadRequest("emoji must be one emoji of Unicode".into()))
}

impl Hub {
    /// Adds (`add`) or takes back the user's `emoji` on a message. Idempotent: what
    /// is already so changes nothing and logs nothing.
    pub async fn react(
        &self,
        session: &Session,
        chat: &ChatRef,
        message_id: MessageId,
        emoji: &str,
        add: bool,
    ) -> Result<(), Refusal> {
        let emoji = emoji_of(emoji)?;
        let chat = self.chat_to_post(session, chat, false)?;
        self.take_budget(&session.user, Spend::Mark)?;
        let react = React {
            chat,
            message_id,
            emoji: emoji.to_owned(),
            user: session.name.clone(),
            guest: session.guest,
            add,
            max_distinct: self.limits.marks.per_message,
            at: now_ms(),
        };
        self.store
            .react(react, session.origin())
            .await
            .map(|_| ())
            .map_err(|e| e.into_refusal())
    }

    /// Pins or unpins a message of a chat the user is in. Idempotent.
    pub async fn pin(
        &self,
        session: &Session,
        chat: &ChatRef,
        message_id: MessageId,
        pinned: bool,
    ) -> Result<(), Refusal> {
        let chat = self.chat_to_post(session, chat, false)?;
        self.take_budget(&session.user, Spend::Mark)?;
        let pin = PinChange {
            chat,
            message_id,
            user: session.name.clone(),
            pinned,
            max_pins: self.limits.marks.pins,
            at: now_ms(),
        };
        self.store
            .pin(pin, session.origin())
            .await
            .map(|_| ())
            .map_err(|e| e.into_refusal())
    }

    /// The pinned messages of a chat the user is in, newest pin first.
    pub async fn pins(&self, user: &UserKey, chat: &ChatRef) -> Result<Vec<StoredPin>, Refusal> {
        let chat = self.chat_for(user, chat, true)?;
        self.store.pins(chat).await.map_err(|e| e.into_refusal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_of_unicode_is_an_emoji() {
        assert_eq!(emoji_of("👍"), Ok("👍"));
        assert!(emoji_of("👍🏽").is_ok(), "skin tones");
        assert!(emoji_of("👨‍👩‍👧‍👦").is_ok(), "a family");
        assert_eq!(emoji_of("❤"), emoji_of("❤️"), "one heart");
        for bad in ["", "a", "👍👍", "👍 ", "<b>", "\u{200b}", "🏽"] {
            assert!(emoji_of(bad).is_err(), "{bad:?}");
        }
        assert!(emoji_of(&"👍".repeat(30)).is_err());
    }
}
