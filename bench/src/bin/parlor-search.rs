//! `parlor-search`: the search scenario against a running Parlor.
//!
//! Stores `--messages` messages over the native protocol (pipelined senders, the same
//! `new` requests people send, so every row and index entry is written by the
//! server's own writer), then times 20 searches of one reader, one at a time on one
//! connection: common and rare words, two and three words, a phrase, a prefix, words
//! with accents, `from:` and `in:` filters, a word found only in a room the reader is
//! not in, a word found nowhere, and a second page. Prints the median and p99 (of 20,
//! the slowest but one is not meaningful: p99 is the slowest) and each search's time.
//!
//! Texts are 6 to 14 words drawn from a Zipf distribution over 5,000 words (a few
//! hundred real ones, the rest made of syllables), so a few words are in most
//! messages and most words in few. Where they go: 70 % `#General`, 15 % `#Kitchen`
//! (both the reader's), 10 % `#Attic` (not the reader's), 5 % direct messages to the
//! reader.

use anyhow::{bail, Context};
use bench::{next_json, request_ok, send_request, Ws};
use clap::Parser;
use serde_json::json;
use std::time::Instant;

#[derive(Parser, Clone)]
#[command(about = "Search scenario: store N messages, time 20 searches")]
struct Args {
    /// Server base URL (`ws://host:port`).
    #[arg(long)]
    url: String,
    /// Messages to store.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Concurrent senders while storing.
    #[arg(long, default_value_t = 8)]
    senders: usize,
    /// Unanswered requests each sender keeps in flight.
    #[arg(long, default_value_t = 256)]
    window: usize,
    /// Username prefix (unique per run against one data dir).
    #[arg(long, default_value = "q")]
    prefix: String,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

/// Words people write; the rest of the vocabulary is made of syllables.
const COMMON: &[&str] = &[
    "the",
    "and",
    "to",
    "is",
    "it",
    "we",
    "you",
    "for",
    "on",
    "in",
    "that",
    "this",
    "with",
    "have",
    "be",
    "at",
    "not",
    "are",
    "but",
    "so",
    "can",
    "will",
    "just",
    "all",
    "out",
    "up",
    "if",
    "about",
    "what",
    "there",
    "when",
    "tomorrow",
    "today",
    "water",
    "time",
    "boiler",
    "kettle",
    "heating",
    "garden",
    "meeting",
    "minutes",
    "club",
    "door",
    "key",
    "pressure",
    "hot",
    "cold",
    "room",
    "kitchen",
    "window",
    "light",
    "train",
    "dinner",
    "café",
    "chaudière",
    "école",
    "über",
    "naïve",
    "thermostat",
    "radiator",
    "pipe",
    "pipes",
    "plumber",
    "leak",
    "tank",
    "tea",
    "coffee",
    "bike",
    "rain",
    "weekend",
    "saturday",
    "sunday",
    "monday",
    "photo",
    "party",
    "birthday",
    "cake",
    "music",
    "game",
    "football",
    "match",
    "score",
    "ticket",
    "bus",
    "car",
    "parking",
    "shop",
    "bread",
    "milk",
    "eggs",
    "cheese",
    "wine",
    "beer",
    "table",
    "chairs",
    "paint",
    "wall",
    "roof",
    "gutter",
    "ladder",
    "tools",
    "drill",
    "screws",
    "nails",
    "hammer",
    "fence",
    "gate",
    "lock",
    "alarm",
    "battery",
    "charger",
    "phone",
    "laptop",
    "printer",
    "paper",
    "ink",
];

/// Words written in `#Attic` only: the reader can never find them.
const ATTIC: &[&str] = &["rafters", "dusty", "trunk", "cobweb"];

const VOCABULARY: usize = 5_000;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The vocabulary by rank (the common words first) and its Zipf cumulative weights.
fn vocabulary() -> (Vec<String>, Vec<f64>) {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ren", "tas", "vo", "pel", "dru", "sen", "fa", "gor", "bi", "nu", "zel",
        "quo", "wip", "ost", "har", "lum", "yen",
    ];
    let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
    let mut i = 0usize;
    while words.len() < VOCABULARY {
        let n = SYLLABLES.len();
        let w = format!(
            "{}{}{}",
            SYLLABLES[i % n],
            SYLLABLES[(i / n) % n],
            SYLLABLES[(i / (n * n)) % n]
        );
        i += 1;
        if !words.contains(&w) {
            words.push(w);
        }
    }
    let mut cumulative = Vec::with_capacity(words.len());
    let mut total = 0.0;
    for rank in 1..=words.len() {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    (words, cumulative)
}

fn pick<'a>(rng: &mut Rng, words: &'a [String], cumulative: &[f64]) -> &'a str {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let x = rng.unit() * total;
    let i = cumulative.partition_point(|c| *c < x).min(words.len() - 1);
    &words[i]
}

async fn login(args: &Args, name: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/ws", args.url))
        .await
        .context("connect")?;
    request_ok(
        &mut ws,
        "auth",
        "auth",
        json!({"username": name, "password": "search-password"}),
    )
    .await?;
    Ok(ws)
}

/// Stores `count` messages from `senders` pipelined connections.
async fn store(args: &Args, reader: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let senders = args.senders.max(1);
    let per = args.messages.div_ceil(senders);
    let mut tasks = Vec::new();
    for s in 0..senders {
        let n = per.min(args.messages.saturating_sub(s * per));
        let args = args.clone();
        let reader = reader.to_owned();
        tasks.push(tokio::spawn(async move {
            let name = format!("{}s{s}", args.prefix);
            let mut ws = login(&args, &name).await?;
            for room in ["#Kitchen", "#Attic"] {
                request_ok(&mut ws, "j", "joinRoom", json!({ "chatId": room })).await?;
            }
            let (words, cumulative) = vocabulary();
            let mut rng = Rng(0x5EED + s as u64);
            let (mut sent, mut acked) = (0usize, 0usize);
            while acked < n {
                while sent < n && sent - acked < args.window {
                    let where_ = rng.below(100);
                    let chat = match where_ {
                        0..70 => "#General".to_owned(),
                        70..85 => "#Kitchen".to_owned(),
                        85..95 => "#Attic".to_owned(),
                        _ => reader.clone(),
                    };
                    let count = 6 + rng.below(9);
                    let mut text = String::new();
                    for i in 0..count {
                        if i > 0 {
                            text.push(' ');
                        }
                        if chat == "#Attic" && rng.below(4) == 0 {
                            text.push_str(ATTIC[rng.below(ATTIC.len())]);
                        } else {
                            text.push_str(pick(&mut rng, &words, &cumulative));
                        }
                    }
                    send_request(
                        &mut ws,
                        &format!("n{sent}"),
                        "new",
                        json!({ "chatId": chat, "message": text }),
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

/// The 20 searches, as a reader types them.
fn searches(args: &Args, words: &[String]) -> Vec<String> {
    let s = |i: usize| format!("{}s{i}", args.prefix);
    vec![
        "water".into(),
        "boiler".into(),
        "kettle pressure".into(),
        "\"hot water\"".into(),
        "thermo".into(),
        "chaudiere".into(),
        "ecole cafe".into(),
        format!("water from:{}", s(3)),
        "boiler in:#Kitchen".into(),
        format!("boiler in:{}", s(1)),
        words[1_000].clone(),
        words[3_000].clone(),
        format!("{} {}", words[200], words[400]),
        "rafters".into(),
        "zzzqqqnowhere".into(),
        format!("ecole from:{} in:#General", s(2)),
        "the".into(),
        "thermostat boiler pressure".into(),
        "naive".into(),
        // Replaced by the second page of "water" (its `beforeId`: the first page's last).
        "water".into(),
    ]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let reader = format!("{}reader", args.prefix);
    // The reader exists and is in #Kitchen, not #Attic; both rooms exist.
    let mut ws = login(&args, &reader).await?;
    for room in ["Kitchen", "Attic"] {
        let r = bench::request(&mut ws, "c", "createRoom", json!({ "name": room })).await?;
        if r.get("error").is_some() && r["error"]["code"] != "conflict" {
            bail!("createRoom {room}: {r}");
        }
    }
    request_ok(&mut ws, "l", "leaveRoom", json!({"chatId": "#Attic"})).await?;
    let store_secs = store(&args, &reader).await?;

    let (words, _) = vocabulary();
    let mut times = Vec::new();
    let mut each = Vec::new();
    let mut last_water = None;
    for (i, query) in searches(&args, &words).into_iter().enumerate() {
        let mut payload = json!({ "query": query });
        // The 20th search is a second page of the first.
        if i == 19 {
            if let Some(before) = last_water {
                payload = json!({ "query": "water", "beforeId": before });
            }
        }
        let t = Instant::now();
        let r = request_ok(&mut ws, &format!("s{i}"), "search", payload.clone()).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let hits = r["payload"]["hits"].as_array().map_or(0, Vec::len);
        if i == 0 {
            last_water = r["payload"]["hits"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|h| h["messageId"].as_u64());
        }
        times.push(ms);
        each.push(
            json!({"query": payload["query"], "beforeId": payload.get("beforeId"),
            "ms": ms, "hits": hits, "more": r["payload"]["more"]}),
        );
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let report = json!({
        "stored": args.messages,
        "store_secs": store_secs,
        "stored_per_sec": args.messages as f64 / store_secs,
        "searches": each,
        "p50_ms": percentile(&sorted, 50.0),
        "p99_ms": percentile(&sorted, 99.0),
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
