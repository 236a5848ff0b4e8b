//! The values of people that cross the [`Store`](super::Store) trait: a profile as
//! stored, a change to it, and what the hub loads at start (each account with its role
//! and profile). Kept apart from the message types so that one feature reads together.

use app::protocol::Role;

/// A profile as stored: `avatar` is the name of an upload (under `uploads/`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredProfile {
    pub display_name: String,
    pub about: String,
    pub avatar: Option<String>,
}

/// A change to one's profile: `None` keeps a field; an empty string (or, for the
/// avatar, `Some(None)`) clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub about: Option<String>,
    pub avatar: Option<Option<String>>,
}

/// An account as the hub loads it.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    pub profile: StoredProfile,
}
