//! Store rules that are cheaper to check without a socket: group commit, idempotency
//! under concurrency, and watermark receipts.

use super::*;
use crate::domain::{now_ms, Chat, ReceiptKind, UserKey};
use crate::store::{Delete, Mark, NewMessage, Store};
use std::sync::atomic::Ordering;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    (dir, store)
}

async fn add_user(store: &SqliteStore, name: &str) {
    let name = name.to_owned();
    store
        .write(move |c| {
            super::access::register(
                c,
                crate::store::NewAccount {
                    name,
                    password_hash: Some("x".into()),
                    at: now_ms(),
                    invite: None,
                    invite_needed: false,
                },
            )
        })
        .await
        .expect("register");
}

fn read_mark(chat: Chat, reader: &str, upto: Option<app::protocol::MessageId>) -> Mark {
    Mark {
        chat,
        reader: reader.into(),
        kind: ReceiptKind::Read,
        upto,
        at: now_ms(),
    }
}

fn text(chat: &Chat, sender: &str, text: &str, cmid: Option<&str>) -> NewMessage {
    NewMessage {
        guest: false,
        chat: chat.clone(),
        sender: sender.into(),
        client_message_id: cmid.map(str::to_owned),
        text: text.into(),
        attachments: Vec::new(),
        reply_to: None,
        mentions: Vec::new(),
        mentions_room: false,
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
        .write(move |c| {
            let delete = Delete {
                chat,
                actor: UserKey::of("bob"),
                moderator: None,
                message_id: id,
                at: now_ms(),
            };
            delete_message(c, delete, None)
        })
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
        .write(move |c| mark(c, read_mark(chat, "bob", None), None))
        .await
        .expect("mark");
    assert_eq!(outcome.upto, id);
    assert_eq!(outcome.unread, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writer_ends_the_process_instead_of_hanging_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let died = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = died.clone();
    let store = SqliteStore::open_with(
        dir.path(),
        Arc::new(move || flag.store(true, Ordering::SeqCst)),
    )
    .expect("open");
    let panicked = store
        .write(|_| -> Result<Applied<()>, StoreError> { panic!("a bug in a write job") })
        .await;
    assert!(matches!(panicked, Err(StoreError::Closed)));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !died.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(died.load(Ordering::SeqCst), "the death hook ran");
    // Later writes fail at once instead of waiting for a writer that is gone.
    let later = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.register(crate::store::NewAccount {
            name: "carol".into(),
            password_hash: None,
            at: now_ms(),
            invite: None,
            invite_needed: false,
        }),
    )
    .await
    .expect("answered, not hanging");
    assert!(matches!(later, Err(StoreError::Closed)));
}

#[tokio::test]
async fn unreadable_attachments_are_an_error_not_an_empty_list() {
    let (_dir, store) = open();
    add_user(&store, "alice").await;
    let chat = Chat::Room(store.read(general_id).await.expect("general"));
    let (id, _) = store
        .post(text(&chat, "alice", "with a file", None), None)
        .await
        .expect("post");
    store
        .write(move |c| {
            c.execute(
                "UPDATE messages SET attachments = '{not json' WHERE id = ?1",
                [id as i64],
            )?;
            Ok(Applied::quiet(()))
        })
        .await
        .expect("corrupt it");
    let read = store.messages(chat, None, 10).await;
    assert!(
        read.is_err(),
        "a corrupt row must not read as no attachments"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_off_the_writer() {
    let (dir, store) = open();
    add_user(&store, "alice").await;
    let chat = Chat::Room(store.read(general_id).await.expect("general"));
    for i in 0..50 {
        store
            .post(text(&chat, "alice", &format!("m{i}"), None), None)
            .await
            .expect("post");
    }
    let autocheckpoint: i64 = store
        .write(|c| {
            Ok(Applied::quiet(c.query_row(
                "PRAGMA wal_autocheckpoint",
                [],
                |r| r.get(0),
            )?))
        })
        .await
        .expect("pragma");
    assert_eq!(autocheckpoint, 0, "commits never checkpoint");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.stats().checkpoints.load(Ordering::Relaxed) == 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(store.stats().checkpoints.load(Ordering::Relaxed) > 0);
    store.shut();
    // A clean close leaves an empty WAL: the next start has nothing to recover.
    let wal = dir.path().join(format!("{DB_FILE}-wal"));
    let left = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(left, 0, "{} bytes of WAL left after closing", left);
}

#[tokio::test]
async fn an_unread_snapshot_counts_up_to_its_log_position() {
    let (_dir, store) = open();
    add_user(&store, "alice").await;
    add_user(&store, "bob").await;
    let chat = Chat::Room(store.read(general_id).await.expect("general"));
    for i in 0..3 {
        store
            .post(text(&chat, "alice", &format!("m{i}"), None), None)
            .await
            .expect("post");
    }
    let snap = store
        .unread_snapshot(UserKey::of("bob"))
        .await
        .expect("snapshot");
    let head = store.read(reads::head).await.expect("head");
    assert_eq!(snap.at, head);
    let general = snap
        .chats
        .iter()
        .find(|s| s.chat == chat)
        .expect("bob is in General");
    assert_eq!(general.unread, 3);
}
