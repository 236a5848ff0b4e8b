//! Notifications with Parlor closed (issue 5/6): the hub hands a [`PushNote`] for each
//! person a new message should reach while none of their sessions is in the
//! foreground; this module takes it off the message path (a bounded queue, the oldest
//! dropped when full), reads the person's level for the chat and their subscriptions
//! from the store, and sends: Web Push (RFC 8030) encrypted to each subscription
//! (`encrypt`, RFC 8291) and signed as this server (`vapid`, RFC 8292), at most
//! [`MAX_SENDS`] at a time (`send`), and to the person's ntfy topic for phones on a
//! LAN without the internet (`ntfy`). Subscriptions a push service says are gone (404,
//! 410) are forgotten; other failures are logged, never retried.

pub mod encrypt;
pub mod ntfy;
pub mod send;
pub mod vapid;

use crate::hub::{Hub, Notifier, PushNote, NTFY_PATH};
use crate::store::{PushSubscription, Store};
use app::protocol::{chat_url, NotifyLevel, PushPayload, MAX_PUSH_PREVIEW_CHARS};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// Notes waiting to be sent; past this, the oldest is dropped (and logged).
pub const QUEUE: usize = 256;
/// Most notes being sent at once.
pub const MAX_SENDS: usize = 4;

/// `parlor serve`'s push settings.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The VAPID `sub`: a `mailto:` or `https:` contact for push services.
    pub contact: String,
    /// Endpoints may be `http` and at loopback or LAN addresses (tests, a push
    /// service on the LAN).
    pub allow_private: bool,
}

pub struct Pusher {
    vapid: vapid::Vapid,
    config: PushConfig,
    queue: Mutex<VecDeque<PushNote>>,
    wake: Notify,
    ntfy: Arc<ntfy::Broker>,
}

impl Pusher {
    /// The VAPID key pair of `data` (made on first start) and an idle sender.
    pub fn new(
        data: &Path,
        config: PushConfig,
        ntfy: Arc<ntfy::Broker>,
    ) -> Result<Arc<Pusher>, vapid::VapidError> {
        Ok(Arc::new(Pusher {
            vapid: vapid::Vapid::load_or_create(data)?,
            config,
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            ntfy,
        }))
    }

    /// The VAPID public key (base64url, no padding).
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Sends what the hub hands over until `shutdown`.
    pub fn spawn(
        self: &Arc<Self>,
        hub: Arc<Hub>,
        store: Arc<dyn Store>,
        shutdown: CancellationToken,
    ) {
        let pusher = self.clone();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(MAX_SENDS));
            loop {
                while let Some(note) = pusher.pop() {
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let (pusher, hub, store) = (pusher.clone(), hub.clone(), store.clone());
                    tokio::spawn(async move {
                        pusher.deliver(&hub, store.as_ref(), note).await;
                        drop(slot);
                    });
                }
                tokio::select! {
                    () = pusher.wake.notified() => {}
                    () = shutdown.cancelled() => return,
                }
            }
        });
    }

    fn pop(&self) -> Option<PushNote> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }

    /// One note: the level, the subscriptions, then each send.
    async fn deliver(&self, hub: &Hub, store: &dyn Store, note: PushNote) {
        // Back in the foreground since: they are reading it.
        if hub.in_foreground(&note.recipient) {
            return;
        }
        let user = note.recipient.clone();
        let level = match store.notify_levels(user.clone()).await {
            Ok(levels) => levels
                .into_iter()
                .find(|(chat, _)| *chat == note.chat)
                .map_or(NotifyLevel::All, |(_, level)| level),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read notification levels for a push");
                return;
            }
        };
        if !allowed(level, &note) {
            return;
        }
        let (subs, topic) = match (
            store.push_subscriptions(user.clone()).await,
            store.ntfy_topic(user.clone()).await,
        ) {
            (Ok(subs), Ok(topic)) => (subs, topic),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot read push subscriptions");
                return;
            }
        };
        let preview = preview(&note.text);
        let url = chat_url(&note.chat_id);
        for sub in &subs {
            let payload = PushPayload {
                chat: note.chat_id.clone(),
                from: note.from.clone(),
                preview: preview.clone().filter(|_| sub.previews),
                url: url.clone(),
            };
            self.web_push(store, sub, &payload, note.direct).await;
        }
        if let Some(topic) = topic {
            let message = match preview.filter(|_| topic.previews) {
                Some(text) => text,
                None => "New message".to_owned(),
            };
            self.ntfy.publish(&topic.topic, &note.from, &message, &url);
        }
    }

    /// One Web Push to one subscription; a gone subscription is forgotten.
    async fn web_push(
        &self,
        store: &dyn Store,
        sub: &PushSubscription,
        payload: &PushPayload,
        urgent: bool,
    ) {
        let endpoint = match send::parse_endpoint(&sub.endpoint, self.config.allow_private) {
            Ok(endpoint) => endpoint,
            Err(reason) => {
                tracing::warn!(%reason, "a stored push endpoint is refused");
                return;
            }
        };
        let body = match serde_json::to_vec(payload)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                encrypt::encrypt(&sub.p256dh, &sub.auth, &json).map_err(|e| e.to_string())
            }) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%error, "cannot encrypt a push");
                return;
            }
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let authorization =
            match self
                .vapid
                .authorization(&endpoint.origin, &self.config.contact, now)
            {
                Ok(header) => header,
                Err(error) => {
                    tracing::warn!(%error, "cannot sign a push");
                    return;
                }
            };
        let push = send::Push {
            authorization: &authorization,
            urgent,
            body,
        };
        match send::send(&endpoint, push, self.config.allow_private).await {
            Ok(send::Outcome::Delivered) => {
                tracing::debug!(service = %endpoint.origin, "push sent");
            }
            Ok(send::Outcome::Gone) => {
                tracing::info!(
                    service = %endpoint.origin,
                    user = %sub.user,
                    "push subscription gone; forgotten"
                );
                let removed = store
                    .remove_push_subscription(Some(sub.user.clone()), sub.endpoint.clone())
                    .await;
                if let Err(e) = removed {
                    tracing::warn!(error = %e, "cannot forget a gone push subscription");
                }
            }
            Ok(send::Outcome::Failed(status)) => {
                tracing::warn!(service = %endpoint.origin, %status, "push refused");
            }
            Err(error) => {
                tracing::warn!(service = %endpoint.origin, %error, "push failed");
            }
        }
    }
}

/// `GET /api/push/key` and the ntfy subscribe API under [`crate::hub::NTFY_PATH`].
pub fn routes(
    pusher: Arc<Pusher>,
    broker: Arc<ntfy::Broker>,
    store: Arc<dyn Store>,
) -> axum::Router {
    use axum::routing::get;
    let key = axum::Router::new()
        .route("/api/push/key", get(public_key))
        .with_state(pusher);
    let ntfy = axum::Router::new()
        .route(&format!("{NTFY_PATH}/{{topics}}/json"), get(ntfy::json))
        .route(&format!("{NTFY_PATH}/{{topics}}/ws"), get(ntfy::ws))
        .route(&format!("{NTFY_PATH}/{{topics}}/auth"), get(ntfy::auth))
        .with_state(ntfy::NtfyState { broker, store });
    key.merge(ntfy)
}

/// The VAPID public key, public data: no login.
async fn public_key(
    axum::extract::State(pusher): axum::extract::State<Arc<Pusher>>,
) -> axum::Json<app::protocol::PushKey> {
    axum::Json(app::protocol::PushKey {
        key: pusher.public_key().to_owned(),
    })
}

impl Notifier for Pusher {
    fn notify(&self, note: PushNote) {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if queue.len() >= QUEUE {
                queue.pop_front();
                tracing::warn!(queue = QUEUE, "push queue full; the oldest push dropped");
            }
            queue.push_back(note);
        }
        self.wake.notify_one();
    }

    fn check_endpoint(&self, endpoint: &str) -> Result<(), String> {
        send::parse_endpoint(endpoint, self.config.allow_private).map(|_| ())
    }
}

/// Whether a level lets `note` through: `all` lets direct messages and mentions,
/// `mentions` only mentions, `none` nothing.
fn allowed(level: NotifyLevel, note: &PushNote) -> bool {
    match level {
        NotifyLevel::None => false,
        NotifyLevel::Mentions => note.mentioned,
        NotifyLevel::All => note.direct || note.mentioned,
    }
}

/// The text without its Markdown, on one line, cut to [`MAX_PUSH_PREVIEW_CHARS`]
/// (with `…`); `None` for a message with no text (attachments only).
pub fn preview(text: &str) -> Option<String> {
    let plain = app::markdown::plain(text);
    let words: Vec<&str> = plain.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let line = words.join(" ");
    if line.chars().count() <= MAX_PUSH_PREVIEW_CHARS {
        return Some(line);
    }
    let mut cut: String = line.chars().take(MAX_PUSH_PREVIEW_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_plain_one_line_and_short() {
        assert_eq!(
            preview("**hi**  there\n\n_you_").as_deref(),
            Some("hi there you")
        );
        assert_eq!(preview("   "), None);
        let long = "a".repeat(300);
        let cut = preview(&long).expect("some");
        assert_eq!(cut.chars().count(), MAX_PUSH_PREVIEW_CHARS);
        assert!(cut.ends_with('…'));
    }
}
