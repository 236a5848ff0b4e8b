//! People in PostgreSQL: profiles on the `users` row (display name, about, avatar: the
//! name of an upload, which the upload sweeper then keeps) and blocks (one row per
//! blocker and blocked). A new avatar must be an image its person uploaded, within the
//! size limit, checked in the transaction that sets it; the one it replaces is
//! released to the sweeper.

use super::db::{unsigned, Db};
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{ProfileChange, StoreError, StoredProfile};
use app::protocol::Millis;

pub fn profile(db: &mut Db, user: &UserKey) -> Result<StoredProfile, StoreError> {
    let row = db
        .opt(
            "SELECT display_name, about, avatar FROM users WHERE key = $1",
            &[&user.as_str()],
        )?
        .ok_or_else(|| StoreError::from(Refusal::NotFound("no such account".into())))?;
    Ok(StoredProfile {
        display_name: row.try_get(0)?,
        about: row.try_get(1)?,
        avatar: row.try_get(2)?,
    })
}

pub fn set_profile(
    db: &mut Db,
    user: &UserKey,
    change: ProfileChange,
    max_avatar: u64,
) -> Result<Applied<StoredProfile>, StoreError> {
    // The account's row stays locked to the commit: two changes of one profile on two
    // nodes take turns, and the second releases the avatar the first set.
    db.execute(
        "SELECT 1 FROM users WHERE key = $1 FOR UPDATE",
        &[&user.as_str()],
    )?;
    let before = profile(db, user)?;
    let avatar = match change.avatar {
        None => before.avatar.clone(),
        Some(None) => None,
        Some(Some(name)) => {
            let upload = db.opt(
                "SELECT owner_key, bytes FROM uploads WHERE name = $1",
                &[&name],
            )?;
            let upload: Option<(String, u64)> = match upload {
                Some(r) => Some((r.try_get(0)?, unsigned(&r, 1)?)),
                None => None,
            };
            match upload {
                Some((owner, _)) if owner != user.as_str() => {
                    return Err(Refusal::Forbidden("that picture is not yours".into()).into())
                }
                Some((_, bytes)) if bytes > max_avatar => {
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
        db.execute(
            "UPDATE uploads SET released = TRUE WHERE name = $1",
            &[&before.avatar],
        )?;
    }
    let after = StoredProfile {
        display_name: change.display_name.unwrap_or(before.display_name),
        about: change.about.unwrap_or(before.about),
        avatar,
    };
    db.execute(
        "UPDATE users SET display_name = $2, about = $3, avatar = $4 WHERE key = $1",
        &[
            &user.as_str(),
            &after.display_name,
            &after.about,
            &after.avatar,
        ],
    )?;
    Ok(Applied::quiet(after))
}

pub fn set_blocked(
    db: &mut Db,
    user: &UserKey,
    other: &UserKey,
    blocked: bool,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    if blocked {
        db.execute(
            "INSERT INTO blocks (user_key, blocked_key, at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&user.as_str(), &other.as_str(), &at],
        )?;
    } else {
        db.execute(
            "DELETE FROM blocks WHERE user_key = $1 AND blocked_key = $2",
            &[&user.as_str(), &other.as_str()],
        )?;
    }
    Ok(Applied::quiet(()))
}

/// Every block, as (blocker, blocked).
pub fn blocks(db: &mut Db) -> Result<Vec<(UserKey, UserKey)>, StoreError> {
    let rows = db.query("SELECT user_key, blocked_key FROM blocks", &[])?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((
            UserKey::of(&r.try_get::<_, String>(0)?),
            UserKey::of(&r.try_get::<_, String>(1)?),
        ));
    }
    Ok(out)
}
