//! Crash safety under load: `kill -9` while messages stream in; after a restart on the
//! same data directory every message that got a `messageId` is there, once.

mod common;

use common::{Closed, Server};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_9_under_load_loses_no_acknowledged_message() {
    let mut server = Server::start_with(&["--rate-limit", "1000000"]);
    server.online("reader").await;
    let mut writer = server.login("writer").await;
    const SENT: usize = 3000;
    for i in 0..SENT {
        writer
            .send(json!({"type":"request","id":format!("w{i}"),"timestamp":1,"payloadType":"new",
                "payload":{"chatId":"reader","message":format!("m{i}"),"clientMessageId":format!("c{i}")}}))
            .await;
    }
    // Crash in the middle of the stream, after some acknowledgements.
    let mut acked = BTreeSet::new();
    while acked.len() < 500 {
        let r = writer.next().await;
        if let Some(id) = r["payload"]["messageId"].as_u64() {
            acked.insert(id);
        }
    }
    server.crash_and_restart();

    let mut reader = server.login("reader").await;
    let replayed = reader.replayed_message_ids(0).await;
    let unique: BTreeSet<u64> = replayed.iter().copied().collect();
    assert_eq!(unique.len(), replayed.len(), "a message replayed twice");
    let lost: Vec<&u64> = acked.difference(&unique).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after kill -9: {lost:?}"
    );

    // A resend of everything (same clientMessageIds) stores nothing twice.
    let mut writer = server.login("writer").await;
    for i in 0..SENT {
        writer
            .send(json!({"type":"request","id":format!("again{i}"),"timestamp":1,"payloadType":"new",
                "payload":{"chatId":"reader","message":format!("m{i}"),"clientMessageId":format!("c{i}")}}))
            .await;
    }
    let mut ids = BTreeSet::new();
    while ids.len() < SENT {
        let r = writer.next().await;
        if let Some(id) = r["payload"]["messageId"].as_u64() {
            ids.insert(id);
        }
    }
    assert!(
        acked.is_subset(&ids),
        "a resend got a new id for an acknowledged message"
    );
    let mut total = 0;
    let mut end = None;
    loop {
        let mut p = json!({"chatId":"writer","count":100});
        if let Some(e) = end {
            p["endId"] = json!(e);
        }
        let page = reader.request("getMessages", p).await;
        let items = page["payload"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        total += items.len();
        end = items[0]["messageId"].as_u64().map(|id| id - 1);
    }
    assert_eq!(total, SENT, "every message stored exactly once");
}

/// A replay that hits an unreadable event does not stop without a word after promising
/// `missed` events: the connection closes with 1011, and the client resumes.
#[tokio::test]
async fn a_replay_that_cannot_read_the_log_closes_with_1011() {
    let mut server = Server::start();
    let mut alice = server.online("alice").await;
    for i in 0..3 {
        alice
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("m{i}")}),
            )
            .await;
    }
    drop(alice);
    server.terminate();
    let db = rusqlite::Connection::open(server.data.join("parlor.db")).expect("open the db");
    let changed = db
        .execute(
            "UPDATE events SET data = 'not json' WHERE id = (SELECT MAX(id) FROM events)",
            [],
        )
        .expect("corrupt the last event");
    assert_eq!(changed, 1);
    drop(db);
    server.restart();
    let mut alice = server.login("alice").await;
    let r = alice.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().expect("a plan");
    assert!(missed >= 3, "{r}");
    assert_eq!(
        alice.closed(Duration::from_secs(5)).await,
        Closed::Frame(1011, "replay failed: reconnect and resume".into())
    );
}
