//! Where the reader left off: the "new messages" divider and the drafts kept per chat.
//!
//! When a chat is opened, its unread count (the server's: messages from others after
//! the reader's read mark, deleted ones not counted) says how many of the newest
//! messages are new. [`first_unread`] finds the first of them among the lines loaded;
//! the web app fixes the divider there until the chat is left, so that reading does
//! not move it, and when the first unread is older than the pages loaded it offers to
//! jump there (`seek::Target::FirstUnread`). Drafts are kept in `localStorage` under
//! one key per user and chat ([`draft_key`]), and all of a user's go at logout.
//! Plain Rust, tested natively.

use crate::protocol::MessageId;
use crate::timeline::Line;

/// The first of the `unread` newest messages from others in `lines` (oldest first),
/// or None when fewer are loaded (or nothing is unread).
pub fn first_unread(lines: &[Line], me: &str, unread: u64) -> Option<MessageId> {
    let unread = usize::try_from(unread).ok().filter(|&n| n > 0)?;
    lines
        .iter()
        .rev()
        .filter(|l| !l.deleted && !l.sender.eq_ignore_ascii_case(me))
        .filter_map(|l| l.message_id)
        .nth(unread - 1)
}

/// The `localStorage` key of `user`'s draft in `chat_id`.
pub fn draft_key(user: &str, chat_id: &str) -> String {
    format!("{}{}", drafts_prefix(user), crate::case::lower(chat_id))
}

/// The prefix every draft key of `user` starts with.
pub fn drafts_prefix(user: &str) -> String {
    format!("parlor.draft.{}.", crate::case::lower(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::LineState;

    fn line(id: MessageId, sender: &str, deleted: bool) -> Line {
        Line {
            key: format!("m:{id}"),
            message_id: Some(id),
            client_message_id: None,
            sender: sender.to_owned(),
            text: format!("m{id}"),
            attachments: Vec::new(),
            created_at: 1,
            updated_at: 1,
            edited: false,
            deleted,
            state: LineState::Sent,
            reply_to: None,
        }
    }

    #[test]
    fn the_divider_sits_at_the_oldest_of_the_unread_messages_from_others() {
        let lines = [
            line(1, "bob", false),
            line(2, "bob", false),
            line(3, "me", false),
            line(4, "bob", true),
            line(5, "Bob", false),
            line(6, "ME", false),
            line(7, "carol", false),
        ];
        // Own messages and deleted ones are not unread.
        assert_eq!(first_unread(&lines, "me", 1), Some(7));
        assert_eq!(first_unread(&lines, "me", 2), Some(5));
        assert_eq!(first_unread(&lines, "me", 3), Some(2));
        assert_eq!(first_unread(&lines, "me", 0), None);
        // More unread than loaded: the first unread is in an older page.
        assert_eq!(first_unread(&lines, "me", 5), None);
    }

    #[test]
    fn drafts_are_kept_per_user_and_chat() {
        assert_eq!(
            draft_key("Alice", "#General"),
            "parlor.draft.alice.#general"
        );
        assert!(draft_key("alice", "Bob").starts_with(&drafts_prefix("ALICE")));
        assert_ne!(draft_key("alice", "bob"), draft_key("bob", "alice"));
    }
}
