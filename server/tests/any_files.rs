//! Files of any type (issue 12): uploaded with their name, served back byte for byte
//! with that name as an attachment unless the type is inline-safe (raster images, the
//! audio and video browsers play), never inline when it is HTML or SVG; they count
//! against the quota and go with their message. Files reach the dialects as links.

mod common;

use common::{header, http, Server};
use serde_json::{json, Value};

/// A small PDF (a header, one object, a trailer): what matters is its first bytes.
fn pdf() -> Vec<u8> {
    let mut b = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    b.extend((0..=255u8).collect::<Vec<u8>>()); // every byte value survives
    b.extend_from_slice(b"\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    b
}

/// Uploads `bytes` as `auth` with `X-Filename: filename` (already header-safe).
async fn upload(server: &Server, auth: &str, filename: &str, bytes: &[u8]) -> (u16, Value) {
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/api/uploads",
        &[
            ("Authorization", auth),
            // A declared type is never believed.
            ("Content-Type", "image/png"),
            ("X-Filename", filename),
        ],
        bytes,
    )
    .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_pdf_is_served_as_an_attachment_under_its_name_with_the_same_bytes() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, a) = upload(&server, &auth, "minutes.pdf", &pdf()).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["type"], "file");
    assert_eq!(a["filename"], "minutes.pdf");
    assert_eq!(a["meta"]["mimetype"], "application/pdf");
    assert_eq!(a["meta"]["size"], pdf().len());
    let url = a["url"].as_str().expect("url");
    assert!(
        url.starts_with("/uploads/") && url.ends_with(".pdf"),
        "{url}"
    );
    let (status, headers, served) = server.get(url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(served, pdf(), "the same bytes");
    assert_eq!(header(&headers, "content-type"), Some("application/pdf"));
    assert_eq!(
        header(&headers, "content-disposition"),
        Some("attachment; filename=\"minutes.pdf\"; filename*=UTF-8''minutes.pdf")
    );
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    let csp = header(&headers, "content-security-policy").expect("a policy");
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
}

#[tokio::test]
async fn html_and_svg_are_never_served_inline_whatever_their_name() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    for (name, bytes) in [
        (
            "page.html",
            &b"<!DOCTYPE html><script>alert(document.cookie)</script>"[..],
        ),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        ),
        // An image by its name, markup by its bytes.
        ("photo.png", b"<html><body onload=alert(1)>"),
    ] {
        let (status, a) = upload(&server, &auth, name, bytes).await;
        assert_eq!(status, 201, "{a}");
        assert_eq!(a["type"], "file", "{name}: {a}");
        assert_eq!(a["meta"]["mimetype"], "application/octet-stream");
        let url = a["url"].as_str().expect("url");
        assert!(url.ends_with(".bin"), "{url}");
        let (status, headers, served) = server.get(url, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(served, bytes);
        assert_eq!(
            header(&headers, "content-type"),
            Some("application/octet-stream"),
            "{name}"
        );
        let disposition = header(&headers, "content-disposition").expect("disposition");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains(name), "{disposition}");
        let csp = header(&headers, "content-security-policy").expect("a policy");
        assert!(csp.contains("sandbox"), "{csp}");
    }
}

#[tokio::test]
async fn a_non_ascii_name_round_trips() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    // `X-Filename` is percent-encoded UTF-8 (what `encodeURIComponent` makes).
    let (status, a) = upload(
        &server,
        &auth,
        "Proc%C3%A8s-verbal%20%E2%84%962%20%F0%9F%8E%89.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["filename"], "Procès-verbal №2 🎉.pdf");
    let (_, headers, _) = server.get(a["url"].as_str().expect("url"), &[]).await;
    assert_eq!(
        header(&headers, "content-disposition"),
        Some(
            "attachment; filename=\"Proc_s-verbal _2 _.pdf\"; \
             filename*=UTF-8''Proc%C3%A8s-verbal%20%E2%84%962%20%F0%9F%8E%89.pdf"
        )
    );
}

#[tokio::test]
async fn hostile_names_are_cleaned_and_bounded() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let long = "a".repeat(1000) + ".pdf";
    for (raw, want) in [
        ("..%2F..%2Fparlor.db", "_.._parlor.db".to_string()),
        ("a%0D%0AX-Evil%3A%201.pdf", "aX-Evil: 1.pdf".into()),
        ("%E2%80%AEfdp.exe", "fdp.exe".into()),
        (long.as_str(), "a".repeat(255)),
        ("%2E%2E", "file.pdf".into()),
    ] {
        let (status, a) = upload(&server, &auth, raw, &pdf()).await;
        assert_eq!(status, 201, "{a}");
        assert_eq!(a["filename"], want.as_str(), "{raw}");
        let (_, headers, _) = server.get(a["url"].as_str().expect("url"), &[]).await;
        let disposition = header(&headers, "content-disposition").expect("disposition");
        assert!(
            !disposition.contains('\n') && !disposition.contains('/'),
            "{disposition}"
        );
    }
    // Nothing was written outside the uploads directory.
    assert!(!server.data.join("parlor.db.pdf").exists());
}

#[tokio::test]
async fn audio_video_and_images_are_inline_with_their_sniffed_type() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    for (name, bytes, kind, mime) in [
        (
            "song.mp3",
            &b"ID3\x04\0\0\0\0\0\x00rest"[..],
            "audio",
            "audio/mpeg",
        ),
        (
            "note.ogg",
            b"OggS\0\x02\0\0\0\0\0\0\0\0",
            "audio",
            "audio/ogg",
        ),
        (
            "clip.mp4",
            b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2",
            "video",
            "video/mp4",
        ),
        (
            "clip.webm",
            b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm",
            "video",
            "video/webm",
        ),
    ] {
        let (status, a) = upload(&server, &auth, name, bytes).await;
        assert_eq!(status, 201, "{a}");
        assert_eq!(a["type"], kind, "{name}");
        assert_eq!(a["meta"]["mimetype"], mime, "{name}");
        let (_, headers, served) = server.get(a["url"].as_str().expect("url"), &[]).await;
        assert_eq!(served, bytes);
        assert_eq!(header(&headers, "content-type"), Some(mime));
        let disposition = header(&headers, "content-disposition").expect("disposition");
        assert!(disposition.starts_with("inline;"), "{disposition}");
    }
}

fn stored(server: &Server) -> usize {
    server.stored_uploads()
}

/// Waits until `url` is no longer served (up to five seconds).
async fn gone(server: &Server, url: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if server.get(url, &[]).await.0 == 404 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn files_count_against_the_quota() {
    let quota = (pdf().len() * 2).to_string();
    let server = Server::start_with(&["--upload-quota", &quota]);
    let auth = format!("Bearer {}", server.token("alice").await);
    assert_eq!(upload(&server, &auth, "a.pdf", &pdf()).await.0, 201);
    assert_eq!(upload(&server, &auth, "b.pdf", &pdf()).await.0, 201);
    let (status, body) = upload(&server, &auth, "c.pdf", &pdf()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(stored(&server), 2, "the refused file is not kept");
}

#[tokio::test]
async fn deleting_its_message_removes_the_file_and_frees_the_quota() {
    let quota = pdf().len().to_string();
    let server = Server::start_with(&["--upload-quota", &quota]);
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, a) = upload(&server, &auth, "minutes.pdf", &pdf()).await;
    assert_eq!(status, 201, "{a}");
    let url = a["url"].as_str().expect("url").to_owned();
    let mut alice = server.online("alice").await;
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":"the minutes","attachments":[a]}),
        )
        .await;
    let id = r["payload"]["messageId"].as_u64().expect("id");
    // The full quota is used: another file is refused.
    assert_eq!(upload(&server, &auth, "x.pdf", &pdf()).await.0, 413);
    let r = alice
        .request("delete", json!({"chatId":"#General","messageId":id}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(gone(&server, &url).await, "the file goes with its message");
    assert_eq!(stored(&server), 0);
    assert_eq!(
        upload(&server, &auth, "x.pdf", &pdf()).await.0,
        201,
        "the quota is free again"
    );
}

/// The first frame of `c` that mentions `url`, as text.
async fn frame_with(c: &mut common::Client, url: &str) -> String {
    let url = url.to_owned();
    c.next_where(move |v| v.to_string().contains(&url))
        .await
        .to_string()
}

#[tokio::test]
async fn a_file_reaches_the_dialects_as_a_link_in_the_text() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token("alice").await);
    let (_, a) = upload(&server, &auth, "minutes.pdf", &pdf()).await;
    let url = a["url"].as_str().expect("url").to_owned();

    let mut rwci = common::Client::connect(&server.url("/ws/rwci")).await;
    rwci.send(json!({"type":"auth","username":"carol","password":"password-carol"}))
        .await;
    rwci.next_where(|v| v["type"] == "auth").await;
    let mut workspace = common::Client::connect(&server.url("/ws/workspace?username=dave")).await;
    workspace.next_where(|v| v["type"] == "connected").await;
    let mut workshop = common::Client::connect(&server.url("/ws/workshop")).await;
    workshop
        .send(json!({"event_type":"connection_request","username":"erin"}))
        .await;
    workshop
        .next_where(|v| v["event_type"] == "users_online")
        .await;

    let mut alice = server.online("alice").await;
    let r = alice
        .request(
            "new",
            json!({"chatId":"#General","message":"the minutes","attachments":[a]}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    // The text, then one line per file: its name and its URL (relative: the dialect
    // client reached this server, so it knows the host).
    let line = format!("the minutes\\n[file: minutes.pdf] {url}");
    for (dialect, c) in [
        ("rwci", &mut rwci),
        ("workspace", &mut workspace),
        ("workshop", &mut workshop),
    ] {
        let frame = frame_with(c, &url).await;
        assert!(frame.contains(&line), "{dialect}: {frame}");
    }
}

/// A file message survives `kill -9`: a client resuming from before it is sent the
/// message with its file, and the file is served with the same bytes.
#[tokio::test]
async fn a_file_message_is_replayed_after_kill_9_and_its_file_still_served() {
    let mut server = Server::start();
    // Bob has an account before the message: a replay holds what came after joining.
    server.token("bob").await;
    let auth = format!("Bearer {}", server.token("alice").await);
    let (status, a) = upload(&server, &auth, "minutes.pdf", &pdf()).await;
    assert_eq!(status, 201, "{a}");
    let mut alice = server.login("alice").await;
    let r = alice
        .request(
            "new",
            json!({"chatId": "#General", "message": "the minutes", "attachments": [a.clone()]}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    drop(alice);
    server.crash_and_restart();
    let mut bob = server.login("bob").await;
    let r = bob.request("subscribe", json!({"lastEventId": 0})).await;
    let missed = r["payload"]["missed"].as_u64().expect("missed");
    let mut file_message = None;
    for _ in 0..missed {
        let ev = bob.next_logged().await;
        if ev["eventType"] == "new" && ev["payload"]["message"] == "the minutes" {
            file_message = Some(ev);
        }
    }
    let ev = file_message.expect("the file message is replayed");
    assert_eq!(ev["payload"]["attachments"][0]["filename"], "minutes.pdf");
    let url = ev["payload"]["attachments"][0]["url"]
        .as_str()
        .expect("url");
    let (status, _, served) = server.get(url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(served, pdf(), "the same bytes after the crash");
}
