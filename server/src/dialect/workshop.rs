//! Workshop (`/ws/workshop`, seed 000). A guest asks to connect with a name (refused
//! while that name is connected), then sits in one room at a time: it gets the room
//! list, the room's history and who is in it; it can post, type, create rooms, switch
//! rooms, and clear a room it created (or any, as an admin). `user_join`/`user_leave`
//! tell the clients sitting in a room who comes into it and who leaves it (switching
//! rooms is leaving one and coming into the other). Server broadcasts arrive as
//! `system` messages.

use super::{cached, frame, new_message, WORKSHOP_SLOT};
use crate::domain::{iso8601, ChatRef, EventData, Refusal, RoomId, GENERAL};
use crate::driver::{close, Attached, Edge, Ending, Link, Socket};
use crate::hub::{ChatName, Hub, Live, Login, Outbound, Place, Session};
use app::dialect::workshop::{Frame, HistoryMessage, RoomInfo, UserStatus};
use app::protocol::validate_room_name;
use axum::extract::ws::Utf8Bytes;

/// Messages of a room's history sent on entering it.
const HISTORY: u32 = 50;
/// The creator shown for rooms no user created (`General`).
const NO_CREATOR: &str = "parlor";

fn out(f: Frame) -> Utf8Bytes {
    frame(f.to_json())
}

fn reject(response: impl Into<String>) -> Utf8Bytes {
    out(Frame::ConnectionReject {
        response: response.into(),
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            c.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// A random UUID (version 4 layout) for `connection_response`.
fn uuid() -> String {
    let mut b = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = data_encoding::HEXLOWER.encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn room_info(hub: &Hub, id: RoomId, name: &str, creator: Option<String>) -> RoomInfo {
    RoomInfo {
        room_name: name.to_owned(),
        room_creator: creator.unwrap_or_else(|| NO_CREATOR.into()),
        connected_users: hub.room_present(id).into_iter().map(|(n, _)| n).collect(),
    }
}

fn all_rooms(hub: &Hub, session: &Session) -> Utf8Bytes {
    let rooms = hub
        .rooms(&session.user)
        .into_iter()
        .map(|r| room_info(hub, r.id, &r.name, r.creator))
        .collect();
    out(Frame::AllRooms { rooms })
}

/// A Workshop connection: the room it sits in (General until it switches).
pub struct Workshop {
    room: RoomId,
    room_name: String,
}

impl Default for Workshop {
    fn default() -> Workshop {
        Workshop {
            room: 0,
            room_name: GENERAL.into(),
        }
    }
}

impl Workshop {
    fn chat(&self) -> ChatRef {
        ChatRef::Room(self.room_name.clone())
    }

    fn here(&self, chat: &ChatName) -> bool {
        chat.room() == Some(self.room_name.as_str())
    }

    /// What a client gets on entering its room: the history and who is online there.
    async fn enter(&self, hub: &Hub, session: &Session) -> Vec<Utf8Bytes> {
        let messages = hub
            .history(&session.user, &self.chat(), None, HISTORY)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|m| !m.message.deleted)
            .map(|m| HistoryMessage {
                message: super::text_of(&m.message),
                username: m.message.sender,
                timestamp: iso8601(m.message.created_at, false),
            })
            .collect();
        let users = hub
            .room_present(self.room)
            .into_iter()
            .map(|(username, at)| UserStatus {
                username,
                connected_at: iso8601(at, false),
            })
            .collect();
        vec![
            out(Frame::MessageHistory { messages }),
            out(Frame::UsersOnline { users }),
        ]
    }

    async fn switch(&mut self, hub: &Hub, session: &Session, room_name: &str) -> Vec<Utf8Bytes> {
        if let Err(e) = validate_room_name(room_name) {
            return vec![out(Frame::RoomSwitchReject {
                response: capitalise(&e.to_string()),
            })];
        }
        // A room this guest may not see (a private one) is not found either.
        let Some(id) = hub
            .room_id(room_name)
            .filter(|id| hub.room(&session.user, *id).is_some())
        else {
            return vec![out(Frame::RoomSwitchReject {
                response: "Room not found".into(),
            })];
        };
        let room = ChatRef::Room(room_name.to_owned());
        // Joining keeps the room in the user's list; sitting moves this connection.
        let moved = match hub.join_room(session, &room).await {
            Ok(_) => hub.sit(session, &room),
            Err(refusal) => Err(refusal),
        };
        if let Err(refusal) = moved {
            return vec![out(Frame::RoomSwitchReject {
                response: capitalise(&refusal.to_string()),
            })];
        }
        let name = hub
            .room(&session.user, id)
            .map_or_else(|| room_name.to_owned(), |r| r.name);
        self.room = id;
        self.room_name = name.clone();
        let mut frames = vec![out(Frame::RoomSwitchResponse { room_name: name })];
        frames.extend(self.enter(hub, session).await);
        frames
    }
}

fn system(severity: &str, message: impl Into<String>) -> Vec<Utf8Bytes> {
    vec![out(Frame::System {
        severity: severity.into(),
        message: message.into(),
    })]
}

impl Edge for Workshop {
    const PATH: &'static str = "/ws/workshop";

    /// Waits for `connection_request` (other frames are dropped) and answers it; a
    /// name connected right now is refused.
    async fn login(
        &mut self,
        text: &str,
        socket: &mut Socket<'_>,
    ) -> Result<Option<Attached>, Ending> {
        let hub = socket.hub;
        let Ok(Frame::ConnectionRequest { username }) = serde_json::from_str(text) else {
            return Ok(None);
        };
        let Some(general) = hub.room_id(GENERAL) else {
            return Err(Ending::Close(close::POLICY, "no General room"));
        };
        self.room = general;
        let attached = match hub.guest_login(&username, socket.peer).await {
            Ok(name) => {
                let login = Login {
                    name,
                    guest: true,
                    exclusive: true,
                    echo: true,
                    place: Place::Room(general),
                    token: None,
                };
                hub.attach(login).await.map_err(|refusal| match refusal {
                    Refusal::Conflict(_) => "Username already in use.".to_owned(),
                    other => capitalise(&other.to_string()),
                })
            }
            Err(Refusal::Forbidden(why)) | Err(Refusal::BadRequest(why)) => Err(capitalise(&why)),
            Err(other) => Err(capitalise(&other.to_string())),
        };
        match attached {
            Ok(attached) => Ok(Some(attached)),
            Err(why) => {
                let _ = socket.send(reject(why)).await;
                Err(Ending::Close(close::POLICY, "connection rejected"))
            }
        }
    }

    /// The greeting: who the client is, the rooms, and General's history and people.
    async fn welcome(&mut self, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub().clone(), link.session.clone());
        let mut hello = vec![out(Frame::ConnectionResponse {
            username: session.name.clone(),
            user_id: uuid(),
        })];
        hello.push(all_rooms(&hub, &session));
        hello.extend(self.enter(&hub, &session).await);
        // Live events from now on queue behind the greeting: a client that has the
        // greeting misses nothing said after it.
        hub.subscribe(&session);
        for f in hello {
            link.send(f).await?;
        }
        Ok(())
    }

    async fn on_text(&mut self, text: &str, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub().clone(), link.session.clone());
        let Ok(parsed) = serde_json::from_str::<Frame>(text) else {
            return Ok(());
        };
        let answers = match parsed {
            Frame::Message { message, .. } => {
                match super::post(&hub, &session, &self.chat(), message).await {
                    Ok(()) => Vec::new(),
                    Err(refusal) => system("warning", format!("Not sent: {refusal}")),
                }
            }
            Frame::Typing { is_typing, .. } => {
                let chat = self.chat();
                let _ = if is_typing {
                    hub.typing(&session, &chat)
                } else {
                    hub.stop_typing(&session, &chat)
                };
                Vec::new()
            }
            Frame::RoomCreate { room } => {
                match hub.create_room(&session, &room.room_name, false).await {
                    Ok(_) => Vec::new(),
                    Err(Refusal::Conflict(_)) => vec![out(Frame::RoomCreateReject {
                        response: "Room name already exists.".into(),
                    })],
                    Err(refusal) => vec![out(Frame::RoomCreateReject {
                        response: capitalise(&refusal.to_string()),
                    })],
                }
            }
            Frame::RoomSwitchRequest { room_name } => self.switch(&hub, &session, &room_name).await,
            Frame::RoomChatClear { room_name, .. } => {
                let cleared = match validate_room_name(&room_name) {
                    Ok(()) => hub.clear_room(&session, &ChatRef::Room(room_name)).await,
                    Err(e) => Err(Refusal::BadRequest(e.to_string())),
                };
                match cleared {
                    Ok(()) => Vec::new(),
                    Err(refusal) => system("error", capitalise(&refusal.to_string())),
                }
            }
            // Server-to-client frames and repeated requests are dropped.
            _ => Vec::new(),
        };
        for f in answers {
            link.send(f).await?;
        }
        Ok(())
    }

    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>) {
        if !self.for_me(item, &session.name) {
            return;
        }
        out.extend(cached(item, WORKSHOP_SLOT, || {
            frame_of(item).map(|f| frame(f.to_json()))
        }));
    }
}

impl Workshop {
    /// Whether `me`, sitting in this connection's room, gets the frame of `item`.
    fn for_me(&self, item: &Outbound, me: &str) -> bool {
        match item {
            Outbound::Logged { event, .. } => {
                self.here(&event.name)
                    && matches!(
                        event.event.data,
                        EventData::New { .. } | EventData::Clear { .. }
                    )
            }
            Outbound::Live(live) => match &live.live {
                Live::Typing { chat, user } | Live::TypingStopped { chat, user } => {
                    self.here(chat) && user != me
                }
                Live::RoomPresence { room, user, .. } => *room == self.room_name && user != me,
                Live::RoomCreated { .. } | Live::Broadcast { .. } => true,
                _ => false,
            },
        }
    }
}

/// The Workshop frame of a hub item, the same for every receiver.
fn frame_of(item: &Outbound) -> Option<Frame> {
    if let Some((_, message)) = new_message(item) {
        return Some(Frame::Message {
            username: message.sender.clone(),
            message: super::text_of(message),
        });
    }
    Some(match item {
        Outbound::Logged { event, .. } => match &event.event.data {
            EventData::Clear { user, room } => Frame::RoomChatClear {
                username: user.clone(),
                room_name: room.clone(),
            },
            _ => return None,
        },
        Outbound::Live(live) => match &live.live {
            Live::Typing { user, .. } => Frame::Typing {
                username: user.clone(),
                is_typing: true,
            },
            Live::TypingStopped { user, .. } => Frame::Typing {
                username: user.clone(),
                is_typing: false,
            },
            Live::RoomPresence { user, present, .. } => {
                let username = user.clone();
                if *present {
                    Frame::UserJoin { username }
                } else {
                    Frame::UserLeave { username }
                }
            }
            Live::RoomCreated { room, creator } => Frame::RoomCreate {
                room: RoomInfo {
                    room_name: room.clone(),
                    room_creator: creator.clone(),
                    connected_users: Vec::new(),
                },
            },
            Live::Broadcast { text, .. } => Frame::System {
                severity: "info".into(),
                message: text.clone(),
            },
            _ => return None,
        },
    })
}
