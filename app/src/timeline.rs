//! The messages of one chat as a client shows them, without any browser dependency.
//!
//! Messages reach a client several ways: a `getMessages` page, live `new` events,
//! events replayed by `subscribe`, and the client's own optimistic copy of a message it
//! is sending (which then comes back as a response and as an event). [`Timeline`] merges
//! them so that each message appears once, in `messageId` order, with the messages
//! still being sent at the end. The web app (`ui`) keeps one per chat; it is plain Rust
//! so that it is tested natively.

use crate::protocol::{MessageEvent, MessageId, MessageItem, Millis};

/// One message line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Stable identity for rendering: fixed when the line is first seen.
    pub key: String,
    /// `None` while the server has not yet accepted the message.
    pub message_id: Option<MessageId>,
    pub client_message_id: Option<String>,
    pub sender: String,
    pub text: String,
    pub created_at: Millis,
    pub state: LineState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineState {
    /// Stored by the server.
    Sent,
    /// Sent by this client, not yet answered.
    Sending,
    /// The server refused it (rate limit, …); kept so the user sees what failed.
    Failed,
}

impl Line {
    fn key_for(message_id: Option<MessageId>, client_message_id: Option<&str>) -> String {
        match (client_message_id, message_id) {
            (Some(c), _) => format!("c:{c}"),
            (None, Some(m)) => format!("m:{m}"),
            (None, None) => String::new(),
        }
    }

    /// A line for a message this client is about to send.
    pub fn sending(client_message_id: String, sender: String, text: String, now: Millis) -> Line {
        Line {
            key: Line::key_for(None, Some(&client_message_id)),
            message_id: None,
            client_message_id: Some(client_message_id),
            sender,
            text,
            created_at: now,
            state: LineState::Sending,
        }
    }

    pub fn from_item(item: &MessageItem) -> Line {
        Line {
            key: Line::key_for(Some(item.message_id), item.client_message_id.as_deref()),
            message_id: Some(item.message_id),
            client_message_id: item.client_message_id.clone(),
            sender: item.sender.clone(),
            text: item.message.clone(),
            created_at: item.created_at,
            state: LineState::Sent,
        }
    }

    pub fn from_event(event: &MessageEvent, fallback_time: Millis) -> Line {
        Line {
            key: Line::key_for(Some(event.message_id), event.client_message_id.as_deref()),
            message_id: Some(event.message_id),
            client_message_id: event.client_message_id.clone(),
            sender: event.sender.clone().unwrap_or_default(),
            text: event.message.clone(),
            created_at: event.created_at.unwrap_or(fallback_time),
            state: LineState::Sent,
        }
    }
}

/// The lines of one chat, each message once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    lines: Vec<Line>,
}

impl Timeline {
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds or updates a line. Every existing line with the same `messageId` or the same
    /// `clientMessageId` is merged into one (keeping the first one's key); otherwise the
    /// line is inserted in `messageId` order. Returns true when a new line was added.
    pub fn upsert(&mut self, line: Line) -> bool {
        let mut same = Vec::new();
        let mut i = 0;
        while i < self.lines.len() {
            let l = &self.lines[i];
            let matches = (line.message_id.is_some() && l.message_id == line.message_id)
                || (line.client_message_id.is_some()
                    && l.client_message_id == line.client_message_id);
            if matches {
                same.push(self.lines.remove(i));
            } else {
                i += 1;
            }
        }
        let Some(key) = same.first().map(|l| l.key.clone()) else {
            self.insert_sorted(line);
            return true;
        };
        let merged = same.into_iter().fold(line, |new, old| {
            // The server's copy wins over a local one, whichever came first.
            let (base, other) = if new.state != LineState::Sent && old.state == LineState::Sent {
                (old, new)
            } else {
                (new, old)
            };
            Line {
                message_id: base.message_id.or(other.message_id),
                client_message_id: base.client_message_id.or(other.client_message_id),
                ..base
            }
        });
        self.insert_sorted(Line { key, ..merged });
        false
    }

    /// The server accepted a message this client sent.
    pub fn confirm(&mut self, client_message_id: &str, message_id: MessageId) {
        if let Some(line) = self
            .lines
            .iter()
            .find(|l| l.client_message_id.as_deref() == Some(client_message_id))
            .cloned()
        {
            self.upsert(Line {
                message_id: Some(message_id),
                state: LineState::Sent,
                ..line
            });
        }
    }

    /// The server refused a message this client sent.
    pub fn fail(&mut self, client_message_id: &str) {
        for line in &mut self.lines {
            if line.client_message_id.as_deref() == Some(client_message_id)
                && line.state == LineState::Sending
            {
                line.state = LineState::Failed;
            }
        }
    }

    /// Merges a page of stored messages (`getMessages`).
    pub fn merge_page(&mut self, items: &[MessageItem]) {
        for item in items.iter().filter(|i| !i.deleted) {
            self.upsert(Line::from_item(item));
        }
    }

    fn insert_sorted(&mut self, line: Line) {
        let at = match line.message_id {
            // Before the first line with a larger id, or before the unsent ones.
            Some(id) => self
                .lines
                .iter()
                .position(|l| l.message_id.is_none_or(|m| m > id))
                .unwrap_or(self.lines.len()),
            None => self.lines.len(),
        };
        self.lines.insert(at, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: MessageId, cid: Option<&str>, sender: &str, text: &str) -> MessageItem {
        MessageItem {
            message_id: id,
            client_message_id: cid.map(str::to_owned),
            message: text.to_owned(),
            attachments: vec![],
            sender: sender.to_owned(),
            created_at: 1000 + id as Millis,
            updated_at: 1000 + id as Millis,
            deleted: false,
            delivered: None,
            read: None,
        }
    }

    fn event(id: MessageId, cid: Option<&str>, sender: &str, text: &str) -> MessageEvent {
        MessageEvent {
            chat_id: "#General".into(),
            message_id: id,
            client_message_id: cid.map(str::to_owned),
            sender: Some(sender.to_owned()),
            message: text.to_owned(),
            attachments: vec![],
            created_at: Some(1000 + id as Millis),
            missed: 0,
        }
    }

    fn ids(t: &Timeline) -> Vec<Option<MessageId>> {
        t.lines().iter().map(|l| l.message_id).collect()
    }

    #[test]
    fn page_and_events_merge_once_in_order() {
        let mut t = Timeline::default();
        assert!(t.upsert(Line::from_event(&event(5, None, "bob", "five"), 0)));
        t.merge_page(&[item(3, None, "al", "three"), item(5, None, "bob", "five")]);
        assert!(!t.upsert(Line::from_event(&event(3, None, "al", "three"), 0)));
        assert!(t.upsert(Line::from_event(&event(4, None, "al", "four"), 0)));
        assert_eq!(ids(&t), vec![Some(3), Some(4), Some(5)]);
    }

    #[test]
    fn own_message_is_confirmed_in_place_whatever_arrives_first() {
        // Response first, then the echo event.
        let mut t = Timeline::default();
        t.upsert(Line::sending("c1".into(), "al".into(), "hi".into(), 1));
        let key = t.lines()[0].key.clone();
        t.confirm("c1", 7);
        assert!(!t.upsert(Line::from_event(&event(7, Some("c1"), "al", "hi"), 0)));
        assert_eq!(t.len(), 1);
        assert_eq!(t.lines()[0].key, key);
        assert_eq!(t.lines()[0].state, LineState::Sent);

        // Echo event first, then the response; with or without the client id in it.
        for cid in [Some("c2"), None] {
            let mut t = Timeline::default();
            t.upsert(Line::sending("c2".into(), "al".into(), "yo".into(), 1));
            t.upsert(Line::from_event(&event(8, cid, "al", "yo"), 0));
            t.confirm("c2", 8);
            assert_eq!(t.len(), 1, "{cid:?}");
            assert_eq!(t.lines()[0].message_id, Some(8));
            assert_eq!(t.lines()[0].state, LineState::Sent);
        }
    }

    #[test]
    fn unsent_lines_stay_last_and_a_stored_copy_sorts_in() {
        let mut t = Timeline::default();
        t.upsert(Line::from_event(&event(1, None, "bob", "a"), 0));
        t.upsert(Line::sending("c".into(), "al".into(), "b".into(), 1));
        t.upsert(Line::from_event(&event(2, None, "bob", "c"), 0));
        assert_eq!(ids(&t), vec![Some(1), Some(2), None]);
        t.confirm("c", 3);
        assert_eq!(ids(&t), vec![Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn a_refused_message_is_marked_failed() {
        let mut t = Timeline::default();
        t.upsert(Line::sending("c".into(), "al".into(), "b".into(), 1));
        t.fail("c");
        assert_eq!(t.lines()[0].state, LineState::Failed);
    }

    #[test]
    fn deleted_items_are_skipped() {
        let mut t = Timeline::default();
        let mut gone = item(2, None, "al", "");
        gone.deleted = true;
        t.merge_page(&[item(1, None, "al", "x"), gone]);
        assert_eq!(ids(&t), vec![Some(1)]);
    }
}
