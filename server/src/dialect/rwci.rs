//! RWCI (`/ws/rwci`, seed 004). Logs in with a password like the native protocol, and
//! only while the name is not connected already; public `message`s are chat in
//! `General`; `direct_message`s are direct chats; `join` and `quit` follow users going
//! online and offline; server broadcasts and server DMs come as `broadcast` and
//! `direct_message` from `server`.

use super::{cached, frame, general, is_general, new_message, RWCI_SLOT};
use crate::domain::{Chat, ChatRef, Refusal};
use crate::driver::{close, Attached, Edge, Ending, Link, Socket};
use crate::hub::{Live, Login, Outbound, Place, Session};
use app::dialect::rwci::{ClientPacket, ServerPacket, LOGGED_IN, LOGIN_FAILED, REGISTERED};
use axum::extract::ws::Utf8Bytes;

/// The author of messages the server itself sends.
const SERVER: &str = "server";

fn packet(p: ServerPacket) -> Utf8Bytes {
    frame(p.to_json())
}

/// An RWCI connection (it keeps no state of its own).
pub struct Rwci;

impl Edge for Rwci {
    const PATH: &'static str = "/ws/rwci";

    async fn login(
        &mut self,
        text: &str,
        socket: &mut Socket<'_>,
    ) -> Result<Option<Attached>, Ending> {
        let hub = socket.hub;
        let (username, password) = match ClientPacket::parse(text) {
            Ok(ClientPacket::Auth { username, password }) => (username, password),
            // Anything else before a login closes the connection (RFC: unauthorised).
            Ok(_) => return Err(Ending::Close(close::POLICY, "log in first")),
            Err(_) => return Ok(None),
        };
        // Seed 004: a login succeeds only if the username is not already connected.
        let peer = socket.peer;
        let outcome = match socket
            .unless_gone(hub.authenticate(&username, &password, None, peer))
            .await?
        {
            Ok((name, registered)) => {
                let login = Login {
                    name,
                    guest: false,
                    exclusive: true,
                    echo: true,
                    place: Place::Everywhere,
                    token: None,
                };
                hub.attach(login).await.map(|s| (s, registered))
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok((attached, registered)) => {
                let status = if registered { REGISTERED } else { LOGGED_IN };
                let ok = ServerPacket::Auth {
                    status: status.into(),
                    success: true,
                };
                socket.send(packet(ok)).await?;
                Ok(Some(attached))
            }
            Err(refusal) => {
                tracing::debug!(%refusal, "rwci login failed");
                let failed = ServerPacket::Auth {
                    status: LOGIN_FAILED.into(),
                    success: false,
                };
                socket.send(packet(failed)).await?;
                Err(Ending::Close(close::POLICY, "login failed"))
            }
        }
    }

    /// After login: the online users (once), then `join` for the new user, then live.
    async fn welcome(&mut self, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub(), link.session);
        let mut users: Vec<String> = hub.online().into_iter().map(|(name, _)| name).collect();
        if !users.contains(&session.name) {
            users.push(session.name.clone());
        }
        // Live events from now on queue behind the greeting.
        hub.subscribe(session);
        let join = ServerPacket::Join {
            username: session.name.clone(),
        };
        link.send(packet(ServerPacket::UserList { users })).await?;
        link.send(packet(join)).await
    }

    async fn on_text(&mut self, text: &str, link: &mut Link<'_>) -> Result<(), Ending> {
        let (hub, session) = (link.hub(), link.session);
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
                        return link
                            .send(notice(format!("no user named {recipient:?}")))
                            .await
                    }
                }
            }
            Ok(ClientPacket::Typing { .. }) => {
                let _ = hub.typing(session, &general());
                return Ok(());
            }
            // A second auth, and packets without a known type, are dropped.
            Ok(ClientPacket::Auth { .. }) | Err(_) => return Ok(()),
        };
        match super::post(hub, session, &chat, message).await {
            Ok(()) => Ok(()),
            // RWCI has no error packet: the server tells the user in a direct message.
            Err(
                refusal @ (Refusal::RateLimited(_)
                | Refusal::NotFound(_)
                | Refusal::BadRequest(_)
                | Refusal::Forbidden(_)),
            ) => link.send(notice(refusal.to_string())).await,
            Err(refusal) => {
                tracing::warn!(%refusal, "rwci message refused");
                Ok(())
            }
        }
    }

    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>) {
        if !for_me(item, &session.name) {
            return;
        }
        out.extend(cached(item, RWCI_SLOT, || packet_of(item).map(packet)));
    }
}

/// Why a message was not sent, as a direct message from the server.
fn notice(why: String) -> Utf8Bytes {
    packet(ServerPacket::DirectMessage {
        author: SERVER.into(),
        message: format!("Not sent: {why}"),
    })
}

/// Whether `me` gets the packet of `item` (nobody is told of their own comings,
/// goings, typing or direct messages).
fn for_me(item: &Outbound, me: &str) -> bool {
    if let Some((name, message)) = new_message(item) {
        return is_general(name) || (name.room().is_none() && message.sender != me);
    }
    let Outbound::Live(live) = item else {
        return false;
    };
    match &live.live {
        Live::Online { user } | Live::Offline { user } => user != me,
        Live::Typing { chat, user } => is_general(chat) && user != me,
        Live::Broadcast { .. } => true,
        _ => false,
    }
}

/// The RWCI packet of a hub item, the same for every receiver.
fn packet_of(item: &Outbound) -> Option<ServerPacket> {
    if let Outbound::Logged { event, .. } = item {
        let (name, message) = new_message(item)?;
        return Some(match event.event.chat {
            _ if is_general(name) => ServerPacket::Message {
                author: message.sender.clone(),
                message: super::text_of(message),
            },
            Chat::Direct(..) => ServerPacket::DirectMessage {
                author: message.sender.clone(),
                message: super::text_of(message),
            },
            Chat::Room(_) => return None,
        });
    }
    let Outbound::Live(live) = item else {
        return None;
    };
    Some(match &live.live {
        Live::Online { user } => ServerPacket::Join {
            username: user.clone(),
        },
        Live::Offline { user } => ServerPacket::Quit {
            username: user.clone(),
        },
        Live::Typing { user, .. } => ServerPacket::Typing {
            username: user.clone(),
        },
        Live::Broadcast { text, to: None } => ServerPacket::Broadcast {
            message: text.clone(),
        },
        Live::Broadcast { text, to: Some(_) } => ServerPacket::DirectMessage {
            author: SERVER.into(),
            message: text.clone(),
        },
        _ => return None,
    })
}
