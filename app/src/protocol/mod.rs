//! The native wire protocol (`/ws`): every frame a client and the server exchange.
//!
//! The envelope comes from seeds 001/003: a client sends `request`s (answered by a
//! `response` carrying the same string `id`), client `event`s (typing, going offline)
//! and `ack`s; the server sends `response`s and `event`s. Events that change state carry
//! an increasing integer `id`; typing and presence events carry none.
//!
//! These types are compiled into the server, the browser app and the test clients, so
//! there is exactly one definition of each frame. Client frames are parsed with
//! [`ClientFrame::parse`], which reports the request `id` when it could be read so that
//! the server can answer a bad request with an error instead of dropping it.
//!
//! Every name the seeds leave open (rooms, presence, history, …) is documented with an
//! example in `docs/protocol.md`.
//!
//! The types are split by what they are — the frames themselves (`envelope`), request
//! payloads (`requests`), pushed events (`events`), response payloads (`responses`) and
//! the pieces they share (`shared`) — and all re-exported here, so every type is named
//! `protocol::X` whichever file holds it.

mod access;
mod accounts;
mod admin;
mod envelope;
mod events;
mod names;
mod people;
mod push;
mod reactions;
mod requests;
mod responses;
mod rooms;
mod shared;
mod sizes;

pub use access::*;
pub use accounts::*;
pub use admin::*;
pub use envelope::*;
pub use events::*;
pub use names::*;
pub use people::*;
pub use push::*;
pub use reactions::*;
pub use requests::*;
pub use responses::*;
pub use rooms::*;
pub use shared::*;
pub use sizes::*;

/// Id of an event in the global event log (increasing, never reused).
pub type EventId = u64;
/// Id of a message; unique across all chats.
pub type MessageId = u64;
/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Error codes of failed responses (`{"error":{"code":…,"message":…}}`).
pub mod codes {
    /// The frame or its payload could not be parsed or failed validation.
    pub const BAD_REQUEST: &str = "bad_request";
    /// The `payloadType` is not one the server knows.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// Wrong password or an invalid username; the connection is closed after it.
    pub const AUTH_FAILED: &str = "auth_failed";
    /// The request needs a logged-in connection.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The user may not do this (not a member, not the author, …).
    pub const FORBIDDEN: &str = "forbidden";
    /// The chat, room, user or message does not exist.
    pub const NOT_FOUND: &str = "not_found";
    /// The name is taken (room names).
    pub const CONFLICT: &str = "conflict";
    /// Over a budget: too many messages in the last minute, too many failed logins
    /// (wait and retry), or the server is busy checking other passwords.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// Too many connections for this user.
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// The server could not complete the request (storage failure); nothing was lost.
    pub const INTERNAL: &str = "internal";
}

/// Longest accepted message text, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest excerpt of a replied-to message in a reply's quote, in characters.
pub const MAX_EXCERPT_CHARS: usize = 120;
/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest attachment `url`, in bytes.
pub const MAX_ATTACHMENT_URL: usize = 2048;
/// Longest attachment `filename`, in bytes.
pub const MAX_ATTACHMENT_FILENAME: usize = 255;
/// Longest attachment `type`, `id` and `meta.mimetype`, in bytes each.
pub const MAX_ATTACHMENT_TOKEN: usize = 128;
/// Longest request `id`, in bytes (a longer one is answered with an empty `id`).
pub const MAX_REQUEST_ID: usize = 64;
/// Longest frame `type`, `payloadType` or `eventType`, in bytes.
pub const MAX_TYPE_NAME: usize = 32;
/// Longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 64;
/// Longest `chatId`, in bytes: `#` and a room name of four-byte characters. The name
/// rules (characters) apply on top.
pub const MAX_CHAT_ID_BYTES: usize = 1 + 4 * MAX_ROOM_NAME_CHARS;
/// Longest password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest session `token`, in bytes (Parlor's own have 64).
pub const MAX_TOKEN_BYTES: usize = 128;
/// Longest `clientMessageId`, in bytes.
pub const MAX_CLIENT_MESSAGE_ID: usize = 128;
/// Largest page `getMessages` returns.
pub const MAX_PAGE: u32 = 100;

#[cfg(test)]
mod tests;
