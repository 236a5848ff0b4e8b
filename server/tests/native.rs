//! The native protocol (`/ws`) against a real server over real WebSockets.

mod common;

use common::{Closed, Server};
use serde_json::{json, Value};
use std::time::Duration;

/// Asserts that every field of `expected` is in `actual` with the same value.
fn assert_subset(actual: &Value, expected: &Value) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, v) in e {
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("missing field {k:?} in {actual}"));
                assert_subset(got, v);
            }
        }
        _ => assert_eq!(actual, expected),
    }
}

#[tokio::test]
async fn auth_registers_on_first_login_then_logs_in() {
    let server = Server::start();
    let mut a = server.client().await;
    let r = a
        .request(
            "auth",
            json!({"username": "alice", "password": "s3cret-password"}),
        )
        .await;
    assert_subset(
        &r,
        &json!({"type": "response", "payload": {"userId": "alice", "registered": true}}),
    );
    assert!(r["timestamp"].as_i64().unwrap_or(0) > 1_600_000_000_000);

    let mut again = server.client().await;
    let r = again
        .request(
            "auth",
            json!({"username": "ALICE", "password": "s3cret-password"}),
        )
        .await;
    assert_subset(
        &r,
        &json!({"payload": {"userId": "alice", "registered": false}}),
    );
}

#[tokio::test]
async fn wrong_password_is_answered_then_closed() {
    let server = Server::start();
    server.login("alice").await;
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": "alice", "password": "wrong"}))
        .await;
    assert_eq!(r["error"]["code"], "auth_failed");
    assert!(matches!(
        c.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
}

#[tokio::test]
async fn requests_before_auth_are_refused_and_the_connection_stays() {
    let server = Server::start();
    let mut c = server.client().await;
    let r = c
        .request("new", json!({"chatId": "#General", "message": "hi"}))
        .await;
    assert_eq!(r["error"]["code"], "unauthorized");
    let r = c
        .request("auth", json!({"username": "bob", "password": "password"}))
        .await;
    assert_eq!(r["payload"]["userId"], "bob");
}

#[tokio::test]
async fn seed_003_full_cycle() {
    let server = Server::start();
    let mut u1 = server.online("User1").await;
    let mut u2 = server.online("User2").await;

    // typing, verbatim from the seed
    u1.send_text(r#"{"type":"event","timestamp":1700500000000,"payloadType":"typing","payload":{"chatId":"User2"}}"#)
        .await;
    let typing = u2.event("typing").await;
    assert_subset(
        &typing,
        &json!({"type": "event", "eventType": "typing", "payload": {"chatId": "User1"}}),
    );
    assert!(typing.get("id").is_none(), "typing carries no id");

    // new with an attachment, verbatim
    let attachments = json!([{"type":"image","id":"img123","filename":"photo.jpg","url":"<http://example.com/photo.jpg>",
        "meta":{"mimetype":"image/jpeg","width":1024,"height":768,"size":204800}}]);
    u1.send(json!({"type":"request","timestamp":1700300000000u64,"id":"1","payloadType":"new","payload":{
        "chatId":"User2","clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3",
        "message":"Check out this photo!","attachments": attachments}}))
        .await;
    let r = u1.response("1").await;
    let message_id = r["payload"]["messageId"].as_u64().expect("messageId");
    assert_eq!(
        r["payload"]["clientMessageId"],
        "9CD99794-6D8E-4E82-9C97-D474831A43E3"
    );

    let new = u2.event("new").await;
    assert_subset(
        &new,
        &json!({"type":"event","eventType":"new","payload":{
        "chatId":"User1","messageId":message_id,"clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3",
        "message":"Check out this photo!","attachments": attachments,"missed":1}}),
    );
    let event_id = new["id"].as_u64().expect("event id");

    // ack
    u2.send(json!({"type":"ack","id":event_id})).await;
    let ack = u2.response(&event_id.to_string()).await;
    assert!(ack.get("error").is_none());

    // dlvrd
    u2.send(
        json!({"type":"request","timestamp":1700200000000u64,"id":"101","payloadType":"dlvrd",
        "payload":{"chatId":"User1","messageId":message_id}}),
    )
    .await;
    let r = u2.response("101").await;
    assert!(
        r.get("error").is_none() && r.get("payload").is_none(),
        "{r}"
    );
    let dlvrd = u1.event("dlvrd").await;
    assert_subset(
        &dlvrd,
        &json!({"payload":{"chatId":"User2","messageId":message_id,
        "clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3"}}),
    );
    assert!(dlvrd["payload"]["timestamp"].is_i64());
    let dlvrd_id = dlvrd["id"].as_u64().expect("id");
    u1.send(json!({"type":"ack","id":dlvrd_id})).await;
    u1.response(&dlvrd_id.to_string()).await;

    // read
    u2.send(
        json!({"type":"request","timestamp":1700200000000u64,"id":"102","payloadType":"read",
        "payload":{"chatId":"User1","messageId":message_id}}),
    )
    .await;
    let r = u2.response("102").await;
    assert_subset(
        &r,
        &json!({"payloadType":"read","payload":{"chatId":"User1","messageId":message_id,
        "clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3","missed":0}}),
    );
    let read = u1.event("read").await;
    assert_subset(
        &read,
        &json!({"payload":{"chatId":"User2","messageId":message_id,
        "clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3"}}),
    );
    assert!(read["id"].as_u64() > Some(dlvrd_id));

    // delete
    u1.send(json!({"type":"request","timestamp":1700400000000u64,"id":"2","payloadType":"delete",
        "payload":{"chatId":"User2","messageId":message_id,"clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3"}}))
        .await;
    let r = u1.response("2").await;
    assert!(r.get("error").is_none(), "{r}");
    let delete = u2.event("delete").await;
    assert_subset(
        &delete,
        &json!({"payload":{"chatId":"User1","messageId":message_id,
        "clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3"}}),
    );
    let id = delete["id"].as_u64().expect("id");
    u2.send(json!({"type":"ack","id":id})).await;
    u2.response(&id.to_string()).await;
}

#[tokio::test]
async fn dlvrd_without_message_id_marks_the_whole_chat() {
    let server = Server::start();
    let mut u1 = server.online("User1").await;
    let mut u2 = server.online("User2").await;
    let mut last = 0;
    for i in 0..3 {
        let r = u2
            .request("new", json!({"chatId":"User1","message":format!("m{i}")}))
            .await;
        last = r["payload"]["messageId"].as_u64().expect("id");
    }
    u1.send(json!({"type":"request","timestamp":1700300000000u64,"id":"14","payloadType":"dlvrd","payload":{"chatId":"User2"}}))
        .await;
    let r = u1.response("14").await;
    assert_eq!(r["payload"], json!({}));
    let ev = u2.event("dlvrd").await;
    assert_subset(
        &ev,
        &json!({"eventType":"dlvrd","payload":{"chatId":"User1","messageId":last}}),
    );
    assert_eq!(ev["payload"]["timestamp"], r["timestamp"]);
}

#[tokio::test]
async fn receipts_are_watermarks_and_repeats_change_nothing() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = alice
            .request("new", json!({"chatId":"bob","message":format!("m{i}")}))
            .await;
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    let r = bob
        .request("read", json!({"chatId":"alice","messageId":ids[1]}))
        .await;
    assert_eq!(r["payload"]["missed"], 1, "one left unread: {r}");
    let first = r["timestamp"].clone();
    let ev = alice.event("read").await;
    assert_eq!(ev["payload"]["messageId"], ids[1]);

    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = bob
        .request("read", json!({"chatId":"alice","messageId":ids[0]}))
        .await;
    assert_eq!(
        again["timestamp"], first,
        "a repeat answers the first mark's time"
    );
    alice
        .expect_none(Duration::from_millis(300), |v| v["eventType"] == "read")
        .await;

    // read implies delivered; history shows both marks on the first two messages only
    let page = alice
        .request("getMessages", json!({"chatId":"bob","count":10}))
        .await;
    let items = page["payload"].as_array().expect("a list").clone();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["read"], first);
    assert_eq!(items[0]["delivered"], first);
    assert_eq!(items[1]["read"], first);
    assert!(items[2].get("read").is_none());
}

#[tokio::test]
async fn replay_after_reconnect_delivers_what_was_missed_once() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice
        .request("new", json!({"chatId":"#General","message":"before"}))
        .await;
    assert!(r.get("error").is_none());
    let seen = bob.event("new").await;
    let last = seen["id"].as_u64().expect("id");
    drop(bob);

    let mut sent = Vec::new();
    for i in 0..3 {
        let r = alice
            .request(
                "new",
                json!({"chatId":"#General","message":format!("missed {i}")}),
            )
            .await;
        sent.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    let mut bob = server.login("bob").await;
    let r = bob.request("subscribe", json!({"lastEventId": last})).await;
    assert_eq!(r["payload"]["missed"], 3, "{r}");
    let mut got = Vec::new();
    let mut prev = last;
    for i in 0..3 {
        let ev = bob.next_logged().await;
        assert_eq!(ev["eventType"], "new");
        assert_eq!(ev["payload"]["message"], format!("missed {i}"));
        assert_eq!(ev["payload"]["missed"], i + 2, "unread grows: {ev}");
        let id = ev["id"].as_u64().expect("id");
        assert!(id > prev);
        prev = id;
        got.push(ev["payload"]["messageId"].as_u64().expect("id"));
    }
    assert_eq!(got, sent);
    assert_eq!(r["payload"]["lastEventId"], prev);
    // live again, nothing twice
    alice
        .request("new", json!({"chatId":"#General","message":"live"}))
        .await;
    let ev = bob.event("new").await;
    assert_eq!(ev["payload"]["message"], "live");
    bob.expect_none(Duration::from_millis(300), |v| v["eventType"] == "new")
        .await;
}

#[tokio::test]
async fn a_resent_client_message_id_is_stored_and_delivered_once() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let payload = json!({"chatId":"bob","message":"once","clientMessageId":"c-1"});
    let first = alice.request("new", payload.clone()).await;
    let second = alice.request("new", payload).await;
    assert_eq!(
        first["payload"]["messageId"],
        second["payload"]["messageId"]
    );
    bob.event("new").await;
    bob.expect_none(Duration::from_millis(400), |v| v["eventType"] == "new")
        .await;
    let page = bob
        .request("getMessages", json!({"chatId":"alice","count":10}))
        .await;
    assert_eq!(page["payload"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn history_pages_backwards_with_a_capped_size() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let r = alice
            .request(
                "new",
                json!({"chatId":"#General","message":format!("m{i}")}),
            )
            .await;
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    let page = alice
        .request("getMessages", json!({"chatId":"#General","count":10}))
        .await;
    let got: Vec<u64> = page["payload"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["messageId"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(got, ids[15..]);
    let first = page["payload"][0].clone();
    assert_eq!(first["sender"], "alice");
    assert_eq!(first["message"], "m15");
    assert!(first["createdAt"].is_i64() && first["updatedAt"].is_i64());

    let older = alice
        .request(
            "getMessages",
            json!({"chatId":"#General","count":10,"endId":ids[15] - 1}),
        )
        .await;
    let got: Vec<u64> = older["payload"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["messageId"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(got, ids[5..15]);

    let one = alice
        .request(
            "getMessage",
            json!({"chatId":"#General","messageId":ids[3]}),
        )
        .await;
    assert_eq!(one["payload"]["message"], "m3");
    for bad in [0, 101] {
        let r = alice
            .request("getMessages", json!({"chatId":"#General","count":bad}))
            .await;
        assert_eq!(r["error"]["code"], "bad_request");
    }
    let r = alice
        .request("getMessages", json!({"chatId":"#Nowhere","count":5}))
        .await;
    assert_eq!(r["error"]["code"], "not_found");
}

#[tokio::test]
async fn malformed_and_unknown_frames_get_errors_and_the_connection_stays_usable() {
    let server = Server::start();
    let mut c = server.online("alice").await;
    c.send_text("this is not json").await;
    c.send_text(r#"{"no":"type"}"#).await;
    c.send_text(r#"{"type":"bogus","id":"x"}"#).await;
    c.send_text(r#"[1,2,3]"#).await;
    let r = c.request("fly", json!({})).await;
    assert_eq!(r["error"]["code"], "unknown_type");
    let r = c.request("new", json!({"chatId": 5})).await;
    assert_eq!(r["error"]["code"], "bad_request");
    let r = c
        .request("new", json!({"chatId": "#General", "message": ""}))
        .await;
    assert_eq!(r["error"]["code"], "bad_request");
    let r = c
        .request(
            "new",
            json!({"chatId": "#General", "message": "x".repeat(20_000)}),
        )
        .await;
    assert_eq!(r["error"]["code"], "bad_request");
    let r = c
        .request("new", json!({"chatId": "nobody", "message": "hi"}))
        .await;
    assert_eq!(r["error"]["code"], "not_found");
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    c.send_text(&format!(
        r#"{{"type":"request","id":"deep","payloadType":"new","payload":{deep}}}"#
    ))
    .await;
    let r = c.response("deep").await;
    assert_eq!(r["error"]["code"], "bad_request");
    c.ws.send(tokio_tungstenite::tungstenite::Message::binary(vec![
        0u8, 159, 146, 150,
    ]))
    .await
    .expect("send");
    let r = c
        .request(
            "new",
            json!({"chatId": "#General", "message": "still here"}),
        )
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
}

use futures_util::SinkExt;

#[tokio::test]
async fn acked_messages_survive_kill_dash_9() {
    let mut server = Server::start();
    let mut ids = Vec::new();
    {
        let mut alice = server.online("alice").await;
        server.online("bob").await;
        for i in 0..20 {
            let r = alice
                .request(
                    "new",
                    json!({"chatId":"bob","message":format!("durable {i}")}),
                )
                .await;
            ids.push(r["payload"]["messageId"].as_u64().expect("acked"));
        }
    }
    server.crash_and_restart();
    let mut bob = server.login("bob").await;
    let got = bob.replayed_message_ids(0).await;
    assert_eq!(got, ids, "every acked message replayed exactly once");
}

#[tokio::test]
async fn rooms_create_join_list_members_and_leave() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice
        .request("createRoom", json!({"name":"Rust Club"}))
        .await;
    assert_subset(
        &r,
        &json!({"payload":{"chatId":"#Rust Club","name":"Rust Club","creator":"alice","members":1,"joined":true}}),
    );
    let created = bob.event("roomCreated").await;
    assert_eq!(created["payload"]["chatId"], "#Rust Club");
    let r = bob.request("createRoom", json!({"name":"rust club"})).await;
    assert_eq!(r["error"]["code"], "conflict");
    let r = bob
        .request("new", json!({"chatId":"#Rust Club","message":"hi"}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden");

    let r = bob
        .request("joinRoom", json!({"chatId":"#rust club"}))
        .await;
    assert_eq!(r["payload"]["members"], 2);
    let join = alice
        .next_where(|v| v["eventType"] == "join" && v["payload"]["chatId"] == "#Rust Club")
        .await;
    assert_subset(
        &join,
        &json!({"payload":{"chatId":"#Rust Club","userId":"bob"}}),
    );
    bob.request("new", json!({"chatId":"#Rust Club","message":"hello club"}))
        .await;
    let new = alice
        .next_where(|v| v["eventType"] == "new" && v["payload"]["chatId"] == "#Rust Club")
        .await;
    assert_subset(
        &new,
        &json!({"payload":{"chatId":"#Rust Club","sender":"bob","message":"hello club","missed":1}}),
    );

    let list = alice.request("listRooms", json!({})).await;
    let names: Vec<&str> = list["payload"]["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["General", "Rust Club"]);
    let members = alice
        .request("getMembers", json!({"chatId":"#Rust Club"}))
        .await;
    assert_eq!(
        members["payload"]["members"],
        json!([{"userId":"alice","status":"online"},{"userId":"bob","status":"online"}])
    );

    let chats = alice.request("getChats", json!({})).await;
    let club = chats["payload"]["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .find(|c| c["chatId"] == "#Rust Club")
        .cloned()
        .expect("club");
    assert_subset(&club, &json!({"type":"group","unreadCount":1}));
    let chat = alice
        .request("getChat", json!({"chatId":"#Rust Club"}))
        .await;
    assert_subset(
        &chat,
        &json!({"payload":{"chatId":"#Rust Club","type":"group","name":"Rust Club","unreadCount":1}}),
    );

    let r = bob
        .request("leaveRoom", json!({"chatId":"#Rust Club"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let leave = alice.event("leave").await;
    assert_eq!(leave["payload"]["userId"], "bob");
    let r = bob.request("leaveRoom", json!({"chatId":"#General"})).await;
    assert_eq!(r["error"]["code"], "forbidden");
}

#[tokio::test]
async fn direct_chats_report_type_and_unread() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    alice
        .request("new", json!({"chatId":"bob","message":"one"}))
        .await;
    alice
        .request("new", json!({"chatId":"bob","message":"two"}))
        .await;
    bob.event("new").await;
    let chat = bob.request("getChat", json!({"chatId":"alice"})).await;
    assert_subset(
        &chat,
        &json!({"payload":{"chatId":"alice","type":"dialog","name":"alice","unreadCount":2}}),
    );
}

#[tokio::test]
async fn edits_are_seen_by_others_and_only_authors_may_edit() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice
        .request("new", json!({"chatId":"#General","message":"helo"}))
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    let r = alice
        .request(
            "edit",
            json!({"chatId":"#General","messageId":id,"message":"hello"}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = bob.event("edit").await;
    assert_subset(
        &ev,
        &json!({"payload":{"chatId":"#General","messageId":id,"message":"hello","sender":"alice"}}),
    );
    let r = bob
        .request(
            "edit",
            json!({"chatId":"#General","messageId":id,"message":"hijack"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "forbidden");
    let r = bob
        .request("delete", json!({"chatId":"#General","messageId":id}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden");
    let page = bob
        .request("getMessages", json!({"chatId":"#General","count":1}))
        .await;
    assert_eq!(page["payload"][0]["message"], "hello");
}

#[tokio::test]
async fn presence_online_offline_and_status() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let bob = server.online("bob").await;
    let on = alice.event("online").await;
    assert_eq!(on["payload"], json!({"userId":"bob"}));
    assert!(on.get("id").is_none());

    let mut bob2 = server.login("bob").await;
    bob2.request("subscribe", json!({})).await;
    let r = bob2.request("setStatus", json!({"status":"busy"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let p = alice
        .next_where(|v| v["eventType"] == "presence" && v["payload"]["status"] == "busy")
        .await;
    assert_eq!(p["payload"], json!({"userId":"bob","status":"busy"}));
    let users = alice.request("listUsers", json!({})).await;
    assert!(users["payload"]["users"]
        .as_array()
        .expect("users")
        .contains(&json!({"userId":"bob","status":"busy"})));
    let r = bob2.request("setStatus", json!({"status":"sleepy"})).await;
    assert_eq!(r["error"]["code"], "bad_request");

    // one tab closing keeps bob there; the last one makes him offline
    drop(bob);
    alice
        .expect_none(Duration::from_millis(300), |v| v["eventType"] == "offline")
        .await;
    bob2.send(json!({"type":"event","timestamp":1700400000000u64,"eventType":"offline"}))
        .await;
    let off = alice.event("offline").await;
    assert_eq!(off["payload"], json!({"userId":"bob"}));
}

#[tokio::test]
async fn a_fourth_connection_of_one_user_is_refused() {
    let server = Server::start();
    let _a = server.login("alice").await;
    let _b = server.login("alice").await;
    let _c = server.login("alice").await;
    let mut d = server.client().await;
    let r = d
        .request(
            "auth",
            json!({"username":"alice","password":"password-alice"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "too_many_connections");
}

#[tokio::test]
async fn the_rate_limit_refuses_and_does_not_deliver() {
    let server = Server::start_with(&["--rate-limit", "5"]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    for i in 0..5 {
        let r = alice
            .request(
                "new",
                json!({"chatId":"#General","message":format!("m{i}")}),
            )
            .await;
        assert!(r["payload"]["messageId"].is_u64());
    }
    let r = alice
        .request("new", json!({"chatId":"#General","message":"one too many"}))
        .await;
    assert_eq!(r["error"]["code"], "rate_limited");
    for _ in 0..5 {
        bob.event("new").await;
    }
    bob.expect_none(Duration::from_millis(300), |v| v["eventType"] == "new")
        .await;
}

#[tokio::test]
async fn edits_share_the_budget_of_messages() {
    let server = Server::start_with(&["--rate-limit", "5"]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice
        .request("new", json!({"chatId":"#General","message":"v0"}))
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    // One message and four edits spend the budget of five.
    for i in 1..5 {
        let r = alice
            .request(
                "edit",
                json!({"chatId":"#General","messageId":id,"message":format!("v{i}")}),
            )
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }
    let r = alice
        .request(
            "edit",
            json!({"chatId":"#General","messageId":id,"message":"flood"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":"and a new one"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
    bob.event("new").await;
    for i in 1..5 {
        let ev = bob.event("edit").await;
        assert_eq!(ev["payload"]["message"], format!("v{i}"));
    }
    bob.expect_none(Duration::from_millis(300), |v| {
        v["eventType"] == "edit" || v["eventType"] == "new"
    })
    .await;
    let page = bob
        .request("getMessages", json!({"chatId":"#General","count":1}))
        .await;
    assert_eq!(page["payload"][0]["message"], "v4", "{page}");
}

#[tokio::test]
async fn oversized_attachment_fields_are_refused_and_not_delivered() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let attachment = |url: String, filename: String| {
        json!({"type":"image","id":"a1","filename":filename,"url":url,
            "meta":{"mimetype":"image/png"}})
    };
    let long_url = format!("https://example.org/{}", "x".repeat(2048));
    for (what, a) in [
        ("url", attachment(long_url, "a.png".into())),
        (
            "filename",
            attachment("/uploads/a.png".into(), "é".repeat(128)),
        ),
    ] {
        let r = alice
            .request(
                "new",
                json!({"chatId":"#General","message":"look","attachments":[a]}),
            )
            .await;
        assert_eq!(r["error"]["code"], "bad_request", "{r}");
        assert!(
            r["error"]["message"].as_str().unwrap_or("").contains(what),
            "{r}"
        );
    }
    // At the limits exactly, it is stored and delivered.
    let url = format!("/uploads/{}", "y".repeat(2048 - "/uploads/".len()));
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":"ok","attachments":[attachment(url.clone(), "n".repeat(255))]}),
        )
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
    let ev = bob.event("new").await;
    assert_eq!(
        ev["payload"]["message"], "ok",
        "only the message within limits"
    );
    assert_eq!(ev["payload"]["attachments"][0]["url"], url.as_str());
}

#[tokio::test]
async fn unauthenticated_connections_are_closed_after_the_auth_timeout() {
    let server = Server::start_with(&["--auth-timeout", "300ms"]);
    let mut c = server.client().await;
    assert!(matches!(
        c.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let server = Server::start_with(&["--idle-timeout", "600ms", "--ping-interval", "200ms"]);
    let mut c = server.login("alice").await;
    // Not reading means not answering pings.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let closed = c.closed(Duration::from_secs(5)).await;
    assert!(matches!(closed, Closed::Frame(1000, _)), "{closed:?}");
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let server = Server::start_with(&["--max-frame-bytes", "4096"]);
    let mut c = server.login("alice").await;
    c.send_text(&format!(r##"{{"type":"request","id":"big","payloadType":"new","payload":{{"chatId":"#General","message":"{}"}}}}"##, "x".repeat(8000))).await;
    assert_eq!(
        c.closed(Duration::from_secs(5)).await,
        Closed::Frame(1009, "frame too large".into())
    );
}

#[tokio::test]
async fn sigterm_closes_connections_with_1001_and_exits() {
    let mut server = Server::start();
    let mut c = server.online("alice").await;
    let status = server.terminate();
    assert!(matches!(
        c.closed(Duration::from_secs(5)).await,
        Closed::Frame(1001, _)
    ));
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_session_token_logs_in_without_the_password_until_logout() {
    let server = Server::start();
    let mut first = server.client().await;
    let r = first
        .request(
            "auth",
            json!({"username":"alice","password":"s3cret-password"}),
        )
        .await;
    let token = r["payload"]["token"].as_str().expect("a token").to_string();
    assert!(token.len() >= 32);

    let mut second = server.client().await;
    let r = second
        .request("auth", json!({"username":"Alice","token":token}))
        .await;
    assert_subset(
        &r,
        &json!({"payload":{"userId":"alice","registered":false}}),
    );
    assert!(r["payload"].get("token").is_none());

    let mut wrong = server.client().await;
    let r = wrong
        .request("auth", json!({"username":"bob","token":token}))
        .await;
    assert_eq!(
        r["error"]["code"], "auth_failed",
        "a token is only good for its user"
    );

    let r = second.request("logout", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(matches!(
        second.closed(Duration::from_secs(5)).await,
        Closed::Frame(1000, _)
    ));
    let mut after = server.client().await;
    let r = after
        .request("auth", json!({"username":"alice","token":token}))
        .await;
    assert_eq!(r["error"]["code"], "auth_failed");
}

#[tokio::test]
async fn get_receipts_lists_every_members_watermarks() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice
        .request("new", json!({"chatId":"bob","message":"hi"}))
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    bob.request("dlvrd", json!({"chatId":"alice","messageId":id}))
        .await;
    let r = alice.request("getReceipts", json!({"chatId":"bob"})).await;
    assert_eq!(
        r["payload"]["receipts"],
        json!([{"userId":"alice","delivered":0,"read":0},{"userId":"bob","delivered":id,"read":0}])
    );
}

#[tokio::test]
async fn an_idle_connection_shows_away_unless_another_is_active() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    // Bob's arrival first, so that each step below waits for its own event.
    alice
        .next_where(|v| {
            v["eventType"] == "presence"
                && v["payload"] == json!({"userId":"bob","status":"online"})
        })
        .await;
    bob.send(json!({"type":"event","timestamp":1,"eventType":"idle"}))
        .await;
    alice
        .next_where(|v| {
            v["eventType"] == "presence" && v["payload"] == json!({"userId":"bob","status":"away"})
        })
        .await;
    let mut bob2 = server.login("bob").await;
    bob2.request("subscribe", json!({})).await;
    alice
        .next_where(|v| {
            v["eventType"] == "presence"
                && v["payload"] == json!({"userId":"bob","status":"online"})
        })
        .await;
    drop(bob2);
    alice
        .next_where(|v| {
            v["eventType"] == "presence" && v["payload"] == json!({"userId":"bob","status":"away"})
        })
        .await;
    bob.send(json!({"type":"event","timestamp":1,"eventType":"active"}))
        .await;
    alice
        .next_where(|v| {
            v["eventType"] == "presence"
                && v["payload"] == json!({"userId":"bob","status":"online"})
        })
        .await;
}

#[tokio::test]
async fn a_last_event_id_past_the_head_means_from_now() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.login("bob").await;
    let r = bob
        .request("subscribe", json!({"lastEventId": 1_000_000_000u64}))
        .await;
    assert_eq!(r["payload"]["missed"], 0);
    assert!(r["payload"]["lastEventId"].as_u64() < Some(1_000_000_000));
    alice
        .request("new", json!({"chatId":"#General","message":"now"}))
        .await;
    assert_eq!(bob.event("new").await["payload"]["message"], "now");
}

#[tokio::test]
async fn subscribe_without_last_event_id_resumes_after_the_last_ack() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    alice
        .request("new", json!({"chatId":"bob","message":"one"}))
        .await;
    let ev = bob.event("new").await;
    let id = ev["id"].as_u64().expect("id");
    bob.send(json!({"type":"ack","id":id})).await;
    bob.response(&id.to_string()).await;
    drop(bob);
    alice
        .request("new", json!({"chatId":"bob","message":"two"}))
        .await;

    // The acknowledged position is kept across the reconnect (in memory, and stored
    // when the last connection closes); only what came after it is replayed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut bob = server.login("bob").await;
    let r = bob.request("subscribe", json!({})).await;
    assert_eq!(r["payload"]["missed"], 1, "{r}");
    assert_eq!(bob.next_logged().await["payload"]["message"], "two");
}

#[tokio::test]
async fn unread_counts_are_right_after_a_restart_and_a_return() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let r = alice
            .request("new", json!({"chatId":"#General","message":text}))
            .await;
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
        bob.event("new").await;
    }
    let r = bob
        .request("read", json!({"chatId":"#General","messageId":ids[0]}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    drop((alice, bob));

    // Counters are loaded when a user connects, not at start.
    server.crash_and_restart();
    let mut alice = server.online("alice").await;
    alice
        .request("new", json!({"chatId":"#General","message":"four"}))
        .await;
    let mut bob = server.online("bob").await;
    let chat = bob.request("getChat", json!({"chatId":"#General"})).await;
    assert_eq!(chat["payload"]["unreadCount"], 3, "{chat}");
    alice
        .request("new", json!({"chatId":"#General","message":"five"}))
        .await;
    let ev = bob.event("new").await;
    assert_eq!(
        ev["payload"]["missed"], 4,
        "counted live after loading: {ev}"
    );

    // Counters kept while away stay right; own messages are not unread.
    drop(bob);
    bob = server.login("bob").await;
    bob.request("new", json!({"chatId":"#General","message":"mine"}))
        .await;
    alice
        .request("new", json!({"chatId":"#General","message":"six"}))
        .await;
    let chat = bob.request("getChat", json!({"chatId":"#General"})).await;
    assert_eq!(chat["payload"]["unreadCount"], 5, "{chat}");
}
