//! The seed dialects over real WebSockets, with the seeds' JSON sent verbatim, and
//! every dialect against every other one in the same world.

mod common;

use common::{upgrade_status, Client, Closed, Server};
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

async fn rwci(server: &Server, name: &str) -> Client {
    let mut c = Client::connect(&server.url("/ws/rwci")).await;
    c.send(json!({"type":"auth","username":name,"password":format!("password-{name}")}))
        .await;
    let auth = c.next().await;
    assert_eq!(auth["type"], "auth");
    assert_eq!(auth["success"], true, "{auth}");
    c.next_where(|v| v["type"] == "join").await;
    c
}

async fn workspace(server: &Server, name: &str) -> Client {
    let mut c = Client::connect(&server.url(&format!("/ws/workspace?username={name}"))).await;
    let hello = c.next().await;
    assert_eq!(hello["type"], "connected", "{hello}");
    c
}

async fn workshop(server: &Server, name: &str) -> Client {
    let mut c = Client::connect(&server.url("/ws/workshop")).await;
    c.send(json!({"event_type":"connection_request","username":name}))
        .await;
    let r = c.next().await;
    assert_eq!(r["event_type"], "connection_response", "{r}");
    for expected in ["all_rooms", "message_history", "users_online"] {
        assert_eq!(c.next().await["event_type"], expected);
    }
    c
}

fn typ(t: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == t
}

fn ev(t: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event_type"] == t
}

// ───────────────────────────── RWCI ─────────────────────────────

#[tokio::test]
async fn rwci_registers_then_logs_in_with_the_rfc_packets() {
    let server = Server::start();
    let mut a = Client::connect(&server.url("/ws/rwci")).await;
    a.send_text(
        r#"{"type":"auth","username":"your_username_here","password":"your_password_here"}"#,
    )
    .await;
    assert_eq!(
        a.next().await,
        json!({"type":"auth","status":"Registered and logged in ok","success":true})
    );
    assert_eq!(
        a.next().await,
        json!({"type":"user_list","users":["your_username_here"]})
    );
    assert_eq!(
        a.next().await,
        json!({"type":"join","username":"your_username_here"})
    );
    drop(a);

    let mut again = Client::connect(&server.url("/ws/rwci")).await;
    again
        .send_text(
            r#"{"type":"auth","username":"your_username_here","password":"your_password_here"}"#,
        )
        .await;
    assert_eq!(
        again.next().await,
        json!({"type":"auth","status":"Logged in ok","success":true})
    );

    let mut watcher = rwci(&server, "watcher").await;
    let mut bad = Client::connect(&server.url("/ws/rwci")).await;
    bad.send(json!({"type":"auth","username":"your_username_here","password":"wrong"}))
        .await;
    assert_eq!(
        bad.next().await,
        json!({"type":"auth","status":"Login failed","success":false})
    );
    assert!(matches!(
        bad.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    watcher
        .expect_none(QUIET, |v| v["type"] == "quit" || v["type"] == "join")
        .await;
}

#[tokio::test]
async fn rwci_public_and_direct_messages_typing_joins_and_quits() {
    let server = Server::start();
    let mut a = rwci(&server, "alice").await;
    let mut b = rwci(&server, "bob").await;
    assert_eq!(
        a.next_where(typ("join")).await,
        json!({"type":"join","username":"bob"})
    );

    a.send_text(r#"{"type":"message","message":"authors_message"}"#)
        .await;
    let expected = json!({"type":"message","author":"alice","message":"authors_message"});
    assert_eq!(b.next_where(typ("message")).await, expected);
    assert_eq!(
        a.next_where(typ("message")).await,
        expected,
        "public messages reach their author too"
    );

    // The public Python RWCI client sends a `channel` (often null) and a bare typing.
    a.send(json!({"type":"message","message":"from the python client","channel":null}))
        .await;
    b.next_where(|v| v["type"] == "message" && v["message"] == "from the python client")
        .await;
    a.send(json!({"type":"message","message":""})).await;
    a.send(json!({"message":"old format"})).await;
    a.send(json!({"type":"dance"})).await;
    b.expect_none(QUIET, typ("message")).await;

    a.send(json!({"type":"direct_message","recipient":"bob","message":"psst"}))
        .await;
    assert_eq!(
        b.next_where(typ("direct_message")).await,
        json!({"type":"direct_message","author":"alice","message":"psst"})
    );
    a.expect_none(QUIET, typ("direct_message")).await;

    b.send(json!({"type":"typing"})).await;
    assert_eq!(
        a.next_where(typ("typing")).await,
        json!({"type":"typing","username":"bob"})
    );

    drop(b);
    assert_eq!(
        a.next_where(typ("quit")).await,
        json!({"type":"quit","username":"bob"})
    );
}

#[tokio::test]
async fn rwci_closes_on_a_message_before_login_or_a_forged_author() {
    let server = Server::start();
    let mut early = Client::connect(&server.url("/ws/rwci")).await;
    early.send(json!({"type":"message","message":"hi"})).await;
    assert!(matches!(
        early.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    let mut forger = rwci(&server, "mallory").await;
    forger
        .send(json!({"type":"message","message":"hi","author":"alice"}))
        .await;
    assert!(matches!(
        forger.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
}

// ───────────────────────────── Workspace ─────────────────────────────

#[tokio::test]
async fn workspace_connects_sends_and_sets_presence_and_typing() {
    let server = Server::start();
    let mut john = Client::connect(&server.url("/ws/workspace?username=john_doe")).await;
    let hello = john.next().await;
    assert_eq!(hello["type"], "connected");
    assert_eq!(hello["username"], "john_doe");
    assert!(hello["userId"].is_string() && hello["connectedUsers"].as_u64() >= Some(1));
    assert!(hello["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z') && t.contains('T')));
    let mut jane = workspace(&server, "jane").await;

    john.send_text(r#"{"type": "message:send", "text": "Hello everyone!"}"#)
        .await;
    for c in [&mut john, &mut jane] {
        let m = c.next_where(typ("message:new")).await;
        assert_eq!(m["data"]["username"], "john_doe");
        assert_eq!(m["data"]["text"], "Hello everyone!");
        assert!(
            m["data"]["id"].is_string()
                && m["data"]["userId"].is_string()
                && m["data"]["createdAt"].is_string()
        );
    }

    john.send_text(r#"{"type": "presence:update", "status": "busy"}"#)
        .await;
    let p = jane.next_where(typ("presence:update")).await;
    assert_eq!(
        p["data"],
        json!({"userId":"john_doe","username":"john_doe","status":"busy"})
    );
    john.expect_none(QUIET, |v| {
        v["type"] == "presence:update" && v["data"]["username"] == "john_doe"
    })
    .await;
    john.send(json!({"type":"presence:update","status":"dancing"}))
        .await;
    let e = john.next_where(typ("error")).await;
    assert_eq!(e["code"], "bad_request");
    jane.expect_none(QUIET, |v| {
        v["type"] == "presence:update" && v["data"]["status"] == "dancing"
    })
    .await;

    john.send_text(r#"{"type": "typing:indicator", "isTyping": true}"#)
        .await;
    let t = jane.next_where(typ("typing:indicator")).await;
    assert_eq!(
        t["data"],
        json!({"userId":"john_doe","username":"john_doe","isTyping":true})
    );
    john.send_text(r#"{"type": "typing:indicator", "isTyping": false}"#)
        .await;
    let t = jane.next_where(typ("typing:indicator")).await;
    assert_eq!(t["data"]["isTyping"], false);
}

#[tokio::test]
async fn workspace_allows_three_connections_per_guest_and_no_registered_names() {
    let server = Server::start();
    let _a = workspace(&server, "tabs").await;
    let _b = workspace(&server, "tabs").await;
    let _c = workspace(&server, "tabs").await;
    let mut d = Client::connect(&server.url("/ws/workspace?username=tabs")).await;
    assert!(matches!(
        d.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));

    server.login("alice").await;
    let mut guest = Client::connect(&server.url("/ws/workspace?username=ALICE")).await;
    assert!(matches!(
        guest.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    let mut nameless = Client::connect(&server.url("/ws/workspace")).await;
    assert!(matches!(
        nameless.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
}

#[tokio::test]
async fn workspace_rate_limit_answers_an_error_and_delivers_nothing() {
    let server = Server::start_with(&["--rate-limit", "2"]);
    let mut a = workspace(&server, "spammer").await;
    for i in 0..3 {
        a.send(json!({"type":"message:send","text":format!("m{i}")}))
            .await;
    }
    let e = a.next_where(typ("error")).await;
    assert_eq!(e["code"], "rate_limited");
    let mut seen = 0;
    while tokio::time::timeout(QUIET, a.next_where(typ("message:new")))
        .await
        .is_ok()
    {
        seen += 1;
    }
    assert_eq!(seen, 2);
}

#[tokio::test]
async fn guests_can_be_turned_off() {
    let server = Server::start_with(&["--no-guests"]);
    // Workspace is refused at the upgrade.
    assert_eq!(
        upgrade_status(&server.url("/ws/workspace?username=guest")).await,
        Some(403)
    );
    let mut w = Client::connect(&server.url("/ws/workshop")).await;
    w.send(json!({"event_type":"connection_request","username":"guest"}))
        .await;
    assert_eq!(w.next().await["event_type"], "connection_reject");
}

// ───────────────────────────── Workshop ─────────────────────────────

#[tokio::test]
async fn workshop_connect_sequence_and_name_in_use() {
    let server = Server::start();
    let mut bob = workshop(&server, "bob").await;
    let mut alice = Client::connect(&server.url("/ws/workshop")).await;
    alice
        .send_text(r#"{"event_type": "connection_request", "username": "alice"}"#)
        .await;
    let r = alice.next().await;
    assert_eq!(r["event_type"], "connection_response");
    assert_eq!(r["username"], "alice");
    assert_eq!(r["user_id"].as_str().map(str::len), Some(36));
    let rooms = alice.next().await;
    assert_eq!(rooms["event_type"], "all_rooms");
    assert_eq!(rooms["rooms"][0]["room_name"], "General");
    let history = alice.next().await;
    assert_eq!(history["event_type"], "message_history");
    let online = alice.next().await;
    assert_eq!(online["event_type"], "users_online");
    let names: Vec<&str> = online["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["bob", "alice"]);
    assert!(online["users"][0]["connected_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        bob.next_where(ev("user_join")).await,
        json!({"event_type":"user_join","username":"alice"})
    );

    let mut twin = Client::connect(&server.url("/ws/workshop")).await;
    twin.send(json!({"event_type":"connection_request","username":"ALICE"}))
        .await;
    assert_eq!(
        twin.next().await,
        json!({"event_type":"connection_reject","response":"Username already in use."})
    );

    drop(alice);
    assert_eq!(
        bob.next_where(ev("user_leave")).await,
        json!({"event_type":"user_leave","username":"alice"})
    );
}

#[tokio::test]
async fn workshop_rooms_messages_history_and_clearing() {
    let server = Server::start_with(&["--admin", "root"]);
    let mut alice = workshop(&server, "alice").await;
    let mut bob = workshop(&server, "bob").await;

    alice.send_text(r#"{"event_type": "message", "username": "alice", "message": "How's everyone doing today?"}"#).await;
    let m =
        json!({"event_type":"message","username":"alice","message":"How's everyone doing today?"});
    assert_eq!(bob.next_where(ev("message")).await, m);
    bob.send_text(r#"{"event_type": "typing", "username": "bob", "is_typing": true}"#)
        .await;
    assert_eq!(
        alice.next_where(ev("typing")).await,
        json!({"event_type":"typing","username":"bob","is_typing":true})
    );

    alice.send_text(r#"{"event_type": "room_create", "room": {"room_name": "Support", "room_creator": "alice", "connected_users": []}}"#).await;
    let created = bob.next_where(ev("room_create")).await;
    assert_eq!(created["room"]["room_name"], "Support");
    assert_eq!(created["room"]["room_creator"], "alice");
    bob.send(json!({"event_type":"room_create","room":{"room_name":"support"}}))
        .await;
    assert_eq!(
        bob.next_where(ev("room_create_reject")).await,
        json!({"event_type":"room_create_reject","response":"Room name already exists."})
    );

    bob.send_text(r#"{"event_type": "room_switch_request", "room_name": "Developers"}"#)
        .await;
    assert_eq!(
        bob.next_where(ev("room_switch_reject")).await,
        json!({"event_type":"room_switch_reject","response":"Room not found"})
    );
    for c in [&mut alice, &mut bob] {
        c.send(json!({"event_type":"room_switch_request","room_name":"Support"}))
            .await;
        assert_eq!(
            c.next_where(ev("room_switch_response")).await,
            json!({"event_type":"room_switch_response","room_name":"Support"})
        );
        c.next_where(ev("message_history")).await;
    }
    bob.send(json!({"event_type":"message","username":"bob","message":"need help"}))
        .await;
    alice
        .next_where(|v| v["event_type"] == "message" && v["message"] == "need help")
        .await;

    // only the creator (or an admin) may clear; everyone in the room sees it
    bob.send(json!({"event_type":"room_chat_clear","username":"bob","room_name":"Support"}))
        .await;
    let refused = bob.next_where(ev("system")).await;
    assert_eq!(refused["severity"], "error");
    alice
        .send_text(
            r#"{"event_type": "room_chat_clear", "username": "alice", "room_name": "Support"}"#,
        )
        .await;
    let clear = json!({"event_type":"room_chat_clear","username":"alice","room_name":"Support"});
    assert_eq!(bob.next_where(ev("room_chat_clear")).await, clear);
    assert_eq!(alice.next_where(ev("room_chat_clear")).await, clear);

    let mut native = server.online("carol").await;
    native
        .request("joinRoom", json!({"chatId":"#Support"}))
        .await;
    let page = native
        .request("getMessages", json!({"chatId":"#Support","count":50}))
        .await;
    assert_eq!(
        page["payload"],
        json!([]),
        "the history is empty for every dialect"
    );
    let mut again = workshop(&server, "dave").await;
    again
        .send(json!({"event_type":"room_switch_request","room_name":"Support"}))
        .await;
    let history = again.next_where(ev("message_history")).await;
    assert_eq!(history["messages"], json!([]));

    // an admin may clear any room
    let mut root = server.online("root").await;
    let r = root
        .request("clearRoom", json!({"chatId":"#General"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = native.event("clear").await;
    assert_eq!(ev["payload"], json!({"chatId":"#General","userId":"root"}));
}

// ───────────────────────────── every dialect together ─────────────────────────────

#[tokio::test]
async fn a_message_from_each_dialect_reaches_every_other() {
    let server = Server::start();
    let mut native = server.online("nat").await;
    let mut rw = rwci(&server, "rw").await;
    let mut wsp = workspace(&server, "wsp").await;
    let mut wsh = workshop(&server, "wsh").await;

    native
        .request("new", json!({"chatId":"#General","message":"from native"}))
        .await;
    rw.send(json!({"type":"message","message":"from rwci"}))
        .await;
    wsp.send(json!({"type":"message:send","text":"from workspace"}))
        .await;
    wsh.send(json!({"event_type":"message","username":"wsh","message":"from workshop"}))
        .await;

    for (author, text) in [
        ("nat", "from native"),
        ("rw", "from rwci"),
        ("wsp", "from workspace"),
        ("wsh", "from workshop"),
    ] {
        if author != "nat" {
            let e = native
                .next_where(|v| v["eventType"] == "new" && v["payload"]["message"] == text)
                .await;
            assert_eq!(e["payload"]["sender"], author);
            assert_eq!(e["payload"]["chatId"], "#General");
        }
        let r = rw
            .next_where(|v| v["type"] == "message" && v["message"] == text)
            .await;
        assert_eq!(r["author"], author);
        let w = wsp
            .next_where(|v| v["type"] == "message:new" && v["data"]["text"] == text)
            .await;
        assert_eq!(w["data"]["username"], author);
        let s = wsh
            .next_where(|v| v["event_type"] == "message" && v["message"] == text)
            .await;
        assert_eq!(s["username"], author);
    }
    // and all four are in the one history
    let page = native
        .request("getMessages", json!({"chatId":"#General","count":10}))
        .await;
    let mut senders: Vec<&str> = page["payload"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["sender"].as_str())
        .collect();
    senders.sort_unstable();
    assert_eq!(senders, ["nat", "rw", "wsh", "wsp"]);
}

#[tokio::test]
async fn typing_presence_and_joins_cross_dialects() {
    let server = Server::start();
    let mut native = server.online("nat").await;
    let mut rw = rwci(&server, "rw").await;
    let mut wsp = workspace(&server, "wsp").await;
    let mut wsh = workshop(&server, "wsh").await;

    native.send(json!({"type":"event","timestamp":1,"payloadType":"typing","payload":{"chatId":"#General"}})).await;
    assert_eq!(
        rw.next_where(typ("typing")).await,
        json!({"type":"typing","username":"nat"})
    );
    assert_eq!(
        wsp.next_where(typ("typing:indicator")).await["data"]["username"],
        "nat"
    );
    assert_eq!(
        wsh.next_where(ev("typing")).await,
        json!({"event_type":"typing","username":"nat","is_typing":true})
    );
    // sending ends the typing indicator where the dialect can say so
    native
        .request("new", json!({"chatId":"#General","message":"done"}))
        .await;
    assert_eq!(
        wsp.next_where(typ("typing:indicator")).await["data"]["isTyping"],
        false
    );
    assert_eq!(wsh.next_where(ev("typing")).await["is_typing"], false);

    wsp.send(json!({"type":"presence:update","status":"away"}))
        .await;
    native
        .next_where(|v| {
            v["eventType"] == "presence" && v["payload"] == json!({"userId":"wsp","status":"away"})
        })
        .await;

    let late = rwci(&server, "late").await;
    native
        .next_where(|v| v["eventType"] == "online" && v["payload"]["userId"] == "late")
        .await;
    wsh.next_where(|v| v["event_type"] == "user_join" && v["username"] == "late")
        .await;
    drop(late);
    rw.next_where(|v| v["type"] == "quit" && v["username"] == "late")
        .await;
    wsh.next_where(|v| v["event_type"] == "user_leave" && v["username"] == "late")
        .await;
    native
        .next_where(|v| v["eventType"] == "offline" && v["payload"]["userId"] == "late")
        .await;
}

#[tokio::test]
async fn direct_messages_between_native_and_rwci() {
    let server = Server::start();
    let mut native = server.online("nat").await;
    let mut rw = rwci(&server, "rw").await;
    native
        .request("new", json!({"chatId":"rw","message":"hello rwci"}))
        .await;
    assert_eq!(
        rw.next_where(typ("direct_message")).await,
        json!({"type":"direct_message","author":"nat","message":"hello rwci"})
    );
    rw.send(json!({"type":"direct_message","recipient":"nat","message":"hello native"}))
        .await;
    let e = native
        .next_where(|v| v["eventType"] == "new" && v["payload"]["chatId"] == "rw")
        .await;
    assert_eq!(e["payload"]["message"], "hello native");
    rw.send(json!({"type":"direct_message","recipient":"nobody","message":"?"}))
        .await;
    let notice = rw.next_where(typ("direct_message")).await;
    assert_eq!(notice["author"], "server");
}

#[tokio::test]
async fn parlor_broadcast_reaches_every_dialect_in_its_form() {
    let server = Server::start();
    let mut native = server.online("nat").await;
    let mut rw = rwci(&server, "rw").await;
    let mut wsp = workspace(&server, "wsp").await;
    let mut wsh = workshop(&server, "wsh").await;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([
            "broadcast",
            "Server maintenance scheduled in 10 minutes.",
            "--server",
        ])
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&server.data)
        .status()
        .expect("run parlor broadcast");
    assert!(status.success());
    let text = "Server maintenance scheduled in 10 minutes.";
    assert_eq!(
        native.event("broadcast").await["payload"],
        json!({"message": text})
    );
    assert_eq!(
        rw.next_where(typ("broadcast")).await,
        json!({"type":"broadcast","message":text})
    );
    assert_eq!(
        wsp.next_where(typ("message:new")).await["data"]["text"],
        text
    );
    assert_eq!(
        wsh.next_where(ev("system")).await,
        json!({"event_type":"system","severity":"info","message":text})
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["broadcast", "just you", "--to", "rw", "--server"])
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&server.data)
        .output()
        .expect("run parlor broadcast --to");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        rw.next_where(typ("direct_message")).await,
        json!({"type":"direct_message","author":"server","message":"just you"})
    );
    native
        .expect_none(QUIET, |v| v["eventType"] == "broadcast")
        .await;
}

// ───────────────────────────── seed rules ─────────────────────────────

#[tokio::test]
async fn rwci_refuses_a_second_login_of_a_connected_user_and_keeps_the_first() {
    let server = Server::start();
    let mut first = rwci(&server, "alice").await;
    let mut second = Client::connect(&server.url("/ws/rwci")).await;
    second
        .send(json!({"type":"auth","username":"alice","password":"password-alice"}))
        .await;
    assert_eq!(
        second.next().await,
        json!({"type":"auth","status":"Login failed","success":false})
    );
    assert!(matches!(
        second.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    // Another name logs in as usual; the first session still sends and receives.
    let mut bob = rwci(&server, "bob").await;
    first
        .send(json!({"type":"message","message":"still here"}))
        .await;
    assert_eq!(
        bob.next_where(typ("message")).await,
        json!({"type":"message","author":"alice","message":"still here"})
    );
    bob.send(json!({"type":"message","message":"hi alice"}))
        .await;
    assert_eq!(
        first
            .next_where(|v| v["type"] == "message" && v["author"] == "bob")
            .await,
        json!({"type":"message","author":"bob","message":"hi alice"})
    );
    first.expect_none(QUIET, typ("quit")).await;
}

#[tokio::test]
async fn workshop_user_join_and_leave_go_to_the_room_concerned_only() {
    let server = Server::start();
    let mut stay = workshop(&server, "stay").await;
    let mut mover = workshop(&server, "mover").await;
    assert_eq!(
        stay.next_where(ev("user_join")).await,
        json!({"event_type":"user_join","username":"mover"})
    );
    stay.send(json!({"event_type":"room_create","room":{"room_name":"Den","room_creator":"stay","connected_users":[]}}))
        .await;
    mover.next_where(ev("room_create")).await;
    let mut den = workshop(&server, "den").await;
    stay.next_where(|v| v["event_type"] == "user_join" && v["username"] == "den")
        .await;
    den.send(json!({"event_type":"room_switch_request","room_name":"Den"}))
        .await;
    den.next_where(ev("users_online")).await;
    assert_eq!(
        stay.next_where(ev("user_leave")).await,
        json!({"event_type":"user_leave","username":"den"})
    );

    // The mover leaves General for the Den: General hears one user_leave, the Den one
    // user_join; nobody hears a second user_join.
    mover
        .send(json!({"event_type":"room_switch_request","room_name":"Den"}))
        .await;
    assert_eq!(
        mover.next_where(ev("room_switch_response")).await["room_name"],
        "Den"
    );
    assert_eq!(
        stay.next_where(|v| v["event_type"] == "user_join" || v["event_type"] == "user_leave")
            .await,
        json!({"event_type":"user_leave","username":"mover"})
    );
    assert_eq!(
        den.next_where(|v| v["event_type"] == "user_join" || v["event_type"] == "user_leave")
            .await,
        json!({"event_type":"user_join","username":"mover"})
    );
    stay.expect_none(QUIET, |v| v["event_type"] == "user_join")
        .await;

    // Back to General (a room it is a member of already): the Den hears it leave.
    mover
        .send(json!({"event_type":"room_switch_request","room_name":"General"}))
        .await;
    assert_eq!(
        den.next_where(|v| v["event_type"] == "user_leave").await,
        json!({"event_type":"user_leave","username":"mover"})
    );
    assert_eq!(
        stay.next_where(|v| v["event_type"] == "user_join").await,
        json!({"event_type":"user_join","username":"mover"})
    );

    // Disconnecting is leaving the room one sits in, heard there only.
    drop(den);
    stay.expect_none(QUIET, |v| v["username"] == "den").await;
    drop(mover);
    assert_eq!(
        stay.next_where(|v| v["event_type"] == "user_leave").await,
        json!({"event_type":"user_leave","username":"mover"})
    );
}
