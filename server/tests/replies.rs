//! Replies over real WebSockets: a reply carries a quote of the message it answers
//! (author, first line, or `deleted`) live, in history, after a reconnect's replay and
//! after `kill -9`; the quote follows edits and deletes of the original, whose text is
//! then nowhere (not in the reply, not in the log, not in the database files); a reply
//! to a message of another chat, an unknown one or a deleted one is refused; and the
//! seed dialects get plain text, a reply opened by a one-line quote.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "SECRET-ORIGINAL-41c9e2";

async fn post(c: &mut Client, chat: &str, text: &str, reply_to: Option<u64>) -> Value {
    let mut payload = json!({"chatId": chat, "message": text});
    if let Some(id) = reply_to {
        payload["replyTo"] = json!(id);
    }
    c.request("new", payload).await
}

async fn posted(c: &mut Client, chat: &str, text: &str, reply_to: Option<u64>) -> u64 {
    let r = post(c, chat, text, reply_to).await;
    r["payload"]["messageId"]
        .as_u64()
        .unwrap_or_else(|| panic!("posted: {r}"))
}

/// The `new` event of message `id` among a client's frames.
async fn new_event(c: &mut Client, id: u64) -> Value {
    c.next_where(move |v| v["eventType"] == "new" && v["payload"]["messageId"] == id)
        .await
}

/// `getMessage` of `id` in General, as `name` reads it.
async fn read_one(c: &mut Client, id: u64) -> Value {
    let r = c
        .request("getMessage", json!({"chatId":"#General","messageId":id}))
        .await;
    r["payload"].clone()
}

/// The reply's item in a `getMessages` page of General.
async fn in_page(c: &mut Client, id: u64) -> Value {
    let r = c
        .request("getMessages", json!({"chatId":"#General","count":50}))
        .await;
    r["payload"]
        .as_array()
        .and_then(|items| items.iter().find(|m| m["messageId"] == id).cloned())
        .unwrap_or_else(|| panic!("{id} in {r}"))
}

/// Every `new` event of a full replay for a fresh connection of `name`.
async fn replayed_news(server: &Server, name: &str) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut news = Vec::new();
    for _ in 0..missed {
        let ev = c.next_logged().await;
        if ev["eventType"] == "new" {
            news.push(ev["payload"].clone());
        }
    }
    news
}

fn quote_of(original: u64, sender: &str, excerpt: &str) -> Value {
    json!({"messageId": original, "sender": sender, "excerpt": excerpt})
}

#[tokio::test]
async fn a_reply_carries_its_quote_live_in_history_after_a_reconnect_and_after_kill_9() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let original = posted(
        &mut alice,
        "#General",
        "**Boiler** is broken\nsecond line",
        None,
    )
    .await;
    let reply = posted(&mut bob, "#General", "I will call someone", Some(original)).await;
    let quote = quote_of(original, "alice", "Boiler is broken");

    let live = new_event(&mut alice, reply).await;
    assert_eq!(live["payload"]["replyTo"], quote, "live: {live}");
    // The original itself is no reply.
    let first = new_event(&mut bob, original).await;
    assert!(first["payload"].get("replyTo").is_none(), "{first}");

    assert_eq!(read_one(&mut alice, reply).await["replyTo"], quote);
    assert_eq!(in_page(&mut alice, reply).await["replyTo"], quote);
    let news = replayed_news(&server, "alice").await;
    let replayed = news
        .iter()
        .find(|n| n["messageId"] == reply)
        .expect("in replay");
    assert_eq!(replayed["replyTo"], quote, "after a reconnect");

    // An edit of the original shows in the quote at the next read.
    let r = alice
        .request(
            "edit",
            json!({"chatId":"#General","messageId":original,"message":"Boiler _fixed_\nthanks"}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let edited = quote_of(original, "alice", "Boiler fixed");
    assert_eq!(read_one(&mut bob, reply).await["replyTo"], edited);

    drop((alice, bob));
    server.crash_and_restart();
    let mut carol = server.online("carol").await;
    assert_eq!(
        in_page(&mut carol, reply).await["replyTo"],
        edited,
        "after kill -9"
    );
    let news = replayed_news(&server, "bob").await;
    let replayed = news
        .iter()
        .find(|n| n["messageId"] == reply)
        .expect("in replay");
    assert_eq!(replayed["replyTo"], edited, "replayed after kill -9");
}

/// Whether the database files (database, WAL) hold `marker`.
fn on_disk(data: &Path, marker: &str) -> bool {
    ["parlor.db", "parlor.db-wal"].iter().any(|name| {
        std::fs::read(data.join(name))
            .map(|b| String::from_utf8_lossy(&b).contains(marker))
            .unwrap_or(false)
    })
}

async fn gone_from_disk(data: &Path, marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_disk(data, marker) {
        assert!(
            Instant::now() < deadline,
            "the database files still hold {marker}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_no_secret(what: &str, v: &Value) {
    assert!(
        !v.to_string().contains(SECRET),
        "{what} holds the text: {v}"
    );
}

#[tokio::test]
async fn a_deleted_original_leaves_a_deleted_quote_and_its_text_nowhere() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let original = posted(&mut alice, "#General", &format!("{SECRET} first"), None).await;
    let reply = posted(&mut bob, "#General", "answering", Some(original)).await;
    let live = new_event(&mut alice, reply).await;
    assert_eq!(
        live["payload"]["replyTo"]["excerpt"],
        format!("{SECRET} first")
    );
    // The text was on disk (in the original's row and event) before the delete.
    assert!(on_disk(&server.data, SECRET) || server.data.join("parlor.db-wal").exists());

    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":original}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let gone = json!({"messageId": original, "sender": "alice", "deleted": true});
    let one = read_one(&mut bob, reply).await;
    assert_eq!(one["replyTo"], gone, "{one}");
    assert_eq!(in_page(&mut bob, reply).await["replyTo"], gone);
    let news = replayed_news(&server, "bob").await;
    for n in &news {
        assert_no_secret("a replayed event", n);
    }
    let replayed = news
        .iter()
        .find(|n| n["messageId"] == reply)
        .expect("in replay");
    assert_eq!(replayed["replyTo"], gone);
    gone_from_disk(&server.data, SECRET).await;

    // The same after kill -9.
    drop((alice, bob));
    server.crash_and_restart();
    assert!(!on_disk(&server.data, SECRET), "after kill -9");
    let mut bob = server.online("bob").await;
    assert_eq!(in_page(&mut bob, reply).await["replyTo"], gone);

    // A cleared room takes the original and its replies: nothing of them remains.
    let mut alice = server.online("alice").await;
    let r = alice.request("createRoom", json!({"name":"Den"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let in_den = posted(&mut alice, "#Den", &format!("{SECRET} den"), None).await;
    posted(&mut alice, "#Den", "self reply", Some(in_den)).await;
    let r = alice.request("clearRoom", json!({"chatId":"#Den"})).await;
    assert!(r.get("error").is_none(), "{r}");
    gone_from_disk(&server.data, SECRET).await;
    for n in replayed_news(&server, "alice").await {
        assert_no_secret("a replay after the clear", &n);
    }
}

#[tokio::test]
async fn a_reply_to_another_chat_an_unknown_or_a_deleted_message_is_refused() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice.request("createRoom", json!({"name":"Attic"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let in_attic = posted(&mut alice, "#Attic", "upstairs", None).await;
    let direct = posted(&mut alice, "bob", "just us", None).await;
    let deleted = posted(&mut alice, "#General", "soon gone", None).await;
    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":deleted}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let before = bob
        .request("getMessages", json!({"chatId":"#General","count":50}))
        .await["payload"]
        .as_array()
        .map(Vec::len);

    for (target, why) in [
        (in_attic, "no such message"),
        (direct, "no such message"),
        (999_999, "no such message"),
        (deleted, "deleted"),
    ] {
        let r = post(&mut bob, "#General", "answer", Some(target)).await;
        assert_eq!(r["error"]["code"], "not_found", "replyTo {target}: {r}");
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{message}");
    }
    // A reply in the direct chat to its own message is fine.
    let r = post(&mut bob, "alice", "yes", Some(direct)).await;
    assert!(r.get("error").is_none(), "{r}");
    let after = bob
        .request("getMessages", json!({"chatId":"#General","count":50}))
        .await["payload"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "nothing refused was stored");
    // A replyTo that is not a message id is a bad request.
    let r = bob
        .request(
            "new",
            json!({"chatId":"#General","message":"x","replyTo":"abc"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
}

#[tokio::test]
async fn dialects_get_plain_text_and_a_reply_opened_by_a_one_line_quote() {
    let server = Server::start();
    let mut rwci = Client::connect(&server.url("/ws/rwci")).await;
    rwci.send(json!({"type":"auth","username":"rw","password":"password-rw"}))
        .await;
    rwci.next_where(|v| v["type"] == "join").await;
    let mut space = Client::connect(&server.url("/ws/workspace?username=spacer")).await;
    assert_eq!(space.next().await["type"], "connected");
    let mut shop = Client::connect(&server.url("/ws/workshop")).await;
    shop.send(json!({"event_type":"connection_request","username":"shopper"}))
        .await;
    shop.next_where(|v| v["event_type"] == "users_online").await;

    let mut alice = server.online("alice").await;
    let original = posted(
        &mut alice,
        "#General",
        "**Boiler** is ~~fine~~ broken, see `log` and [the manual](https://example.com/m)",
        None,
    )
    .await;
    let plain = "Boiler is fine broken, see `log` and the manual (https://example.com/m)";
    posted(&mut alice, "#General", "> quoted\n- *one*\n- two", None).await;
    let blocks = "> quoted\n- one\n- two";
    posted(&mut alice, "#General", "on _it_", Some(original)).await;
    let reply = format!("> alice: {plain}\non it");

    for text in [plain, blocks, reply.as_str()] {
        let t = text.to_string();
        rwci.next_where(move |v| v["type"] == "message" && v["message"] == t.as_str())
            .await;
        let t = text.to_string();
        space
            .next_where(move |v| v["type"] == "message:new" && v["data"]["text"] == t.as_str())
            .await;
        let t = text.to_string();
        shop.next_where(move |v| v["event_type"] == "message" && v["message"] == t.as_str())
            .await;
    }
    // Workshop's history on entering a room is converted the same way.
    let mut late = Client::connect(&server.url("/ws/workshop")).await;
    late.send(json!({"event_type":"connection_request","username":"late"}))
        .await;
    let history = late
        .next_where(|v| v["event_type"] == "message_history")
        .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(texts, [plain, blocks, reply.as_str()], "{history}");
}
