//! `parlor migrate`: a data directory that SQLite served is copied into PostgreSQL
//! with every id kept, so that a client resumes there from the `lastEventId` it had
//! (the same missed events, the same history, the same files), new ids go on after
//! the old ones, a run interrupted with `kill -9` and run again completes the copy,
//! and a database holding another Parlor is refused.
//!
//! Needs a PostgreSQL server (`PARLOR_TEST_PG`, as `scripts/services start` prints):
//! `scripts/dev test` runs it with `--include-ignored` once it has started one.

mod common;

use common::{http, psql, Client, Launch, Server};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn fresh_database() -> String {
    common::fresh_pg_database("mig")
}

fn sqlite_launch() -> Launch {
    Launch {
        pg: false,
        ..Launch::default()
    }
}

fn migrate(data: &Path, to: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["migrate", "--data"])
        .arg(data)
        .args(["--to", to])
        .output()
        .expect("run parlor migrate");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn post(c: &mut Client, chat: &str, text: &str) -> u64 {
    let r = c
        .request("new", json!({"chatId": chat, "message": text}))
        .await;
    r["payload"]["messageId"]
        .as_u64()
        .unwrap_or_else(|| panic!("new failed: {r}"))
}

/// Every logged event a resume from `after` sends, with the volatile parts kept.
async fn replay(server: &Server, name: &str, after: u64) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c.request("subscribe", json!({"lastEventId": after})).await;
    let missed = r["payload"]["missed"]
        .as_u64()
        .unwrap_or_else(|| panic!("{r}"));
    let mut events = Vec::new();
    for _ in 0..missed {
        events.push(c.next_logged().await);
    }
    events
}

async fn history(c: &mut Client, chat: &str) -> Value {
    let r = c
        .request("getMessages", json!({"chatId": chat, "count": 50}))
        .await;
    r["payload"].clone()
}

/// A conversation of every kind of row: rooms, direct messages, an edit, a delete, a
/// reaction, a pin, receipts, a file.
async fn fill(server: &Server) -> (u64, String, Vec<u8>) {
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = alice.request("createRoom", json!({"name": "Garden"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let first = post(&mut alice, "#General", "hello from SQLite").await;
    // Where bob's client will resume from.
    let bob_last = bob.next_logged().await["id"].as_u64().expect("event id");
    post(&mut bob, "alice", "a direct word").await;
    let edited = post(&mut alice, "#Garden", "tomatos").await;
    alice
        .request(
            "edit",
            json!({"chatId": "#Garden", "messageId": edited, "message": "tomatoes"}),
        )
        .await;
    let gone = post(&mut alice, "#General", "a secret").await;
    alice
        .request("delete", json!({"chatId": "#General", "messageId": gone}))
        .await;
    bob.request(
        "react",
        json!({"chatId": "#General", "messageId": first, "emoji": "🎉"}),
    )
    .await;
    alice
        .request(
            "pin",
            json!({"chatId": "#General", "messageId": first, "pinned": true}),
        )
        .await;
    bob.request("read", json!({"chatId": "#General"})).await;
    let token = server.token("alice").await;
    let bytes = b"%PDF-1.4\nminutes of the garden club\n%%EOF\n".to_vec();
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("X-Filename", "minutes.pdf"),
        ],
        &bytes,
    )
    .await;
    assert_eq!(status, 201);
    let attachment: Value = serde_json::from_slice(&body).expect("attachment");
    let r = alice
        .request(
            "new",
            json!({"chatId": "#General", "message": "the minutes", "attachments": [attachment]}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let url = attachment["url"].as_str().expect("url").to_string();
    (bob_last, url, bytes)
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn a_sqlite_parlor_moves_to_postgresql_and_its_clients_resume_there() {
    let url = fresh_database();
    let mut old = Server::launch(sqlite_launch(), &[]);
    let (bob_last, file, bytes) = fill(&old).await;
    let before_replay = replay(&old, "bob", bob_last).await;
    let mut alice = old.login("alice").await;
    let before_general = history(&mut alice, "#General").await;
    let before_direct = history(&mut alice, "bob").await;
    drop(alice);
    assert!(
        before_replay.len() >= 5,
        "a replay to compare: {before_replay:?}"
    );
    old.terminate();

    let (ok, out) = migrate(&old.data, &url);
    assert!(ok, "parlor migrate failed: {out}");
    assert!(out.contains("migrated"), "a summary: {out}");
    // Run again: nothing to do, nothing doubled.
    let (ok, out) = migrate(&old.data, &url);
    assert!(ok, "a second run failed: {out}");
    let db = rusqlite::Connection::open(old.data.join("parlor.db")).expect("open");
    for table in [
        "users",
        "rooms",
        "chat_members",
        "messages",
        "receipts",
        "events",
        "tokens",
        "uploads",
        "upload_refs",
        "reactions",
        "pins",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let was: i64 = db.query_row(&sql, [], |r| r.get(0)).expect("count");
        assert_eq!(psql(&url, &sql), was.to_string(), "{table}: every row once");
    }
    drop(db);

    let new = Server::launch(Launch::default(), &["--store", &url]);
    assert_eq!(
        replay(&new, "bob", bob_last).await,
        before_replay,
        "the same missed events"
    );
    let mut alice = new.login("alice").await;
    assert_eq!(history(&mut alice, "#General").await, before_general);
    assert_eq!(history(&mut alice, "bob").await, before_direct);
    let (status, _, body) = new.get(&file, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes, "the file's bytes");
    // New ids go on after the old ones.
    let last_old = before_general
        .as_array()
        .and_then(|m| m.iter().filter_map(|m| m["messageId"].as_u64()).max())
        .expect("messages");
    let next = post(&mut alice, "#General", "hello from PostgreSQL").await;
    assert!(next > last_old, "{next} after {last_old}");
    let mut bob = new.login("bob").await;
    let r = bob
        .request("subscribe", json!({"lastEventId": bob_last}))
        .await;
    assert!(r["payload"]["missed"].as_u64().expect("missed") > before_replay.len() as u64);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn an_interrupted_migration_completes_when_run_again() {
    let url = fresh_database();
    let mut old = Server::launch(sqlite_launch(), &["--rate-limit", "1000000"]);
    let mut alice = old.login("alice").await;
    for i in 0..3000 {
        let r = alice
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("m{i}")}),
            )
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }
    drop(alice);
    old.terminate();
    let messages = 3000;

    // Stop it with kill -9 once it is copying the log (messages copied, events begun).
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["migrate", "--data"])
        .arg(&old.data)
        .args(["--to", &url])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start parlor migrate");
    let stderr = child.stderr.take().expect("stderr");
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("progress line");
        if line.contains("events") {
            break;
        }
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    let partial: i64 = psql(&url, "SELECT COUNT(*) FROM messages")
        .parse()
        .expect("count");
    assert_eq!(partial, messages, "the messages were copied before the log");

    let (ok, out) = migrate(&old.data, &url);
    assert!(ok, "the second run failed: {out}");
    let events: i64 = psql(&url, "SELECT COUNT(*) FROM events")
        .parse()
        .expect("count");
    let old_events: i64 = {
        let db = rusqlite::Connection::open(old.data.join("parlor.db")).expect("open");
        db.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(events, old_events, "every event once");
    let new = Server::launch(Launch::default(), &["--store", &url]);
    let mut alice = new.login("alice").await;
    let h = history(&mut alice, "#General").await;
    assert_eq!(h.as_array().map(Vec::len), Some(50), "{h}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn a_database_holding_another_parlor_is_refused() {
    let url = fresh_database();
    // A PostgreSQL Parlor with an account.
    {
        let node = Server::launch(Launch::default(), &["--store", &url]);
        node.login("carol").await;
    }
    let mut old = Server::launch(sqlite_launch(), &[]);
    old.login("alice").await;
    old.terminate();
    let (ok, out) = migrate(&old.data, &url);
    assert!(!ok, "must refuse: {out}");
    assert!(out.contains("already holds a Parlor"), "{out}");
    assert_eq!(
        psql(&url, "SELECT COUNT(*) FROM users WHERE key = 'alice'"),
        "0"
    );
}
