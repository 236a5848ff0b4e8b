//! Hostile and careless clients: readers that stop reading, connections that never
//! speak, and malformed frames of every kind. The server stays up, keeps its memory,
//! and loses nothing a client can resume.

mod common;

use common::{Client, Closed, Server};
use futures_util::SinkExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The server's resident memory; a machine without `/proc` fails the test instead of
/// reading 0 and passing the memory check without measuring anything.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status to measure memory: {e}"));
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_is_dropped_then_resumes_with_everything() {
    let server = Server::start_with(&[
        "--outbound-queue",
        "32",
        "--rate-limit",
        "1000000",
        "--write-timeout",
        "2s",
    ]);
    let mut slow = server.online("slow").await;
    let mut flooder = server.login("flooder").await;
    let rss_before = rss_kib(server.pid());

    // The slow client reads nothing while 3,000 messages of 4 KiB flood its room.
    const N: usize = 3000;
    let text = "x".repeat(4096);
    for i in 0..N {
        flooder
            .send(
                json!({"type":"request","id":format!("f{i}"),"timestamp":1,"payloadType":"new",
                "payload":{"chatId":"#General","message":format!("{i} {text}")}}),
            )
            .await;
    }
    let mut acked = 0;
    while acked < N {
        let r = flooder.next().await;
        if r["type"] == "response" {
            assert!(r["payload"]["messageId"].is_u64(), "{r}");
            acked += 1;
        }
    }
    let rss_after = rss_kib(server.pid());
    assert!(
        rss_after < rss_before + 64 * 1024,
        "server memory grew from {rss_before} KiB to {rss_after} KiB"
    );

    // It was dropped; what it did read, plus a resume, is everything, once each.
    let mut seen = std::collections::BTreeSet::new();
    let mut last = 0;
    loop {
        match tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::StreamExt::next(&mut slow.ws),
        )
        .await
        {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: serde_json::Value = serde_json::from_str(&t).expect("json");
                if v["eventType"] == "new" {
                    assert!(
                        seen.insert(v["payload"]["messageId"].as_u64().expect("id")),
                        "a message twice"
                    );
                    last = v["id"].as_u64().expect("event id");
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                let code: u16 = frame.map(|f| f.code.into()).unwrap_or(0);
                assert_eq!(code, 1008);
                break;
            }
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => break,
            Err(_) => panic!("the slow reader was never dropped"),
        }
    }
    assert!(
        seen.len() < N,
        "the slow reader got everything without being dropped"
    );
    let mut back = server.login("slow").await;
    for id in back.replayed_message_ids(last).await {
        assert!(seen.insert(id), "replayed twice");
    }
    assert_eq!(seen.len(), N, "every message arrived exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_silent_connections_are_all_closed_on_time() {
    let server = Server::start_with(&["--auth-timeout", "2s"]);
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..2000 {
        clients.push(Client::connect(&server.url("/ws")).await);
    }
    let opened = started.elapsed();
    let mut closed = 0;
    for c in &mut clients {
        if matches!(
            c.closed(Duration::from_secs(15)).await,
            Closed::Frame(1008, _) | Closed::NoFrame
        ) {
            closed += 1;
        }
    }
    assert_eq!(closed, 2000);
    assert!(
        started.elapsed() < opened + Duration::from_secs(12),
        "closing took {:?} after opening took {opened:?}",
        started.elapsed()
    );
    // and the server still serves
    let mut alice = server.online("alice").await;
    let r = alice
        .request("new", json!({"chatId":"#General","message":"still up"}))
        .await;
    assert!(r["payload"]["messageId"].is_u64());
}

#[tokio::test]
async fn hostile_frames_never_break_the_server_or_the_connection() {
    let server = Server::start();
    let mut c = server.online("alice").await;
    let huge_array = format!("[{}]", vec!["1"; 10_000].join(","));
    let frames = [
        "{".repeat(100_000),
        format!(r##"{{"type":"request","id":"a","payloadType":"getMessages","payload":{{"chatId":"#General","count":{huge_array}}}}}"##),
        r##"{"type":"request","id":"b","payloadType":"getMessages","payload":{"chatId":"#General","count":1e400}}"##.into(),
        r##"{"type":"request","id":"c","payloadType":"getMessage","payload":{"chatId":"#General","messageId":-1}}"##.into(),
        r##"{"type":"request","id":"d","payloadType":"getMessage","payload":{"chatId":"#General","messageId":18446744073709551616}}"##.into(),
        r##"{"type":"request","id":"e","payloadType":"new","payload":{"chatId":"#General","message":"hi","surprise":{"nested":[1,2,3]}}}"##.into(),
        r##"{"type":"ack","id":-5}"##.into(),
        r##"{"type":"ack","id":"x"}"##.into(),
        r##"{"type":"event","payloadType":"typing","payload":{"chatId":"#Nowhere"}}"##.into(),
        r##"{"type":"request","id":{"nested":true},"payloadType":"new"}"##.into(),
    ];
    for f in &frames {
        c.send_text(f).await;
    }
    c.ws.send(Message::binary(vec![0xff, 0xfe, 0x00]))
        .await
        .expect("binary");
    // invalid UTF-8 in a text frame is a protocol error: that connection ends, others live
    let mut raw = server.client().await;
    raw.ws
        .send(Message::Frame(
            tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
                vec![0xc3, 0x28],
                tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                    tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
                ),
                true,
            ),
        ))
        .await
        .expect("send bad utf-8");
    raw.closed(Duration::from_secs(5)).await;

    for id in ["a", "b", "c", "d"] {
        let r = c.response(id).await;
        assert_eq!(r["error"]["code"], "bad_request", "{id}: {r}");
    }
    let r = c.response("e").await;
    assert!(
        r["payload"]["messageId"].is_u64(),
        "unknown fields are ignored: {r}"
    );
    let r = c
        .request("new", json!({"chatId":"#General","message":"still fine"}))
        .await;
    assert!(r["payload"]["messageId"].is_u64());
    let (status, _, _) = server.get("/healthz", &[]).await;
    assert_eq!(status, 200);
}
