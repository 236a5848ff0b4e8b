//! What the server pushes: [`Event`], its [`EventBody`] keyed by `eventType`, and one
//! payload type per event. Kept apart from the requests because events flow the other
//! way and are what a client replays after a reconnect.

use super::{
    Attachment, EventId, MessageId, Millis, NotifyLevel, PinEvent, ReactionEvent, RoleEvent,
    RoomSettings, Status,
};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};

/// An event frame. Read by hand ([`Event::deserialize`] through
/// [`EventBody::from_parts`]): a derived reader of the flattened, tagged body would
/// buffer every event into serde's generic content first, which cost the web bundle
/// more than its whole chat view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<EventId>,
    pub timestamp: Millis,
    #[serde(flatten)]
    pub body: EventBody,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            id: Option<EventId>,
            timestamp: Millis,
            #[serde(rename = "eventType")]
            event_type: String,
            #[serde(default)]
            payload: Option<Box<serde_json::value::RawValue>>,
        }
        let raw = Raw::deserialize(deserializer)?;
        let payload = raw.payload.as_deref().map(serde_json::value::RawValue::get);
        let body = EventBody::from_parts(&raw.event_type, payload).map_err(D::Error::custom)?;
        Ok(Event {
            id: raw.id,
            timestamp: raw.timestamp,
            body,
        })
    }
}

/// What an event says, keyed by `eventType`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "eventType", content = "payload", rename_all = "camelCase")]
pub enum EventBody {
    New(MessageEvent),
    Edit(EditEvent),
    Delete(DeleteEvent),
    Dlvrd(ReceiptEvent),
    Read(ReceiptEvent),
    Typing(TypingEvent),
    Online(UserRef),
    Offline(UserRef),
    Presence(UserPresence),
    Join(MemberEvent),
    Leave(MemberEvent),
    RoomCreated(RoomRef),
    Broadcast(BroadcastEvent),
    /// A room's history was cleared by `userId`.
    Clear(MemberEvent),
    /// Someone added or took back an emoji on a message.
    Reaction(ReactionEvent),
    /// Someone pinned or unpinned a message.
    Pin(PinEvent),
    /// The user's notification level of a chat changed (to the user's sessions only).
    Notify(NotifyEvent),
    /// A room's settings changed (topic, private, announcement-only, muted people).
    Room(RoomSettings),
    /// The receiving user's role changed (to the user's sessions only).
    Role(RoleEvent),
    /// Someone changed their profile (to everyone connected).
    Profile(super::Profile),
}

impl EventBody {
    /// The body of an event of type `event_type` with the JSON text `payload`: the
    /// mapping between `eventType` strings and variants, written out once this way
    /// (serialization is derived from the same names).
    pub fn from_parts(
        event_type: &str,
        payload: Option<&str>,
    ) -> Result<EventBody, serde_json::Error> {
        fn p<T: DeserializeOwned>(payload: Option<&str>) -> Result<T, serde_json::Error> {
            serde_json::from_str(payload.unwrap_or("null"))
        }
        Ok(match event_type {
            "new" => EventBody::New(p(payload)?),
            "edit" => EventBody::Edit(p(payload)?),
            "delete" => EventBody::Delete(p(payload)?),
            "dlvrd" => EventBody::Dlvrd(p(payload)?),
            "read" => EventBody::Read(p(payload)?),
            "typing" => EventBody::Typing(p(payload)?),
            "online" => EventBody::Online(p(payload)?),
            "offline" => EventBody::Offline(p(payload)?),
            "presence" => EventBody::Presence(p(payload)?),
            "join" => EventBody::Join(p(payload)?),
            "leave" => EventBody::Leave(p(payload)?),
            "roomCreated" => EventBody::RoomCreated(p(payload)?),
            "broadcast" => EventBody::Broadcast(p(payload)?),
            "clear" => EventBody::Clear(p(payload)?),
            "reaction" => EventBody::Reaction(p(payload)?),
            "pin" => EventBody::Pin(p(payload)?),
            "notify" => EventBody::Notify(p(payload)?),
            "room" => EventBody::Room(p(payload)?),
            "role" => EventBody::Role(p(payload)?),
            "profile" => EventBody::Profile(p(payload)?),
            other => {
                return Err(serde_json::Error::custom(format!(
                    "unknown eventType {other:?}"
                )))
            }
        })
    }
}

/// A new message. `missed` is the receiver's unread count in this chat and is always
/// the last field (the server splices it per receiver into one serialized frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
    /// The message this one answers, quoted as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyQuote>,
    /// The members the message mentions (`@name`), as the server recognised them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The message mentions the whole room (`@room`, room owners only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
    #[serde(default)]
    pub missed: u64,
}

/// The compact quote of the message a reply answers: its author and the first line of
/// its text as it is when the reply is read (`excerpt`), or `deleted` and no text once
/// the original is gone. The server computes it on every read from the original's id;
/// the text is never stored with the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyQuote {
    pub message_id: MessageId,
    #[serde(default)]
    pub sender: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub excerpt: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl ReplyQuote {
    /// The quote of a message that still exists.
    pub fn of(message_id: MessageId, sender: &str, text: &str) -> ReplyQuote {
        ReplyQuote {
            message_id,
            sender: sender.to_owned(),
            excerpt: excerpt(text),
            deleted: false,
        }
    }

    /// The quote of a message that was deleted (or cleared): no text at all.
    pub fn gone(message_id: MessageId, sender: &str) -> ReplyQuote {
        ReplyQuote {
            message_id,
            sender: sender.to_owned(),
            excerpt: String::new(),
            deleted: true,
        }
    }
}

/// The first line of `text` as a quote shows it ([`crate::markdown::first_line`]: not
/// blank, not a code fence, no inline markers), cut to [`super::MAX_EXCERPT_CHARS`]
/// characters (an ellipsis marks the cut).
pub fn excerpt(text: &str) -> String {
    let line = crate::markdown::first_line(text);
    let max = super::MAX_EXCERPT_CHARS;
    if line.chars().nth(max).is_none() {
        return line;
    }
    let mut out: String = line.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Who removed it, when it was not its sender (an admin or the room's manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `dlvrd` / `read`: every message up to `messageId` was delivered to / read by `userId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEvent {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingEvent {
    pub chat_id: String,
    /// Who is typing (in a direct chat it is also the `chatId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub user_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPresence {
    pub user_id: String,
    pub status: Status,
    /// In people lists (`listUsers`, `getMembers`): the person's display name and avatar
    /// path, when set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar: String,
    /// In `listUsers`: the account's role, when not `member`.
    #[serde(default, skip_serializing_if = "super::Role::is_member")]
    pub role: super::Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEvent {
    pub chat_id: String,
    pub user_id: String,
    /// Who added (`join`) or removed (`leave`) them, when it was not themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomRef {
    pub chat_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BroadcastEvent {
    pub message: String,
}

/// `notify`: the receiving user set `chatId`'s notification level (from any session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyEvent {
    pub chat_id: String,
    pub level: NotifyLevel,
}
