//! The web app's lists of chats and rooms, as the sidebar shows them.
//!
//! Chats come from `getChats`, from events (a first message in a direct chat, joining a
//! room) and from the user (opening a direct chat that has no message yet); these
//! functions merge them so that each chat is listed once, rooms first and then by name.
//! Each returns whether it changed anything, so that the caller notifies the views only
//! then. Plain Rust, tested natively.

use crate::protocol::{ChatInfo, NotifyLevel, RoomInfo};
use crate::text::is_room;

/// One entry of the chat lists (rooms and direct messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    pub chat_id: String,
    pub name: String,
    pub unread: u64,
    /// How much of it notifies this user.
    pub notify: NotifyLevel,
}

/// Lists `chat_id` under `name` unless it is listed; keeps rooms first, then names in
/// alphabetical order ignoring case. True when it was added.
pub fn ensure(chats: &mut Vec<ChatEntry>, chat_id: &str, name: &str) -> bool {
    if chats.iter().any(|e| e.chat_id == chat_id) {
        return false;
    }
    chats.push(ChatEntry {
        chat_id: chat_id.to_owned(),
        name: name.to_owned(),
        unread: 0,
        notify: NotifyLevel::All,
    });
    crate::case::sort_by_name(chats, |c| (u8::from(!is_room(&c.chat_id)), &c.name));
    true
}

/// Sets a listed chat's unread count. True when it changed.
pub fn set_unread(chats: &mut [ChatEntry], chat_id: &str, unread: u64) -> bool {
    match chats.iter_mut().find(|e| e.chat_id == chat_id) {
        Some(entry) if entry.unread != unread => {
            entry.unread = unread;
            true
        }
        _ => false,
    }
}

/// Sets a listed chat's notification level. True when it changed.
pub fn set_notify(chats: &mut [ChatEntry], chat_id: &str, level: NotifyLevel) -> bool {
    match chats
        .iter_mut()
        .find(|e| e.chat_id.eq_ignore_ascii_case(chat_id))
    {
        Some(entry) if entry.notify != level => {
            entry.notify = level;
            true
        }
        _ => false,
    }
}

/// The notification level of `chat_id` (`all` when it is not listed).
pub fn notify_level(chats: &[ChatEntry], chat_id: &str) -> NotifyLevel {
    chats
        .iter()
        .find(|e| e.chat_id.eq_ignore_ascii_case(chat_id))
        .map_or(NotifyLevel::All, |e| e.notify)
}

/// Unlists a chat (names compared ignoring ASCII case). True when it was listed.
pub fn forget(chats: &mut Vec<ChatEntry>, chat_id: &str) -> bool {
    let before = chats.len();
    chats.retain(|e| !e.chat_id.eq_ignore_ascii_case(chat_id));
    chats.len() != before
}

/// True when `chat_id` is listed (names compared ignoring ASCII case).
pub fn lists(chats: &[ChatEntry], chat_id: &str) -> bool {
    chats
        .iter()
        .any(|e| e.chat_id.eq_ignore_ascii_case(chat_id))
}

/// The list `getChats` answered, in its order, plus the direct chat open here (`open`)
/// if the server does not list it yet because it has no message.
pub fn from_server(listed: &[ChatInfo], shown: &[ChatEntry], open: &str) -> Vec<ChatEntry> {
    let keep = shown.iter().filter(|c| {
        !is_room(&c.chat_id) && c.chat_id == open && !listed.iter().any(|i| i.chat_id == c.chat_id)
    });
    listed
        .iter()
        .map(|c| ChatEntry {
            chat_id: c.chat_id.clone(),
            name: c.name.clone(),
            unread: c.unread_count,
            notify: c.notify,
        })
        .chain(keep.cloned())
        .collect()
}

/// Adds a room to the "Browse rooms" list unless it is there. True when it was added.
pub fn add_room(rooms: &mut Vec<RoomInfo>, room: RoomInfo) -> bool {
    if rooms.iter().any(|r| r.chat_id == room.chat_id) {
        return false;
    }
    rooms.push(room);
    true
}

/// Marks a room of the "Browse rooms" list as joined.
pub fn mark_joined(rooms: &mut [RoomInfo], chat_id: &str) {
    if let Some(room) = rooms.iter_mut().find(|r| r.chat_id == chat_id) {
        room.joined = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(chats: &[ChatEntry]) -> Vec<&str> {
        chats.iter().map(|c| c.chat_id.as_str()).collect()
    }

    fn info(chat_id: &str, unread: u64) -> ChatInfo {
        ChatInfo {
            chat_id: chat_id.into(),
            kind: if is_room(chat_id) { "group" } else { "dialog" }.into(),
            name: chat_id.trim_start_matches('#').into(),
            last_id: 1,
            unread_count: unread,
            notify: Default::default(),
        }
    }

    fn room(chat_id: &str) -> RoomInfo {
        RoomInfo {
            chat_id: chat_id.into(),
            name: chat_id.trim_start_matches('#').into(),
            creator: None,
            members: 1,
            joined: false,
            ..RoomInfo::default()
        }
    }

    #[test]
    fn chats_are_listed_once_rooms_first_then_by_name() {
        let mut chats = Vec::new();
        assert!(ensure(&mut chats, "zoe", "zoe"));
        assert!(ensure(&mut chats, "#General", "General"));
        assert!(ensure(&mut chats, "Bob", "Bob"));
        assert!(ensure(&mut chats, "#art", "art"));
        assert!(!ensure(&mut chats, "zoe", "zoe"));
        assert_eq!(ids(&chats), vec!["#art", "#General", "Bob", "zoe"]);
    }

    #[test]
    fn unread_counts_change_only_listed_chats() {
        let mut chats = Vec::new();
        ensure(&mut chats, "bob", "bob");
        assert!(set_unread(&mut chats, "bob", 3));
        assert!(!set_unread(&mut chats, "bob", 3));
        assert!(!set_unread(&mut chats, "carol", 1));
        assert_eq!(chats[0].unread, 3);
    }

    #[test]
    fn forgetting_and_finding_ignore_case() {
        let mut chats = Vec::new();
        ensure(&mut chats, "#General", "General");
        ensure(&mut chats, "#Art", "Art");
        assert!(lists(&chats, "#art"));
        assert!(forget(&mut chats, "#ART"));
        assert!(!forget(&mut chats, "#art"));
        assert!(!lists(&chats, "#art"));
        assert_eq!(ids(&chats), vec!["#General"]);
    }

    #[test]
    fn the_servers_list_keeps_only_the_open_empty_direct_chat() {
        let mut shown = Vec::new();
        ensure(&mut shown, "#General", "General");
        ensure(&mut shown, "bob", "bob");
        ensure(&mut shown, "carol", "carol");
        ensure(&mut shown, "#gone", "gone");
        ensure(&mut shown, "dave", "dave");
        let listed = [info("#General", 2), info("dave", 1)];
        let merged = from_server(&listed, &shown, "bob");
        assert_eq!(ids(&merged), vec!["#General", "dave", "bob"]);
        assert_eq!(merged[0].unread, 2);
        // A room open here but not listed is not kept (it was left elsewhere).
        let merged = from_server(&listed, &shown, "#gone");
        assert_eq!(ids(&merged), vec!["#General", "dave"]);
        // A direct chat the server lists is not listed twice.
        let merged = from_server(&listed, &shown, "dave");
        assert_eq!(ids(&merged), vec!["#General", "dave"]);
    }

    #[test]
    fn rooms_are_added_once_and_marked_joined() {
        let mut rooms = Vec::new();
        assert!(add_room(&mut rooms, room("#art")));
        assert!(!add_room(&mut rooms, room("#art")));
        mark_joined(&mut rooms, "#art");
        mark_joined(&mut rooms, "#nope");
        assert_eq!(rooms.len(), 1);
        assert!(rooms[0].joined);
    }
}
