//! The data directory and everything in it are owner-only (0700 directories, 0600
//! files) whatever the umask of whoever starts Parlor, and what an earlier start left
//! readable by others is tightened.
#![cfg(unix)]

mod common;

use common::{http, mode, Launch, Server};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The `parlor` binary started under `umask 022` (the usual default of a login shell).
fn lax_umask() -> Launch {
    Launch {
        runner: vec![
            "sh".into(),
            "-c".into(),
            "umask 022; exec \"$0\" \"$@\"".into(),
        ],
        ..Launch::default()
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The first bytes of a 1×1 PNG (signature and IHDR chunk).
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// Every directory and file Parlor made under `data`, with the mode it must have.
fn expected(data: &Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut out = vec![(data.to_owned(), 0o700)];
    for entry in walk(data) {
        let want = if entry.is_dir() { 0o700 } else { 0o600 };
        out.push((entry, want));
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn assert_owner_only(data: &Path) {
    for (path, want) in expected(data) {
        // A certificate is public by nature; its key is not.
        let key = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("key.pem"));
        if path.extension().is_some_and(|e| e == "pem") && !key {
            continue;
        }
        assert_eq!(mode(&path), want, "{} is {:o}", path.display(), mode(&path));
    }
}

#[tokio::test]
async fn a_fresh_data_directory_is_owner_only_under_umask_022() {
    let server = Server::launch(lax_umask(), &[]);
    let mut alice = server.online("alice").await;
    let r = alice
        .request("new", json!({"chatId":"#General","message":"hello"}))
        .await;
    assert!(r["payload"]["messageId"].is_u64(), "{r}");
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username":"alice","password":"password-alice"}),
        )
        .await;
    let auth = format!("Bearer {}", r["payload"]["token"].as_str().expect("token"));
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[("Authorization", &auth)],
        &png(),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    let data = &server.data;
    for must in [
        "parlor.db",
        "parlor.db-wal",
        "parlor.db-shm",
        "uploads",
        "admin.token",
    ] {
        assert!(data.join(must).exists(), "{must} is there");
    }
    assert_eq!(
        std::fs::read_dir(data.join("uploads"))
            .expect("uploads")
            .count(),
        1
    );
    assert_owner_only(data);
}

#[tokio::test]
async fn what_an_earlier_start_left_open_is_tightened() {
    let mut server = Server::launch(lax_umask(), &["--tls-self-signed"]);
    server.terminate();
    let data = server.data.clone();
    std::fs::create_dir_all(data.join("uploads")).expect("uploads");
    let stray = data
        .join("uploads")
        .join("0123456789abcdef0123456789abcdef.png");
    std::fs::write(&stray, png()).expect("write");
    let open = [
        (data.clone(), 0o755),
        (data.join("parlor.db"), 0o644),
        (data.join("admin.token"), 0o644),
        (data.join("uploads"), 0o777),
        (stray.clone(), 0o644),
        (data.join("tls"), 0o755),
        (data.join("tls").join("key.pem"), 0o644),
        (data.join("tls").join("ca-key.pem"), 0o644),
    ];
    for (path, m) in &open {
        chmod(path, *m);
    }
    server.restart();
    for (path, _) in &open {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(path), want, "{} is {:o}", path.display(), mode(path));
    }
    assert_owner_only(&data);
}
