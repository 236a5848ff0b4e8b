//! HTTPS and WSS: a self-signed certificate made and kept under `--data`, certificate
//! files from the command line, and what a plain-HTTP or silent client does to the port.

mod common;

use common::{tls_client_config, Client, Server, WAIT};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

/// `GET path` over TLS to `addr`, checking the certificate for `name`: the status
/// code and body.
async fn https_get(
    addr: SocketAddr,
    name: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
) -> (u16, String) {
    let (text, _) = common::https_get(addr, name, config, path).await;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

async fn healthz(server: &Server) -> (u16, String) {
    https_get(
        server.addr,
        "localhost",
        tls_client_config(&server.trust),
        "/healthz",
    )
    .await
}

#[tokio::test]
async fn self_signed_serves_https_and_wss() {
    let server = Server::start_with(&["--tls-self-signed"]);
    assert!(server.https, "the first line names https://");
    let cert = server.data.join("tls/cert.pem");
    assert!(cert.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(server.data.join("tls/key.pem")).expect("key file");
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(healthz(&server).await, (200, "ok".to_string()));
    let (status, page) = https_get(
        server.addr,
        "localhost",
        tls_client_config(&server.trust),
        "/",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<html") || page.contains("<!DOCTYPE"),
        "{page}"
    );

    // WSS at 127.0.0.1 (an IP name in the certificate): two users talk.
    assert!(server.url("/ws").starts_with("wss://127.0.0.1:"));
    let mut bob = server.online("bob").await;
    let mut alice = server.online("alice").await;
    let r = alice
        .request("new", json!({"chatId": "bob", "message": "over TLS"}))
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("a messageId");
    let ev = bob.event("new").await;
    assert_eq!(ev["payload"]["messageId"], id);
    assert_eq!(ev["payload"]["message"], "over TLS");
    assert_eq!(ev["payload"]["chatId"], "alice");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let server = Server::start_with(&["--tls-self-signed"]);
    let other = tempfile::tempdir().expect("tempdir");
    let stranger =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let path = other.path().join("stranger.pem");
    std::fs::write(&path, stranger.cert.pem()).expect("write");
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let handshake = tokio_rustls::TlsConnector::from(tls_client_config(&path))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await;
    assert!(handshake.is_err(), "an untrusted certificate was accepted");
    assert_eq!(healthz(&server).await.0, 200);
}

#[tokio::test]
async fn plain_http_on_the_tls_port_is_sent_to_the_trust_page_and_the_server_keeps_serving() {
    let server = Server::start_with(&["--tls-self-signed"]);
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = Vec::new();
        tokio::time::timeout(WAIT, tcp.read_to_end(&mut buf))
            .await
            .expect("the connection is ended, not left hanging")
            .expect("read");
        let answer = String::from_utf8_lossy(&buf);
        assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("location: /trust\r\n"),
            "{answer}"
        );
        assert!(
            !answer.ends_with("ok"),
            "plain HTTP reached the app: {answer}"
        );
    }
    assert_eq!(healthz(&server).await, (200, "ok".to_string()));
}

#[tokio::test]
async fn a_silent_client_does_not_hold_up_the_others() {
    let server = Server::start_with(&["--tls-self-signed"]);
    // Connected, never saying a word: its handshake waits on its own.
    let _silent: Vec<TcpStream> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(TcpStream::connect(server.addr).await.expect("connect"));
        }
        v
    };
    let answered = tokio::time::timeout(Duration::from_secs(3), healthz(&server)).await;
    assert_eq!(answered.expect("served at once"), (200, "ok".to_string()));
}

#[tokio::test]
async fn a_restart_reuses_the_self_signed_certificate() {
    let mut server = Server::start_with(&["--tls-self-signed"]);
    let cert = std::fs::read(server.data.join("tls/cert.pem")).expect("cert");
    let key = std::fs::read(server.data.join("tls/key.pem")).expect("key");
    let trusted = tls_client_config(&server.trust);
    let status = server.terminate();
    assert!(status.success(), "{status}");
    server.restart();
    assert!(server.https);
    assert_eq!(
        std::fs::read(server.data.join("tls/cert.pem")).expect("cert"),
        cert
    );
    assert_eq!(
        std::fs::read(server.data.join("tls/key.pem")).expect("key"),
        key
    );
    // A client that trusted the first start's certificate still connects.
    let (status, _) = https_get(server.addr, "localhost", trusted, "/healthz").await;
    assert_eq!(status, 200);
}

/// A certificate authority and a server certificate for `localhost` signed by it,
/// written to `dir`: (ca.pem, cert.pem, key.pem).
fn issue(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).expect("signed");
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("write");
    std::fs::write(&paths.1, cert.pem()).expect("write");
    std::fs::write(&paths.2, key.serialize_pem()).expect("write");
    paths
}

#[tokio::test]
async fn certificate_files_from_the_command_line_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = issue(dir.path());
    let mut server = Server::start_with(&[
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(server.https);
    server.trust = ca;
    assert_eq!(healthz(&server).await, (200, "ok".to_string()));
    assert!(
        !server.data.join("tls").exists(),
        "no self-signed certificate is made when files are given"
    );
    let url = format!("wss://localhost:{}/ws", server.addr.port());
    let mut c = Client::connect_tls(&url, tls_client_config(&server.trust)).await;
    let r = c
        .request("auth", json!({"username": "carol", "password": "password"}))
        .await;
    assert_eq!(r["payload"]["userId"], "carol", "{r}");
}

fn parlor_serve(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["serve", "--bind", "127.0.0.1:0", "--no-mdns", "--data"])
        .arg(data)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run parlor")
}

#[test]
fn bad_certificate_files_are_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (_, cert, key) = issue(dir.path());
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, b"this is no key").expect("write");
    let missing = dir.path().join("missing.pem");
    let other_key = dir.path().join("other-key.pem");
    std::fs::write(
        &other_key,
        rcgen::KeyPair::generate().expect("key").serialize_pem(),
    )
    .expect("write");
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    for (cert, key, named) in [
        (s(&missing), s(&key), "missing.pem"),
        (s(&cert), s(&junk), "junk.pem"),
        (s(&junk), s(&key), "junk.pem"),
        (s(&cert), s(&other_key), "other-key.pem"),
    ] {
        let out = parlor_serve(&data, &["--tls-cert", &cert, "--tls-key", &key]);
        assert!(!out.status.success(), "started with {cert} and {key}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("TLS") && err.contains(named), "{err}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("listening"),
            "listened before the certificate was checked"
        );
    }
}

#[test]
fn tls_flags_must_go_together_properly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for args in [
        &["--tls-cert", "c.pem"][..],
        &["--tls-key", "k.pem"][..],
        &[
            "--tls-self-signed",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ][..],
    ] {
        let out = parlor_serve(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--tls-"), "{err}");
    }
}

#[tokio::test]
async fn parlor_broadcast_reaches_a_tls_server_and_trusts_only_its_certificate() {
    let server = Server::start_with(&["--tls-self-signed"]);
    let mut alice = server.online("alice").await;
    let broadcast = |data: &Path| {
        Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(["broadcast", "over https", "--server"])
            .arg(server.addr.to_string())
            .arg("--data")
            .arg(data)
            .output()
            .expect("run parlor broadcast")
    };
    let sent = broadcast(&server.data);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(
        alice.event("broadcast").await["payload"]["message"],
        "over https"
    );
    // With another pinned certificate the secret is not sent: the handshake fails.
    let other = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        server.data.join("admin.token"),
        other.path().join("admin.token"),
    )
    .expect("copy the token");
    let stranger =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
    std::fs::write(other.path().join("admin.tls.pem"), stranger.cert.pem()).expect("write");
    let refused = broadcast(other.path());
    assert!(
        !refused.status.success(),
        "an unknown certificate was trusted"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
