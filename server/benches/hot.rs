//! The hot pure functions of Parlor's message path: parsing and validating a client
//! frame, serialize-once fan-out (one render, a per-receiver `missed` splice) against
//! serializing per receiver, and appending a batch to the store (group commit).
//!
//!     cargo bench -p server --bench hot

use app::protocol::{ClientFrame, Event, EventBody, MessageEvent, ServerFrame};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use server::domain::{now_ms, Chat, EventData, LogEvent, Message, UserKey};
use server::hub::{ChatName, RenderCache, Shared};
use server::store::{NewMessage, SqliteStore, Store};
use std::hint::black_box;

const NEW: &str = r##"{"type":"request","id":"r42","timestamp":1700300000000,"payloadType":"new","payload":{"chatId":"#General","clientMessageId":"9CD99794-6D8E-4E82-9C97-D474831A43E3","message":"Check out this photo! It is a nice one, taken at the lake this morning.","attachments":[{"type":"image","id":"img123","filename":"photo.jpg","url":"/uploads/3f0c2a9e8d7b6c5a4f3e2d1c0b9a8f7e.jpg","meta":{"mimetype":"image/jpeg","width":1024,"height":768,"size":204800}}]}}"##;

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(NEW.len() as u64));
    g.bench_function("native new request", |b| {
        b.iter(|| ClientFrame::parse(black_box(NEW)).expect("valid"))
    });
    g.finish();
}

fn shared_event() -> Shared {
    let message = Message {
        id: 125,
        sender: "alice".into(),
        client_message_id: Some("9CD99794-6D8E-4E82-9C97-D474831A43E3".into()),
        text: "Check out this photo! It is a nice one, taken at the lake this morning.".into(),
        attachments: Vec::new(),
        created_at: now_ms(),
        updated_at: now_ms(),
        deleted: false,
        reply_to: None,
        quote: None,
        mentions: Vec::new(),
        mentions_room: false,
    };
    Shared {
        event: LogEvent {
            id: 9000,
            at: now_ms(),
            chat: Chat::Room(1),
            data: EventData::New { message },
            unread_after: None,
        },
        name: ChatName::Room("General".into()),
        frames: RenderCache::default(),
    }
}

fn fan_out(c: &mut Criterion) {
    let mut g = c.benchmark_group("fan-out to 200 receivers");
    let receivers: Vec<UserKey> = (0..200).map(|i| UserKey::of(&format!("user{i}"))).collect();
    g.throughput(Throughput::Elements(receivers.len() as u64));
    g.bench_function(
        BenchmarkId::new("serialize once + splice missed", 200),
        |b| {
            b.iter(|| {
                let shared = shared_event();
                for (i, r) in receivers.iter().enumerate() {
                    black_box(server::ws::logged(&shared, r, i as u64 % 7));
                }
            })
        },
    );
    g.bench_function(BenchmarkId::new("serialize per receiver", 200), |b| {
        b.iter(|| {
            let shared = shared_event();
            let EventData::New { message } = &shared.event.data else {
                unreachable!()
            };
            for (i, _) in receivers.iter().enumerate() {
                let frame = ServerFrame::Event(Event {
                    id: Some(shared.event.id),
                    timestamp: shared.event.at,
                    body: EventBody::New(MessageEvent {
                        chat_id: "#General".into(),
                        message_id: message.id,
                        client_message_id: message.client_message_id.clone(),
                        sender: Some(message.sender.clone()),
                        message: message.text.clone(),
                        attachments: Vec::new(),
                        created_at: Some(message.created_at),
                        reply_to: None,
                        mentions: Vec::new(),
                        mentions_room: false,
                        missed: i as u64 % 7,
                    }),
                });
                black_box(frame.to_json());
            }
        })
    });
    g.finish();
}

fn store_append(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("store");
    let general = rt
        .block_on(store.load_world())
        .expect("world")
        .rooms
        .first()
        .map(|r| r.id)
        .expect("General");
    rt.block_on(store.register(server::store::NewAccount {
        name: "alice".into(),
        password_hash: None,
        at: now_ms(),
        invite: None,
        invite_needed: false,
    }))
    .expect("user");
    let mut g = c.benchmark_group("store append");
    g.sample_size(20);
    for batch in [1usize, 100] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(
            BenchmarkId::new("messages, committed with fsync", batch),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let jobs: Vec<_> = (0..batch)
                            .map(|i| {
                                let store = store.clone();
                                let msg = NewMessage {
                                    chat: Chat::Room(general),
                                    sender: "alice".into(),
                                    guest: false,
                                    client_message_id: None,
                                    text: format!("message {i}"),
                                    attachments: Vec::new(),
                                    reply_to: None,
                                    mentions: Vec::new(),
                                    mentions_room: false,
                                    at: now_ms(),
                                };
                                tokio::spawn(store.post(msg, None))
                            })
                            .collect();
                        for j in jobs {
                            j.await.expect("join").expect("write");
                        }
                    })
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, parse, fan_out, store_append);
criterion_main!(benches);
