//! The envelope of seed 001: the frames as they cross the socket, in both directions.
//!
//! A client sends [`ClientFrame`]s (a request, a client event, an ack); the server sends
//! [`ServerFrame`]s (a response, an event). Client frames are parsed by hand through
//! [`ClientFrame::parse`] rather than derived, so that a bad request still yields its
//! `id` and can be answered with an error instead of being dropped.

use super::{
    codes, ChatRequest, Event, EventId, Millis, Request, RequestBody, MAX_REQUEST_ID, MAX_TYPE_NAME,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Any frame a client sends on `/ws`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    Request(Request),
    Event(ClientEvent),
    Ack(Ack),
}

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
    pub(super) fn new(code: &'static str, message: impl Into<String>) -> ParseError {
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
        let names = [&raw.kind, &raw.payload_type, &raw.event_type];
        if names
            .iter()
            .any(|n| n.as_ref().is_some_and(|n| n.len() > MAX_TYPE_NAME))
        {
            // Checked before anything is echoed in an error message.
            let mut e = ParseError::new(
                codes::BAD_REQUEST,
                format!("type, payloadType and eventType have at most {MAX_TYPE_NAME} bytes"),
            );
            // A request is answered (as any bad request whose id can be read); any other
            // frame with an unknown type is dropped.
            if raw.kind.as_deref() == Some("request") {
                e.id = match raw.id {
                    Some(RawId::Str(s)) if s.len() > MAX_REQUEST_ID => Some(String::new()),
                    other => other.map(RawId::into_string),
                };
            }
            return Err(e);
        }
        match raw.kind.as_deref() {
            Some("request") => {
                let id = match raw.id {
                    Some(RawId::Str(s)) if s.len() > MAX_REQUEST_ID => {
                        // Answered with an empty id: echoing it would repeat the flood.
                        let mut e = ParseError::new(
                            codes::BAD_REQUEST,
                            format!("a request id has at most {MAX_REQUEST_ID} bytes"),
                        );
                        e.id = Some(String::new());
                        return Err(e);
                    }
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
                body.check_sizes()
                    .map_err(|m| with_id(ParseError::new(codes::BAD_REQUEST, m)))?;
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
                body.check_sizes()
                    .map_err(|m| ParseError::new(codes::BAD_REQUEST, m))?;
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

/// Any frame the server sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerFrame {
    Response(Response),
    Event(Event),
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a frame: its `type` first, then the whole text as that kind of frame,
    /// straight from the text. (A derived internally tagged `Deserialize` would buffer
    /// every frame into serde's generic content first, and could not keep a response's
    /// payload raw; that buffering cost the web bundle much of its size.)
    pub fn parse(text: &str) -> Result<ServerFrame, serde_json::Error> {
        #[derive(Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", borrow)]
            kind: std::borrow::Cow<'a, str>,
        }
        let kind: Kind<'_> = serde_json::from_str(text)?;
        match kind.kind.as_ref() {
            "response" => serde_json::from_str(text).map(ServerFrame::Response),
            "event" => serde_json::from_str(text).map(ServerFrame::Event),
            other => Err(serde::de::Error::custom(format!(
                "unknown frame type {other:?}"
            ))),
        }
    }
}

/// A response's payload, kept as the JSON text it came as: read once, as the type the
/// request expects ([`Response::payload_as`]), never as a generic JSON value first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(pub Box<serde_json::value::RawValue>);

impl Payload {
    /// `value` as a payload.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Option<Payload> {
        serde_json::value::to_raw_value(value).ok().map(Payload)
    }

    /// The payload's JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.0.get() == other.0.get()
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
    pub payload: Option<Payload>,
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
            payload: Payload::of(payload),
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
        serde_json::from_str(self.payload.as_ref().map_or("null", Payload::get))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}
