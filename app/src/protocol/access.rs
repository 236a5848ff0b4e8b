//! The wire types of who may join (issue 13): the roles, the registration modes, and the
//! owner's and admins' requests for them (`setRegistration`, `createInvite`,
//! `getInvites`, `revokeInvite`, `ban`, `getBans`). Kept apart so that the frames of one feature read
//! together; every type is re-exported as `protocol::X`.

use super::Millis;
use serde::{Deserialize, Serialize};

/// Longest an invitation may stay valid: 30 days, in seconds.
pub const MAX_INVITE_SECS: u64 = 30 * 24 * 3600;
/// An invitation's lifetime when the request names none: 7 days, in seconds.
pub const DEFAULT_INVITE_SECS: u64 = 7 * 24 * 3600;
/// Most uses one invitation may have.
pub const MAX_INVITE_USES: u32 = 1000;
/// Most invitations valid at once on a server.
pub const MAX_OPEN_INVITES: usize = 100;

/// What a person may do on the server. The first account is the owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every right: registration, admins, everything an admin does.
    Owner,
    /// Manages people and rooms.
    Admin,
    /// Everyone else with an account.
    #[default]
    Member,
    /// Children and visitors: only the rooms they are added to, direct messages only
    /// with people in those rooms, no room creation.
    Limited,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Limited => "limited",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "member" => Role::Member,
            "limited" => Role::Limited,
            _ => return None,
        })
    }

    /// Serde: `member` is left out.
    pub fn is_member(&self) -> bool {
        *self == Role::Member
    }

    /// Owner or admin.
    pub fn manages(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// Who may make an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// An unknown name registers at its first login.
    #[default]
    Open,
    /// Only with an invitation; guests are refused.
    Invite,
    /// Nobody new; guests are refused.
    Closed,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Open => "open",
            Registration::Invite => "invite",
            Registration::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Registration> {
        Some(match text {
            "open" => Registration::Open,
            "invite" => Registration::Invite,
            "closed" => Registration::Closed,
            _ => return None,
        })
    }
}

/// `setRegistration` (owner only): answered with the mode now in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRegistrationRequest {
    pub mode: Registration,
}

/// `createInvite` (owner, admins): an invitation for `uses` sign-ups with `role`
/// (`admin` from the owner only), valid for `expiresIn` seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInviteRequest {
    #[serde(default)]
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// An invitation as listed (`getInvites`): never its code, which only its maker saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteInfo {
    pub id: String,
    pub role: Role,
    pub uses_left: u32,
    pub expires_at: Millis,
    pub created_by: String,
    pub created_at: Millis,
}

/// The answer to `createInvite`: the code and the link's path (`/invite/CODE`, on this
/// server's address), then the invitation's fields as `getInvites` lists them (written
/// out rather than `flatten`ed: serde's flatten costs the web bundle kilobytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInvite {
    pub code: String,
    pub path: String,
    pub id: String,
    pub role: Role,
    pub uses_left: u32,
    pub expires_at: Millis,
    pub created_by: String,
    pub created_at: Millis,
}

impl NewInvite {
    pub fn new(code: String, path: String, invite: InviteInfo) -> NewInvite {
        NewInvite {
            code,
            path,
            id: invite.id,
            role: invite.role,
            uses_left: invite.uses_left,
            expires_at: invite.expires_at,
            created_by: invite.created_by,
            created_at: invite.created_at,
        }
    }
}

/// The answer to `getInvites`: the mode in force and the valid invitations, newest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteList {
    pub registration: Registration,
    pub invites: Vec<InviteInfo>,
}

/// `revokeInvite`: the invitation `id` stops working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokeInviteRequest {
    pub id: String,
}

/// `ban`: bans (`banned: true`) or lets back in the account `userId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanRequest {
    pub user_id: String,
    pub banned: bool,
}

/// A banned account, as `getBans` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanInfo {
    pub user_id: String,
    pub banned_by: String,
    pub banned_at: Millis,
}

/// The answer to `getBans`: the banned accounts, most recent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BanList {
    pub bans: Vec<BanInfo>,
}

/// The answer to `setRegistration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationState {
    pub registration: Registration,
}
