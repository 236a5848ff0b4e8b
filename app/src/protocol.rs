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

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

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
    /// Too many messages in the last minute.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// Too many connections for this user.
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// The server could not complete the request (storage failure); nothing was lost.
    pub const INTERNAL: &str = "internal";
}

/// Longest accepted message text, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// Largest page `getMessages` returns.
pub const MAX_PAGE: u32 = 100;

// ───────────────────────────── shared pieces ─────────────────────────────

/// Presence status of a user, merged over all of their connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Invisible or not connected. Ordered first: the least available.
    Offline,
    Busy,
    Away,
    Online,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Busy => "busy",
            Status::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "online" => Some(Status::Online),
            "away" => Some(Status::Away),
            "busy" => Some(Status::Busy),
            "offline" => Some(Status::Offline),
            _ => None,
        }
    }
}

/// An attachment as seed 003 shapes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub filename: String,
    pub url: String,
    #[serde(default)]
    pub meta: AttachmentMeta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    #[serde(default)]
    pub mimetype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A conversation as named on the wire: `#room` or the other user's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChatRef {
    Room(String),
    Direct(String),
}

impl ChatRef {
    /// Parses a `chatId`; checks the name rules of the contract.
    pub fn parse(chat_id: &str) -> Result<ChatRef, NameError> {
        match chat_id.strip_prefix('#') {
            Some(room) => {
                validate_room_name(room)?;
                Ok(ChatRef::Room(room.to_owned()))
            }
            None => {
                validate_username(chat_id)?;
                Ok(ChatRef::Direct(chat_id.to_owned()))
            }
        }
    }

    /// The wire form: `#room` or `username`.
    pub fn to_chat_id(&self) -> String {
        match self {
            ChatRef::Room(room) => format!("#{room}"),
            ChatRef::Direct(user) => user.clone(),
        }
    }
}

/// Why a username or room name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(pub &'static str);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NameError {}

/// Usernames: 1 to 32 characters of letters, digits, `_`, `-`, `.`.
pub fn validate_username(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 || len > 32 {
        return Err(NameError("a username has 1 to 32 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(NameError(
            "a username has only letters, digits, '_', '-' and '.'",
        ));
    }
    Ok(())
}

/// Room names: 1 to 64 printable characters (no control characters, not all blank).
pub fn validate_room_name(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 || len > 64 {
        return Err(NameError("a room name has 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError("a room name has only printable characters"));
    }
    if name.trim().is_empty() {
        return Err(NameError("a room name cannot be blank"));
    }
    Ok(())
}

// ───────────────────────────── client → server ─────────────────────────────

/// Any frame a client sends on `/ws`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    Request(Request),
    Event(ClientEvent),
    Ack(Ack),
}

/// A request; answered by a [`Response`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub id: String,
    pub timestamp: Millis,
    #[serde(flatten)]
    pub body: RequestBody,
}

/// What a request asks, keyed by `payloadType`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "payloadType", content = "payload", rename_all = "camelCase")]
pub enum RequestBody {
    Auth(AuthRequest),
    Subscribe(SubscribeRequest),
    New(NewRequest),
    Edit(EditRequest),
    Delete(DeleteRequest),
    Dlvrd(ReceiptRequest),
    Read(ReceiptRequest),
    GetMessages(GetMessagesRequest),
    GetMessage(GetMessageRequest),
    GetChat(ChatRequest),
    GetChats(Empty),
    CreateRoom(CreateRoomRequest),
    JoinRoom(ChatRequest),
    LeaveRoom(ChatRequest),
    ListRooms(Empty),
    GetMembers(ChatRequest),
    ListUsers(Empty),
    SetStatus(SetStatusRequest),
    GetReceipts(ChatRequest),
    Logout(Empty),
    ClearRoom(ChatRequest),
}

impl RequestBody {
    /// The `payloadType` of this request.
    pub fn payload_type(&self) -> &'static str {
        match self {
            RequestBody::Auth(_) => "auth",
            RequestBody::Subscribe(_) => "subscribe",
            RequestBody::New(_) => "new",
            RequestBody::Edit(_) => "edit",
            RequestBody::Delete(_) => "delete",
            RequestBody::Dlvrd(_) => "dlvrd",
            RequestBody::Read(_) => "read",
            RequestBody::GetMessages(_) => "getMessages",
            RequestBody::GetMessage(_) => "getMessage",
            RequestBody::GetChat(_) => "getChat",
            RequestBody::GetChats(_) => "getChats",
            RequestBody::CreateRoom(_) => "createRoom",
            RequestBody::JoinRoom(_) => "joinRoom",
            RequestBody::LeaveRoom(_) => "leaveRoom",
            RequestBody::ListRooms(_) => "listRooms",
            RequestBody::GetMembers(_) => "getMembers",
            RequestBody::ListUsers(_) => "listUsers",
            RequestBody::SetStatus(_) => "setStatus",
            RequestBody::GetReceipts(_) => "getReceipts",
            RequestBody::Logout(_) => "logout",
            RequestBody::ClearRoom(_) => "clearRoom",
        }
    }

    fn from_parts(payload_type: &str, payload: Option<&str>) -> Result<RequestBody, ParseError> {
        fn p<T: DeserializeOwned>(payload: Option<&str>) -> Result<T, ParseError> {
            serde_json::from_str(payload.unwrap_or("{}"))
                .map_err(|e| ParseError::new(codes::BAD_REQUEST, format!("invalid payload: {e}")))
        }
        Ok(match payload_type {
            "auth" => RequestBody::Auth(p(payload)?),
            "subscribe" => RequestBody::Subscribe(p(payload)?),
            "new" => RequestBody::New(p(payload)?),
            "edit" => RequestBody::Edit(p(payload)?),
            "delete" => RequestBody::Delete(p(payload)?),
            "dlvrd" => RequestBody::Dlvrd(p(payload)?),
            "read" => RequestBody::Read(p(payload)?),
            "getMessages" => RequestBody::GetMessages(p(payload)?),
            "getMessage" => RequestBody::GetMessage(p(payload)?),
            "getChat" => RequestBody::GetChat(p(payload)?),
            "getChats" => RequestBody::GetChats(p(payload)?),
            "createRoom" => RequestBody::CreateRoom(p(payload)?),
            "joinRoom" => RequestBody::JoinRoom(p(payload)?),
            "leaveRoom" => RequestBody::LeaveRoom(p(payload)?),
            "listRooms" => RequestBody::ListRooms(p(payload)?),
            "getMembers" => RequestBody::GetMembers(p(payload)?),
            "listUsers" => RequestBody::ListUsers(p(payload)?),
            "setStatus" => RequestBody::SetStatus(p(payload)?),
            "getReceipts" => RequestBody::GetReceipts(p(payload)?),
            "logout" => RequestBody::Logout(p(payload)?),
            "clearRoom" => RequestBody::ClearRoom(p(payload)?),
            other => {
                return Err(ParseError::new(
                    codes::UNKNOWN_TYPE,
                    format!("unknown payloadType {other:?}"),
                ))
            }
        })
    }
}

/// A payload with no fields (`{}` or absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub username: String,
    /// The password; an unknown username is registered with it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// Instead of the password: a session token from an earlier login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeRequest {
    /// Replay events after this id; absent: after the last event this user acked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_id: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    pub message: String,
    /// Absent: keep the attachments; present: replace them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
}

/// `dlvrd` and `read`: a watermark; without `messageId`, up to the chat's latest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessagesRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_id: Option<MessageId>,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessageRequest {
    pub chat_id: String,
    pub message_id: MessageId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRequest {
    pub chat_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRoomRequest {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetStatusRequest {
    pub status: Status,
}

/// An event a client sends: typing, or telling the server it goes offline/online.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    pub timestamp: Millis,
    pub body: ClientEventBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientEventBody {
    /// `payloadType: "typing"`: the user is typing in `chatId`.
    Typing(ChatRequest),
    /// `eventType: "offline"`: this connection goes invisible (app in background).
    Offline,
    /// `eventType: "online"`: this connection is visible again.
    Online,
    /// `eventType: "idle"`: nobody is using this connection (shown as away).
    Idle,
    /// `eventType: "active"`: someone uses this connection again.
    Active,
}

/// `{"type":"ack","id":23}`: the client has handled event 23 and everything before it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub id: EventId,
}

/// Why a client frame was refused; `id` is the request id when it could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

impl ParseError {
    fn new(code: &'static str, message: impl Into<String>) -> ParseError {
        ParseError {
            id: None,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A request id as clients send it: a string, or (leniently) a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Str(String),
    Num(serde_json::Number),
}

impl RawId {
    fn into_string(self) -> String {
        match self {
            RawId::Str(s) => s,
            RawId::Num(n) => n.to_string(),
        }
    }
}

/// Every field any client frame may carry; unknown fields are ignored.
#[derive(Deserialize)]
struct RawClientFrame<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<RawId>,
    timestamp: Option<Value>,
    #[serde(rename = "payloadType")]
    payload_type: Option<String>,
    #[serde(rename = "eventType")]
    event_type: Option<String>,
    #[serde(borrow)]
    payload: Option<&'a serde_json::value::RawValue>,
}

fn timestamp_of(v: Option<Value>) -> Millis {
    v.and_then(|v| v.as_i64()).unwrap_or(0)
}

impl ClientFrame {
    /// Parses one text frame. Errors carry the request id when one was readable.
    pub fn parse(text: &str) -> Result<ClientFrame, ParseError> {
        let raw: RawClientFrame<'_> = serde_json::from_str(text)
            .map_err(|e| ParseError::new(codes::BAD_REQUEST, format!("not a valid frame: {e}")))?;
        let payload = raw.payload.map(|p| p.get()).filter(|p| *p != "null");
        match raw.kind.as_deref() {
            Some("request") => {
                let id = match raw.id {
                    Some(id) => id.into_string(),
                    None => {
                        return Err(ParseError::new(codes::BAD_REQUEST, "a request needs an id"))
                    }
                };
                let with_id = |mut e: ParseError| {
                    e.id = Some(id.clone());
                    e
                };
                let payload_type = raw.payload_type.ok_or_else(|| {
                    with_id(ParseError::new(
                        codes::BAD_REQUEST,
                        "a request needs a payloadType",
                    ))
                })?;
                let body = RequestBody::from_parts(&payload_type, payload).map_err(with_id)?;
                Ok(ClientFrame::Request(Request {
                    id,
                    timestamp: timestamp_of(raw.timestamp),
                    body,
                }))
            }
            Some("event") => {
                let kind = raw.payload_type.or(raw.event_type).ok_or_else(|| {
                    ParseError::new(codes::BAD_REQUEST, "an event needs a payloadType")
                })?;
                let body = match kind.as_str() {
                    "typing" => ClientEventBody::Typing(
                        serde_json::from_str(payload.unwrap_or("{}")).map_err(|e| {
                            ParseError::new(codes::BAD_REQUEST, format!("invalid payload: {e}"))
                        })?,
                    ),
                    "offline" => ClientEventBody::Offline,
                    "online" => ClientEventBody::Online,
                    "idle" => ClientEventBody::Idle,
                    "active" => ClientEventBody::Active,
                    other => {
                        return Err(ParseError::new(
                            codes::UNKNOWN_TYPE,
                            format!("unknown event {other:?}"),
                        ))
                    }
                };
                Ok(ClientFrame::Event(ClientEvent {
                    timestamp: timestamp_of(raw.timestamp),
                    body,
                }))
            }
            Some("ack") => match raw.id {
                Some(RawId::Num(n)) => match n.as_u64() {
                    Some(id) => Ok(ClientFrame::Ack(Ack { id })),
                    None => Err(ParseError::new(
                        codes::BAD_REQUEST,
                        "an ack id is an event id",
                    )),
                },
                Some(RawId::Str(s)) => match s.parse() {
                    Ok(id) => Ok(ClientFrame::Ack(Ack { id })),
                    Err(_) => Err(ParseError::new(
                        codes::BAD_REQUEST,
                        "an ack id is an event id",
                    )),
                },
                None => Err(ParseError::new(codes::BAD_REQUEST, "an ack needs an id")),
            },
            Some(other) => Err(ParseError::new(
                codes::UNKNOWN_TYPE,
                format!("unknown frame type {other:?}"),
            )),
            None => Err(ParseError::new(codes::BAD_REQUEST, "a frame needs a type")),
        }
    }

    /// A request frame with `timestamp` set by the caller.
    pub fn request(id: impl Into<String>, timestamp: Millis, body: RequestBody) -> ClientFrame {
        ClientFrame::Request(Request {
            id: id.into(),
            timestamp,
            body,
        })
    }

    /// The JSON text of this frame.
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail: no maps with non-string keys.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for ClientFrame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T: Serialize> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            inner: &'a T,
        }
        #[derive(Serialize)]
        struct Ev<'a> {
            timestamp: Millis,
            #[serde(rename = "payloadType", skip_serializing_if = "Option::is_none")]
            payload_type: Option<&'static str>,
            #[serde(rename = "eventType", skip_serializing_if = "Option::is_none")]
            event_type: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            payload: Option<&'a ChatRequest>,
        }
        match self {
            ClientFrame::Request(r) => Tagged {
                kind: "request",
                inner: r,
            }
            .serialize(s),
            ClientFrame::Ack(a) => Tagged {
                kind: "ack",
                inner: a,
            }
            .serialize(s),
            // Seed 003 sends typing with `payloadType` and offline with `eventType`.
            ClientFrame::Event(e) => {
                let (payload_type, event_type, payload) = match &e.body {
                    ClientEventBody::Typing(chat) => (Some("typing"), None, Some(chat)),
                    ClientEventBody::Offline => (None, Some("offline"), None),
                    ClientEventBody::Online => (None, Some("online"), None),
                    ClientEventBody::Idle => (None, Some("idle"), None),
                    ClientEventBody::Active => (None, Some("active"), None),
                };
                let ev = Ev {
                    timestamp: e.timestamp,
                    payload_type,
                    event_type,
                    payload,
                };
                Tagged {
                    kind: "event",
                    inner: &ev,
                }
                .serialize(s)
            }
        }
    }
}

// ───────────────────────────── server → client ─────────────────────────────

/// Any frame the server sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerFrame {
    Response(Response),
    Event(Event),
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The answer to a request: `payload` on success, `error` on failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: String,
    pub timestamp: Millis,
    #[serde(
        rename = "payloadType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payload_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    /// A successful response with a typed payload.
    pub fn ok<T: Serialize>(id: impl Into<String>, timestamp: Millis, payload: &T) -> Response {
        Response {
            id: id.into(),
            timestamp,
            payload_type: None,
            payload: serde_json::to_value(payload).ok(),
            error: None,
        }
    }

    /// A successful response with no payload at all (`{"type":"response","id":…}`).
    pub fn empty(id: impl Into<String>, timestamp: Millis) -> Response {
        Response {
            id: id.into(),
            timestamp,
            payload_type: None,
            payload: None,
            error: None,
        }
    }

    pub fn error(
        id: impl Into<String>,
        timestamp: Millis,
        code: &str,
        message: impl Into<String>,
    ) -> Response {
        Response {
            id: id.into(),
            timestamp,
            payload_type: None,
            payload: None,
            error: Some(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            }),
        }
    }

    /// Reads the payload as `T` (the type the request expects).
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.payload.clone().unwrap_or(Value::Null))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// An event pushed by the server. `id` is set for state-changing events only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<EventId>,
    pub timestamp: Millis,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What an event says, keyed by `eventType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub missed: u64,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPresence {
    pub user_id: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEvent {
    pub chat_id: String,
    pub user_id: String,
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

// ───────────────────────────── response payloads ─────────────────────────────

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthOk {
    pub user_id: String,
    pub registered: bool,
    /// A session token for later logins without the password (password logins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A member's receipt watermarks in one chat (`getReceipts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptMarks {
    pub user_id: String,
    /// Every message up to this id was delivered to the user.
    pub delivered: MessageId,
    /// Every message up to this id was read by the user.
    pub read: MessageId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptList {
    pub receipts: Vec<ReceiptMarks>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeOk {
    pub last_event_id: EventId,
    pub missed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOk {
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
}

/// Payload of the response to `read` (seed 003), with `payloadType: "read"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadOk {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    pub missed: u64,
}

/// One stored message, as `getMessages` / `getMessage` return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub sender: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Millis>,
}

/// `getChat`, and each entry of `getChats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatInfo {
    pub chat_id: String,
    /// `"dialog"` (direct) or `"group"` (room).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub last_id: MessageId,
    pub unread_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatList {
    pub chats: Vec<ChatInfo>,
}

/// One room in `listRooms`, and the answer to `createRoom` / `joinRoom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInfo {
    pub chat_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    pub members: u64,
    pub joined: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<RoomInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserPresence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<UserPresence>,
}

#[cfg(test)]
mod tests;
