//! Mentions (`@name`, `@room`) and the notification level per chat (`setNotify`),
//! issue 12: carried on the message live, in history and in the replay (after a
//! reconnect and after kill -9), erased with it; `@room` only from the room's creator;
//! levels stored per member, listed with the chats, told to the user's other sessions,
//! kept across reconnects and restarts; hostile input refused.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::time::Duration;

/// `alice` creates `#Club`, `bob` joins it; both subscribed.
async fn club(server: &Server) -> (Client, Client) {
    let mut alice = server.online("alice").await;
    let r = alice.request("createRoom", json!({"name": "Club"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let mut bob = server.online("bob").await;
    let r = bob.request("joinRoom", json!({"chatId": "#Club"})).await;
    assert!(r.get("error").is_none(), "{r}");
    (alice, bob)
}

async fn send(c: &mut Client, chat: &str, text: &str) -> Value {
    c.request("new", json!({"chatId": chat, "message": text}))
        .await
}

fn new_with(text: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["eventType"] == "new" && v["payload"]["message"] == text
}

#[tokio::test]
async fn mentions_of_members_are_carried_live_in_history_and_in_the_replay() {
    let mut server = Server::start();
    let (mut alice, mut bob) = club(&server).await;
    let text = "@Bob and @carol, see @bob. mail bob@example.org";
    let r = send(&mut alice, "#Club", text).await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    // Live: bob is a member (named in his own case), carol is not one: no mention.
    let live = bob.next_where(new_with(text)).await;
    assert_eq!(live["payload"]["mentions"], json!(["bob"]), "{live}");
    assert!(live["payload"].get("mentionsRoom").is_none(), "{live}");
    // History.
    let page = bob
        .request("getMessages", json!({"chatId": "#Club", "count": 10}))
        .await;
    let item = page["payload"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["messageId"] == id))
        .cloned()
        .expect("the message in history");
    assert_eq!(item["mentions"], json!(["bob"]), "{item}");
    // Replay after a reconnect.
    let mut again = server.login("bob").await;
    let r = again.request("subscribe", json!({"lastEventId": 0})).await;
    assert!(r.get("error").is_none(), "{r}");
    let replayed = again.next_where(new_with(text)).await;
    assert_eq!(replayed["payload"]["mentions"], json!(["bob"]));
    // Replay after kill -9.
    drop((alice, bob, again));
    server.crash_and_restart();
    let mut after = server.login("bob").await;
    after.request("subscribe", json!({"lastEventId": 0})).await;
    let replayed = after.next_where(new_with(text)).await;
    assert_eq!(replayed["payload"]["mentions"], json!(["bob"]));
}

#[tokio::test]
async fn at_room_is_refused_to_a_member_and_carried_for_the_creator() {
    let server = Server::start();
    let (mut alice, mut bob) = club(&server).await;
    let r = send(&mut bob, "#Club", "@room free pizza").await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    alice
        .expect_none(Duration::from_millis(300), new_with("@room free pizza"))
        .await;
    let r = send(&mut alice, "#Club", "@room meeting at 8").await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = bob.next_where(new_with("@room meeting at 8")).await;
    assert_eq!(ev["payload"]["mentionsRoom"], true, "{ev}");
    // In a direct chat `@room` is plain text: allowed, and no room mention.
    let r = send(&mut bob, "alice", "@room? @alice").await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = alice.next_where(new_with("@room? @alice")).await;
    assert!(ev["payload"].get("mentionsRoom").is_none(), "{ev}");
    assert_eq!(ev["payload"]["mentions"], json!(["alice"]), "{ev}");
    // General has no creator: only the server's owner (alice, the first account) and
    // admins may page it.
    let r = send(&mut bob, "#General", "@room hello all").await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = send(&mut alice, "#General", "@room hello all").await;
    assert!(r.get("error").is_none(), "the owner pages General: {r}");
}

#[tokio::test]
async fn a_deleted_message_keeps_no_mentions_in_history_or_replay() {
    let server = Server::start();
    let (mut alice, _bob) = club(&server).await;
    let r = send(&mut alice, "#Club", "@bob secret").await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    let r = alice
        .request("delete", json!({"chatId": "#Club", "messageId": id}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let got = alice
        .request("getMessage", json!({"chatId": "#Club", "messageId": id}))
        .await;
    assert!(got["payload"].get("mentions").is_none(), "{got}");
    let mut again = server.login("bob").await;
    let r = again.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().unwrap_or(0);
    for _ in 0..missed {
        let ev = again.next_logged().await;
        assert!(ev["payload"].get("mentions").is_none(), "{ev}");
    }
}

async fn chats(c: &mut Client) -> Vec<Value> {
    let r = c.request("getChats", json!({})).await;
    r["payload"]["chats"].as_array().cloned().expect("chats")
}

fn level_of(chats: &[Value], chat: &str) -> Value {
    chats
        .iter()
        .find(|c| c["chatId"] == chat)
        .map(|c| c["notify"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn set_notify_is_stored_listed_echoed_and_kept() {
    let mut server = Server::start();
    let (mut alice, _bob) = club(&server).await;
    let mut other = server.online("alice").await;
    // Defaults: every chat at `all`.
    let list = chats(&mut alice).await;
    assert_eq!(level_of(&list, "#Club"), "all");
    assert_eq!(level_of(&list, "#General"), "all");
    let r = alice
        .request("setNotify", json!({"chatId": "#club", "level": "mentions"}))
        .await;
    assert_eq!(
        r["payload"],
        json!({"chatId": "#Club", "level": "mentions"}),
        "{r}"
    );
    let ev = other.event("notify").await;
    assert_eq!(
        ev["payload"],
        json!({"chatId": "#Club", "level": "mentions"})
    );
    alice
        .expect_none(Duration::from_millis(200), |v| v["eventType"] == "notify")
        .await;
    let r = alice
        .request("setNotify", json!({"chatId": "bob", "level": "none"}))
        .await;
    assert!(
        r.get("error").is_none(),
        "a direct chat without messages yet: {r}"
    );
    let r = alice.request("getChat", json!({"chatId": "#Club"})).await;
    assert_eq!(r["payload"]["notify"], "mentions", "{r}");
    // Survives a reconnect and a restart.
    drop((alice, other));
    let mut again = server.login("alice").await;
    assert_eq!(level_of(&chats(&mut again).await, "#Club"), "mentions");
    drop(again);
    server.crash_and_restart();
    let mut after = server.login("alice").await;
    assert_eq!(level_of(&chats(&mut after).await, "#Club"), "mentions");
    assert_eq!(level_of(&chats(&mut after).await, "#General"), "all");
    // Back to `all`.
    let r = after
        .request("setNotify", json!({"chatId": "#Club", "level": "all"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(level_of(&chats(&mut after).await, "#Club"), "all");
}

#[tokio::test]
async fn set_notify_refuses_bad_levels_unknown_chats_and_oversize_names() {
    let server = Server::start();
    let (_alice, mut bob) = club(&server).await;
    let mut carol = server.online("carol").await;
    for (payload, code) in [
        (json!({"chatId": "#Club", "level": "loud"}), "bad_request"),
        (json!({"chatId": "#Club", "level": 3}), "bad_request"),
        (json!({"chatId": "#Club"}), "bad_request"),
        (json!({"chatId": "#Nowhere", "level": "none"}), "not_found"),
        (
            json!({"chatId": format!("#{}", "x".repeat(5000)), "level": "none"}),
            "bad_request",
        ),
        (
            json!({"chatId": "a".repeat(100), "level": "none"}),
            "bad_request",
        ),
    ] {
        let r = bob.request("setNotify", payload.clone()).await;
        assert_eq!(r["error"]["code"], code, "{payload}: {r}");
    }
    // Not a member of the room.
    let r = carol
        .request("setNotify", json!({"chatId": "#Club", "level": "none"}))
        .await;
    assert!(r.get("error").is_some(), "{r}");
    assert_eq!(
        level_of(&chats(&mut bob).await, "#Club"),
        "all",
        "nothing stored"
    );
}
