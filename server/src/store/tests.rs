//! Store rules that are cheaper to check without a socket: group commit, idempotency
//! under concurrency, and watermark receipts.

use super::*;
use crate::domain::{now_ms, Chat, ReceiptKind, UserKey};
use std::sync::atomic::Ordering;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    (dir, store)
}

async fn add_user(store: &Store, name: &str) {
    let name = name.to_owned();
    store
        .write(move |c| super::register(c, &name, Some("x".into()), now_ms()))
        .await
        .expect("register");
}

fn text(chat: &Chat, sender: &str, text: &str, cmid: Option<&str>) -> NewMessage {
    NewMessage {
        chat: chat.clone(),
        sender: sender.into(),
        client_message_id: cmid.map(str::to_owned),
        text: text.into(),
        attachments: Vec::new(),
        at: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let (_dir, store) = open();
    add_user(&store, "alice").await;
    let general = Chat::Room(store.read(general_id).await.expect("general"));
    let before = store.stats().commits.load(Ordering::Relaxed);
    let mut tasks = Vec::new();
    for i in 0..400 {
        let (store, chat) = (store.clone(), general.clone());
        tasks.push(tokio::spawn(async move {
            store
                .write(move |c| new_message(c, text(&chat, "alice", &format!("m{i}"), None), None))
                .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("write");
    }
    let commits = store.stats().commits.load(Ordering::Relaxed) - before;
    assert!(commits < 400, "400 messages took {commits} commits");
    let count: i64 = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?))
        .await
        .expect("count");
    assert_eq!(count, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_message_id_is_stored_once_even_when_sent_concurrently() {
    let (_dir, store) = open();
    add_user(&store, "alice").await;
    let chat = Chat::Room(store.read(general_id).await.expect("general"));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, chat) = (store.clone(), chat.clone());
        tasks.push(tokio::spawn(async move {
            store
                .write(move |c| new_message(c, text(&chat, "alice", "same", Some("c1")), None))
                .await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("join").expect("write").0);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one message id for one clientMessageId");
}

#[tokio::test]
async fn a_refused_job_rolls_back_alone() {
    let (_dir, store) = open();
    add_user(&store, "alice").await;
    add_user(&store, "bob").await;
    let dm = Chat::direct(&UserKey::of("alice"), &UserKey::of("bob"));
    let chat = dm.clone();
    let (id, _) = store
        .write(move |c| new_message(c, text(&chat, "alice", "hi", None), None))
        .await
        .expect("write");
    // bob may not delete alice's message: refused, nothing changes
    let chat = dm.clone();
    let err = store
        .write(move |c| delete_message(c, chat, &UserKey::of("bob"), id, now_ms(), None))
        .await
        .expect_err("refused");
    assert!(matches!(
        err,
        StoreError::Refused(crate::domain::Refusal::Forbidden(_))
    ));
    let chat = dm.clone();
    let m = store
        .read(move |c| reads::message(c, &chat, id))
        .await
        .expect("read")
        .expect("still there");
    assert!(!m.deleted);
    // a read mark is a watermark: marking the latest marks everything
    let chat = dm.clone();
    let outcome = store
        .write(move |c| mark(c, chat, "bob", ReceiptKind::Read, None, now_ms(), None))
        .await
        .expect("mark");
    assert_eq!(outcome.upto, id);
    assert_eq!(outcome.unread, 0);
}
