//! The native protocol edge (`/ws`), and the file to read to follow a chat message
//! through it: a frame comes in ([`Edge::on_text`]), a `new` request goes to
//! [`Hub::send_message`] and is answered once committed ([`answer`]), and what the hub
//! queues for the session goes out as native frames ([`Edge::render`], with the render
//! functions below). A connection's start (login, `subscribe` and the replay) is in
//! `session`, every other request in `requests`; the connection itself (deadlines,
//! pings, writes, limits) is the [`driver`](crate::driver)'s.

pub mod access;
pub mod accounts;
mod push;
mod reactions;
mod requests;
mod rooms;
mod session;

use crate::domain::{now_ms, ChatRef, EventData, LogEvent, ReceiptKind, Refusal, UserKey};
use crate::driver::{close, Attached, Edge, Ending, Link, Socket};
use crate::hub::{ChatName, Hub, Live, LiveShared, Outbound, Session, Shared};
use app::protocol::{
    codes, BroadcastEvent, ChangePasswordOk, ClientEventBody, ClientFrame, DeleteEvent, EditEvent,
    Event, EventBody, EventId, MemberEvent, MessageEvent, NewOk, NewRequest, NotifyEvent, PinEvent,
    ReactionEvent, ReceiptEvent, Request, RequestBody, Response, RoleEvent, RoomRef, RoomSettings,
    ServerFrame, TypingEvent, UserPresence, UserRef,
};
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;

/// Render slots 0 and 1 of an item's cache hold its two native views.
const NATIVE_SLOT: usize = 0;
/// How a rendered `new` frame ends: its `missed` field (the last one), still 0.
const MISSED_TAIL: &str = "0}}";

/// One native connection's state.
#[derive(Default)]
pub struct Native {
    /// The session token this login used or was given (revoked by `logout`).
    token: String,
    /// The highest event id written to this socket (later duplicates are skipped).
    last_sent: EventId,
}

fn frame(frame: ServerFrame) -> Utf8Bytes {
    frame.to_json().into()
}

impl Edge for Native {
    const PATH: &'static str = "/ws";

    /// Waits for a successful `auth`; answers everything else with `unauthorized`.
    async fn login(
        &mut self,
        text: &str,
        socket: &mut Socket<'_>,
    ) -> Result<Option<Attached>, Ending> {
        self.log_in(text, socket).await
    }

    async fn on_text(&mut self, text: &str, link: &mut Link<'_>) -> Result<(), Ending> {
        match ClientFrame::parse(text) {
            Ok(ClientFrame::Request(request)) => self.on_request(request, link).await,
            Ok(ClientFrame::Event(event)) => {
                let (hub, session) = (link.hub(), link.session);
                match event.body {
                    ClientEventBody::Typing(chat) => {
                        // Typing in a chat one may not write to is dropped, like any
                        // bad event.
                        if let Ok(chat) = ChatRef::parse(&chat.chat_id) {
                            let _ = hub.typing(session, &chat);
                        }
                    }
                    ClientEventBody::Offline => hub.set_visible(session, false),
                    ClientEventBody::Online => hub.set_visible(session, true),
                    ClientEventBody::Idle => hub.set_idle(session, true),
                    ClientEventBody::Active => hub.set_idle(session, false),
                }
                Ok(())
            }
            Ok(ClientFrame::Ack(ack)) => {
                link.hub().ack(link.session, ack.id);
                let answer = frame(ServerFrame::Response(Response::empty(
                    ack.id.to_string(),
                    now_ms(),
                )));
                link.defer(Box::pin(std::future::ready(Some(answer))));
                Ok(())
            }
            Err(e) => {
                if let Some(id) = e.id {
                    let error = frame(ServerFrame::Response(Response::error(
                        id,
                        now_ms(),
                        e.code,
                        e.message,
                    )));
                    link.defer(Box::pin(std::future::ready(Some(error))));
                }
                Ok(())
            }
        }
    }

    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>) {
        match item {
            Outbound::Logged { event, missed } => {
                if event.event.id <= self.last_sent {
                    return;
                }
                self.last_sent = event.event.id;
                out.push(logged(event, &session.user, *missed));
            }
            Outbound::Live(shared) => out.extend(live(shared, &session.user)),
        }
    }
}

impl Native {
    /// `subscribe`, `logout`, `logoutEverywhere` and `changePassword` are handled in
    /// place, after the answers in flight;
    /// anything else is answered later, in order, while the connection goes on reading.
    async fn on_request(&mut self, request: Request, link: &mut Link<'_>) -> Result<(), Ending> {
        match &request.body {
            RequestBody::Subscribe(sub) => {
                return self.subscribe(&request.id, sub.last_event_id, link).await;
            }
            RequestBody::Logout(_) => {
                link.settle().await?;
                let answer = match link.hub().revoke_token(link.session, &self.token).await {
                    Ok(()) => frame(ServerFrame::Response(Response::empty(
                        &request.id,
                        now_ms(),
                    ))),
                    Err(refusal) => error_frame(&request.id, &refusal).into(),
                };
                link.send(answer).await?;
                return Err(Ending::Close(close::NORMAL, "logged out"));
            }
            RequestBody::LogoutEverywhere(_) => {
                link.settle().await?;
                return match link.hub().logout_everywhere(link.session).await {
                    Ok(()) => {
                        let ok = Response::empty(&request.id, now_ms());
                        link.send(frame(ServerFrame::Response(ok))).await?;
                        Err(Ending::Close(close::NORMAL, "logged out"))
                    }
                    Err(refusal) => link.send(error_frame(&request.id, &refusal).into()).await,
                };
            }
            RequestBody::DeleteAccount(delete) => {
                return accounts::delete_account(link, &request.id, &delete.password).await;
            }
            RequestBody::ChangePassword(change) => {
                // In place: the connection's token changes with the answer.
                link.settle().await?;
                let (hub, peer) = (link.hub().clone(), link.socket.peer);
                let changed = hub
                    .change_password(
                        link.session,
                        peer,
                        &change.old_password,
                        &change.new_password,
                    )
                    .await;
                let answer = match changed {
                    Ok(token) => {
                        self.token = token.clone();
                        let ok = ChangePasswordOk { token };
                        frame(ServerFrame::Response(Response::ok(
                            &request.id,
                            now_ms(),
                            &ok,
                        )))
                    }
                    Err(refusal) => error_frame(&request.id, &refusal).into(),
                };
                return link.send(answer).await;
            }
            _ => {}
        }
        let (hub, session) = (link.hub().clone(), link.session.clone());
        link.defer(Box::pin(async move {
            Some(answer(hub, session, request).await.into())
        }));
        Ok(())
    }
}

/// Answers one request of a logged-in session (never `auth`, `subscribe` or `logout`,
/// which the connection handles): a chat message here, anything else in `requests`.
pub async fn answer(hub: Arc<Hub>, session: Arc<Session>, request: Request) -> String {
    match request.body {
        RequestBody::New(new) => post(&hub, &session, &request.id, new).await,
        _ => requests::handle(hub, session, request).await,
    }
}

/// `new`: the hub checks the message and posts it; the answer (its id) comes once it
/// is committed, and the other sessions get it from their queues.
async fn post(hub: &Hub, session: &Session, id: &str, new: NewRequest) -> String {
    let posted = match chat(&new.chat_id) {
        Ok(chat) => {
            hub.send_reply(
                session,
                &chat,
                new.message,
                new.attachments,
                new.client_message_id.clone(),
                new.reply_to,
            )
            .await
        }
        Err(refusal) => Err(refusal),
    };
    match posted {
        Ok((message_id, _repeat)) => ServerFrame::Response(Response::ok(
            id,
            now_ms(),
            &NewOk {
                message_id,
                client_message_id: new.client_message_id,
            },
        ))
        .to_json(),
        Err(refusal) => error_frame(id, &refusal),
    }
}

/// The error code a refusal is reported with.
pub(crate) fn code_of(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::BadRequest(_) => codes::BAD_REQUEST,
        Refusal::NotFound(_) => codes::NOT_FOUND,
        Refusal::Forbidden(_) => codes::FORBIDDEN,
        Refusal::Conflict(_) => codes::CONFLICT,
        Refusal::RateLimited(_) => codes::RATE_LIMITED,
        Refusal::TooManyConnections(_) => codes::TOO_MANY_CONNECTIONS,
        Refusal::Unauthorized => codes::UNAUTHORIZED,
        Refusal::AuthFailed | Refusal::NotAllowed(_) => codes::AUTH_FAILED,
        Refusal::Internal(_) => codes::INTERNAL,
    }
}

/// A request's `chatId`, read as a chat reference.
fn chat(chat_id: &str) -> Result<ChatRef, Refusal> {
    ChatRef::parse(chat_id).map_err(|e| Refusal::BadRequest(format!("chatId: {e}")))
}

/// The `error` response to request `id` for a refusal.
fn error_frame(id: &str, refusal: &Refusal) -> String {
    ServerFrame::Response(Response::error(
        id,
        now_ms(),
        code_of(refusal),
        refusal.to_string(),
    ))
    .to_json()
}

/// The native frame of a log event for `viewer`, rendered once per view and cached on
/// the event; a `new` event's per-receiver `missed` count is spliced into the cached
/// bytes (it is the frame's last field).
pub fn logged(shared: &Shared, viewer: &UserKey, missed: u64) -> Utf8Bytes {
    let slot = NATIVE_SLOT + shared.name.view_of(viewer);
    let frame: Utf8Bytes = shared.frames.get_or_render(slot, || {
        log_frame(&shared.event, &shared.name, viewer)
            .to_json()
            .into()
    });
    splice_missed(frame, &shared.event, missed)
}

/// The native frame of a log event, rendered without the cache (replay).
fn replayed(event: &LogEvent, name: &ChatName, viewer: &UserKey, missed: u64) -> Utf8Bytes {
    let frame: Utf8Bytes = log_frame(event, name, viewer).to_json().into();
    splice_missed(frame, event, missed)
}

fn splice_missed(frame: Utf8Bytes, event: &LogEvent, missed: u64) -> Utf8Bytes {
    if missed == 0 || !matches!(event.data, EventData::New { .. }) {
        return frame;
    }
    match frame.as_str().strip_suffix(MISSED_TAIL) {
        Some(head) => format!("{head}{missed}}}}}").into(),
        None => frame,
    }
}

fn log_frame(event: &LogEvent, name: &ChatName, viewer: &UserKey) -> ServerFrame {
    let chat_id = name.seen_by(viewer).to_chat_id();
    let body = match &event.data {
        EventData::New { message } => EventBody::New(MessageEvent {
            chat_id,
            message_id: message.id,
            client_message_id: message.client_message_id.clone(),
            sender: Some(message.sender.clone()),
            message: message.text.clone(),
            attachments: message.attachments.clone(),
            created_at: Some(message.created_at),
            reply_to: message.quote.clone(),
            mentions: message.mentions.clone(),
            mentions_room: message.mentions_room,
            missed: 0,
        }),
        EventData::Edit { message } => EventBody::Edit(EditEvent {
            chat_id,
            message_id: message.id,
            client_message_id: message.client_message_id.clone(),
            sender: Some(message.sender.clone()),
            message: message.text.clone(),
            attachments: message.attachments.clone(),
            updated_at: Some(message.updated_at),
        }),
        EventData::Delete {
            message_id,
            sender,
            client_message_id,
            by,
        } => EventBody::Delete(DeleteEvent {
            chat_id,
            message_id: *message_id,
            client_message_id: client_message_id.clone(),
            sender: Some(sender.clone()),
            by: by.clone(),
        }),
        EventData::Receipt {
            receipt,
            reader,
            upto,
            client_message_id,
            at,
        } => {
            let payload = ReceiptEvent {
                chat_id,
                message_id: *upto,
                client_message_id: client_message_id.clone(),
                user_id: Some(reader.clone()),
                timestamp: Some(*at),
            };
            match receipt {
                ReceiptKind::Dlvrd => EventBody::Dlvrd(payload),
                ReceiptKind::Read => EventBody::Read(payload),
            }
        }
        EventData::Join { user, by, .. } => EventBody::Join(MemberEvent {
            chat_id,
            user_id: user.clone(),
            by: by.clone(),
        }),
        EventData::Leave { user, by, .. } => EventBody::Leave(MemberEvent {
            chat_id,
            user_id: user.clone(),
            by: by.clone(),
        }),
        EventData::Clear { user, .. } => EventBody::Clear(MemberEvent {
            chat_id,
            user_id: user.clone(),
            by: None,
        }),
        EventData::Room {
            by,
            topic,
            private,
            announce,
            retention_days,
            muted,
        } => EventBody::Room(RoomSettings {
            chat_id,
            topic: topic.clone(),
            private: *private,
            announce: *announce,
            retention_days: *retention_days,
            muted: muted.clone(),
            by: by.clone(),
        }),
        EventData::Reaction {
            message_id,
            emoji,
            user,
            add,
        } => EventBody::Reaction(ReactionEvent {
            chat_id,
            message_id: *message_id,
            emoji: emoji.clone(),
            user_id: user.clone(),
            add: *add,
        }),
        EventData::Pin {
            message_id,
            user,
            pinned,
        } => EventBody::Pin(PinEvent {
            chat_id,
            message_id: *message_id,
            user_id: user.clone(),
            pinned: *pinned,
        }),
    };
    ServerFrame::Event(Event {
        id: Some(event.id),
        timestamp: event.at,
        body,
    })
}

/// The native frame of a live event for `viewer`; `None` for what the native protocol
/// does not send (the end of typing: its clients let indicators lapse).
fn live(shared: &LiveShared, viewer: &UserKey) -> Option<Utf8Bytes> {
    let slot = match &shared.live {
        Live::Typing { chat, .. } => NATIVE_SLOT + chat.view_of(viewer),
        _ => NATIVE_SLOT,
    };
    let body = live_body(&shared.live, viewer)?;
    Some(shared.frames.get_or_render(slot, || {
        ServerFrame::Event(Event {
            id: None,
            timestamp: shared.at,
            body,
        })
        .to_json()
        .into()
    }))
}

fn live_body(live: &Live, viewer: &UserKey) -> Option<EventBody> {
    Some(match live {
        Live::Typing { chat, user } => EventBody::Typing(TypingEvent {
            chat_id: chat.seen_by(viewer).to_chat_id(),
            user_id: Some(user.clone()),
        }),
        Live::TypingStopped { .. } | Live::RoomPresence { .. } => return None,
        Live::Online { user } => EventBody::Online(UserRef {
            user_id: user.clone(),
        }),
        Live::Offline { user } => EventBody::Offline(UserRef {
            user_id: user.clone(),
        }),
        Live::Presence { user, status } => EventBody::Presence(UserPresence {
            user_id: user.clone(),
            status: *status,
            ..UserPresence::default()
        }),
        Live::Broadcast { text, .. } => EventBody::Broadcast(BroadcastEvent {
            message: text.clone(),
        }),
        Live::RoomCreated { room, creator } => EventBody::RoomCreated(RoomRef {
            chat_id: format!("#{room}"),
            name: room.clone(),
            creator: Some(creator.clone()),
        }),
        Live::Notify { chat, level, .. } => EventBody::Notify(NotifyEvent {
            chat_id: chat.clone(),
            level: *level,
        }),
        Live::Profile(profile) => EventBody::Profile(profile.clone()),
        Live::Role { user, role } => EventBody::Role(RoleEvent {
            user_id: user.clone(),
            role: *role,
        }),
    })
}
