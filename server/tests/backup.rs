//! `parlor backup` and `parlor restore`, as their user runs them: the real binary,
//! against a real server under a real write load, and the restored data directory
//! served again and read over the WebSocket.

mod common;

use common::{http, mode, Server};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs `parlor ARGS` to its end.
fn parlor<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(args)
        .env("PARLOR_LOG", "warn")
        .output()
        .expect("run parlor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every message id of `#General`, read page by page over the WebSocket.
async fn history(server: &Server, name: &str) -> BTreeSet<u64> {
    let mut c = server.login(name).await;
    let mut ids = BTreeSet::new();
    let mut end: Option<u64> = None;
    loop {
        let mut p = json!({"chatId": "#General", "count": 100});
        if let Some(e) = end {
            p["endId"] = json!(e);
        }
        let page = c.request("getMessages", p).await;
        let items = page["payload"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for item in &items {
            ids.insert(item["messageId"].as_u64().expect("id"));
        }
        match items[0]["messageId"].as_u64() {
            Some(first) if first > 1 => end = Some(first - 1),
            _ => break,
        }
    }
    ids
}

/// Four senders write to `#General` over WebSockets, each recording the ids the
/// server acknowledged, while `parlor backup` runs. Restored into a new directory and
/// served again, the copy holds every message acknowledged before the backup began,
/// and serves an upload's bytes as the original did.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_holds_every_message_acknowledged_before_it() {
    let server = Server::start_with(&["--rate-limit", "1000000"]);
    drop(server.login("reader").await);

    // An upload, sent in a message.
    let file_bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth), ("X-Filename", "notes.bin")],
        &file_bytes,
    )
    .await;
    assert_eq!(status, 201, "{}", text(&body));
    let attachment: Value = serde_json::from_slice(&body).expect("json");
    let url = attachment["url"].as_str().expect("url").to_string();
    let mut alice = server.login("alice").await;
    let r = alice
        .request(
            "new",
            json!({"chatId": "#General", "message": "the notes", "attachments": [attachment]}),
        )
        .await;
    let with_file = r["payload"]["messageId"].as_u64().expect("acknowledged");

    // The load.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for i in 0..4 {
        let mut c = server.login(&format!("sender{i}")).await;
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        senders.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = c
                    .request(
                        "new",
                        json!({"chatId": "#General", "message": format!("s{i} m{n}")}),
                    )
                    .await;
                let id = r["payload"]["messageId"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("not acknowledged: {r}"));
                acked.lock().expect("lock").push(id);
                n += 1;
            }
        }));
    }
    let acked_count = || acked.lock().expect("lock").len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked_count() < 1000 {
        assert!(Instant::now() < deadline, "the load does not run");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = tmp.path().join("parlor-backup.tar");
    let before: BTreeSet<u64> = acked.lock().expect("lock").iter().copied().collect();
    let (data, file) = (server.data.clone(), archive.clone());
    let out = tokio::task::spawn_blocking(move || {
        parlor([
            OsStr::new("backup"),
            OsStr::new("--data"),
            data.as_os_str(),
            file.as_os_str(),
        ])
    })
    .await
    .expect("backup ran");
    let during = acked_count() - before.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.expect("sender");
    }
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "backup failed: {stderr}");
    assert!(
        during > 0,
        "no message was acknowledged while the backup ran"
    );
    // Not a terminal: a plain line per phase, then the summary on stdout.
    assert!(
        stderr.contains("backup: snapshot of the database: ")
            && stderr.contains("backup: copying uploads: 1 file, 200.0 KB"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(
        stdout.starts_with("backup: ") && stdout.contains(", 1 upload (200.0 KB) written to"),
        "{stdout}"
    );
    #[cfg(unix)]
    assert_eq!(mode(&archive), 0o600, "the archive holds password hashes");

    // Restored into a new directory and served again.
    let restored_dir = tmp.path().join("restored");
    let out = parlor([
        OsStr::new("restore"),
        archive.as_os_str(),
        OsStr::new("--data"),
        restored_dir.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "restore failed: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).starts_with("restore: "),
        "{}",
        text(&out.stdout)
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&restored_dir), 0o700);
        assert_eq!(mode(&restored_dir.join("parlor.db")), 0o600);
        assert_eq!(mode(&restored_dir.join("uploads")), 0o700);
        for f in std::fs::read_dir(restored_dir.join("uploads")).expect("uploads") {
            assert_eq!(mode(&f.expect("entry").path()), 0o600);
        }
    }
    let restored = Server::start_on(&restored_dir, &[]);
    let ids = history(&restored, "reader").await;
    eprintln!(
        "acknowledged before the backup: {}, while it ran: {during}; restored: {}",
        before.len(),
        ids.len()
    );
    let lost: Vec<&u64> = before.difference(&ids).collect();
    assert!(
        lost.is_empty(),
        "{} of {} messages acknowledged before the backup are not in it: {lost:?}",
        lost.len(),
        before.len()
    );
    assert!(ids.contains(&with_file));
    let (status, _, served) = restored.get(&url, &[]).await;
    assert_eq!(status, 200);
    assert!(served == file_bytes, "the upload's bytes differ");
}

/// Builds an archive of a stopped server (which works too) holding one message.
async fn archive_of_a_stopped_server(dir: &Path) -> std::path::PathBuf {
    let mut server = Server::start();
    let mut alice = server.login("alice").await;
    let r = alice
        .request("new", json!({"chatId": "#General", "message": "kept"}))
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
    drop(alice);
    server.terminate();
    let file = dir.join("backup.tar");
    let out = parlor([
        OsStr::new("backup"),
        OsStr::new("--data"),
        server.data.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(out.status.success(), "backup failed: {}", text(&out.stderr));
    file
}

/// An upload the snapshot lists whose file is gone by the time it is copied (its
/// message deleted and the file swept in between; here removed by hand) is counted
/// and reported by both commands, never an error.
#[tokio::test]
async fn an_upload_gone_after_the_snapshot_is_counted_not_fatal() {
    let mut server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let mut urls = Vec::new();
    for content in [&b"first file"[..], &b"second file"[..]] {
        let (status, _, body) = http(
            server.addr,
            "POST",
            "/api/uploads",
            &[("Authorization", &auth)],
            content,
        )
        .await;
        assert_eq!(status, 201, "{}", text(&body));
        let a: Value = serde_json::from_slice(&body).expect("json");
        let mut alice = server.login("alice").await;
        let r = alice
            .request(
                "new",
                json!({"chatId": "#General", "message": "", "attachments": [a]}),
            )
            .await;
        assert!(r["payload"]["messageId"].is_u64(), "{r}");
        urls.push(a["url"].as_str().expect("url").to_string());
    }
    server.terminate();
    let gone = urls[0].trim_start_matches("/uploads/");
    std::fs::remove_file(server.data.join("uploads").join(gone)).expect("remove");

    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = tmp.path().join("backup.tar");
    let out = parlor([
        OsStr::new("backup"),
        OsStr::new("--data"),
        server.data.as_os_str(),
        archive.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(", 1 upload (11 B) written to")
            && said.contains("; 1 upload listed but removed since"),
        "{said}"
    );
    let data = tmp.path().join("restored");
    let out = parlor([
        OsStr::new("restore"),
        archive.as_os_str(),
        OsStr::new("--data"),
        data.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("; 1 upload already gone when the backup was made"),
        "{}",
        text(&out.stdout)
    );
    let restored = Server::start_on(&data, &[]);
    let (status, _, body) = restored.get(&urls[1], &[]).await;
    assert_eq!((status, body), (200, b"second file".to_vec()));
    let (status, _, _) = restored.get(&urls[0], &[]).await;
    assert_eq!(status, 404);
}

/// A refused restore: exit status 1 (an error, not a panic), its message on stderr.
fn refused(archive: &Path, data: &Path, says: &str) {
    let out = parlor([
        OsStr::new("restore"),
        archive.as_os_str(),
        OsStr::new("--data"),
        data.as_os_str(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
}

#[tokio::test]
async fn restore_refuses_a_directory_in_use() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = archive_of_a_stopped_server(tmp.path()).await;

    let in_use = tmp.path().join("in-use");
    std::fs::create_dir(&in_use).expect("dir");
    std::fs::write(in_use.join("parlor.db"), b"mine").expect("db");
    refused(&archive, &in_use, "already holds a Parlor database");
    assert_eq!(
        std::fs::read(in_use.join("parlor.db")).expect("db"),
        b"mine"
    );

    let other = tmp.path().join("other");
    std::fs::create_dir(&other).expect("dir");
    std::fs::write(other.join("notes.txt"), b"notes").expect("file");
    refused(&archive, &other, "is not empty");
    assert_eq!(std::fs::read_dir(&other).expect("dir").count(), 1);

    // Nothing to back up: said so.
    let out = parlor([
        OsStr::new("backup"),
        OsStr::new("--data"),
        other.as_os_str(),
        tmp.path().join("x.tar").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no Parlor database"),
        "{}",
        text(&out.stderr)
    );

    // An empty directory is fine, and the copy holds the message.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("dir");
    let out = parlor([
        OsStr::new("restore"),
        archive.as_os_str(),
        OsStr::new("--data"),
        empty.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("restore: 1 message, "),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn a_truncated_or_damaged_archive_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = archive_of_a_stopped_server(tmp.path()).await;
    let bytes = std::fs::read(&archive).expect("archive");
    // The end: [checksums header][checksums data][two zero blocks].
    let cuts = [0, 300, 700, bytes.len() / 2, bytes.len() - 1024 - 512 - 256];
    for cut in cuts {
        let damaged = tmp.path().join(format!("cut-{cut}.tar"));
        std::fs::write(&damaged, &bytes[..cut]).expect("write");
        let data = tmp.path().join(format!("restored-{cut}"));
        refused(&damaged, &data, "is not a usable Parlor backup");
        assert!(!data.exists(), "a refused restore leaves nothing");
    }
    // A byte changed inside the database.
    let mut flipped = bytes.clone();
    let middle = bytes.len() / 2;
    flipped[middle] ^= 0x55;
    let damaged = tmp.path().join("flipped.tar");
    std::fs::write(&damaged, &flipped).expect("write");
    refused(
        &damaged,
        &tmp.path().join("flipped"),
        "is not a usable Parlor backup",
    );
    // Not an archive at all.
    let noise: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 253) as u8).collect();
    let damaged = tmp.path().join("noise.tar");
    std::fs::write(&damaged, noise).expect("write");
    refused(
        &damaged,
        &tmp.path().join("noise"),
        "is not a usable Parlor backup",
    );
}

/// An entry of `data` named `name`, written as is (the tar crate refuses to write
/// `..`, as a hostile archive would not).
fn raw_entry(tar: &mut tar::Builder<Vec<u8>>, name: &[u8], data: &[u8]) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(data.len() as u64);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tar.append(&header, data).expect("append");
}

#[tokio::test]
async fn entries_that_leave_the_data_directory_are_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = archive_of_a_stopped_server(tmp.path()).await;
    let manifest = {
        let mut real = tar::Archive::new(std::fs::File::open(&archive).expect("open"));
        let mut first = real
            .entries()
            .expect("entries")
            .next()
            .expect("one")
            .expect("entry");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut first, &mut bytes).expect("manifest");
        bytes
    };
    let nest = tmp.path().join("nest");
    std::fs::create_dir(&nest).expect("dir");
    let data = nest.join("data");
    let absolute = nest.join("absolute");
    let absolute_name = absolute.to_str().expect("utf-8").as_bytes().to_vec();
    for (i, name) in [
        b"../escaped".to_vec(),
        b"uploads/../../escaped".to_vec(),
        absolute_name,
    ]
    .into_iter()
    .enumerate()
    {
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, b"manifest.json", &manifest);
        raw_entry(&mut tar, &name, b"owned");
        let hostile = tmp.path().join(format!("hostile-{i}.tar"));
        std::fs::write(&hostile, tar.into_inner().expect("archive")).expect("write");
        refused(&hostile, &data, "unexpected entry");
        assert!(!nest.join("escaped").exists());
        assert!(!absolute.exists());
        assert!(!data.exists());
    }
}
