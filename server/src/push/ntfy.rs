//! The part of ntfy's subscribe API (<https://docs.ntfy.sh/subscribe/api/>) that the
//! ntfy Android app needs, under `/ntfy` on Parlor's own port: for phones on a LAN
//! without the internet, where the browser's push service cannot be reached. Each
//! person gets a secret topic (`getNtfyTopic`); the app, pointed at
//! `http(s)://HOST:PORT/ntfy` as its server, subscribes to it and shows what the same
//! decision as Web Push sends there.
//!
//! - `GET /ntfy/TOPIC/json`: a stream of newline-delimited JSON (`open`, then
//!   `message`s and a `keepalive` every [`KEEPALIVE`]); `?poll=1` answers what is kept
//!   and ends; `?since=all|ID|UNIX_SECONDS` replays what is kept first.
//! - `GET /ntfy/TOPIC/ws`: the same events as WebSocket text frames.
//! - `GET /ntfy/TOPIC/auth`: `{"success":true}`, asked by the app when a topic is added.
//!
//! In memory (one node): the last [`BACKLOG`] messages of each topic, for
//! [`BACKLOG_AGE`]; at most [`STREAMS_PER_TOPIC`] streams per topic. An unknown topic
//! is answered 404. Publishing is not offered: only the server writes.

use crate::store::Store;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Messages kept per topic for `since` and `poll`.
pub const BACKLOG: usize = 20;
/// How long a kept message stays.
pub const BACKLOG_AGE: Duration = Duration::from_secs(12 * 3600);
/// Open streams per topic (a person's phones).
pub const STREAMS_PER_TOPIC: usize = 4;
/// A `keepalive` event this often on an idle stream.
pub const KEEPALIVE: Duration = Duration::from_secs(45);
/// Most topics one request names (`/t1,t2/json`).
const MAX_TOPICS: usize = 4;

/// One message as ntfy sends it; `click` is a path, made absolute per stream.
#[derive(Debug, Clone)]
struct Kept {
    id: String,
    time: u64,
    topic: String,
    title: String,
    message: String,
    click: String,
}

#[derive(Default)]
struct Topic {
    kept: VecDeque<Kept>,
    streams: usize,
    live: Option<broadcast::Sender<Kept>>,
}

/// The topics with their kept messages and open streams.
pub struct Broker {
    topics: Mutex<HashMap<String, Topic>>,
    shutdown: CancellationToken,
    /// The server speaks HTTPS (for the absolute `click` URL).
    https: bool,
}

impl Broker {
    pub fn new(shutdown: CancellationToken, https: bool) -> Arc<Broker> {
        Arc::new(Broker {
            topics: Mutex::new(HashMap::new()),
            shutdown,
            https,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Topic>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a message on `topic` and hands it to its open streams.
    pub fn publish(&self, topic: &str, title: &str, message: &str, click: &str) {
        let kept = Kept {
            id: random_id(),
            time: now_secs(),
            topic: topic.to_owned(),
            title: title.to_owned(),
            message: message.to_owned(),
            click: click.to_owned(),
        };
        let mut topics = self.lock();
        let entry = topics.entry(topic.to_owned()).or_default();
        let cutoff = kept.time.saturating_sub(BACKLOG_AGE.as_secs());
        entry.kept.retain(|k| k.time >= cutoff);
        if entry.kept.len() >= BACKLOG {
            entry.kept.pop_front();
        }
        entry.kept.push_back(kept.clone());
        if let Some(live) = &entry.live {
            // No receiver: nobody listens now; the message is kept for `since`.
            let _ = live.send(kept);
        }
    }

    /// What `topics` kept, `since` as ntfy reads it.
    fn kept_since(&self, topics: &[String], since: Option<&str>) -> Vec<Kept> {
        let all = self.lock();
        let cutoff = now_secs().saturating_sub(BACKLOG_AGE.as_secs());
        let mut out: Vec<Kept> = topics
            .iter()
            .filter_map(|t| all.get(t))
            .flat_map(|t| t.kept.iter().filter(|k| k.time >= cutoff).cloned())
            .collect();
        out.sort_by_key(|k| k.time);
        match since {
            None | Some("none") | Some("") => Vec::new(),
            Some("all") => out,
            Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                let from: u64 = s.parse().unwrap_or(u64::MAX);
                out.into_iter().filter(|k| k.time >= from).collect()
            }
            Some(id) => match out.iter().position(|k| k.id == id) {
                Some(at) => out.split_off(at + 1),
                None => out,
            },
        }
    }

    /// Opens a stream on `topics`, if none is at its cap.
    fn open(self: &Arc<Self>, topics: &[String]) -> Option<Subscription> {
        let mut all = self.lock();
        if topics
            .iter()
            .any(|t| all.get(t).is_some_and(|e| e.streams >= STREAMS_PER_TOPIC))
        {
            return None;
        }
        let mut receivers = Vec::new();
        for t in topics {
            let entry = all.entry(t.clone()).or_default();
            entry.streams += 1;
            let live = entry
                .live
                .get_or_insert_with(|| broadcast::channel(BACKLOG).0);
            receivers.push(live.subscribe());
        }
        Some(Subscription {
            broker: self.clone(),
            topics: topics.to_vec(),
            receivers,
        })
    }
}

/// An open stream's hold on its topics; dropping it frees its place.
struct Subscription {
    broker: Arc<Broker>,
    topics: Vec<String>,
    receivers: Vec<broadcast::Receiver<Kept>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut all = self.broker.lock();
        for t in &self.topics {
            if let Some(entry) = all.get_mut(t) {
                entry.streams = entry.streams.saturating_sub(1);
                if entry.streams == 0 {
                    entry.live = None;
                }
            }
        }
    }
}

impl Subscription {
    /// The next message of any topic, or `None` at shutdown.
    async fn next(&mut self) -> Option<Option<Kept>> {
        let broker = self.broker.clone();
        let recv =
            futures_util::future::select_all(self.receivers.iter_mut().map(|r| Box::pin(r.recv())));
        tokio::select! {
            (got, _, _) = recv => match got {
                Ok(kept) => Some(Some(kept)),
                // Lagged: the missed ones are in the backlog; closed: cannot be, as
                // the topic keeps its sender while it has streams.
                Err(_) => Some(None),
            },
            () = broker.shutdown.cancelled() => None,
        }
    }
}

/// What the routes need.
#[derive(Clone)]
pub struct NtfyState {
    pub broker: Arc<Broker>,
    pub store: Arc<dyn Store>,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    #[serde(default)]
    poll: Option<String>,
    #[serde(default)]
    since: Option<String>,
}

/// `GET /ntfy/TOPICS/json`.
pub async fn json(
    State(state): State<NtfyState>,
    Path(topics): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let (topics, base, kept) = match opening(&state, &topics, &params, &headers).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let ndjson = [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")];
    if matches!(params.poll.as_deref(), Some("1" | "true" | "yes")) {
        let mut body = String::new();
        for k in &kept {
            body.push_str(&message_line(k, &base));
            body.push('\n');
        }
        return (ndjson, body).into_response();
    }
    let Some(subscription) = state.broker.open(&topics) else {
        return too_many();
    };
    let stream = lines(subscription, topics.join(","), kept, base);
    let body = axum::body::Body::from_stream(futures_util::StreamExt::map(stream, |line| {
        Ok::<_, std::convert::Infallible>(format!("{line}\n"))
    }));
    (ndjson, body).into_response()
}

/// `GET /ntfy/TOPICS/auth`: what the ntfy app asks when a topic is added (may it read
/// it): yes for a person's topic, `404` for any other.
pub async fn auth(State(state): State<NtfyState>, Path(topics): Path<String>) -> Response {
    match known(&state, &topics).await {
        Ok(_) => axum::Json(serde_json::json!({"success": true})).into_response(),
        Err(response) => response,
    }
}

/// `GET /ntfy/TOPICS/ws`.
pub async fn ws(
    State(state): State<NtfyState>,
    Path(topics): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (topics, base, kept) = match opening(&state, &topics, &params, &headers).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let Some(subscription) = state.broker.open(&topics) else {
        return too_many();
    };
    upgrade.on_upgrade(move |socket| async move {
        stream_ws(socket, lines(subscription, topics.join(","), kept, base)).await;
    })
}

async fn stream_ws(mut socket: WebSocket, lines: impl Stream<Item = String>) {
    use futures_util::StreamExt;
    let mut lines = std::pin::pin!(lines);
    loop {
        tokio::select! {
            line = lines.next() => match line {
                Some(line) => {
                    if socket.send(Message::Text(line.into())).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// The events of one stream: `open`, what was kept, then live messages and
/// keepalives until shutdown.
fn lines(
    subscription: Subscription,
    topic: String,
    kept: Vec<Kept>,
    base: String,
) -> impl Stream<Item = String> {
    let mut first: VecDeque<String> = VecDeque::new();
    first.push_back(event_line("open", &topic));
    first.extend(kept.iter().map(|k| message_line(k, &base)));
    let tick = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    futures_util::stream::unfold(
        (subscription, first, tick, topic, base),
        |(mut sub, mut first, mut tick, topic, base)| async move {
            if let Some(line) = first.pop_front() {
                return Some((line, (sub, first, tick, topic, base)));
            }
            loop {
                tokio::select! {
                    next = sub.next() => match next {
                        Some(Some(kept)) => {
                            let line = message_line(&kept, &base);
                            return Some((line, (sub, first, tick, topic, base)));
                        }
                        Some(None) => continue,
                        None => return None,
                    },
                    _ = tick.tick() => {
                        let line = event_line("keepalive", &topic);
                        return Some((line, (sub, first, tick, topic, base)));
                    }
                }
            }
        },
    )
}

/// The topics of a request, each one a person's: else 404 (or 400 when malformed).
/// What the JSON stream and the WebSocket start with: the topics (known, or the
/// answer refusing them), the base of the click links, the messages kept since `since`.
async fn opening(
    state: &NtfyState,
    topics: &str,
    params: &Params,
    headers: &HeaderMap,
) -> Result<(Vec<String>, String, Vec<Kept>), Response> {
    let topics = known(state, topics).await?;
    let base = base_url(&state.broker, headers);
    let kept = state.broker.kept_since(&topics, params.since.as_deref());
    Ok((topics, base, kept))
}

async fn known(state: &NtfyState, topics: &str) -> Result<Vec<String>, Response> {
    let list: Vec<String> = topics.split(',').map(str::to_owned).collect();
    let well_formed = |t: &String| {
        (1..=64).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if list.len() > MAX_TOPICS || !list.iter().all(well_formed) {
        return Err(error(StatusCode::BAD_REQUEST, 40001, "invalid topic"));
    }
    for topic in &list {
        match state.store.ntfy_topic_user(topic.clone()).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(error(StatusCode::NOT_FOUND, 40401, "topic not found")),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up an ntfy topic");
                return Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    50001,
                    "internal error",
                ));
            }
        }
    }
    Ok(list)
}

fn too_many() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        42901,
        "too many subscriptions on this topic",
    )
}

/// An error as ntfy answers it.
fn error(status: StatusCode, code: u32, text: &str) -> Response {
    let body = serde_json::json!({"code": code, "http": status.as_u16(), "error": text});
    (status, axum::Json(body)).into_response()
}

fn event_line(event: &str, topic: &str) -> String {
    serde_json::json!({
        "id": random_id(),
        "time": now_secs(),
        "event": event,
        "topic": topic,
    })
    .to_string()
}

fn message_line(k: &Kept, base: &str) -> String {
    serde_json::json!({
        "id": k.id,
        "time": k.time,
        "event": "message",
        "topic": k.topic,
        "title": k.title,
        "message": k.message,
        "click": format!("{base}{}", k.click),
    })
    .to_string()
}

/// `http(s)://HOST` as the phone reached the server.
fn base_url(broker: &Broker, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .unwrap_or("localhost");
    let scheme = if broker.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A message's id: 12 random letters and digits, as ntfy's.
fn random_id() -> String {
    let mut raw = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let mut id = data_encoding::BASE32_NOPAD.encode(&raw).to_lowercase();
    id.truncate(12);
    id
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_messages_follow_since() {
        let broker = Broker::new(CancellationToken::new(), false);
        for i in 0..(BACKLOG + 3) {
            broker.publish("t", "alice", &format!("m{i}"), "/?chat=alice");
        }
        let topics = vec!["t".to_owned()];
        let all = broker.kept_since(&topics, Some("all"));
        assert_eq!(all.len(), BACKLOG);
        assert_eq!(all[0].message, "m3");
        assert!(broker.kept_since(&topics, None).is_empty());
        let after = broker.kept_since(&topics, Some(&all[BACKLOG - 3].id));
        assert_eq!(after.len(), 2);
        assert_eq!(broker.kept_since(&topics, Some("0")).len(), BACKLOG);
        assert!(broker.kept_since(&topics, Some("99999999999")).is_empty());
    }

    #[test]
    fn streams_per_topic_are_capped_and_freed() {
        let broker = Broker::new(CancellationToken::new(), false);
        let topics = vec!["t".to_owned()];
        let held: Vec<_> = (0..STREAMS_PER_TOPIC)
            .map(|_| broker.open(&topics).expect("under the cap"))
            .collect();
        assert!(broker.open(&topics).is_none());
        drop(held);
        assert!(broker.open(&topics).is_some());
    }
}
