//! The wire types of notifications with Parlor closed (issue 5/6): a browser's Web
//! Push subscription (`pushSubscribe`, `pushUnsubscribe`), the server's VAPID public
//! key (`GET /api/push/key`), the payload a push carries (encrypted to the
//! subscription, read by the web app's service worker), and a person's secret ntfy
//! topic (`getNtfyTopic`, `resetNtfyTopic`) for phones on a LAN without the internet.
//! Kept apart so that the frames of one feature read together; every type is
//! re-exported as `protocol::X`.

use serde::{Deserialize, Serialize};

/// Longest push endpoint URL, in bytes.
pub const MAX_PUSH_ENDPOINT_BYTES: usize = 1024;
/// Most push subscriptions (devices) per person; a new one past it drops the oldest.
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 10;
/// A subscription's public key: an uncompressed P-256 point, in bytes.
pub const PUSH_P256DH_BYTES: usize = 65;
/// A subscription's authentication secret, in bytes.
pub const PUSH_AUTH_BYTES: usize = 16;
/// Longest preview of a message in a push, in characters.
pub const MAX_PUSH_PREVIEW_CHARS: usize = 100;

fn yes() -> bool {
    true
}

/// `pushSubscribe`: this device's Web Push subscription (`PushSubscription` of the
/// browser: its `endpoint` and its `p256dh` and `auth` keys, base64url without
/// padding). `previews: false` keeps message text out of the pushes to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscribeRequest {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    #[serde(default = "yes")]
    pub previews: bool,
}

/// `pushUnsubscribe`'s payload, and the answer of both requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEndpoint {
    pub endpoint: String,
}

/// `GET /api/push/key`: the server's VAPID public key (base64url, no padding, the
/// 65-byte uncompressed point), the browser's `applicationServerKey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushKey {
    pub key: String,
}

/// What one push carries, as JSON, encrypted to the subscription (RFC 8291).
/// Nothing more than the chat, the sender and a short preview: not even the
/// message's id. `chat` is the chat as the recipient names it (`#Room` or `@sender`); `url` opens it
/// in the web app; `preview` is absent when the subscription turned previews off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushPayload {
    pub chat: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    pub url: String,
}

/// `resetNtfyTopic`'s payload: whether the ntfy messages carry a preview of the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetNtfyTopicRequest {
    #[serde(default = "yes")]
    pub previews: bool,
}

/// The answer of `getNtfyTopic` and `resetNtfyTopic`: the person's secret topic, and
/// the path under which the server speaks ntfy (the ntfy app's server URL is this
/// server's origin followed by `path`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NtfyTopic {
    pub topic: String,
    pub path: String,
    pub previews: bool,
}

/// The URL (a path) that opens `chat` (a chat id: `#Room` or `@name`) in the web app.
pub fn chat_url(chat: &str) -> String {
    let mut url = String::from("/?chat=");
    for b in chat.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    #[test]
    fn chat_urls_are_percent_encoded() {
        assert_eq!(super::chat_url("#Club"), "/?chat=%23Club");
        assert_eq!(super::chat_url("@alice"), "/?chat=%40alice");
        assert_eq!(super::chat_url("#a b&c"), "/?chat=%23a%20b%26c");
    }
}
