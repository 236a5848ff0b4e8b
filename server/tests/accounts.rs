//! Password resets and deleted accounts (issue 13), over real WebSockets and the real
//! `parlor reset-password`: a one-time link an admin makes for someone who forgot
//! their password (the old password stops working, every other connection of the
//! account ends, the link works once), and a person deleting their own account, whose
//! messages stay as "deleted user" or are erased, as the owner chose.

mod common;

use common::{Client, Closed, Server};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// A password login of `name` with `password`: the connection and the response.
async fn auth(server: &Server, name: &str, password: &str) -> (Client, Value) {
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": name, "password": password}))
        .await;
    (c, r)
}

/// A login of `name` with a reset link's `code` and a new password.
async fn reset_login(server: &Server, name: &str, code: &str, new: &str) -> (Client, Value) {
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": name, "password": new, "reset": code}),
        )
        .await;
    (c, r)
}

fn ok(r: &Value) -> bool {
    r.get("error").is_none()
}

/// `createReset` for `whom` by `maker`: the code, checked against the path.
async fn make_reset(maker: &mut Client, whom: &str) -> String {
    let r = maker.request("createReset", json!({"userId": whom})).await;
    assert!(ok(&r), "createReset {whom}: {r}");
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    assert_eq!(r["payload"]["path"], format!("/reset/{code}"), "{r}");
    assert_eq!(r["payload"]["userId"], whom, "{r}");
    // 128 bits as base32: 26 characters.
    assert_eq!(code.len(), 26, "{code}");
    code
}

/// `owner` makes `name` an admin.
async fn make_admin(owner: &mut Client, name: &str) {
    let r = owner
        .request("setRole", json!({"userId": name, "role": "admin"}))
        .await;
    assert!(ok(&r), "setRole: {r}");
}

#[tokio::test]
async fn an_admins_reset_link_replaces_the_password_once_and_ends_every_session() {
    let server = Server::start();
    let mut ann = server.login("ann").await;
    let mut carl1 = server.login("carl").await;
    let mut carl2 = server.login("carl").await;
    let code = make_reset(&mut ann, "carl").await;
    // The link is a page of the web app.
    let (status, headers, _) = server.get(&format!("/reset/{code}"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/html")),
        "{headers:?}"
    );

    // A new password that breaks the rules changes nothing and spends nothing.
    let (_c, r) = reset_login(&server, "carl", &code, "short").await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");

    let (mut fresh, r) = reset_login(&server, "carl", &code, "a brand new password").await;
    assert!(ok(&r), "{r}");
    assert_eq!(r["payload"]["userId"], "carl");
    let token = r["payload"]["token"].as_str().expect("a token").to_owned();
    for other in [&mut carl1, &mut carl2] {
        assert_eq!(
            other.closed(WAIT).await,
            Closed::Frame(4001, "password changed".into())
        );
    }
    // The connection the link opened is live.
    let r = fresh.request("listRooms", json!({})).await;
    assert!(ok(&r), "{r}");

    let (_c, r) = auth(&server, "carl", "password-carl").await;
    assert_eq!(r["error"]["code"], "auth_failed", "the old password: {r}");
    let (_c, r) = auth(&server, "carl", "a brand new password").await;
    assert!(ok(&r), "the new password: {r}");
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": "carl", "token": token}))
        .await;
    assert!(ok(&r), "the token the link gave: {r}");

    // Once only.
    let (mut again, r) = reset_login(&server, "carl", &code, "yet another password").await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid")),
        "{r}"
    );
    assert!(matches!(again.closed(WAIT).await, Closed::Frame(1008, _)));
    drop((fresh, c));
    let (_c, r) = auth(&server, "carl", "a brand new password").await;
    assert!(ok(&r), "a spent link changes nothing: {r}");
}

#[tokio::test]
async fn reset_links_follow_the_ranks() {
    let server = Server::start();
    let mut ann = server.login("ann").await;
    let mut ben = server.login("ben").await;
    let _dora = server.login("dora").await;
    let mut carl = server.login("carl").await;
    make_admin(&mut ann, "ben").await;
    make_admin(&mut ann, "dora").await;

    // A member makes no links.
    let r = carl.request("createReset", json!({"userId": "ben"})).await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    // An admin resets a member, not another admin, never the owner.
    make_reset(&mut ben, "carl").await;
    let r = ben.request("createReset", json!({"userId": "dora"})).await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = ben.request("createReset", json!({"userId": "ann"})).await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("parlor reset-password")),
        "{r}"
    );
    // The owner resets an admin; nobody resets a name without an account.
    make_reset(&mut ann, "dora").await;
    let r = ann
        .request("createReset", json!({"userId": "nobody"}))
        .await;
    assert_eq!(r["error"]["code"], "not_found", "{r}");

    // A link does not let a banned account back in: not one made before the ban, and
    // none is made after it.
    let _eve = server.login("eve").await;
    let code = make_reset(&mut ann, "eve").await;
    let r = ann
        .request("ban", json!({"userId": "eve", "banned": true}))
        .await;
    assert!(ok(&r), "{r}");
    let (_c, r) = reset_login(&server, "eve", &code, "a brand new password").await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    let r = ann.request("createReset", json!({"userId": "eve"})).await;
    assert_eq!(r["error"]["code"], "conflict", "{r}");
}

#[tokio::test]
async fn made_up_foreign_replaced_and_oversized_codes_are_refused() {
    let server = Server::start();
    let mut ann = server.login("ann").await;
    let _carl = server.login("carl").await;
    let _dora = server.login("dora").await;
    let first = make_reset(&mut ann, "carl").await;
    let code = make_reset(&mut ann, "carl").await;
    assert_ne!(first, code);

    let made_up = "a".repeat(26);
    for (name, bad) in [
        ("carl", made_up.as_str()),
        // The earlier link of the account was replaced by the new one.
        ("carl", first.as_str()),
        // A valid code of another account.
        ("dora", code.as_str()),
        // And the same for a name without an account: no hint that it has none.
        ("nobody", code.as_str()),
    ] {
        let (_c, r) = reset_login(&server, name, bad, "a brand new password").await;
        assert_eq!(r["error"]["code"], "auth_failed", "{name}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not valid")),
            "{r}"
        );
    }
    let oversized = "a".repeat(129);
    let (_c, r) = reset_login(&server, "carl", &oversized, "a brand new password").await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    // Nothing changed: the old passwords work, and the valid link still does.
    let (_c, r) = auth(&server, "dora", "password-dora").await;
    assert!(ok(&r), "{r}");
    let (_c, r) = reset_login(&server, "carl", &code, "a brand new password").await;
    assert!(ok(&r), "{r}");
}

#[tokio::test]
async fn parlor_reset_password_gives_the_owner_a_link() {
    let server = Server::start();
    let _ann = server.login("ann").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("reset-password")
        .arg("ann")
        .arg("--server")
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&server.data)
        .output()
        .expect("run parlor reset-password");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "parlor reset-password failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = stdout.lines().last().expect("a link").trim().to_owned();
    assert!(link.starts_with("http://"), "{link}");
    let code = link
        .split_once("/reset/")
        .map(|(_, code)| code.to_owned())
        .unwrap_or_else(|| panic!("not a reset link: {link}"));
    let (_c, r) = reset_login(&server, "ann", &code, "the owner's new password").await;
    assert!(ok(&r), "{r}");
    let (_c, r) = auth(&server, "ann", "password-ann").await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    // Without the admin token nothing is made.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["reset-password", "nobody", "--server"])
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&server.data)
        .output()
        .expect("run parlor reset-password");
    assert!(!out.status.success(), "a link for no account");
}

/// Every frame of a fresh connection of `name` subscribing from the beginning.
async fn replay(server: &Server, name: &str) -> Vec<Value> {
    let mut c = server.login(name).await;
    let r = c.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut frames = Vec::new();
    for _ in 0..missed {
        frames.push(c.next_logged().await);
    }
    frames
}

async fn history(c: &mut Client) -> Vec<Value> {
    let r = c
        .request("getMessages", json!({"chatId": "#General", "count": 100}))
        .await;
    r["payload"].as_array().expect("messages").clone()
}

async fn post(c: &mut Client, text: &str) -> u64 {
    let r = c
        .request("new", json!({"chatId": "#General", "message": text}))
        .await;
    r["payload"]["messageId"].as_u64().expect("messageId")
}

/// `bob` posts, reacts, pins and opens a direct chat with ann, then deletes his account
/// (after a wrong password is refused); both his connections end.
async fn bob_posts_then_leaves(server: &Server, ann: &mut Client) -> (u64, u64) {
    let mut bob = server.login("bob").await;
    let mut bob2 = server.login("bob").await;
    let id = post(&mut bob, "pineapple words from bob").await;
    let ann_id = post(ann, "a message of ann").await;
    for (kind, payload) in [
        (
            "react",
            json!({"chatId": "#General", "messageId": ann_id, "emoji": "👍", "add": true}),
        ),
        (
            "pin",
            json!({"chatId": "#General", "messageId": ann_id, "pinned": true}),
        ),
        (
            "new",
            json!({"chatId": "ann", "message": "a private pineapple"}),
        ),
    ] {
        let r = bob.request(kind, payload).await;
        assert!(ok(&r), "{kind}: {r}");
    }
    let r = bob
        .request("deleteAccount", json!({"password": "wrong password"}))
        .await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    let r = bob.request("listRooms", json!({})).await;
    assert!(ok(&r), "a refused deletion leaves the connection: {r}");
    let r = bob
        .request("deleteAccount", json!({"password": "password-bob"}))
        .await;
    assert!(ok(&r), "{r}");
    for c in [&mut bob, &mut bob2] {
        assert_eq!(
            c.closed(WAIT).await,
            Closed::Frame(4001, "account deleted".into())
        );
    }
    (id, ann_id)
}

#[tokio::test]
async fn a_deleted_accounts_messages_stay_as_deleted_user_and_its_name_is_free() {
    let server = Server::start();
    let mut ann = server.online("ann").await;
    let (id, ann_id) = bob_posts_then_leaves(&server, &mut ann).await;
    // Ann's members' list is told.
    let left = ann
        .next_where(|v| v["eventType"] == "leave" && v["payload"]["chatId"] == "#General")
        .await;
    assert!(left.to_string().contains("bob"), "{left}");

    let messages = history(&mut ann).await;
    let kept = messages
        .iter()
        .find(|m| m["messageId"] == id)
        .expect("bob's message is kept");
    assert_eq!(kept["sender"], "deleted user", "{kept}");
    assert_eq!(kept["message"], "pineapple words from bob");
    let mine = messages.iter().find(|m| m["messageId"] == ann_id).unwrap();
    assert!(mine.get("reactions").is_none(), "bob's reaction: {mine}");
    let r = ann.request("getPins", json!({"chatId": "#General"})).await;
    assert_eq!(r["payload"]["pins"], json!([]), "bob's pin: {r}");
    // The direct chat is gone with him.
    let r = ann.request("search", json!({"query": "private"})).await;
    assert_eq!(r["payload"]["hits"], json!([]), "{r}");

    let frames = replay(&server, "ann").await;
    for f in &frames {
        if f["eventType"] == "new" && f["payload"]["messageId"] == id {
            assert_eq!(f["payload"]["sender"], "deleted user", "{f}");
        }
        let text = f.to_string();
        assert!(!text.contains("private pineapple"), "{f}");
        assert!(
            !(f["eventType"] == "reaction" && f["payload"]["add"] == true),
            "{f}"
        );
    }
    assert!(
        frames
            .iter()
            .any(|f| f["eventType"] == "new" && f["payload"]["messageId"] == id),
        "the kept message is replayed"
    );

    // The name is free: a new account, which owns none of the old messages.
    let (mut bob, r) = auth(&server, "bob", "a new bob's password").await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
    let r = bob
        .request(
            "edit",
            json!({"chatId": "#General", "messageId": id, "message": "mine now"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = bob
        .request("delete", json!({"chatId": "#General", "messageId": id}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    // Nor the old direct chat: only tombstones, not a word of it.
    let r = bob
        .request("getMessages", json!({"chatId": "ann", "count": 10}))
        .await;
    for m in r["payload"].as_array().into_iter().flatten() {
        assert_eq!(m["deleted"], true, "{r}");
        assert_eq!(m["message"], "", "{r}");
    }
    assert!(!r.to_string().contains("pineapple"), "{r}");
}

#[tokio::test]
async fn in_erase_mode_a_deleted_accounts_messages_are_erased() {
    let server = Server::start();
    let mut ann = server.online("ann").await;
    let r = ann
        .request("setDeletedMessages", json!({"mode": "erase"}))
        .await;
    assert_eq!(r["payload"]["deletedMessages"], "erase", "{r}");
    let r = ann.request("getAccountSettings", json!({})).await;
    assert_eq!(r["payload"]["deletedMessages"], "erase", "{r}");
    let (id, _) = bob_posts_then_leaves(&server, &mut ann).await;
    let deleted = ann
        .next_where(|v| v["eventType"] == "delete" && v["payload"]["messageId"] == id)
        .await;
    assert_eq!(deleted["payload"]["chatId"], "#General", "{deleted}");

    let messages = history(&mut ann).await;
    let gone = messages.iter().find(|m| m["messageId"] == id).unwrap();
    assert_eq!(gone["deleted"], true, "{gone}");
    assert_eq!(gone["message"], "", "{gone}");
    let r = ann.request("search", json!({"query": "pineapple"})).await;
    assert_eq!(r["payload"]["hits"], json!([]), "{r}");
    for f in replay(&server, "ann").await {
        assert!(!f.to_string().contains("pineapple"), "{f}");
    }
}

#[tokio::test]
async fn only_the_owner_chooses_and_the_owner_cannot_leave() {
    let server = Server::start();
    let mut ann = server.login("ann").await;
    let mut ben = server.login("ben").await;
    let mut carl = server.login("carl").await;
    make_admin(&mut ann, "ben").await;
    let r = ann.request("getAccountSettings", json!({})).await;
    assert_eq!(r["payload"]["deletedMessages"], "keep", "{r}");
    for c in [&mut ben, &mut carl] {
        let r = c
            .request("setDeletedMessages", json!({"mode": "erase"}))
            .await;
        assert_eq!(r["error"]["code"], "forbidden", "{r}");
    }
    let r = carl.request("getAccountSettings", json!({})).await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = ann.request("getAccountSettings", json!({})).await;
    assert_eq!(r["payload"]["deletedMessages"], "keep", "{r}");

    let r = ann
        .request("deleteAccount", json!({"password": "password-ann"}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let (_c, r) = auth(&server, "ann", "password-ann").await;
    assert_eq!(r["payload"]["role"], "owner", "{r}");
}

#[tokio::test]
async fn a_history_longer_than_a_batch_is_erased_whole() {
    let server = Server::start_with(&["--rate-limit", "1000"]);
    let mut ann = server.login("ann").await;
    let r = ann
        .request("setDeletedMessages", json!({"mode": "erase"}))
        .await;
    assert!(ok(&r), "{r}");
    let mut bob = server.login("bob").await;
    // More than one batch of 200.
    for i in 0..230 {
        post(&mut bob, &format!("mango {i}")).await;
    }
    let r = bob
        .request("deleteAccount", json!({"password": "password-bob"}))
        .await;
    assert!(ok(&r), "{r}");
    let mut end = None;
    let mut left = 0;
    loop {
        let mut payload = json!({"chatId": "#General", "count": 100});
        if let Some(end) = end {
            payload["endId"] = json!(end);
        }
        let r = ann.request("getMessages", payload).await;
        let page = r["payload"].as_array().expect("messages").clone();
        left += page
            .iter()
            .filter(|m| m["message"].as_str().is_some_and(|t| t.contains("mango")))
            .count();
        match page.first().and_then(|m| m["messageId"].as_u64()) {
            Some(first) if page.len() == 100 && first > 1 => end = Some(first - 1),
            _ => break,
        }
    }
    assert_eq!(left, 0, "every message of bob is erased");
    let r = ann.request("search", json!({"query": "mango"})).await;
    assert_eq!(r["payload"]["hits"], json!([]), "{r}");
}

#[tokio::test]
async fn a_later_account_of_a_deleted_name_inherits_no_block() {
    let server = Server::start();
    let mut ann = server.login("ann").await;
    let mut bob = server.login("bob").await;
    // Bob blocks ann, and ann blocks bob.
    for (c, whom) in [(&mut bob, "ann"), (&mut ann, "bob")] {
        let r = c
            .request("block", json!({"userId": whom, "blocked": true}))
            .await;
        assert!(ok(&r), "{r}");
    }
    let r = bob
        .request("deleteAccount", json!({"password": "password-bob"}))
        .await;
    assert!(ok(&r), "{r}");
    let r = ann.request("getBlocks", json!({})).await;
    assert!(!r.to_string().contains("bob"), "{r}");
    // A new bob writes to ann, and she to him.
    let (mut bob, r) = auth(&server, "bob", "a new bob's password").await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
    let r = bob
        .request(
            "new",
            json!({"chatId": "ann", "message": "hello, I am new"}),
        )
        .await;
    assert!(ok(&r), "{r}");
    let r = ann
        .request("new", json!({"chatId": "bob", "message": "welcome"}))
        .await;
    assert!(ok(&r), "{r}");
}
