//! Receipt marks as the web app shows them: per own message in a direct chat
//! (sending / sent / delivered / read), and "seen by" in a room; and the marks this
//! client sends itself (`read` once per new message seen, `dlvrd` batched per chat).
//! Plain Rust, tested natively.

use crate::protocol::{MessageId, ReceiptMarks};
use std::collections::{BTreeMap, HashMap};

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

/// Moves a chat's marks forward to what `getReceipts` answered.
pub fn merge(marks: &mut ChatMarks, list: Vec<ReceiptMarks>) {
    for r in list {
        marks
            .entry(r.user_id)
            .or_default()
            .advance(r.delivered, r.read);
    }
}

/// The highest `read` this client sent per chat, so that each is sent once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSent {
    by_chat: HashMap<String, MessageId>,
}

impl ReadSent {
    /// True (and remembered) when `newest` was not yet marked read in `chat_id`.
    pub fn claim(&mut self, chat_id: &str, newest: MessageId) -> bool {
        if self
            .by_chat
            .get(chat_id)
            .is_some_and(|&sent| sent >= newest)
        {
            return false;
        }
        self.by_chat.insert(chat_id.to_owned(), newest);
        true
    }

    /// The `read` was not accepted: the next chance sends it again.
    pub fn release(&mut self, chat_id: &str) {
        self.by_chat.remove(chat_id);
    }

    pub fn clear(&mut self) {
        self.by_chat.clear();
    }
}

/// `dlvrd` marks waiting to be sent: the highest per chat, so that several arrivals
/// make one request per chat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveredDue {
    by_chat: BTreeMap<String, MessageId>,
}

impl DeliveredDue {
    /// Notes that `message_id` arrived in `chat_id`. True when nothing was waiting, so
    /// that a send is to be scheduled.
    pub fn add(&mut self, chat_id: &str, message_id: MessageId) -> bool {
        let was_empty = self.by_chat.is_empty();
        let due = self.by_chat.entry(chat_id.to_owned()).or_insert(0);
        *due = (*due).max(message_id);
        was_empty
    }

    /// Everything waiting, by chat; nothing waits after it.
    pub fn take(&mut self) -> Vec<(String, MessageId)> {
        std::mem::take(&mut self.by_chat).into_iter().collect()
    }

    pub fn clear(&mut self) {
        self.by_chat.clear();
    }
}

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
    fn listed_receipts_only_advance_the_marks() {
        let mut marks = ChatMarks::new();
        marks.insert(
            "al".into(),
            Marks {
                delivered: 9,
                read: 9,
            },
        );
        let listed = |user: &str, delivered, read| ReceiptMarks {
            user_id: user.into(),
            delivered,
            read,
        };
        merge(&mut marks, vec![listed("al", 3, 3), listed("bob", 5, 2)]);
        assert_eq!(
            marks["al"],
            Marks {
                delivered: 9,
                read: 9
            }
        );
        assert_eq!(
            marks["bob"],
            Marks {
                delivered: 5,
                read: 2
            }
        );
    }

    #[test]
    fn read_is_sent_once_per_newer_message() {
        let mut sent = ReadSent::default();
        assert!(sent.claim("#a", 5));
        assert!(!sent.claim("#a", 5));
        assert!(!sent.claim("#a", 4));
        assert!(sent.claim("#b", 5));
        assert!(sent.claim("#a", 6));
        sent.release("#a");
        assert!(sent.claim("#a", 6));
        sent.clear();
        assert!(sent.claim("#b", 5));
    }

    #[test]
    fn delivered_marks_batch_per_chat() {
        let mut due = DeliveredDue::default();
        assert!(due.add("#a", 5));
        assert!(!due.add("#a", 3));
        assert!(!due.add("bob", 7));
        assert_eq!(
            due.take(),
            vec![("#a".to_string(), 5), ("bob".to_string(), 7)]
        );
        assert!(due.take().is_empty());
        assert!(due.add("#a", 1));
        due.clear();
        assert!(due.add("#a", 2));
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
