//! Following the log other nodes write. Each node's hub must see every committed event
//! once, in id order, whichever node wrote it: its own writer publishes its batches
//! (after the events others committed before them, [`catch_up`]), and a follower
//! thread publishes what others commit while this node writes nothing. Other nodes'
//! writers `NOTIFY` the channel [`CHANNEL`] in each batch that writes the log (delivered
//! at their commit, with their node's id as payload, so a node ignores its own); the
//! follower also looks every [`POLL`] in case a notification was lost with a
//! connection. The log in PostgreSQL is the truth: a notification only says "look".
//!
//! `Inner::published` (the last id handed to the hub) is held by whoever publishes:
//! the writer holds it from just before its `COMMIT` until its events are published, so
//! the follower can never hand over a batch before the writer that wrote it (whose
//! sessions are answered instead).

use super::db::Db;
use super::{connect, Inner};
use crate::store::StoreError;
use app::protocol::EventId;
use std::sync::Arc;
use std::time::Duration;

/// The notification channel of the log.
pub const CHANNEL: &str = "parlor_log";

/// The channel of notices between nodes ([`crate::store::Notice`]): JSON, with the
/// sending node's id so that it ignores its own.
pub const NOTICES: &str = "parlor_notice";

/// A notice as it travels.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Sent {
    pub node: String,
    pub notice: crate::store::Notice,
}

/// Hands the sink a notice another node sent (its own are ignored).
fn received(inner: &Inner, payload: &str) {
    match serde_json::from_str::<Sent>(payload) {
        Ok(sent) if sent.node == inner.node => {}
        Ok(sent) => {
            if let Some(sink) = inner.sink.get() {
                sink.notice(&sent.notice);
            }
        }
        Err(e) => tracing::warn!(error = %e, "a notice from another node that cannot be read"),
    }
}

/// How often the follower reads the log even without a notification.
const POLL: Duration = Duration::from_secs(1);

/// Hands the sink every event committed after `*published` and before `before`
/// (`None`: up to the log's head), in id order, and moves `*published` on.
pub(super) fn catch_up(
    db: &mut Db,
    inner: &Inner,
    published: &mut EventId,
    before: Option<EventId>,
) -> Result<(), StoreError> {
    let end = before.unwrap_or(EventId::MAX);
    while *published + 1 < end {
        let events = super::reads::events_between(db, *published, end)?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(());
        };
        if let Some(sink) = inner.sink.get() {
            sink.publish_elsewhere(&events);
        }
        // New messages only: their time is when their node took them (other events
        // carry other times, a registration's from before its password's hash).
        let now = crate::domain::now_ms();
        if let Ok(mut timings) = inner.timings.lock() {
            for ev in &events {
                if let crate::domain::EventData::New { message } = &ev.data {
                    let lag = u64::try_from(now.saturating_sub(message.created_at)).unwrap_or(0);
                    timings.follower_lag.record(Duration::from_millis(lag));
                }
            }
        }
        *published = last;
    }
    Ok(())
}

/// The follower thread: listens, and on each notification from another node (or every
/// [`POLL`]) publishes what was committed since. A lost connection is made again.
pub(super) fn follow(inner: Arc<Inner>) {
    let mut listener: Option<postgres::Client> = None;
    let mut reader: Option<Db> = None;
    loop {
        if inner.closing.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let ready = listener
            .take()
            .filter(|c| !c.is_closed())
            .map(Ok)
            .unwrap_or_else(|| {
                let mut c = inner.config.connect(postgres::NoTls)?;
                c.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {NOTICES}"))?;
                Ok::<_, postgres::Error>(c)
            });
        let mut client = match ready {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen to the log's notifications; retrying");
                std::thread::sleep(POLL);
                continue;
            }
        };
        // Wait for another node's notification, or until the poll interval is over.
        let deadline = std::time::Instant::now() + POLL;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let mut notes = client.notifications();
            let next = {
                let mut waiting = notes.timeout_iter(left);
                fallible_iterator::FallibleIterator::next(&mut waiting)
            };
            match next {
                Ok(Some(note)) if note.channel() == NOTICES => {
                    received(&inner, note.payload());
                    continue;
                }
                Ok(Some(note)) if note.payload() == inner.node => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the log's notifications; listening again");
                    break;
                }
            }
        }
        listener = Some(client);
        let db = match reader.take().filter(|d| !d.is_closed()) {
            Some(d) => Ok(d),
            None => connect(&inner.config),
        };
        let mut db = match db {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "the log follower cannot read; retrying");
                std::thread::sleep(POLL);
                continue;
            }
        };
        let result = match inner.published.lock() {
            Ok(mut published) => catch_up(&mut db, &inner, &mut published, None),
            Err(_) => return,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "the log follower could not read the log");
        }
        reader = Some(db);
    }
}
