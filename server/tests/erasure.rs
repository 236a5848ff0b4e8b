//! Deleted means gone: after `delete`, no replay (from any `lastEventId`), history
//! read, dialect greeting or file on disk holds the message's text, its attachments or
//! the text of its edits, whether the server kept running or was killed with `-9`.

mod common;

use common::{Client, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const NEW: &str = "SECRET-NEW-7f3a19";
const EDIT1: &str = "SECRET-EDIT1-c04d2e";
const EDIT2: &str = "SECRET-EDIT2-88b1f0";
const FILE: &str = "SECRET-FILE-5e77aa.png";
const URL: &str = "http://example.com/SECRET-URL-2b9e41.png";
const MARKERS: [&str; 5] = [NEW, EDIT1, EDIT2, FILE, URL];

/// Which of the markers `text` contains.
fn leaks(text: &str) -> Vec<&'static str> {
    MARKERS.into_iter().filter(|m| text.contains(m)).collect()
}

fn assert_clean(what: &str, frames: &[Value]) {
    for f in frames {
        let found = leaks(&f.to_string());
        assert!(found.is_empty(), "{what} carries {found:?}: {f}");
    }
}

/// Posts a message with an attachment to General, edits it twice and deletes it;
/// answers its id.
async fn post_edit_twice_delete(alice: &mut Client) -> u64 {
    let attachment = json!({"type":"image","id":"img1","filename":FILE,"url":URL,
        "meta":{"mimetype":"image/png","width":1,"height":1,"size":10}});
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":NEW,"attachments":[attachment]}),
        )
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("messageId");
    for text in [EDIT1, EDIT2] {
        let r = alice
            .request(
                "edit",
                json!({"chatId":"#General","messageId":id,"message":text}),
            )
            .await;
        assert!(r.get("error").is_none(), "edit: {r}");
    }
    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":id}))
        .await;
    assert!(r.get("error").is_none(), "delete: {r}");
    id
}

/// A fresh connection of `name` subscribing from `after`: every frame of its replay.
async fn replay(server: &Server, name: &str, after: u64) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c
        .request("subscribe", json!({ "lastEventId": after }))
        .await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut frames = vec![r];
    for _ in 0..missed {
        frames.push(c.next_logged().await);
    }
    frames
}

/// Every history read of the message that a member can make.
async fn history(server: &Server, name: &str, id: u64) -> Vec<Value> {
    let mut c = server.login(name).await;
    let page = c
        .request("getMessages", json!({"chatId":"#General","count":100}))
        .await;
    let one = c
        .request("getMessage", json!({"chatId":"#General","messageId":id}))
        .await;
    assert_eq!(one["payload"]["deleted"], true, "a tombstone: {one}");
    vec![page, one]
}

/// The head of the log as `name` sees it (the last event id of a full replay).
async fn head(server: &Server, name: &str) -> u64 {
    let frames = replay(server, name, 0).await;
    frames
        .iter()
        .filter_map(|f| f["id"].as_u64().filter(|_| f["type"] == "event"))
        .max()
        .expect("some event")
}

/// Every replay from 0 to the head, every history read, and the greetings of the
/// dialects (Workshop sends the room's history).
async fn assert_no_trace_over_the_wire(server: &Server, id: u64) {
    let last = head(server, "bob").await;
    assert!(
        last >= 4,
        "the new, two edits and the delete are in the log"
    );
    let mut saw_scrubbed_new = false;
    for after in 0..=last {
        let frames = replay(server, "bob", after).await;
        assert_clean(&format!("a replay from {after}"), &frames);
        saw_scrubbed_new |= frames
            .iter()
            .any(|f| f["eventType"] == "new" && f["payload"]["messageId"] == id);
    }
    assert_clean("the author's replay", &replay(server, "alice", 0).await);
    assert!(
        saw_scrubbed_new,
        "the new event keeps its place in the log, without its content"
    );
    for name in ["alice", "bob"] {
        assert_clean("a history read", &history(server, name, id).await);
    }
    let mut shop = Client::connect(&server.url("/ws/workshop")).await;
    shop.send(json!({"event_type":"connection_request","username":"shopper"}))
        .await;
    let mut greeting = Vec::new();
    for _ in 0..4 {
        greeting.push(shop.next().await);
    }
    assert!(
        greeting
            .iter()
            .any(|f| f["event_type"] == "message_history"),
        "{greeting:?}"
    );
    assert_clean("the Workshop greeting", &greeting);
    let mut space = Client::connect(&server.url("/ws/workspace?username=spacer")).await;
    assert_clean("the Workspace greeting", &[space.next().await]);
    let mut rwci = Client::connect(&server.url("/ws/rwci")).await;
    rwci.send(json!({"type":"auth","username":"rw","password":"pw-rw-123456"}))
        .await;
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(rwci.next().await);
    }
    assert_clean("the RWCI greeting", &frames);
}

/// The markers found in the database files (database, WAL) as they are on disk.
fn on_disk(data: &Path) -> Vec<&'static str> {
    let mut found = Vec::new();
    for name in ["parlor.db", "parlor.db-wal"] {
        if let Ok(bytes) = std::fs::read(data.join(name)) {
            let text = String::from_utf8_lossy(&bytes);
            found.extend(leaks(&text));
        }
    }
    found
}

#[tokio::test]
async fn a_deleted_message_is_gone_from_every_replay_read_and_file_even_after_kill_9() {
    let mut server = Server::start_with(&["--max-connections-per-user", "50"]);
    let mut alice = server.online("alice").await;
    let _bob = server.online("bob").await;
    let id = post_edit_twice_delete(&mut alice).await;
    // A live reader that was online got the delete right after the edits.
    drop(alice);
    assert_no_trace_over_the_wire(&server, id).await;

    // While the server runs, the files on disk lose the text soon after the delete.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = on_disk(&server.data);
        if found.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the database files still hold {found:?} after the delete"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A second message deleted just before a kill -9: its text may be in the WAL the
    // crash leaves behind; the restarted server holds it nowhere.
    let mut alice = server.online("alice").await;
    let second = post_edit_twice_delete(&mut alice).await;
    drop(alice);
    server.crash_and_restart();
    let found = on_disk(&server.data);
    assert!(found.is_empty(), "after kill -9 and restart: {found:?}");
    assert_no_trace_over_the_wire(&server, second).await;
}

/// The schema of a database written before scrubbing (versions 1 and 2), as shipped.
const OLD_SCHEMA: &str = "
    CREATE TABLE users (key TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT,
        created_at INTEGER NOT NULL, acked_event INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE, creator TEXT, created_at INTEGER NOT NULL);
    CREATE TABLE chat_members (user_key TEXT NOT NULL, chat TEXT NOT NULL,
        joined_event INTEGER NOT NULL DEFAULT 0, delivered_upto INTEGER NOT NULL DEFAULT 0,
        read_upto INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (user_key, chat)) WITHOUT ROWID;
    CREATE INDEX chat_members_by_chat ON chat_members (chat);
    CREATE TABLE messages (id INTEGER PRIMARY KEY, chat TEXT NOT NULL, sender TEXT NOT NULL,
        sender_key TEXT NOT NULL, client_message_id TEXT, body TEXT NOT NULL,
        attachments TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX messages_by_chat ON messages (chat, id);
    CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_key, client_message_id)
        WHERE client_message_id IS NOT NULL;
    CREATE TABLE receipts (chat TEXT NOT NULL, user_key TEXT NOT NULL, kind TEXT NOT NULL,
        upto INTEGER NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (chat, kind, upto, user_key)) WITHOUT ROWID;
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
        chat TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX events_by_chat ON events (chat, id);
    CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_key TEXT NOT NULL,
        created_at INTEGER NOT NULL, used_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX tokens_by_user ON tokens (user_key);
    PRAGMA user_version = 2;
";

#[tokio::test]
async fn a_database_from_before_scrubbing_is_scrubbed_at_start() {
    let mut server = Server::start();
    server.terminate();
    let data = server.data.clone();
    for name in ["parlor.db", "parlor.db-wal", "parlor.db-shm"] {
        let _ = std::fs::remove_file(data.join(name));
    }
    {
        // What an older Parlor left: a message deleted (its row blanked) whose `new`
        // and `edit` events still hold the text, and the blanked text in free space.
        let db = rusqlite::Connection::open(data.join("parlor.db")).expect("open");
        db.execute_batch(OLD_SCHEMA).expect("old schema");
        db.execute_batch("PRAGMA secure_delete = OFF")
            .expect("pragma");
        let attachment = json!({"type":"image","id":"img1","filename":FILE,"url":URL,
            "meta":{"mimetype":"image/png"}});
        let message = |text: &str| {
            json!({"id":1,"sender":"alice","text":text,"attachments":[attachment],
                "created_at":1,"updated_at":1,"deleted":false})
        };
        db.execute(
            "INSERT INTO messages (id, chat, sender, sender_key, body, attachments, created_at, updated_at)
             VALUES (1, 'r:1', 'alice', 'alice', ?1, ?2, 1, 1)",
            rusqlite::params![EDIT2.repeat(40), json!([attachment]).to_string()],
        )
        .expect("message");
        let events = [
            json!({"kind":"new","message":message(NEW)}),
            json!({"kind":"edit","message":message(EDIT1)}),
            json!({"kind":"edit","message":message(EDIT2)}),
            json!({"kind":"delete","message_id":1,"sender":"alice"}),
        ];
        for e in &events {
            db.execute(
                "INSERT INTO events (at, chat, data) VALUES (1, 'r:1', ?1)",
                [e.to_string()],
            )
            .expect("event");
        }
        db.execute(
            "UPDATE messages SET body = '', attachments = '[]', deleted = 1 WHERE id = 1",
            [],
        )
        .expect("delete");
    }
    assert_eq!(
        on_disk(&data).len(),
        MARKERS.len(),
        "the old database holds the text"
    );
    server.restart();
    let found = on_disk(&data);
    assert!(found.is_empty(), "after the migration: {found:?}");
    // The events keep their place and say the message was deleted.
    {
        let db = rusqlite::Connection::open(data.join("parlor.db")).expect("open");
        let mut stmt = db
            .prepare("SELECT data FROM events WHERE data LIKE '%\"message\":{%' ORDER BY id")
            .expect("prepare");
        let kept: Vec<Value> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|d| serde_json::from_str(&d.expect("row")).expect("json"))
            .collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        for e in kept {
            assert_eq!(e["message"]["deleted"], true, "{e}");
            assert_eq!(e["message"]["text"], "", "{e}");
            assert!(e["message"].get("attachments").is_none(), "{e}");
        }
    }
    server.terminate();
}
