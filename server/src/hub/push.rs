//! Notifications with Parlor closed (issue 5/6), the hub's side: who a new message
//! should reach by push, and the requests that keep a person's push subscriptions and
//! ntfy topic. The hub decides from what it holds in memory — the recipients a direct
//! message or a mention names, blocks, and whether any of a person's sessions is in
//! the foreground (connected and not idle) — and hands a small [`PushNote`] to the
//! [`Notifier`] set at start (`server::push`), which reads the levels and the
//! subscriptions from the store, encrypts and sends, off the message path.
//!
//! The work per message is nothing for a room message without mentions, one look at
//! the other person for a direct message, one per name mentioned; only `@room` (which
//! only a room's creator or an admin may use) walks the room's members.

use super::{name_of, Hub, Session, State};
use crate::domain::{now_ms, Chat, Message, Refusal, UserKey};
use crate::store::{NtfyTopicRow, PushSubscription};
use app::protocol::{NtfyTopic, MAX_PUSH_SUBSCRIPTIONS};
use std::sync::Arc;

/// The path under which the server speaks ntfy's subscribe API.
pub const NTFY_PATH: &str = "/ntfy";

/// One person to tell of one new message, should their level allow it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushNote {
    pub recipient: UserKey,
    pub chat: Chat,
    /// The chat as the recipient names it (`#Room`, or the sender's name).
    pub chat_id: String,
    /// The sender's display name.
    pub from: String,
    /// The message's text (Markdown), for the preview.
    pub text: String,
    /// A direct message (else a room message that mentions the recipient).
    pub direct: bool,
    /// The message mentions the recipient (by name or `@room`).
    pub mentioned: bool,
}

/// Where the hub hands what should be pushed; never blocks (a full queue drops).
pub trait Notifier: Send + Sync {
    fn notify(&self, note: PushNote);
    /// Whether a subscription's endpoint is one the server will send to: the reason
    /// when it is not.
    fn check_endpoint(&self, endpoint: &str) -> Result<(), String>;
}

impl Hub {
    /// Sets where push notes go (once, at start); without it nothing is pushed and the
    /// push requests are refused.
    pub fn set_notifier(&self, notifier: Arc<dyn Notifier>) {
        if self.notifier.set(notifier).is_err() {
            tracing::warn!("the notifier was set twice; the first one stays");
        }
    }

    /// Hands the notifier a note for each person `message` should notify now: the
    /// other person of a direct message and the members it mentions, but never its
    /// sender, someone who blocked the sender, or someone with a session in the
    /// foreground. Called with the state locked, once per committed new message.
    pub(super) fn notes_for(&self, state: &State, chat: &Chat, message: &Message) {
        let Some(notifier) = self.notifier.get() else {
            return;
        };
        // A plain room message, the most common case, costs nothing more.
        if matches!(chat, Chat::Room(_)) && message.mentions.is_empty() && !message.mentions_room {
            return;
        }
        let tell = |recipient: &UserKey, direct: bool, mentioned: bool| {
            let Some(entry) = state.users.get(recipient) else {
                return;
            };
            if recipient.is(&message.sender) || entry.guest || in_foreground(state, recipient) {
                return;
            }
            // Someone away: now the work of one note is worth it.
            if entry.blocked.contains(&UserKey::of(&message.sender)) {
                return;
            }
            notifier.notify(PushNote {
                recipient: recipient.clone(),
                chat: chat.clone(),
                chat_id: name_of(state, chat).seen_by(recipient).to_chat_id(),
                from: message.sender.clone(),
                text: message.text.clone(),
                direct,
                mentioned,
            });
        };
        let named = |key: &UserKey| message.mentions.iter().any(|n| key.is(n));
        match chat {
            Chat::Direct(a, b) if a != b => {
                let other = if a.is(&message.sender) { b } else { a };
                tell(other, true, named(other));
            }
            Chat::Direct(..) => {}
            Chat::Room(id) if message.mentions_room => {
                if let Some(room) = state.rooms.get(id) {
                    room.members.iter().for_each(|m| tell(m, false, true));
                }
            }
            Chat::Room(_) => {
                for name in &message.mentions {
                    tell(&UserKey::of(name), false, true);
                }
            }
        }
    }

    /// Whether one of `user`'s sessions is in the foreground now (connected and not
    /// idle): then they read along and get no push.
    pub fn in_foreground(&self, user: &UserKey) -> bool {
        in_foreground(&self.lock(), user)
    }

    /// `pushSubscribe`: keeps this device's subscription for the session's person
    /// (accounts only); the endpoint must be one the server sends to.
    pub async fn push_subscribe(
        &self,
        session: &Session,
        endpoint: String,
        p256dh: Vec<u8>,
        auth: Vec<u8>,
        previews: bool,
    ) -> Result<(), Refusal> {
        let notifier = self.push_notifier(session)?;
        notifier
            .check_endpoint(&endpoint)
            .map_err(Refusal::BadRequest)?;
        let sub = PushSubscription {
            user: session.user.clone(),
            endpoint,
            p256dh,
            auth,
            previews,
            created_at: now_ms(),
        };
        self.store
            .add_push_subscription(sub, MAX_PUSH_SUBSCRIPTIONS)
            .await
            .map_err(|e| e.into_refusal())
    }

    /// `pushUnsubscribe`: forgets the session's person's subscription of `endpoint`.
    pub async fn push_unsubscribe(
        &self,
        session: &Session,
        endpoint: String,
    ) -> Result<(), Refusal> {
        self.push_notifier(session)?;
        let removed = self
            .store
            .remove_push_subscription(Some(session.user.clone()), endpoint)
            .await
            .map_err(|e| e.into_refusal())?;
        if removed {
            Ok(())
        } else {
            Err(Refusal::NotFound("no such subscription".into()))
        }
    }

    /// `getNtfyTopic` (made on first use) and `resetNtfyTopic` (a new one, the old
    /// one stops working at once).
    pub async fn ntfy_topic(
        &self,
        session: &Session,
        reset: Option<bool>,
    ) -> Result<NtfyTopic, Refusal> {
        self.push_notifier(session)?;
        let user = session.user.clone();
        let current = match reset {
            Some(_) => None,
            None => self
                .store
                .ntfy_topic(user.clone())
                .await
                .map_err(|e| e.into_refusal())?,
        };
        let row = match current {
            Some(row) => row,
            None => {
                let row = NtfyTopicRow {
                    topic: super::access::random_code(20),
                    previews: reset.unwrap_or(true),
                };
                self.store
                    .set_ntfy_topic(user, row.clone())
                    .await
                    .map_err(|e| e.into_refusal())?;
                row
            }
        };
        Ok(NtfyTopic {
            topic: row.topic,
            path: NTFY_PATH.to_owned(),
            previews: row.previews,
        })
    }

    /// The notifier, for an account's session.
    fn push_notifier(&self, session: &Session) -> Result<&Arc<dyn Notifier>, Refusal> {
        if session.guest {
            return Err(Refusal::Forbidden(
                "guests have no notifications with Parlor closed".into(),
            ));
        }
        self.notifier
            .get()
            .ok_or_else(|| Refusal::Internal("push notifications are not running".into()))
    }
}

fn in_foreground(state: &State, user: &UserKey) -> bool {
    state.users.get(user).is_some_and(|u| {
        u.sessions
            .iter()
            .filter_map(|id| state.sessions.get(id))
            .any(|s| !s.idle)
    })
}
