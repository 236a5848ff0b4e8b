//! Pinned messages over real WebSockets: a pin reaches the chat's other members with
//! who pinned, `getPins` lists the pinned messages newest pin first, a pin is set once,
//! replays after a reconnect and after `kill -9`, goes when its message is deleted or
//! its room cleared (from the list, the log and the database file), and is refused past
//! the chat's limit, on nothing, or in someone else's chat.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(400);

async fn post(c: &mut Client, chat: &str, text: &str) -> u64 {
    let r = c
        .request("new", json!({"chatId": chat, "message": text}))
        .await;
    r["payload"]["messageId"].as_u64().expect("messageId")
}

async fn pin(c: &mut Client, chat: &str, id: u64, pinned: bool) -> Value {
    c.request(
        "pin",
        json!({"chatId": chat, "messageId": id, "pinned": pinned}),
    )
    .await
}

fn ok(r: &Value) {
    assert!(r.get("error").is_none(), "refused: {r}");
}

fn refused(r: &Value, code: &str) {
    assert_eq!(r["error"]["code"], code, "{r}");
}

fn is_pin(v: &Value) -> bool {
    v["type"] == "event" && v["eventType"] == "pin"
}

/// The pinned message ids of a chat, newest pin first, and the whole answer.
async fn pins(c: &mut Client, chat: &str) -> (Vec<u64>, Value) {
    let r = c.request("getPins", json!({ "chatId": chat })).await;
    ok(&r);
    let ids = r["payload"]["pins"]
        .as_array()
        .expect("pins")
        .iter()
        .map(|p| p["message"]["messageId"].as_u64().expect("id"))
        .collect();
    (ids, r["payload"].clone())
}

#[tokio::test]
async fn a_pin_reaches_the_chat_and_the_list_shows_the_newest_pin_first() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let first = post(&mut alice, "#General", "boiler manual: page 12").await;
    let second = post(&mut alice, "#General", "meeting on Friday").await;

    ok(&pin(&mut bob, "#General", first, true).await);
    let ev = alice.next_where(is_pin).await;
    assert!(ev["id"].as_u64().is_some(), "{ev}");
    assert_eq!(
        ev["payload"],
        json!({"chatId":"#General","messageId":first,"userId":"bob","pinned":true})
    );
    ok(&pin(&mut alice, "#General", second, true).await);
    let (ids, list) = pins(&mut bob, "#General").await;
    assert_eq!(ids, [second, first]);
    let top = &list["pins"][0];
    assert_eq!(top["pinnedBy"], "alice");
    assert!(top["pinnedAt"].as_i64().is_some_and(|t| t > 0), "{top}");
    assert_eq!(top["message"]["message"], "meeting on Friday");
    assert_eq!(top["message"]["sender"], "alice");
    assert_eq!(list["pins"][1]["pinnedBy"], "bob");

    // Pinned once: again changes nothing and tells nobody.
    ok(&pin(&mut bob, "#General", first, true).await);
    alice.expect_none(QUIET, is_pin).await;
    // Unpinned by anyone in the chat.
    ok(&pin(&mut bob, "#General", second, false).await);
    let off = alice.next_where(is_pin).await;
    assert_eq!(off["payload"]["pinned"], false);
    assert_eq!(off["payload"]["userId"], "bob");
    assert_eq!(pins(&mut alice, "#General").await.0, [first]);
    ok(&pin(&mut bob, "#General", second, false).await);
    alice.expect_none(QUIET, is_pin).await;
}

/// A new connection of `name` subscribing from `after`: its replayed pin events.
async fn replayed_pins(server: &Server, name: &str, after: u64) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c
        .request("subscribe", json!({ "lastEventId": after }))
        .await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut out = Vec::new();
    for _ in 0..missed {
        let ev = c.next_logged().await;
        if is_pin(&ev) {
            out.push(ev["payload"].clone());
        }
    }
    out
}

#[tokio::test]
async fn pins_replay_after_a_reconnect_and_after_kill_9() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "pin me").await;
    let last = bob.next_where(|v| v["eventType"] == "new").await["id"]
        .as_u64()
        .expect("id");
    drop(bob);
    ok(&pin(&mut alice, "#General", id, true).await);
    let expected = vec![json!({"chatId":"#General","messageId":id,"userId":"alice","pinned":true})];
    assert_eq!(replayed_pins(&server, "bob", last).await, expected);
    drop(alice);
    server.crash_and_restart();
    assert_eq!(replayed_pins(&server, "bob", last).await, expected);
    let mut bob = server.online("bob").await;
    assert_eq!(pins(&mut bob, "#General").await.0, [id]);
}

fn db_holds(server: &Server, needle: &str) -> bool {
    ["parlor.db", "parlor.db-wal"].iter().any(|name| {
        std::fs::read(server.data.join(name))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

#[tokio::test]
async fn a_deleted_message_or_a_cleared_room_is_unpinned_everywhere() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "soon gone").await;
    let kept = post(&mut alice, "#General", "stays").await;
    ok(&pin(&mut bob, "#General", id, true).await);
    ok(&pin(&mut bob, "#General", kept, true).await);
    ok(&alice
        .request("delete", json!({"chatId":"#General","messageId":id}))
        .await);
    assert_eq!(pins(&mut bob, "#General").await.0, [kept]);
    let replay = replayed_pins(&server, "bob", 0).await;
    assert!(
        replay.iter().all(|p| p["messageId"] != id),
        "the deleted message's pin left the log: {replay:?}"
    );
    refused(&pin(&mut bob, "#General", id, true).await, "not_found");

    // A cleared room keeps no pin, in the list, the log or (after kill -9) the file.
    ok(&alice.request("createRoom", json!({"name":"Den"})).await);
    let den = post(&mut alice, "#Den", "den rules").await;
    ok(&pin(&mut alice, "#Den", den, true).await);
    ok(&alice.request("clearRoom", json!({"chatId":"#Den"})).await);
    assert!(pins(&mut alice, "#Den").await.0.is_empty());
    drop((alice, bob));
    server.crash_and_restart();
    assert!(!db_holds(&server, "den rules"));
    let mut alice = server.online("alice").await;
    assert!(pins(&mut alice, "#Den").await.0.is_empty());
    assert!(replayed_pins(&server, "alice", 0)
        .await
        .iter()
        .all(|p| p["chatId"] != "#Den"));
}

#[tokio::test]
async fn pins_past_the_limit_unknown_messages_and_strangers_are_refused() {
    let server = Server::start_with(&["--max-pins", "2", "--reaction-limit", "6"]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(post(&mut alice, "#General", &format!("m{i}")).await);
    }
    ok(&pin(&mut alice, "#General", ids[0], true).await);
    ok(&pin(&mut alice, "#General", ids[1], true).await);
    let r = pin(&mut alice, "#General", ids[2], true).await;
    refused(&r, "conflict");
    assert!(
        r["error"]["message"].as_str().unwrap_or("").contains('2'),
        "{r}"
    );
    refused(&pin(&mut bob, "#General", 999_999, true).await, "not_found");
    ok(&alice.request("createRoom", json!({"name":"Den"})).await);
    let den = post(&mut alice, "#Den", "members only").await;
    refused(&pin(&mut bob, "#Den", den, true).await, "forbidden");
    let r = bob.request("getPins", json!({"chatId":"#Den"})).await;
    refused(&r, "forbidden");
    // The budget of reactions and pins: alice spent 3 (one refused by the limit).
    for _ in 0..3 {
        ok(&pin(&mut alice, "#General", ids[0], true).await);
    }
    refused(
        &pin(&mut alice, "#General", ids[0], true).await,
        "rate_limited",
    );
    // bob saw the two pins that were set, and nothing of the refused ones.
    for id in &ids[..2] {
        assert_eq!(bob.next_where(is_pin).await["payload"]["messageId"], *id);
    }
    bob.expect_none(QUIET, is_pin).await;
}
