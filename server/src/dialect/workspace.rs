//! Workspace (`/ws/workspace?username=NAME`, seed 002). A guest connection (no
//! password) named by the query string; chat is `General`; presence is the user's
//! status; typing is `General`'s. Server broadcasts arrive as `message:new` from
//! `server`. Refusals the seed has no frame for are sent as `{"type":"error",…}`.

use super::{cached, frame, general, is_general, new_message, WORKSPACE_SLOT};
use crate::domain::{iso8601, now_ms};
use crate::driver::{close, Attached, Edge, Ending, Link, Socket};
use crate::hub::{Live, Login, Outbound, Place, Session};
use crate::ws::code_of;
use app::dialect::workspace::{ClientFrame, MessageData, PresenceData, ServerFrame, TypingData};
use app::protocol::{codes, Status};
use axum::extract::ws::Utf8Bytes;

/// A Workspace connection: the name from its URL until it is logged in.
pub struct Workspace {
    pub username: Option<String>,
}

fn error(code: &str, message: impl Into<String>) -> Utf8Bytes {
    let e = ServerFrame::Error {
        code: code.into(),
        message: message.into(),
    };
    frame(e.to_json())
}

impl Edge for Workspace {
    const PATH: &'static str = "/ws/workspace";

    /// Logs in from the URL's `username`, before any frame.
    async fn open(&mut self, socket: &mut Socket<'_>) -> Result<Option<Attached>, Ending> {
        let hub = socket.hub;
        let Some(username) = self.username.take().filter(|u| !u.is_empty()) else {
            return Err(Ending::Close(close::POLICY, "connect with ?username=NAME"));
        };
        let name = match hub.guest_login(&username, socket.peer).await {
            Ok(name) => name,
            Err(refusal) => {
                tracing::info!(%refusal, "workspace guest refused");
                return Err(Ending::Close(
                    close::POLICY,
                    "this name cannot be used here",
                ));
            }
        };
        let login = Login {
            name,
            guest: true,
            exclusive: false,
            echo: true,
            place: Place::Everywhere,
            token: None,
        };
        match hub.attach(login).await {
            Ok(attached) => Ok(Some(attached)),
            Err(_) => Err(Ending::Close(
                close::POLICY,
                "too many connections for this user",
            )),
        }
    }

    /// Never called: Workspace logs in when the socket opens.
    async fn login(&mut self, _: &str, _: &mut Socket<'_>) -> Result<Option<Attached>, Ending> {
        Err(Ending::Close(close::POLICY, "connect with ?username=NAME"))
    }

    async fn welcome(&mut self, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub(), link.session);
        let hello = ServerFrame::Connected {
            user_id: session.name.clone(),
            username: session.name.clone(),
            timestamp: iso8601(now_ms(), true),
            connected_users: hub.online().len() as u64,
        };
        // Live events from now on queue behind the greeting.
        hub.subscribe(session);
        link.send(frame(hello.to_json())).await
    }

    async fn on_text(&mut self, text: &str, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub(), link.session);
        // Frames that are not one of the three client frames are dropped.
        let Ok(parsed) = serde_json::from_str::<ClientFrame>(text) else {
            return Ok(());
        };
        let answer = match parsed {
            ClientFrame::MessageSend { text } => {
                match super::post(hub, session, &general(), text).await {
                    Ok(()) => None,
                    Err(refusal) => Some(error(code_of(&refusal), refusal.to_string())),
                }
            }
            ClientFrame::PresenceUpdate { status } => match Status::parse(&status) {
                Some(status) => match hub.set_status(session, status) {
                    Ok(()) => None,
                    Err(refusal) => Some(error(code_of(&refusal), refusal.to_string())),
                },
                None => Some(error(
                    codes::BAD_REQUEST,
                    "invalid status: online, away, busy or offline",
                )),
            },
            ClientFrame::TypingIndicator { is_typing } => {
                let _ = if is_typing {
                    hub.typing(session, &general())
                } else {
                    hub.stop_typing(session, &general())
                };
                None
            }
        };
        match answer {
            Some(frame) => link.send(frame).await,
            None => Ok(()),
        }
    }

    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>) {
        if !for_me(item, &session.name) {
            return;
        }
        out.extend(cached(item, WORKSPACE_SLOT, || {
            frame_of(item).map(|f| frame(f.to_json()))
        }));
    }
}

/// Whether `me` gets the frame of `item` (not their own presence or typing).
fn for_me(item: &Outbound, me: &str) -> bool {
    if let Some((name, _)) = new_message(item) {
        return is_general(name);
    }
    let Outbound::Live(live) = item else {
        return false;
    };
    match &live.live {
        Live::Presence { user, .. } => user != me,
        Live::Typing { chat, user } | Live::TypingStopped { chat, user } => {
            is_general(chat) && user != me
        }
        Live::Broadcast { .. } => true,
        _ => false,
    }
}

/// The Workspace frame of a hub item, the same for every receiver.
fn frame_of(item: &Outbound) -> Option<ServerFrame> {
    if let Some((_, message)) = new_message(item) {
        return Some(ServerFrame::MessageNew {
            data: MessageData {
                id: format!("msg_{}", message.id),
                user_id: message.sender.clone(),
                username: message.sender.clone(),
                text: super::text_of(message),
                created_at: iso8601(message.created_at, true),
            },
        });
    }
    let Outbound::Live(live) = item else {
        return None;
    };
    let typing = |user: &String, is_typing| ServerFrame::TypingIndicator {
        data: TypingData {
            user_id: user.clone(),
            username: user.clone(),
            is_typing,
        },
    };
    Some(match &live.live {
        Live::Presence { user, status } => ServerFrame::PresenceUpdate {
            data: PresenceData {
                user_id: user.clone(),
                username: user.clone(),
                status: *status,
            },
        },
        Live::Typing { user, .. } => typing(user, true),
        Live::TypingStopped { user, .. } => typing(user, false),
        Live::Broadcast { text, .. } => ServerFrame::MessageNew {
            data: MessageData {
                id: format!("broadcast_{}", live.at),
                user_id: "server".into(),
                username: "server".into(),
                text: text.clone(),
                created_at: iso8601(live.at, true),
            },
        },
        _ => return None,
    })
}
