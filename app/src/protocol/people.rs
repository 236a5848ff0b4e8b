//! The wire types of people (issue 13): a profile (display name, avatar, a short
//! "about"), set by its person and read by anyone, and blocking (no direct messages
//! either way, their messages folded away by the blocker's app). Kept apart so that the
//! frames of one feature read together; every type is re-exported as `protocol::X`.

use super::Role;
use serde::{Deserialize, Serialize};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Longest "about", in characters.
pub const MAX_ABOUT_CHARS: usize = 300;
/// Largest avatar upload, in bytes (the web app sends a 256×256 picture).
pub const MAX_AVATAR_BYTES: u64 = 128 * 1024;

/// `setProfile`: changes the fields given (an empty string clears one). `avatar` is the
/// name of an image this person uploaded (the last part of its `/uploads/NAME` URL).
/// Answered with the [`Profile`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// `getProfile`: one person's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRequest {
    pub user_id: String,
}

/// A person as others see them; also the `profile` event (live, to everyone connected)
/// when it changes. `avatar` is a URL path (`/uploads/NAME`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub about: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar: String,
    #[serde(default)]
    pub role: Role,
}

/// `block`: stop (`blocked: true`) or allow again direct messages with `userId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRequest {
    pub user_id: String,
    pub blocked: bool,
}

/// The answer to `getBlocks`: the people this user blocked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockList {
    pub blocked: Vec<String>,
}
