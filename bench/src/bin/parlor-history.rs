//! `parlor-history`: the history-heavy scenario against a running Parlor.
//!
//! Stores `--messages` messages in `#General` over the native protocol (pipelined
//! senders), with a reader who was live up to `--replay` messages before the end. Then
//! it measures what a user with a long history waits for: the first page of history
//! (latest 50), a page from deep in the past, and the replay of the `--replay` events
//! the reader missed, received in full. `--seed-only` just stores messages (to grow a
//! store for the start-up measurement).

use anyhow::{bail, Context};
use bench::{next_json, request_ok, send_request, Ws};
use clap::Parser;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
#[command(about = "History-heavy scenario: store N messages, time history pages and replay")]
struct Args {
    /// Server base URL (`ws://host:port`).
    #[arg(long)]
    url: String,
    /// Messages to store in #General.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Messages the reader misses at the end (replayed on its return).
    #[arg(long, default_value_t = 10_000)]
    replay: usize,
    /// Concurrent senders while storing.
    #[arg(long, default_value_t = 8)]
    senders: usize,
    /// Unanswered requests each sender keeps in flight.
    #[arg(long, default_value_t = 256)]
    window: usize,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Username prefix (unique per run against one data dir).
    #[arg(long, default_value = "h")]
    prefix: String,
    /// Only store the messages; measure nothing.
    #[arg(long)]
    seed_only: bool,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

async fn login(args: &Args, name: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/ws", args.url))
        .await
        .context("connect")?;
    request_ok(
        &mut ws,
        "auth",
        "auth",
        json!({"username": name, "password": "history-password"}),
    )
    .await?;
    Ok(ws)
}

/// Stores `count` messages from `senders` pipelined connections.
async fn store(args: &Args, count: usize, tag: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let per = count.div_ceil(args.senders.max(1));
    let mut tasks = Vec::new();
    for s in 0..args.senders.max(1) {
        let n = per.min(count.saturating_sub(s * per));
        let args = args.clone();
        let name = format!("{}seed{s}", args.prefix);
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut ws = login(&args, &name).await?;
            let text = "x".repeat(args.size);
            let (mut sent, mut acked) = (0usize, 0usize);
            while acked < n {
                while sent < n && sent - acked < args.window {
                    let id = format!("{tag}{sent}");
                    send_request(
                        &mut ws,
                        &id,
                        "new",
                        json!({"chatId":"#General","message":text}),
                    )
                    .await?;
                    sent += 1;
                }
                let v = next_json(&mut ws).await?;
                if v["type"] == "response" {
                    if v.get("error").is_some() {
                        bail!("new failed: {v}");
                    }
                    acked += 1;
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.seed_only {
        let secs = store(&args, args.messages, "s").await?;
        let report = json!({"stored": args.messages, "store_secs": secs,
            "stored_per_sec": args.messages as f64 / secs});
        println!("{report}");
        return Ok(());
    }
    let replay = args.replay.min(args.messages);
    let before = args.messages - replay;
    // The reader follows the room live while the first part is stored, then leaves
    // remembering the last event it handled.
    let reader = format!("{}reader", args.prefix);
    let mut ws = login(&args, &reader).await?;
    request_ok(&mut ws, "sub", "subscribe", json!({"lastEventId": 0})).await?;
    let follow = tokio::spawn(async move {
        let (mut seen, mut news) = (0u64, 0usize);
        while news < before {
            let v = next_json(&mut ws)
                .await
                .with_context(|| format!("reader after {news} messages"))?;
            // Logged events carry an id; live ones (presence, typing) do not.
            if let Some(id) = v["id"].as_u64() {
                seen = id;
                news += usize::from(v["eventType"] == "new");
            }
        }
        anyhow::Ok(seen)
    });
    let secs_a = store(&args, before, "a").await?;
    let seen = follow.await??;
    let secs_b = store(&args, replay, "b").await?;
    let stored = args.messages;

    // First page and a deep page, as a user opening the room sees them.
    let mut ws = login(&args, &reader).await?;
    let mut first = Vec::new();
    let mut deep = Vec::new();
    let mut oldest = 0;
    for i in 0..21 {
        let t = Instant::now();
        let r = request_ok(
            &mut ws,
            &format!("p{i}"),
            "getMessages",
            json!({"chatId":"#General","count":50}),
        )
        .await?;
        first.push(ms(t.elapsed()));
        oldest = r["payload"][0]["messageId"].as_u64().context("messageId")?;
    }
    for i in 0..21 {
        let end = (oldest / 2).max(1) + i;
        let t = Instant::now();
        request_ok(
            &mut ws,
            &format!("d{i}"),
            "getMessages",
            json!({"chatId":"#General","count":50,"endId":end}),
        )
        .await?;
        deep.push(ms(t.elapsed()));
    }
    drop(ws);

    // The reader returns: time until the last missed event has arrived.
    let mut ws = login(&args, &reader).await?;
    let t = Instant::now();
    let r = request_ok(&mut ws, "sub", "subscribe", json!({"lastEventId": seen})).await?;
    let missed = r["payload"]["missed"].as_u64().context("missed")? as usize;
    let mut got = 0;
    while got < missed {
        let v = next_json(&mut ws).await?;
        if v["type"] == "event" && v["id"].is_u64() {
            got += 1;
        }
    }
    let replay_ms = ms(t.elapsed());
    if missed < replay {
        bail!("replayed {missed} events, expected at least {replay}");
    }
    let report = json!({
        "stored": stored,
        "stored_per_sec": stored as f64 / (secs_a + secs_b),
        "first_page_ms": median(first),
        "deep_page_ms": median(deep),
        "replayed": missed,
        "replay_ms": replay_ms,
        "replayed_per_sec": missed as f64 / (replay_ms / 1000.0),
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
