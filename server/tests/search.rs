//! `search` over real WebSockets: words are found in every chat the searcher can read
//! and nowhere else; `from:` and `in:` narrow it; hits come newest first and page with
//! `beforeId`; highlights are character offsets that land on the words, accents and
//! emoji included; deleted, edited and cleared messages behave (a deleted message's
//! words leave the database files too); hostile queries get a clear answer on a
//! connection that stays open; the per-user budget refuses the excess; the index
//! survives `kill -9`.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// A server whose search budget the tests do not exhaust.
fn server() -> Server {
    Server::start_with(&["--search-limit", "1000", "--max-connections-per-user", "20"])
}

async fn post(c: &mut Client, chat: &str, text: &str) -> u64 {
    let r = c
        .request("new", json!({"chatId": chat, "message": text}))
        .await;
    r["payload"]["messageId"]
        .as_u64()
        .unwrap_or_else(|| panic!("new in {chat}: {r}"))
}

async fn search(c: &mut Client, payload: Value) -> Value {
    c.request("search", payload).await
}

/// The hits of a search that must succeed: (chatId, messageId, message).
async fn hits(c: &mut Client, query: &str) -> Vec<(String, u64, String)> {
    let r = search(c, json!({ "query": query })).await;
    assert!(r.get("error").is_none(), "search {query:?}: {r}");
    r["payload"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            (
                h["chatId"].as_str().expect("chatId").to_owned(),
                h["messageId"].as_u64().expect("messageId"),
                h["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

fn texts(hits: &[(String, u64, String)]) -> Vec<&str> {
    hits.iter().map(|h| h.2.as_str()).collect()
}

fn error_code(r: &Value) -> &str {
    r["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn finds_words_in_the_chats_a_user_can_read_and_nowhere_else() {
    let server = server();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut carol = server.online("carol").await;
    let r = alice.request("createRoom", json!({"name": "Den"})).await;
    assert!(r.get("error").is_none(), "{r}");
    post(&mut alice, "#General", "boiler general").await;
    post(&mut alice, "#Den", "boiler den").await;
    post(&mut alice, "bob", "boiler alice to bob").await;
    post(&mut carol, "alice", "boiler carol to alice").await;

    let found = hits(&mut bob, "boiler").await;
    assert_eq!(
        found
            .iter()
            .map(|h| (h.0.as_str(), h.2.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("alice", "boiler alice to bob"),
            ("#General", "boiler general")
        ],
        "bob: General and his direct chat, newest first; not #Den, not alice and carol's chat"
    );
    let found = hits(&mut carol, "boiler").await;
    assert_eq!(
        texts(&found),
        vec!["boiler carol to alice", "boiler general"]
    );
    let found = hits(&mut alice, "boiler").await;
    assert_eq!(found.len(), 4, "alice reads all four: {found:?}");
    let chats: Vec<&str> = found.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(chats, vec!["carol", "bob", "#Den", "#General"]);

    // Leaving a room leaves its messages out, as getMessages would refuse them.
    let r = alice.request("leaveRoom", json!({"chatId": "#Den"})).await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(hits(&mut alice, "boiler").await.len(), 3);
}

#[tokio::test]
async fn from_and_in_narrow_and_refuse_what_get_messages_refuses() {
    let server = server();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    alice.request("createRoom", json!({"name": "Den"})).await;
    post(&mut alice, "#General", "kettle by alice").await;
    post(&mut bob, "#General", "kettle by bob").await;
    post(&mut alice, "#Den", "kettle in den").await;
    post(&mut bob, "alice", "kettle bob to alice").await;

    assert_eq!(
        texts(&hits(&mut alice, "kettle from:bob").await),
        vec!["kettle bob to alice", "kettle by bob"]
    );
    assert_eq!(
        texts(&hits(&mut alice, "FROM:@Bob kettle in:#general").await),
        vec!["kettle by bob"]
    );
    assert_eq!(
        texts(&hits(&mut alice, "kettle in:#den").await),
        vec!["kettle in den"]
    );
    assert_eq!(
        texts(&hits(&mut alice, "in:bob kettle").await),
        vec!["kettle bob to alice"]
    );
    assert_eq!(
        texts(&hits(&mut bob, "in:alice kettle").await),
        vec!["kettle bob to alice"]
    );
    assert!(hits(&mut alice, "kettle from:nobody").await.is_empty());

    let r = search(&mut bob, json!({"query": "kettle in:#den"})).await;
    assert_eq!(error_code(&r), "forbidden", "bob is not in #Den: {r}");
    let r = search(&mut bob, json!({"query": "kettle in:#nowhere"})).await;
    assert_eq!(error_code(&r), "not_found", "{r}");
    let r = search(&mut bob, json!({"query": "kettle in:nobody"})).await;
    assert_eq!(error_code(&r), "not_found", "{r}");
}

#[tokio::test]
async fn hits_come_newest_first_and_page_with_before_id() {
    let server = server();
    let mut alice = server.online("alice").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(post(&mut alice, "#General", &format!("radiator number {i}")).await);
    }
    post(&mut alice, "#General", "something else").await;
    ids.reverse();
    let mut seen: Vec<u64> = Vec::new();
    let mut before: Option<u64> = None;
    let mut pages = Vec::new();
    loop {
        let mut payload = json!({"query": "radiator", "limit": 2});
        if let Some(b) = before {
            payload["beforeId"] = json!(b);
        }
        let r = search(&mut alice, payload).await;
        let page: Vec<u64> = r["payload"]["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["messageId"].as_u64().expect("id"))
            .collect();
        let more = r["payload"]["more"].as_bool().expect("more");
        pages.push((page.clone(), more));
        seen.extend(&page);
        if !more {
            break;
        }
        before = page.last().copied();
    }
    assert_eq!(seen, ids, "every hit once, newest first");
    assert_eq!(
        pages.iter().map(|(p, m)| (p.len(), *m)).collect::<Vec<_>>(),
        vec![(2, true), (2, true), (1, false)]
    );
    for limit in [0, 51] {
        let r = search(&mut alice, json!({"query": "radiator", "limit": limit})).await;
        assert_eq!(error_code(&r), "bad_request", "limit {limit}: {r}");
    }
}

/// The characters of `text` each highlight covers.
fn marked(hit: &Value) -> Vec<String> {
    let chars: Vec<char> = hit["message"].as_str().expect("text").chars().collect();
    hit["highlights"]
        .as_array()
        .expect("highlights")
        .iter()
        .map(|r| {
            let (a, b) = (r[0].as_u64().expect("start"), r[1].as_u64().expect("end"));
            chars[a as usize..b as usize].iter().collect()
        })
        .collect()
}

#[tokio::test]
async fn highlights_land_on_the_words_in_accented_and_multibyte_text() {
    let server = server();
    let mut alice = server.online("alice").await;
    let text = "🔥🔥 Ça chauffe: la CHAUDIÈRE de l'école, 日本語 chaudière neuve";
    post(&mut alice, "#General", text).await;
    post(&mut alice, "#General", "nothing to see").await;
    let r = search(&mut alice, json!({"query": "chaudiere ecole"})).await;
    let hits = r["payload"]["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{r}");
    assert_eq!(marked(&hits[0]), vec!["CHAUDIÈRE", "école", "chaudière"]);
    // Character offsets: the emoji count one each (not two UTF-16 units, not 4 bytes).
    assert_eq!(hits[0]["highlights"][0], json!([18, 27]), "{r}");

    // A quoted phrase is one highlight; the last word is a prefix.
    let r = search(&mut alice, json!({"query": "\"la chaudière\" neu"})).await;
    let hits = r["payload"]["hits"].as_array().expect("hits");
    assert_eq!(marked(&hits[0]), vec!["la CHAUDIÈRE", "neuve"], "{r}");
    // CJK text is found too (a run of ideographs is one word to the index).
    assert_eq!(hits_of(&mut alice, "日本語").await, 1);
}

async fn hits_of(c: &mut Client, query: &str) -> usize {
    hits(c, query).await.len()
}

#[tokio::test]
async fn deleted_edited_and_cleared_messages_behave() {
    let server = server();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let gone = post(&mut alice, "#General", "walrus to be deleted").await;
    post(&mut alice, "#General", "walrus that stays").await;
    let r = alice
        .request("delete", json!({"chatId": "#General", "messageId": gone}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(
        texts(&hits(&mut bob, "walrus").await),
        vec!["walrus that stays"]
    );

    let edited = post(&mut alice, "#General", "pelican original words").await;
    let r = alice
        .request(
            "edit",
            json!({"chatId": "#General", "messageId": edited, "message": "heron fresh words"}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(
        hits(&mut bob, "pelican").await.is_empty(),
        "old text no longer found"
    );
    assert!(hits(&mut bob, "original").await.is_empty());
    let found = hits(&mut bob, "heron").await;
    assert_eq!(
        found,
        vec![("#General".into(), edited, "heron fresh words".into())]
    );

    alice.request("createRoom", json!({"name": "Attic"})).await;
    bob.request("joinRoom", json!({"chatId": "#Attic"})).await;
    post(&mut alice, "#Attic", "otter in the attic").await;
    assert_eq!(hits_of(&mut bob, "otter").await, 1);
    let r = alice
        .request("clearRoom", json!({"chatId": "#Attic"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(
        hits(&mut bob, "otter").await.is_empty(),
        "a cleared room's words are gone"
    );
    post(&mut alice, "#Attic", "otter after the clearing").await;
    assert_eq!(
        texts(&hits(&mut bob, "otter").await),
        vec!["otter after the clearing"]
    );
}

/// A word the index holds as it is written (lower case, one token). FTS5 stores a term
/// after the letters it shares with the previous one, so the files are searched for
/// its tail.
const MARKER: &str = "qjxvmarkerwordzyk";
const MARKER_TAIL: &str = "markerwordzyk";

fn on_disk(data: &Path) -> bool {
    ["parlor.db", "parlor.db-wal"].iter().any(|name| {
        std::fs::read(data.join(name))
            .map(|b| String::from_utf8_lossy(&b).contains(MARKER_TAIL))
            .unwrap_or(false)
    })
}

#[tokio::test]
async fn a_deleted_message_leaves_no_word_in_the_index_files() {
    let mut server = server();
    let mut alice = server.online("alice").await;
    let id = post(&mut alice, "#General", &format!("{MARKER} once")).await;
    assert_eq!(hits_of(&mut alice, MARKER).await, 1);
    // The index holds the word, as well as the message (the check can fail).
    {
        let db = rusqlite::Connection::open(server.data.join("parlor.db")).expect("open");
        let n: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM messages_fts_data WHERE instr(block, CAST(?1 AS BLOB)) > 0",
                [MARKER_TAIL],
                |r| r.get(0),
            )
            .expect("read the index");
        assert!(n > 0, "the index holds the word before the delete");
    }
    let r = alice
        .request("delete", json!({"chatId": "#General", "messageId": id}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(hits(&mut alice, MARKER).await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_disk(&server.data) {
        assert!(
            Instant::now() < deadline,
            "the database files still hold the deleted word"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And after a crash right after a delete.
    let id = post(&mut alice, "#General", &format!("{MARKER} twice")).await;
    let r = alice
        .request("delete", json!({"chatId": "#General", "messageId": id}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    drop(alice);
    server.crash_and_restart();
    assert!(!on_disk(&server.data), "after kill -9 and restart");
}

#[tokio::test]
async fn hostile_queries_get_a_clear_answer_and_the_connection_stays() {
    let server = server();
    let mut alice = server.online("alice").await;
    post(&mut alice, "#General", "zebra crossing near the park").await;
    let long = "x".repeat(300);
    let many = "word ".repeat(20);
    let hostile = [
        "\"",
        "\"\"\"",
        "NEAR(",
        "NEAR(zebra park, 2)",
        "*",
        "zebra*",
        "^zebra",
        "OR",
        "zebra OR",
        "AND NOT zebra",
        "body:zebra",
        "{body}: zebra",
        "messages_fts:zebra",
        "zebra -park",
        "');DROP TABLE messages;--",
        "\u{0}zebra",
        "x\"y",
        "(((((((((((",
        "\\",
        "%_%",
        "from: zebra",
        "in:#",
        "in: x",
        long.as_str(),
        many.as_str(),
        "",
    ];
    for q in hostile {
        let r = search(&mut alice, json!({ "query": q })).await;
        match r.get("error") {
            None => assert!(r["payload"]["hits"].is_array(), "{q:?}: {r}"),
            Some(_) => assert_eq!(error_code(&r), "bad_request", "{q:?}: {r}"),
        }
    }
    // Operators are words: `zebra OR` finds nothing, since no message has "or".
    assert!(hits(&mut alice, "zebra OR").await.is_empty());
    assert_eq!(hits_of(&mut alice, "NEAR(zebra park, 2)").await, 0);
    assert_eq!(hits_of(&mut alice, "zebra -park").await, 1);
    // Not a JSON object, a wrong type: bad requests too.
    let r = search(&mut alice, json!({"query": 5})).await;
    assert_eq!(error_code(&r), "bad_request", "{r}");
    let r = search(&mut alice, json!({"query": "zebra", "beforeId": -1})).await;
    assert_eq!(error_code(&r), "bad_request", "{r}");
    // Still open, still answering.
    assert_eq!(
        texts(&hits(&mut alice, "zebra").await),
        vec!["zebra crossing near the park"]
    );
}

#[tokio::test]
async fn the_search_budget_refuses_the_excess() {
    let server = Server::start_with(&["--search-limit", "3"]);
    let mut alice = server.online("alice").await;
    for _ in 0..3 {
        let r = search(&mut alice, json!({"query": "anything"})).await;
        assert!(r.get("error").is_none(), "{r}");
    }
    let r = search(&mut alice, json!({"query": "anything"})).await;
    assert_eq!(error_code(&r), "rate_limited", "{r}");
    // The budget is per user.
    let mut bob = server.online("bob").await;
    let r = search(&mut bob, json!({"query": "anything"})).await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn the_index_survives_kill_9_and_follows_the_messages() {
    let mut server = server();
    let mut alice = server.online("alice").await;
    let id = post(&mut alice, "#General", "lighthouse keeper").await;
    drop(alice);
    server.crash_and_restart();
    let mut alice = server.online("alice").await;
    assert_eq!(
        hits(&mut alice, "lighthouse").await,
        vec![("#General".into(), id, "lighthouse keeper".into())]
    );
}

/// The dialects have no search request, but what their clients write is indexed like
/// any other message and found by native clients.
#[tokio::test]
async fn messages_written_in_a_dialect_are_found_by_native_clients() {
    let server = server();
    let mut rw = Client::connect(&server.url("/ws/rwci")).await;
    rw.send(json!({"type": "auth", "username": "rwuser", "password": "password-rwuser"}))
        .await;
    let auth = rw.next().await;
    assert_eq!(auth["success"], true, "{auth}");
    rw.send(json!({"type": "message", "message": "gazebo painted from rwci"}))
        .await;
    rw.next_where(|v| v["type"] == "message" && v["message"] == "gazebo painted from rwci")
        .await;
    let mut alice = server.online("alice").await;
    let r = search(&mut alice, json!({"query": "gazebo from:rwuser"})).await;
    let hits = r["payload"]["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{r}");
    assert_eq!(hits[0]["sender"], "rwuser");
    assert_eq!(hits[0]["chatId"], "#General");
}
