//! Bringing one message of a chat into view: a search result, a reply's quote, a pin
//! or the first unread message may be older than the pages loaded. A timeline holds one
//! unbroken run of a chat's messages, from the newest back to the oldest page loaded,
//! so reaching an older message means loading the pages in between, newest first,
//! until it is there or the chat's start is. [`next_step`] decides each step; the web
//! app's store (`ui::store::jump`) runs them. Plain Rust, tested natively.

use crate::protocol::MessageId;
use crate::timeline::Timeline;

/// What to do next to show `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It is loaded (or was deleted while loaded): scroll to it.
    Show,
    /// Nothing is loaded yet: load the latest page first.
    LoadLatest,
    /// Load the page of older messages ending at this id.
    LoadOlder(MessageId),
    /// The chat's start is loaded and the message is not in it (deleted, cleared, or
    /// never in this chat).
    Missing,
}

/// The next step towards showing `target` in `timeline` (`None`: nothing loaded).
pub fn next_step(timeline: Option<&Timeline>, target: MessageId) -> Step {
    let Some(timeline) = timeline.filter(|t| t.has_older.is_some()) else {
        return Step::LoadLatest;
    };
    if timeline
        .lines()
        .iter()
        .any(|l| l.message_id == Some(target))
    {
        return Step::Show;
    }
    match (timeline.oldest_id(), timeline.older_page_end()) {
        // Older than everything loaded, and there is more: one page further back.
        (Some(oldest), Some(end)) if target < oldest => Step::LoadOlder(end),
        _ => Step::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MessageItem;

    fn item(id: MessageId) -> MessageItem {
        serde_json::from_value(serde_json::json!({
            "messageId": id, "sender": "alice", "message": format!("m{id}"),
            "createdAt": 1_700_000_000_000u64 + id, "updatedAt": 1_700_000_000_000u64 + id,
        }))
        .expect("item")
    }

    fn page(ids: std::ops::RangeInclusive<MessageId>) -> Vec<MessageItem> {
        ids.map(item).collect()
    }

    #[test]
    fn an_unloaded_chat_loads_its_latest_page_first() {
        assert_eq!(next_step(None, 5), Step::LoadLatest);
        assert_eq!(next_step(Some(&Timeline::default()), 5), Step::LoadLatest);
    }

    #[test]
    fn a_loaded_message_is_shown() {
        let mut t = Timeline::default();
        t.merge_latest(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), 150), Step::Show);
    }

    #[test]
    fn an_older_message_loads_pages_back_until_it_is_there() {
        let mut t = Timeline::default();
        t.merge_latest(&page(201..=300), 100);
        assert_eq!(next_step(Some(&t), 42), Step::LoadOlder(200));
        t.merge_older(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), 42), Step::LoadOlder(100));
        t.merge_older(&page(1..=100), 100);
        assert_eq!(next_step(Some(&t), 42), Step::Show);
    }

    #[test]
    fn a_message_not_in_the_chat_ends_at_its_start() {
        let mut t = Timeline::default();
        t.merge_latest(&page(10..=20), 100);
        // The page was not full: this is the whole chat.
        assert_eq!(next_step(Some(&t), 5), Step::Missing);
        // Newer than anything loaded, yet not there: not (or no longer) in this chat.
        assert_eq!(next_step(Some(&t), 25), Step::Missing);
        assert_eq!(next_step(Some(&t), 15), Step::Show);
    }
}
