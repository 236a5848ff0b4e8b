//! The messages of one chat as a client shows them, without any browser dependency.
//!
//! Messages reach a client several ways: a `getMessages` page, live `new` events,
//! events replayed by `subscribe`, and the client's own optimistic copy of a message it
//! is sending (which then comes back as a response and as an event). [`Timeline`] merges
//! them so that each message appears once, in `messageId` order, with the messages
//! still being sent at the end. Edits and deletes change a line in place (the newest
//! version wins, whatever order the copies arrive in). [`layout`] groups lines by sender
//! and day for display. The web app (`ui`) keeps one timeline per chat; it is plain
//! Rust so that it is tested natively.

use crate::protocol::{
    excerpt, Attachment, MessageEvent, MessageId, MessageItem, Millis, ReplyQuote,
};

/// Lines of one sender closer together than this share one header.
pub const GROUP_GAP_MS: Millis = 5 * 60 * 1000;

/// One message line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Stable identity for rendering: fixed when the line is first seen.
    pub key: String,
    /// `None` while the server has not yet accepted the message.
    pub message_id: Option<MessageId>,
    pub client_message_id: Option<String>,
    pub sender: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
    /// Time of the last edit or delete; equal to `created_at` until then.
    pub updated_at: Millis,
    pub edited: bool,
    pub deleted: bool,
    pub state: LineState,
    /// The quote of the message this one answers.
    pub reply_to: Option<ReplyQuote>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineState {
    /// Stored by the server.
    Sent,
    /// Sent by this client (or queued while offline), not yet answered.
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
    pub fn sending(
        client_message_id: String,
        sender: String,
        text: String,
        attachments: Vec<Attachment>,
        now: Millis,
    ) -> Line {
        Line {
            key: Line::key_for(None, Some(&client_message_id)),
            message_id: None,
            client_message_id: Some(client_message_id),
            sender,
            text,
            attachments,
            created_at: now,
            updated_at: now,
            edited: false,
            deleted: false,
            state: LineState::Sending,
            reply_to: None,
        }
    }

    pub fn from_item(item: &MessageItem) -> Line {
        Line {
            key: Line::key_for(Some(item.message_id), item.client_message_id.as_deref()),
            message_id: Some(item.message_id),
            client_message_id: item.client_message_id.clone(),
            sender: item.sender.clone(),
            text: item.message.clone(),
            attachments: item.attachments.clone(),
            created_at: item.created_at,
            updated_at: item.updated_at.max(item.created_at),
            edited: !item.deleted && item.updated_at > item.created_at,
            deleted: item.deleted,
            state: LineState::Sent,
            reply_to: item.reply_to.clone(),
        }
    }

    pub fn from_event(event: &MessageEvent, fallback_time: Millis) -> Line {
        let created_at = event.created_at.unwrap_or(fallback_time);
        Line {
            key: Line::key_for(Some(event.message_id), event.client_message_id.as_deref()),
            message_id: Some(event.message_id),
            client_message_id: event.client_message_id.clone(),
            sender: event.sender.clone().unwrap_or_default(),
            text: event.message.clone(),
            attachments: event.attachments.clone(),
            created_at,
            updated_at: created_at,
            edited: false,
            deleted: false,
            state: LineState::Sent,
            reply_to: event.reply_to.clone(),
        }
    }

    /// The newer of two server copies of one message: deleted wins, then the later
    /// `updated_at`.
    fn newer(self, other: Line) -> (Line, Line) {
        let self_first = (self.deleted, self.updated_at) >= (other.deleted, other.updated_at);
        if self_first {
            (self, other)
        } else {
            (other, self)
        }
    }
}

/// The lines of one chat, each message once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    lines: Vec<Line>,
    /// False once a page shorter than asked showed the start of the chat.
    pub has_older: Option<bool>,
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

    /// The smallest stored message id, for paging backwards.
    pub fn oldest_id(&self) -> Option<MessageId> {
        self.lines.iter().filter_map(|l| l.message_id).min()
    }

    /// The newest stored message written by someone other than `me`.
    pub fn newest_from_others(&self, me: &str) -> Option<MessageId> {
        self.lines
            .iter()
            .filter(|l| !l.sender.eq_ignore_ascii_case(me))
            .filter_map(|l| l.message_id)
            .max()
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
            // The server's copy wins over a local one, whichever came first; of two
            // server copies, the newer version.
            let (base, other) = match (new.state == LineState::Sent, old.state == LineState::Sent) {
                (false, true) => (old, new),
                (true, true) => new.newer(old),
                _ => (new, old),
            };
            Line {
                message_id: base.message_id.or(other.message_id),
                client_message_id: base.client_message_id.or(other.client_message_id),
                reply_to: base.reply_to.or(other.reply_to),
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
            if line.state == LineState::Sent {
                return;
            }
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

    /// Drops an unsent line (the user discarded a failed message).
    pub fn discard(&mut self, client_message_id: &str) {
        self.lines.retain(|l| {
            l.state == LineState::Sent || l.client_message_id.as_deref() != Some(client_message_id)
        });
    }

    /// An edit: new text and attachments. Ignored for a message not shown (a page
    /// loaded later has the new text) and for an older version than the one shown.
    pub fn apply_edit(
        &mut self,
        message_id: MessageId,
        text: &str,
        attachments: Option<&[Attachment]>,
        updated_at: Millis,
    ) {
        if let Some(line) = self
            .lines
            .iter_mut()
            .find(|l| l.message_id == Some(message_id))
        {
            if line.deleted || updated_at < line.updated_at {
                return;
            }
            line.text = text.to_owned();
            if let Some(a) = attachments {
                line.attachments = a.to_vec();
            }
            line.updated_at = updated_at;
            line.edited = true;
        }
        self.requote(message_id, |q| q.excerpt = excerpt(text));
    }

    /// Updates the quotes of the replies to `message_id` (after its edit or delete).
    fn requote(&mut self, message_id: MessageId, change: impl Fn(&mut ReplyQuote)) {
        for line in &mut self.lines {
            if let Some(q) = line
                .reply_to
                .as_mut()
                .filter(|q| q.message_id == message_id)
            {
                change(q);
            }
        }
    }

    /// A delete: the line stays as a tombstone ("message deleted").
    /// The room's history was cleared: every stored line goes; lines this client has
    /// not yet had accepted stay (they will be stored after the clearing).
    pub fn clear_stored(&mut self) {
        self.lines.retain(|l| l.state != LineState::Sent);
        self.has_older = Some(false);
    }

    pub fn apply_delete(&mut self, message_id: MessageId, at: Millis) {
        if let Some(line) = self
            .lines
            .iter_mut()
            .find(|l| l.message_id == Some(message_id))
        {
            line.deleted = true;
            line.edited = false;
            line.text.clear();
            line.attachments.clear();
            line.updated_at = line.updated_at.max(at);
        }
        self.requote(message_id, |q| {
            q.deleted = true;
            q.excerpt.clear();
        });
    }

    /// Merges a page of stored messages (`getMessages`); deleted ones are tombstones.
    pub fn merge_page(&mut self, items: &[MessageItem]) {
        for item in items {
            self.upsert(Line::from_item(item));
        }
    }

    /// Merges the latest page of the chat, asked for with `count`. The first page
    /// loaded tells whether there are older messages (it was full).
    pub fn merge_latest(&mut self, items: &[MessageItem], count: u32) {
        self.merge_page(items);
        if self.has_older.is_none() {
            self.has_older = Some(full_page(items, count));
        }
    }

    /// Merges the page before the oldest line, asked for with `count`; a page that
    /// is not full reached the start of the chat.
    pub fn merge_older(&mut self, items: &[MessageItem], count: u32) {
        self.merge_page(items);
        self.has_older = Some(full_page(items, count));
    }

    /// The `endId` of the page before the oldest stored line; None when the start of
    /// the chat is shown (or nothing stored is).
    pub fn older_page_end(&self) -> Option<MessageId> {
        let more = self.has_older != Some(false);
        self.oldest_id()
            .filter(|&oldest| more && oldest > 1)
            .map(|oldest| oldest - 1)
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

fn full_page(items: &[MessageItem], count: u32) -> bool {
    u32::try_from(items.len()).is_ok_and(|n| n == count)
}

/// How a line is laid out: whether a day separator precedes it, and whether it starts
/// a group (shows the sender's name and time) or continues the previous sender's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub new_day: bool,
    pub starts_group: bool,
}

/// Lays out `lines` given `day`, the reader's calendar day of a time.
pub fn layout(lines: &[Line], day: impl Fn(Millis) -> i64) -> Vec<Layout> {
    let mut out = Vec::with_capacity(lines.len());
    let mut prev: Option<(&Line, i64)> = None;
    for line in lines {
        let d = day(line.created_at);
        let new_day = prev.is_none_or(|(_, pd)| pd != d);
        let starts_group = new_day
            || prev.is_none_or(|(p, _)| {
                p.sender != line.sender
                    || p.deleted
                    || line.created_at.saturating_sub(p.created_at) > GROUP_GAP_MS
            });
        out.push(Layout {
            new_day,
            starts_group,
        });
        prev = Some((line, d));
    }
    out
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
            reply_to: None,
            reactions: vec![],
            mentions: vec![],
            mentions_room: false,
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
            reply_to: None,
            mentions: vec![],
            mentions_room: false,
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
        t.upsert(Line::sending(
            "c1".into(),
            "al".into(),
            "hi".into(),
            vec![],
            1,
        ));
        let key = t.lines()[0].key.clone();
        t.confirm("c1", 7);
        assert!(!t.upsert(Line::from_event(&event(7, Some("c1"), "al", "hi"), 0)));
        assert_eq!(t.len(), 1);
        assert_eq!(t.lines()[0].key, key);
        assert_eq!(t.lines()[0].state, LineState::Sent);

        // Echo event first, then the response; with or without the client id in it.
        for cid in [Some("c2"), None] {
            let mut t = Timeline::default();
            t.upsert(Line::sending(
                "c2".into(),
                "al".into(),
                "yo".into(),
                vec![],
                1,
            ));
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
        t.upsert(Line::sending(
            "c".into(),
            "al".into(),
            "b".into(),
            vec![],
            1,
        ));
        t.upsert(Line::from_event(&event(2, None, "bob", "c"), 0));
        assert_eq!(ids(&t), vec![Some(1), Some(2), None]);
        t.confirm("c", 3);
        assert_eq!(ids(&t), vec![Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn a_refused_message_is_marked_failed() {
        let mut t = Timeline::default();
        t.upsert(Line::sending(
            "c".into(),
            "al".into(),
            "b".into(),
            vec![],
            1,
        ));
        t.fail("c");
        assert_eq!(t.lines()[0].state, LineState::Failed);
    }

    #[test]
    fn deleted_items_are_tombstones() {
        let mut t = Timeline::default();
        let mut gone = item(2, None, "al", "");
        gone.deleted = true;
        gone.updated_at += 50;
        t.merge_page(&[item(1, None, "al", "x"), gone]);
        assert_eq!(ids(&t), vec![Some(1), Some(2)]);
        assert!(t.lines()[1].deleted);
        assert!(!t.lines()[1].edited);
    }

    #[test]
    fn edits_and_deletes_apply_in_place_and_newest_wins() {
        let mut t = Timeline::default();
        t.merge_page(&[item(1, None, "al", "helo")]);
        t.apply_edit(1, "hello", None, 2000);
        assert_eq!(t.lines()[0].text, "hello");
        assert!(t.lines()[0].edited);
        // A stale page (read before the edit) does not undo it.
        t.merge_page(&[item(1, None, "al", "helo")]);
        assert_eq!(t.lines()[0].text, "hello");
        // An older edit arriving late is ignored.
        t.apply_edit(1, "hel", None, 1500);
        assert_eq!(t.lines()[0].text, "hello");
        t.apply_delete(1, 3000);
        assert!(t.lines()[0].deleted);
        assert_eq!(t.lines()[0].text, "");
        t.apply_edit(1, "back", None, 4000);
        assert!(t.lines()[0].deleted);
        // The live copy of a deleted message arriving late stays deleted.
        t.upsert(Line::from_event(&event(1, None, "al", "helo"), 0));
        assert!(t.lines()[0].deleted);
        // Unknown messages are ignored.
        t.apply_edit(9, "x", None, 1);
        t.apply_delete(9, 1);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn paging_helpers() {
        let mut t = Timeline::default();
        assert_eq!(t.oldest_id(), None);
        t.merge_page(&[item(4, None, "al", "a"), item(6, None, "bob", "b")]);
        t.upsert(Line::sending(
            "c".into(),
            "al".into(),
            "x".into(),
            vec![],
            1,
        ));
        t.merge_page(&[item(2, None, "bob", "older")]);
        assert_eq!(ids(&t), vec![Some(2), Some(4), Some(6), None]);
        assert_eq!(t.oldest_id(), Some(2));
        assert_eq!(t.newest_from_others("al"), Some(6));
        assert_eq!(t.newest_from_others("BOB"), Some(4));
        t.fail("c");
        t.discard("c");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn pages_tell_whether_older_messages_exist() {
        let mut t = Timeline::default();
        assert_eq!(t.older_page_end(), None);
        t.merge_latest(&[item(8, None, "al", "a"), item(9, None, "al", "b")], 2);
        assert_eq!(t.has_older, Some(true));
        assert_eq!(t.older_page_end(), Some(7));
        // A later reload of the latest page does not undo what paging learnt.
        t.merge_older(&[item(7, None, "al", "c")], 2);
        assert_eq!(t.has_older, Some(false));
        assert_eq!(t.older_page_end(), None);
        t.merge_latest(&[item(8, None, "al", "a"), item(9, None, "al", "b")], 2);
        assert_eq!(t.has_older, Some(false));
        assert_eq!(ids(&t), vec![Some(7), Some(8), Some(9)]);
    }

    #[test]
    fn paging_stops_at_the_first_message() {
        let mut t = Timeline::default();
        t.merge_latest(&[item(1, None, "al", "a"), item(2, None, "al", "b")], 2);
        assert_eq!(t.has_older, Some(true));
        assert_eq!(t.older_page_end(), None);
        let mut t = Timeline::default();
        t.merge_latest(&[item(5, None, "al", "a")], 2);
        assert_eq!(t.has_older, Some(false));
        assert_eq!(t.older_page_end(), None);
    }

    #[test]
    fn lines_group_by_sender_gap_and_day() {
        let at = |id: MessageId, sender: &str, time: Millis| {
            let mut i = item(id, None, sender, "x");
            i.created_at = time;
            i.updated_at = time;
            Line::from_item(&i)
        };
        let min = 60_000;
        let lines = vec![
            at(1, "al", 0),
            at(2, "al", min),
            at(3, "bob", 2 * min),
            at(4, "bob", 20 * min),
            at(5, "bob", 21 * min),
            at(6, "bob", 1000 * min),
        ];
        // Days of 500 minutes, for the test.
        let l = layout(&lines, |t| t / (500 * min));
        let starts: Vec<bool> = l.iter().map(|x| x.starts_group).collect();
        let days: Vec<bool> = l.iter().map(|x| x.new_day).collect();
        assert_eq!(starts, vec![true, false, true, true, false, true]);
        assert_eq!(days, vec![true, false, false, false, false, true]);
    }

    #[test]
    fn clearing_keeps_only_unsent_lines() {
        let mut t = Timeline::default();
        t.merge_page(&[item(1, None, "bob", "old"), item(2, None, "bob", "older")]);
        t.upsert(Line::sending(
            "c-9".into(),
            "alice".into(),
            "not yet sent".into(),
            vec![],
            5000,
        ));
        t.clear_stored();
        assert_eq!(t.len(), 1);
        assert_eq!(t.lines()[0].text, "not yet sent");
        assert_eq!(t.has_older, Some(false));
    }

    #[test]
    fn quotes_follow_edits_and_deletes_of_the_original() {
        let mut t = Timeline::default();
        let mut reply = item(5, None, "bob", "answer");
        reply.reply_to = Some(ReplyQuote::of(2, "alice", "old"));
        t.merge_page(&[reply]);
        // The original is not loaded: its edit still updates the quote.
        t.apply_edit(2, "**new** first\nsecond", None, 2000);
        let quote = |t: &Timeline| t.lines()[0].reply_to.clone().expect("a quote");
        assert_eq!(quote(&t).excerpt, "new first");
        t.apply_delete(2, 3000);
        assert!(quote(&t).deleted);
        assert_eq!(quote(&t).excerpt, "");
    }
}
