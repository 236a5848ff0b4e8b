//! The one connection driver every WebSocket edge runs on: the login deadline, reading
//! frames (with the frame-size limit), answering in order with several requests in
//! flight, writing the session's bounded outbound queue in batches with one flush,
//! pings and the idle timeout, dropping a reader too slow for its queue, close codes,
//! and the graceful close on shutdown.
//!
//! An edge (the native protocol, RWCI, Workspace, Workshop) is only a translation: it
//! implements [`Edge`] — log in from its frames, handle a frame of a logged-in client,
//! render a hub item — and never touches the socket's loop.

use crate::admission::{OverPreLoginBudget, Ticket};
use crate::hub::{Ended, Hub, Kick, Outbound, Session};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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
    /// The session ended elsewhere: its token was revoked (`logout` on another
    /// connection, "log out everywhere", a password change) or expired. Log in again.
    pub const SESSION_ENDED: u16 = 4001;
}

/// The close reason of a connection dropped for not reading.
pub const TOO_SLOW: &str = "too slow: resume with lastEventId";
/// Text frames a client may send while its login is being checked (kept, then
/// handled in order); more close the connection.
const MAX_EARLY_FRAMES: usize = 16;
/// Requests answered concurrently per connection before reading pauses.
const MAX_IN_FLIGHT: usize = 64;
/// Most queued frames written with one flush.
const WRITE_BATCH: usize = 64;

/// Why a connection ended.
#[derive(Debug)]
pub enum Ending {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The peer is gone; nothing to send.
    Gone,
}

/// A logged-in session and its outbound queue.
pub type Attached = (Session, mpsc::Receiver<Outbound>);

/// An answer computed while the connection goes on reading (`None`: no frame).
pub type Pending = Pin<Box<dyn Future<Output = Option<Utf8Bytes>> + Send>>;

/// One protocol's half of a connection. Every method gets the connection's [`Socket`]
/// (or [`Link`], once logged in) to send frames through; none runs a loop of its own.
pub trait Edge: Send {
    /// The path, for the log.
    const PATH: &'static str;

    /// Logs in before any frame (Workspace logs in from its URL); `Ok(None)`: wait
    /// for frames and [`Edge::login`].
    fn open(
        &mut self,
        _socket: &mut Socket<'_>,
    ) -> impl Future<Output = Result<Option<Attached>, Ending>> + Send {
        std::future::ready(Ok(None))
    }

    /// One text frame from a client that has not logged in: `Ok(None)` to wait for
    /// the next one.
    fn login(
        &mut self,
        text: &str,
        socket: &mut Socket<'_>,
    ) -> impl Future<Output = Result<Option<Attached>, Ending>> + Send;

    /// Right after the login: what the client is told before live events, and when
    /// its session starts receiving them ([`Hub::subscribe`]).
    fn welcome(&mut self, _link: &mut Link<'_>) -> impl Future<Output = Result<(), Ending>> + Send {
        std::future::ready(Ok(()))
    }

    /// One text frame from a logged-in client.
    fn on_text(
        &mut self,
        text: &str,
        link: &mut Link<'_>,
    ) -> impl Future<Output = Result<(), Ending>> + Send;

    /// The frames one hub item becomes for this connection (none when the protocol
    /// cannot express it, or the item is not for this client).
    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>);
}

/// A connection's socket, as an edge may use it: send a frame, bounded by the write
/// timeout.
pub struct Socket<'a> {
    ws: &'a mut WebSocket,
    pub hub: &'a Arc<Hub>,
    pub cfg: &'a ConnConfig,
    /// The client's address (login throttling and guests are tied to it).
    pub peer: IpAddr,
    /// Text frames that arrived while a login was being checked, handled next.
    early: VecDeque<Utf8Bytes>,
}

impl Socket<'_> {
    /// Writes one text frame.
    pub async fn send(&mut self, frame: Utf8Bytes) -> Result<(), Ending> {
        bounded(self.cfg, self.ws.send(Message::Text(frame))).await
    }

    /// Runs `work` (a login's password check) while watching the socket: a client that
    /// goes away ends the connection at once and `work` is dropped (a password hash it
    /// waited for never runs). Frames that arrive meanwhile are kept for later.
    pub async fn unless_gone<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Ending> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                done = &mut work => return Ok(done),
                msg = self.ws.recv() => {
                    if let Some(text) = text_of(msg)? {
                        if self.early.len() >= MAX_EARLY_FRAMES {
                            return Err(Ending::Close(close::POLICY, "too many frames before login"));
                        }
                        self.early.push_back(text);
                    }
                }
            }
        }
    }
}

/// A logged-in connection, as an edge handles a frame: its socket, its session, and
/// the answers in flight (which leave in the order they were deferred).
pub struct Link<'a> {
    pub socket: Socket<'a>,
    pub session: &'a Arc<Session>,
    pending: &'a mut FuturesOrdered<Pending>,
}

impl Link<'_> {
    pub fn hub(&self) -> &Arc<Hub> {
        self.socket.hub
    }

    /// Writes one frame now, after nothing (use [`Link::settle`] first to keep order
    /// with answers in flight).
    pub async fn send(&mut self, frame: Utf8Bytes) -> Result<(), Ending> {
        self.socket.send(frame).await
    }

    /// Answers later, in order, while the connection goes on reading.
    pub fn defer(&mut self, answer: Pending) {
        self.pending.push_back(answer);
    }

    /// Writes every answer in flight, in order.
    pub async fn settle(&mut self) -> Result<(), Ending> {
        while let Some(frame) = self.pending.next().await {
            if let Some(frame) = frame {
                self.socket.send(frame).await?;
            }
        }
        Ok(())
    }
}

/// Runs one connection of edge `E` to its end, then logs how it ended and closes it.
pub async fn serve<E: Edge>(
    mut ws: WebSocket,
    mut edge: E,
    hub: Arc<Hub>,
    cfg: Arc<ConnConfig>,
    shutdown: CancellationToken,
    peer: SocketAddr,
    ticket: Option<Arc<Ticket>>,
) {
    let mut socket = Socket {
        ws: &mut ws,
        hub: &hub,
        cfg: &cfg,
        peer: peer.ip(),
        early: VecDeque::new(),
    };
    // Boxed: the login's state is big and needed once; inline it would stay in every
    // connection's task for as long as the connection lives.
    let ending = match Box::pin(log_in(&mut edge, &mut socket, &shutdown)).await {
        Ok((session, rx)) => {
            if let Some(ticket) = &ticket {
                ticket.logged_in();
            }
            let session = Arc::new(session);
            let user = session.name.clone();
            tracing::info!(%peer, %user, path = E::PATH, "logged in");
            let ending = run(&mut edge, socket, &session, rx, &shutdown).await;
            tracing::info!(%peer, %user, path = E::PATH, ?ending, "connection closed");
            ending
        }
        Err(ending) => {
            tracing::info!(%peer, path = E::PATH, ?ending, "connection closed before login");
            ending
        }
    };
    if let Ending::Close(code, reason) = ending {
        send_close(&mut ws, code, reason).await;
    }
}

/// Waits for the edge to log the client in, within the login deadline.
async fn log_in<E: Edge>(
    edge: &mut E,
    socket: &mut Socket<'_>,
    shutdown: &CancellationToken,
) -> Result<Attached, Ending> {
    if let Some(attached) = edge.open(socket).await? {
        return Ok(attached);
    }
    let deadline = sleep(socket.cfg.auth_timeout);
    tokio::pin!(deadline);
    loop {
        let text = match socket.early.pop_front() {
            Some(text) => Some(text),
            None => {
                let msg = tokio::select! {
                    msg = socket.ws.recv() => msg,
                    () = deadline.as_mut() => return Err(Ending::Close(close::POLICY, "authentication timeout")),
                    () = shutdown.cancelled() => return Err(Ending::Close(close::GOING_AWAY, "server shutting down")),
                };
                text_of(msg)?
            }
        };
        if let Some(text) = text {
            if let Some(attached) = edge.login(&text, socket).await? {
                return Ok(attached);
            }
        }
    }
}

/// A received message's text; `None` for frames that carry none (binary frames are
/// not part of any protocol here; pings are answered by the socket).
fn text_of(msg: Option<Result<Message, axum::Error>>) -> Result<Option<Utf8Bytes>, Ending> {
    match msg {
        Some(Ok(Message::Text(text))) => Ok(Some(text)),
        Some(Ok(Message::Close(_))) | None => Err(Ending::Gone),
        Some(Err(e)) if is_too_big(&e) => Err(Ending::Close(close::TOO_BIG, "frame too large")),
        Some(Err(e)) if is_over_pre_login_budget(&e) => Err(Ending::Close(
            close::TOO_BIG,
            "too much sent before logging in",
        )),
        Some(Err(e)) => {
            tracing::debug!(error = %e, "receive failed");
            Err(Ending::Gone)
        }
        Some(Ok(_)) => Ok(None),
    }
}

/// The logged-in connection: reads, answers, writes the queue, pings, until it ends.
async fn run<E: Edge>(
    edge: &mut E,
    socket: Socket<'_>,
    session: &Arc<Session>,
    mut rx: mpsc::Receiver<Outbound>,
    shutdown: &CancellationToken,
) -> Ending {
    let mut pending: FuturesOrdered<Pending> = FuturesOrdered::new();
    let mut link = Link {
        socket,
        session,
        pending: &mut pending,
    };
    if let Err(ending) = edge.welcome(&mut link).await {
        return ending;
    }
    // What the client sent while its login was checked, in order.
    while let Some(text) = link.socket.early.pop_front() {
        if let Err(ending) = Box::pin(edge.on_text(&text, &mut link)).await {
            let _ = timeout(Duration::from_secs(2), link.settle()).await;
            return ending;
        }
    }
    let cfg = link.socket.cfg;
    let kicked = session.kicked.clone();
    let mut last_seen = Instant::now();
    let mut pings = interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
    loop {
        let step = tokio::select! {
            msg = link.socket.ws.recv(), if link.pending.len() < MAX_IN_FLIGHT => {
                last_seen = Instant::now();
                match text_of(msg) {
                    // Boxed for the same reason as the login: a frame's handling is
                    // the largest state of a connection.
                    Ok(Some(text)) => Box::pin(edge.on_text(&text, &mut link)).await,
                    Ok(None) => Ok(()),
                    Err(ending) => Err(ending),
                }
            }
            Some(answer) = link.pending.next() => match answer {
                Some(frame) => link.socket.send(frame).await,
                None => Ok(()),
            },
            Some(item) = rx.recv() => {
                // A fresh batch each time: an idle connection keeps no write buffer.
                let mut frames = Vec::new();
                take_batch(item, &mut rx, &mut frames, |item, out| edge.render(item, session, out));
                send_queued(&mut link.socket, frames.into_iter(), &kicked).await
            }
            _ = pings.tick() => {
                if last_seen.elapsed() >= cfg.idle_timeout {
                    Err(Ending::Close(close::NORMAL, "idle timeout"))
                } else {
                    link.socket.ws.send(Message::Ping(Default::default())).await.map_err(|_| Ending::Gone)
                }
            }
            () = kicked.notified() => Err(ended(kicked.why())),
            () = shutdown.cancelled() => Err(Ending::Close(close::GOING_AWAY, "server shutting down")),
        };
        if let Err(ending) = step {
            // Answer what is already in flight (writes are durable by now or soon).
            let _ = timeout(Duration::from_secs(2), link.settle()).await;
            return ending;
        }
    }
}

/// `first` and what is queued behind it, rendered into `out`: the frames of one write
/// (at most [`WRITE_BATCH`], give or take the last item's frames).
fn take_batch(
    first: Outbound,
    rx: &mut mpsc::Receiver<Outbound>,
    out: &mut Vec<Utf8Bytes>,
    mut render: impl FnMut(&Outbound, &mut Vec<Utf8Bytes>),
) {
    render(&first, out);
    while out.len() < WRITE_BATCH {
        let Ok(item) = rx.try_recv() else { break };
        render(&item, out);
    }
}

/// Writes queued frames with one flush (so a burst leaves in few writes), unless the
/// hub drops the session first (its queue filled up while this write waited on a
/// client that does not read). Each step is bounded by the write timeout.
async fn send_queued(
    socket: &mut Socket<'_>,
    frames: impl Iterator<Item = Utf8Bytes>,
    kicked: &Kick,
) -> Result<(), Ending> {
    let cfg = socket.cfg;
    let ws = &mut *socket.ws;
    let write = async {
        let mut fed = false;
        for frame in frames {
            bounded(cfg, SinkExt::feed(ws, Message::Text(frame))).await?;
            fed = true;
        }
        if fed {
            bounded(cfg, SinkExt::flush(ws)).await?;
        }
        Ok(())
    };
    tokio::select! {
        sent = write => sent,
        () = kicked.notified() => Err(ended(kicked.why())),
    }
}

/// How a connection the hub ended closes.
fn ended(why: Ended) -> Ending {
    match why {
        Ended::TooSlow => Ending::Close(close::POLICY, TOO_SLOW),
        Ended::LoggedOut => Ending::Close(close::SESSION_ENDED, "logged out"),
        Ended::LoggedOutEverywhere => Ending::Close(close::SESSION_ENDED, "logged out everywhere"),
        Ended::PasswordChanged => Ending::Close(close::SESSION_ENDED, "password changed"),
        Ended::Expired => Ending::Close(close::SESSION_ENDED, "session expired"),
        Ended::Banned => Ending::Close(close::SESSION_ENDED, "banned"),
        Ended::AccountDeleted => Ending::Close(close::SESSION_ENDED, "account deleted"),
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

/// Sends a close frame and waits (briefly) for the peer's answer, so that it sees a
/// clean close; gives up quietly if the peer is gone.
async fn send_close(ws: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    if let Ok(Ok(())) = timeout(Duration::from_secs(2), ws.send(frame)).await {
        let _ = timeout(Duration::from_secs(1), async {
            while let Some(Ok(msg)) = ws.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Whether a receive error means the peer sent more than it may before its login
/// (the read failed in [`crate::admission`]).
fn is_over_pre_login_budget(err: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io
                .get_ref()
                .is_some_and(|inner| inner.is::<OverPreLoginBudget>());
        }
        source = e.source();
    }
    false
}

/// Whether a receive error means the peer sent a frame over the size limit.
fn is_too_big(err: &axum::Error) -> bool {
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
