//! SIGTERM under load: the process stops within 5 s with success, every client gets
//! close code 1001, and after a restart on the same data directory every message that
//! was acknowledged with a `messageId` is replayed exactly once.

mod common;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const WRITERS: usize = 4;
/// Requests each writer keeps unanswered at once.
const WINDOW: usize = 16;

/// What one writer saw: the ids acknowledged to it and the close code it got.
struct Seen {
    acked: Vec<u64>,
    close: Option<u16>,
    /// How the connection ended when it did not end with a close frame.
    error: Option<String>,
}

/// Sends `new` messages to `reader` without pause (up to [`WINDOW`] in flight) until
/// the server closes the connection.
async fn write_until_closed(mut c: common::Client, writer: usize, acks: Arc<AtomicUsize>) -> Seen {
    let mut seen = Seen {
        acked: Vec::new(),
        close: None,
        error: None,
    };
    let mut sent = 0usize;
    let mut in_flight = 0usize;
    let mut sending = true;
    loop {
        while sending && in_flight < WINDOW {
            let frame = json!({"type":"request","id":format!("w{sent}"),"timestamp":1,"payloadType":"new",
                "payload":{"chatId":"reader","message":format!("{writer}-{sent}"),"clientMessageId":format!("{writer}-{sent}")}});
            if let Err(e) = c.ws.send(Message::text(frame.to_string())).await {
                seen.error = Some(format!("send: {e}"));
                sending = false;
                break;
            }
            sent += 1;
            in_flight += 1;
        }
        let msg = tokio::time::timeout(Duration::from_secs(10), c.ws.next())
            .await
            .expect("the server answers or closes");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                if v["type"] == "response" {
                    in_flight = in_flight.saturating_sub(1);
                    if let Some(id) = v["payload"]["messageId"].as_u64() {
                        seen.acked.push(id);
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some(Ok(Message::Close(frame))) => {
                seen.close = frame.map(|f| u16::from(f.code));
                return seen;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                seen.error = Some(format!("{:?}; read: {e}", seen.error));
                return seen;
            }
            None => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_in_time_and_loses_no_acknowledged_message() {
    let mut server = Server::start_with(&["--rate-limit", "1000000"]);
    let mut reader = server.online("reader").await;
    let acks = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let c = server.login(&format!("writer{w}")).await;
        writers.push(tokio::spawn(write_until_closed(c, w, acks.clone())));
    }
    let started = Instant::now();
    while acks.load(Ordering::Relaxed) < 400 {
        assert!(started.elapsed() < Duration::from_secs(60), "too slow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    server.send_term();
    let termed = Instant::now();
    let (status, server) = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit(Duration::from_secs(5));
        (status, server)
    })
    .await
    .expect("wait");
    let mut server = server;
    let status =
        status.unwrap_or_else(|| panic!("still running {:?} after SIGTERM", termed.elapsed()));
    assert!(status.success(), "{status}");

    let mut acked = BTreeSet::new();
    for w in writers {
        let seen = w.await.expect("writer");
        assert_eq!(
            seen.close,
            Some(1001),
            "a writer was not closed with 1001 (acked {}, {:?})",
            seen.acked.len(),
            seen.error
        );
        for id in seen.acked {
            assert!(acked.insert(id), "messageId {id} acknowledged twice");
        }
    }
    assert!(acked.len() >= 400);
    assert!(matches!(
        reader.closed(Duration::from_secs(5)).await,
        common::Closed::Frame(1001, _)
    ));

    server.restart();
    let mut reader = server.login("reader").await;
    let replayed = reader.replayed_message_ids(0).await;
    let unique: BTreeSet<u64> = replayed.iter().copied().collect();
    assert_eq!(unique.len(), replayed.len(), "a message replayed twice");
    let lost: Vec<&u64> = acked.difference(&unique).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after SIGTERM: {lost:?}"
    );
}
