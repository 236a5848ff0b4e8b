//! Notifications with Parlor closed (issue 5/6): the test plays the push service (a
//! small HTTP server on 127.0.0.1 that records what it is sent) and the browser (a
//! P-256 key pair and an auth secret of its own); it checks the VAPID signature
//! against `/api/push/key`, decrypts each push (RFC 8291, written here again with
//! `ring`, apart from the server's code) and compares it with the documented payload.
//! Also: who gets none (in the foreground, plain room messages, level `none`),
//! previews off, gone subscriptions forgotten, hostile subscriptions refused, the cap
//! per person, a shared device, and the ntfy subscribe API.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{Client, Server};
use ring::{aead, agreement, rand::SystemRandom, signature};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// How long a test waits to be sure that no push comes.
const QUIET: Duration = Duration::from_millis(1500);
/// How long a push may take to arrive.
const ARRIVE: Duration = Duration::from_secs(10);

/// One request the fake push service received.
#[derive(Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// The fake push service: records every request, answers `status`.
struct PushService {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    rx: mpsc::UnboundedReceiver<Received>,
}

impl PushService {
    async fn start() -> PushService {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(201));
        let answer = status.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                let answer = answer.clone();
                async move {
                    let _ = tx.send(Received {
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    });
                    StatusCode::from_u16(answer.load(Ordering::SeqCst))
                        .unwrap_or(StatusCode::CREATED)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PushService { addr, status, rx }
    }

    fn endpoint(&self, device: &str) -> String {
        format!("http://{}/push/{device}", self.addr)
    }

    /// The next push, within [`ARRIVE`].
    async fn next(&mut self) -> Received {
        tokio::time::timeout(ARRIVE, self.rx.recv())
            .await
            .expect("a push before timeout")
            .expect("the service runs")
    }

    /// No push within [`QUIET`].
    async fn none(&mut self) {
        if let Ok(Some(got)) = tokio::time::timeout(QUIET, self.rx.recv()).await {
            panic!("unexpected push to {}", got.path);
        }
    }
}

/// A browser's subscription keys: one ECDH key pair (ring's are for one agreement:
/// one decrypted push per device) and an auth secret.
struct Device {
    private: Option<agreement::EphemeralPrivateKey>,
    public: Vec<u8>,
    auth: [u8; 16],
}

impl Device {
    fn new() -> Device {
        let rng = SystemRandom::new();
        let private =
            agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).expect("key");
        let public = private
            .compute_public_key()
            .expect("public")
            .as_ref()
            .to_vec();
        let mut auth = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut auth).expect("auth");
        Device {
            private: Some(private),
            public,
            auth,
        }
    }

    /// Subscribes `c`'s person with these keys at `endpoint`: the response.
    async fn subscribe(&self, c: &mut Client, endpoint: &str, previews: bool) -> Value {
        ok(c, "pushSubscribe", self.subscription(endpoint, previews)).await
    }

    fn subscription(&self, endpoint: &str, previews: bool) -> Value {
        json!({
            "endpoint": endpoint,
            "p256dh": b64(&self.public),
            "auth": b64(&self.auth),
            "previews": previews,
        })
    }

    /// RFC 8291 section 3.4 and RFC 8188, the receiving side: the plaintext.
    fn decrypt(&mut self, body: &[u8]) -> Vec<u8> {
        assert!(body.len() > 86, "body too short");
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().expect("rs"));
        assert_eq!(rs, 4096, "record size");
        assert_eq!(body[20], 65, "key id length");
        let server_public = &body[21..86];
        let private = self.private.take().expect("one push per test device");
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, server_public);
        let ecdh = agreement::agree_ephemeral(private, &peer, |s| s.to_vec()).expect("ecdh");
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public);
        info.extend_from_slice(server_public);
        let ikm = hkdf_expand(&hkdf_extract(&self.auth, &ecdh), &info, 32);
        let prk = hkdf_extract(salt, &ikm);
        let cek = hkdf_expand(&prk, b"Content-Encoding: aes128gcm\0", 16);
        let nonce = hkdf_expand(&prk, b"Content-Encoding: nonce\0", 12);
        let key =
            aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).expect("cek"));
        let mut record = body[86..].to_vec();
        let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).expect("nonce");
        let plain = key
            .open_in_place(nonce, aead::Aad::empty(), &mut record)
            .expect("the push decrypts");
        // Padding, then the last record's delimiter 2.
        let end = plain.iter().rposition(|b| *b != 0).expect("delimiter");
        assert_eq!(plain[end], 2, "last record delimiter");
        plain[..end].to_vec()
    }
}

fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    // HKDF-Extract is HMAC(salt, ikm).
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, salt);
    ring::hmac::sign(&key, ikm).as_ref().to_vec()
}

fn hkdf_expand(prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    // One block of HKDF-Expand: HMAC(prk, info || 0x01), cut to `len` (<= 32).
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, prk);
    let mut input = info.to_vec();
    input.push(1);
    ring::hmac::sign(&key, &input).as_ref()[..len].to_vec()
}

fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    data_encoding::BASE64URL_NOPAD
        .decode(s.as_bytes())
        .expect("base64url")
}

/// The server's VAPID public key, from `GET /api/push/key`.
async fn vapid_key(server: &Server) -> String {
    let (status, _, body) = server.get("/api/push/key", &[]).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).expect("json");
    let key = v["key"].as_str().expect("key").to_owned();
    let raw = unb64(&key);
    assert_eq!(raw.len(), 65);
    assert_eq!(raw[0], 4);
    key
}

/// Checks the push's VAPID header against `key` and the service's origin, and its
/// other headers.
fn check_vapid(got: &Received, key: &str, service: SocketAddr) {
    let auth = got.headers["authorization"].to_str().expect("ascii");
    let rest = auth.strip_prefix("vapid t=").expect("vapid scheme");
    let (jwt, k) = rest.split_once(", k=").expect("k=");
    assert_eq!(k, key, "the key of /api/push/key");
    let (input, sig) = jwt.rsplit_once('.').expect("signature");
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, unb64(k))
        .verify(input.as_bytes(), &unb64(sig))
        .expect("the JWT is signed by the server's key");
    let (head, claims) = input.split_once('.').expect("claims");
    let head: Value = serde_json::from_slice(&unb64(head)).expect("header");
    assert_eq!(head["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&unb64(claims)).expect("claims");
    assert_eq!(claims["aud"], format!("http://{service}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp} now {now}");
    assert!(claims["sub"]
        .as_str()
        .is_some_and(|s| s.starts_with("mailto:") || s.starts_with("https:")));
    assert_eq!(got.headers["content-encoding"], "aes128gcm");
    assert_eq!(got.headers["ttl"], "86400");
}

async fn ok(c: &mut Client, payload_type: &str, payload: Value) -> Value {
    let r = c.request(payload_type, payload).await;
    assert!(r.get("error").is_none(), "{payload_type}: {r}");
    r
}

async fn error_code(c: &mut Client, payload_type: &str, payload: Value) -> String {
    let r = c.request(payload_type, payload).await;
    r["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{payload_type} {r} is no error"))
        .to_owned()
}

/// The client goes idle (its connection stays): after the answer of a request sent
/// behind the event, the server has read it.
async fn go_idle(c: &mut Client) {
    c.send(json!({"type": "event", "timestamp": 1, "eventType": "idle"}))
        .await;
    ok(c, "listRooms", json!({})).await;
}

async fn dm(from: &mut Client, to: &str, text: &str) -> u64 {
    let r = ok(from, "new", json!({"chatId": to, "message": text})).await;
    r["payload"]["messageId"].as_u64().expect("id")
}

fn server() -> Server {
    Server::start_with(&["--push-allow-private"])
}

#[tokio::test]
async fn a_dm_to_an_away_person_sends_one_push_that_decrypts_to_the_payload() {
    let server = server();
    let mut service = PushService::start().await;
    let key = vapid_key(&server).await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut device = Device::new();
    let endpoint = service.endpoint("bob-phone");
    let r = device.subscribe(&mut bob, &endpoint, true).await;
    assert_eq!(r["payload"], json!({"endpoint": endpoint}));
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "**Dinner** at\n\neight?").await;
    let got = service.next().await;
    assert_eq!(got.path, "/push/bob-phone");
    check_vapid(&got, &key, service.addr);
    assert_eq!(got.headers["urgency"], "high");
    let payload: Value = serde_json::from_slice(&device.decrypt(&got.body)).expect("json");
    assert_eq!(
        payload,
        json!({"chat": "alice", "from": "alice", "preview": "Dinner at eight?",
               "url": "/?chat=alice"})
    );
    // Exactly one.
    service.none().await;
    // The key stays across a restart (subscriptions are bound to it).
    let mut server = server;
    assert!(server.terminate().success());
    server.restart();
    assert_eq!(vapid_key(&server).await, key);
}

#[tokio::test]
async fn a_person_with_no_connection_is_away_too() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut device = Device::new();
    device
        .subscribe(&mut bob, &service.endpoint("b"), true)
        .await;
    drop(bob);
    // Until the server saw the socket close.
    for _ in 0..100 {
        let users = ok(&mut alice, "listUsers", json!({})).await;
        let offline = users["payload"]["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["userId"] == "bob"))
            .is_some_and(|u| u["status"] == "offline");
        if offline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dm(&mut alice, "bob", "are you there?").await;
    let got = service.next().await;
    let payload: Value = serde_json::from_slice(&device.decrypt(&got.body)).expect("json");
    assert_eq!(payload["from"], "alice");
    assert_eq!(payload["preview"], "are you there?");
}

#[tokio::test]
async fn a_person_reading_in_the_foreground_gets_none() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut phone = server.online("bob").await;
    Device::new()
        .subscribe(&mut phone, &service.endpoint("b"), true)
        .await;
    // The phone is idle, the laptop is in the foreground: bob reads there.
    go_idle(&mut phone).await;
    dm(&mut alice, "bob", "one").await;
    service.none().await;
    // Once every session is idle, the next one pushes (so the silence above meant it).
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "two").await;
    service.next().await;
    // Back in the foreground: none again.
    bob.send(json!({"type": "event", "timestamp": 1, "eventType": "active"}))
        .await;
    ok(&mut bob, "listRooms", json!({})).await;
    dm(&mut alice, "bob", "three").await;
    service.none().await;
    // Never for one's own messages.
    go_idle(&mut bob).await;
    dm(&mut phone, "alice", "from the phone").await;
    service.none().await;
}

#[tokio::test]
async fn a_mention_in_a_room_pushes_and_a_plain_room_message_does_not() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    ok(&mut alice, "createRoom", json!({"name": "Club"})).await;
    let mut bob = server.online("bob").await;
    ok(&mut bob, "joinRoom", json!({"chatId": "#Club"})).await;
    let mut device = Device::new();
    device
        .subscribe(&mut bob, &service.endpoint("b"), true)
        .await;
    go_idle(&mut bob).await;
    ok(
        &mut alice,
        "new",
        json!({"chatId": "#Club", "message": "plain"}),
    )
    .await;
    service.none().await;
    ok(
        &mut alice,
        "new",
        json!({"chatId": "#Club", "message": "@Bob look at this"}),
    )
    .await;
    let got = service.next().await;
    assert_eq!(got.headers["urgency"], "normal");
    let payload: Value = serde_json::from_slice(&device.decrypt(&got.body)).expect("json");
    assert_eq!(
        payload,
        json!({"chat": "#Club", "from": "alice", "preview": "@Bob look at this",
               "url": "/?chat=%23Club"})
    );
    service.none().await;
    // `@room` from the room's creator reaches every member who is away.
    ok(
        &mut alice,
        "new",
        json!({"chatId": "#Club", "message": "@room meeting"}),
    )
    .await;
    assert_eq!(service.next().await.path, "/push/b");
    service.none().await;
}

#[tokio::test]
async fn levels_and_previews_are_followed() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut device = Device::new();
    device
        .subscribe(&mut bob, &service.endpoint("b"), false)
        .await;
    go_idle(&mut bob).await;
    ok(
        &mut bob,
        "setNotify",
        json!({"chatId": "alice", "level": "none"}),
    )
    .await;
    dm(&mut alice, "bob", "@bob nothing at all").await;
    service.none().await;
    ok(
        &mut bob,
        "setNotify",
        json!({"chatId": "alice", "level": "mentions"}),
    )
    .await;
    dm(&mut alice, "bob", "not a mention").await;
    service.none().await;
    dm(&mut alice, "bob", "@bob secret plans").await;
    let got = service.next().await;
    let payload: Value = serde_json::from_slice(&device.decrypt(&got.body)).expect("json");
    // Previews off: sender, chat and id, never the text.
    assert_eq!(
        payload,
        json!({"chat": "alice", "from": "alice", "url": "/?chat=alice"})
    );
}

#[tokio::test]
async fn a_blocked_sender_pushes_nothing() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    ok(&mut alice, "createRoom", json!({"name": "Club"})).await;
    ok(&mut bob, "joinRoom", json!({"chatId": "#Club"})).await;
    Device::new()
        .subscribe(&mut bob, &service.endpoint("b"), true)
        .await;
    ok(
        &mut bob,
        "block",
        json!({"userId": "alice", "blocked": true}),
    )
    .await;
    go_idle(&mut bob).await;
    ok(
        &mut alice,
        "new",
        json!({"chatId": "#Club", "message": "@bob hey"}),
    )
    .await;
    service.none().await;
}

#[tokio::test]
async fn a_gone_subscription_is_forgotten() {
    let server = server();
    let mut service = PushService::start().await;
    service.status.store(410, Ordering::SeqCst);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let endpoint = service.endpoint("gone");
    Device::new().subscribe(&mut bob, &endpoint, true).await;
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "first").await;
    service.next().await;
    // The push arrived here before the server read the 410 and forgot the subscription
    // (a store write): give it that moment, or the next DM may still find it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Forgotten: the next message sends nothing, and it is no longer bob's.
    dm(&mut alice, "bob", "second").await;
    service.none().await;
    assert_eq!(
        error_code(&mut bob, "pushUnsubscribe", json!({"endpoint": endpoint})).await,
        "not_found"
    );
}

#[tokio::test]
async fn a_shared_device_belongs_to_whoever_subscribed_last() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let mut carol = server.online("carol").await;
    let endpoint = service.endpoint("shared");
    Device::new().subscribe(&mut bob, &endpoint, true).await;
    Device::new().subscribe(&mut carol, &endpoint, true).await;
    go_idle(&mut bob).await;
    go_idle(&mut carol).await;
    dm(&mut alice, "bob", "for bob").await;
    service.none().await;
    dm(&mut alice, "carol", "for carol").await;
    assert_eq!(service.next().await.path, "/push/shared");
    // Unsubscribing is one's own: bob has no such subscription any more.
    assert_eq!(
        error_code(&mut bob, "pushUnsubscribe", json!({"endpoint": endpoint})).await,
        "not_found"
    );
    ok(&mut carol, "pushUnsubscribe", json!({"endpoint": endpoint})).await;
    dm(&mut alice, "carol", "again").await;
    service.none().await;
}

#[tokio::test]
async fn subscriptions_are_capped_and_end_with_logout_everywhere() {
    let server = server();
    let mut bob = server.online("bob").await;
    let device = Device::new();
    let endpoint = |i: usize| format!("https://push.example.org/device/{i}");
    for i in 0..=app::protocol::MAX_PUSH_SUBSCRIPTIONS {
        device.subscribe(&mut bob, &endpoint(i), true).await;
        // Each a later creation time than the one before.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // The oldest was dropped; the others are kept.
    assert_eq!(
        error_code(
            &mut bob,
            "pushUnsubscribe",
            json!({"endpoint": endpoint(0)})
        )
        .await,
        "not_found"
    );
    ok(
        &mut bob,
        "pushUnsubscribe",
        json!({"endpoint": endpoint(1)}),
    )
    .await;
    ok(&mut bob, "logoutEverywhere", json!({})).await;
    let mut bob = server.online("bob").await;
    assert_eq!(
        error_code(
            &mut bob,
            "pushUnsubscribe",
            json!({"endpoint": endpoint(2)})
        )
        .await,
        "not_found"
    );
}

#[tokio::test]
async fn hostile_subscriptions_are_refused() {
    // Without --push-allow-private: only https to public addresses.
    let server = Server::start();
    let mut bob = server.online("bob").await;
    let device = Device::new();
    for endpoint in [
        "http://127.0.0.1:9/push",
        "https://127.0.0.1/push",
        "https://10.0.0.7/push",
        "https://192.168.1.20/push",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/push",
        "https://localhost/push",
        "https://nas.local/push",
        "http://push.example.org/push",
        "https://user:pw@push.example.org/push",
        "file:///etc/passwd",
        "push.example.org/push",
        "",
    ] {
        assert_eq!(
            error_code(
                &mut bob,
                "pushSubscribe",
                device.subscription(endpoint, true)
            )
            .await,
            "bad_request",
            "{endpoint}"
        );
    }
    let good = "https://push.example.org/push/1";
    let p256dh = b64(&device.public);
    let auth = b64(&device.auth);
    let long = format!("https://push.example.org/{}", "a".repeat(1100));
    for payload in [
        json!({"endpoint": good, "p256dh": p256dh, "auth": b64(&[1; 15])}),
        json!({"endpoint": good, "p256dh": p256dh, "auth": b64(&[1; 17])}),
        json!({"endpoint": good, "p256dh": b64(&device.public[..64]), "auth": auth}),
        json!({"endpoint": good, "p256dh": b64(&[2; 65]), "auth": auth}),
        json!({"endpoint": good, "p256dh": "not base64!", "auth": auth}),
        json!({"endpoint": good, "p256dh": p256dh}),
        json!({"endpoint": 7, "p256dh": p256dh, "auth": auth}),
        json!({"endpoint": long, "p256dh": p256dh, "auth": auth}),
        json!({"endpoint": good, "p256dh": "A".repeat(5000), "auth": auth}),
    ] {
        assert_eq!(
            error_code(&mut bob, "pushSubscribe", payload.clone()).await,
            "bad_request",
            "{payload}"
        );
    }
    assert_eq!(
        error_code(&mut bob, "pushUnsubscribe", json!({})).await,
        "bad_request"
    );
    // A public https endpoint is taken (and nothing was stored before).
    assert_eq!(
        error_code(&mut bob, "pushUnsubscribe", json!({"endpoint": good})).await,
        "not_found"
    );
    device.subscribe(&mut bob, good, true).await;
    ok(&mut bob, "pushUnsubscribe", json!({"endpoint": good})).await;
}

/// A streaming ntfy subscriber: the response's lines.
struct NtfyStream {
    lines: tokio::io::Lines<BufReader<tokio::net::TcpStream>>,
}

impl NtfyStream {
    /// Opens `GET path`; the status and, when 200, the stream.
    async fn open(server: &Server, path: &str) -> (u16, Option<NtfyStream>) {
        let mut tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut lines = BufReader::new(tcp).lines();
        let status_line = lines.next_line().await.expect("read").expect("status");
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        loop {
            let line = lines.next_line().await.expect("read").expect("header");
            if line.is_empty() {
                break;
            }
        }
        (status, (status == 200).then_some(NtfyStream { lines }))
    }

    /// The next JSON event (chunk sizes of the chunked encoding skipped).
    async fn event(&mut self) -> Value {
        loop {
            let line = tokio::time::timeout(ARRIVE, self.lines.next_line())
                .await
                .expect("an event before timeout")
                .expect("read")
                .expect("open stream");
            if line.starts_with('{') {
                return serde_json::from_str(&line).expect("json");
            }
        }
    }
}

#[tokio::test]
async fn an_ntfy_subscriber_gets_a_dm_while_its_person_is_away() {
    let mut server = server();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = ok(&mut bob, "getNtfyTopic", json!({})).await;
    let topic = r["payload"]["topic"].as_str().expect("topic").to_owned();
    assert_eq!(r["payload"]["path"], "/ntfy");
    assert_eq!(r["payload"]["previews"], true);
    assert!(topic.len() >= 24, "{topic}");
    // The same topic on asking again.
    let again = ok(&mut bob, "getNtfyTopic", json!({})).await;
    assert_eq!(again["payload"]["topic"], topic.as_str());
    let (status, stream) = NtfyStream::open(&server, &format!("/ntfy/{topic}/json")).await;
    assert_eq!(status, 200);
    let mut stream = stream.expect("stream");
    let open = stream.event().await;
    assert_eq!(open["event"], "open");
    assert_eq!(open["topic"], topic.as_str());
    // What the app asks when the topic is added.
    let (status, _, body) = server.get(&format!("/ntfy/{topic}/auth"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json")["success"],
        true
    );
    let (status, _, _) = server.get("/ntfy/not-a-topic-of-anyone/auth", &[]).await;
    assert_eq!(status, 404);
    // A wrong topic: 404, nothing streamed.
    let (status, _) = NtfyStream::open(&server, "/ntfy/not-a-topic-of-anyone/json").await;
    assert_eq!(status, 404);
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "_see_ you at 8").await;
    let message = stream.event().await;
    assert_eq!(message["event"], "message");
    assert_eq!(message["topic"], topic.as_str());
    assert_eq!(message["title"], "alice");
    assert_eq!(message["message"], "see you at 8");
    assert_eq!(
        message["click"],
        format!("http://{}/?chat=alice", server.addr)
    );
    // Kept for the app's poll.
    let (status, _, body) = server
        .get(&format!("/ntfy/{topic}/json?poll=1&since=all"), &[])
        .await;
    assert_eq!(status, 200);
    let polled: Value =
        serde_json::from_slice(body.split(|b| *b == b'\n').next().expect("line")).expect("json");
    assert_eq!(polled["id"], message["id"]);
    // A new topic without previews; the old one is gone at once.
    let reset = ok(&mut bob, "resetNtfyTopic", json!({"previews": false})).await;
    let new_topic = reset["payload"]["topic"]
        .as_str()
        .expect("topic")
        .to_owned();
    assert_ne!(new_topic, topic);
    let (status, _, _) = server.get(&format!("/ntfy/{topic}/json?poll=1"), &[]).await;
    assert_eq!(status, 404);
    let (_, stream) = NtfyStream::open(&server, &format!("/ntfy/{new_topic}/json")).await;
    let mut stream = stream.expect("stream");
    assert_eq!(stream.event().await["event"], "open");
    dm(&mut alice, "bob", "private words").await;
    let message = stream.event().await;
    assert_eq!(message["message"], "New message");
    // An open stream does not hold the server up at shutdown: it ends.
    server.send_term();
    let ended = tokio::time::timeout(ARRIVE, async {
        while let Ok(Some(_)) = stream.lines.next_line().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ended at shutdown");
    assert!(server.wait_exit(ARRIVE).is_some_and(|s| s.success()));
}

#[tokio::test]
async fn the_ntfy_websocket_streams_the_same_events() {
    use futures_util::StreamExt;
    let server = server();
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let r = ok(&mut bob, "getNtfyTopic", json!({})).await;
    let topic = r["payload"]["topic"].as_str().expect("topic").to_owned();
    let url = format!("ws://{}/ntfy/{topic}/ws?since=all", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    async fn next(ws: &mut common::Ws) -> Value {
        let frame = tokio::time::timeout(ARRIVE, ws.next())
            .await
            .expect("a frame")
            .expect("open")
            .expect("frame");
        serde_json::from_str::<Value>(frame.to_text().expect("text")).expect("json")
    }
    assert_eq!(next(&mut ws).await["event"], "open");
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "over the socket").await;
    let message = next(&mut ws).await;
    assert_eq!(message["event"], "message");
    assert_eq!(message["message"], "over the socket");
    let wrong = format!("ws://{}/ntfy/nobodys-topic/ws", server.addr);
    assert!(tokio_tungstenite::connect_async(wrong).await.is_err());
}

#[tokio::test]
async fn a_new_password_or_a_deleted_account_ends_the_subscriptions() {
    let server = server();
    let mut service = PushService::start().await;
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;
    let endpoint = service.endpoint("bob");
    Device::new().subscribe(&mut bob, &endpoint, true).await;
    let topic = ok(&mut bob, "getNtfyTopic", json!({})).await["payload"]["topic"]
        .as_str()
        .expect("topic")
        .to_owned();
    ok(
        &mut bob,
        "changePassword",
        json!({"oldPassword": "password-bob", "newPassword": "another-password"}),
    )
    .await;
    go_idle(&mut bob).await;
    dm(&mut alice, "bob", "after the new password").await;
    service.none().await;
    let (status, _, _) = server.get(&format!("/ntfy/{topic}/json?poll=1"), &[]).await;
    assert_eq!(status, 404, "the ntfy topic ended too");
    // Subscribed again, then the account deleted: gone with it.
    Device::new().subscribe(&mut bob, &endpoint, true).await;
    ok(
        &mut bob,
        "deleteAccount",
        json!({"password": "another-password"}),
    )
    .await;
    let mut bob = server.online("bob").await;
    assert_eq!(
        error_code(&mut bob, "pushUnsubscribe", json!({"endpoint": endpoint})).await,
        "not_found"
    );
}
