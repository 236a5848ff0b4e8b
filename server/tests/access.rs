//! Who may join (issue 13, CONTRACT "Who may join"), over real WebSockets and the real
//! `parlor invite`: the first account is the owner, the owner switches registration,
//! invitations carry a role, a number of uses and an expiry, and every protocol
//! follows the mode (guests and new names refused unless it is open).

mod common;

use common::{upgrade_status, Client, Closed, Server};
use serde_json::{json, Value};
use std::time::Duration;

/// A password login of `name` (with `invite` if given): the whole response.
async fn auth(server: &Server, name: &str, invite: Option<&str>) -> (Client, Value) {
    let mut c = server.client().await;
    let mut payload = json!({"username": name, "password": format!("password-{name}")});
    if let Some(code) = invite {
        payload["invite"] = json!(code);
    }
    let r = c.request("auth", payload).await;
    (c, r)
}

fn refused(r: &Value) -> bool {
    r["error"]["code"] == "auth_failed"
}

/// `parlor invite` against `server`: its whole output and the code of the link it
/// printed last.
fn parlor_invite(server: &Server, extra: &[&str]) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("invite")
        .arg("--server")
        .arg(server.addr.to_string())
        .arg("--data")
        .arg(&server.data)
        .args(extra)
        .output()
        .expect("run parlor invite");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "parlor invite failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = stdout.lines().last().expect("a link").trim().to_owned();
    let code = link
        .split_once("/invite/")
        .map(|(_, code)| code.to_owned())
        .unwrap_or_else(|| panic!("not an invitation link: {link}"));
    assert!(link.starts_with("http://"), "{link}");
    (stdout, code)
}

#[tokio::test]
async fn the_first_account_is_the_owner() {
    let server = Server::start();
    let (_a, r) = auth(&server, "ann", None).await;
    assert_eq!(r["payload"]["role"], "owner", "{r}");
    let (_b, r) = auth(&server, "ben", None).await;
    assert_eq!(r["payload"]["role"], "member", "{r}");
    // Logging in again keeps the role.
    let (_a2, r) = auth(&server, "ann", None).await;
    assert_eq!(r["payload"]["registered"], false);
    assert_eq!(r["payload"]["role"], "owner");
}

#[tokio::test]
async fn an_invite_only_server_is_opened_with_parlor_invite() {
    let server = Server::start_with(&["--registration", "invite"]);
    let (_c, r) = auth(&server, "ann", None).await;
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("invitation")),
        "{r}"
    );
    let (out, code) = parlor_invite(&server, &[]);
    assert!(out.contains("1 sign-up as member"), "{out}");
    // The first account, even by invitation, is the owner.
    let (_ann, r) = auth(&server, "ann", Some(&code)).await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
    assert_eq!(r["payload"]["role"], "owner");
    // One use: spent.
    let (_c, r) = auth(&server, "ben", Some(&code)).await;
    assert!(refused(&r), "{r}");
    // A made-up code is refused too, and an existing account needs none.
    let (_c, r) = auth(&server, "ben", Some("aaaaaaaaaaaaaaaaaaaaaaaaaa")).await;
    assert!(refused(&r), "{r}");
    let (_c, r) = auth(&server, "ann", None).await;
    assert_eq!(r["payload"]["registered"], false, "{r}");

    let (_, code) = parlor_invite(&server, &["--uses", "2", "--role", "limited"]);
    for name in ["cat", "dan"] {
        let (_c, r) = auth(&server, name, Some(&code)).await;
        assert_eq!(r["payload"]["role"], "limited", "{r}");
    }
    let (_c, r) = auth(&server, "eve", Some(&code)).await;
    assert!(refused(&r), "a third use of two: {r}");
}

#[tokio::test]
async fn the_owner_switches_registration_and_the_choice_survives_a_restart() {
    let mut server = Server::start();
    let (mut owner, _) = auth(&server, "ann", None).await;
    let (mut member, _) = auth(&server, "ben", None).await;
    for (req, payload) in [
        ("setRegistration", json!({"mode": "closed"})),
        ("createInvite", json!({})),
        ("getInvites", json!({})),
        ("revokeInvite", json!({"id": "x"})),
    ] {
        let r = member.request(req, payload).await;
        assert_eq!(r["error"]["code"], "forbidden", "{req}: {r}");
    }
    let r = owner
        .request("setRegistration", json!({"mode": "invite"}))
        .await;
    assert_eq!(r["payload"], json!({"registration": "invite"}), "{r}");
    let (_c, r) = auth(&server, "cat", None).await;
    assert!(refused(&r), "{r}");

    // An admin by invitation manages invitations, but makes no admins.
    let r = owner
        .request("createInvite", json!({"role": "admin", "expiresIn": 3600}))
        .await;
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    assert_eq!(r["payload"]["path"], format!("/invite/{code}"));
    assert_eq!(r["payload"]["usesLeft"], 1);
    assert_eq!(r["payload"]["createdBy"], "ann");
    let (mut admin, r) = auth(&server, "cat", Some(&code)).await;
    assert_eq!(r["payload"]["role"], "admin", "{r}");
    let r = admin
        .request("createInvite", json!({"role": "admin"}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = admin.request("createInvite", json!({"uses": 3})).await;
    let id = r["payload"]["id"].as_str().expect("id").to_owned();
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    let r = owner.request("getInvites", json!({})).await;
    assert_eq!(r["payload"]["registration"], "invite");
    let listed = r["payload"]["invites"].as_array().expect("invites");
    assert_eq!(listed.len(), 1, "the used-up one is gone: {r}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["usesLeft"], 3);
    assert!(listed[0].get("code").is_none(), "codes are shown once: {r}");
    let r = admin.request("revokeInvite", json!({"id": id})).await;
    assert!(r.get("error").is_none(), "{r}");
    let (_c, r) = auth(&server, "dan", Some(&code)).await;
    assert!(refused(&r), "a revoked invitation: {r}");

    // Closed: nobody new, even with a valid invitation.
    let r = owner.request("createInvite", json!({})).await;
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    let r = owner
        .request("setRegistration", json!({"mode": "closed"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let (_c, r) = auth(&server, "dan", Some(&code)).await;
    assert!(refused(&r), "{r}");
    drop((owner, member, admin));
    server.restart_with(&[]);
    let (_c, r) = auth(&server, "dan", Some(&code)).await;
    assert!(refused(&r), "still closed after a restart: {r}");
    let (_c, r) = auth(&server, "ben", None).await;
    assert_eq!(
        r["payload"]["registered"], false,
        "accounts still log in: {r}"
    );
}

#[tokio::test]
async fn invitations_lapse_and_bad_ones_are_refused_clearly() {
    let server = Server::start_with(&["--registration", "invite"]);
    let (_, code) = parlor_invite(&server, &[]);
    let (mut owner, _) = auth(&server, "ann", Some(&code)).await;
    for payload in [
        json!({"uses": 0}),
        json!({"uses": 1001}),
        json!({"expiresIn": 0}),
        json!({"expiresIn": 31 * 24 * 3600}),
        json!({"role": "owner"}),
        json!({"role": "emperor"}),
        json!({"uses": -1}),
    ] {
        let r = owner.request("createInvite", payload.clone()).await;
        assert_eq!(r["error"]["code"], "bad_request", "{payload}: {r}");
    }
    let r = owner.request("createInvite", json!({"expiresIn": 1})).await;
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_c, r) = auth(&server, "ben", Some(&code)).await;
    assert!(refused(&r), "a lapsed invitation: {r}");
    // An oversized code is a bad request, not a lookup.
    let (_c, r) = auth(&server, "ben", Some(&"a".repeat(200))).await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    // The connection is still usable by others.
    let r = owner.request("getInvites", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn every_protocol_follows_the_registration_mode() {
    let server = Server::start_with(&["--registration", "closed"]);
    // Workspace: refused at the upgrade.
    assert_eq!(
        upgrade_status(&server.url("/ws/workspace?username=guest")).await,
        Some(403)
    );
    // Workshop: connection_reject.
    let mut w = Client::connect(&server.url("/ws/workshop")).await;
    w.send(json!({"event_type":"connection_request","username":"guest"}))
        .await;
    assert_eq!(w.next().await["event_type"], "connection_reject");
    // RWCI: a new name fails to log in.
    let mut r = Client::connect(&server.url("/ws/rwci")).await;
    r.send(json!({"type":"auth","username":"rita","password":"password-rita"}))
        .await;
    assert_eq!(
        r.next().await,
        json!({"type":"auth","status":"Login failed","success":false})
    );
    assert!(matches!(
        r.closed(Duration::from_secs(5)).await,
        Closed::Frame(1008, _)
    ));
    // Native: auth_failed.
    let (_c, resp) = auth(&server, "nat", None).await;
    assert!(refused(&resp), "{resp}");
}

#[tokio::test]
async fn the_flag_wins_over_the_owners_last_choice_at_start() {
    let mut server = Server::start();
    let (mut owner, _) = auth(&server, "ann", None).await;
    let r = owner
        .request("setRegistration", json!({"mode": "closed"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    drop(owner);
    server.restart_with(&["--registration", "open"]);
    let (_c, r) = auth(&server, "ben", None).await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
    // Guests are welcome again too.
    assert_eq!(
        upgrade_status(&server.url("/ws/workspace?username=guest")).await,
        None
    );
}

#[tokio::test]
async fn an_invitation_link_opens_the_app_and_its_qr_code_draws_it() {
    let server = Server::start_with(&["--registration", "invite"]);
    let (_, code) = parlor_invite(&server, &[]);
    let (status, _, body) = server.get(&format!("/invite/{code}"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&body).contains("<html"),
        "the web app"
    );
    let (status, headers, body) = server
        .get(
            &format!("/api/invite-qr/{code}"),
            &[("host", "192.168.1.20:8080")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "image/svg+xml"));
    assert!(String::from_utf8_lossy(&body).starts_with("<?xml"));
    let (status, _, _) = server.get("/api/invite-qr/NOT-A-CODE", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_ban_closes_every_session_refuses_logins_and_can_be_undone() {
    let server = Server::start();
    let (mut owner, _) = auth(&server, "ann", None).await;
    let (mut ben, _) = auth(&server, "ben", None).await;
    let (mut ben_again, r) = auth(&server, "ben", None).await;
    let token = r["payload"]["token"].as_str().expect("token").to_owned();
    // RWCI logins are exclusive: rita is on RWCI only.
    let mut rw = Client::connect(&server.url("/ws/rwci")).await;
    rw.send(json!({"type":"auth","username":"rita","password":"password-rita"}))
        .await;
    assert_eq!(rw.next().await["success"], true);

    let r = ben
        .request("ban", json!({"userId": "ann", "banned": true}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "a member bans nobody: {r}");
    let r = owner
        .request("ban", json!({"userId": "ann", "banned": true}))
        .await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    let r = owner
        .request("ban", json!({"userId": "nobody", "banned": true}))
        .await;
    assert_eq!(r["error"]["code"], "not_found", "{r}");
    for name in ["BEN", "rita"] {
        let r = owner
            .request("ban", json!({"userId": name, "banned": true}))
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }

    // Every open connection of ben ends at once, on every protocol.
    for c in [&mut ben, &mut ben_again, &mut rw] {
        assert!(
            matches!(
                c.closed(Duration::from_secs(5)).await,
                Closed::Frame(4001, _)
            ),
            "a banned session ends"
        );
    }
    // No way back in: password, token, RWCI.
    let (_c, r) = auth(&server, "ben", None).await;
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("banned")),
        "{r}"
    );
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": "ben", "token": token}))
        .await;
    assert!(refused(&r), "the token died with the ban: {r}");
    let mut rw = Client::connect(&server.url("/ws/rwci")).await;
    rw.send(json!({"type":"auth","username":"rita","password":"password-rita"}))
        .await;
    assert_eq!(rw.next().await["success"], false);

    // Listed, and reversible.
    let r = owner.request("getBans", json!({})).await;
    let names: Vec<&str> = r["payload"]["bans"]
        .as_array()
        .expect("bans")
        .iter()
        .filter_map(|b| b["userId"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{r}");
    assert!(names.contains(&"ben") && names.contains(&"rita"), "{r}");
    assert_eq!(r["payload"]["bans"][0]["bannedBy"], "ann", "{r}");
    let r = owner
        .request("ban", json!({"userId": "ben", "banned": false}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let (_c, r) = auth(&server, "ben", None).await;
    assert_eq!(r["payload"]["userId"], "ben", "back in: {r}");
    let r = owner.request("getBans", json!({})).await;
    assert_eq!(
        r["payload"]["bans"][0]["userId"], "rita",
        "only rita now: {r}"
    );
    assert_eq!(
        r["payload"]["bans"].as_array().map(Vec::len),
        Some(1),
        "{r}"
    );
}

#[tokio::test]
async fn only_the_owner_bans_an_admin_and_nobody_bans_the_owner() {
    let server = Server::start();
    let (mut owner, _) = auth(&server, "ann", None).await;
    let r = owner
        .request("createInvite", json!({"role": "admin"}))
        .await;
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    let (mut admin, _) = auth(&server, "cat", Some(&code)).await;
    let r = owner
        .request("createInvite", json!({"role": "admin"}))
        .await;
    let code = r["payload"]["code"].as_str().expect("code").to_owned();
    let (_other_admin, _) = auth(&server, "dot", Some(&code)).await;
    let r = admin
        .request("ban", json!({"userId": "ann", "banned": true}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = admin
        .request("ban", json!({"userId": "dot", "banned": true}))
        .await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = owner
        .request("ban", json!({"userId": "dot", "banned": true}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn the_owner_sees_what_the_data_takes_and_where_it_goes() {
    let server = Server::start();
    let (mut ann, _) = auth(&server, "ann", None).await;
    let (mut ben, _) = auth(&server, "ben", None).await;
    for text in ["one", "two", "three"] {
        let r = ben
            .request("new", json!({"chatId": "#General", "message": text}))
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }
    let r = ann.request("createRoom", json!({"name": "Quiet"})).await;
    assert!(r.get("error").is_none(), "{r}");
    let r = ann
        .request("new", json!({"chatId": "ben", "message": "psst"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    // An upload of ben's (a 3×2 PNG's head), counted for him.
    let token = server.token("ben").await;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let auth_header = format!("Bearer {token}");
    let (status, _, _) = common::http(
        server.addr,
        "POST",
        "/api/uploads",
        &[
            ("Authorization", &auth_header),
            ("Content-Type", "image/png"),
        ],
        &png,
    )
    .await;
    assert_eq!(status, 201);

    let r = ben.request("getStorage", json!({})).await;
    assert_eq!(r["error"]["code"], "forbidden", "{r}");
    let r = ann.request("getStorage", json!({})).await;
    let report = &r["payload"];
    assert!(report["database"].as_u64().is_some_and(|b| b > 0), "{r}");
    assert_eq!(report["messages"], 3, "{r}");
    assert_eq!(report["directMessages"], 1, "{r}");
    assert_eq!(
        report["rooms"],
        json!([{"chatId": "#General", "messages": 3}, {"chatId": "#Quiet", "messages": 0}]),
        "{r}"
    );
    let free = report["free"].as_u64().expect("free space on Linux");
    let total = report["total"].as_u64().expect("disk size on Linux");
    assert!(free > 0 && free <= total, "{r}");
    assert_eq!(report["uploadFiles"], 1, "{r}");
    assert_eq!(report["uploads"], png.len(), "{r}");
    assert_eq!(
        report["people"],
        json!([{"userId": "ben", "uploads": png.len()}]),
        "{r}"
    );
}
