//! Push notifications in PostgreSQL (migration 15): each device's Web Push subscription,
//! keyed by its endpoint so that a device belongs to one person at a time (a shared
//! device that someone else logs in on moves to them), at most a few per person (the
//! oldest dropped past that), and each person's secret ntfy topic. Neither is logged.

use super::db::Db;
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{NtfyTopicRow, PushSubscription, StoreError};

// PORT: add_subscription
pub fn add_subscription(
    db: &mut Db,
    sub: &PushSubscription,
    max: usize,
) -> Result<Applied<()>, StoreError> {
    let _ = (sub, max);
    Err(super::not_ported("add_subscription"))
}

// PORT: remove_subscription
pub fn remove_subscription(
    db: &mut Db,
    user: Option<&UserKey>,
    endpoint: &str,
) -> Result<Applied<bool>, StoreError> {
    let _ = (user, endpoint);
    Err(super::not_ported("remove_subscription"))
}

// PORT: subscriptions
pub fn subscriptions(db: &mut Db, user: &UserKey) -> Result<Vec<PushSubscription>, StoreError> {
    let _ = (user);
    Err(super::not_ported("subscriptions"))
}

// PORT: ntfy_topic
pub fn ntfy_topic(db: &mut Db, user: &UserKey) -> Result<Option<NtfyTopicRow>, StoreError> {
    let _ = (user);
    Err(super::not_ported("ntfy_topic"))
}

// PORT: set_ntfy_topic
pub fn set_ntfy_topic(
    db: &mut Db,
    user: &UserKey,
    topic: &NtfyTopicRow,
) -> Result<Applied<()>, StoreError> {
    let _ = (user, topic);
    Err(super::not_ported("set_ntfy_topic"))
}

// PORT: ntfy_topic_user
pub fn ntfy_topic_user(db: &mut Db, topic: &str) -> Result<Option<UserKey>, StoreError> {
    let _ = (topic);
    Err(super::not_ported("ntfy_topic_user"))
}

/// Forgets every subscription and the ntfy topic of `user` (logged out everywhere,
/// new password, banned).
// PORT: forget
pub fn forget(db: &mut Db, user: &UserKey) -> Result<(), StoreError> {
    let _ = (user);
    Err(super::not_ported("forget"))
}
