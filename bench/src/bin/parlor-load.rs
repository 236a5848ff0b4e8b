//! `parlor-load`: a load generator for Parlor (native protocol and each seed dialect)
//! and for the baseline servers (`raw`: plain text echoed to everyone).
//!
//! N clients connect over real WebSockets (ramped), S of them send messages at a rate,
//! every client counts what it receives. Each message carries its sender, sequence
//! number and send time, so the run reports deliveries, latency percentiles, and an
//! audit: every message was delivered exactly once to every client that should see it.
//!
//!     parlor-load --url ws://127.0.0.1:8080 --dialect native --clients 200 \
//!         --senders 10 --rate 20 --duration 20s --server-pid $(pidof parlor)

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Dialect {
    Native,
    Rwci,
    Workspace,
    Workshop,
    /// Plain text echoed to all (the baseline servers).
    Raw,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "parlor-load",
    about = "Load generator for Parlor and its baselines"
)]
struct Args {
    /// Server base URL (`ws://host:port`).
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    url: String,
    #[arg(long, value_enum, default_value = "native")]
    dialect: Dialect,
    /// Connected clients.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// How many of them send.
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Messages per second per sender; 0: as fast as acks allow (`--window`). A native
    /// message is acknowledged by its response; in the other dialects, which echo to
    /// the sender, by the sender's own copy of it.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Unacknowledged messages a sender may have in flight when `--rate 0` (1: closed
    /// loop, the next message leaves when the last one is acknowledged).
    #[arg(long, default_value_t = 256)]
    window: usize,
    /// How long senders send.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Connections opened per second.
    #[arg(long, default_value_t = 500.0)]
    ramp: f64,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Native only: spread clients over this many rooms.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Read this process's RSS at the end (the server).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Username prefix (make it unique per run against one data dir).
    #[arg(long, default_value = "load")]
    prefix: String,
    /// Connect, hold, report memory; send nothing.
    #[arg(long)]
    idle: bool,
    /// Idle, native: each connection also subscribes after it logs in, as the web app
    /// does, so it receives the presence of those who arrive after it.
    #[arg(long)]
    subscribe: bool,
    /// Idle, native: log every user in once with the password first (and wait for the
    /// server to go quiet); the RSS baseline is read then, and the measured connections
    /// log in with the session tokens those logins got: accounts that already exist.
    #[arg(long)]
    existing_accounts: bool,
    /// Idle, native: connections per user (the first user of each group logs in with
    /// the password, the others with its session token).
    #[arg(long, default_value_t = 3)]
    per_user: usize,
    /// Idle: how long to hold once the server is quiet before reading its RSS.
    #[arg(long, default_value = "11s", value_parser = humantime::parse_duration)]
    hold: Duration,
    /// Native: before the clients connect, register this many other accounts
    /// (`PREFIXoffN`), each logging in once with its password and leaving: members of
    /// #General who are offline. With `--clients 0`, only that.
    #[arg(long, default_value_t = 0)]
    accounts: usize,
    /// How many of those `--accounts` logins run at once.
    #[arg(long, default_value_t = 8)]
    accounts_concurrency: usize,
    /// How long to wait for deliveries after the senders stop.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    drain: Duration,
    /// Print one JSON line instead of the table.
    #[arg(long)]
    json: bool,
}

/// What every client reports.
struct Stats {
    sent: AtomicU64,
    /// Messages sent by each sender (indexed by client index).
    sent_by: Vec<AtomicU64>,
    acked: AtomicU64,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

const MARK: &str = "LT|";

fn body(sender: usize, seq: u64, start: Instant, size: usize) -> String {
    let mut text = format!("{MARK}{sender}|{seq}|{}|", start.elapsed().as_micros());
    while text.len() < size {
        text.push('.');
    }
    text
}

/// `(sender, seq, sent_at_us)` of a load message.
fn parse_mark(text: &str) -> Option<(usize, u64, u128)> {
    let mut parts = text.strip_prefix(MARK)?.split('|');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

use bench::{next_json, request, request_ok, Ws};

struct Client {
    index: usize,
    name: String,
    room: usize,
    ws: Ws,
}

fn path(args: &Args, name: &str) -> String {
    match args.dialect {
        Dialect::Native => format!("{}/ws", args.url),
        Dialect::Rwci => format!("{}/ws/rwci", args.url),
        Dialect::Workspace => format!("{}/ws/workspace?username={name}", args.url),
        Dialect::Workshop => format!("{}/ws/workshop", args.url),
        Dialect::Raw => format!("{}/", args.url),
    }
}

/// Connects and logs in one client in its dialect.
async fn connect(args: &Args, index: usize) -> anyhow::Result<Client> {
    // Three connections per user at most: one user per client keeps it simple.
    let name = format!("{}{index}", args.prefix);
    let room = index % args.rooms.max(1);
    let (mut ws, _) = tokio_tungstenite::connect_async(path(args, &name))
        .await
        .context("connect")?;
    match args.dialect {
        Dialect::Native => {
            let r = request(
                &mut ws,
                "a",
                "auth",
                json!({"username": name, "password": "load-password"}),
            )
            .await?;
            if r.get("error").is_some() {
                bail!("auth failed: {r}");
            }
            if args.rooms > 1 {
                let chat = format!("#load-{room}");
                let _ = request(&mut ws, "c", "createRoom", json!({"name": &chat[1..]})).await?;
                let _ = request(&mut ws, "j", "joinRoom", json!({"chatId": chat})).await?;
            }
            let r = request(
                &mut ws,
                "s",
                "subscribe",
                json!({"lastEventId": u64::MAX >> 11}),
            )
            .await?;
            if r.get("error").is_some() {
                bail!("subscribe failed: {r}");
            }
        }
        Dialect::Rwci => {
            ws.send(Message::text(
                json!({"type":"auth","username":name,"password":"load-password"}).to_string(),
            ))
            .await?;
            loop {
                let v = next_json(&mut ws).await?;
                if v["type"] == "auth" && v["success"] != true {
                    bail!("rwci login failed");
                }
                if v["type"] == "join" && v["username"] == name.as_str() {
                    break;
                }
            }
        }
        Dialect::Workspace => {
            let v = next_json(&mut ws).await?;
            if v["type"] != "connected" {
                bail!("workspace: {v}");
            }
        }
        Dialect::Workshop => {
            ws.send(Message::text(
                json!({"event_type":"connection_request","username":name}).to_string(),
            ))
            .await?;
            loop {
                let v = next_json(&mut ws).await?;
                if v["event_type"] == "connection_reject" {
                    bail!("workshop: {v}");
                }
                if v["event_type"] == "users_online" {
                    break;
                }
            }
        }
        Dialect::Raw => {}
    }
    Ok(Client {
        index,
        name,
        room,
        ws,
    })
}

/// The load message text in a received frame, if it is one.
fn received_text(dialect: Dialect, text: &str) -> Option<String> {
    if dialect == Dialect::Raw {
        return Some(text.to_owned());
    }
    if !text.contains(MARK) {
        return None;
    }
    let v: Value = serde_json::from_str(text).ok()?;
    let field = match dialect {
        Dialect::Native => &v["payload"]["message"],
        Dialect::Rwci => &v["message"],
        Dialect::Workspace => &v["data"]["text"],
        Dialect::Workshop => &v["message"],
        Dialect::Raw => return None,
    };
    field.as_str().map(str::to_owned)
}

fn outgoing(dialect: Dialect, text: String, room: usize, rooms: usize, id: u64) -> String {
    match dialect {
        Dialect::Native => {
            let chat = if rooms > 1 {
                format!("#load-{room}")
            } else {
                "#General".into()
            };
            json!({"type":"request","id":format!("m{id}"),"timestamp":0,"payloadType":"new",
                "payload":{"chatId":chat,"message":text}})
            .to_string()
        }
        Dialect::Rwci => json!({"type":"message","message":text}).to_string(),
        Dialect::Workspace => json!({"type":"message:send","text":text}).to_string(),
        Dialect::Workshop => json!({"event_type":"message","message":text}).to_string(),
        Dialect::Raw => text,
    }
}

struct Outcome {
    index: usize,
    room: usize,
    /// `(sender, seq)` → how often this client received it.
    seen: HashMap<(usize, u64), u32>,
    /// Sequence numbers of this sender's messages the server acknowledged (native).
    acked: Vec<u64>,
}

async fn run_client(
    args: Arc<Args>,
    client: Client,
    start: Instant,
    stop_at: Instant,
    stats: Arc<Stats>,
    sender: bool,
) -> Outcome {
    let Client {
        index, room, ws, ..
    } = client;
    let (mut sink, mut stream) = ws.split();
    let dialect = args.dialect;
    let inflight = Arc::new(AtomicU64::new(0));
    // Woken at every acknowledgement, so a full window reopens at once.
    let acked_now = Arc::new(tokio::sync::Notify::new());
    let send_task = if sender && !args.idle {
        let (args, stats, inflight, acked_now) = (
            args.clone(),
            stats.clone(),
            inflight.clone(),
            acked_now.clone(),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let until = stop_at + args.drain;
        let pump = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if sink.send(Message::text(frame)).await.is_err() {
                    break;
                }
            }
            // Stay connected while the others' last messages arrive.
            tokio::time::sleep_until(until.into()).await;
            let _ = sink.close().await;
        });
        let producer = tokio::spawn(async move {
            let mut seq = 0u64;
            let period = if args.rate > 0.0 {
                Duration::from_secs_f64(1.0 / args.rate)
            } else {
                Duration::ZERO
            };
            // Senders are spread over one period so that they do not all fire at once.
            let phase = period.mul_f64(index as f64 / args.senders.max(1) as f64);
            let mut tick = tokio::time::interval_at(
                (Instant::now() + phase).into(),
                period.max(Duration::from_micros(1)),
            );
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while Instant::now() < stop_at {
                if args.rate > 0.0 {
                    tick.tick().await;
                } else if inflight.load(Ordering::Relaxed) as usize >= args.window {
                    // A lost acknowledgement stops this sender only until the end.
                    let _ = tokio::time::timeout_at(stop_at.into(), acked_now.notified()).await;
                    continue;
                }
                seq += 1;
                let text = body(index, seq, start, args.size);
                if tx
                    .send(outgoing(args.dialect, text, room, args.rooms, seq))
                    .is_err()
                {
                    break;
                }
                inflight.fetch_add(1, Ordering::Relaxed);
                stats.sent.fetch_add(1, Ordering::Relaxed);
                if let Some(by) = stats.sent_by.get(index) {
                    by.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(tx);
        });
        Some((producer, pump))
    } else {
        // Keep the sink alive (and answer nothing) while receiving.
        let until = stop_at + args.drain;
        let keep = tokio::spawn(async move {
            tokio::time::sleep_until(until.into()).await;
            drop(sink);
        });
        Some((keep, tokio::spawn(async {})))
    };
    let mut seen: HashMap<(usize, u64), u32> = HashMap::new();
    let mut acked = Vec::new();
    let mut latencies = Vec::new();
    let deadline = stop_at + args.drain;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(_))) => continue,
            _ => break,
        };
        if dialect == Dialect::Native && msg.starts_with("{\"type\":\"response\"") {
            if msg.contains("\"messageId\"") {
                stats.acked.fetch_add(1, Ordering::Relaxed);
                inflight.fetch_sub(1, Ordering::Relaxed);
                acked_now.notify_one();
                let seq = serde_json::from_str::<Value>(&msg).ok().and_then(|v| {
                    v["id"]
                        .as_str()
                        .and_then(|id| id.strip_prefix('m')?.parse::<u64>().ok())
                });
                acked.extend(seq);
            }
            continue;
        }
        let Some(text) = received_text(dialect, &msg) else {
            continue;
        };
        let Some((from, seq, sent_us)) = parse_mark(&text) else {
            continue;
        };
        let now_us = start.elapsed().as_micros();
        latencies.push(now_us.saturating_sub(sent_us).min(u32::MAX as u128) as u32);
        let count = seen.entry((from, seq)).or_insert(0);
        *count += 1;
        if *count > 1 {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.delivered.fetch_add(1, Ordering::Relaxed);
            // Dialects that echo: a sender's own copy is its acknowledgement.
            if sender && from == index && dialect != Dialect::Native {
                let _ = inflight
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                acked_now.notify_one();
            }
        }
    }
    if let Some((a, b)) = send_task {
        a.abort();
        b.abort();
    }
    if let Ok(mut all) = stats.latencies_us.lock() {
        all.extend(latencies);
    }
    Outcome {
        index,
        room,
        seen,
        acked,
    }
}

/// Logs each of `names` in once with the password (registering it if it is new),
/// `--accounts-concurrency` at a time, and leaves; returns each one's session token.
async fn log_in_once(args: &Arc<Args>, names: Vec<String>) -> anyhow::Result<Vec<String>> {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        args.accounts_concurrency.max(1),
    ));
    let mut tasks = Vec::with_capacity(names.len());
    for name in names {
        let slot = slots.clone().acquire_owned().await?;
        let url = format!("{}/ws", args.url);
        tasks.push(tokio::spawn(async move {
            let _slot = slot;
            let (mut ws, _) = tokio_tungstenite::connect_async(url)
                .await
                .context("connect")?;
            let auth = json!({"username": name, "password": "load-password"});
            let r = request_ok(&mut ws, "a", "auth", auth).await?;
            let token = r["payload"]["token"]
                .as_str()
                .context("a password login without a session token")?
                .to_owned();
            let _ = ws.close(None).await;
            anyhow::Ok(token)
        }));
    }
    let mut tokens = Vec::with_capacity(tasks.len());
    for t in tasks {
        tokens.push(t.await??);
    }
    Ok(tokens)
}

/// Waits until the server used under 5 % of a core for two seconds (at most 10
/// minutes), then `hold` longer: Parlor trims its heaps once it has been quiet for a
/// 5 s check interval.
async fn settle(pid: u32, hold: Duration) {
    let started = Instant::now();
    let mut quiet = 0;
    let mut last = cpu_ticks(pid);
    while quiet < 4 && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_ticks(pid);
        quiet = if now.saturating_sub(last) <= 2 {
            quiet + 1
        } else {
            0
        };
        last = now;
    }
    tokio::time::sleep(hold).await;
}

/// Idle connections: authenticated native connections that never subscribe, so the
/// server sends them nothing but pings (an idle authenticated connection, not the
/// presence storm of thousands arriving at once). Three connections per user, the
/// most a user may have: the first logs in with the password (one Argon2 hash), the
/// other two with the session token it got. Once every connection is in and the
/// server's CPU has gone quiet, the server's RSS is read, and every connection must
/// still be open.
///
/// With `--subscribe` every connection subscribes after its login, as the web app
/// does (with a `lastEventId` past the end: nothing to replay), and so receives the
/// `online` and `presence` of every user who arrives after it. With
/// `--existing-accounts` every user has logged in once before the RSS baseline is
/// read, and all three connections log in with that login's token.
async fn idle(args: Arc<Args>, mut rss_start: Option<u64>) -> anyhow::Result<()> {
    if !matches!(args.dialect, Dialect::Native | Dialect::Raw) {
        bail!("--idle measures native (or raw, for the baselines) connections");
    }
    let native = matches!(args.dialect, Dialect::Native);
    if (args.subscribe || args.existing_accounts) && !native {
        bail!("--subscribe and --existing-accounts are native");
    }
    let per_user = if native { args.per_user.max(1) } else { 1 };
    let users: Vec<String> = (0..args.clients)
        .step_by(per_user)
        .map(|first| format!("{}{first}", args.prefix))
        .collect();
    let mut tokens: HashMap<String, String> = HashMap::new();
    let mut accounts_secs = None;
    if args.existing_accounts {
        let began = Instant::now();
        let got = log_in_once(&args, users.clone()).await?;
        tokens = users.iter().cloned().zip(got).collect();
        accounts_secs = Some(began.elapsed().as_secs_f64());
        if let Some(pid) = args.server_pid {
            settle(pid, args.hold).await;
            rss_start = rss_kib(pid);
        }
    }
    let open = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let tokens = Arc::new(tokens);
    let gap = Duration::from_secs_f64(per_user as f64 / args.ramp.max(1.0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for (u, name) in users.into_iter().enumerate() {
        let (a, open, closed, tokens) =
            (args.clone(), open.clone(), closed.clone(), tokens.clone());
        let count = per_user.min(args.clients - u * per_user);
        tasks.push(tokio::spawn(async move {
            let mut conns = Vec::with_capacity(count);
            let mut token = tokens.get(&name).cloned();
            for _ in 0..count {
                let (mut ws, _) = tokio_tungstenite::connect_async(path(&a, &name))
                    .await
                    .context("connect")?;
                if native {
                    let auth = match &token {
                        None => json!({"username": name, "password": "load-password"}),
                        Some(t) => json!({"username": name, "token": t}),
                    };
                    let r = request(&mut ws, "a", "auth", auth).await?;
                    if r.get("error").is_some() {
                        bail!("auth failed: {r}");
                    }
                    if token.is_none() {
                        token = r["payload"]["token"].as_str().map(str::to_owned);
                    }
                    if a.subscribe {
                        let past_the_end = json!({"lastEventId": u64::MAX >> 11});
                        request_ok(&mut ws, "s", "subscribe", past_the_end).await?;
                    }
                }
                open.fetch_add(1, Ordering::Relaxed);
                conns.push(ws);
            }
            // Read (pings, answered by the library; events when subscribed) until the
            // server closes any.
            let mut reads: futures_util::stream::FuturesUnordered<_> = conns
                .into_iter()
                .map(|mut ws| async move {
                    while let Some(Ok(msg)) = ws.next().await {
                        if matches!(msg, Message::Close(_)) {
                            break;
                        }
                    }
                })
                .collect();
            while reads.next().await.is_some() {
                closed.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
        tokio::time::sleep(gap).await;
    }
    while open.load(Ordering::Relaxed) < args.clients as u64 {
        if let Some(t) = tasks.iter_mut().find(|t| t.is_finished()) {
            (&mut *t).await??;
            bail!("a client ended while connecting");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_time = started.elapsed();
    if let Some(pid) = args.server_pid {
        settle(pid, args.hold).await;
    }
    let rss_connected = args.server_pid.and_then(rss_kib);
    let still_open = args.clients as u64 - closed.load(Ordering::Relaxed);
    if still_open < args.clients as u64 {
        bail!(
            "only {still_open} of {} connections are still open",
            args.clients
        );
    }
    let per_conn = match (rss_start, rss_connected) {
        (Some(a), Some(b)) => Some((b.saturating_sub(a) as f64 * 1024.0) / still_open as f64),
        _ => None,
    };
    if args.json {
        println!(
            "{}",
            json!({"connected": still_open, "connect_secs": connect_time.as_secs_f64(),
            "settled_secs": started.elapsed().as_secs_f64(),
            "rss_start_kib": rss_start, "rss_connected_kib": rss_connected, "bytes_per_connection": per_conn,
            "subscribed": args.subscribe, "accounts_secs": accounts_secs})
        );
    } else {
        println!("{still_open} connections open after {:.1?}; server RSS {rss_start:?} KiB → {rss_connected:?} KiB; {per_conn:.0?} bytes per connection", started.elapsed());
    }
    Ok(())
}

/// The server's user + system CPU time in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may hold spaces) start after ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    num(11) + num(12)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    if args.idle {
        let rss_start = args.server_pid.and_then(rss_kib);
        return idle(args, rss_start).await;
    }
    let mut accounts_secs = None;
    if args.accounts > 0 {
        if args.dialect != Dialect::Native {
            bail!("--accounts registers native accounts");
        }
        let began = Instant::now();
        let names = (0..args.accounts)
            .map(|i| format!("{}off{i}", args.prefix))
            .collect();
        log_in_once(&args, names).await?;
        let secs = began.elapsed().as_secs_f64();
        accounts_secs = Some(secs);
        if args.clients == 0 {
            let done = json!({"accounts": args.accounts, "accounts_secs": secs,
                "logins_per_sec": args.accounts as f64 / secs});
            println!("{done}");
            return Ok(());
        }
    }
    let rss_start = args.server_pid.and_then(rss_kib);
    // Connect, ramped.
    let mut clients = Vec::with_capacity(args.clients);
    let gap = Duration::from_secs_f64(1.0 / args.ramp.max(1.0));
    let mut pending = futures_util::stream::FuturesUnordered::new();
    for i in 0..args.clients {
        let a = args.clone();
        pending.push(tokio::spawn(async move { connect(&a, i).await }));
        tokio::time::sleep(gap).await;
        while let Some(Some(done)) = futures_util::FutureExt::now_or_never(pending.next()) {
            clients.push(done??);
        }
    }
    while let Some(done) = pending.next().await {
        clients.push(done??);
    }
    clients.sort_by_key(|c| c.index);
    let connected = clients.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = args.server_pid.and_then(rss_kib);

    let stats = Arc::new(Stats {
        sent: AtomicU64::new(0),
        sent_by: (0..args.senders).map(|_| AtomicU64::new(0)).collect(),
        acked: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        latencies_us: Mutex::new(Vec::new()),
    });
    let start = Instant::now();
    let stop_at = start + args.duration;
    let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
    let mut tasks = Vec::new();
    for (n, client) in clients.into_iter().enumerate() {
        let sender = n < args.senders;
        tasks.push(tokio::spawn(run_client(
            args.clone(),
            client,
            start,
            stop_at,
            stats.clone(),
            sender,
        )));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await?);
    }
    let elapsed = args.duration.as_secs_f64();
    let rss_end = args.server_pid.and_then(rss_kib);

    // Audit: every acknowledged message (native) or every sent message (dialects
    // without acks), once, to every client of its room (the sender too when the dialect
    // echoes; the native protocol answers the sender with a response instead).
    let echo = args.dialect != Dialect::Native;
    let sent = stats.sent.load(Ordering::Relaxed);
    let (mut expected, mut missing, mut repeated) = (0u64, 0u64, 0u64);
    for sender in outcomes.iter().filter(|o| o.index < args.senders) {
        let seqs: Vec<u64> = if echo {
            (1..=stats
                .sent_by
                .get(sender.index)
                .map_or(0, |b| b.load(Ordering::Relaxed)))
                .collect()
        } else {
            sender.acked.clone()
        };
        for receiver in outcomes.iter().filter(|r| r.room == sender.room) {
            if !echo && receiver.index == sender.index {
                continue;
            }
            for seq in &seqs {
                expected += 1;
                match receiver.seen.get(&(sender.index, *seq)) {
                    None => missing += 1,
                    Some(1) => {}
                    Some(_) => repeated += 1,
                }
            }
        }
    }
    let delivered = stats.delivered.load(Ordering::Relaxed);
    let duplicates = stats.duplicates.load(Ordering::Relaxed);
    let acked = stats.acked.load(Ordering::Relaxed);
    let mut lat = stats
        .latencies_us
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    lat.sort_unstable();
    let ratio = if expected > 0 {
        delivered as f64 / expected as f64
    } else {
        0.0
    };
    let result = json!({
        "dialect": format!("{:?}", args.dialect).to_lowercase(),
        "clients": connected,
        "senders": args.senders,
        "rate_per_sender": args.rate,
        "seconds": elapsed,
        "sent": sent,
        "acked": acked,
        "acks_per_sec": acked as f64 / elapsed,
        "expected_deliveries": expected,
        "delivered": delivered,
        "duplicates": duplicates,
        "delivery_ratio": ratio,
        "deliveries_per_sec": delivered as f64 / elapsed,
        "p50_ms": percentile(&lat, 0.50),
        "p90_ms": percentile(&lat, 0.90),
        "p99_ms": percentile(&lat, 0.99),
        "p999_ms": percentile(&lat, 0.999),
        "max_ms": lat.last().map_or(0.0, |m| f64::from(*m) / 1000.0),
        "rss_start_kib": rss_start,
        "rss_connected_kib": rss_connected,
        "rss_end_kib": rss_end,
        "audit_missing": missing,
        "audit_repeated": repeated,
        "exactly_once": missing == 0 && repeated == 0 && duplicates == 0,
        "first_user": names.first(),
        "accounts": args.accounts,
        "accounts_secs": accounts_secs,
    });
    if args.json {
        println!("{result}");
    } else {
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}
