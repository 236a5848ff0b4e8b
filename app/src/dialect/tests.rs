//! Every JSON example of seeds 000, 002 and 004 parses into the dialect types and
//! serializes back to an equal JSON value (the examples of 002 that are not JSON, such
//! as `"online" | "away"`, are expanded into each of their alternatives).

use super::*;
use crate::seeds::{json_blocks, SEED_000, SEED_002, SEED_004};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(text: &str) {
    let original: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let typed: T =
        serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(serde_json::to_value(&typed).ok(), Some(original), "{text}");
}

/// `"a" | "b"` and `true | false` alternatives of seed 002, one JSON text each.
fn alternatives(text: &str) -> Vec<String> {
    if let Some(start) = text.find("\"online\" | ") {
        let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
        return ["online", "away", "busy", "offline"]
            .iter()
            .map(|s| format!("{}\"{s}\"{}", &text[..start], &text[end..]))
            .collect();
    }
    if text.contains("true | false") {
        return vec![
            text.replace("true | false", "true"),
            text.replace("true | false", "false"),
        ];
    }
    vec![text.to_owned()]
}

#[test]
fn every_seed_000_example_round_trips() {
    let blocks = json_blocks(SEED_000);
    assert!(blocks.len() >= 17, "found {}", blocks.len());
    for (caption, text) in &blocks {
        match caption.as_str() {
            "### WsUserStatus" => round_trip::<workshop::UserStatus>(text),
            "### RoomInfo" => round_trip::<workshop::RoomInfo>(text),
            _ => round_trip::<workshop::Frame>(text),
        }
    }
}

#[test]
fn every_seed_002_example_round_trips() {
    let blocks = json_blocks(SEED_002);
    assert_eq!(blocks.len(), 7);
    for (caption, text) in &blocks {
        for text in alternatives(text) {
            let value: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            let from_client = caption.starts_with("Send")
                || caption.starts_with("Update")
                || caption.starts_with("Send typing");
            let is_client =
                from_client || value.get("data").is_none() && value["type"] != "connected";
            if is_client {
                round_trip::<workspace::ClientFrame>(&text);
            } else {
                round_trip::<workspace::ServerFrame>(&text);
            }
        }
    }
}

#[test]
fn every_seed_004_example_round_trips() {
    let blocks = json_blocks(SEED_004);
    assert_eq!(blocks.len(), 13);
    for (caption, text) in &blocks {
        let value: Value = serde_json::from_str(text).expect("json");
        let kind = value["type"].as_str().unwrap_or("");
        // Packets whose fields say they come from the server.
        let from_server = value.get("status").is_some()
            || value.get("author").is_some()
            || value.get("users").is_some()
            || matches!(kind, "broadcast" | "join" | "quit");
        if from_server {
            round_trip::<rwci::ServerPacket>(text);
        } else {
            round_trip::<rwci::ClientPacket>(text);
            assert!(rwci::ClientPacket::parse(text).is_ok(), "{caption}");
        }
    }
}

#[test]
fn rwci_drops_packets_without_a_known_type() {
    assert_eq!(
        rwci::ClientPacket::parse(r#"{"message":"old"}"#),
        Err(rwci::Drop::NoType)
    );
    assert_eq!(
        rwci::ClientPacket::parse(r#"{"type":"dance"}"#),
        Err(rwci::Drop::UnknownType)
    );
    assert_eq!(
        rwci::ClientPacket::parse(r#"{"type":"message"}"#),
        Err(rwci::Drop::BadFields)
    );
    assert_eq!(rwci::ClientPacket::parse("nope"), Err(rwci::Drop::NoType));
}
