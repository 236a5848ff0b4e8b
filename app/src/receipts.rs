//! Receipt marks as the web app shows them: per own message in a direct chat
//! (sending / sent / delivered / read), and "seen by" in a room. Plain Rust, tested
//! natively.

use crate::protocol::MessageId;
use std::collections::BTreeMap;

/// One member's watermarks in a chat: everything up to `delivered` was delivered to
/// them, up to `read` was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub delivered: MessageId,
    pub read: MessageId,
}

impl Marks {
    /// Moves the watermarks forward (never back); `read` implies delivered.
    pub fn advance(&mut self, delivered: MessageId, read: MessageId) {
        self.read = self.read.max(read);
        self.delivered = self.delivered.max(delivered).max(self.read);
    }
}

/// The marks of every member of one chat, by user name.
pub type ChatMarks = BTreeMap<String, Marks>;

/// What an own message shows in a direct chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not yet accepted by the server (sending, or queued while offline).
    Pending,
    Sent,
    Delivered,
    Read,
}

impl Mark {
    pub fn label(self) -> &'static str {
        match self {
            Mark::Pending => "Pending",
            Mark::Sent => "Sent",
            Mark::Delivered => "Delivered",
            Mark::Read => "Read",
        }
    }
}

/// The mark of own message `message_id` (None: not stored yet) given the other
/// user's watermarks.
pub fn dm_mark(message_id: Option<MessageId>, other: Marks) -> Mark {
    match message_id {
        None => Mark::Pending,
        Some(id) if other.read >= id => Mark::Read,
        Some(id) if other.delivered >= id => Mark::Delivered,
        Some(_) => Mark::Sent,
    }
}

/// Who (other than the author) has read message `message_id`, by name.
pub fn seen_by(message_id: MessageId, author: &str, marks: &ChatMarks) -> Vec<String> {
    marks
        .iter()
        .filter(|(user, m)| !user.eq_ignore_ascii_case(author) && m.read >= message_id)
        .map(|(user, _)| user.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_marks_follow_the_watermarks() {
        let m = |delivered, read| Marks { delivered, read };
        assert_eq!(dm_mark(None, m(9, 9)), Mark::Pending);
        assert_eq!(dm_mark(Some(5), m(0, 0)), Mark::Sent);
        assert_eq!(dm_mark(Some(5), m(5, 0)), Mark::Delivered);
        assert_eq!(dm_mark(Some(5), m(7, 5)), Mark::Read);
        assert_eq!(dm_mark(Some(8), m(7, 5)), Mark::Sent);
    }

    #[test]
    fn watermarks_only_advance_and_read_implies_delivered() {
        let mut m = Marks::default();
        m.advance(4, 0);
        m.advance(2, 0);
        assert_eq!(
            m,
            Marks {
                delivered: 4,
                read: 0
            }
        );
        m.advance(0, 9);
        assert_eq!(
            m,
            Marks {
                delivered: 9,
                read: 9
            }
        );
    }

    #[test]
    fn seen_by_skips_the_author_and_unread() {
        let mut marks = ChatMarks::new();
        marks.insert(
            "al".into(),
            Marks {
                delivered: 9,
                read: 9,
            },
        );
        marks.insert(
            "bob".into(),
            Marks {
                delivered: 9,
                read: 9,
            },
        );
        marks.insert(
            "cy".into(),
            Marks {
                delivered: 9,
                read: 3,
            },
        );
        assert_eq!(seen_by(5, "al", &marks), vec!["bob".to_string()]);
        assert_eq!(
            seen_by(2, "AL", &marks),
            vec!["bob".to_string(), "cy".to_string()]
        );
    }
}
