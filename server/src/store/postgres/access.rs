//! Who may join, on PostgreSQL: accounts with their roles, the owner's settings, and
//! invitations (schema migration "who may join"). Registration runs here as one job of
//! the writer, so that the first account is the owner and an invitation's uses are
//! counted exactly, whatever else registers at the same moment.

use super::db::Db;
use super::ops::{general_id, join, load_account};
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{Account, NewAccount, NewInvite, StoreError};
use app::protocol::{BanInfo, InviteInfo, Millis, Registration, Role, MAX_OPEN_INVITES};

/// Creates an account and puts it in General; answers the existing account and
/// `false` if the name is taken. See [`Store::register`](crate::store::Store::register).
// PORT: register
pub fn register(db: &mut Db, new: NewAccount) -> Result<Applied<(Account, bool)>, StoreError> {
    let _ = (new);
    Err(super::not_ported("register"))
}

/// The registration mode the owner last chose, if any.
// PORT: registration
pub fn registration(db: &mut Db) -> Result<Option<Registration>, StoreError> {
    let _ = ();
    Err(super::not_ported("registration"))
}

// PORT: set_registration
pub fn set_registration(db: &mut Db, mode: Registration) -> Result<Applied<()>, StoreError> {
    let _ = (mode);
    Err(super::not_ported("set_registration"))
}

// PORT: create_invite
pub fn create_invite(db: &mut Db, new: NewInvite) -> Result<Applied<InviteInfo>, StoreError> {
    let _ = (new);
    Err(super::not_ported("create_invite"))
}

// PORT: invites
pub fn invites(db: &mut Db, at: Millis) -> Result<Vec<InviteInfo>, StoreError> {
    let _ = (at);
    Err(super::not_ported("invites"))
}

// PORT: set_banned
pub fn set_banned(
    db: &mut Db,
    user: &UserKey,
    ban: Option<(String, Millis)>,
) -> Result<Applied<bool>, StoreError> {
    let _ = (user, ban);
    Err(super::not_ported("set_banned"))
}

// PORT: bans
pub fn bans(db: &mut Db) -> Result<Vec<BanInfo>, StoreError> {
    let _ = ();
    Err(super::not_ported("bans"))
}

// PORT: revoke_invite
pub fn revoke_invite(db: &mut Db, id: &str) -> Result<Applied<bool>, StoreError> {
    let _ = (id);
    Err(super::not_ported("revoke_invite"))
}
