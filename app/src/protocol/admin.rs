//! The wire types of the admin page's view of storage (`getStorage`, the owner and
//! admins): what the database, the uploads and the automatic backups take on the data
//! directory's disk, what is left there, and where it goes (messages per room, uploads
//! per person). Kept apart so that the frames of one feature read together.

use serde::{Deserialize, Serialize};

/// The answer to `getStorage`. Sizes are bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageReport {
    /// The database with its write-ahead log.
    pub database: u64,
    /// Every stored upload.
    pub uploads: u64,
    pub upload_files: u64,
    /// The automatic copies taken before schema migrations (`DATA/backups`).
    pub backups: u64,
    /// Free and total space of the disk holding the data directory (absent when the
    /// system cannot say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Messages kept (not deleted), in rooms and in direct chats.
    pub messages: u64,
    pub direct_messages: u64,
    /// Rooms by messages kept, most first.
    pub rooms: Vec<RoomUsage>,
    /// The people keeping the most upload bytes (at most 20), most first.
    pub people: Vec<PersonUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomUsage {
    pub chat_id: String,
    pub messages: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonUsage {
    pub user_id: String,
    pub uploads: u64,
}
