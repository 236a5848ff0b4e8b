//! Image uploads over HTTP, stored under `--data/uploads` (files of other types:
//! `any_files.rs`).

mod common;

use common::{http, Server};
use serde_json::{json, Value};

/// The first bytes of a 3×2 PNG (signature and IHDR chunk).
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&3u32.to_be_bytes());
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

#[tokio::test]
async fn an_image_uploads_and_is_served_back() {
    let server = Server::start();
    let token = server.token("alice").await;
    let auth = format!("Bearer {token}");
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[
            ("Authorization", &auth),
            ("Content-Type", "image/png"),
            ("X-Filename", "dot.png"),
        ],
        &png(),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let a: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(a["type"], "image");
    assert_eq!(a["filename"], "dot.png");
    assert_eq!(
        a["meta"],
        json!({"mimetype":"image/png","width":3,"height":2,"size":png().len()})
    );
    let url = a["url"].as_str().expect("url");
    let (status, headers, served) = server.get(url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(served, png());
    assert!(headers.contains(&("content-type".into(), "image/png".into())));
    assert!(headers.contains(&("x-content-type-options".into(), "nosniff".into())));
    assert_eq!(server.stored_uploads(), 1);

    // and it can be sent as a message attachment
    let mut c = server.online("alice").await;
    let r = c
        .request(
            "new",
            json!({"chatId":"#General","message":"","attachments":[a]}),
        )
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
}

#[tokio::test]
async fn uploads_need_a_token_and_a_sane_size() {
    let server = Server::start_with(&["--max-upload-bytes", "1000"]);
    let (status, _, _) = http(server.addr, "POST", "/api/uploads", &[], &png()).await;
    assert_eq!(status, 401);
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth)],
        b"<svg onload=alert(1)>",
    )
    .await;
    // Any file is accepted since issue 12, but an SVG is never an image: it is a file,
    // served as an attachment (tests/any_files.rs).
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let a: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(a["type"], "file", "{a}");
    let mut big = png();
    big.resize(5000, 0);
    let (status, _, _) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth)],
        &big,
    )
    .await;
    assert_eq!(status, 413);
    let (status, _, _) = server.get("/uploads/../parlor.db", &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = server
        .get("/uploads/0123456789abcdef0123456789abcdef.png", &[])
        .await;
    assert_eq!(status, 404);
}

/// Sends only the head of a `POST /api/uploads` announcing `length` bytes of body (and
/// none of them), and reads the status line the server answers within two seconds.
async fn status_before_body(server: &Server, extra: &[(&str, &str)], length: u64) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let mut head = format!(
        "POST /api/uploads HTTP/1.1\r\nHost: {}\r\nContent-Type: image/png\r\nContent-Length: {length}\r\n",
        server.addr
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while !got.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()?;
    let line = String::from_utf8_lossy(&got);
    line.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_stranger_is_refused_before_the_body_is_read() {
    let server = Server::start();
    // Ten megabytes announced, none sent: the answer must come from the headers alone.
    assert_eq!(
        status_before_body(&server, &[], 10 * 1024 * 1024).await,
        Some(401),
        "no token: 401 without waiting for the body"
    );
    assert_eq!(
        status_before_body(
            &server,
            &[("Authorization", "Bearer not-a-token")],
            10 * 1024 * 1024
        )
        .await,
        Some(401),
        "a wrong token: 401 without waiting for the body"
    );
    // A real token, but more than the limit announced: refused before the body too.
    let token = server.token("alice").await;
    let auth = format!("Bearer {token}");
    assert_eq!(
        status_before_body(&server, &[("Authorization", &auth)], 50 * 1024 * 1024).await,
        Some(413),
        "over the limit: 413 without waiting for the body"
    );
}

/// Uploads `png()` as `auth`: the status and the parsed body.
async fn upload(server: &Server, auth: &str) -> (u16, Value) {
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", auth)],
        &png(),
    )
    .await;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, body)
}

fn stored(server: &Server) -> usize {
    server.stored_uploads()
}

#[tokio::test]
async fn uploads_over_the_budget_are_refused_with_429_and_nothing_stored() {
    let server = Server::start_with(&["--upload-rate", "3", "--upload-window", "10m"]);
    let auth = format!("Bearer {}", server.token("alice").await);
    for _ in 0..3 {
        assert_eq!(upload(&server, &auth).await.0, 201);
    }
    let (status, body) = upload(&server, &auth).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(stored(&server), 3, "nothing stored past the budget");
    // Another user's budget is their own.
    let bob = format!("Bearer {}", server.token("bob").await);
    assert_eq!(upload(&server, &bob).await.0, 201);
}

#[tokio::test]
async fn uploads_over_the_quota_are_refused_with_413_before_and_after_the_body() {
    let quota = (png().len() * 3).to_string();
    let server = Server::start_with(&["--upload-quota", &quota]);
    let auth = format!("Bearer {}", server.token("alice").await);
    for _ in 0..3 {
        assert_eq!(upload(&server, &auth).await.0, 201);
    }
    let (status, body) = upload(&server, &auth).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    assert_eq!(stored(&server), 3, "the refused upload is not kept");
    // Announced over the quota: refused from the headers, before the body.
    assert_eq!(
        status_before_body(&server, &[("Authorization", &auth)], 1000).await,
        Some(413)
    );
    let bob = format!("Bearer {}", server.token("bob").await);
    assert_eq!(upload(&server, &bob).await.0, 201, "the quota is per user");
}

/// Waits until `url` is no longer served (up to five seconds).
async fn gone(server: &Server, url: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if server.get(url, &[]).await.0 == 404 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn an_upload_no_message_refers_to_is_removed_after_the_grace_period() {
    let server = Server::start_with(&["--upload-grace", "1s"]);
    let auth = format!("Bearer {}", server.token("alice").await);
    let (_, unsent) = upload(&server, &auth).await;
    let (_, sent) = upload(&server, &auth).await;
    let mut alice = server.online("alice").await;
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":"look","attachments":[sent]}),
        )
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
    let unsent = unsent["url"].as_str().expect("url");
    assert!(gone(&server, unsent).await, "{unsent} is still served");
    assert_eq!(
        stored(&server),
        1,
        "only the file a message refers to is kept"
    );
    let (status, _, _) = server.get(sent["url"].as_str().expect("url"), &[]).await;
    assert_eq!(
        status, 200,
        "a file a message refers to is kept past the grace"
    );
}

#[tokio::test]
async fn a_file_goes_with_the_last_message_that_refers_to_it() {
    // The grace period is long: only the deletions remove anything.
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let (_, shared) = upload(&server, &auth).await;
    let (_, replaced) = upload(&server, &auth).await;
    let mut alice = server.online("alice").await;
    let mut ids = Vec::new();
    for attachments in [json!([shared]), json!([shared, replaced])] {
        let r = alice
            .request(
                "new",
                json!({"chatId":"#General","message":"pic","attachments":attachments}),
            )
            .await;
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    let (shared, replaced) = (
        shared["url"].as_str().expect("url").to_string(),
        replaced["url"].as_str().expect("url").to_string(),
    );
    // An edit that drops an attachment releases its file.
    let r = alice
        .request(
            "edit",
            json!({"chatId":"#General","messageId":ids[1],"message":"pic","attachments":[]}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(
        gone(&server, &replaced).await,
        "the dropped attachment's file"
    );
    // A file two messages refer to stays while one of them does.
    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":ids[1]}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.get(&shared, &[]).await.0, 200);
    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":ids[0]}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(gone(&server, &shared).await, "the deleted message's file");
    assert_eq!(stored(&server), 0);
}

#[tokio::test]
async fn clearing_a_room_removes_the_files_of_its_messages() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let (_, image) = upload(&server, &auth).await;
    let mut alice = server.online("alice").await;
    let r = alice.request("createRoom", json!({"name":"Photos"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let r = alice
        .request(
            "new",
            json!({"chatId":"#Photos","message":"pic","attachments":[image]}),
        )
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
    let url = image["url"].as_str().expect("url");
    assert_eq!(server.get(url, &[]).await.0, 200);
    let r = alice
        .request("clearRoom", json!({"chatId":"#Photos"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(gone(&server, url).await, "the cleared message's file");
}
