//! Bringing one message of a chat into view: a search result, a reply's quote, a pin
//! or the first unread message may be older than the pages loaded. A timeline holds one
//! unbroken run of a chat's messages, from the newest back to the oldest page loaded,
//! so reaching an older message means loading the pages in between, newest first,
//! until it is there or the chat's start is. [`next_step`] decides each step; the web
//! app's store (`ui::store::jump`) runs them. Plain Rust, tested natively.

use crate::protocol::MessageId;
use crate::reading::first_unread;
use crate::timeline::Timeline;

/// The message to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This message.
    Message(MessageId),
    /// The first of the `unread` newest messages from others than `me`.
    FirstUnread { me: String, unread: u64 },
}

/// What to do next to show a [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It is loaded (or was deleted while loaded): scroll to this message.
    Show(MessageId),
    /// Nothing is loaded yet: load the latest page first.
    LoadLatest,
    /// Load the page of older messages ending at this id.
    LoadOlder(MessageId),
    /// The chat's start is loaded and the message is not in it (deleted, cleared, or
    /// never in this chat).
    Missing,
}

/// The next step towards showing `target` in `timeline` (`None`: nothing loaded).
pub fn next_step(timeline: Option<&Timeline>, target: &Target) -> Step {
    let Some(timeline) = timeline.filter(|t| t.has_older.is_some()) else {
        return Step::LoadLatest;
    };
    let lines = timeline.lines();
    let found = match target {
        Target::Message(id) => lines
            .iter()
            .any(|l| l.message_id == Some(*id))
            .then_some(*id),
        Target::FirstUnread { me, unread } => first_unread(lines, me, *unread),
    };
    let end = timeline.older_page_end();
    if let Some(id) = found {
        // Shown with what came before it: without it, the list would load that page
        // as soon as it scrolled there, and regroup the lines under the reader.
        let above = lines
            .iter()
            .take_while(|l| l.message_id != Some(id))
            .count();
        return match end {
            Some(end) if above < CONTEXT => Step::LoadOlder(end),
            _ => Step::Show(id),
        };
    }
    let older = match target {
        // Only an id older than everything loaded can be in an older page.
        Target::Message(id) => timeline.oldest_id().is_some_and(|oldest| *id < oldest),
        Target::FirstUnread { unread, .. } => *unread > 0,
    };
    match end {
        Some(end) if older => Step::LoadOlder(end),
        _ => Step::Missing,
    }
}

/// Lines loaded above a message shown, when the chat has them.
const CONTEXT: usize = 10;

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
        let target = Target::Message(5);
        assert_eq!(next_step(None, &target), Step::LoadLatest);
        assert_eq!(
            next_step(Some(&Timeline::default()), &target),
            Step::LoadLatest
        );
    }

    #[test]
    fn a_loaded_message_is_shown() {
        let mut t = Timeline::default();
        t.merge_latest(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), &Target::Message(150)), Step::Show(150));
    }

    #[test]
    fn an_older_message_loads_pages_back_until_it_is_there() {
        let mut t = Timeline::default();
        t.merge_latest(&page(201..=300), 100);
        let target = Target::Message(42);
        assert_eq!(next_step(Some(&t), &target), Step::LoadOlder(200));
        t.merge_older(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), &target), Step::LoadOlder(100));
        t.merge_older(&page(1..=100), 100);
        assert_eq!(next_step(Some(&t), &target), Step::Show(42));
    }

    #[test]
    fn a_message_near_the_top_of_what_is_loaded_gets_the_page_before_it() {
        let mut t = Timeline::default();
        t.merge_latest(&page(201..=300), 100);
        assert_eq!(
            next_step(Some(&t), &Target::Message(205)),
            Step::LoadOlder(200)
        );
        assert_eq!(next_step(Some(&t), &Target::Message(215)), Step::Show(215));
        t.merge_older(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), &Target::Message(205)), Step::Show(205));
        // At the chat's start there is nothing before it to load.
        let mut whole = Timeline::default();
        whole.merge_latest(&page(1..=20), 100);
        assert_eq!(next_step(Some(&whole), &Target::Message(2)), Step::Show(2));
    }

    #[test]
    fn a_message_not_in_the_chat_ends_at_its_start() {
        let mut t = Timeline::default();
        t.merge_latest(&page(10..=20), 100);
        // The page was not full: this is the whole chat.
        assert_eq!(next_step(Some(&t), &Target::Message(5)), Step::Missing);
        // Newer than anything loaded, yet not there: not (or no longer) in this chat.
        assert_eq!(next_step(Some(&t), &Target::Message(25)), Step::Missing);
        assert_eq!(next_step(Some(&t), &Target::Message(15)), Step::Show(15));
    }

    #[test]
    fn the_first_unread_message_loads_pages_back_until_enough_are_there() {
        let mut t = Timeline::default();
        t.merge_latest(&page(201..=300), 100);
        let target = Target::FirstUnread {
            me: "me".to_owned(),
            unread: 150,
        };
        assert_eq!(next_step(Some(&t), &target), Step::LoadOlder(200));
        t.merge_older(&page(101..=200), 100);
        assert_eq!(next_step(Some(&t), &target), Step::Show(151));
        // With fewer lines loaded above it: the page before first.
        let near = Target::FirstUnread {
            me: "me".to_owned(),
            unread: 195,
        };
        assert_eq!(next_step(Some(&t), &near), Step::LoadOlder(100));
        // More unread than the chat holds (a count from before a clear): its start.
        let all = Target::FirstUnread {
            me: "me".to_owned(),
            unread: 500,
        };
        t.merge_older(&page(1..=100), 100);
        assert_eq!(next_step(Some(&t), &all), Step::Missing);
    }
}
