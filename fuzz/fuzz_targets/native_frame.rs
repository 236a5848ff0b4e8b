//! Any text parses to a frame or to an error, never a panic; a parsed frame
//! serializes and parses back to itself, and has every string field within its
//! documented maximum. The same input also becomes one string field of a request of
//! each kind (the first byte picks the kind and how many times the rest repeats, so
//! fields go over their maximum): the frame parses exactly when the field fits.
#![no_main]

use app::protocol::{
    codes, ClientFrame, MAX_CHAT_ID_BYTES, MAX_CLIENT_MESSAGE_ID, MAX_MESSAGE_BYTES,
    MAX_PASSWORD_BYTES, MAX_REQUEST_ID, MAX_ROOM_NAME_CHARS, MAX_TOKEN_BYTES, MAX_TYPE_NAME,
    MAX_USERNAME_CHARS, MAX_EMOJI_BYTES,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// A limit in bytes, or in characters.
#[derive(Clone, Copy)]
enum Max {
    Bytes(usize),
    Chars(usize),
}

/// A request with `value` in one of its string fields, and that field's maximum.
fn templated(pick: u8, value: &str) -> (Value, Max) {
    let request = |kind: &str, payload: Value| {
        json!({"type":"request","id":"f","timestamp":1,"payloadType":kind,"payload":payload})
    };
    match pick % 18 {
        0 => (request("createRoom", json!({"name": value})), Max::Chars(MAX_ROOM_NAME_CHARS)),
        1 => (request("joinRoom", json!({"chatId": value})), Max::Bytes(MAX_CHAT_ID_BYTES)),
        2 => (request("leaveRoom", json!({"chatId": value})), Max::Bytes(MAX_CHAT_ID_BYTES)),
        3 => (
            request("new", json!({"chatId":"#General","message":"m","clientMessageId": value})),
            Max::Bytes(MAX_CLIENT_MESSAGE_ID),
        ),
        4 => (
            request("new", json!({"chatId":"#General","message": value, "replyTo": 1})),
            Max::Bytes(MAX_MESSAGE_BYTES),
        ),
        5 => (
            request("delete", json!({"chatId":"#General","messageId":1,"clientMessageId": value})),
            Max::Bytes(MAX_CLIENT_MESSAGE_ID),
        ),
        6 => (
            request("auth", json!({"username":"fuzz","password": value})),
            Max::Bytes(MAX_PASSWORD_BYTES),
        ),
        7 => (
            request("auth", json!({"username":"fuzz","token": value})),
            Max::Bytes(MAX_TOKEN_BYTES),
        ),
        8 => (
            request("auth", json!({"username": value, "password":"pw"})),
            Max::Chars(MAX_USERNAME_CHARS),
        ),
        9 => (
            json!({"type":"request","id": value,"timestamp":1,"payloadType":"listRooms"}),
            Max::Bytes(MAX_REQUEST_ID),
        ),
        10 => (
            json!({"type":"request","id":"f","timestamp":1,"payloadType": value}),
            Max::Bytes(MAX_TYPE_NAME),
        ),
        11 => (
            request("search", json!({"query": value, "limit": 20})),
            Max::Bytes(app::search::MAX_QUERY_BYTES),
        ),
        12 => (
            request("react", json!({"chatId":"#General","messageId":1,"emoji": value,"add":true})),
            Max::Bytes(MAX_EMOJI_BYTES),
        ),
        13 => (
            request("getPins", json!({"chatId": value})),
            Max::Bytes(MAX_CHAT_ID_BYTES),
        ),
        14 => (
            request("setNotify", json!({"chatId": value, "level": "mentions"})),
            Max::Bytes(MAX_CHAT_ID_BYTES),
        ),
        15 => (
            request("auth", json!({"username": "fuzz", "password": "pw", "invite": value})),
            Max::Bytes(MAX_TOKEN_BYTES),
        ),
        16 => (
            request("revokeInvite", json!({"id": value})),
            Max::Bytes(MAX_TOKEN_BYTES),
        ),
        _ => (
            json!({"type":"event","timestamp":1,"payloadType":"typing","payload":{"chatId": value}}),
            Max::Bytes(MAX_CHAT_ID_BYTES),
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = ClientFrame::parse(text) {
        let again = ClientFrame::parse(&frame.to_json()).expect("a serialized frame parses");
        assert_eq!(again, frame);
        if let ClientFrame::Request(r) = &frame {
            assert!(r.id.len() <= MAX_REQUEST_ID);
            assert!(r.body.check_sizes().is_ok());
        }
    }
    let Some((&pick, rest)) = text.as_bytes().split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let value = rest.repeat(1 + usize::from(pick / 14) * 8);
    let (frame, max) = templated(pick, &value);
    let over = match max {
        Max::Bytes(max) => value.len() > max,
        Max::Chars(max) => value.chars().count() > max,
    };
    match ClientFrame::parse(&frame.to_string()) {
        Ok(_) => assert!(!over, "an oversized field parsed: {frame}"),
        Err(e) if over => assert_eq!(e.code, codes::BAD_REQUEST, "{e}"),
        // Within its size a field may still be refused for its content (an unknown
        // payloadType, or a known one whose payload does not fit); never for its size.
        Err(e) => assert!(
            e.code != codes::BAD_REQUEST || e.message.starts_with("invalid payload"),
            "{e}: {frame}"
        ),
    }
});
