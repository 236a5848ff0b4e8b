//! The seed dialects: thin translations between a dialect's frames and the hub's
//! commands and events. Each holds no state of the world, only what its connection
//! shows (Workshop's current room). They share one connection loop ([`run`]) for
//! reading frames, writing the session's queue, pings and limits; the native protocol
//! has its own loop because it also pipelines requests and replays the log.

pub mod rwci;
pub mod workshop;
pub mod workspace;

use crate::domain::{Chat, ChatRef, EventData, GENERAL};
use crate::hub::{ChatName, Hub, Outbound, Session};
use crate::ws::{close, send_queued, ConnConfig, Ending};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{interval_at, Instant};
use tokio_util::sync::CancellationToken;

/// One dialect's half of a logged-in connection.
pub trait Dialect: Send {
    /// The frames one hub item becomes for this connection (none when the dialect
    /// cannot express it).
    fn render(&mut self, item: &Outbound, session: &Session) -> Vec<Utf8Bytes>;

    /// Handles one text frame from the client; answers frames to send back.
    fn on_text(
        &mut self,
        text: &str,
        hub: &Arc<Hub>,
        session: &Arc<Session>,
    ) -> impl Future<Output = Result<Vec<Utf8Bytes>, Ending>> + Send;
}

/// Runs a logged-in dialect connection to its end.
pub async fn run<D: Dialect>(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    session: &Arc<Session>,
    mut rx: mpsc::Receiver<Outbound>,
    shutdown: &CancellationToken,
    dialect: &mut D,
) -> Ending {
    let mut last_seen = Instant::now();
    let mut pings = interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
    let kicked = session.kicked.clone();
    loop {
        let frames = tokio::select! {
            msg = socket.recv() => {
                last_seen = Instant::now();
                match msg {
                    None | Some(Ok(Message::Close(_))) => Err(Ending::Gone),
                    Some(Err(e)) if crate::ws::is_too_big(&e) => Err(Ending::Close(close::TOO_BIG, "frame too large")),
                    Some(Err(_)) => Err(Ending::Gone),
                    Some(Ok(Message::Text(text))) => Box::pin(dialect.on_text(&text, hub, session)).await,
                    Some(Ok(_)) => Ok(Vec::new()),
                }
            }
            // What else is queued goes out in the same write.
            Some(item) = rx.recv() => Ok(crate::ws::take_batch(item, &mut rx, |item| dialect.render(item, session))),
            _ = pings.tick() => {
                if last_seen.elapsed() >= cfg.idle_timeout {
                    Err(Ending::Close(close::NORMAL, "idle timeout"))
                } else {
                    socket.send(Message::Ping(Default::default())).await.map(|()| Vec::new()).map_err(|_| Ending::Gone)
                }
            }
            () = kicked.notified() => Err(Ending::Close(close::POLICY, crate::ws::TOO_SLOW)),
            () = shutdown.cancelled() => Err(Ending::Close(close::GOING_AWAY, "server shutting down")),
        };
        match frames {
            Ok(frames) => {
                if let Err(ending) = send_queued(socket, frames, cfg, &kicked).await {
                    return ending;
                }
            }
            Err(ending) => return ending,
        }
    }
}

/// Whether a chat is the room `General` (where RWCI and Workspace live).
fn is_general(name: &ChatName) -> bool {
    name.room() == Some(GENERAL)
}

/// The room `General`, as a chat reference.
fn general() -> ChatRef {
    ChatRef::Room(GENERAL.into())
}

/// A new message in the log item, with its chat's name.
fn new_message(item: &Outbound) -> Option<(&ChatName, &Chat, &crate::domain::Message)> {
    match item {
        Outbound::Logged { event, .. } => match &event.event.data {
            EventData::New { message } => Some((&event.name, &event.event.chat, message)),
            _ => None,
        },
        Outbound::Live(_) => None,
    }
}

/// Posts a dialect's chat text: the dialects do not replicate empty messages, so those
/// are dropped (`Ok(())`); anything else is the hub's answer.
async fn post(
    hub: &Hub,
    session: &Session,
    chat: &ChatRef,
    text: String,
) -> Result<(), crate::domain::Refusal> {
    if text.trim().is_empty() {
        return Ok(());
    }
    hub.send_message(session, chat, text, Vec::new(), None)
        .await
        .map(|_| ())
}

fn frame(json: String) -> Utf8Bytes {
    json.into()
}
