//! Push notifications in SQLite (migration 15): each device's Web Push subscription,
//! keyed by its endpoint so that a device belongs to one person at a time (a shared
//! device that someone else logs in on moves to them), at most a few per person (the
//! oldest dropped past that), and each person's secret ntfy topic. Neither is logged.

use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{NtfyTopicRow, PushSubscription, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

pub fn add_subscription(
    conn: &Connection,
    sub: &PushSubscription,
    max: usize,
) -> Result<Applied<()>, StoreError> {
    let added = conn.execute(
        "INSERT INTO push_subscriptions (endpoint, user_key, p256dh, auth, previews, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM users WHERE key = ?2)
         ON CONFLICT (endpoint) DO UPDATE SET user_key = excluded.user_key,
             p256dh = excluded.p256dh, auth = excluded.auth, previews = excluded.previews,
             created_at = excluded.created_at",
        params![
            sub.endpoint,
            sub.user.as_str(),
            sub.p256dh,
            sub.auth,
            sub.previews,
            sub.created_at
        ],
    )?;
    if added == 0 {
        return Err(Refusal::NotFound("no such account".into()).into());
    }
    // The newest `max` stay (ties by endpoint, so that exactly `max` do).
    conn.execute(
        "DELETE FROM push_subscriptions WHERE user_key = ?1 AND endpoint NOT IN (
             SELECT endpoint FROM push_subscriptions WHERE user_key = ?1
             ORDER BY created_at DESC, endpoint LIMIT ?2)",
        params![sub.user.as_str(), max as i64],
    )?;
    Ok(Applied::quiet(()))
}

pub fn remove_subscription(
    conn: &Connection,
    user: Option<&UserKey>,
    endpoint: &str,
) -> Result<Applied<bool>, StoreError> {
    let removed = match user {
        Some(user) => conn.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = ?1 AND user_key = ?2",
            params![endpoint, user.as_str()],
        )?,
        None => conn.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = ?1",
            [endpoint],
        )?,
    };
    Ok(Applied::quiet(removed > 0))
}

pub fn subscriptions(
    conn: &Connection,
    user: &UserKey,
) -> Result<Vec<PushSubscription>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT endpoint, p256dh, auth, previews, created_at FROM push_subscriptions
         WHERE user_key = ?1 ORDER BY created_at, endpoint",
    )?;
    let rows = stmt.query_map([user.as_str()], |r| {
        Ok(PushSubscription {
            user: user.clone(),
            endpoint: r.get(0)?,
            p256dh: r.get(1)?,
            auth: r.get(2)?,
            previews: r.get(3)?,
            created_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn ntfy_topic(conn: &Connection, user: &UserKey) -> Result<Option<NtfyTopicRow>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT topic, previews FROM ntfy_topics WHERE user_key = ?1")?
        .query_row([user.as_str()], |r| {
            Ok(NtfyTopicRow {
                topic: r.get(0)?,
                previews: r.get(1)?,
            })
        })
        .optional()?)
}

pub fn set_ntfy_topic(
    conn: &Connection,
    user: &UserKey,
    topic: &NtfyTopicRow,
) -> Result<Applied<()>, StoreError> {
    let set = conn.execute(
        "INSERT INTO ntfy_topics (user_key, topic, previews)
         SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM users WHERE key = ?1)
         ON CONFLICT (user_key) DO UPDATE SET topic = excluded.topic,
             previews = excluded.previews",
        params![user.as_str(), topic.topic, topic.previews],
    )?;
    if set == 0 {
        return Err(Refusal::NotFound("no such account".into()).into());
    }
    Ok(Applied::quiet(()))
}

pub fn ntfy_topic_user(conn: &Connection, topic: &str) -> Result<Option<UserKey>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT user_key FROM ntfy_topics WHERE topic = ?1")?
        .query_row([topic], |r| r.get::<_, String>(0))
        .optional()?
        .map(|k| UserKey::of(&k)))
}

/// Forgets every subscription and the ntfy topic of `user` (logged out everywhere,
/// new password, banned).
pub fn forget(conn: &Connection, user: &UserKey) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM push_subscriptions WHERE user_key = ?1",
        [user.as_str()],
    )?;
    conn.execute(
        "DELETE FROM ntfy_topics WHERE user_key = ?1",
        [user.as_str()],
    )?;
    Ok(())
}
