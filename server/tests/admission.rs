//! Strangers' sockets: caps on connections in all and per client address, on sockets
//! that have not logged in, and on what such a socket may send. Loopback is exempt
//! by default (these tests use `--limit-loopback` to be the stranger).

mod common;

use common::{upgrade_status, Client, Closed, Server};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the server answers a plain request on a fresh TCP connection (a refused
/// connection is closed before any byte).
async fn answered(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let req = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await {
        Ok(Ok(_)) => buf.starts_with(b"HTTP/1.1 200"),
        Ok(Err(_)) => false,
        Err(_) => panic!("no answer and no close within 5 s"),
    }
}

/// Opens `n` idle TCP connections and waits until the server has taken them.
async fn hold(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // The kernel completes a handshake before the server accepts; give it the time (a
    // second: with the whole suite running on two cores, 300 ms was sometimes short).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    held
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let server = Server::start_with(&["--limit-loopback", "--max-connections-per-address", "6"]);
    assert!(answered(server.addr).await);
    let mut held = hold(server.addr, 6).await;
    assert!(
        !answered(server.addr).await,
        "a seventh connection from the same address was served"
    );
    held.pop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        answered(server.addr).await,
        "a closed connection did not give its place back"
    );
}

#[tokio::test]
async fn the_total_cap_applies_to_loopback_too() {
    let server = Server::start_with(&["--max-connections", "5"]);
    let held = hold(server.addr, 5).await;
    assert!(
        !answered(server.addr).await,
        "a sixth connection was served"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(answered(server.addr).await);
}

#[tokio::test]
async fn sockets_waiting_to_log_in_are_capped_per_address() {
    let server = Server::start_with(&["--limit-loopback", "--max-pending-logins-per-address", "4"]);
    let url = server.url("/ws");
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(Client::connect(&url).await);
    }
    assert_eq!(upgrade_status(&url).await, Some(429));
    // Every other path is refused alike.
    assert_eq!(upgrade_status(&server.url("/ws/rwci")).await, Some(429));

    // One of them logs in: its place is free again.
    let r = waiting[0]
        .request(
            "auth",
            json!({"username": "ann", "password": "pw-ann-long"}),
        )
        .await;
    assert!(r.get("error").is_none(), "login failed: {r}");
    assert_eq!(upgrade_status(&url).await, None);
}

#[tokio::test]
async fn a_stranger_cannot_make_the_server_buffer_a_big_frame() {
    let server = Server::start_with(&["--limit-loopback"]);
    let mut stranger = server.client().await;
    let big = json!({"type": "request", "id": "x", "timestamp": 1, "payloadType": "auth",
        "payload": {"username": "x".repeat(64 * 1024), "password": "whatever1"}});
    stranger.send(big).await;
    assert_eq!(
        stranger.closed(Duration::from_secs(10)).await,
        Closed::Frame(1009, "too much sent before logging in".into())
    );

    // After its login, a client may send frames of the usual size.
    let mut ann = server.login("ann").await;
    let padded = json!({"type": "request", "id": "big", "timestamp": 1, "payloadType": "getChats",
        "payload": {}, "padding": "p".repeat(64 * 1024)});
    ann.send_text(&padded.to_string()).await;
    let r = ann.response("big").await;
    assert_eq!(r["type"], "response", "{r}");
    let r = ann.request("getChats", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn loopback_is_exempt_by_default() {
    let server = Server::start_with(&["--max-pending-logins-per-address", "2"]);
    let url = server.url("/ws");
    let mut waiting = Vec::new();
    for _ in 0..5 {
        waiting.push(Client::connect(&url).await);
    }
    let mut big = waiting.pop().expect("a client");
    let frame = json!({"type": "request", "id": "x", "timestamp": 1, "payloadType": "auth",
        "payload": {"username": "x".repeat(64 * 1024), "password": "whatever1"}});
    big.send(frame).await;
    let r = big.response("x").await;
    assert!(
        r.get("error").is_some(),
        "an oversized name was accepted: {r}"
    );
}
