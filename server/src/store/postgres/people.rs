//! People in PostgreSQL (migration 13): profiles on the `users` row (display name, about,
//! avatar: the name of an upload, which the upload sweeper then keeps) and blocks (one
//! row per blocker and blocked). A new avatar must be an image its person uploaded,
//! within the size limit, checked in the transaction that sets it; the one it replaces
//! is released to the sweeper.

use super::db::Db;
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{ProfileChange, StoreError, StoredProfile};
use app::protocol::Millis;

// PORT: profile
pub fn profile(db: &mut Db, user: &UserKey) -> Result<StoredProfile, StoreError> {
    let _ = (user);
    Err(super::not_ported("profile"))
}

// PORT: set_profile
pub fn set_profile(
    db: &mut Db,
    user: &UserKey,
    change: ProfileChange,
    max_avatar: u64,
) -> Result<Applied<StoredProfile>, StoreError> {
    let _ = (user, change, max_avatar);
    Err(super::not_ported("set_profile"))
}

// PORT: set_blocked
pub fn set_blocked(
    db: &mut Db,
    user: &UserKey,
    other: &UserKey,
    blocked: bool,
    at: Millis,
) -> Result<Applied<()>, StoreError> {
    let _ = (user, other, blocked, at);
    Err(super::not_ported("set_blocked"))
}

/// Every block, as (blocker, blocked).
// PORT: blocks
pub fn blocks(db: &mut Db) -> Result<Vec<(UserKey, UserKey)>, StoreError> {
    let _ = ();
    Err(super::not_ported("blocks"))
}
