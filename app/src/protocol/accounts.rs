//! The wire types of two account features (issue 13): the password reset link an admin
//! makes for someone who forgot theirs (`createReset`, then `auth` with `reset`), and
//! deleting one's own account (`deleteAccount`) with what the owner chose to happen to
//! a deleted person's messages (`setDeletedMessages`, `getAccountSettings`). Every
//! type is re-exported as `protocol::X`.

use super::Millis;
use serde::{Deserialize, Serialize};

/// How long a password reset link stays valid: 24 hours, in seconds.
pub const RESET_SECS: u64 = 24 * 3600;

/// The name a deleted person's kept messages show as their sender.
pub const DELETED_USER: &str = "deleted user";

/// `createReset` (owner, admins): a one-time link for `userId` to set a new password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResetRequest {
    pub user_id: String,
}

/// The answer to `createReset`: the code (shown once), the link's path on this server
/// (`/reset/CODE`) and when it lapses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewReset {
    pub user_id: String,
    pub code: String,
    pub path: String,
    pub expires_at: Millis,
}

/// What happens to the messages of a person who deletes their account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletedMessages {
    /// They stay, shown as sent by "deleted user".
    #[default]
    Keep,
    /// Every one is erased as `delete` erases it.
    Erase,
}

impl DeletedMessages {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletedMessages::Keep => "keep",
            DeletedMessages::Erase => "erase",
        }
    }

    pub fn parse(text: &str) -> Option<DeletedMessages> {
        match text {
            "keep" => Some(DeletedMessages::Keep),
            "erase" => Some(DeletedMessages::Erase),
            _ => None,
        }
    }
}

/// `setDeletedMessages` (owner only): answered with [`AccountSettings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetDeletedMessagesRequest {
    pub mode: DeletedMessages,
}

/// The answer to `setDeletedMessages` and `getAccountSettings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSettings {
    pub deleted_messages: DeletedMessages,
}

/// `deleteAccount`: the person's own password, to be sure it is them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteAccountRequest {
    pub password: String,
}
