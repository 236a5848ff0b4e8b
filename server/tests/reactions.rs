//! Reactions over real WebSockets: one person's emoji reaches the chat's other members
//! with who put it there, counts once per person, shows in history, replays after a
//! reconnect and after `kill -9`, goes with its message (from history, the log and the
//! database file), and is refused when it is not one emoji, one too many, on nothing,
//! in someone else's chat or one of a flood. Dialect clients, who cannot show
//! reactions, get no frame for one.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_millis(400);

async fn post(c: &mut Client, chat: &str, text: &str) -> u64 {
    let r = c
        .request("new", json!({"chatId": chat, "message": text}))
        .await;
    r["payload"]["messageId"].as_u64().expect("messageId")
}

async fn react(c: &mut Client, chat: &str, id: u64, emoji: &str, add: bool) -> Value {
    c.request(
        "react",
        json!({"chatId": chat, "messageId": id, "emoji": emoji, "add": add}),
    )
    .await
}

fn ok(r: &Value) {
    assert!(r.get("error").is_none(), "refused: {r}");
}

fn refused(r: &Value, code: &str) {
    assert_eq!(r["error"]["code"], code, "{r}");
}

fn is_reaction(v: &Value) -> bool {
    v["type"] == "event" && v["eventType"] == "reaction"
}

/// The reactions of message `id` as `getMessages` and `getMessage` show them (both
/// must agree).
async fn reactions(c: &mut Client, chat: &str, id: u64) -> Value {
    let page = c
        .request("getMessages", json!({"chatId": chat, "count": 100}))
        .await;
    let item = page["payload"]
        .as_array()
        .expect("a page")
        .iter()
        .find(|m| m["messageId"] == id)
        .cloned()
        .expect("the message is in the page");
    let one = c
        .request("getMessage", json!({"chatId": chat, "messageId": id}))
        .await;
    assert_eq!(one["payload"]["reactions"], item["reactions"], "{one}");
    item.get("reactions").cloned().unwrap_or(json!([]))
}

#[tokio::test]
async fn a_reaction_reaches_the_chat_with_who_counts_once_per_person_and_toggles_off() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut carol = server.online("carol").await;
    let id = post(&mut alice, "#General", "the boiler is fixed").await;

    ok(&react(&mut bob, "#General", id, "👍", true).await);
    let ev = alice.next_where(is_reaction).await;
    assert!(
        ev["id"].as_u64().is_some(),
        "a logged event has an id: {ev}"
    );
    assert_eq!(
        ev["payload"],
        json!({"chatId":"#General","messageId":id,"emoji":"👍","userId":"bob","add":true})
    );
    carol.next_where(is_reaction).await;

    // Once per person: the same again changes nothing and tells nobody.
    ok(&react(&mut bob, "#General", id, "👍", true).await);
    alice.expect_none(QUIET, is_reaction).await;
    ok(&react(&mut carol, "#General", id, "👍", true).await);
    ok(&react(&mut carol, "#General", id, "🎉", true).await);
    assert_eq!(
        reactions(&mut alice, "#General", id).await,
        json!([{"emoji":"👍","users":["bob","carol"]},{"emoji":"🎉","users":["carol"]}])
    );

    // Toggled off: the others see who took it back.
    ok(&react(&mut bob, "#General", id, "👍", false).await);
    let off = alice
        .next_where(|v| is_reaction(v) && v["payload"]["add"] == false)
        .await;
    assert_eq!(off["payload"]["userId"], "bob");
    ok(&react(&mut bob, "#General", id, "👍", false).await);
    assert_eq!(
        reactions(&mut bob, "#General", id).await,
        json!([{"emoji":"👍","users":["carol"]},{"emoji":"🎉","users":["carol"]}])
    );

    // The heart written without its variation selector is the same heart.
    ok(&react(&mut alice, "#General", id, "❤", true).await);
    ok(&react(&mut bob, "#General", id, "❤️", true).await);
    let all = reactions(&mut carol, "#General", id).await;
    assert_eq!(all[2], json!({"emoji":"❤️","users":["alice","bob"]}));

    // A message without reactions carries no field at all.
    let plain = post(&mut alice, "#General", "nothing on this one").await;
    let one = bob
        .request("getMessage", json!({"chatId":"#General","messageId":plain}))
        .await;
    assert!(one["payload"].get("reactions").is_none(), "{one}");
}

#[tokio::test]
async fn reactions_in_a_direct_chat_reach_the_other_person() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "bob", "psst").await;
    ok(&react(&mut bob, "alice", id, "😮", true).await);
    let ev = alice.next_where(is_reaction).await;
    assert_eq!(
        ev["payload"]["chatId"], "bob",
        "alice sees the chat as bob: {ev}"
    );
    assert_eq!(ev["payload"]["userId"], "bob");
}

/// Subscribes a new connection of `name` from `after`: its replayed reaction events.
async fn replayed_reactions(server: &Server, name: &str, after: u64) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c
        .request("subscribe", json!({ "lastEventId": after }))
        .await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut out = Vec::new();
    for _ in 0..missed {
        let ev = c.next_logged().await;
        if is_reaction(&ev) {
            out.push(ev["payload"].clone());
        }
    }
    out
}

#[tokio::test]
async fn reactions_replay_after_a_reconnect_and_after_kill_9() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "vote with emoji").await;
    let seen = bob.next_where(|v| v["eventType"] == "new").await;
    let last = seen["id"].as_u64().expect("event id");
    drop(bob);

    // bob is away while alice reacts and takes one back.
    ok(&react(&mut alice, "#General", id, "👍", true).await);
    ok(&react(&mut alice, "#General", id, "😂", true).await);
    ok(&react(&mut alice, "#General", id, "😂", false).await);
    let expected = vec![
        json!({"chatId":"#General","messageId":id,"emoji":"👍","userId":"alice","add":true}),
        json!({"chatId":"#General","messageId":id,"emoji":"😂","userId":"alice","add":true}),
        json!({"chatId":"#General","messageId":id,"emoji":"😂","userId":"alice","add":false}),
    ];
    assert_eq!(replayed_reactions(&server, "bob", last).await, expected);

    drop(alice);
    server.crash_and_restart();
    assert_eq!(replayed_reactions(&server, "bob", last).await, expected);
    let mut bob = server.online("bob").await;
    assert_eq!(
        reactions(&mut bob, "#General", id).await,
        json!([{"emoji":"👍","users":["alice"]}])
    );
}

/// Whether the database files hold `needle` (as bytes).
fn on_disk(data: &Path, needle: &str) -> bool {
    ["parlor.db", "parlor.db-wal"].iter().any(|name| {
        std::fs::read(data.join(name))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

/// Waits (at most 5 s) for the database files to lose `needle`.
async fn gone_from_disk(data: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_disk(data, needle) {
        assert!(
            Instant::now() < deadline,
            "the database files still hold {needle}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_deleted_message_takes_its_reactions_from_history_the_log_and_the_disk() {
    // Emoji that appear nowhere else in the database: their bytes mark the reactions.
    const FLAMINGO: &str = "🦩";
    const JELLYFISH: &str = "🪼";
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "to be deleted").await;
    ok(&react(&mut bob, "#General", id, FLAMINGO, true).await);
    alice.next_where(is_reaction).await;
    ok(&alice
        .request("delete", json!({"chatId":"#General","messageId":id}))
        .await);
    assert!(replayed_reactions(&server, "bob", 0).await.is_empty());
    let one = bob
        .request("getMessage", json!({"chatId":"#General","messageId":id}))
        .await;
    assert!(one["payload"].get("reactions").is_none(), "{one}");
    // A reaction to the deleted message is refused.
    refused(
        &react(&mut bob, "#General", id, "👍", true).await,
        "not_found",
    );
    gone_from_disk(&server.data, FLAMINGO).await;

    // A room cleared takes its reactions too, and a kill -9 right after brings none back.
    let r = alice.request("createRoom", json!({"name":"Den"})).await;
    ok(&r);
    let den = post(&mut alice, "#Den", "in the den").await;
    ok(&react(&mut alice, "#Den", den, JELLYFISH, true).await);
    ok(&alice.request("clearRoom", json!({"chatId":"#Den"})).await);
    drop((alice, bob));
    server.crash_and_restart();
    assert!(
        !on_disk(&server.data, JELLYFISH),
        "after a clear and kill -9"
    );
    assert!(replayed_reactions(&server, "alice", 0).await.is_empty());
}

#[tokio::test]
async fn bad_emoji_unknown_messages_and_strangers_are_refused() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "react to me").await;
    let long = "👍".repeat(20);
    for bad in [
        "",
        "a",
        "👍👍",
        "👍 ",
        "<script>",
        "🏽",
        "\u{200b}",
        long.as_str(),
    ] {
        refused(
            &react(&mut bob, "#General", id, bad, true).await,
            "bad_request",
        );
    }
    refused(
        &react(&mut bob, "#General", 999_999, "👍", true).await,
        "not_found",
    );
    // A message of another chat, named through this one.
    let _carol = server.online("carol").await;
    let direct = post(&mut alice, "carol", "private").await;
    refused(
        &react(&mut bob, "#General", direct, "👍", true).await,
        "not_found",
    );
    // A room bob is not in.
    ok(&alice.request("createRoom", json!({"name":"Den"})).await);
    let den = post(&mut alice, "#Den", "members only").await;
    refused(&react(&mut bob, "#Den", den, "👍", true).await, "forbidden");
    // Not even a missing field gets through.
    let r = bob
        .request(
            "react",
            json!({"chatId":"#General","messageId":id,"emoji":"👍"}),
        )
        .await;
    refused(&r, "bad_request");
    alice.expect_none(QUIET, is_reaction).await;
    assert!(reactions(&mut alice, "#General", id).await == json!([]));
}

#[tokio::test]
async fn a_message_carries_at_most_the_distinct_emoji_allowed() {
    let server = Server::start_with(&["--max-reactions-per-message", "3"]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "pile on").await;
    for e in ["👍", "❤️", "😂"] {
        ok(&react(&mut alice, "#General", id, e, true).await);
    }
    let r = react(&mut bob, "#General", id, "🎉", true).await;
    refused(&r, "conflict");
    assert!(
        r["error"]["message"].as_str().unwrap_or("").contains('3'),
        "{r}"
    );
    // One of those already there is still open to everyone.
    ok(&react(&mut bob, "#General", id, "😂", true).await);
    // Taking one away makes room.
    ok(&react(&mut alice, "#General", id, "👍", false).await);
    ok(&react(&mut bob, "#General", id, "🎉", true).await);
    assert_eq!(
        reactions(&mut alice, "#General", id)
            .await
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn a_flood_of_reactions_is_refused_past_the_budget_and_reaches_nobody() {
    let server = Server::start_with(&["--reaction-limit", "5"]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let id = post(&mut alice, "#General", "flood me").await;
    for i in 0..5 {
        ok(&react(&mut bob, "#General", id, "👍", i % 2 == 0).await);
    }
    for _ in 0..5 {
        alice.next_where(is_reaction).await;
    }
    let r = react(&mut bob, "#General", id, "😢", true).await;
    refused(&r, "rate_limited");
    alice.expect_none(QUIET, is_reaction).await;
    // Chat messages have a budget of their own.
    post(&mut bob, "#General", "still talking").await;
}

// ─────────────── Dialects: no frame for a reaction or a pin ───────────────

/// Native alice posts `first` (which the dialect client must show), reacts to it and
/// pins it, then posts `second`.
async fn react_and_pin_between(alice: &mut Client, first: &str, second: &str) {
    let id = post(alice, "#General", first).await;
    ok(&react(alice, "#General", id, "👍", true).await);
    ok(&alice
        .request(
            "pin",
            json!({"chatId":"#General","messageId":id,"pinned":true}),
        )
        .await);
    post(alice, "#General", second).await;
}

/// Reads `c` until `is_second`; every frame after `is_first` and before it is
/// returned (none is expected).
async fn frames_between(
    c: &mut Client,
    is_first: impl Fn(&Value) -> bool,
    is_second: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    while !is_first(&c.next().await) {}
    let mut between = Vec::new();
    loop {
        let f = c.next().await;
        if is_second(&f) {
            return between;
        }
        between.push(f);
    }
}

#[tokio::test]
async fn an_rwci_client_gets_no_frame_for_a_reaction_or_a_pin() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut rw = Client::connect(&server.url("/ws/rwci")).await;
    rw.send(json!({"type":"auth","username":"rw","password":"password-rw"}))
        .await;
    rw.next_where(|v| v["type"] == "join").await;
    react_and_pin_between(&mut alice, "one", "two").await;
    let between = frames_between(
        &mut rw,
        |v| v["type"] == "message" && v["message"] == "one",
        |v| v["type"] == "message" && v["message"] == "two",
    )
    .await;
    assert!(between.is_empty(), "{between:?}");
}

#[tokio::test]
async fn a_workspace_client_gets_no_frame_for_a_reaction_or_a_pin() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut wsp = Client::connect(&server.url("/ws/workspace?username=wsp")).await;
    assert_eq!(wsp.next().await["type"], "connected");
    react_and_pin_between(&mut alice, "one", "two").await;
    let between = frames_between(
        &mut wsp,
        |v| v["type"] == "message:new" && v["data"]["text"] == "one",
        |v| v["type"] == "message:new" && v["data"]["text"] == "two",
    )
    .await;
    assert!(between.is_empty(), "{between:?}");
}

#[tokio::test]
async fn a_workshop_client_gets_no_frame_for_a_reaction_or_a_pin() {
    let server = Server::start();
    let mut alice = server.online("alice").await;
    let mut wsh = Client::connect(&server.url("/ws/workshop")).await;
    wsh.send(json!({"event_type":"connection_request","username":"wsh"}))
        .await;
    wsh.next_where(|v| v["event_type"] == "users_online").await;
    react_and_pin_between(&mut alice, "one", "two").await;
    let between = frames_between(
        &mut wsh,
        |v| v["event_type"] == "message" && v["message"] == "one",
        |v| v["event_type"] == "message" && v["message"] == "two",
    )
    .await;
    assert!(between.is_empty(), "{between:?}");
}
