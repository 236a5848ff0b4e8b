//! The HTTP side: health, the embedded app, caching and compression.

mod common;

use common::{header, Server};

#[tokio::test]
async fn healthz_says_ok() {
    let server = Server::start();
    let (status, _, body) = server.get("/healthz", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"ok");
}

#[tokio::test]
async fn the_app_is_served_with_no_cache_and_client_routes_fall_back_to_it() {
    let server = Server::start();
    let (status, headers, body) = server.get("/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    let (status, _, routed) = server.get("/rooms/General", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(routed, body);
    let (status, _, _) = server.get("/missing.js", &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = server.get("/api/nothing", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_unchanged_file_answers_304() {
    let server = Server::start();
    let (_, headers, _) = server.get("/", &[]).await;
    let etag = header(&headers, "etag").expect("etag").to_string();
    let (status, _, _) = server.get("/", &[("If-None-Match", &etag)]).await;
    assert_eq!(status, 304);
}
