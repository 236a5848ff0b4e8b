//! Parlor's own certificate authority (`--tls-self-signed`) and the `/trust` page:
//! the served chain verifies with a client that trusts only the authority, a new
//! address or an expiring certificate gets a new certificate from the same authority,
//! an older data directory is migrated, and plain HTTP on the TLS port reaches the
//! trust page and nothing else.

mod common;

use common::{header, http_get, https_get, mode, tls_client_config, Server};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;

fn ca_der(data: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(data.join("tls/ca.pem")).expect("the authority's certificate")
}

/// The server's certificate chain as a client that trusts only the authority sees
/// it, checked for `name`; the chain is answered.
async fn verified_with_the_authority_only(
    server: &Server,
    name: &str,
) -> Vec<CertificateDer<'static>> {
    let only_ca = tls_client_config(&server.data.join("tls/ca.pem"));
    let (response, chain) = https_get(server.addr, name, only_ca, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    chain
}

#[tokio::test]
async fn the_server_certificate_chains_to_parlors_own_authority() {
    let server = Server::start_with(&["--tls-self-signed"]);
    let tls = server.data.join("tls");
    #[cfg(unix)]
    {
        assert_eq!(
            mode(&tls.join("ca-key.pem")),
            0o600,
            "the authority's key is owner-only"
        );
        assert_eq!(mode(&tls.join("key.pem")), 0o600);
    }
    let ca = ca_der(&server.data);
    for name in ["localhost", "127.0.0.1"] {
        let chain = verified_with_the_authority_only(&server, name).await;
        assert_eq!(chain.len(), 2, "leaf and authority");
        assert_eq!(chain[1], ca, "the authority follows the server certificate");
        assert_ne!(chain[0], ca);
    }
    // `parlor broadcast` pins the authority.
    assert_eq!(
        std::fs::read(server.data.join("admin.tls.pem")).expect("pin"),
        std::fs::read(tls.join("ca.pem")).expect("ca")
    );
}

/// Replaces the server certificate in `data` with one from the same authority for
/// `names`, valid for `days`.
fn reissue(data: &Path, names: &[&str], days: i64) {
    let tls = data.join("tls");
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(tls.join("ca-key.pem")).expect("ca key"))
            .expect("a key");
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let (leaf, key) = server::tls::ca::issue_for(&ca_key, &names, days).expect("issued");
    let ca = std::fs::read_to_string(tls.join("ca.pem")).expect("ca");
    std::fs::write(tls.join("cert.pem"), format!("{leaf}{ca}")).expect("write");
    std::fs::write(tls.join("key.pem"), key.serialize_pem()).expect("write");
}

#[tokio::test]
async fn a_new_address_or_an_ending_certificate_gets_a_new_one_from_the_same_authority() {
    let mut server = Server::start_with(&["--tls-self-signed"]);
    let ca_pem = std::fs::read(server.data.join("tls/ca.pem")).expect("ca");
    let ca_key = std::fs::read(server.data.join("tls/ca-key.pem")).expect("ca key");
    let pinned = tls_client_config(&server.data.join("tls/ca.pem"));
    assert!(server.terminate().success());

    // As if the machine had moved: the certificate lacks 127.0.0.1.
    reissue(&server.data, &["localhost"], 300);
    let stale = std::fs::read(server.data.join("tls/cert.pem")).expect("cert");
    server.restart();
    assert_ne!(
        std::fs::read(server.data.join("tls/cert.pem")).expect("cert"),
        stale
    );
    let (response, _) = https_get(server.addr, "127.0.0.1", pinned.clone(), "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(server.terminate().success());

    // Ten days left: renewed at start.
    reissue(
        &server.data,
        &["localhost", "parlor.local", "127.0.0.1", "::1"],
        10,
    );
    let ending = std::fs::read(server.data.join("tls/cert.pem")).expect("cert");
    server.restart();
    assert_ne!(
        std::fs::read(server.data.join("tls/cert.pem")).expect("cert"),
        ending
    );
    let (response, _) = https_get(server.addr, "localhost", pinned, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    assert_eq!(
        std::fs::read(server.data.join("tls/ca.pem")).expect("ca"),
        ca_pem,
        "same authority"
    );
    assert_eq!(
        std::fs::read(server.data.join("tls/ca-key.pem")).expect("key"),
        ca_key
    );
}

#[tokio::test]
async fn an_older_self_signed_certificate_is_replaced_by_the_authoritys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let tls = data.join("tls");
    std::fs::create_dir_all(&tls).expect("dir");
    // What an older Parlor left: one self-signed certificate, and its pin.
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("old certificate");
    std::fs::write(tls.join("cert.pem"), old.cert.pem()).expect("write");
    std::fs::write(tls.join("key.pem"), old.signing_key.serialize_pem()).expect("write");
    std::fs::write(data.join("admin.tls.pem"), old.cert.pem()).expect("write");

    let server = Server::start_on(&data, &["--tls-self-signed"]);
    let chain = verified_with_the_authority_only(&server, "localhost").await;
    assert_ne!(
        chain[0].as_ref(),
        old.cert.der().as_ref(),
        "the old certificate is gone"
    );
    assert_eq!(
        std::fs::read(data.join("admin.tls.pem")).expect("pin"),
        std::fs::read(tls.join("ca.pem")).expect("ca")
    );
    let sent = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["broadcast", "after the move", "--server"])
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&data)
        .output()
        .expect("run parlor broadcast");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
}

#[tokio::test]
async fn plain_http_on_the_tls_port_reaches_the_trust_page_and_nothing_else() {
    let server = Server::start_with(&["--tls-self-signed"]);
    let ca = ca_der(&server.data);
    let fingerprint = server::trust::fingerprint(ca.as_ref());

    let android = [(
        "User-Agent",
        "Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile",
    )];
    let (status, headers, body) = http_get(server.addr, "/trust", &android).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").is_some_and(|t| t.starts_with("text/html")));
    let page = String::from_utf8_lossy(&body);
    assert!(page.contains(r#"href="/trust/ca.crt""#), "{page}");
    assert!(
        page.contains(&fingerprint),
        "the page shows the fingerprint"
    );
    assert!(page.contains("Steps for Android"));
    let csp = header(&headers, "content-security-policy").expect("a policy");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");

    let (status, headers, body) = http_get(server.addr, "/trust/ca.crt", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/x-x509-ca-cert")
    );
    assert_eq!(body, ca.as_ref(), "the DER of the authority");
    let (status, _, body) = http_get(server.addr, "/trust/ca.pem", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        std::fs::read(server.data.join("tls/ca.pem")).expect("ca")
    );
    let (status, headers, body) = http_get(server.addr, "/trust/parlor.mobileconfig", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/x-apple-aspen-config")
    );
    let profile = String::from_utf8_lossy(&body);
    let der64 = data_encoding::BASE64.encode(ca.as_ref());
    assert!(
        profile.contains(&format!("<data>{der64}</data>")),
        "{profile}"
    );
    assert!(profile.contains("com.apple.security.root"));

    // The app's pages lead to the trust page; the chat and its API are refused.
    for path in ["/", "/chat/general", "/healthz"] {
        let (status, headers, _) = http_get(server.addr, path, &[]).await;
        assert_eq!(status, 302, "{path}");
        assert_eq!(header(&headers, "location"), Some("/trust"), "{path}");
    }
    let (status, _, _) = http_get(server.addr, "/api/emoji", &[]).await;
    assert_eq!(status, 403);
    let plain_ws = format!("ws://{}/ws", server.addr);
    assert_eq!(
        common::upgrade_status(&plain_ws).await,
        Some(403),
        "no chat over plain WebSocket"
    );

    // TLS on the same port still works, and the self-test answers any page.
    let (response, _) = https_get(
        server.addr,
        "localhost",
        tls_client_config(&server.data.join("tls/ca.pem")),
        "/trust/check",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{response}"
    );
    assert!(response.contains(r#"{"trusted":true}"#), "{response}");
}

#[tokio::test]
async fn slow_plain_http_clients_do_not_hold_up_tls() {
    let server = Server::start_with(&["--tls-self-signed"]);
    // Each starts a request and never finishes it: more than the plain-HTTP slots.
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(b"GET /trust HTTP/1.1\r\n")
            .await
            .expect("write");
        slow.push(tcp);
    }
    let chain = tokio::time::timeout(
        Duration::from_secs(3),
        verified_with_the_authority_only(&server, "localhost"),
    )
    .await
    .expect("TLS is served at once");
    assert_eq!(chain.len(), 2);
}

#[tokio::test]
async fn without_an_authority_the_trust_page_says_so() {
    let server = Server::start();
    let (status, _, body) = http_get(server.addr, "/trust", &[]).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("does not use HTTPS"));
    assert_eq!(http_get(server.addr, "/trust/ca.crt", &[]).await.0, 404);

    let dir = tempfile::tempdir().expect("tempdir");
    let own = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).expect("write");
    std::fs::write(&key, own.signing_key.serialize_pem()).expect("write");
    let server = Server::start_with(&[
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    let (status, _, body) = http_get(server.addr, "/trust", &[]).await;
    assert_eq!(status, 200);
    let page = String::from_utf8_lossy(&body);
    assert!(page.contains("nothing to install"), "{page}");
    assert!(!page.contains("/trust/ca.crt"));
    assert_eq!(http_get(server.addr, "/trust/ca.crt", &[]).await.0, 404);
}
