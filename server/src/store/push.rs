//! The values of push notifications that cross the [`Store`](super::Store) trait: a
//! device's Web Push subscription and a person's ntfy topic. Neither is an entry of
//! the shared log: each concerns one person and is never replayed.

use crate::domain::UserKey;
use app::protocol::Millis;

/// One device's Web Push subscription, keyed by its endpoint (one person at a time).
#[derive(Debug, Clone, PartialEq)]
pub struct PushSubscription {
    pub user: UserKey,
    pub endpoint: String,
    /// The device's public key (the 65-byte uncompressed P-256 point).
    pub p256dh: Vec<u8>,
    /// The device's authentication secret (16 bytes).
    pub auth: Vec<u8>,
    /// Pushes carry a preview of the message.
    pub previews: bool,
    pub created_at: Millis,
}

/// A person's secret ntfy topic.
#[derive(Debug, Clone, PartialEq)]
pub struct NtfyTopicRow {
    pub topic: String,
    pub previews: bool,
}
