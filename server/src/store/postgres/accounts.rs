//! Password resets and deleted accounts on PostgreSQL (issue 13, migration "resets").
//! A reset code is kept as its hash, one per account, and spent in the same
//! transaction that sets the new password and replaces every session token. Deleting
//! an account runs as several jobs of the writer: its messages are erased (through the
//! same [`erase`](super::writer::erase) a `delete` uses) or moved to a sender key no
//! account can have, a batch per job so that the writer never stalls on someone with
//! years of history; a last job removes what is left and the account itself.

use super::db::Db;
use super::ops::{change_password, leave_room, load_account};
use super::{Applied, PgStore};
use crate::domain::{Chat, EventData, LogEvent};
use crate::store::StoreFuture;
use crate::store::{AccountDeletion, Member, NewReset, StoreError, UsedReset};
pub use app::protocol::DeletedMessages as Mode;
use app::protocol::{MessageId, DELETED_USER};
use std::sync::atomic::Ordering;

// PORT: create_reset
pub fn create_reset(db: &mut Db, new: NewReset) -> Result<Applied<()>, StoreError> {
    let _ = (new);
    Err(super::not_ported("create_reset"))
}

// PORT: use_reset
pub fn use_reset(db: &mut Db, used: UsedReset) -> Result<Applied<bool>, StoreError> {
    let _ = (used);
    Err(super::not_ported("use_reset"))
}

// PORT: deleted_messages
pub fn deleted_messages(db: &mut Db, set: Option<Mode>) -> Result<Applied<Mode>, StoreError> {
    let _ = (set);
    Err(super::not_ported("deleted_messages"))
}

/// Deletes an account in batches, then the account; see
/// [`Store::delete_account`](crate::store::Store::delete_account).
// PORT: delete_account
pub(super) fn delete_account(store: &PgStore, deletion: AccountDeletion) -> StoreFuture<bool> {
    let _ = (store, deletion);
    Box::pin(async { Err(super::not_ported("delete_account")) })
}
