//! Room moderation and roles (issue 13), over real WebSockets: private rooms are seen
//! and joined only by their members; limited accounts see and reach only their rooms;
//! a room's managers set its topic, make it announcement-only, mute, kick and remove
//! messages, within ranks; roles change only as the owner and admins may; the
//! dialects (Workshop, Workspace, RWCI) follow the same rules.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};

fn code(r: &Value) -> &str {
    r["error"]["code"].as_str().unwrap_or("")
}

fn ok(r: &Value) {
    assert!(r.get("error").is_none(), "refused: {r}");
}

fn room_names(r: &Value) -> Vec<String> {
    r["payload"]["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|room| room["name"].as_str().map(str::to_owned))
        .collect()
}

async fn post(c: &mut Client, chat: &str, text: &str) -> Value {
    c.request("new", json!({"chatId": chat, "message": text}))
        .await
}

#[tokio::test]
async fn private_rooms_are_seen_and_joined_only_by_their_members() {
    let server = Server::start();
    let mut ann = server.online("ann").await; // the owner
    let mut ben = server.online("ben").await;
    let mut cat = server.online("cat").await;

    let r = ben
        .request("createRoom", json!({"name": "Secret", "private": true}))
        .await;
    ok(&r);
    assert_eq!(r["payload"]["private"], true, "{r}");
    assert_eq!(r["payload"]["manage"], true, "{r}");
    ok(&ben.request("createRoom", json!({"name": "Open"})).await);
    // Others hear of the public room only.
    let created = cat.event("roomCreated").await;
    assert_eq!(created["payload"]["name"], "Open", "{created}");

    // To cat, the private room does not exist.
    let r = cat.request("listRooms", json!({})).await;
    assert!(!room_names(&r).contains(&"Secret".to_owned()), "{r}");
    for (kind, payload) in [
        ("joinRoom", json!({"chatId": "#Secret"})),
        ("getMembers", json!({"chatId": "#Secret"})),
        ("getMessages", json!({"chatId": "#Secret", "count": 10})),
        ("new", json!({"chatId": "#Secret", "message": "hi"})),
    ] {
        let r = cat.request(kind, payload).await;
        assert_eq!(code(&r), "not_found", "{kind}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("no room named")),
            "the same answer as a room that does not exist: {r}"
        );
    }
    // The owner sees it listed, as private.
    let r = ann.request("listRooms", json!({})).await;
    let secret = r["payload"]["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|room| room["name"] == "Secret")
        .cloned()
        .unwrap_or_else(|| panic!("the owner sees it: {r}"));
    assert_eq!(secret["private"], true);
    assert_eq!(secret["joined"], false);

    // Its manager adds cat, who hears it, sees it and can post.
    ok(&ben
        .request("addMember", json!({"chatId": "#Secret", "userId": "cat"}))
        .await);
    let joined = cat.event("join").await;
    assert_eq!(joined["payload"]["chatId"], "#Secret", "{joined}");
    assert_eq!(joined["payload"]["userId"], "cat");
    assert_eq!(joined["payload"]["by"], "ben");
    let r = cat.request("listRooms", json!({})).await;
    assert!(room_names(&r).contains(&"Secret".to_owned()), "{r}");
    ok(&post(&mut cat, "#Secret", "thanks for the invite").await);
    // A plain member of it cannot add others.
    let r = cat
        .request("addMember", json!({"chatId": "#Secret", "userId": "ann"}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");

    // Workshop guests never see it; switching to it finds no room.
    let mut w = Client::connect(&server.url("/ws/workshop")).await;
    w.send(json!({"event_type":"connection_request","username":"wendy"}))
        .await;
    let rooms = w.next_where(|v| v["event_type"] == "all_rooms").await;
    let names: Vec<&str> = rooms["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|r| r["room_name"].as_str())
        .collect();
    assert!(
        names.contains(&"Open") && !names.contains(&"Secret"),
        "{rooms}"
    );
    w.send(json!({"event_type":"room_switch_request","room_name":"Secret"}))
        .await;
    let reject = w
        .next_where(|v| v["event_type"] == "room_switch_reject")
        .await;
    assert_eq!(reject["response"], "Room not found", "{reject}");
}

#[tokio::test]
async fn limited_accounts_see_and_reach_only_their_rooms() {
    let server = Server::start();
    let mut ann = server.online("ann").await; // the owner
    let mut ben = server.online("ben").await;
    let mut kid = server.online("kid").await;
    ok(&ben.request("createRoom", json!({"name": "Open"})).await);
    ok(&ben.request("createRoom", json!({"name": "Family"})).await);

    let r = ann
        .request("setRole", json!({"userId": "kid", "role": "limited"}))
        .await;
    ok(&r);
    assert_eq!(r["payload"]["role"], "limited", "{r}");
    let told = kid.event("role").await;
    assert_eq!(told["payload"], json!({"userId": "kid", "role": "limited"}));

    // No new rooms, no joining, only their own rooms listed.
    let r = kid.request("createRoom", json!({"name": "Mine"})).await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = kid.request("joinRoom", json!({"chatId": "#Open"})).await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = kid.request("listRooms", json!({})).await;
    assert_eq!(room_names(&r), vec!["General"], "{r}");

    // In General together, kid and ben may talk directly.
    ok(&post(&mut kid, "ben", "hi ben").await);
    // Taken out of General (only a limited account can be), they share no room.
    let r = ann
        .request("kick", json!({"chatId": "#General", "userId": "ben"}))
        .await;
    assert_eq!(code(&r), "forbidden", "a member stays in General: {r}");
    ok(&ann
        .request("kick", json!({"chatId": "#General", "userId": "kid"}))
        .await);
    let left = kid.event("leave").await;
    assert_eq!(left["payload"]["chatId"], "#General", "{left}");
    assert_eq!(left["payload"]["by"], "ann", "{left}");
    let r = post(&mut kid, "ben", "still there?").await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = post(&mut ben, "kid", "hello?").await;
    assert_eq!(code(&r), "forbidden", "both ways: {r}");
    let r = kid.request("listRooms", json!({})).await;
    assert!(room_names(&r).is_empty(), "{r}");

    // Added to Family by its creator: that room, and talking to ben, again.
    ok(&ben
        .request("addMember", json!({"chatId": "#Family", "userId": "kid"}))
        .await);
    let r = kid.request("listRooms", json!({})).await;
    assert_eq!(room_names(&r), vec!["Family"], "{r}");
    ok(&post(&mut kid, "#Family", "hello family").await);
    ok(&post(&mut kid, "ben", "back").await);
    // Rejoining a room one is in is harmless.
    ok(&kid.request("joinRoom", json!({"chatId": "#Family"})).await);
}

#[tokio::test]
async fn roles_change_only_as_the_owner_and_admins_may() {
    let server = Server::start();
    let mut ann = server.online("ann").await; // the owner
    let mut ben = server.online("ben").await;
    let mut cat = server.online("cat").await;
    let _dan = server.online("dan").await;

    let r = cat
        .request("setRole", json!({"userId": "dan", "role": "limited"}))
        .await;
    assert_eq!(code(&r), "forbidden", "a member: {r}");
    ok(&ann
        .request("setRole", json!({"userId": "ben", "role": "admin"}))
        .await);
    // An admin moves people between member and limited, nothing more.
    ok(&ben
        .request("setRole", json!({"userId": "dan", "role": "limited"}))
        .await);
    ok(&ben
        .request("setRole", json!({"userId": "dan", "role": "member"}))
        .await);
    for (who, role) in [("cat", "admin"), ("ann", "member")] {
        let r = ben
            .request("setRole", json!({"userId": who, "role": role}))
            .await;
        assert_eq!(code(&r), "forbidden", "{who} → {role}: {r}");
    }
    let r = ann
        .request("setRole", json!({"userId": "cat", "role": "owner"}))
        .await;
    assert_eq!(code(&r), "forbidden", "there is one owner: {r}");
    let r = ann
        .request("setRole", json!({"userId": "ann", "role": "member"}))
        .await;
    assert_eq!(code(&r), "bad_request", "{r}");
    let r = ann
        .request("setRole", json!({"userId": "nobody", "role": "member"}))
        .await;
    assert_eq!(code(&r), "not_found", "{r}");
    // The role is kept: a new login says it.
    let mut again = server.client().await;
    let r = again
        .request(
            "auth",
            json!({"username": "ben", "password": "password-ben"}),
        )
        .await;
    assert_eq!(r["payload"]["role"], "admin", "{r}");
}

#[tokio::test]
async fn managers_moderate_their_rooms_within_ranks() {
    let mut server = Server::start();
    let mut ann = server.online("ann").await; // the owner
    let mut ben = server.online("ben").await;
    let mut cat = server.online("cat").await;
    let mut dan = server.online("dan").await;
    ok(&ben.request("createRoom", json!({"name": "Club"})).await);
    ok(&cat.request("joinRoom", json!({"chatId": "#Club"})).await);
    ok(&dan.request("joinRoom", json!({"chatId": "#Club"})).await);
    let early = post(&mut dan, "#Club", "first!").await;
    ok(&early);
    let early_id = early["payload"]["messageId"].clone();

    // The topic, told to the members.
    let r = ben
        .request(
            "setRoom",
            json!({"chatId": "#Club", "topic": "Chess on Fridays"}),
        )
        .await;
    ok(&r);
    assert_eq!(r["payload"]["topic"], "Chess on Fridays", "{r}");
    let ev = cat.event("room").await;
    assert_eq!(ev["payload"]["topic"], "Chess on Fridays", "{ev}");
    assert_eq!(ev["payload"]["by"], "ben");
    let r = cat
        .request("setRoom", json!({"chatId": "#Club", "topic": "mine now"}))
        .await;
    assert_eq!(code(&r), "forbidden", "not a manager: {r}");
    let r = ben
        .request(
            "setRoom",
            json!({"chatId": "#Club", "topic": "x".repeat(251)}),
        )
        .await;
    assert_eq!(code(&r), "bad_request", "{r}");
    let r = ben
        .request("setRoom", json!({"chatId": "#Club", "topic": "two\nlines"}))
        .await;
    assert_eq!(code(&r), "bad_request", "{r}");
    let r = ann
        .request("setRoom", json!({"chatId": "#General", "private": true}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");

    // Muted: no messages, no reactions, until let speak again.
    ok(&ben
        .request(
            "mute",
            json!({"chatId": "#Club", "userId": "cat", "muted": true}),
        )
        .await);
    let ev = cat.event("room").await;
    assert_eq!(ev["payload"]["muted"], json!(["cat"]), "{ev}");
    let r = post(&mut cat, "#Club", "can I speak?").await;
    assert_eq!(code(&r), "forbidden", "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("muted")));
    let r = cat
        .request(
            "react",
            json!({"chatId": "#Club", "messageId": early_id, "emoji": "👍", "add": true}),
        )
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = ben
        .request(
            "mute",
            json!({"chatId": "#Club", "userId": "ann", "muted": true}),
        )
        .await;
    assert_eq!(code(&r), "forbidden", "nobody mutes the owner: {r}");
    ok(&ben
        .request(
            "mute",
            json!({"chatId": "#Club", "userId": "cat", "muted": false}),
        )
        .await);
    ok(&post(&mut cat, "#Club", "thank you").await);

    // Announcement-only: managers post, the others read and react.
    ok(&ben
        .request("setRoom", json!({"chatId": "#Club", "announce": true}))
        .await);
    let r = post(&mut dan, "#Club", "me too").await;
    assert_eq!(code(&r), "forbidden", "{r}");
    ok(&post(&mut ben, "#Club", "Friday at 7").await);
    ok(&ann.request("joinRoom", json!({"chatId": "#Club"})).await);
    ok(&post(&mut ann, "#Club", "the owner may").await);
    ok(&dan
        .request(
            "react",
            json!({"chatId": "#Club", "messageId": early_id, "emoji": "🎉", "add": true}),
        )
        .await);

    // Anyone's message removed by a manager, never by another member.
    let r = cat
        .request("delete", json!({"chatId": "#Club", "messageId": early_id}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");
    ok(&ben
        .request("delete", json!({"chatId": "#Club", "messageId": early_id}))
        .await);
    let gone = dan.next_where(|v| v["eventType"] == "delete").await;
    assert_eq!(gone["payload"]["messageId"], early_id, "{gone}");
    assert_eq!(gone["payload"]["by"], "ben", "{gone}");

    // Kick: the person is told and is out; nobody kicks the owner; members cannot kick.
    let r = cat
        .request("kick", json!({"chatId": "#Club", "userId": "dan"}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = ben
        .request("kick", json!({"chatId": "#Club", "userId": "ann"}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");
    ok(&ben
        .request("kick", json!({"chatId": "#Club", "userId": "dan"}))
        .await);
    let left = dan.next_where(|v| v["eventType"] == "leave").await;
    assert_eq!(left["payload"]["by"], "ben", "{left}");
    let r = dan
        .request("getMessages", json!({"chatId": "#Club", "count": 5}))
        .await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let r = ben
        .request("kick", json!({"chatId": "#Club", "userId": "dan"}))
        .await;
    assert_eq!(code(&r), "not_found", "already out: {r}");

    // The settings survive a restart.
    drop((ann, ben, cat, dan));
    server.crash_and_restart();
    let mut cat = server.login("cat").await;
    let r = cat.request("listRooms", json!({})).await;
    let club = r["payload"]["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|room| room["name"] == "Club")
        .cloned()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(club["topic"], "Chess on Fridays", "{club}");
    assert_eq!(club["announce"], true, "{club}");
    let r = post(&mut cat, "#Club", "after the restart").await;
    assert_eq!(code(&r), "forbidden", "{r}");
}

/// An RWCI account logged in (registering it on first use).
async fn rwci(server: &Server, name: &str) -> Client {
    let mut c = Client::connect(&server.url("/ws/rwci")).await;
    c.send(json!({"type":"auth","username":name,"password":format!("password-{name}")}))
        .await;
    let auth = c.next_where(|v| v["type"] == "auth").await;
    assert_eq!(auth["success"], true, "{auth}");
    c
}

/// The next "Not sent: …" notice the RWCI server sends `c`.
async fn rwci_notice(c: &mut Client) -> String {
    let dm = c
        .next_where(|v| v["type"] == "direct_message" && v["author"] == "server")
        .await;
    dm["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_dialects_follow_the_room_rules() {
    let server = Server::start();
    let mut ann = server.online("ann").await; // the owner
    let mut rita = rwci(&server, "rita").await;
    let mut kid = rwci(&server, "kid").await;

    // General made announcement-only: only its managers post, on every protocol.
    ok(&ann
        .request("setRoom", json!({"chatId": "#General", "announce": true}))
        .await);
    rita.send(json!({"type":"message","message":"hello all"}))
        .await;
    let why = rwci_notice(&mut rita).await;
    assert!(why.contains("only the managers"), "{why}");
    let mut ws = Client::connect(&server.url("/ws/workspace?username=wes")).await;
    ws.next_where(|v| v["type"] == "connected").await;
    ws.send(json!({"type":"message:send","text":"hi"})).await;
    let err = ws.next_where(|v| v["type"] == "error").await;
    assert_eq!(err["code"], "forbidden", "{err}");
    let mut w = Client::connect(&server.url("/ws/workshop")).await;
    w.send(json!({"event_type":"connection_request","username":"wendy"}))
        .await;
    w.next_where(|v| v["event_type"] == "users_online").await;
    w.send(json!({"event_type":"message","message":"hi","username":"wendy"}))
        .await;
    let sys = w.next_where(|v| v["event_type"] == "system").await;
    assert!(
        sys["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Not sent") && m.contains("managers")),
        "{sys}"
    );
    ok(&post(&mut ann, "#General", "announcement").await);
    ok(&ann
        .request("setRoom", json!({"chatId": "#General", "announce": false}))
        .await);

    // Muted in General: RWCI is told, and nobody hears the words.
    ok(&ann
        .request(
            "mute",
            json!({"chatId": "#General", "userId": "rita", "muted": true}),
        )
        .await);
    rita.send(json!({"type":"message","message":"let me speak"}))
        .await;
    let why = rwci_notice(&mut rita).await;
    assert!(why.contains("muted"), "{why}");
    ok(&ann
        .request(
            "mute",
            json!({"chatId": "#General", "userId": "rita", "muted": false}),
        )
        .await);
    rita.send(json!({"type":"message","message":"thank you"}))
        .await;
    let heard = ann
        .next_where(|v| v["eventType"] == "new" && v["payload"]["sender"] == "rita")
        .await;
    assert_eq!(heard["payload"]["message"], "thank you", "{heard}");

    // A limited RWCI account taken out of General can no longer talk to anyone.
    ok(&ann
        .request("setRole", json!({"userId": "kid", "role": "limited"}))
        .await);
    ok(&ann
        .request("kick", json!({"chatId": "#General", "userId": "kid"}))
        .await);
    kid.send(json!({"type":"direct_message","recipient":"rita","message":"psst"}))
        .await;
    let why = rwci_notice(&mut kid).await;
    assert!(why.contains("share no room"), "{why}");
    kid.send(json!({"type":"message","message":"anyone?"}))
        .await;
    let why = rwci_notice(&mut kid).await;
    assert!(why.contains("General"), "{why}");
}

#[tokio::test]
async fn a_rooms_retention_removes_old_messages_as_a_deletion_does() {
    let mut server = Server::start_with(&["--retention-sweep", "200ms"]);
    let mut ann = server.online("ann").await;
    ok(&ann.request("createRoom", json!({"name": "Brief"})).await);
    let mut ids = Vec::new();
    for text in ["the boiler code is 4711", "old news", "still fresh"] {
        let r = post(&mut ann, "#Brief", text).await;
        ok(&r);
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    let r = ann
        .request("setRoom", json!({"chatId": "#Brief", "retentionDays": 30}))
        .await;
    ok(&r);
    assert_eq!(r["payload"]["retentionDays"], 30, "{r}");
    let r = ann
        .request(
            "setRoom",
            json!({"chatId": "#Brief", "retentionDays": 3651}),
        )
        .await;
    assert_eq!(code(&r), "bad_request", "{r}");
    drop(ann);

    // The first two messages were sent 40 days ago.
    server.terminate();
    {
        let db = rusqlite::Connection::open(server.data.join("parlor.db")).expect("db");
        let days_40 = 40_i64 * 24 * 3600 * 1000;
        db.execute(
            "UPDATE messages SET created_at = created_at - ?1 WHERE id IN (?2, ?3)",
            rusqlite::params![days_40, ids[0] as i64, ids[1] as i64],
        )
        .expect("age the messages");
    }
    server.restart();

    let mut ann = server.login("ann").await;
    let r = ann.request("subscribe", json!({"lastEventId": 0})).await;
    ok(&r);
    // Within a few sweeps, both old messages are tombstones; the fresh one stays.
    let mut history = Value::Null;
    for _ in 0..50 {
        history = ann
            .request("getMessages", json!({"chatId": "#Brief", "count": 10}))
            .await;
        let deleted = history["payload"]
            .as_array()
            .map(|m| m.iter().filter(|m| m["deleted"] == true).count())
            .unwrap_or(0);
        if deleted == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let messages = history["payload"].as_array().expect("messages");
    let text_of = |id: u64| {
        messages
            .iter()
            .find(|m| m["messageId"] == id)
            .map(|m| (m["message"].clone(), m["deleted"].clone()))
    };
    assert_eq!(text_of(ids[0]), Some((json!(""), json!(true))), "{history}");
    assert_eq!(text_of(ids[1]), Some((json!(""), json!(true))), "{history}");
    assert_eq!(text_of(ids[2]), Some((json!("still fresh"), Value::Null)));
    // Gone from search and from the log, as a deletion leaves them.
    let r = ann.request("search", json!({"query": "boiler"})).await;
    assert_eq!(r["payload"]["hits"], json!([]), "{r}");
    let mut fresh = server.login("ann").await;
    let r = fresh.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().unwrap_or(0);
    let mut deletes = 0;
    for _ in 0..missed {
        let ev = fresh.next_logged().await;
        let text = ev["payload"]["message"].as_str().unwrap_or("");
        assert!(
            !text.contains("boiler") && !text.contains("old news"),
            "{ev}"
        );
        if ev["eventType"] == "delete" {
            deletes += 1;
        }
    }
    assert_eq!(deletes, 2, "each removal is a logged delete");
}
