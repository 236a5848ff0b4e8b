//! People in SQLite (migration 13): profiles on the `users` row (display name, about,
//! avatar: the name of an upload, which the upload sweeper then keeps) and blocks (one
//! row per blocker and blocked). A new avatar must be an image its person uploaded,
//! within the size limit, checked in the transaction that sets it; the one it replaces
//! is released to the sweeper.

use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{ProfileChange, StoreError, StoredProfile};
use app::protocol::Millis;
use rusqlite::{params, Connection, OptionalExtension};

pub fn profile(conn: &Connection, user: &UserKey) -> Result<StoredProfile, StoreError> {
    conn.prepare_cached("SELECT display_name, about, avatar FROM users WHERE key = ?1")?
        .query_row([user.as_str()], |r| {
            Ok(StoredProfile {
                display_name: r.get(0)?,
                about: r.get(1)?,
                avatar: r.get(2)?,
            })
        })
        .optional()?
        .ok_or_else(|| Refusal::NotFound("no such account".into()).into())
}

pub fn set_profile(
    conn: &Connection,
    user: &UserKey,
    change: ProfileChange,
    max_avatar: u64,
) -> Result<Applied<StoredProfile>, StoreError> {
    let before = profile(conn, user)?;
    let avatar = match change.avatar {
        None => before.avatar.clone(),
        Some(None) => None,
        Some(Some(name)) => {
            let upload: Option<(String, i64)> = conn
                .prepare_cached("SELECT owner_key, bytes FROM uploads WHERE name = ?1")?
                .query_row([&name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match upload {
                Some((owner, _)) if owner != user.as_str() => {
                    return Err(Refusal::Forbidden("that picture is not yours".into()).into())
                }
                Some((_, bytes)) if bytes as u64 > max_avatar => {
                    return Err(Refusal::BadRequest(format!(
                        "an avatar has at most {} KiB",
                        max_avatar / 1024
                    ))
                    .into())
                }
                Some(_) => Some(name),
                None => return Err(Refusal::NotFound("no such upload".into()).into()),
            }
        }
    };
    if before.avatar.is_some() && before.avatar != avatar {
        conn.execute(
            "UPDATE uploads SET released = 1 WHERE name = ?1",
            [before.avatar.as_deref()],
        )?;
    }
    let after = StoredProfile {
        display_name: change.display_name.unwrap_or(before.display_name),
        about: change.about.unwrap_or(before.about),
        avatar,
    };
    conn.execute(
        "UPDATE users SET display_name = ?2, about = ?3, avatar = ?4 WHERE key = ?1",
        params![user.as_str(), after.display_name, after.about, after.avatar],
    )?;
    Ok(Applied::quiet(after))
}

pub fn set_blocked(
    conn: &Connection,
    user: &UserKey,
    other: &UserKey,
    blocked: bool,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    if blocked {
        conn.execute(
            "INSERT OR IGNORE INTO blocks (user_key, blocked_key, at) VALUES (?1, ?2, ?3)",
            params![user.as_str(), other.as_str(), at],
        )?;
    } else {
        conn.execute(
            "DELETE FROM blocks WHERE user_key = ?1 AND blocked_key = ?2",
            params![user.as_str(), other.as_str()],
        )?;
    }
    Ok(Applied::quiet(()))
}

/// Every block, as (blocker, blocked).
pub fn blocks(conn: &Connection) -> Result<Vec<(UserKey, UserKey)>, StoreError> {
    let mut stmt = conn.prepare("SELECT user_key, blocked_key FROM blocks")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                UserKey::of(&r.get::<_, String>(0)?),
                UserKey::of(&r.get::<_, String>(1)?),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
