//! RWCI (`/ws/rwci`, seed 004). Logs in with a password like the native protocol;
//! public `message`s are chat in `General`; `direct_message`s are direct chats; `join`
//! and `quit` follow users going online and offline; server broadcasts and server DMs
//! come as `broadcast` and `direct_message` from `server`.

use super::{frame, general, is_general, new_message, Dialect};
use crate::domain::{Chat, ChatRef, Refusal};
use crate::hub::{Hub, Live, Login, Outbound, Place, Session};
use crate::ws::{close, send, ConnConfig, Ending};
use app::dialect::rwci::{ClientPacket, ServerPacket, LOGGED_IN, LOGIN_FAILED, REGISTERED};
use axum::extract::ws::{Utf8Bytes, WebSocket};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;

/// The author of messages the server itself sends.
const SERVER: &str = "server";

pub async fn serve(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    cfg: Arc<ConnConfig>,
    shutdown: CancellationToken,
    peer: SocketAddr,
) {
    let ending = match login(&mut socket, &hub, &cfg, &shutdown).await {
        Ok((session, rx)) => {
            let session = Arc::new(session);
            tracing::info!(%peer, user = %session.name, "logged in on /ws/rwci");
            match welcome(&mut socket, &hub, &cfg, &session).await {
                Ok(()) => {
                    super::run(&mut socket, &hub, &cfg, &session, rx, &shutdown, &mut Rwci).await
                }
                Err(ending) => ending,
            }
        }
        Err(ending) => ending,
    };
    crate::ws::finish(&mut socket, peer, "/ws/rwci", ending).await;
}

fn packet(p: ServerPacket) -> Utf8Bytes {
    frame(p.to_json())
}

async fn login(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    shutdown: &CancellationToken,
) -> Result<(Session, tokio::sync::mpsc::Receiver<Outbound>), Ending> {
    let deadline = sleep(cfg.auth_timeout);
    tokio::pin!(deadline);
    loop {
        let text = crate::ws::next_text_before(socket, deadline.as_mut(), shutdown).await?;
        let (username, password) = match ClientPacket::parse(&text) {
            Ok(ClientPacket::Auth { username, password }) => (username, password),
            // Anything else before a login closes the connection (RFC: unauthorised).
            Ok(_) => return Err(Ending::Close(close::POLICY, "log in first")),
            Err(_) => continue,
        };
        // Seed 004: a login succeeds only if the username is not already connected.
        let outcome = match hub.authenticate(&username, &password).await {
            Ok((name, registered)) => {
                let login = Login {
                    name,
                    guest: false,
                    exclusive: true,
                    echo: true,
                    place: Place::Everywhere,
                };
                hub.attach(login).await.map(|s| (s, registered))
            }
            Err(e) => Err(e),
        };
        return match outcome {
            Ok(((session, rx), registered)) => {
                let status = if registered { REGISTERED } else { LOGGED_IN };
                let ok = ServerPacket::Auth {
                    status: status.into(),
                    success: true,
                };
                send(socket, packet(ok), cfg).await?;
                Ok((session, rx))
            }
            Err(refusal) => {
                tracing::debug!(%refusal, "rwci login failed");
                let failed = ServerPacket::Auth {
                    status: LOGIN_FAILED.into(),
                    success: false,
                };
                send(socket, packet(failed), cfg).await?;
                Err(Ending::Close(close::POLICY, "login failed"))
            }
        };
    }
}

/// After login: the online users (once), then `join` for the new user, then live.
async fn welcome(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    session: &Session,
) -> Result<(), Ending> {
    let mut users: Vec<String> = hub.online().into_iter().map(|(name, _)| name).collect();
    if !users.contains(&session.name) {
        users.push(session.name.clone());
    }
    // Live events from now on queue behind the greeting.
    hub.subscribe(session);
    send(socket, packet(ServerPacket::UserList { users }), cfg).await?;
    let join = ServerPacket::Join {
        username: session.name.clone(),
    };
    send(socket, packet(join), cfg).await?;
    Ok(())
}

struct Rwci;

impl Dialect for Rwci {
    fn render(&mut self, item: &Outbound, session: &Session) -> Vec<Utf8Bytes> {
        let p = if let Some((name, chat, message)) = new_message(item) {
            match chat {
                _ if is_general(name) => ServerPacket::Message {
                    author: message.sender.clone(),
                    message: message.text.clone(),
                },
                Chat::Direct(..) if message.sender != session.name => ServerPacket::DirectMessage {
                    author: message.sender.clone(),
                    message: message.text.clone(),
                },
                _ => return Vec::new(),
            }
        } else {
            let Outbound::Live(live) = item else {
                return Vec::new();
            };
            match &live.live {
                Live::Online { user } if *user != session.name => ServerPacket::Join {
                    username: user.clone(),
                },
                Live::Offline { user } if *user != session.name => ServerPacket::Quit {
                    username: user.clone(),
                },
                Live::Typing { chat, user } if is_general(chat) && *user != session.name => {
                    ServerPacket::Typing {
                        username: user.clone(),
                    }
                }
                Live::Broadcast { text, to: None } => ServerPacket::Broadcast {
                    message: text.clone(),
                },
                Live::Broadcast { text, to: Some(_) } => ServerPacket::DirectMessage {
                    author: SERVER.into(),
                    message: text.clone(),
                },
                _ => return Vec::new(),
            }
        };
        vec![packet(p)]
    }

    async fn on_text(
        &mut self,
        text: &str,
        hub: &Arc<Hub>,
        session: &Arc<Session>,
    ) -> Result<Vec<Utf8Bytes>, Ending> {
        let (chat, message) = match ClientPacket::parse(text) {
            Ok(ClientPacket::Message { message, author }) => {
                if author.is_some_and(|a| !a.eq_ignore_ascii_case(&session.name)) {
                    return Err(Ending::Close(
                        close::POLICY,
                        "a message's author is the logged-in user",
                    ));
                }
                (general(), message)
            }
            Ok(ClientPacket::DirectMessage { recipient, message }) => {
                match ChatRef::parse(&recipient) {
                    Ok(chat @ ChatRef::Direct(_)) => (chat, message),
                    _ => {
                        return Ok(vec![packet(ServerPacket::DirectMessage {
                            author: SERVER.into(),
                            message: format!("Not sent: no user named {recipient:?}"),
                        })])
                    }
                }
            }
            Ok(ClientPacket::Typing { .. }) => {
                let _ = hub.typing(session, &general());
                return Ok(Vec::new());
            }
            // A second auth, and packets without a known type, are dropped.
            Ok(ClientPacket::Auth { .. }) | Err(_) => return Ok(Vec::new()),
        };
        match super::post(hub, session, &chat, message).await {
            Ok(()) => Ok(Vec::new()),
            // RWCI has no error packet: the server tells the user in a direct message.
            Err(
                refusal @ (Refusal::RateLimited(_) | Refusal::NotFound(_) | Refusal::BadRequest(_)),
            ) => Ok(vec![packet(ServerPacket::DirectMessage {
                author: SERVER.into(),
                message: format!("Not sent: {refusal}"),
            })]),
            Err(refusal) => {
                tracing::warn!(%refusal, "rwci message refused");
                Ok(Vec::new())
            }
        }
    }
}
