//! Workshop (`/ws/workshop`, seed 000). A guest asks to connect with a name (refused
//! while that name is connected), then sits in one room at a time: it gets the room
//! list, the room's history and who is in it; it can post, type, create rooms, switch
//! rooms, and clear a room it created (or any, as an admin). `user_join`/`user_leave`
//! tell the clients sitting in a room who comes into it and who leaves it (switching
//! rooms is leaving one and coming into the other). Server broadcasts arrive as
//! `system` messages.

use super::{frame, new_message, Dialect};
use crate::domain::{iso8601, ChatRef, EventData, Refusal, RoomId, GENERAL};
use crate::hub::{ChatName, Hub, Live, Login, Outbound, Place, Session};
use crate::ws::{close, send, ConnConfig, Ending};
use app::dialect::workshop::{Frame, HistoryMessage, RoomInfo, UserStatus};
use axum::extract::ws::{Utf8Bytes, WebSocket};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;

/// Messages of a room's history sent on entering it.
const HISTORY: u32 = 50;
/// The creator shown for rooms no user created (`General`).
const NO_CREATOR: &str = "parlor";

pub async fn serve(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    cfg: Arc<ConnConfig>,
    shutdown: CancellationToken,
    peer: SocketAddr,
) {
    let ending = connect(&mut socket, &hub, &cfg, &shutdown, peer).await;
    crate::ws::finish(&mut socket, peer, "/ws/workshop", ending).await;
}

fn out(f: Frame) -> Utf8Bytes {
    frame(f.to_json())
}

fn reject(response: impl Into<String>) -> Utf8Bytes {
    out(Frame::ConnectionReject {
        response: response.into(),
    })
}

/// Waits for `connection_request`, answers it, and runs the connection.
async fn connect(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    shutdown: &CancellationToken,
    peer: SocketAddr,
) -> Ending {
    let deadline = sleep(cfg.auth_timeout);
    tokio::pin!(deadline);
    let username = loop {
        let text = match crate::ws::next_text_before(socket, deadline.as_mut(), shutdown).await {
            Ok(text) => text,
            Err(ending) => return ending,
        };
        if let Ok(Frame::ConnectionRequest { username }) = serde_json::from_str(&text) {
            break username;
        }
    };
    let Some(general) = hub.room_id(GENERAL) else {
        return Ending::Close(close::POLICY, "no General room");
    };
    let attached = match hub.guest_login(&username).await {
        Ok(name) => {
            let login = Login {
                name,
                guest: true,
                exclusive: true,
                echo: true,
                place: Place::Room(general),
            };
            hub.attach(login).await.map_err(|refusal| match refusal {
                Refusal::Conflict(_) => "Username already in use.".to_owned(),
                other => capitalise(&other.to_string()),
            })
        }
        Err(Refusal::Forbidden(why)) | Err(Refusal::BadRequest(why)) => Err(capitalise(&why)),
        Err(other) => Err(capitalise(&other.to_string())),
    };
    let (session, rx) = match attached {
        Ok(attached) => attached,
        Err(why) => {
            let _ = send(socket, reject(why), cfg).await;
            return Ending::Close(close::POLICY, "connection rejected");
        }
    };
    let session = Arc::new(session);
    tracing::info!(%peer, user = %session.name, "connected on /ws/workshop");
    let mut workshop = Workshop {
        room: general,
        room_name: GENERAL.into(),
    };
    let mut hello = vec![out(Frame::ConnectionResponse {
        username: session.name.clone(),
        user_id: uuid(),
    })];
    hello.push(all_rooms(hub, &session));
    hello.extend(workshop.enter(hub, &session).await);
    // Live events from now on queue behind the greeting: a client that has the
    // greeting misses nothing said after it.
    hub.subscribe(&session);
    for f in hello {
        if let Err(ending) = send(socket, f, cfg).await {
            return ending;
        }
    }
    super::run(socket, hub, cfg, &session, rx, shutdown, &mut workshop).await
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

/// The connection's place: the room it sits in.
struct Workshop {
    room: RoomId,
    room_name: String,
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
                username: m.message.sender,
                message: m.message.text,
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
        let Some(id) = hub.room_id(room_name) else {
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

impl Dialect for Workshop {
    fn render(&mut self, item: &Outbound, session: &Session) -> Vec<Utf8Bytes> {
        if let Some((name, _, message)) = new_message(item) {
            if !self.here(name) {
                return Vec::new();
            }
            return vec![out(Frame::Message {
                username: message.sender.clone(),
                message: message.text.clone(),
            })];
        }
        let f = match item {
            Outbound::Logged { event, .. } => {
                if !self.here(&event.name) {
                    return Vec::new();
                }
                match &event.event.data {
                    EventData::Clear { user, room } => Frame::RoomChatClear {
                        username: user.clone(),
                        room_name: room.clone(),
                    },
                    _ => return Vec::new(),
                }
            }
            Outbound::Live(live) => match &live.live {
                Live::Typing { chat, user } if self.here(chat) && *user != session.name => {
                    Frame::Typing {
                        username: user.clone(),
                        is_typing: true,
                    }
                }
                Live::TypingStopped { chat, user } if self.here(chat) && *user != session.name => {
                    Frame::Typing {
                        username: user.clone(),
                        is_typing: false,
                    }
                }
                Live::RoomPresence {
                    room,
                    user,
                    present,
                } if *room == self.room_name && *user != session.name => {
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
                _ => return Vec::new(),
            },
        };
        vec![out(f)]
    }

    async fn on_text(
        &mut self,
        text: &str,
        hub: &Arc<Hub>,
        session: &Arc<Session>,
    ) -> Result<Vec<Utf8Bytes>, Ending> {
        let Ok(parsed) = serde_json::from_str::<Frame>(text) else {
            return Ok(Vec::new());
        };
        Ok(match parsed {
            Frame::Message { message, .. } => {
                match super::post(hub, session, &self.chat(), message).await {
                    Ok(()) => Vec::new(),
                    Err(refusal) => system("warning", format!("Not sent: {refusal}")),
                }
            }
            Frame::Typing { is_typing, .. } => {
                let chat = self.chat();
                let _ = if is_typing {
                    hub.typing(session, &chat)
                } else {
                    hub.stop_typing(session, &chat)
                };
                Vec::new()
            }
            Frame::RoomCreate { room } => match hub.create_room(session, &room.room_name).await {
                Ok(_) => Vec::new(),
                Err(Refusal::Conflict(_)) => vec![out(Frame::RoomCreateReject {
                    response: "Room name already exists.".into(),
                })],
                Err(refusal) => vec![out(Frame::RoomCreateReject {
                    response: capitalise(&refusal.to_string()),
                })],
            },
            Frame::RoomSwitchRequest { room_name } => self.switch(hub, session, &room_name).await,
            Frame::RoomChatClear { room_name, .. } => {
                match hub.clear_room(session, &ChatRef::Room(room_name)).await {
                    Ok(()) => Vec::new(),
                    Err(refusal) => system("error", capitalise(&refusal.to_string())),
                }
            }
            // Server-to-client frames and repeated requests are dropped.
            _ => Vec::new(),
        })
    }
}
