//! Push notifications in PostgreSQL: each device's Web Push subscription, keyed by its
//! endpoint so that a device belongs to one person at a time (a shared device that
//! someone else logs in on moves to them), at most a few per person (the oldest
//! dropped past that), and each person's secret ntfy topic. Neither is logged.

use super::db::Db;
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{NtfyTopicRow, PushSubscription, StoreError};

pub fn add_subscription(
    db: &mut Db,
    sub: &PushSubscription,
    max: usize,
) -> Result<Applied<()>, StoreError> {
    let added = db.execute(
        "INSERT INTO push_subscriptions (endpoint, user_key, p256dh, auth, previews, created_at)
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM users WHERE key = $2)
         ON CONFLICT (endpoint) DO UPDATE SET user_key = excluded.user_key,
             p256dh = excluded.p256dh, auth = excluded.auth, previews = excluded.previews,
             created_at = excluded.created_at",
        &[
            &sub.endpoint,
            &sub.user.as_str(),
            &sub.p256dh,
            &sub.auth,
            &sub.previews,
            &sub.created_at,
        ],
    )?;
    if added == 0 {
        return Err(Refusal::NotFound("no such account".into()).into());
    }
    // The newest `max` stay (ties by endpoint, so that exactly `max` do).
    db.execute(
        "DELETE FROM push_subscriptions WHERE user_key = $1 AND endpoint NOT IN (
             SELECT endpoint FROM push_subscriptions WHERE user_key = $1
             ORDER BY created_at DESC, endpoint LIMIT $2)",
        &[&sub.user.as_str(), &i64::try_from(max).unwrap_or(i64::MAX)],
    )?;
    Ok(Applied::quiet(()))
}

pub fn remove_subscription(
    db: &mut Db,
    user: Option<&UserKey>,
    endpoint: &str,
) -> Result<Applied<bool>, StoreError> {
    let removed = match user {
        Some(user) => db.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_key = $2",
            &[&endpoint, &user.as_str()],
        )?,
        None => db.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = $1",
            &[&endpoint],
        )?,
    };
    Ok(Applied::quiet(removed > 0))
}

pub fn subscriptions(db: &mut Db, user: &UserKey) -> Result<Vec<PushSubscription>, StoreError> {
    let rows = db.query(
        "SELECT endpoint, p256dh, auth, previews, created_at FROM push_subscriptions
         WHERE user_key = $1 ORDER BY created_at, endpoint",
        &[&user.as_str()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(PushSubscription {
            user: user.clone(),
            endpoint: r.try_get(0)?,
            p256dh: r.try_get(1)?,
            auth: r.try_get(2)?,
            previews: r.try_get(3)?,
            created_at: r.try_get(4)?,
        });
    }
    Ok(out)
}

pub fn ntfy_topic(db: &mut Db, user: &UserKey) -> Result<Option<NtfyTopicRow>, StoreError> {
    let row = db.opt(
        "SELECT topic, previews FROM ntfy_topics WHERE user_key = $1",
        &[&user.as_str()],
    )?;
    Ok(match row {
        Some(r) => Some(NtfyTopicRow {
            topic: r.try_get(0)?,
            previews: r.try_get(1)?,
        }),
        None => None,
    })
}

pub fn set_ntfy_topic(
    db: &mut Db,
    user: &UserKey,
    topic: &NtfyTopicRow,
) -> Result<Applied<()>, StoreError> {
    let set = db.execute(
        "INSERT INTO ntfy_topics (user_key, topic, previews)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM users WHERE key = $1)
         ON CONFLICT (user_key) DO UPDATE SET topic = excluded.topic,
             previews = excluded.previews",
        &[&user.as_str(), &topic.topic, &topic.previews],
    )?;
    if set == 0 {
        return Err(Refusal::NotFound("no such account".into()).into());
    }
    Ok(Applied::quiet(()))
}

pub fn ntfy_topic_user(db: &mut Db, topic: &str) -> Result<Option<UserKey>, StoreError> {
    let row = db.opt(
        "SELECT user_key FROM ntfy_topics WHERE topic = $1",
        &[&topic],
    )?;
    Ok(match row {
        Some(r) => Some(UserKey::of(&r.try_get::<_, String>(0)?)),
        None => None,
    })
}

/// Forgets every subscription and the ntfy topic of `user` (logged out everywhere,
/// new password, banned).
pub fn forget(db: &mut Db, user: &UserKey) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM push_subscriptions WHERE user_key = $1",
        &[&user.as_str()],
    )?;
    db.execute(
        "DELETE FROM ntfy_topics WHERE user_key = $1",
        &[&user.as_str()],
    )?;
    Ok(())
}
