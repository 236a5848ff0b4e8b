//! Every JSON example of seeds 001 and 003 parses into the wire types and serializes
//! back to an equal JSON value.

use super::*;
use serde_json::{json, Value};

use crate::seeds::{json_blocks, SEED_001, SEED_003};

fn round_trip_client(text: &str) {
    let original: Value = serde_json::from_str(text).expect("seed JSON is valid");
    let frame = ClientFrame::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let back = serde_json::to_value(&frame).expect("serializes");
    assert_eq!(back, original, "client frame round trip");
}

fn round_trip_server(text: &str) {
    let original: Value = serde_json::from_str(text).expect("seed JSON is valid");
    let frame = ServerFrame::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let back = serde_json::to_value(&frame).expect("serializes");
    assert_eq!(back, original, "server frame round trip");
    // Typed payloads of responses, where the seed shows one.
    if let ServerFrame::Response(r) = &frame {
        match r.payload_type.as_deref() {
            Some("read") => {
                let read: ReadOk = r.payload_as().expect("read payload");
                assert_eq!(Some(serde_json::to_value(read).ok()), r.payload_as().ok());
            }
            _ if r
                .payload_as::<Value>()
                .is_ok_and(|p| p.get("messageId").is_some()) =>
            {
                let ok: NewOk = r.payload_as().expect("new payload");
                assert_eq!(Some(serde_json::to_value(ok).ok()), r.payload_as().ok());
            }
            _ => {}
        }
    }
}

#[test]
fn every_seed_003_example_round_trips() {
    let blocks = json_blocks(SEED_003);
    assert!(blocks.len() >= 20, "found {} examples", blocks.len());
    let (mut client, mut server) = (0, 0);
    for (caption, text) in &blocks {
        if caption.to_lowercase().contains("to server") {
            round_trip_client(text);
            client += 1;
        } else {
            round_trip_server(text);
            server += 1;
        }
    }
    assert!(
        client >= 9 && server >= 12,
        "client {client}, server {server}"
    );
}

#[test]
fn seed_003_examples_parse_into_the_expected_kinds() {
    let blocks = json_blocks(SEED_003);
    let new = blocks
        .iter()
        .find(|(c, _)| c.starts_with("User1 to server: User1 sends a message"))
        .expect("the new request");
    match ClientFrame::parse(&new.1) {
        Ok(ClientFrame::Request(Request {
            body: RequestBody::New(n),
            ..
        })) => {
            assert_eq!(n.chat_id, "User2");
            assert_eq!(n.attachments.len(), 1);
            assert_eq!(n.attachments[0].meta.width, Some(1024));
        }
        other => panic!("not a new request: {other:?}"),
    }
    let event = blocks
        .iter()
        .find(|(c, _)| c.starts_with("Server to User2: New Message Event"))
        .expect("the new event");
    match ServerFrame::parse(&event.1) {
        Ok(ServerFrame::Event(Event {
            id: Some(1),
            body: EventBody::New(m),
            ..
        })) => {
            assert_eq!(m.message_id, 125);
            assert_eq!(m.missed, 1);
        }
        other => panic!("not a new event: {other:?}"),
    }
}

#[test]
fn seed_001_table_examples_parse() {
    assert!(SEED_001.contains(r#"`{"chatId":"User2","message":"Hi from User1!"}`"#));
    let new: NewRequest =
        serde_json::from_str(r#"{"chatId":"User2","message":"Hi from User1!"}"#).expect("new");
    assert_eq!(new.chat_id, "User2");
    assert_eq!(
        serde_json::to_value(&new).ok(),
        Some(json!({"chatId":"User2","message":"Hi from User1!"}))
    );
    assert!(SEED_001.contains(r#"`{"messageId":5}`"#));
    let ok: NewOk = serde_json::from_str(r#"{"messageId":5}"#).expect("response");
    assert_eq!(serde_json::to_value(ok).ok(), Some(json!({"messageId":5})));
    assert!(SEED_001.contains(r#"`{"userId": "User2"}`"#));
    let user: UserRef = serde_json::from_str(r#"{"userId": "User2"}"#).expect("event");
    assert_eq!(
        serde_json::to_value(user).ok(),
        Some(json!({"userId":"User2"}))
    );
}

#[test]
fn a_bad_request_reports_its_id() {
    let err =
        ClientFrame::parse(r#"{"type":"request","id":"7","payloadType":"nope","payload":{}}"#)
            .expect_err("unknown type");
    assert_eq!(err.id.as_deref(), Some("7"));
    assert_eq!(err.code, codes::UNKNOWN_TYPE);

    let err = ClientFrame::parse(
        r#"{"type":"request","id":"8","payloadType":"new","payload":{"message":1}}"#,
    )
    .expect_err("bad payload");
    assert_eq!(err.id.as_deref(), Some("8"));
    assert_eq!(err.code, codes::BAD_REQUEST);

    let err = ClientFrame::parse("not json").expect_err("not json");
    assert_eq!(err.id, None);
    let err = ClientFrame::parse(r#"{"id":"9"}"#).expect_err("no type");
    assert_eq!(err.code, codes::BAD_REQUEST);
}

#[test]
fn payloadless_requests_accept_a_missing_payload() {
    let frame = ClientFrame::parse(r#"{"type":"request","id":"1","payloadType":"listRooms"}"#);
    assert!(matches!(
        frame,
        Ok(ClientFrame::Request(Request {
            body: RequestBody::ListRooms(_),
            ..
        }))
    ));
}

#[test]
fn names_follow_the_contract() {
    assert!(validate_username("alice.b-c_9").is_ok());
    assert!(validate_username("").is_err());
    assert!(validate_username("#general").is_err());
    assert!(validate_username(&"a".repeat(33)).is_err());
    assert_eq!(
        ChatRef::parse("#General"),
        Ok(ChatRef::Room("General".into()))
    );
    assert_eq!(ChatRef::parse("bob"), Ok(ChatRef::Direct("bob".into())));
    assert!(ChatRef::parse("#").is_err());
    assert!(ChatRef::parse("#a\u{7}b").is_err());
}

#[test]
fn missed_is_the_last_field_of_a_new_event() {
    let frame = ServerFrame::Event(Event {
        id: Some(3),
        timestamp: 1,
        body: EventBody::New(MessageEvent {
            chat_id: "#General".into(),
            message_id: 9,
            client_message_id: None,
            sender: Some("alice".into()),
            message: "hi".into(),
            attachments: vec![],
            created_at: Some(1),
            reply_to: Some(ReplyQuote::of(7, "bob", "first\nsecond")),
            mentions: vec!["bob".into()],
            mentions_room: true,
            missed: 0,
        }),
    });
    assert!(
        frame
            .to_json()
            .ends_with(r#""mentions":["bob"],"mentionsRoom":true,"missed":0}}"#),
        "{}",
        frame.to_json()
    );
}

#[test]
fn a_field_over_its_maximum_is_a_bad_request_at_parse_time() {
    let request = |kind: &str, payload: Value| {
        json!({"type":"request","id":"r1","timestamp":1,"payloadType":kind,"payload":payload})
            .to_string()
    };
    let long = |n: usize| "é".repeat(n);
    let refused = [
        request("createRoom", json!({"name": long(MAX_ROOM_NAME_CHARS + 1)})),
        request(
            "joinRoom",
            json!({"chatId": "#".to_owned() + &"x".repeat(MAX_CHAT_ID_BYTES)}),
        ),
        request(
            "auth",
            json!({"username": long(MAX_USERNAME_CHARS + 1), "password": "p"}),
        ),
        request(
            "auth",
            json!({"username": "a", "token": "t".repeat(MAX_TOKEN_BYTES + 1)}),
        ),
        request(
            "delete",
            json!({"chatId":"#General","messageId":1,
                "clientMessageId": "c".repeat(MAX_CLIENT_MESSAGE_ID + 1)}),
        ),
    ];
    for text in refused {
        let e = ClientFrame::parse(&text).expect_err(&text);
        assert_eq!((e.code, e.id.as_deref()), (codes::BAD_REQUEST, Some("r1")));
    }
    // At the maximum (counted in characters where the rule says so): accepted.
    assert!(ClientFrame::parse(&request(
        "createRoom",
        json!({"name": long(MAX_ROOM_NAME_CHARS)})
    ))
    .is_ok());
    // An id over its maximum is answered with an empty one; a long payloadType is not
    // echoed back.
    let e = ClientFrame::parse(
        &json!({"type":"request","id":"i".repeat(MAX_REQUEST_ID + 1),"payloadType":"listRooms"})
            .to_string(),
    )
    .expect_err("long id");
    assert_eq!(e.id.as_deref(), Some(""));
    let kind = "k".repeat(MAX_TYPE_NAME + 1);
    let e = ClientFrame::parse(&request(&kind, json!({}))).expect_err("long type");
    assert_eq!(e.code, codes::BAD_REQUEST);
    assert!(!e.message.contains(&kind));
}

#[test]
fn the_session_requests_parse_and_round_trip() {
    let change = r#"{"type":"request","id":"r22","timestamp":1,"payloadType":"changePassword","payload":{"oldPassword":"correct horse","newPassword":"battery staple 42"}}"#;
    round_trip_client(change);
    let Ok(ClientFrame::Request(request)) = ClientFrame::parse(change) else {
        panic!("a request");
    };
    assert_eq!(
        request.body,
        RequestBody::ChangePassword(ChangePasswordRequest {
            old_password: "correct horse".into(),
            new_password: "battery staple 42".into(),
        })
    );
    let everywhere =
        r#"{"type":"request","id":"r21","timestamp":1,"payloadType":"logoutEverywhere"}"#;
    let Ok(ClientFrame::Request(request)) = ClientFrame::parse(everywhere) else {
        panic!("a request");
    };
    assert_eq!(request.body, RequestBody::LogoutEverywhere(Empty {}));
    let ok: ChangePasswordOk =
        serde_json::from_value(json!({"token": "ab"})).expect("the answer parses");
    assert_eq!(ok.token, "ab");
}

/// Every event example in docs/protocol.md reads as an event of a known type and
/// writes back to the same JSON: the hand-written reader (`EventBody::from_parts`)
/// and the derived writer agree on every `eventType`.
#[test]
fn every_documented_event_reads_and_writes_back() {
    let doc = include_str!("../../../docs/protocol.md");
    let mut seen = std::collections::BTreeSet::new();
    for block in doc.split("```json").skip(1) {
        let Some((json, _)) = block.split_once("```") else {
            continue;
        };
        let Ok(original) = serde_json::from_str::<Value>(json) else {
            continue;
        };
        // Server events always carry a payload; the client's own (`offline`, `idle`, …)
        // have none.
        if original["type"] != "event"
            || original.get("eventType").is_none()
            || original.get("payload").is_none()
        {
            continue;
        }
        let frame = ServerFrame::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        let back = serde_json::to_value(&frame).expect("serializes");
        assert_eq!(back, original, "round trip of {json}");
        seen.insert(
            original["eventType"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(seen.len(), 20, "every event type has an example: {seen:?}");
    assert!(ServerFrame::parse(
        r#"{"type":"event","timestamp":1,"eventType":"nope","payload":{}}"#
    )
    .is_err());
}
