//! A user's read marks and unread counts per chat, kept only while the user is
//! connected: a message then costs work for the people online, not for every member a
//! room ever had. When a user connects, the counts are read from the store as of a
//! log position; the events published while that read runs are held back and those
//! after its position applied on top, so nothing is missed or counted twice.

use crate::domain::{Chat, EventData, LogEvent, ReceiptKind, UserKey};
use crate::store::UnreadSnapshot;
use app::protocol::MessageId;
use std::collections::HashMap;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Counter {
    pub read_upto: MessageId,
    pub unread: u64,
}

/// The counters of one user.
#[derive(Debug, Default)]
pub(super) enum Counters {
    /// Not connected: nothing is counted (derived again on the next connection).
    #[default]
    Unloaded,
    /// Being read from the store: events published meanwhile wait in `since`, and
    /// connections of the user that arrive meanwhile wait on `ready`.
    Loading {
        epoch: u64,
        since: Vec<LogEvent>,
        ready: watch::Sender<bool>,
    },
    Loaded(HashMap<Chat, Counter>),
}

impl Counters {
    /// Whether the user's counters are kept (loaded or on their way): such a user is
    /// among the active members of their rooms.
    pub fn kept(&self) -> bool {
        !matches!(self, Counters::Unloaded)
    }

    /// A new load under `epoch`.
    pub fn loading(epoch: u64) -> Counters {
        Counters::Loading {
            epoch,
            since: Vec::new(),
            ready: watch::channel(false).0,
        }
    }

    /// Takes a committed event into account for `user`.
    pub fn apply(&mut self, user: &UserKey, ev: &LogEvent) {
        match self {
            Counters::Unloaded => {}
            Counters::Loading { since, .. } => since.push(ev.clone()),
            Counters::Loaded(chats) => apply_to(chats, user, ev),
        }
    }

    /// Ends the load `epoch` with what the store read: its counts, plus every held-back
    /// event after its log position. `false` when this load is no longer wanted.
    pub fn finish(&mut self, user: &UserKey, epoch: u64, snapshot: UnreadSnapshot) -> bool {
        let Counters::Loading {
            epoch: current,
            since,
            ready,
        } = self
        else {
            return false;
        };
        if *current != epoch {
            return false;
        }
        let mut chats: HashMap<Chat, Counter> = snapshot
            .chats
            .into_iter()
            .map(|s| {
                let counter = Counter {
                    read_upto: s.read_upto,
                    unread: s.unread,
                };
                (s.chat, counter)
            })
            .collect();
        for ev in since.iter().filter(|ev| ev.id > snapshot.at) {
            apply_to(&mut chats, user, ev);
        }
        ready.send_replace(true);
        *self = Counters::Loaded(chats);
        true
    }

    /// A receiver for the end of the current load (`None` unless loading).
    pub fn waiter(&self) -> Option<watch::Receiver<bool>> {
        match self {
            Counters::Loading { ready, .. } => Some(ready.subscribe()),
            _ => None,
        }
    }

    pub fn get(&self, chat: &Chat) -> Counter {
        match self {
            Counters::Loaded(chats) => chats.get(chat).copied().unwrap_or_default(),
            _ => Counter::default(),
        }
    }
}

/// One committed event's effect on `user`'s counters.
fn apply_to(chats: &mut HashMap<Chat, Counter>, user: &UserKey, ev: &LogEvent) {
    match &ev.data {
        EventData::New { message } => {
            let counter = chats.entry(ev.chat.clone()).or_default();
            if !user.is(&message.sender) {
                counter.unread += 1;
            }
        }
        EventData::Delete {
            message_id, sender, ..
        } => {
            if let Some(counter) = chats.get_mut(&ev.chat) {
                if !user.is(sender) && counter.read_upto < *message_id {
                    counter.unread = counter.unread.saturating_sub(1);
                }
            }
        }
        EventData::Receipt {
            receipt: ReceiptKind::Read,
            reader,
            upto,
            ..
        } if user.is(reader) => {
            if let Some(counter) = chats.get_mut(&ev.chat) {
                counter.read_upto = counter.read_upto.max(*upto);
                if let Some(unread) = ev.unread_after {
                    counter.unread = unread;
                }
            }
        }
        EventData::Join { user: joiner, .. } if user.is(joiner) => {
            chats.entry(ev.chat.clone()).or_default();
        }
        EventData::Leave { user: leaver, .. } if user.is(leaver) => {
            chats.remove(&ev.chat);
        }
        EventData::Clear { .. } => {
            if let Some(counter) = chats.get_mut(&ev.chat) {
                counter.unread = 0;
            }
        }
        EventData::Receipt { .. }
        | EventData::Reaction { .. }
        | EventData::Pin { .. }
        | EventData::Edit { .. }
        | EventData::Join { .. }
        | EventData::Leave { .. }
        | EventData::Room { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Message;
    use crate::store::ChatState;

    const ROOM: Chat = Chat::Room(1);

    fn new(id: u64, msg: MessageId, sender: &str) -> LogEvent {
        LogEvent {
            id,
            at: 0,
            chat: ROOM,
            data: EventData::New {
                message: Message {
                    id: msg,
                    sender: sender.into(),
                    client_message_id: None,
                    text: "hi".into(),
                    attachments: Vec::new(),
                    created_at: 0,
                    updated_at: 0,
                    deleted: false,
                    reply_to: None,
                    quote: None,
                    mentions: Vec::new(),
                    mentions_room: false,
                },
            },
            unread_after: None,
        }
    }

    fn snapshot(at: u64, unread: u64) -> UnreadSnapshot {
        UnreadSnapshot {
            at,
            chats: vec![ChatState {
                chat: ROOM,
                read_upto: 0,
                unread,
            }],
        }
    }

    #[test]
    fn events_during_a_load_count_once() {
        let bob = UserKey::of("bob");
        let mut c = Counters::loading(1);
        // Published while the store was read: event 10 is in the snapshot, 11 is not.
        c.apply(&bob, &new(10, 5, "alice"));
        c.apply(&bob, &new(11, 6, "alice"));
        assert!(c.finish(&bob, 1, snapshot(10, 3)));
        assert_eq!(c.get(&ROOM).unread, 4);
    }

    #[test]
    fn a_stale_load_is_ignored() {
        let bob = UserKey::of("bob");
        let mut c = Counters::loading(2);
        assert!(!c.finish(&bob, 1, snapshot(0, 9)));
        assert!(matches!(c, Counters::Loading { .. }));
    }

    #[test]
    fn own_messages_are_not_unread_and_reads_set_the_count() {
        let bob = UserKey::of("bob");
        let mut c = Counters::Loaded(HashMap::new());
        c.apply(&bob, &new(1, 1, "bob"));
        c.apply(&bob, &new(2, 2, "alice"));
        c.apply(&bob, &new(3, 3, "Alice"));
        assert_eq!(c.get(&ROOM).unread, 2);
        let read = LogEvent {
            id: 4,
            at: 0,
            chat: ROOM,
            data: EventData::Receipt {
                receipt: ReceiptKind::Read,
                reader: "Bob".into(),
                upto: 2,
                client_message_id: None,
                at: 0,
            },
            unread_after: Some(1),
        };
        c.apply(&bob, &read);
        assert_eq!(
            c.get(&ROOM),
            Counter {
                read_upto: 2,
                unread: 1
            }
        );
        // Deleting the read message 2 changes nothing; deleting unread 3 does.
        for (id, msg) in [(5, 2), (6, 3)] {
            let delete = LogEvent {
                id,
                at: 0,
                chat: ROOM,
                data: EventData::Delete {
                    message_id: msg,
                    sender: "alice".into(),
                    client_message_id: None,
                    by: None,
                },
                unread_after: None,
            };
            c.apply(&bob, &delete);
        }
        assert_eq!(c.get(&ROOM).unread, 0);
    }

    #[test]
    fn nothing_is_counted_for_a_user_who_is_away() {
        let bob = UserKey::of("bob");
        let mut c = Counters::Unloaded;
        c.apply(&bob, &new(1, 1, "alice"));
        assert!(!c.kept());
        assert_eq!(c.get(&ROOM).unread, 0);
    }
}
