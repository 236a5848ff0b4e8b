//! Workspace (`/ws/workspace?username=NAME`, seed 002). A guest connection (no
//! password) named by the query string; chat is `General`; presence is the user's
//! status; typing is `General`'s. Server broadcasts arrive as `message:new` from
//! `server`. Refusals the seed has no frame for are sent as `{"type":"error",…}`.

use super::{frame, general, is_general, new_message, Dialect};
use crate::domain::{iso8601, now_ms};
use crate::hub::{Hub, Live, Login, Outbound, Place, Session};
use crate::ws::requests::code_of;
use crate::ws::{close, send, ConnConfig, Ending};
use app::dialect::workspace::{ClientFrame, MessageData, PresenceData, ServerFrame, TypingData};
use app::protocol::{codes, Status};
use axum::extract::ws::{Utf8Bytes, WebSocket};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub async fn serve(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    cfg: Arc<ConnConfig>,
    shutdown: CancellationToken,
    peer: SocketAddr,
    username: Option<String>,
) {
    let ending = connect(&mut socket, &hub, &cfg, &shutdown, peer, username).await;
    crate::ws::finish(&mut socket, peer, "/ws/workspace", ending).await;
}

async fn connect(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    shutdown: &CancellationToken,
    peer: SocketAddr,
    username: Option<String>,
) -> Ending {
    let Some(username) = username.filter(|u| !u.is_empty()) else {
        return Ending::Close(close::POLICY, "connect with ?username=NAME");
    };
    let name = match hub.guest_login(&username).await {
        Ok(name) => name,
        Err(refusal) => {
            tracing::info!(%peer, %refusal, "workspace guest refused");
            return Ending::Close(close::POLICY, "this name cannot be used here");
        }
    };
    let login = Login {
        name,
        guest: true,
        exclusive: false,
        echo: true,
        place: Place::Everywhere,
    };
    let (session, rx) = match hub.attach(login).await {
        Ok(attached) => attached,
        Err(_) => return Ending::Close(close::POLICY, "too many connections for this user"),
    };
    let session = Arc::new(session);
    tracing::info!(%peer, user = %session.name, "connected on /ws/workspace");
    let hello = ServerFrame::Connected {
        user_id: session.name.clone(),
        username: session.name.clone(),
        timestamp: iso8601(now_ms(), true),
        connected_users: hub.online().len() as u64,
    };
    // Live events from now on queue behind the greeting.
    hub.subscribe(&session);
    if let Err(ending) = send(socket, frame(hello.to_json()), cfg).await {
        return ending;
    }
    super::run(socket, hub, cfg, &session, rx, shutdown, &mut Workspace).await
}

struct Workspace;

fn error(code: &str, message: impl Into<String>) -> Vec<Utf8Bytes> {
    let e = ServerFrame::Error {
        code: code.into(),
        message: message.into(),
    };
    vec![frame(e.to_json())]
}

impl Dialect for Workspace {
    fn render(&mut self, item: &Outbound, session: &Session) -> Vec<Utf8Bytes> {
        let out = if let Some((name, _, message)) = new_message(item) {
            if !is_general(name) {
                return Vec::new();
            }
            ServerFrame::MessageNew {
                data: MessageData {
                    id: format!("msg_{}", message.id),
                    user_id: message.sender.clone(),
                    username: message.sender.clone(),
                    text: message.text.clone(),
                    created_at: iso8601(message.created_at, true),
                },
            }
        } else {
            let Outbound::Live(live) = item else {
                return Vec::new();
            };
            let typing = |user: &String, is_typing| ServerFrame::TypingIndicator {
                data: TypingData {
                    user_id: user.clone(),
                    username: user.clone(),
                    is_typing,
                },
            };
            match &live.live {
                Live::Presence { user, status } if *user != session.name => {
                    ServerFrame::PresenceUpdate {
                        data: PresenceData {
                            user_id: user.clone(),
                            username: user.clone(),
                            status: *status,
                        },
                    }
                }
                Live::Typing { chat, user } if is_general(chat) && *user != session.name => {
                    typing(user, true)
                }
                Live::TypingStopped { chat, user } if is_general(chat) && *user != session.name => {
                    typing(user, false)
                }
                Live::Broadcast { text, .. } => ServerFrame::MessageNew {
                    data: MessageData {
                        id: format!("broadcast_{}", live.at),
                        user_id: "server".into(),
                        username: "server".into(),
                        text: text.clone(),
                        created_at: iso8601(live.at, true),
                    },
                },
                _ => return Vec::new(),
            }
        };
        vec![frame(out.to_json())]
    }

    async fn on_text(
        &mut self,
        text: &str,
        hub: &Arc<Hub>,
        session: &Arc<Session>,
    ) -> Result<Vec<Utf8Bytes>, Ending> {
        // Frames that are not one of the three client frames are dropped.
        let Ok(parsed) = serde_json::from_str::<ClientFrame>(text) else {
            return Ok(Vec::new());
        };
        Ok(match parsed {
            ClientFrame::MessageSend { text } => {
                match super::post(hub, session, &general(), text).await {
                    Ok(()) => Vec::new(),
                    Err(refusal) => error(code_of(&refusal), refusal.to_string()),
                }
            }
            ClientFrame::PresenceUpdate { status } => match Status::parse(&status) {
                Some(status) => {
                    hub.set_status(session, status);
                    Vec::new()
                }
                None => error(
                    codes::BAD_REQUEST,
                    "invalid status: online, away, busy or offline",
                ),
            },
            ClientFrame::TypingIndicator { is_typing } => {
                let _ = if is_typing {
                    hub.typing(session, &general())
                } else {
                    hub.stop_typing(session, &general())
                };
                Vec::new()
            }
        })
    }
}
