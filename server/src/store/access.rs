//! The store's types for who may join (issue 13): a new account as the hub asks for it
//! (with the invitation it brings, if any), and invitations as stored. The rules that
//! need the database's own view, so that two sign-ups cannot both take an invitation's
//! last use, run inside the store's transaction: an invitation is checked and used up
//! in the same write that creates the account, and the first account is the owner.

use app::protocol::{Millis, Role};

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub password_hash: Option<String>,
    pub at: Millis,
    /// The hash of the invitation's code the person brought.
    pub invite: Option<String>,
    /// Registration needs an invitation now (mode `invite`): without a valid one the
    /// account is refused.
    pub invite_needed: bool,
}

/// An invitation to store. Only the code's hash is kept.
#[derive(Debug, Clone)]
pub struct NewInvite {
    pub id: String,
    pub code_hash: String,
    pub role: Role,
    pub uses: u32,
    pub expires_at: Millis,
    pub created_by: String,
    pub at: Millis,
}
