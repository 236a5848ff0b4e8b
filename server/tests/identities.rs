//! Identities, tried as a hostile user would: guests are visitors (not stored, in
//! General only while connected, their name free after a grace period and passing on
//! with nothing of theirs), never admins, never able to take an account's name nor to
//! have theirs taken while they hold it; names that look like others, hide characters
//! or pose as the server are refused; invisible users stay invisible to Workshop.

mod common;

use common::{Client, Closed, Server};
use serde_json::{json, Value};
use std::time::Duration;

async fn workshop(server: &Server, name: &str) -> Client {
    let mut c = Client::connect(&server.url("/ws/workshop")).await;
    c.send(json!({"event_type":"connection_request","username":name}))
        .await;
    let r = c.next().await;
    assert_eq!(r["event_type"], "connection_response", "{r}");
    c
}

/// The first frame of a Workshop login with `name`: accepted or rejected.
async fn workshop_answer(server: &Server, name: &str) -> Value {
    let mut c = Client::connect(&server.url("/ws/workshop")).await;
    c.send(json!({"event_type":"connection_request","username":name}))
        .await;
    c.next().await
}

/// A native `auth` with a password, answered.
async fn native_auth(server: &Server, name: &str) -> (Client, Value) {
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": name, "password": "long-password-1"}),
        )
        .await;
    (c, r)
}

fn names_of(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m[field].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn general_members(c: &mut Client) -> Vec<String> {
    let r = c.request("getMembers", json!({"chatId": "#General"})).await;
    assert!(r.get("error").is_none(), "{r}");
    names_of(&r["payload"]["members"], "userId")
}

#[tokio::test]
async fn a_gone_guest_leaves_general_and_its_name_passes_on_without_its_past() {
    let server = Server::start_with(&["--guest-grace", "1s"]);
    let mut alice = server.online("alice").await;
    let mut guest = workshop(&server, "visitor").await;
    assert!(general_members(&mut alice)
        .await
        .contains(&"visitor".to_owned()));

    // A direct chat with a guest would pass to whoever takes the name next.
    let dm = alice
        .request(
            "new",
            json!({"chatId": "visitor", "message": "for the guest only"}),
        )
        .await;
    assert_eq!(dm["error"]["code"], "not_found", "{dm}");
    let posted = guest
        .next_where(|v| v["event_type"] == "users_online")
        .await;
    assert_eq!(posted["event_type"], "users_online");
    guest
        .send(json!({"event_type":"message","message":"hello from a visitor"}))
        .await;
    alice.event("new").await;
    drop(guest);

    // The grace (1 s) passes, and the sweep that frees names runs every second.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !general_members(&mut alice)
            .await
            .contains(&"visitor".to_owned()),
        "a gone guest is no member of General"
    );

    let (mut heir, r) = native_auth(&server, "visitor").await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
    let sub = heir.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = sub["payload"]["missed"].as_u64().expect("missed");
    for _ in 0..missed {
        let ev = heir.next_logged().await;
        assert!(
            ev["payload"]["chatId"]
                .as_str()
                .is_some_and(|c| c.starts_with('#')),
            "the new account sees no direct chat of the guest era: {ev}"
        );
    }
    let chats = heir.request("getChats", json!({})).await;
    let ids = names_of(&chats["payload"]["chats"], "chatId");
    assert_eq!(ids, vec!["#General".to_owned()], "{chats}");
    // The guest's words stay in General, but they are not the account's to edit.
    let page = heir
        .request("getMessages", json!({"chatId": "#General", "count": 10}))
        .await;
    let said = page["payload"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["message"] == "hello from a visitor"))
        .cloned()
        .expect("the guest's message stays");
    let edit = heir
        .request(
            "edit",
            json!({"chatId": "#General", "messageId": said["messageId"], "message": "rewritten"}),
        )
        .await;
    assert_eq!(edit["error"]["code"], "forbidden", "{edit}");
}

#[tokio::test]
async fn a_password_login_cannot_take_a_name_a_guest_holds() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let guest = Client::connect(&server.url("/ws/workspace?username=squatter")).await;
    let (mut c, r) = native_auth(&server, "squatter").await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    assert!(matches!(
        c.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    drop(guest);
    // Within the grace (10 minutes by default) the name is still the guest's.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_c, r) = native_auth(&server, "Squatter").await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    let mut rwci = Client::connect(&server.url("/ws/rwci")).await;
    rwci.send(json!({"type":"auth","username":"squatter","password":"long-password-1"}))
        .await;
    let auth = rwci.next().await;
    assert_eq!(auth["success"], false, "{auth}");
    // And the guest comes back to its name.
    let mut back = Client::connect(&server.url("/ws/workspace?username=squatter")).await;
    assert_eq!(back.next().await["type"], "connected");
    assert!(alice
        .request("listUsers", json!({}))
        .await
        .to_string()
        .contains("squatter"));
}

#[tokio::test]
async fn a_guest_cannot_take_an_account_nor_the_admins_rights() {
    let server = Server::start_with(&["--admin", "boss"]);
    let mut alice = server.online("alice").await;
    let r = alice
        .request("new", json!({"chatId": "#General", "message": "keep me"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");

    // The admin has not registered yet: a guest takes the name, and is no admin.
    let mut fake = workshop(&server, "boss").await;
    fake.send(json!({"event_type":"room_chat_clear","room_name":"General"}))
        .await;
    let refused = fake.next_where(|v| v["event_type"] == "system").await;
    assert_eq!(refused["severity"], "error", "{refused}");
    let page = alice
        .request("getMessages", json!({"chatId": "#General", "count": 10}))
        .await;
    assert!(
        page.to_string().contains("keep me"),
        "General not cleared: {page}"
    );

    // An account's name is not a guest's to take, in any case or look-alike.
    for name in ["alice", "ALICE", "\u{430}lice"] {
        let answer = workshop_answer(&server, name).await;
        assert_eq!(
            answer["event_type"], "connection_reject",
            "{name}: {answer}"
        );
    }
    let mut ws = Client::connect(&server.url("/ws/workspace?username=Alice")).await;
    assert!(matches!(
        ws.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
}

#[tokio::test]
async fn look_alike_hidden_and_reserved_names_are_refused() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    for name in [
        "\u{430}lice",  // Cyrillic а beside alice
        "\u{ff41}lice", // full-width a
        "aIice",        // capital I for l
        "server",
        "Admin",
        "p\u{430}rlor",
        "ali\u{200B}ce",
        "ali\u{202E}ce",
    ] {
        let (_c, r) = native_auth(&server, name).await;
        assert_eq!(r["error"]["code"], "bad_request", "{name:?}: {r}");
    }
    for name in [
        "G\u{435}neral",
        "general",
        "evil\u{202E}txt.exe",
        "zero\u{200B}width",
    ] {
        let r = alice.request("createRoom", json!({"name": name})).await;
        let code = r["error"]["code"].as_str().unwrap_or("created");
        assert!(code == "bad_request" || code == "conflict", "{name:?}: {r}");
    }
    let r = alice.request("createRoom", json!({"name": "Attic"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let r = alice
        .request("createRoom", json!({"name": "\u{410}ttic"}))
        .await;
    assert_eq!(r["error"]["code"], "conflict", "{r}");

    // The dialects refuse them too.
    for name in ["\u{430}lice", "server", "PARLOR"] {
        let answer = workshop_answer(&server, name).await;
        assert_eq!(
            answer["event_type"], "connection_reject",
            "{name:?}: {answer}"
        );
    }
    let mut ws = Client::connect(&server.url("/ws/workspace?username=admin")).await;
    assert!(matches!(
        ws.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    let mut rwci = Client::connect(&server.url("/ws/rwci")).await;
    rwci.send(json!({"type":"auth","username":"server","password":"long-password-1"}))
        .await;
    assert_eq!(rwci.next().await["success"], false);
    let mut shop = workshop(&server, "builder").await;
    shop.send(json!({"event_type":"room_create","room":{"room_name":"Gener\u{430}l"}}))
        .await;
    let reject = shop
        .next_where(|v| v["event_type"] == "room_create_reject")
        .await;
    assert!(reject["response"].is_string(), "{reject}");
}

#[tokio::test]
async fn invisible_users_are_not_listed_to_workshop() {
    let server = Server::start();
    let mut hidden = server.online("hidden").await;
    let r = hidden
        .request("setStatus", json!({"status": "offline"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let mut shy = server.online("shy").await;
    shy.send(json!({"type":"event","timestamp":1,"eventType":"offline"}))
        .await;
    let _visible = server.online("visible").await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut c = Client::connect(&server.url("/ws/workshop")).await;
    c.send(json!({"event_type":"connection_request","username":"watcher"}))
        .await;
    assert_eq!(c.next().await["event_type"], "connection_response");
    let rooms = c.next_where(|v| v["event_type"] == "all_rooms").await;
    let general = rooms["rooms"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["room_name"] == "General"))
        .cloned()
        .expect("General");
    let listed: Vec<String> = general["connected_users"]
        .as_array()
        .expect("connected_users")
        .iter()
        .filter_map(|u| u.as_str().map(str::to_owned))
        .collect();
    assert!(listed.contains(&"visible".to_owned()), "{general}");
    let online = c.next_where(|v| v["event_type"] == "users_online").await;
    let users = names_of(&online["users"], "username");
    assert!(users.contains(&"visible".to_owned()), "{online}");
    for invisible in ["hidden", "shy"] {
        assert!(!listed.iter().any(|u| u == invisible), "{general}");
        assert!(!users.iter().any(|u| u == invisible), "{online}");
    }
    // Coming into the room while invisible says nothing either.
    let r = hidden.request("createRoom", json!({"name": "Den"})).await;
    assert!(r.get("error").is_none(), "{r}");
    c.expect_none(Duration::from_millis(500), |v| {
        v["event_type"] == "user_join" && v["username"] != "visible"
    })
    .await;
}
