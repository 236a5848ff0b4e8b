//! Floods from a misbehaving account must not hurt anyone else: every state-changing
//! request has a budget (rooms, memberships, status changes, on every protocol), every
//! string field of every request a documented maximum, and a flood of presence changes
//! reaches others at most about once a second, so it never fills their queues.

mod common;

use common::{Client, Server};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const QUIET: Duration = Duration::from_millis(400);

fn is_error(r: &Value, code: &str) -> bool {
    r["error"]["code"] == code
}

fn presence_of(user: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "event" && v["eventType"] == "presence" && v["payload"]["userId"] == user
}

// ───────────────────────────── presence ─────────────────────────────

/// Alice floods status changes as fast as her socket takes them while bob reads
/// nothing: bob's queue (32 items) must survive, he must be told only about once a
/// second, and the last thing he hears is alice's final status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_flood_never_closes_another_users_connection() {
    let server = Server::start_with(&[
        "--outbound-queue",
        "32",
        "--rate-limit",
        "1000000",
        "--status-limit",
        "1000000",
    ]);
    let mut bob = server.online("bob").await;
    let mut alice = server.online("alice").await;
    let started = Instant::now();

    const N: usize = 5000;
    let status = |i: usize| ["busy", "away"][i % 2];
    let mut answered = 0;
    for i in 0..N {
        alice
            .send(json!({"type":"request","id":format!("s{i}"),"timestamp":1,
                "payloadType":"setStatus","payload":{"status":status(i)}}))
            .await;
        // Read alice's answers as they come so that her own connection keeps up.
        while let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::ZERO, alice.ws.next()).await
        {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["type"] == "response" {
                assert!(v.get("error").is_none(), "{v}");
                answered += 1;
            }
        }
    }
    while answered < N {
        let v = alice.next().await;
        if v["type"] == "response" {
            assert!(v.get("error").is_none(), "{v}");
            answered += 1;
        }
    }
    // Bob has read nothing so far; give the server a moment more, then read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let last = status(N - 1);
    let mut seen = 0u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut final_seen = false;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame =
            match tokio::time::timeout(left.min(Duration::from_secs(3)), bob.ws.next()).await {
                Err(_) => break,
                Ok(None) => panic!("bob's connection ended"),
                Ok(Some(Err(e))) => panic!("bob's connection failed: {e}"),
                Ok(Some(Ok(Message::Close(c)))) => panic!("bob was closed: {c:?}"),
                Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).expect("json"),
                Ok(Some(Ok(_))) => continue,
            };
        if presence_of("alice")(&frame) {
            seen += 1;
            final_seen = frame["payload"]["status"] == last;
        }
        if final_seen && Instant::now() > deadline - Duration::from_secs(8) {
            // Wait a little longer for anything stray, then stop.
            bob.expect_none(Duration::from_millis(1500), presence_of("alice"))
                .await;
            break;
        }
    }
    assert!(final_seen, "bob never saw alice's final status {last}");
    let elapsed = started.elapsed().as_secs() + 2;
    assert!(
        seen <= elapsed,
        "bob got {seen} presence events for alice in about {elapsed} s"
    );
    // Bob's connection still works.
    let r = bob.request("listRooms", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
}

/// Reconnect flapping: a client that connects and disconnects in a loop is shown to
/// others about once a second, and ends as it really is (offline).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_flapping_is_coalesced_and_ends_offline() {
    let server = Server::start();
    let mut bob = server.online("bob").await;
    server.login("flapper").await; // registered once
    let started = Instant::now();
    for _ in 0..40 {
        let c = server.online("flapper").await;
        drop(c);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut events = 0u64;
    let mut last = Value::Null;
    loop {
        match tokio::time::timeout(Duration::from_millis(1500), bob.ws.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["type"] == "event"
                    && ["online", "offline", "presence"]
                        .contains(&v["eventType"].as_str().unwrap_or(""))
                    && v["payload"]["userId"] == "flapper"
                {
                    events += 1;
                    last = v;
                }
            }
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("bob's connection ended: {other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs() + 2;
    // Each announcement is at most online+presence or presence+offline.
    assert!(
        events <= 2 * elapsed,
        "bob got {events} presence events for 40 reconnects in {elapsed} s"
    );
    assert_eq!(last["eventType"], "offline", "{last}");
}

// ───────────────────────────── budgets ─────────────────────────────

#[tokio::test]
async fn creating_rooms_has_a_budget_of_its_own() {
    let server = Server::start_with(&["--room-limit", "3"]);
    let mut bob = server.online("bob").await;
    let mut alice = server.online("alice").await;
    for i in 0..3 {
        let r = alice
            .request("createRoom", json!({"name": format!("room{i}")}))
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }
    let over = alice
        .request("createRoom", json!({"name": "room-over"}))
        .await;
    assert!(is_error(&over, "rate_limited"), "{over}");
    let rooms = bob.request("listRooms", json!({})).await;
    assert!(
        !rooms.to_string().contains("room-over"),
        "the refused room exists: {rooms}"
    );
    bob.expect_none(QUIET, |v| v.to_string().contains("room-over"))
        .await;
    // Messages are a separate budget: still fine.
    let r = alice
        .request("new", json!({"chatId":"#General","message":"still here"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn joining_and_leaving_rooms_has_a_budget_of_its_own() {
    let server = Server::start_with(&["--membership-limit", "4"]);
    let mut bob = server.online("bob").await;
    bob.request("createRoom", json!({"name": "Den"})).await;
    let mut alice = server.online("alice").await;
    for kind in ["joinRoom", "leaveRoom", "joinRoom", "leaveRoom"] {
        let r = alice.request(kind, json!({"chatId":"#Den"})).await;
        assert!(r.get("error").is_none(), "{kind}: {r}");
    }
    let over = alice.request("joinRoom", json!({"chatId":"#Den"})).await;
    assert!(is_error(&over, "rate_limited"), "{over}");
    let members = bob.request("getMembers", json!({"chatId":"#Den"})).await;
    assert_eq!(
        members["payload"]["members"],
        json!([{"userId":"bob","status":"online"}]),
        "alice is not a member after a refused join"
    );
    // Four memberships were shown to bob; the refused fifth is not.
    let mut joins = 0;
    while let Ok(v) = tokio::time::timeout(
        QUIET,
        bob.next_where(|v| {
            v["type"] == "event"
                && (v["eventType"] == "join" || v["eventType"] == "leave")
                && v["payload"]["chatId"] == "#Den"
        }),
    )
    .await
    {
        assert_eq!(v["payload"]["userId"], "alice", "{v}");
        joins += 1;
    }
    assert_eq!(joins, 4);
}

#[tokio::test]
async fn status_changes_have_a_budget_on_every_protocol() {
    let server = Server::start_with(&["--status-limit", "3"]);
    let mut bob = server.online("bob").await;
    let mut alice = server.online("alice").await;
    for status in ["busy", "away", "busy"] {
        let r = alice.request("setStatus", json!({"status": status})).await;
        assert!(r.get("error").is_none(), "{r}");
    }
    let over = alice.request("setStatus", json!({"status":"online"})).await;
    assert!(is_error(&over, "rate_limited"), "{over}");
    // Bob ends up seeing busy, never the refused online.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let users = bob.request("listUsers", json!({})).await;
    assert!(
        users["payload"]["users"]
            .as_array()
            .is_some_and(|u| u.contains(&json!({"userId":"alice","status":"busy"}))),
        "{users}"
    );
    let mut last = Value::Null;
    while let Ok(v) = tokio::time::timeout(QUIET, bob.next_where(presence_of("alice"))).await {
        last = v;
    }
    assert_eq!(last["payload"]["status"], "busy", "{last}");

    // Workspace's presence:update counts against the same budget.
    let mut guest = Client::connect(&server.url("/ws/workspace?username=wsguest")).await;
    assert_eq!(guest.next().await["type"], "connected");
    for status in ["busy", "away", "busy"] {
        guest
            .send(json!({"type":"presence:update","status":status}))
            .await;
    }
    guest
        .send(json!({"type":"presence:update","status":"online"}))
        .await;
    let e = guest.next_where(|v| v["type"] == "error").await;
    assert_eq!(e["code"], "rate_limited", "{e}");
}

#[tokio::test]
async fn workshop_rooms_and_switches_have_budgets() {
    let server = Server::start_with(&["--room-limit", "1", "--membership-limit", "2"]);
    let mut w = Client::connect(&server.url("/ws/workshop")).await;
    w.send(json!({"event_type":"connection_request","username":"wally"}))
        .await;
    assert_eq!(w.next().await["event_type"], "connection_response");
    w.send(json!({"event_type":"room_create","room":{"room_name":"Shed"}}))
        .await;
    w.next_where(|v| v["event_type"] == "room_create").await;
    w.send(json!({"event_type":"room_create","room":{"room_name":"Barn"}}))
        .await;
    let reject = w
        .next_where(|v| v["event_type"] == "room_create_reject")
        .await;
    assert!(
        reject["response"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("at most"),
        "{reject}"
    );
    for room in ["Shed", "General"] {
        w.send(json!({"event_type":"room_switch_request","room_name":room}))
            .await;
        w.next_where(|v| v["event_type"] == "room_switch_response")
            .await;
    }
    w.send(json!({"event_type":"room_switch_request","room_name":"Shed"}))
        .await;
    let reject = w
        .next_where(|v| v["event_type"] == "room_switch_reject")
        .await;
    assert!(
        reject["response"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("at most"),
        "{reject}"
    );
}

// ───────────────────────────── field sizes ─────────────────────────────

/// For each native request with a string field, that field one byte over its maximum
/// is refused with `bad_request`, and nothing happens.
#[tokio::test]
async fn every_oversized_native_field_is_refused_and_changes_nothing() {
    let server = Server::start();
    let mut bob = server.online("bob").await;
    let mut alice = server.online("alice").await;
    let sent = alice
        .request("new", json!({"chatId":"#General","message":"hello"}))
        .await;
    let mid = sent["payload"]["messageId"].as_u64().expect("id");
    let hello = bob.next_where(|v| v["eventType"] == "new").await;
    let after = hello["id"].as_u64().expect("event id");

    let long = |n: usize| "x".repeat(n);
    let long_room = format!("#{}", long(65));
    let cases: Vec<(&str, Value)> = vec![
        (
            "new",
            json!({"chatId":"#General","message":"hi","clientMessageId":long(129)}),
        ),
        ("new", json!({"chatId":long_room,"message":"hi"})),
        (
            "new",
            json!({"chatId":"#General","message":long(16 * 1024 + 1)}),
        ),
        (
            "edit",
            json!({"chatId":"#General","messageId":mid,"message":long(16 * 1024 + 1)}),
        ),
        (
            "edit",
            json!({"chatId":long_room,"messageId":mid,"message":"changed"}),
        ),
        (
            "delete",
            json!({"chatId":"#General","messageId":mid,"clientMessageId":long(129)}),
        ),
        ("delete", json!({"chatId":long_room,"messageId":mid})),
        ("read", json!({"chatId":long_room})),
        ("dlvrd", json!({"chatId":long_room})),
        ("getMessages", json!({"chatId":long_room,"count":10})),
        ("getMessage", json!({"chatId":long_room,"messageId":mid})),
        ("getChat", json!({"chatId":long_room})),
        ("createRoom", json!({"name":long(65)})),
        ("joinRoom", json!({"chatId":long_room})),
        ("leaveRoom", json!({"chatId":long_room})),
        ("getMembers", json!({"chatId":long_room})),
        ("getReceipts", json!({"chatId":long_room})),
        ("clearRoom", json!({"chatId":long_room})),
        ("setStatus", json!({"status":long(1000)})),
        ("subscribe", json!({"lastEventId":long(100)})),
    ];
    for (kind, payload) in cases {
        let r = alice.request(kind, payload.clone()).await;
        assert!(is_error(&r, "bad_request"), "{kind} {payload}: {r}");
    }
    // A request id over 64 bytes: refused, the message is not posted.
    alice
        .send(
            json!({"type":"request","id":long(65),"timestamp":1,"payloadType":"new",
            "payload":{"chatId":"#General","message":"with a long id"}}),
        )
        .await;
    let r = alice.next_where(|v| v["type"] == "response").await;
    assert!(is_error(&r, "bad_request"), "{r}");
    // A payloadType over 32 bytes is refused without being echoed.
    let r = alice.request(&long(33), json!({})).await;
    assert!(is_error(&r, "bad_request"), "{r}");
    assert!(!r.to_string().contains(&long(33)), "echoed: {r}");

    // Nothing reached bob, and the message is unchanged.
    bob.expect_none(QUIET, |v| {
        v["type"] == "event" && v["id"].as_u64().is_some_and(|id| id > after)
    })
    .await;
    let page = bob
        .request("getMessages", json!({"chatId":"#General","count":10}))
        .await;
    let items = page["payload"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["message"], "hello");
    assert_ne!(items[0]["deleted"], true, "{page}");
}

#[tokio::test]
async fn oversized_login_fields_are_refused() {
    let server = Server::start();
    let long = |n: usize| "x".repeat(n);
    for payload in [
        json!({"username": long(33), "password": "password-1"}),
        json!({"username": "alice", "password": long(1025)}),
        json!({"username": "alice", "token": long(129)}),
    ] {
        let mut c = server.client().await;
        let r = c.request("auth", payload.clone()).await;
        assert!(is_error(&r, "bad_request"), "{payload}: {r}");
    }
    // None of them registered alice: her first real login registers her.
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username":"alice","password":"pw-alice"}))
        .await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
}
