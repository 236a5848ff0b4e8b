//! People (issue 13), over real WebSockets: a profile (display name, about, avatar) is
//! set by its person, checked, told to everyone and read by anyone; an avatar must be a
//! picture of one's own and is kept while in use; a block stops direct messages both
//! ways and is listed and reversible.

mod common;

use common::{http, Client, Server};
use serde_json::{json, Value};
use std::time::Duration;

fn code(r: &Value) -> &str {
    r["error"]["code"].as_str().unwrap_or("")
}

fn ok(r: &Value) {
    assert!(r.get("error").is_none(), "refused: {r}");
}

/// The head of a 3×2 PNG.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&3u32.to_be_bytes());
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// Uploads `body` as `name`'s; answers its URL path.
async fn upload(server: &Server, name: &str, kind: &str, body: &[u8]) -> String {
    let token = server.token(name).await;
    let auth = format!("Bearer {token}");
    let (status, _, out) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth), ("Content-Type", kind)],
        body,
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&out));
    let a: Value = serde_json::from_slice(&out).expect("json");
    a["url"].as_str().expect("url").to_owned()
}

async fn status_of(server: &Server, path: &str) -> u16 {
    http(server.addr, "GET", path, &[], &[]).await.0
}

#[tokio::test]
async fn a_profile_is_checked_told_to_everyone_and_read_by_anyone() {
    let server = Server::start();
    let mut ann = server.online("ann").await;
    let mut ben = server.online("ben").await;
    let r = ann
        .request(
            "setProfile",
            json!({"displayName": "  Ann Smith ", "about": "Keeps bees.\nLikes Rust."}),
        )
        .await;
    ok(&r);
    assert_eq!(r["payload"]["displayName"], "Ann Smith", "trimmed: {r}");
    assert_eq!(r["payload"]["role"], "owner");
    let told = ben.event("profile").await;
    assert_eq!(told["payload"]["userId"], "ann");
    assert_eq!(told["payload"]["displayName"], "Ann Smith");
    let r = ben.request("getProfile", json!({"userId": "ANN"})).await;
    assert_eq!(r["payload"]["about"], "Keeps bees.\nLikes Rust.", "{r}");
    let r = ben.request("listUsers", json!({})).await;
    let listed = r["payload"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["userId"] == "ann")
        .cloned()
        .expect("ann listed");
    assert_eq!(listed["displayName"], "Ann Smith", "{r}");

    for (field, value) in [
        ("displayName", "x".repeat(65)),
        ("displayName", "two\nlines".to_owned()),
        ("displayName", "hidden\u{202e}".to_owned()),
        ("about", "y".repeat(301)),
        ("about", "bell\u{7}".to_owned()),
    ] {
        let r = ann.request("setProfile", json!({ field: value })).await;
        assert_eq!(code(&r), "bad_request", "{field}: {r}");
    }
    // Cleared, the name is shown again.
    let r = ann.request("setProfile", json!({"displayName": ""})).await;
    assert!(r["payload"].get("displayName").is_none(), "{r}");
    let r = ben.request("getProfile", json!({"userId": "nobody"})).await;
    assert_eq!(code(&r), "not_found", "{r}");
}

#[tokio::test]
async fn an_avatar_is_ones_own_picture_and_kept_while_in_use() {
    let server = Server::start_with(&["--upload-grace", "300ms"]);
    let mut ann = server.online("ann").await;
    let mut ben = server.online("ben").await;
    let first = upload(&server, "ann", "image/png", &png()).await;
    let r = ann.request("setProfile", json!({"avatar": first})).await;
    ok(&r);
    assert_eq!(r["payload"]["avatar"], first.as_str(), "{r}");
    // Not someone else's, not a document, not made up.
    let r = ben.request("setProfile", json!({"avatar": first})).await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let pdf = upload(&server, "ben", "application/pdf", b"%PDF-1.4\n%%EOF\n").await;
    let r = ben.request("setProfile", json!({"avatar": pdf})).await;
    assert_eq!(code(&r), "bad_request", "{r}");
    let r = ben
        .request(
            "setProfile",
            json!({"avatar": "/uploads/0123456789abcdef0123456789abcdef.png"}),
        )
        .await;
    assert_eq!(code(&r), "not_found", "{r}");

    // Past the grace for unsent uploads, the avatar is still served; ben's PDF is not.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status_of(&server, &first).await, 200);
    assert_eq!(status_of(&server, &pdf).await, 404);

    // A new avatar releases the old one.
    let second = upload(&server, "ann", "image/png", &png()).await;
    ok(&ann.request("setProfile", json!({"avatar": second})).await);
    let mut gone = false;
    for _ in 0..40 {
        if status_of(&server, &first).await == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the replaced avatar is removed");
    assert_eq!(status_of(&server, &second).await, 200);
}

#[tokio::test]
async fn a_block_stops_direct_messages_both_ways_until_lifted() {
    let server = Server::start();
    let mut ann = server.online("ann").await;
    let mut ben: Client = server.online("ben").await;
    let dm = |to: &str, text: &str| json!({"chatId": to, "message": text});
    ok(&ben.request("new", dm("ann", "hello ann")).await);

    ok(&ann
        .request("block", json!({"userId": "ben", "blocked": true}))
        .await);
    let r = ben.request("new", dm("ann", "hello again")).await;
    assert_eq!(code(&r), "forbidden", "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("does not take")));
    let r = ann.request("new", dm("ben", "hi")).await;
    assert_eq!(code(&r), "forbidden", "the blocker too: {r}");
    // The history stays readable; rooms are unchanged.
    let r = ann
        .request("getMessages", json!({"chatId": "ben", "count": 10}))
        .await;
    assert_eq!(r["payload"][0]["message"], "hello ann", "{r}");
    ok(&ben
        .request(
            "new",
            json!({"chatId": "#General", "message": "in the room"}),
        )
        .await);
    let r = ann.request("getBlocks", json!({})).await;
    assert_eq!(r["payload"], json!({"blocked": ["ben"]}), "{r}");

    let r = ann
        .request("block", json!({"userId": "ann", "blocked": true}))
        .await;
    assert_eq!(code(&r), "bad_request", "{r}");
    let r = ann
        .request("block", json!({"userId": "nobody", "blocked": true}))
        .await;
    assert_eq!(code(&r), "not_found", "{r}");

    // Kept across a restart, then lifted.
    drop((ann, ben));
    let mut server = server;
    server.crash_and_restart();
    let mut ben = server.login("ben").await;
    let r = ben.request("new", dm("ann", "after the restart")).await;
    assert_eq!(code(&r), "forbidden", "{r}");
    let mut ann = server.login("ann").await;
    ok(&ann
        .request("block", json!({"userId": "ben", "blocked": false}))
        .await);
    ok(&ben.request("new", dm("ann", "friends again")).await);
}
