//! Chat messages in the hub, both ways: the commands that write them (`new`, edit,
//! delete, receipts) check the rules (content, membership, the rate window) and hand
//! them to the [`Store`](crate::store::Store); and the end of the store's stream of
//! committed events ([`EventSink::publish`], the one call that comes back up from the
//! store), which updates the world in memory (memberships, rooms, the counters of
//! connected users) and queues each event for the sessions that should see it, with
//! their unread count. The work per event follows who is connected: a room's offline
//! members cost nothing.

use super::{
    active_members, name_of, Hub, Live, Outbound, RenderCache, RoomEntry, Session, Shared, State,
    UserEntry,
};
use crate::domain::{
    now_ms, Chat, ChatRef, EventData, LogEvent, ReceiptKind, Refusal, SessionId, UserKey,
};
use crate::store::{Delete, Edit, EventSink, Mark, NewMessage, ReceiptOutcome, RoomState};
use app::protocol::{
    Attachment, MessageId, MAX_ATTACHMENTS, MAX_CLIENT_MESSAGE_ID as MAX_CLIENT_ID,
    MAX_MESSAGE_BYTES,
};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

impl Hub {
    /// Posts a message. Answers its id and whether it repeated an earlier
    /// `clientMessageId` (then nothing is delivered again).
    pub async fn send_message(
        &self,
        session: &Session,
        chat: &ChatRef,
        text: String,
        attachments: Vec<Attachment>,
        client_message_id: Option<String>,
    ) -> Result<(MessageId, bool), Refusal> {
        self.send_reply(session, chat, text, attachments, client_message_id, None)
            .await
    }

    /// Posts a message that may answer `reply_to`, a message of the same chat that is
    /// not deleted (the store checks it in the transaction that stores the reply).
    pub async fn send_reply(
        &self,
        session: &Session,
        chat: &ChatRef,
        text: String,
        attachments: Vec<Attachment>,
        client_message_id: Option<String>,
        reply_to: Option<MessageId>,
    ) -> Result<(MessageId, bool), Refusal> {
        check_content(&text, &attachments)?;
        if client_message_id
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_ID)
        {
            return Err(Refusal::BadRequest(format!(
                "a clientMessageId has 1 to {MAX_CLIENT_ID} bytes"
            )));
        }
        let chat = self.chat_to_post(session, chat, true)?;
        let mentions = self.mentions(session, &chat, &text)?;
        self.take_rate(&session.user)?;
        let msg = NewMessage {
            chat,
            sender: session.name.clone(),
            guest: session.guest,
            client_message_id,
            text,
            attachments,
            reply_to,
            mentions: mentions.names,
            mentions_room: mentions.room,
            at: now_ms(),
        };
        self.store
            .post(msg, session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    pub async fn edit_message(
        &self,
        session: &Session,
        chat: &ChatRef,
        message_id: MessageId,
        text: String,
        attachments: Option<Vec<Attachment>>,
    ) -> Result<(), Refusal> {
        check_content(&text, attachments.as_deref().unwrap_or(&[]))?;
        let chat = self.chat_to_post(session, chat, true)?;
        // An edit is stored and fanned out in full, like a message: one budget for both.
        self.take_rate(&session.user)?;
        let edit = Edit {
            chat,
            editor: session.user.clone(),
            message_id,
            text,
            attachments,
            at: now_ms(),
        };
        self.store
            .edit(edit, session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    pub async fn delete_message(
        &self,
        session: &Session,
        chat: &ChatRef,
        message_id: MessageId,
    ) -> Result<(), Refusal> {
        let chat = self.chat_for(&session.user, chat, true)?;
        let delete = Delete {
            moderator: self.moderator_in(session, &chat),
            chat,
            actor: session.user.clone(),
            message_id,
            at: now_ms(),
        };
        self.store
            .delete(delete, session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    /// `dlvrd` / `read` up to `upto` (default: the latest message).
    pub async fn mark(
        &self,
        session: &Session,
        chat: &ChatRef,
        kind: ReceiptKind,
        upto: Option<MessageId>,
    ) -> Result<ReceiptOutcome, Refusal> {
        let mark = Mark {
            chat: self.chat_for(&session.user, chat, true)?,
            reader: session.name.clone(),
            kind,
            upto,
            at: now_ms(),
        };
        self.store
            .mark(mark, session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Counts a message or edit its sender made through another node
    /// against their rate limit here, so that the limit holds over all nodes. Only the
    /// newest `rate_limit` times are kept: no more are ever needed to refuse.
    fn count_sent_elsewhere(&self, state: &mut super::State, user: &UserKey) {
        let Some(entry) = state.users.get_mut(user) else {
            return;
        };
        let now = Instant::now();
        forget_before(&mut entry.sent, now, self.limits.rate_window);
        entry.sent.push_back(now);
        while entry.sent.len() > self.limits.rate_limit {
            entry.sent.pop_front();
        }
    }

    /// Counts one message or edit against the sender's rate limit.
    fn take_rate(&self, user: &UserKey) -> Result<(), Refusal> {
        let mut state = self.lock();
        let Some(entry) = state.users.get_mut(user) else {
            return Ok(());
        };
        let now = Instant::now();
        forget_before(&mut entry.sent, now, self.limits.rate_window);
        if entry.sent.len() >= self.limits.rate_limit {
            return Err(Refusal::RateLimited(format!(
                "at most {} messages and edits per {}",
                self.limits.rate_limit,
                humantime::format_duration(self.limits.rate_window)
            )));
        }
        entry.sent.push_back(now);
        Ok(())
    }
}

impl EventSink for Hub {
    /// Events another node committed: their senders' messages and edits count against
    /// the rate limit here too (the limit holds over all nodes), then as [`Hub::publish`].
    fn publish_elsewhere(&self, events: &[LogEvent]) {
        {
            let mut state = self.lock();
            for ev in events {
                if let EventData::New { message } | EventData::Edit { message } = &ev.data {
                    self.count_sent_elsewhere(&mut state, &UserKey::of(&message.sender));
                }
            }
        }
        self.publish(events, None);
    }

    /// Another node changed what every node keeps in memory (`notices`).
    fn notice(&self, notice: &crate::store::Notice) {
        self.heard_notice(notice);
    }

    /// Each committed event, in log order: the world in memory updated, then one item
    /// queued for every session of its connected members (but the writer's own session,
    /// which gets the answer instead), with that member's unread count.
    fn publish(&self, events: &[LogEvent], origin: Option<SessionId>) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        for ev in events {
            if let EventData::New { message } = &ev.data {
                self.stop_typing_in(&mut state, &UserKey::of(&message.sender), &ev.chat);
            }
            let leaver = self.apply_membership(&mut state, ev);
            if let EventData::Join {
                created: true,
                private: false,
                room,
                user,
                ..
            } = &ev.data
            {
                let live = Live::RoomCreated {
                    room: room.clone(),
                    creator: user.clone(),
                };
                self.broadcast_live(&mut state, live, None);
            }
            let shared = Arc::new(Shared {
                event: ev.clone(),
                name: name_of(&state, &ev.chat),
                frames: RenderCache::default(),
            });
            if let EventData::New { message } = &ev.data {
                self.notes_for(&state, &ev.chat, message);
            }
            let State {
                users,
                rooms,
                sessions,
                ..
            } = &mut *state;
            let recipients = active_members(rooms, &ev.chat).chain(leaver.as_ref());
            for key in recipients {
                let Some(user) = users.get_mut(key) else {
                    continue;
                };
                user.counters.apply(key, ev);
                let missed = user.counters.get(&ev.chat).unread;
                for id in &user.sessions {
                    if Some(*id) == origin {
                        continue;
                    }
                    if let Some(session) = sessions.get_mut(id) {
                        Self::push(
                            session,
                            Outbound::Logged {
                                event: shared.clone(),
                                missed,
                            },
                        );
                    }
                }
            }
        }
    }
}

impl Hub {
    /// Applies a join or leave to the rooms in memory; answers who left (they still
    /// receive the event).
    fn apply_membership(&self, state: &mut State, ev: &LogEvent) -> Option<UserKey> {
        let Chat::Room(id) = ev.chat else {
            return None;
        };
        match &ev.data {
            EventData::Join {
                user,
                room,
                created,
                creator,
                private,
                ..
            } => {
                let key = UserKey::of(user);
                if *created {
                    state.room_ids.insert(room.to_lowercase(), id);
                    state.rooms.insert(
                        id,
                        RoomEntry {
                            name: room.clone(),
                            creator: creator.clone(),
                            // Set by the creating command once the store answers.
                            creator_guest: false,
                            members: HashSet::new(),
                            active: HashSet::new(),
                            settings: RoomState {
                                private: *private,
                                ..RoomState::default()
                            },
                        },
                    );
                }
                state
                    .users
                    .entry(key.clone())
                    .or_insert_with(|| UserEntry::new(user, false));
                self.with_room_presence(state, &key, |state| {
                    let kept = state.users.get(&key).is_some_and(|u| u.counters.kept());
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.insert(key.clone());
                        if kept {
                            r.active.insert(key.clone());
                        }
                    }
                });
                None
            }
            EventData::Leave { user, .. } => {
                let key = UserKey::of(user);
                self.with_room_presence(state, &key, |state| {
                    if let Some(r) = state.rooms.get_mut(&id) {
                        r.members.remove(&key);
                        r.active.remove(&key);
                    }
                });
                Some(key)
            }
            EventData::Room {
                topic,
                private,
                announce,
                retention_days,
                muted,
                ..
            } => {
                if let Some(r) = state.rooms.get_mut(&id) {
                    r.settings = RoomState {
                        topic: topic.clone(),
                        private: *private,
                        announce: *announce,
                        retention_days: *retention_days,
                        muted: muted.iter().map(|m| UserKey::of(m)).collect(),
                    };
                }
                None
            }
            _ => None,
        }
    }
}

/// Drops the times of a rate window that are `window` or more before `now`.
fn forget_before(
    sent: &mut std::collections::VecDeque<Instant>,
    now: Instant,
    window: std::time::Duration,
) {
    while sent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        sent.pop_front();
    }
}

/// A message's text and attachments are within the limits, and not empty together.
fn check_content(text: &str, attachments: &[Attachment]) -> Result<(), Refusal> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Refusal::BadRequest(format!(
            "a message has at most {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    if text.trim().is_empty() && attachments.is_empty() {
        return Err(Refusal::BadRequest(
            "a message needs text or an attachment".into(),
        ));
    }
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(Refusal::BadRequest(format!(
            "a message has at most {MAX_ATTACHMENTS} attachments"
        )));
    }
    attachments.iter().try_for_each(check_attachment)
}

/// Every string field of an attachment within its documented size: each is stored,
/// and sent to everyone in the chat, with every copy of the message.
fn check_attachment(a: &Attachment) -> Result<(), Refusal> {
    app::protocol::check_attachment(a).map_err(Refusal::BadRequest)
}
