//! Passwords and sessions, tried as an attacker would: guessing passwords from one
//! address, registering with a short password, keeping a connection after its token
//! was revoked or expired or the password changed, and stalling real logins with a
//! burst of fake ones.

mod common;

use common::{Client, Closed, Server};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

/// One password login of `name` from `from` on a fresh connection: the response.
async fn auth_from(server: &Server, from: IpAddr, name: &str, password: &str) -> Value {
    let mut c = Client::connect_from(server, "/ws", from).await;
    c.request("auth", json!({"username": name, "password": password}))
        .await
}

/// Logs in with the password: the connection and its session token.
async fn with_token(server: &Server, name: &str, password: &str) -> (Client, String) {
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": name, "password": password}))
        .await;
    let token = r["payload"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {r}"))
        .to_owned();
    (c, token)
}

async fn by_token(server: &Server, name: &str, token: &str) -> (Client, Value) {
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": name, "token": token}))
        .await;
    (c, r)
}

/// The connection still answers requests.
async fn still_open(c: &mut Client) {
    let r = c.request("listRooms", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn five_wrong_passwords_from_one_address_lock_that_account_for_that_address() {
    let server = Server::start();
    server.login("alice").await;
    server.login("bob").await;
    let attacker = ip("127.0.0.2");
    for _ in 0..5 {
        let r = auth_from(&server, attacker, "alice", "guess-guess").await;
        assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    }
    // The sixth attempt is refused before the password is looked at: even the right
    // one does not get in from there.
    let r = auth_from(&server, attacker, "alice", "password-alice").await;
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
    // Alice from another address, and another account from the attacker's address,
    // are not affected.
    let r = auth_from(&server, ip("127.0.0.3"), "alice", "password-alice").await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    let r = auth_from(&server, attacker, "bob", "password-bob").await;
    assert_eq!(r["payload"]["userId"], "bob", "{r}");
}

#[tokio::test]
async fn a_right_password_clears_the_failures() {
    let server = Server::start();
    server.login("alice").await;
    let from = ip("127.0.0.4");
    for _ in 0..4 {
        let r = auth_from(&server, from, "alice", "guess-guess").await;
        assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    }
    let r = auth_from(&server, from, "alice", "password-alice").await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    for _ in 0..4 {
        let r = auth_from(&server, from, "alice", "guess-guess").await;
        assert_eq!(r["error"]["code"], "auth_failed", "counted afresh: {r}");
    }
}

#[tokio::test]
async fn spraying_one_password_over_many_accounts_blocks_the_address() {
    let server = Server::start();
    let names: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
    for name in &names {
        server.login(name).await;
    }
    let sprayer = ip("127.0.0.5");
    // 30 failures over six accounts (five each, the most one account allows).
    for name in &names[..6] {
        for _ in 0..5 {
            let r = auth_from(&server, sprayer, name, "Summer2024!").await;
            assert_eq!(r["error"]["code"], "auth_failed", "{r}");
        }
    }
    let last = &names[6];
    let r = auth_from(&server, sprayer, last, &format!("password-{last}")).await;
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
    let r = auth_from(&server, ip("127.0.0.6"), last, &format!("password-{last}")).await;
    assert_eq!(r["payload"]["userId"], last.as_str(), "{r}");
}

#[tokio::test]
async fn throttled_rwci_logins_are_login_failed_even_with_the_right_password() {
    let server = Server::start();
    server.login("alice").await;
    let from = ip("127.0.0.7");
    for _ in 0..5 {
        let r = auth_from(&server, from, "alice", "guess-guess").await;
        assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    }
    let mut rwci = Client::connect_from(&server, "/ws/rwci", from).await;
    rwci.send(json!({"type":"auth","username":"alice","password":"password-alice"}))
        .await;
    assert_eq!(
        rwci.next().await,
        json!({"type":"auth","status":"Login failed","success":false})
    );
}

#[tokio::test]
async fn a_new_password_needs_six_characters() {
    let server = Server::start();
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": "alice", "password": "five5"}))
        .await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap_or("").contains('6'),
        "says how long: {r}"
    );
    // Nothing was registered: the name is still free, and the contract's own example
    // (`s3cret`, six characters) registers it.
    let mut c = server.client().await;
    let r = c
        .request("auth", json!({"username": "alice", "password": "s3cret"}))
        .await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
}

#[tokio::test]
async fn the_minimum_length_is_a_flag() {
    let server = Server::start_with(&["--min-password-length", "12"]);
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": "alice", "password": "eleven11111"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": "alice", "password": "twelve121212"}),
        )
        .await;
    assert_eq!(r["payload"]["registered"], true, "{r}");
}

#[tokio::test]
async fn logout_closes_every_connection_holding_that_token() {
    let server = Server::start();
    let (mut first, token) = with_token(&server, "alice", "password-alice").await;
    let (mut second, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    // A third connection logged in with the password holds a token of its own.
    let (mut other, _) = with_token(&server, "alice", "password-alice").await;

    let r = second.request("logout", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(
        second.closed(Duration::from_secs(5)).await,
        Closed::Frame(1000, "logged out".into())
    );
    assert_eq!(
        first.closed(Duration::from_secs(5)).await,
        Closed::Frame(4001, "logged out".into())
    );
    still_open(&mut other).await;
    let (_, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
}

#[tokio::test]
async fn log_out_everywhere_revokes_every_token_and_closes_every_connection() {
    let server = Server::start();
    let (mut first, token) = with_token(&server, "alice", "password-alice").await;
    let (mut second, other_token) = with_token(&server, "alice", "password-alice").await;
    let (mut bob, _) = with_token(&server, "bob", "password-bob").await;

    let r = first.request("logoutEverywhere", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(r.get("payload").is_none(), "{r}");
    assert_eq!(
        first.closed(Duration::from_secs(5)).await,
        Closed::Frame(1000, "logged out".into())
    );
    assert_eq!(
        second.closed(Duration::from_secs(5)).await,
        Closed::Frame(4001, "logged out everywhere".into())
    );
    for t in [&token, &other_token] {
        let (_, r) = by_token(&server, "alice", t).await;
        assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    }
    still_open(&mut bob).await;
    // The password still logs in.
    let (_, _) = with_token(&server, "alice", "password-alice").await;
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let server = Server::start();
    let (mut me, token) = with_token(&server, "alice", "password-alice").await;
    let (mut same_token, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    let (mut elsewhere, _) = with_token(&server, "alice", "password-alice").await;

    // A wrong current password, or a short new one, changes nothing.
    let r = me
        .request(
            "changePassword",
            json!({"oldPassword": "not-the-password", "newPassword": "a new password"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    let r = me
        .request(
            "changePassword",
            json!({"oldPassword": "password-alice", "newPassword": "short"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    still_open(&mut same_token).await;

    let r = me
        .request(
            "changePassword",
            json!({"oldPassword": "password-alice", "newPassword": "a new password"}),
        )
        .await;
    let fresh = r["payload"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a fresh token: {r}"))
        .to_owned();
    assert_ne!(fresh, token);
    for other in [&mut same_token, &mut elsewhere] {
        assert_eq!(
            other.closed(Duration::from_secs(5)).await,
            Closed::Frame(4001, "password changed".into())
        );
    }
    still_open(&mut me).await;

    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": "alice", "password": "password-alice"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "auth_failed", "the old password: {r}");
    let (_, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["error"]["code"], "auth_failed", "the old token: {r}");
    let (_, r) = by_token(&server, "alice", &fresh).await;
    assert_eq!(r["payload"]["userId"], "alice", "the fresh token: {r}");
    let (_, _) = with_token(&server, "alice", "a new password").await;

    // The fresh token is what this connection holds now: its logout revokes it.
    let r = me.request("logout", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
    let (_, r) = by_token(&server, "alice", &fresh).await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
}

#[tokio::test]
async fn an_expired_token_is_refused_and_its_connections_close() {
    let server = Server::start_with(&["--token-lifetime", "2s"]);
    let (mut first, token) = with_token(&server, "alice", "password-alice").await;
    let (mut second, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    for c in [&mut first, &mut second] {
        assert_eq!(
            c.closed(Duration::from_secs(8)).await,
            Closed::Frame(4001, "session expired".into())
        );
    }
    let (_, r) = by_token(&server, "alice", &token).await;
    assert_eq!(r["error"]["code"], "auth_failed", "{r}");
    // The password still works, and gives a token that works.
    let (_, fresh) = with_token(&server, "alice", "password-alice").await;
    let (_, r) = by_token(&server, "alice", &fresh).await;
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
}

#[tokio::test]
async fn logins_from_clients_that_left_do_not_delay_a_real_one() {
    let server = Server::start();
    let began = Instant::now();
    server.login("alice").await;
    let alone = began.elapsed();
    // A burst of registrations (each a password hash) from clients that go away at
    // once.
    let mut fakes = Vec::new();
    for _ in 0..300 {
        fakes.push(server.client().await);
    }
    for (i, fake) in fakes.iter_mut().enumerate() {
        fake.send(
            json!({"type": "request", "id": "a", "timestamp": 1, "payloadType": "auth",
            "payload": {"username": format!("fake{i}"), "password": "fake-password"}}),
        )
        .await;
    }
    drop(fakes);
    let began = Instant::now();
    let mut c = server.client().await;
    let r = c
        .request(
            "auth",
            json!({"username": "alice", "password": "password-alice"}),
        )
        .await;
    let took = began.elapsed();
    assert_eq!(r["payload"]["userId"], "alice", "{r}");
    eprintln!("a login alone took {alone:?}; after the burst {took:?}");
    // Had the 300 hashes run (each at least 0.1 s on two threads), the real login
    // would wait 15 s or more; the bound leaves room for a busy test machine, where
    // the other tests of this file hash passwords at the same time.
    assert!(
        took < Duration::from_secs(8),
        "a real login waited {took:?} behind logins whose clients had left"
    );
}

#[tokio::test]
async fn a_full_hashing_line_answers_server_busy() {
    let server = Server::start_with(&["--hash-queue", "1"]);
    let mut clients = Vec::new();
    for _ in 0..16 {
        clients.push(server.client().await);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(
            json!({"type": "request", "id": "a", "timestamp": 1, "payloadType": "auth",
            "payload": {"username": format!("user{i}"), "password": "a password"}}),
        )
        .await;
    }
    let (mut ok, mut busy) = (0, 0);
    for c in clients.iter_mut() {
        let r = c.response("a").await;
        match r["error"]["code"].as_str() {
            None => ok += 1,
            Some("rate_limited") => busy += 1,
            Some(other) => panic!("unexpected {other}: {r}"),
        }
    }
    assert!(ok >= 1, "some logins get through");
    assert!(busy >= 1, "a full line refuses at once ({ok} went through)");
}
