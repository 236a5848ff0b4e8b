//! What a client makes of the answer to one of its requests.
//!
//! Every request the web app sends expects a payload of one type (`RoomInfo` for
//! `createRoom`, a page of `MessageItem`s for `getMessages`, …). [`decode`] turns the
//! raw answer into that type or into one [`ErrorBody`], whether the server refused the
//! request, the connection was lost first ([`CLOSED`]), or the payload was not what
//! was asked for. It lives outside `ui` so that it is tested natively.

use crate::protocol::{codes, ErrorBody, Response};
use serde::de::DeserializeOwned;

/// The answer to a request: the response, or the error the server (or a lost
/// connection) gave instead.
pub type Reply = Result<Response, ErrorBody>;

/// Code of the error a request gets when the connection closes before its response
/// (or is not open when it is sent). It never comes from the server.
pub const CLOSED: &str = "closed";

/// A [`CLOSED`] error with a message for people.
pub fn closed(message: &str) -> ErrorBody {
    ErrorBody {
        code: CLOSED.to_owned(),
        message: message.to_owned(),
    }
}

/// True for the error of a request the connection was lost under: not the server's
/// refusal, and usually retried after the reconnect.
pub fn is_closed(error: &ErrorBody) -> bool {
    error.code == CLOSED
}

/// The payload of a successful answer read as `T`, or the error. An unreadable payload
/// is an error too, so that no caller mistakes it for success. Requests whose payload
/// does not matter decode as [`serde::de::IgnoredAny`], which accepts any payload
/// (also none).
pub fn decode<T: DeserializeOwned>(reply: Reply) -> Result<T, ErrorBody> {
    reply.and_then(|response| {
        response.payload_as::<T>().map_err(|e| ErrorBody {
            code: codes::BAD_REQUEST.to_owned(),
            message: format!("unexpected answer from the server: {e}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{NewOk, RoomInfo};
    use serde::de::IgnoredAny;
    use serde_json::json;

    fn ok(payload: Option<serde_json::Value>) -> Reply {
        Ok(Response {
            id: "r1".into(),
            timestamp: 1,
            payload_type: None,
            payload: payload.and_then(|p| crate::protocol::Payload::of(&p)),
            error: None,
        })
    }

    #[test]
    fn a_payload_decodes_as_the_type_asked_for() {
        let reply = ok(Some(json!({"messageId": 7, "clientMessageId": "c"})));
        let new: NewOk = decode(reply).expect("a NewOk");
        assert_eq!(new.message_id, 7);
        assert_eq!(new.client_message_id.as_deref(), Some("c"));
    }

    #[test]
    fn the_servers_error_passes_through() {
        let refused = ErrorBody {
            code: codes::CONFLICT.into(),
            message: "taken".into(),
        };
        let got = decode::<RoomInfo>(Err(refused.clone()));
        assert_eq!(got, Err(refused));
        let lost = decode::<RoomInfo>(Err(closed("gone")));
        assert!(lost.as_ref().is_err_and(is_closed));
    }

    #[test]
    fn an_unexpected_payload_is_an_error_not_a_success() {
        let got = decode::<NewOk>(ok(Some(json!({"nope": true}))));
        let err = got.expect_err("not a NewOk");
        assert_eq!(err.code, codes::BAD_REQUEST);
        assert!(err
            .message
            .starts_with("unexpected answer from the server: "));
        assert!(!is_closed(&err));
        assert!(decode::<NewOk>(ok(None)).is_err());
    }

    #[test]
    fn ignored_payloads_accept_anything() {
        assert!(decode::<IgnoredAny>(ok(None)).is_ok());
        assert!(decode::<IgnoredAny>(ok(Some(json!({"any": [1, 2]})))).is_ok());
        assert!(decode::<IgnoredAny>(Err(closed("gone"))).is_err());
    }
}
