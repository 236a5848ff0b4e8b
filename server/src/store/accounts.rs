//! The store's types for password resets and deleted accounts (issue 13): a reset
//! code as stored (its hash only), a reset being spent (the new password's hash and
//! the fresh session token, written in the same transaction that spends the code), and
//! an account to delete with what becomes of its messages.

use crate::domain::UserKey;
use app::protocol::{DeletedMessages, Millis};

/// A password reset code to store; it replaces the account's earlier one.
#[derive(Debug, Clone)]
pub struct NewReset {
    pub user: UserKey,
    pub code_hash: String,
    pub expires_at: Millis,
    pub created_by: String,
    pub at: Millis,
}

/// A reset code presented at login, with what it sets when it is valid.
#[derive(Debug, Clone)]
pub struct UsedReset {
    pub user: UserKey,
    pub code_hash: String,
    pub password_hash: String,
    pub token_hash: String,
    pub at: Millis,
}

/// An account to delete.
#[derive(Debug, Clone)]
pub struct AccountDeletion {
    pub user: UserKey,
    /// Its display name (as its events and pins carry it).
    pub name: String,
    pub mode: DeletedMessages,
    /// The sender key its kept messages move to: one no account can ever have.
    pub orphan_key: String,
    pub at: Millis,
}
