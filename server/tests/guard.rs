//! Safety on an open network: the Host and Origin checks on every WebSocket upgrade
//! and every `/api/` request, and the security headers on the app.

mod common;

use common::Server;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WS_PATHS: [&str; 4] = ["/ws", "/ws/rwci", "/ws/workspace", "/ws/workshop"];

/// Sends a request with exactly these headers (no `Host` unless given) and returns the
/// status of the answer, reading only its head.
async fn status(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("answer in time")
            .expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status")
}

/// The status of a WebSocket upgrade of `path` with `Host: host` and these extra headers.
async fn upgrade(addr: SocketAddr, path: &str, host: &str, extra: &[(&str, &str)]) -> u16 {
    let mut headers = vec![
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    headers.extend_from_slice(extra);
    status(addr, "GET", path, &headers).await
}

#[tokio::test]
async fn a_foreign_origin_is_refused_on_every_websocket_path() {
    let server = Server::start();
    let host = server.addr.to_string();
    for path in WS_PATHS {
        let s = upgrade(
            server.addr,
            path,
            &host,
            &[("Origin", "http://evil.example")],
        )
        .await;
        assert_eq!(s, 403, "{path}");
        let s = upgrade(server.addr, path, &host, &[("Origin", "null")]).await;
        assert_eq!(s, 403, "{path} with Origin: null");
    }
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_every_websocket_path_and_the_api() {
    let server = Server::start();
    for path in WS_PATHS {
        assert_eq!(
            upgrade(server.addr, path, "evil.example", &[]).await,
            403,
            "{path}"
        );
        let s = upgrade(server.addr, path, "parlor.local.evil.com:80", &[]).await;
        assert_eq!(s, 403, "{path}");
    }
    for path in ["/api/uploads", "/api/admin/broadcast"] {
        let s = status(server.addr, "POST", path, &[("Host", "evil.example")]).await;
        assert_eq!(s, 403, "{path}");
    }
    // Without a Host at all: refused too.
    assert_eq!(status(server.addr, "POST", "/api/uploads", &[]).await, 403);
    // The same API requests with this server's address get past the guard.
    let host = server.addr.to_string();
    let s = status(server.addr, "POST", "/api/uploads", &[("Host", &host)]).await;
    assert_eq!(s, 401);
    let s = status(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Host", &host), ("Origin", "http://evil.example")],
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn own_loopback_and_absent_origins_are_upgraded_and_no_others() {
    let server = Server::start();
    let host = server.addr.to_string();
    let own = format!("http://{host}");
    for path in WS_PATHS {
        for extra in [
            vec![("Origin", own.as_str())],
            vec![("Origin", "http://localhost:5500")],
            vec![],
        ] {
            let s = upgrade(server.addr, path, &host, &extra).await;
            assert_eq!(s, 101, "{path} with {extra:?}");
        }
        let s = upgrade(server.addr, path, "LocalHost", &[]).await;
        assert_eq!(s, 101, "{path} with Host: LocalHost");
        let s = upgrade(server.addr, path, "parlor.local.", &[]).await;
        assert_eq!(s, 101, "{path} with Host: parlor.local.");
        // Reached at a LAN address (any IP literal in Host), the own origin is that
        // address and port under http; another port, or https, is not its own.
        let lan = "192.0.2.7:8080";
        let own_lan = [("Origin", "http://192.0.2.7:8080")];
        assert_eq!(upgrade(server.addr, path, lan, &own_lan).await, 101);
        let other_port = [("Origin", "http://192.0.2.7:8081")];
        assert_eq!(upgrade(server.addr, path, lan, &other_port).await, 403);
        let https = [("Origin", "https://192.0.2.7:8080")];
        assert_eq!(upgrade(server.addr, path, lan, &https).await, 403);
    }
}

#[tokio::test]
async fn allowed_origins_and_hosts_are_upgraded() {
    let server = Server::start_with(&[
        "--allow-origin",
        "https://chat.example.org",
        "--allow-host",
        "parlor.example",
    ]);
    let host = server.addr.to_string();
    for path in WS_PATHS {
        let origin = [("Origin", "https://chat.example.org")];
        assert_eq!(upgrade(server.addr, path, &host, &origin).await, 101);
        let other = [("Origin", "https://other.example.org")];
        assert_eq!(upgrade(server.addr, path, &host, &other).await, 403);
        assert_eq!(
            upgrade(server.addr, path, "Parlor.Example:8080", &[]).await,
            101
        );
        assert_eq!(upgrade(server.addr, path, "other.example", &[]).await, 403);
    }
}

#[tokio::test]
async fn the_app_is_served_with_security_headers() {
    let server = Server::start();
    for path in ["/", "/invite/abc", "/rooms/General"] {
        let (status, headers, _) = server.get(path, &[]).await;
        assert_eq!(status, 200);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let csp = get("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(csp.contains("'sha256-"), "{path}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(get("x-content-type-options"), "nosniff");
        assert_eq!(get("referrer-policy"), "no-referrer");
        assert_eq!(get("x-frame-options"), "DENY");
    }
}
