//! `search`: the rules around the store's full-text search. The query is read by the
//! one parser the web app shares (`app::search`); the user spends one of their search
//! budget; the chats searched are exactly those the user could read with
//! `getMessages` (rooms they are a member of, their own direct chats; `in:` narrows to
//! one, refused as `getMessages` would refuse it); and each hit carries where its
//! words are, for highlighting. Nothing here is on the path of a chat message.

use super::budgets::Spend;
use super::{name_of, Budget, Hub};
use crate::domain::{Chat, ChatRef, Message, Refusal, UserKey};
use crate::store::{DirectScope, SearchQuery};
use app::protocol::MessageId;
use app::search::{highlights, parse_query, SearchIn, DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE};
use std::time::Duration;

/// Default search budget (docs/protocol.md 3.4).
pub const SEARCH_BUDGET: Budget = Budget::new(30, Duration::from_secs(60));

/// One message found, as the searcher names its chat.
#[derive(Debug, Clone)]
pub struct Found {
    pub chat: ChatRef,
    pub message: Message,
    /// Where the query's words are in the text (character offsets).
    pub highlights: Vec<[u32; 2]>,
}

impl Hub {
    /// Messages with the query's words in the chats `user` can read, newest first, and
    /// whether older ones exist. `limit`: 1 to [`MAX_SEARCH_PAGE`].
    pub async fn search(
        &self,
        user: &UserKey,
        query: &str,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<(Vec<Found>, bool), Refusal> {
        let parsed = parse_query(query).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let limit = limit.unwrap_or(DEFAULT_SEARCH_PAGE);
        if limit == 0 || limit > MAX_SEARCH_PAGE {
            return Err(Refusal::BadRequest(format!(
                "limit is 1 to {MAX_SEARCH_PAGE}"
            )));
        }
        self.take_budget(user, Spend::Search)?;
        let (rooms, direct) = {
            let state = self.lock();
            match &parsed.chat {
                Some(SearchIn::Room(name)) => {
                    match Self::resolve(&state, user, &ChatRef::Room(name.clone()), true)? {
                        Chat::Room(id) => (vec![id], DirectScope::None),
                        Chat::Direct(..) => return Err(Refusal::NotFound("no such room".into())),
                    }
                }
                Some(SearchIn::Direct(name)) => {
                    let chat = Self::resolve(&state, user, &ChatRef::Direct(name.clone()), false)?;
                    (Vec::new(), DirectScope::One(chat))
                }
                None => {
                    let mut rooms: Vec<_> = state
                        .rooms
                        .iter()
                        .filter(|(_, r)| r.members.contains(user))
                        .map(|(id, _)| *id)
                        .collect();
                    rooms.sort_unstable();
                    let guest = state.users.get(user).is_some_and(|u| u.guest);
                    let direct = if guest {
                        DirectScope::None
                    } else {
                        DirectScope::AllOf(user.clone())
                    };
                    (rooms, direct)
                }
            }
        };
        let page = self
            .store
            .search(SearchQuery {
                terms: parsed.terms.clone(),
                rooms,
                direct,
                sender: parsed.from.as_deref().map(UserKey::of),
                before,
                limit,
            })
            .await
            .map_err(|e| e.into_refusal())?;
        let state = self.lock();
        let found = page
            .hits
            .into_iter()
            .map(|hit| Found {
                chat: name_of(&state, &hit.chat).seen_by(user),
                highlights: highlights(&hit.message.text, &parsed.terms),
                message: hit.message,
            })
            .collect();
        Ok((found, page.more))
    }
}
