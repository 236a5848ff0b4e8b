//! `parlor export`, as its user runs it: the real binary on the data directory of a
//! real server that is running, after people chatted over real WebSockets in two
//! rooms and a direct chat (an edit, a delete, a reaction, a reply, a pin, a file).

mod common;

use common::{http, Client, Server};
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs `parlor export ARGS` to its end.
fn export<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("export")
        .args(args)
        .env("PARLOR_LOG", "warn")
        .output()
        .expect("run parlor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(r: &Value) -> &Value {
    assert!(r.get("error").is_none(), "refused: {r}");
    &r["payload"]
}

async fn send(c: &mut Client, chat: &str, message: &str, extra: Value) -> u64 {
    let mut payload = json!({"chatId": chat, "message": message});
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let r = c.request("new", payload).await;
    ok(&r)["messageId"].as_u64().expect("messageId")
}

/// What was said, and the ids the server gave it.
struct Said {
    general: Vec<(u64, &'static str)>,
    den: Vec<(u64, &'static str)>,
    direct: u64,
    edited: u64,
    deleted: u64,
    reply: u64,
    with_file: u64,
    upload_url: String,
}

const SECRET: &str = "the door code is 4711";
const SCRIPT: &str = "<script>alert('pwned')</script> & **not bold**";
const DIRECT: &str = "just between us";

/// alice, bob and carol chat in `#General` and `#Den` (a room carol is not in), and
/// alice writes to bob directly.
async fn chat(server: &Server) -> Said {
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    drop(server.login("carol").await);
    ok(&alice.request("createRoom", json!({"name": "Den"})).await);
    ok(&bob.request("joinRoom", json!({"chatId": "#Den"})).await);

    // A file, sent in a message.
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth), ("X-Filename", "minutes.pdf")],
        b"%PDF-1.4\nthe minutes\n%%EOF\n",
    )
    .await;
    assert_eq!(status, 201, "{}", text(&body));
    let attachment: Value = serde_json::from_slice(&body).expect("json");
    let upload_url = attachment["url"].as_str().expect("url").to_owned();

    let hello = send(&mut alice, "#General", "hello everyone", json!({})).await;
    let edited = send(&mut bob, "#General", "the meeting is at 9", json!({})).await;
    let deleted = send(&mut alice, "#General", SECRET, json!({})).await;
    let reply = send(
        &mut bob,
        "#General",
        "see you there",
        json!({"replyTo": hello}),
    )
    .await;
    let script = send(&mut alice, "#General", SCRIPT, json!({})).await;
    let with_file = send(
        &mut alice,
        "#Den",
        "the minutes",
        json!({"attachments": [attachment]}),
    )
    .await;
    let den_plain = send(&mut bob, "#Den", "thanks!", json!({})).await;
    let direct = send(&mut alice, "bob", DIRECT, json!({})).await;

    ok(&bob
        .request(
            "edit",
            json!({"chatId": "#General", "messageId": edited, "message": "the meeting is at 10"}),
        )
        .await);
    ok(&alice
        .request(
            "delete",
            json!({"chatId": "#General", "messageId": deleted}),
        )
        .await);
    for (by_alice, id, emoji) in [
        (false, hello, "👍"),
        (true, reply, "🎉"),
        (true, hello, "👍"),
        (false, hello, "🎉"),
    ] {
        let c = if by_alice { &mut alice } else { &mut bob };
        ok(&c
            .request(
                "react",
                json!({"chatId": "#General", "messageId": id, "emoji": emoji, "add": true}),
            )
            .await);
    }
    ok(&alice
        .request(
            "pin",
            json!({"chatId": "#General", "messageId": hello, "pinned": true}),
        )
        .await);
    Said {
        general: vec![
            (hello, "hello everyone"),
            (edited, "the meeting is at 10"),
            (deleted, ""),
            (reply, "see you there"),
            (script, SCRIPT),
        ],
        den: vec![(with_file, "the minutes"), (den_plain, "thanks!")],
        direct,
        edited,
        deleted,
        reply,
        with_file,
        upload_url,
    }
}

fn run_ok(args: &[&OsStr]) -> (String, String) {
    let out = export(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "export failed: {stderr}");
    (stdout, stderr)
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).expect("the export");
    serde_json::from_slice(&bytes).expect("the export is JSON")
}

fn room<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc}"))
}

/// The messages of a chat as (id, text) pairs; a tombstone's text is "".
fn ids_and_texts(chat: &Value) -> Vec<(u64, String)> {
    chat["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["id"].as_u64().expect("id"),
                m["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn expected(said: &[(u64, &str)]) -> Vec<(u64, String)> {
    said.iter().map(|(id, t)| (*id, t.to_string())).collect()
}

/// Everything, as JSON, while the server runs: every room (General and Den) and the
/// direct chat, every message in order with its author, time, edit, reply, reactions,
/// file and pin; the deleted message a tombstone without its text; no password hash or
/// token anywhere; an owner-only file; progress as plain lines and the summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_as_json_while_the_server_runs() {
    let server = Server::start();
    let said = chat(&server).await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("all.json");
    let (stdout, stderr) = run_ok(&[
        OsStr::new("--data"),
        server.data.as_os_str(),
        file.as_os_str(),
    ]);
    // Not a terminal: a plain line as the export begins, the summary on stdout.
    assert!(
        stderr.contains("export: writing messages: 8 messages"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(
        stdout.starts_with("export: exported 8 messages in 2 rooms and 1 direct chat, ")
            && stdout.contains(&format!(", to {} in ", file.display())),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the export holds everyone's messages");
    }
    assert!(!tmp.path().join("all.json.part").exists());

    let raw = std::fs::read_to_string(&file).expect("the export");
    assert!(
        !raw.contains(SECRET),
        "a deleted message's text is exported"
    );
    assert!(!raw.contains("argon2"), "a password hash is exported");
    assert!(!raw.contains(&server.token("carol").await));
    let doc = read_json(&file);
    assert_eq!(doc["format"], "parlor-export");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["scope"], "everything");
    assert!(doc["exported_at"].as_str().expect("time").ends_with('Z'));

    let general = room(&doc, "General");
    assert_eq!(ids_and_texts(general), expected(&said.general));
    let members = general["members"].as_array().expect("members");
    for name in ["alice", "bob", "carol"] {
        assert!(members.contains(&json!(name)), "{general}");
    }
    let den = room(&doc, "Den");
    assert_eq!(ids_and_texts(den), expected(&said.den));
    assert_eq!(den["creator"], "alice");
    assert_eq!(den["members"], json!(["alice", "bob"]));

    let messages = general["messages"].as_array().expect("messages");
    let hello = &messages[0];
    assert_eq!(hello["author"], "alice");
    let time = hello["time"].as_str().expect("time");
    assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    assert_eq!(
        hello["reactions"],
        json!({"👍": ["bob", "alice"], "🎉": ["bob"]})
    );
    assert!(hello.get("edited").is_none(), "{hello}");
    let edited = &messages[1];
    assert_eq!(edited["id"], said.edited);
    assert!(
        edited["edited"].as_str().expect("edited") >= edited["time"].as_str().expect("time"),
        "{edited}"
    );
    let tombstone = &messages[2];
    assert_eq!(tombstone["id"], said.deleted);
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["author"], "alice");
    for gone in ["text", "reactions", "attachments", "edited", "reply_to"] {
        assert!(tombstone.get(gone).is_none(), "{gone} in {tombstone}");
    }
    assert_eq!(messages[3]["id"], said.reply);
    assert_eq!(messages[3]["reactions"], json!({"🎉": ["alice"]}));
    assert!(messages[4].get("reactions").is_none(), "{}", messages[4]);
    assert_eq!(messages[3]["reply_to"], messages[0]["id"]);
    assert_eq!(general["pins"][0]["message"], messages[0]["id"]);
    assert_eq!(general["pins"][0]["by"], "alice");

    let with_file = &den["messages"][0];
    assert_eq!(with_file["id"], said.with_file);
    assert_eq!(
        with_file["attachments"],
        json!([{"name": "minutes.pdf", "type": "application/pdf", "size": 27, "url": said.upload_url}])
    );

    let direct = doc["direct"].as_array().expect("direct");
    assert_eq!(direct.len(), 1, "{doc}");
    assert_eq!(direct[0]["members"], json!(["alice", "bob"]));
    assert!(direct[0].get("name").is_none());
    assert_eq!(
        ids_and_texts(&direct[0]),
        vec![(said.direct, DIRECT.to_owned())]
    );
}

/// One room: that room alone, no other room and no direct chat; `#den` finds `Den`;
/// written to stdout with `-`, the summary then on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_room_holds_that_room_only() {
    let server = Server::start();
    let said = chat(&server).await;
    let out = export([
        OsStr::new("--data"),
        server.data.as_os_str(),
        OsStr::new("--room"),
        OsStr::new("#den"),
        OsStr::new("-"),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "export failed: {stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON");
    assert!(
        stderr.contains("export: exported 2 messages in 1 room, ")
            && stderr.contains(" to stdout in "),
        "{stderr}"
    );
    assert_eq!(doc["scope"], json!({"room": "Den"}));
    let rooms = doc["rooms"].as_array().expect("rooms");
    assert_eq!(rooms.len(), 1, "{doc}");
    assert_eq!(ids_and_texts(&rooms[0]), expected(&said.den));
    assert_eq!(doc["direct"], json!([]));
    let raw = text(&out.stdout);
    for other in ["hello everyone", DIRECT, "General"] {
        assert!(!raw.contains(other), "{other} in {raw}");
    }
}

/// HTML of everything: one page with every room's heading and every message, the
/// message holding `<script>` escaped, no script anywhere, light and dark styles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_as_an_html_page_escapes_what_people_typed() {
    let server = Server::start();
    let said = chat(&server).await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("all.html");
    let (stdout, _) = run_ok(&[
        OsStr::new("--data"),
        server.data.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(
        stdout.starts_with("export: exported 8 messages"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&file).expect("the page");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("prefers-color-scheme: dark"));
    assert!(page.contains("<h2>#General</h2>") && page.contains("<h2>#Den</h2>"));
    assert!(page.contains("<h2>alice &amp; bob</h2>"), "{page}");
    for (id, message) in said.general.iter().chain(&said.den) {
        assert!(page.contains(&format!("id=\"m-{id}\"")), "{id}");
        if !message.is_empty() && *message != SCRIPT {
            assert!(page.contains(message), "{message}");
        }
    }
    assert!(page.contains(DIRECT));
    assert!(!page.contains("<script"), "a script in the page");
    assert!(
        page.contains("&lt;script&gt;alert('pwned')&lt;/script&gt; &amp; **not bold**"),
        "{page}"
    );
    assert!(!page.contains(SECRET));
    assert!(page.contains("message deleted"));
    assert!(page.contains("minutes.pdf") && page.contains(&said.upload_url));
    assert!(page.contains("👍 bob, alice"), "{page}");
    assert!(page.ends_with("</html>\n"));

    // `--format html` wins over the file's name.
    let other = tmp.path().join("den.txt");
    run_ok(&[
        OsStr::new("--data"),
        server.data.as_os_str(),
        OsStr::new("--room"),
        OsStr::new("Den"),
        OsStr::new("--format"),
        OsStr::new("html"),
        other.as_os_str(),
    ]);
    let page = std::fs::read_to_string(&other).expect("the page");
    assert!(page.contains("<h2>#Den</h2>") && !page.contains("#General"));
}

/// A room that is not there: refused, naming it and the rooms there are, exit status
/// 1, no file written. A directory without a database, and one written by a newer
/// Parlor, are refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_room_or_a_newer_database_is_refused() {
    let server = Server::start();
    drop(server.login("alice").await);
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("attic.json");
    let out = export([
        OsStr::new("--data"),
        server.data.as_os_str(),
        OsStr::new("--room"),
        OsStr::new("Attic"),
        file.as_os_str(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no room named \"Attic\" in ") && stderr.contains("(rooms: General)"),
        "{stderr}"
    );
    assert!(!file.exists() && !tmp.path().join("attic.json.part").exists());

    let out = export([
        OsStr::new("--data"),
        tmp.path().as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no Parlor database in"),
        "{}",
        text(&out.stderr)
    );

    // A copy of the database, marked as written by a newer schema.
    let newer = tmp.path().join("newer");
    std::fs::create_dir(&newer).expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([OsStr::new("backup"), OsStr::new("--data")])
        .arg(&server.data)
        .arg(tmp.path().join("b.tar"))
        .output()
        .expect("backup");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([OsStr::new("restore")])
        .arg(tmp.path().join("b.tar"))
        .arg("--data")
        .arg(&newer)
        .output()
        .expect("restore");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db = rusqlite::Connection::open(newer.join("parlor.db")).expect("db");
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    db.pragma_update(None, "user_version", version + 1)
        .expect("newer");
    drop(db);
    let out = export([OsStr::new("--data"), newer.as_os_str(), file.as_os_str()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("written by a newer Parlor"), "{stderr}");
    assert!(!file.exists());
}

/// A stopped server's data directory exports the same messages as the running one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_data_directory_exports_too() {
    let mut server = Server::start();
    let said = chat(&server).await;
    assert!(server.terminate().success());
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("all.json");
    run_ok(&[
        OsStr::new("--data"),
        server.data.as_os_str(),
        file.as_os_str(),
    ]);
    let doc = read_json(&file);
    assert_eq!(
        ids_and_texts(room(&doc, "General")),
        expected(&said.general)
    );
    assert_eq!(ids_and_texts(room(&doc, "Den")), expected(&said.den));
}

/// Senders write to `#General` and `#Den` as fast as they can while the export runs.
/// The export is the database as of one commit: each room holds the number of messages
/// counted when the export began (`message_count`, and the total announced first), though
/// `#Den` is read only after all of `#General` was written; the ids are contiguous, and
/// every message acknowledged before it began is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_export_under_load_is_one_consistent_snapshot() {
    let server = Server::start_with(&["--rate-limit", "1000000"]);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for i in 0..4 {
        let mut c = server.login(&format!("sender{i}")).await;
        let chat = if i == 3 {
            ok(&c.request("createRoom", json!({"name": "Den"})).await);
            "#Den"
        } else {
            "#General"
        };
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        senders.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = send(&mut c, chat, &format!("s{i} m{n}"), json!({})).await;
                acked.lock().expect("lock").push(id);
                n += 1;
            }
        }));
    }
    let acked_count = || acked.lock().expect("lock").len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked_count() < 3000 {
        assert!(Instant::now() < deadline, "the load does not run");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before: Vec<u64> = acked.lock().expect("lock").clone();
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("all.json");
    let (data, path) = (server.data.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || {
        export([OsStr::new("--data"), data.as_os_str(), path.as_os_str()])
    })
    .await
    .expect("export ran");
    let during = acked_count() - before.len();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.expect("sender");
    }
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "export failed: {stderr}");
    assert!(
        during > 0,
        "no message was acknowledged while the export ran"
    );

    let doc = read_json(&file);
    let mut ids = Vec::new();
    for name in ["General", "Den"] {
        let chat = room(&doc, name);
        let of_room: Vec<u64> = ids_and_texts(chat).iter().map(|(id, _)| *id).collect();
        assert_eq!(
            chat["message_count"],
            of_room.len(),
            "#{name}: counted at the start other than written"
        );
        ids.extend(of_room);
    }
    ids.sort_unstable();
    let n = ids.len() as u64;
    assert!(
        stderr.contains(&format!("export: writing messages: {n} messages\n")),
        "announced other than written ({n}): {stderr}"
    );
    assert!(
        stdout.starts_with(&format!("export: exported {n} messages in 2 rooms, ")),
        "{stdout}"
    );
    assert_eq!(ids, (1..=n).collect::<Vec<_>>(), "a gap");
    for id in &before {
        assert!(
            ids.binary_search(id).is_ok(),
            "acknowledged {id} before the export, not in it"
        );
    }
}
