//! Notification levels per chat: `all`, `mentions` or `none`, stored per member (issue
//! 5/6 will read them to decide on push), listed with the user's chats, and told to the
//! user's other sessions at once (a live `notify` event: a level concerns its user
//! alone, so it is no entry of the shared log; a session that reconnects reads the
//! levels again with `getChats`).

use super::budgets::Spend;
use super::{name_of, Hub, Live, LiveShared, Outbound, Session};
use crate::domain::{ChatRef, Refusal, UserKey};
use app::protocol::NotifyLevel;

impl Hub {
    /// Sets the session user's level for `chat` (a chat they are in); spends the same
    /// budget as `setStatus`. Answers the chat as the user names it.
    pub async fn set_notify(
        &self,
        session: &Session,
        chat: &ChatRef,
        level: NotifyLevel,
    ) -> Result<String, Refusal> {
        let chat = self.chat_for(&session.user, chat, true)?;
        self.take_budget(&session.user, Spend::Status)?;
        self.store
            .set_notify(session.user.clone(), chat.clone(), level)
            .await
            .map_err(|e| e.into_refusal())?;
        let mut state = self.lock();
        let chat_id = name_of(&state, &chat).seen_by(&session.user).to_chat_id();
        let sessions = state
            .users
            .get(&session.user)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        let item = Outbound::Live(LiveShared::new(Live::Notify {
            user: session.user.clone(),
            chat: chat_id.clone(),
            level,
        }));
        for id in sessions.iter().filter(|id| **id != session.id) {
            if let Some(s) = state.sessions.get_mut(id) {
                Self::push(s, item.clone());
            }
        }
        Ok(chat_id)
    }

    /// The user's level of every chat they set one for (others are `all`).
    pub(super) async fn notify_levels(
        &self,
        user: &UserKey,
    ) -> Result<Vec<(crate::domain::Chat, NotifyLevel)>, Refusal> {
        self.store
            .notify_levels(user.clone())
            .await
            .map_err(|e| e.into_refusal())
    }
}
