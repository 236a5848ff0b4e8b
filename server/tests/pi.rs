//! The Raspberry Pi builds: a cross-built `parlor` (aarch64 or armv7), run under
//! qemu-user, serves `/healthz`, the web app and its WASM, keeps its database across a
//! kill -9, and carries messages between two WebSocket clients.
//!
//! These tests are ignored in a plain `cargo test`: they need a cross-built binary.
//! `scripts/dev test` builds one per architecture and runs them with
//!
//!   PARLOR_PI_BIN=$PWD/target/aarch64-unknown-linux-gnu/release/parlor \
//!   PARLOR_PI_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" \
//!   cargo test -p server --test pi -- --ignored
//!
//! Run without those variables, they fail instead of passing without testing anything.

mod common;

use common::{Launch, Server};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Under emulation every Argon2 hash takes seconds, and other builds may share the CPU.
const EMULATED_WAIT: Duration = Duration::from_secs(120);

/// ELF machine numbers of the two Pi architectures.
const EM_ARM: u16 = 0x28;
const EM_AARCH64: u16 = 0xb7;

/// The binary and runner named by `PARLOR_PI_BIN` and `PARLOR_PI_RUNNER`; the binary must
/// be an ARM or AArch64 executable, so these tests never quietly run the host build.
fn pi_launch() -> Launch {
    let program = PathBuf::from(
        std::env::var_os("PARLOR_PI_BIN")
            .expect("PARLOR_PI_BIN must name the cross-built parlor (scripts/dev test sets it)"),
    );
    let runner: Vec<String> = std::env::var("PARLOR_PI_RUNNER")
        .expect("PARLOR_PI_RUNNER must name the emulator command, e.g. `qemu-aarch64-static -L /usr/aarch64-linux-gnu`")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!runner.is_empty(), "PARLOR_PI_RUNNER is empty");
    let head =
        std::fs::read(&program).unwrap_or_else(|e| panic!("read {}: {e}", program.display()));
    assert!(
        head.len() > 20 && head.starts_with(b"\x7fELF"),
        "{} is not an ELF executable",
        program.display()
    );
    let machine = if head[5] == 1 {
        u16::from_le_bytes([head[18], head[19]])
    } else {
        u16::from_be_bytes([head[18], head[19]])
    };
    assert!(
        machine == EM_ARM || machine == EM_AARCH64,
        "{} is not an ARM or AArch64 binary (ELF machine {machine:#x})",
        program.display()
    );
    eprintln!(
        "testing {} ({}) under {}",
        program.display(),
        if machine == EM_ARM {
            "armv7"
        } else {
            "aarch64"
        },
        runner.join(" ")
    );
    Launch {
        program,
        runner,
        wait: EMULATED_WAIT,
        pg: false,
    }
}

/// The URL path of the WASM module that the app's HTML loads.
fn wasm_path(html: &str) -> Option<&str> {
    let end = html.find("_bg.wasm")? + "_bg.wasm".len();
    let start = html[..end].rfind(['\'', '"'])? + 1;
    Some(&html[start..end])
}

#[tokio::test]
#[ignore = "needs a cross-built binary: see scripts/dev test"]
async fn serves_health_the_app_and_its_wasm() {
    let server = Server::launch(pi_launch(), &[]);

    let (status, _, body) = server.get("/healthz", &[]).await;
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));

    let (status, headers, body) = server.get("/", &[]).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/html")),
        "{headers:?}"
    );
    let html = String::from_utf8(body).expect("the app's HTML is UTF-8");
    assert!(
        !html.contains("built without its web app"),
        "the binary carries the placeholder page, not the web app"
    );
    let wasm = wasm_path(&html).unwrap_or_else(|| panic!("no WASM module named in:\n{html}"));

    let (status, headers, body) = server.get(wasm, &[]).await;
    assert_eq!(status, 200, "GET {wasm}");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/wasm"),
        "{headers:?}"
    );
    assert!(body.starts_with(b"\0asm"), "{wasm} is not a WASM module");
    assert!(body.len() > 100_000, "{wasm} is only {} bytes", body.len());

    // Browsers get the precompressed copy.
    let (status, headers, compressed) = server
        .get(wasm, &[("Accept-Encoding", "gzip, deflate, br")])
        .await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-encoding" && v == "br"),
        "{headers:?}"
    );
    assert!(compressed.len() < body.len());
}

/// Sends `text` to `chat_id` and returns its message id.
async fn post(client: &mut common::Client, chat_id: &str, text: &str) -> u64 {
    let r = client
        .request("new", json!({"chatId": chat_id, "message": text}))
        .await;
    r["payload"]["messageId"]
        .as_u64()
        .unwrap_or_else(|| panic!("no messageId in {r}"))
}

fn texts(messages: &Value) -> Vec<&str> {
    messages
        .as_array()
        .unwrap_or_else(|| panic!("not a list of messages: {messages}"))
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect()
}

#[tokio::test]
#[ignore = "needs a cross-built binary: see scripts/dev test"]
async fn relays_messages_between_two_websocket_clients_and_keeps_them() {
    let mut server = Server::launch(pi_launch(), &[]);
    let mut alice = server.online("alice").await;
    let mut bob = server.online("bob").await;

    let id = post(&mut alice, "#General", "hello from the Pi").await;
    let new = bob.event("new").await;
    assert_eq!(new["payload"]["chatId"], "#General", "{new}");
    assert_eq!(new["payload"]["messageId"], id, "{new}");
    assert_eq!(new["payload"]["message"], "hello from the Pi", "{new}");

    let id = post(&mut bob, "alice", "and back, directly").await;
    let new = alice.event("new").await;
    assert_eq!(new["payload"]["chatId"], "bob", "{new}");
    assert_eq!(new["payload"]["messageId"], id, "{new}");
    assert_eq!(new["payload"]["message"], "and back, directly", "{new}");

    // The bundled SQLite, compiled by the cross gcc, has both on disk.
    drop((alice, bob));
    server.crash_and_restart();
    let mut alice = server.login("alice").await;
    let r = alice
        .request("getMessages", json!({"chatId": "#General", "count": 10}))
        .await;
    assert!(texts(&r["payload"]).contains(&"hello from the Pi"), "{r}");
    let r = alice
        .request("getMessages", json!({"chatId": "bob", "count": 10}))
        .await;
    assert_eq!(texts(&r["payload"]), ["and back, directly"], "{r}");
}
