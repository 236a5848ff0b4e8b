//! The words of Parlor's world, shared by the hub and the store: users, chats, messages
//! and the events of the log. Nothing here knows about JSON dialects or sockets (the
//! store keeps event data as JSON, which is its own concern).

pub use app::protocol::ChatRef;
use app::protocol::{Attachment, EventId, MessageId, Millis, ReplyQuote};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// A user's identity key: the lowercase form of their name (names compare
/// case-insensitively; the display form is kept separately).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserKey(String);

impl UserKey {
    pub fn of(name: &str) -> UserKey {
        UserKey(name.to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` is this user's name, in any case; without allocating for ASCII
    /// names (this is asked once per receiver of every message).
    pub fn is(&self, name: &str) -> bool {
        if name.is_ascii() {
            name.len() == self.0.len()
                && name
                    .bytes()
                    .zip(self.0.bytes())
                    .all(|(a, b)| a.to_ascii_lowercase() == b)
        } else {
            // Unicode lowercasing depends on context (a final sigma): do it as `of` does.
            UserKey::of(name) == *self
        }
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type RoomId = i64;

/// The room every user belongs to and every connection starts in.
pub const GENERAL: &str = "General";

/// A conversation: a room, or the direct chat of two users (keys kept sorted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Chat {
    Room(RoomId),
    Direct(UserKey, UserKey),
}

impl Chat {
    pub fn direct(a: &UserKey, b: &UserKey) -> Chat {
        if a <= b {
            Chat::Direct(a.clone(), b.clone())
        } else {
            Chat::Direct(b.clone(), a.clone())
        }
    }

    /// The key stored in the database: `r:<id>` or `d:<a>:<b>` (names hold no `:`).
    pub fn key(&self) -> String {
        match self {
            Chat::Room(id) => format!("r:{id}"),
            Chat::Direct(a, b) => format!("d:{a}:{b}"),
        }
    }

    pub fn from_key(key: &str) -> Option<Chat> {
        if let Some(id) = key.strip_prefix("r:") {
            return id.parse().ok().map(Chat::Room);
        }
        let (a, b) = key.strip_prefix("d:")?.split_once(':')?;
        Some(Chat::Direct(UserKey(a.to_owned()), UserKey(b.to_owned())))
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub sender: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
    pub updated_at: Millis,
    #[serde(default)]
    pub deleted: bool,
    /// The message of the same chat this one answers: only its id is stored (in the
    /// row and in the log), so that a delete of the original leaves no copy of its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// The quote of `reply_to` as it is now, computed by the store when the message is
    /// read or published; never stored (hence `skip`).
    #[serde(skip)]
    pub quote: Option<ReplyQuote>,
    /// The members `@name` mentions, as recognised when it was sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// `@room` by the room's owner.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptKind {
    Dlvrd,
    Read,
}

impl ReceiptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptKind::Dlvrd => "dlvrd",
            ReceiptKind::Read => "read",
        }
    }
}

/// What one entry of the event log says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EventData {
    /// A new message (a snapshot as first sent).
    New { message: Message },
    /// A message after an edit.
    Edit { message: Message },
    Delete {
        message_id: MessageId,
        sender: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<String>,
        /// Who removed it, when not its sender (a moderator).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// `reader` has received / read every message of the chat up to `upto`.
    Receipt {
        receipt: ReceiptKind,
        reader: String,
        upto: MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<String>,
        at: Millis,
    },
    /// `user` joined the room (`created`: by creating it).
    Join {
        user: String,
        room: String,
        #[serde(default)]
        created: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        creator: Option<String>,
        /// Created private (with `created`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        private: bool,
        /// Who added them, when not themselves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    Leave {
        user: String,
        room: String,
        /// Who removed them (a kick), when not themselves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// `by` changed the room's settings; they are now these.
    Room {
        by: String,
        #[serde(default)]
        topic: String,
        #[serde(default)]
        private: bool,
        #[serde(default)]
        announce: bool,
        #[serde(default, skip_serializing_if = "is_zero")]
        retention_days: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        muted: Vec<String>,
    },
    /// `user` cleared the room's history: every earlier message is gone.
    Clear { user: String, room: String },
    /// `user` added (`add`) or took back `emoji` on a message. Erased from the log
    /// with the message.
    Reaction {
        message_id: MessageId,
        emoji: String,
        user: String,
        add: bool,
    },
    /// `user` pinned or unpinned a message. Erased from the log with the message.
    Pin {
        message_id: MessageId,
        user: String,
        pinned: bool,
    },
}

/// One committed entry of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub id: EventId,
    pub at: Millis,
    pub chat: Chat,
    pub data: EventData,
    /// For a `read` mark: the reader's unread count in the chat right after it. Known
    /// to the writer at commit time, handed to the hub, never stored.
    pub unread_after: Option<u64>,
}

/// A connected session (one WebSocket).
pub type SessionId = u64;

/// Why the world refused a command. Each edge turns it into its dialect's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    TooManyConnections(String),
    #[error("log in first")]
    Unauthorized,
    #[error("login failed")]
    AuthFailed,
    /// A login the server's rules refuse: a new name without a valid invitation or while
    /// registration is closed, a banned account (reported as `auth_failed`, with this
    /// reason).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Internal(String),
}

/// Whether `name` can be the name of a stored upload: 32 lowercase hex digits, a dot
/// and the extension of one of the kinds of [`crate::filetype`].
pub fn is_upload_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(id, ext)| {
        id.len() == 32
            && id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
            && crate::filetype::is_stored_ext(ext)
    })
}

/// The upload an attachment's `url` refers to: `/uploads/NAME`, or the same path
/// under any `scheme://host`.
pub fn upload_of(url: &str) -> Option<&str> {
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    path.strip_prefix("/uploads/").filter(|n| is_upload_name(n))
}

/// `2026-01-16T10:00:00.000Z` (with `millis`) or `2026-01-16T10:00:00Z`, in UTC.
pub fn iso8601(ms: Millis, millis: bool) -> String {
    use time::macros::format_description;
    use time::OffsetDateTime;
    let with_ms =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let without = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let formatted = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(time::error::Format::from)
        .and_then(|at| at.format(if millis { with_ms } else { without }));
    match formatted {
        Ok(text) => text,
        Err(error) => {
            // Only a time outside years 1 to 9999 gets here; Parlor makes none.
            tracing::warn!(ms, %error, "a time that cannot be written as ISO 8601");
            ms.to_string()
        }
    }
}

/// Serde: a zero count is left out.
fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_its_name_in_any_case() {
        let key = UserKey::of("Ärger.Bob");
        assert!(key.is("ärger.bob") && key.is("ÄRGER.BOB") && key.is("Ärger.Bob"));
        assert!(!key.is("ärger.bo") && !key.is("ärger.bobb"));
        let ascii = UserKey::of("Bob_1");
        assert!(ascii.is("bob_1") && ascii.is("BOB_1") && !ascii.is("bob_2"));
        let sigma = UserKey::of("ΟΔΟΣ");
        assert!(sigma.is("ΟΔΟΣ") && sigma.is("οδος"));
    }

    #[test]
    fn an_upload_is_named_by_its_path_on_any_host() {
        let name = "0123456789abcdef0123456789abcdef.png";
        assert_eq!(upload_of(&format!("/uploads/{name}")), Some(name));
        assert_eq!(
            upload_of(&format!("http://pi.local:8080/uploads/{name}")),
            Some(name)
        );
        assert_eq!(upload_of("/uploads/../parlor.db"), None);
        assert_eq!(upload_of("http://example.com/photo.png"), None);
        assert_eq!(upload_of(&format!("/uploads/{name}x")), None);
    }

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(0, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_704_993_600_001, true), "2024-01-11T17:20:00.001Z");
        assert_eq!(iso8601(1_762_130_712_000, false), "2025-11-03T00:45:12Z");
        assert_eq!(iso8601(951_782_400_000, false), "2000-02-29T00:00:00Z");
    }
}
