//! Image uploads over HTTP, stored under `--data/uploads`.

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

async fn token(server: &Server, name: &str) -> String {
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": name, "password": format!("password-{name}")}),
        )
        .await;
    r["payload"]["token"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn an_image_uploads_and_is_served_back() {
    let server = Server::start();
    let token = token(&server, "alice").await;
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
    let stored = std::fs::read_dir(server.data.join("uploads"))
        .expect("uploads dir")
        .count();
    assert_eq!(stored, 1);

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
async fn uploads_need_a_token_an_image_and_a_sane_size() {
    let server = Server::start_with(&["--max-upload-bytes", "1000"]);
    let (status, _, _) = http(server.addr, "POST", "/api/uploads", &[], &png()).await;
    assert_eq!(status, 401);
    let auth = format!("Bearer {}", token(&server, "alice").await);
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth)],
        b"<svg onload=alert(1)>",
    )
    .await;
    assert_eq!(status, 415, "{}", String::from_utf8_lossy(&body));
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
    let token = token(&server, "alice").await;
    let auth = format!("Bearer {token}");
    assert_eq!(
        status_before_body(&server, &[("Authorization", &auth)], 50 * 1024 * 1024).await,
        Some(413),
        "over the limit: 413 without waiting for the body"
    );
}
