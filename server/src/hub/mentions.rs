//! Mentions: which `@name`s of a new message name people of its chat, and whether its
//! `@room` is allowed. The text is read by [`app::mentions`] (the web app highlights
//! with the same reading); this module applies the rules of the world: a name counts
//! when it is a member of the room (or a person of the direct chat), and `@room` only
//! from the room's creator (as the same kind of user) or a server admin, so that it
//! cannot page a whole room at anyone's whim. Room roles (issue 4/6) will widen that.
//! In a direct chat `@room` is plain text: both people see every message anyway.

use super::{Hub, Session, State};
use crate::domain::{Chat, Refusal, UserKey};
use app::mentions::{candidates, ROOM};

/// Most names one message mentions (more are plain text): bounds the work per message
/// and the size of what is stored with it.
pub const MAX_MENTIONS: usize = 32;

/// Who a message mentions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mentions {
    /// Display names of the members mentioned, each once, in order of appearance.
    pub names: Vec<String>,
    pub room: bool,
}

impl Hub {
    /// The mentions in `text`, sent by `session` to `chat`; a `@room` the sender may
    /// not use is refused (`forbidden`), the message is then not sent.
    pub(super) fn mentions(
        &self,
        session: &Session,
        chat: &Chat,
        text: &str,
    ) -> Result<Mentions, Refusal> {
        let mut found = Mentions::default();
        if !text.contains('@') {
            return Ok(found);
        }
        let state = self.lock();
        for (_, word) in candidates(text) {
            if found.names.len() >= MAX_MENTIONS {
                break;
            }
            let key = UserKey::of(word);
            if let Chat::Room(id) = chat {
                if key.as_str() == ROOM {
                    if !self.may_mention_room(&state, session, *id) {
                        return Err(Refusal::Forbidden(
                            "only the room's creator or an admin can mention @room".into(),
                        ));
                    }
                    found.room = true;
                    continue;
                }
            }
            let member = match chat {
                Chat::Room(id) => state
                    .rooms
                    .get(id)
                    .is_some_and(|r| r.members.contains(&key)),
                Chat::Direct(a, b) => key == *a || key == *b,
            };
            if !member {
                continue;
            }
            let name = state
                .users
                .get(&key)
                .map_or_else(|| word.to_owned(), |u| u.name.clone());
            if !found.names.iter().any(|n| UserKey::of(n) == key) {
                found.names.push(name);
            }
        }
        Ok(found)
    }

    /// The room's creator (as the same kind of user: a guest's room is not paged by an
    /// account that took the name later) or a server admin (an account).
    fn may_mention_room(
        &self,
        state: &State,
        session: &Session,
        room: crate::domain::RoomId,
    ) -> bool {
        let creator = state.rooms.get(&room).and_then(|r| {
            r.creator
                .as_ref()
                .map(|c| (UserKey::of(c), r.creator_guest))
        });
        creator.is_some_and(|(c, guest)| c == session.user && guest == session.guest)
            || self.manages_in(state, session)
    }
}
