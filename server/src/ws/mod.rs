//! The native protocol edge (`/ws`): one task per connection that reads frames,
//! answers requests (in order, several in flight), writes the session's outbound
//! queue, replays missed events on `subscribe`, pings, and enforces the connection
//! limits (auth timeout, idle timeout, frame size, slow readers).

pub mod render;
pub mod requests;

use crate::domain::{now_ms, Chat, EventData, Refusal, UserKey};
use crate::hub::{Hub, Login, Outbound, Session};
use app::protocol::{
    AuthOk, ClientEventBody, ClientFrame, EventId, Request, RequestBody, Response, ServerFrame,
    SubscribeOk,
};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{interval_at, sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;

/// Connection timing, configurable by flags so tests can shorten it.
#[derive(Debug, Clone)]
pub struct ConnConfig {
    pub auth_timeout: Duration,
    pub idle_timeout: Duration,
    pub ping_interval: Duration,
    /// A write that takes longer than this drops the connection.
    pub write_timeout: Duration,
}

impl Default for ConnConfig {
    fn default() -> ConnConfig {
        ConnConfig {
            auth_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            ping_interval: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Close codes used by every edge.
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    /// The server failed (a store error in the middle of a replay): reconnect and
    /// resume from the last event id received.
    pub const INTERNAL: u16 = 1011;
}

/// Requests answered concurrently per connection before reading pauses.
const MAX_IN_FLIGHT: usize = 64;
/// Events read from the log per replay page.
const REPLAY_PAGE: u32 = 500;

type Pending = Pin<Box<dyn Future<Output = String> + Send>>;

/// Why a connection ended.
#[derive(Debug)]
pub enum Ending {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The peer is gone; nothing to send.
    Gone,
}

/// Logs how a connection ended and, when it ends with a close code, sends it.
pub async fn finish(socket: &mut WebSocket, peer: SocketAddr, path: &'static str, ending: Ending) {
    tracing::info!(%peer, path, ?ending, "connection closed");
    if let Ending::Close(code, reason) = ending {
        send_close(socket, code, reason).await;
    }
}

/// Sends a close frame and waits (briefly) for the peer's answer, so that it sees a
/// clean close; gives up quietly if the peer is gone.
pub async fn send_close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    if let Ok(Ok(())) = timeout(Duration::from_secs(2), socket.send(frame)).await {
        let _ = timeout(Duration::from_secs(1), async {
            while let Some(Ok(msg)) = socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// The next text frame of a connection that has not logged in yet (other frames are
/// skipped). Ends at `deadline` (the auth timeout), on shutdown, or when the peer goes.
pub async fn next_text_before(
    socket: &mut WebSocket,
    mut deadline: Pin<&mut tokio::time::Sleep>,
    shutdown: &CancellationToken,
) -> Result<Utf8Bytes, Ending> {
    loop {
        let msg = tokio::select! {
            msg = socket.recv() => msg,
            () = deadline.as_mut() => return Err(Ending::Close(close::POLICY, "authentication timeout")),
            () = shutdown.cancelled() => return Err(Ending::Close(close::GOING_AWAY, "server shutting down")),
        };
        match msg {
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Err(e)) if is_too_big(&e) => {
                return Err(Ending::Close(close::TOO_BIG, "frame too large"))
            }
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Err(Ending::Gone),
            Some(Ok(_)) => {}
        }
    }
}

/// Whether a receive error means the peer sent a frame over the size limit.
pub fn is_too_big(err: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
            return matches!(t, tokio_tungstenite::tungstenite::Error::Capacity(_));
        }
        source = e.source();
    }
    false
}

/// Runs one native connection to its end.
pub async fn serve(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    cfg: Arc<ConnConfig>,
    shutdown: CancellationToken,
    peer: SocketAddr,
) {
    // Boxed: the login's state is big and needed once; inline it would stay in every
    // connection's task for as long as the connection lives.
    let ending = match Box::pin(login(&mut socket, &hub, &cfg, &shutdown)).await {
        Ok(LoggedIn { session, rx, token }) => {
            let user = session.name.clone();
            tracing::info!(%peer, %user, "logged in on /ws");
            let ending = Connection {
                socket: &mut socket,
                hub: &hub,
                cfg: &cfg,
                session: Arc::new(session),
                token,
                last_sent: 0,
            }
            .run(rx, &shutdown)
            .await;
            tracing::info!(%peer, %user, ?ending, "connection closed");
            ending
        }
        Err(ending) => {
            tracing::info!(%peer, ?ending, "connection closed before login");
            ending
        }
    };
    if let Ending::Close(code, reason) = ending {
        send_close(&mut socket, code, reason).await;
    }
}

/// A connection after a successful `auth`.
struct LoggedIn {
    session: Session,
    rx: tokio::sync::mpsc::Receiver<Outbound>,
    /// The session token this login used or was given (revoked by `logout`).
    token: String,
}

/// Waits for a successful `auth`; answers everything else with `unauthorized`.
async fn login(
    socket: &mut WebSocket,
    hub: &Arc<Hub>,
    cfg: &ConnConfig,
    shutdown: &CancellationToken,
) -> Result<LoggedIn, Ending> {
    let deadline = sleep(cfg.auth_timeout);
    tokio::pin!(deadline);
    loop {
        let text = next_text_before(socket, deadline.as_mut(), shutdown).await?;
        let request = match ClientFrame::parse(&text) {
            Ok(ClientFrame::Request(r)) => r,
            Ok(_) => continue,
            Err(e) => {
                if let Some(id) = e.id {
                    let frame = Response::error(id, now_ms(), e.code, e.message);
                    send(socket, ServerFrame::Response(frame).to_json().into(), cfg).await?;
                }
                continue;
            }
        };
        let RequestBody::Auth(auth) = &request.body else {
            send(
                socket,
                requests::error_frame(&request.id, &Refusal::Unauthorized).into(),
                cfg,
            )
            .await?;
            continue;
        };
        let outcome = match &auth.token {
            Some(token) => hub
                .authenticate_token(&auth.username, token)
                .await
                .map(|name| (name, false, token.clone())),
            None => match hub.authenticate(&auth.username, &auth.password).await {
                Ok((name, registered)) => hub
                    .issue_token(&name)
                    .await
                    .map(|token| (name, registered, token)),
                Err(e) => Err(e),
            },
        };
        let outcome = match outcome {
            Ok((name, registered, token)) => hub
                .attach(Login::account(&name))
                .await
                .map(|session| (session, registered, token)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(((session, rx), registered, token)) => {
                let ok = AuthOk {
                    user_id: session.name.clone(),
                    registered,
                    token: auth.token.is_none().then(|| token.clone()),
                };
                let frame = ServerFrame::Response(Response::ok(&request.id, now_ms(), &ok));
                send(socket, frame.to_json().into(), cfg).await?;
                return Ok(LoggedIn { session, rx, token });
            }
            Err(refusal) => {
                let refusal = match refusal {
                    Refusal::AuthFailed | Refusal::TooManyConnections(_) | Refusal::Internal(_) => {
                        refusal
                    }
                    other => Refusal::BadRequest(format!("login failed: {other}")),
                };
                send(
                    socket,
                    requests::error_frame(&request.id, &refusal).into(),
                    cfg,
                )
                .await?;
                return Err(Ending::Close(close::POLICY, "login failed"));
            }
        }
    }
}

/// Most queued frames written with one flush.
const WRITE_BATCH: usize = 64;

/// `first` and what is queued behind it, rendered: the frames of one write (at most
/// [`WRITE_BATCH`], give or take the last item's frames).
pub fn take_batch<I>(
    first: Outbound,
    rx: &mut tokio::sync::mpsc::Receiver<Outbound>,
    mut render: impl FnMut(&Outbound) -> I,
) -> Vec<Utf8Bytes>
where
    I: IntoIterator<Item = Utf8Bytes>,
{
    let mut frames: Vec<Utf8Bytes> = render(&first).into_iter().collect();
    while frames.len() < WRITE_BATCH {
        let Ok(item) = rx.try_recv() else { break };
        frames.extend(render(&item));
    }
    frames
}

/// Writes queued frames with one flush (so a burst leaves in few writes), unless the
/// hub drops the session first (its queue filled up while this write waited on a
/// client that does not read). Each step is bounded by the write timeout.
pub async fn send_queued(
    socket: &mut WebSocket,
    frames: impl IntoIterator<Item = Utf8Bytes>,
    cfg: &ConnConfig,
    kicked: &tokio::sync::Notify,
) -> Result<(), Ending> {
    let write = async {
        let mut fed = false;
        for frame in frames {
            bounded(cfg, SinkExt::feed(socket, Message::Text(frame))).await?;
            fed = true;
        }
        if fed {
            bounded(cfg, SinkExt::flush(socket)).await?;
        }
        Ok(())
    };
    tokio::select! {
        sent = write => sent,
        () = kicked.notified() => Err(Ending::Close(close::POLICY, TOO_SLOW)),
    }
}

/// `op` (a write), bounded by the write timeout: a failed write means the peer is gone.
async fn bounded(
    cfg: &ConnConfig,
    op: impl Future<Output = Result<(), axum::Error>>,
) -> Result<(), Ending> {
    match timeout(cfg.write_timeout, op).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Ending::Gone),
        Err(_) => Err(Ending::Close(close::POLICY, "too slow")),
    }
}

/// The close reason of a connection dropped for not reading.
pub const TOO_SLOW: &str = "too slow: resume with lastEventId";

/// Writes one text frame, bounded by the write timeout.
pub async fn send(
    socket: &mut WebSocket,
    frame: Utf8Bytes,
    cfg: &ConnConfig,
) -> Result<(), Ending> {
    bounded(cfg, socket.send(Message::Text(frame))).await
}

struct Connection<'a> {
    socket: &'a mut WebSocket,
    hub: &'a Arc<Hub>,
    cfg: &'a ConnConfig,
    session: Arc<Session>,
    token: String,
    /// The highest event id written to this socket (later duplicates are skipped).
    last_sent: EventId,
}

impl Connection<'_> {
    async fn run(
        mut self,
        mut rx: tokio::sync::mpsc::Receiver<Outbound>,
        shutdown: &CancellationToken,
    ) -> Ending {
        let mut pending: FuturesOrdered<Pending> = FuturesOrdered::new();
        let mut last_seen = Instant::now();
        let mut pings = interval_at(
            Instant::now() + self.cfg.ping_interval,
            self.cfg.ping_interval,
        );
        let kicked = self.session.kicked.clone();
        loop {
            let step = tokio::select! {
                msg = self.socket.recv(), if pending.len() < MAX_IN_FLIGHT => {
                    last_seen = Instant::now();
                    // Boxed for the same reason: request handling is the largest state.
                    Box::pin(self.on_message(msg, &mut pending)).await
                }
                Some(frame) = pending.next() => send(self.socket, frame.into(), self.cfg).await,
                Some(item) = rx.recv() => self.deliver(item, &mut rx).await,
                _ = pings.tick() => {
                    if last_seen.elapsed() >= self.cfg.idle_timeout {
                        Err(Ending::Close(close::NORMAL, "idle timeout"))
                    } else {
                        self.socket.send(Message::Ping(Default::default())).await.map_err(|_| Ending::Gone)
                    }
                }
                () = kicked.notified() => Err(Ending::Close(close::POLICY, TOO_SLOW)),
                () = shutdown.cancelled() => Err(Ending::Close(close::GOING_AWAY, "server shutting down")),
            };
            if let Err(ending) = step {
                // Answer what is already in flight (writes are durable by now or soon).
                while let Ok(Some(frame)) = timeout(Duration::from_secs(2), pending.next()).await {
                    if send(self.socket, frame.into(), self.cfg).await.is_err() {
                        break;
                    }
                }
                return ending;
            }
        }
    }

    async fn on_message(
        &mut self,
        msg: Option<Result<Message, axum::Error>>,
        pending: &mut FuturesOrdered<Pending>,
    ) -> Result<(), Ending> {
        let text = match msg {
            None | Some(Ok(Message::Close(_))) => return Err(Ending::Gone),
            Some(Err(e)) if is_too_big(&e) => {
                return Err(Ending::Close(close::TOO_BIG, "frame too large"))
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "receive failed");
                return Err(Ending::Gone);
            }
            Some(Ok(Message::Text(text))) => text,
            // Pings are answered by the socket; binary frames are not part of the protocol.
            Some(Ok(_)) => return Ok(()),
        };
        match ClientFrame::parse(&text) {
            Ok(ClientFrame::Request(request)) => self.on_request(request, pending).await,
            Ok(ClientFrame::Event(event)) => {
                match event.body {
                    ClientEventBody::Typing(chat) => {
                        // Typing in a chat one may not write to is dropped, like any bad event.
                        if let Ok(chat) = crate::domain::ChatRef::parse(&chat.chat_id) {
                            let _ = self.hub.typing(&self.session, &chat);
                        }
                    }
                    ClientEventBody::Offline => self.hub.set_visible(&self.session, false),
                    ClientEventBody::Online => self.hub.set_visible(&self.session, true),
                    ClientEventBody::Idle => self.hub.set_idle(&self.session, true),
                    ClientEventBody::Active => self.hub.set_idle(&self.session, false),
                }
                Ok(())
            }
            Ok(ClientFrame::Ack(ack)) => {
                self.hub.ack(&self.session, ack.id);
                let frame = ServerFrame::Response(Response::empty(ack.id.to_string(), now_ms()));
                pending.push_back(Box::pin(std::future::ready(frame.to_json())));
                Ok(())
            }
            Err(e) => {
                if let Some(id) = e.id {
                    let frame = Response::error(id, now_ms(), e.code, e.message);
                    pending.push_back(Box::pin(std::future::ready(
                        ServerFrame::Response(frame).to_json(),
                    )));
                }
                Ok(())
            }
        }
    }

    async fn on_request(
        &mut self,
        request: Request,
        pending: &mut FuturesOrdered<Pending>,
    ) -> Result<(), Ending> {
        if let RequestBody::Subscribe(sub) = &request.body {
            // Answer what came before, then replay in place: nothing may overtake it.
            while let Some(frame) = pending.next().await {
                send(self.socket, frame.into(), self.cfg).await?;
            }
            let after = match sub.last_event_id {
                Some(id) => id,
                // Not "from the beginning": a store error must not replay everything.
                None => match self.hub.acked(&self.session).await {
                    Ok(id) => id,
                    Err(refusal) => {
                        let frame = requests::error_frame(&request.id, &refusal);
                        return send(self.socket, frame.into(), self.cfg).await;
                    }
                },
            };
            return self.subscribe(&request.id, after).await;
        }
        if let RequestBody::Logout(_) = &request.body {
            while let Some(frame) = pending.next().await {
                send(self.socket, frame.into(), self.cfg).await?;
            }
            let frame = match self.hub.revoke_token(&self.token).await {
                Ok(()) => ServerFrame::Response(Response::empty(&request.id, now_ms())).to_json(),
                Err(refusal) => requests::error_frame(&request.id, &refusal),
            };
            send(self.socket, frame.into(), self.cfg).await?;
            return Err(Ending::Close(close::NORMAL, "logged out"));
        }
        pending.push_back(Box::pin(requests::handle(
            self.hub.clone(),
            self.session.clone(),
            request,
        )));
        Ok(())
    }

    /// Replays every event after `after` that the user may see, then goes live.
    async fn subscribe(&mut self, id: &str, after: EventId) -> Result<(), Ending> {
        let user = self.session.user.clone();
        self.hub.subscribe(&self.session);
        let plan = match self.hub.replay_plan(&user, after).await {
            Ok(plan) => plan,
            Err(refusal) => {
                return send(
                    self.socket,
                    requests::error_frame(id, &refusal).into(),
                    self.cfg,
                )
                .await;
            }
        };
        // An id past the log's head (a client from another server, or a bad one) means
        // "from now"; keeping it would hide every later event from this client.
        let after = after.min(plan.head);
        let (missed, last) = (plan.missed, plan.last);
        let ok = SubscribeOk {
            last_event_id: if missed > 0 { last } else { after },
            missed,
        };
        send(
            self.socket,
            ServerFrame::Response(Response::ok(id, now_ms(), &ok))
                .to_json()
                .into(),
            self.cfg,
        )
        .await?;
        let mut counters: HashMap<Chat, (u64, u64)> = HashMap::new();
        let mut cursor = after;
        while cursor < last {
            let page = match self.hub.replay_page(&user, cursor, last, REPLAY_PAGE).await {
                Ok(page) => page,
                Err(refusal) => return Err(replay_failed(&refusal)),
            };
            if page.is_empty() {
                // Cleared since the plan was made: what was promised is gone.
                break;
            }
            for event in page {
                cursor = event.id;
                let missed = replay_missed(self.hub, &user, &event, &mut counters)
                    .await
                    .map_err(|refusal| replay_failed(&refusal))?;
                let name = self.hub.chat_name(&event.chat);
                let frame = render::replayed(&event, &name, &user, missed);
                send(self.socket, frame, self.cfg).await?;
            }
        }
        self.last_sent = self.last_sent.max(cursor).max(after);
        Ok(())
    }

    /// Writes `first` and what else is queued behind it (up to [`WRITE_BATCH`]).
    async fn deliver(
        &mut self,
        first: Outbound,
        rx: &mut tokio::sync::mpsc::Receiver<Outbound>,
    ) -> Result<(), Ending> {
        let frames = take_batch(first, rx, |item| self.render(item));
        send_queued(self.socket, frames, self.cfg, &self.session.kicked).await
    }

    fn render(&mut self, item: &Outbound) -> Option<Utf8Bytes> {
        match item {
            Outbound::Logged { event, missed } => {
                if event.event.id <= self.last_sent {
                    return None;
                }
                self.last_sent = event.event.id;
                Some(render::logged(event, &self.session.user, *missed))
            }
            Outbound::Live(live) => render::live(live, &self.session.user),
        }
    }
}

/// A replay that cannot go on: logged, and the connection closed with 1011 so that the
/// client resumes from the last event it received (never a silent stop).
fn replay_failed(refusal: &Refusal) -> Ending {
    tracing::error!(%refusal, "a replay failed");
    Ending::Close(close::INTERNAL, "replay failed: reconnect and resume")
}

/// A replayed `new` event's unread count: the chat's unread messages up to it.
async fn replay_missed(
    hub: &Hub,
    user: &UserKey,
    event: &crate::domain::LogEvent,
    counters: &mut HashMap<Chat, (u64, u64)>,
) -> Result<u64, Refusal> {
    let EventData::New { message } = &event.data else {
        return Ok(0);
    };
    let from_other = UserKey::of(&message.sender) != *user;
    let entry = match counters.get_mut(&event.chat) {
        Some(entry) => entry,
        None => {
            let base = hub.unread_before(user, &event.chat, message.id).await?;
            counters.entry(event.chat.clone()).or_insert(base)
        }
    };
    let (count, read_upto) = entry;
    if from_other && message.id > *read_upto {
        *count += 1;
    }
    Ok(*count)
}
